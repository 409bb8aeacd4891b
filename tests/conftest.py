"""Tests marked ``@pytest.mark.cuda`` need a CUDA device: skipped where there is none.

``benchmarks/gpu_check.py`` runs exactly these (``pytest -m cuda tests``) on a GPU machine.
"""

import pytest
import torch


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if item.get_closest_marker("cuda"):
            item.add_marker(skip)


def write_cifar(root, dataset: str = "cifar10", per_class: int = 20, test_per_class: int = 3,
                num_classes: int | None = None, seed: int = 0):
    """A CIFAR tree in torchvision's pickle format under ``root`` (random 32×32 images).

    The real folder, file names and keys: ``cifar-10-batches-py/data_batch_1..5``,
    ``test_batch``, ``batches.meta`` (``labels``, ``label_names``), or ``cifar-100-python/train``,
    ``test``, ``meta`` (``fine_labels``, ``coarse_labels``, ``fine_label_names``). Labels are
    shuffled as in CIFAR (class members spread over the batches). Returns ``root``.
    """
    import pickle
    from pathlib import Path

    import numpy as np

    root = Path(root)
    ten = dataset == "cifar10"
    num_classes = num_classes or (10 if ten else 100)
    rng = np.random.default_rng(seed)

    def part(count):
        labels = rng.permutation(np.repeat(np.arange(num_classes), count))
        data = rng.integers(0, 256, (len(labels), 3 * 32 * 32), dtype=np.uint8)
        return data, labels.tolist()

    def dump(path, entry):
        with open(path, "wb") as handle:
            pickle.dump(entry, handle)

    names = [f"class_{i:03d}" for i in range(num_classes)]
    if ten:
        folder = root / "cifar-10-batches-py"
        folder.mkdir(parents=True, exist_ok=True)
        data, labels = part(per_class)
        for i, rows in enumerate(np.array_split(np.arange(len(labels)), 5)):
            dump(folder / f"data_batch_{i + 1}", {"batch_label": f"training batch {i + 1} of 5",
                                                  "labels": [labels[r] for r in rows],
                                                  "data": data[rows], "filenames": []})
        data, labels = part(test_per_class)
        dump(folder / "test_batch", {"labels": labels, "data": data})
        dump(folder / "batches.meta", {"label_names": names, "num_vis": 3072})
    else:
        folder = root / "cifar-100-python"
        folder.mkdir(parents=True, exist_ok=True)
        for name, count in (("train", per_class), ("test", test_per_class)):
            data, labels = part(count)
            dump(folder / name, {"fine_labels": labels, "coarse_labels": [c // 5 for c in labels],
                                 "data": data})
        dump(folder / "meta", {"fine_label_names": names, "coarse_label_names": names[:20]})
    return root


@pytest.fixture
def cifar_tree(tmp_path, monkeypatch):
    """``cifar_tree(dataset="cifar10", **options)``: a torchvision-format CIFAR tree (see
    ``write_cifar``) in a temporary folder, with ``LMF_DATA`` (caches) there too; returns its
    root."""
    monkeypatch.setenv("LMF_DATA", str(tmp_path / "lmf_data"))

    def make(dataset: str = "cifar10", **options):
        return write_cifar(tmp_path / f"{dataset}_root", dataset, **options)
    return make
