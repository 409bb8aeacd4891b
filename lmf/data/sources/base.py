"""What every source shares: the ``Source`` record and the checks that turn a bad tree into one
clear ``DataError``.

A source knows how to list its samples (``read_index``) and where users get it. The index it
returns has one row per sample with columns ``path`` (absolute file path, or a stable id for
in-memory sources), ``label`` (position of the class in the sorted class names, the order of
torchvision's ``ImageFolder`` that the authors used), ``class_name``, ``group`` (lesion or patient
id where the source has one, else the sample itself) and ``split`` for sources that come split.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from lmf.core.errors import DataError

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff")
INDEX_COLUMNS = ("path", "label", "class_name", "group")


@dataclass(frozen=True)
class Source:
    """One dataset source.

    Attributes:
        name: the name ``lmf.data`` knows it by.
        summary: one line for ``lmf data list``.
        read_index: ``(root, **params) -> DataFrame`` (root is a resolved ``Path`` for on-disk
            sources, the user's value, possibly ``None``, for in-memory ones).
        class_names: the sorted class names, or ``None`` when they come from the data.
        on_disk: whether samples are image files under a root folder.
        presplit: whether the index carries its own ``split`` column.
        kaggle: the Kaggle dataset slug users download, if any.
        layout: what the root folder must hold (used in error messages and the README).
        load_images: in-memory sources only: ``(index, size) -> uint8 array N×size×size×3``.
        paper_id: the dataset id of the paper's tables (for the published class totals).
        params_for_size: optional ``(size, params) -> params`` filling size-dependent defaults.
        fetch: optional ``root -> folder`` that downloads the data itself (``lmf data download``).
        default_folder: the folder under ``lmf.core.paths.data_dir()`` read when no root is given
            (default: the source's name).
    """

    name: str
    summary: str
    read_index: Callable[..., pd.DataFrame]
    class_names: tuple[str, ...] | None = None
    on_disk: bool = True
    presplit: bool = False
    kaggle: str | None = None
    layout: str = ""
    load_images: Callable[[pd.DataFrame, int], np.ndarray] | None = None
    paper_id: str | None = None
    params_for_size: Callable[[int, dict], dict] | None = field(default=None, repr=False)
    fetch: Callable[[Path], Path] | None = field(default=None, repr=False)
    default_folder: str | None = None

    def how_to_get(self, root: Path | None = None) -> str:
        """The exact steps that give this source a valid root folder."""
        where = f" into {root}" if root else ""
        steps = []
        if self.kaggle:
            steps.append(f"run `lmf data download {self.name}` (Kaggle dataset {self.kaggle}, "
                         f"https://www.kaggle.com/datasets/{self.kaggle}) or download that zip by "
                         f"hand and unpack it{where}")
        elif self.on_disk:
            steps.append(f"put the data{where}")
        steps.append(f"the folder must hold {self.layout}" if self.layout else "")
        return "; ".join(s for s in steps if s) + " (see data/README.md)"


def require_dir(source: Source, path: Path, root: Path) -> Path:
    """``path`` if it is a folder, else a DataError saying how to get the data."""
    if not path.is_dir():
        raise DataError(f"{source.name}: folder {path} not found; {source.how_to_get(root)}")
    return path


def require_file(source: Source, path: Path, root: Path) -> Path:
    """``path`` if it is a file, else a DataError saying how to get the data."""
    if not path.is_file():
        raise DataError(f"{source.name}: file {path} not found; {source.how_to_get(root)}")
    return path


def read_csv(path: Path, required: Sequence[str], expected_header: str) -> pd.DataFrame:
    """A CSV read as strings, with a DataError naming the missing columns and the header expected."""
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as error:
        raise DataError(f"{path}: not a readable CSV ({error}); expected header: "
                        f"{expected_header}") from error
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in required if c not in frame.columns]
    if missing:
        raise DataError(f"{path}: missing column(s) {', '.join(missing)}; expected header: "
                        f"{expected_header}")
    return frame


def one_hot_class(frame: pd.DataFrame, columns: Sequence[str], id_column: str,
                  path: Path) -> pd.Series:
    """The column name holding the single 1 of each one-hot row.

    Values are parsed numerically, so ``1``, ``1.0`` and ``1.000`` all count (the official ISIC
    file writes floats, some copies ints). A row with no label, several labels or a value other
    than 0/1 is a DataError naming the row.
    """
    values = frame[list(columns)].apply(pd.to_numeric, errors="coerce").to_numpy(dtype=float)
    ids = frame[id_column].to_numpy()
    bad = ~np.isin(values, (0.0, 1.0))
    if bad.any():
        row = int(np.flatnonzero(bad.any(axis=1))[0])
        raise DataError(f"{path}: row {ids[row]!r} has a value other than 0/1 in columns "
                        f"{', '.join(columns)}; expected one-hot rows")
    hits = values.sum(axis=1)
    for wrong, what in ((hits == 0, "no label"), (hits > 1, "several labels")):
        if wrong.any():
            rows = np.flatnonzero(wrong)
            shown = ", ".join(repr(ids[r]) for r in rows[:5])
            raise DataError(f"{path}: {len(rows)} row(s) with {what} (e.g. {shown}); each row "
                            f"needs exactly one 1 among {', '.join(columns)}")
    return pd.Series(np.asarray(columns)[values.argmax(axis=1)], index=frame.index)


def duplicates_error(path: Path, ids: pd.Series) -> None:
    """A DataError when a sample is listed twice."""
    duplicated = ids[ids.duplicated()]
    if len(duplicated):
        raise DataError(f"{path}: {len(duplicated)} image(s) listed more than once "
                        f"(e.g. {duplicated.iloc[0]!r}); each image must appear once")


def files_by_name(folders: Iterable[Path]) -> dict[str, Path]:
    """File name -> path over ``folders``; the first folder holding a name wins.

    Scanning each folder once is much faster than testing thousands of paths one by one, and it
    makes duplicate copies (HAM10000's lower-case part folders) count once.
    """
    found: dict[str, Path] = {}
    for folder in folders:
        if folder.is_dir():
            with os.scandir(folder) as entries:
                for entry in entries:
                    if entry.is_file() and entry.name not in found:
                        found[entry.name] = Path(entry.path)
    return found


def locate(names: Iterable[str], found: dict[str, Path], where: str) -> list[str]:
    """Absolute paths of ``names``, or a DataError listing the images that are missing."""
    names = list(names)
    missing = [n for n in names if n not in found]
    if missing:
        shown = ", ".join(missing[:5])
        raise DataError(f"{len(missing)} listed image(s) missing under {where} (e.g. {shown}); "
                        f"unpack the complete dataset again")
    return [str(found[n]) for n in names]


def image_files(folder: Path) -> list[Path]:
    """Image files directly inside ``folder``, sorted by name."""
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_EXTENSIONS)


def make_index(paths: Sequence[str], class_names_of_rows: Sequence[str],
               class_names: Sequence[str], groups: Sequence[str] | None = None,
               split: Sequence[str] | None = None) -> pd.DataFrame:
    """The index DataFrame; ``label`` is the position of the class in sorted ``class_names``."""
    ordered = sorted(class_names)
    position = {name: i for i, name in enumerate(ordered)}
    unknown = sorted(set(class_names_of_rows) - set(position))
    if unknown:
        raise DataError(f"unknown class name(s) {', '.join(map(str, unknown))}; expected one of "
                        f"{', '.join(ordered)}")
    frame = pd.DataFrame({
        "path": list(paths),
        "label": np.array([position[c] for c in class_names_of_rows], dtype=np.int64),
        "class_name": list(class_names_of_rows),
        "group": list(groups) if groups is not None else list(paths),
    })
    if split is not None:
        frame["split"] = list(split)
    frame.attrs["class_names"] = list(ordered)
    return frame
