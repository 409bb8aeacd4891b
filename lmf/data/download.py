"""Getting a dataset onto disk: the Kaggle API when it is installed and has credentials, the
``medmnist`` package for MedMNIST, a source's own ``fetch`` (torchvision's download for CIFAR),
and otherwise the exact manual steps.

Kaggle's client reads credentials from ``KAGGLE_USERNAME``/``KAGGLE_KEY`` or from
``kaggle.json`` in ``KAGGLE_CONFIG_DIR``, ``~/.kaggle/`` or ``~/.config/kaggle/``
(https://github.com/Kaggle/kaggle-api). Importing it without credentials fails, so they are looked
for before the import.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

from lmf.core.errors import DataError
from lmf.data.registry import default_root, get_source


def kaggle_credentials() -> bool:
    """Whether the Kaggle client would find credentials."""
    if os.environ.get("KAGGLE_USERNAME") and os.environ.get("KAGGLE_KEY"):
        return True
    folders = [Path(os.environ["KAGGLE_CONFIG_DIR"])] if os.environ.get("KAGGLE_CONFIG_DIR") \
        else []
    folders += [Path.home() / ".kaggle", Path.home() / ".config" / "kaggle"]
    return any((folder / "kaggle.json").is_file() for folder in folders)


def kaggle_ready() -> bool:
    """Whether the ``kaggle`` package is installed and has credentials."""
    return importlib.util.find_spec("kaggle") is not None and kaggle_credentials()


def manual_steps(name: str, root=None) -> str:
    """The numbered steps that put dataset ``name`` where ``lmf.data`` reads it."""
    source = get_source(name)
    root = Path(root) if root is not None else default_root(source)
    if not source.kaggle:
        return f"{name}: {source.how_to_get(root)}"
    url = f"https://www.kaggle.com/datasets/{source.kaggle}"
    return "\n".join([
        f"To get {name} by hand:",
        f"  1. open {url} (a free Kaggle account is needed) and click Download;",
        f"  2. mkdir -p '{root}' && unzip archive.zip -d '{root}'",
        f"     ({root} must then hold {source.layout});",
        f"  3. lmf data check {name} --root '{root}'",
        "Or let `lmf data download` do it: pip install -e '.[kaggle]' (or pip install kaggle) and",
        "  put your API token in ~/.kaggle/kaggle.json (Kaggle > Settings > Create New Token),",
        "  or set KAGGLE_USERNAME and KAGGLE_KEY.",
    ])


def download(name: str, root=None, *, resolution: int = 28) -> Path:
    """Download and unpack dataset ``name`` into ``root`` (default ``data_dir()/<name>``).

    Raises:
        DataError: when the dataset cannot be fetched here (no Kaggle client or credentials,
            no download for this source); the message holds the manual steps.
    """
    source = get_source(name)
    root = Path(root).expanduser() if root is not None else default_root(source)
    if name.startswith("medmnist:"):
        from lmf.data.sources.medmnist import download as fetch

        return fetch(name.partition(":")[2], resolution, root)
    if source.fetch is not None:
        return source.fetch(root)
    if not source.kaggle:
        raise DataError(manual_steps(name, root))
    if not kaggle_ready():
        raise DataError(manual_steps(name, root))
    from kaggle.api.kaggle_api_extended import KaggleApi

    api = KaggleApi()
    api.authenticate()
    root.mkdir(parents=True, exist_ok=True)
    api.dataset_download_files(source.kaggle, path=str(root), unzip=True, quiet=False)
    return root
