"""``check``: is a dataset on disk complete and readable?

Reads the index (layout errors raise a ``DataError``), counts images per class against the
public totals of the paper datasets (``lmf.classification.paper.class_totals``), and opens every image file.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pandas as pd
from PIL import Image
from tqdm.auto import tqdm

from lmf.classification.paper import class_totals
from lmf.core.machine import decoding_threads
from lmf.data.registry import get_source, read_index


@dataclass
class CheckReport:
    """What ``check`` found: per-class ``counts`` (found, expected), ``unreadable`` files
    (path -> reason) and the list of ``problems`` (empty when all is well)."""

    name: str
    counts: pd.DataFrame
    unreadable: dict[str, str] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


def readable(path: str) -> str | None:
    """``None`` if the image at ``path`` decodes completely, else the reason it does not."""
    try:
        with Image.open(path) as image:
            image.draft("RGB", (64, 64))  # JPEG: decode at reduced scale, still reads every byte
            image.load()
    except (OSError, ValueError, SyntaxError) as error:
        return f"{type(error).__name__}: {error}"
    return None


def check(name: str, root=None, *, workers: int | None = None, progress: bool = True,
          **params) -> CheckReport:
    """Check dataset ``name`` under ``root`` (see the module docstring)."""
    source = get_source(name)
    index = read_index(name, root, **params)
    found = index["class_name"].value_counts()
    class_names = index.attrs["class_names"]
    expected = class_totals(source.paper_id) if source.paper_id else {}
    counts = pd.DataFrame({
        "class": class_names,
        "found": [int(found.get(c, 0)) for c in class_names],
        "expected": [expected.get(c) for c in class_names],
    })
    report = CheckReport(name, counts)
    for class_name, n_found, n_expected in zip(counts["class"], counts["found"],
                                               counts["expected"], strict=True):
        if not pd.isna(n_expected) and n_found != n_expected:
            report.problems.append(f"class {class_name}: {n_found} images, expected "
                                   f"{int(n_expected)}")
        elif n_found == 0:
            report.problems.append(f"class {class_name}: no images")
    if source.on_disk:
        paths = index["path"].tolist()
        with ThreadPoolExecutor(max_workers=decoding_threads(workers)) as pool:
            reasons = list(tqdm(pool.map(readable, paths), total=len(paths), unit="img",
                                desc=f"checking {name}", disable=not progress, leave=False))
        report.unreadable = {p: r for p, r in zip(paths, reasons, strict=True) if r}
        report.problems += [f"unreadable image {p} ({r})" for p, r in report.unreadable.items()]
    return report
