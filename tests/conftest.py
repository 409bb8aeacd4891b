"""Fixtures shared by every test folder.

Fixture trees in each real layout of the datasets (tiny images, the real names, headers and value
formats of ``data/README.md``), reached through the ``trees`` fixture because test modules cannot
import a conftest in importlib mode; a CIFAR tree in torchvision's format (``cifar_tree``); the
real single-node SLURM cluster (``slurm_cluster``), started once per session for every test that
asks for it; and the CUDA marker: tests marked ``@pytest.mark.cuda`` are skipped where there is no
CUDA device (``benchmarks/gpu_check.py`` runs exactly these, ``pytest -m cuda tests``).

Under pytest-xdist (``make test`` runs ``-n auto``) the tests are shared out by the groups of
``xdist_group``: the notebooks and the tests that read their outputs on one worker, the modules
that share the machine (apt-get, the SLURM cluster) on one worker, every other module whole.
"""

from __future__ import annotations

import lmf  # noqa: F401 - first: it pins the CPU numerics before NumPy and torch load

# isort: split
import os
import pickle
import shutil
import subprocess
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
from PIL import Image

from lmf.core import machine

#: Test modules that share one thing of the machine and so run on one xdist worker, one after
#: the other: they install Debian packages (apt-get holds one dpkg lock) or use the session's
#: SLURM cluster (one set of daemons and ports).
MACHINE_WIDE = ("tests/core/test_portable_numerics.py", "tests/site/test_book.py",
                "tests/sweep/test_slurm.py", "tests/rehearsal/test_paper_profile_on_slurm.py")
#: Where the notebooks' items are: nbval's cells and the tests that read what they wrote.
NOTEBOOK_ITEMS = ("notebooks/", "tests/notebooks/")


def xdist_group(nodeid: str) -> str:
    """The group of a test when pytest-xdist shares the suite out among workers (``make test``:
    ``-n auto``): one worker runs a group's tests in their collection order, and the groups go
    to the workers largest first (:func:`pytest_xdist_make_scheduler`).

    ``notebooks``: every nbval cell and every test of ``tests/notebooks/``, which read the tables
    and runs the cells made (``tests/notebooks/conftest.py``), so the notebooks execute once, on
    one worker, while the other workers run the rest; ``machine``: :data:`MACHINE_WIDE`; any
    other test: its module, so that a module's fixtures are built once.
    """
    path = nodeid.split("::", 1)[0]
    if path.startswith(NOTEBOOK_ITEMS):
        return "notebooks"
    return "machine" if path in MACHINE_WIDE else path


def pytest_xdist_make_scheduler(config, log):
    """Under pytest-xdist, whatever ``--dist`` says: xdist's scheduling by scope (a scope's tests
    on one worker, in order, the scopes with the most tests first), the scopes being the groups
    of :func:`xdist_group`. (xdist's own ``xdist_group`` marks work by rewriting node ids, which
    pytest 9 computes and no longer lets a plugin rewrite.)"""
    from xdist.scheduler import LoadScopeScheduling

    class ByGroup(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return xdist_group(nodeid)

    return ByGroup(config, log)


def pytest_collection_modifyitems(config, items):
    if torch.cuda.is_available():
        return
    skip = pytest.mark.skip(reason="needs CUDA")
    for item in items:
        if item.get_closest_marker("cuda"):
            item.add_marker(skip)


def pytest_xdist_auto_num_workers(config) -> int:
    """``-n auto``: one worker per core this process may run on (its affinity mask,
    ``lmf.core.machine.usable_cores``), not per core of the hardware."""
    return machine.usable_cores()


SLURM_SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "slurm_cluster.sh"


def write_image(path: Path, seed: int, size=(12, 9), mode="RGB") -> Path:
    """A small random image (JPEG or PNG by suffix)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    shape = (size[1], size[0], 3) if mode == "RGB" else (size[1], size[0])
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8)).save(path)
    return path


def write_mask(path: Path, seed: int, size=(12, 9)) -> Path:
    """A binary mask as the datasets store them (0 background, 255 foreground): a random
    rectangle covering a sixth to a half of each side."""
    path.parent.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    width, height = size
    mask = np.zeros((height, width), dtype=np.uint8)
    h, w = (int(rng.integers(max(1, n // 6), max(2, n // 2) + 1)) for n in (height, width))
    top, left = int(rng.integers(0, height - h + 1)), int(rng.integers(0, width - w + 1))
    mask[top:top + h, left:left + w] = 255
    Image.fromarray(mask).save(path)
    return path


def write_text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


HAM_CLASSES = ("MEL", "NV", "BCC", "AKIEC", "BKL", "DF", "VASC")  # GroundTruth.csv column order


def ham_ground_truth(root: Path, labels: list[str], floats: bool = True) -> Path:
    """Layout 1: images/ + GroundTruth.csv (one-hot; '1.0' floats or ints)."""
    one, zero = ("1.0", "0.0") if floats else ("1", "0")
    rows = ["image," + ",".join(HAM_CLASSES)]
    for i, label in enumerate(labels):
        name = f"ISIC_{24306 + i:07d}"
        write_image(root / "images" / f"{name}.jpg", i, (12, 9))
        write_mask(root / "masks" / f"{name}_segmentation.png", i, (12, 9))
        rows.append(name + "," + ",".join(one if c == label else zero for c in HAM_CLASSES))
    write_text(root / "GroundTruth.csv", "\n".join(rows) + "\n")
    return root


def ham_metadata(root: Path, samples: list[tuple[str, str]], lower_case_copies=True) -> Path:
    """Layout 2: HAM10000_metadata.csv + part folders (+ lower-case duplicate folders).

    ``samples`` are (lesion_id, dx) pairs; images alternate between the two part folders.
    """
    rows = ["lesion_id,image_id,dx,dx_type,age,sex,localization,dataset"]
    for i, (lesion, dx) in enumerate(samples):
        image = f"ISIC_{27419 + i:07d}"
        part = 1 + i % 2
        write_image(root / f"HAM10000_images_part_{part}" / f"{image}.jpg", i)
        if lower_case_copies:
            write_image(root / f"ham10000_images_part_{part}" / f"{image}.jpg", i)
        rows.append(f"{lesion},{image},{dx},histo,80.0,male,scalp,vidir_modern")
    write_text(root / "HAM10000_metadata.csv", "\n".join(rows) + "\n")
    return root


ISIC_COLUMNS = ("MEL", "NV", "BCC", "AK", "BKL", "DF", "VASC", "SCC", "UNK")


def isic(root: Path, labels: list[str], nested=True, lesions: list[str] | None = None) -> Path:
    """ISIC_2019_Training_Input/ (nested as in the Kaggle zip) + GroundTruth with floats."""
    images = root / "ISIC_2019_Training_Input"
    if nested:
        images = images / "ISIC_2019_Training_Input"
    rows = ["image," + ",".join(ISIC_COLUMNS)]
    meta = ["image,age_approx,anatom_site_general,lesion_id,sex"]
    for i, label in enumerate(labels):
        name = f"ISIC_{i:07d}" + ("_downsampled" if i % 3 == 0 else "")
        write_image(images / f"{name}.jpg", i, (16, 16))
        rows.append(name + "," + ",".join("1.0" if c == label else "0.0" for c in ISIC_COLUMNS))
        lesion = lesions[i] if lesions else ""
        meta.append(f"{name},55.0,anterior torso,{lesion},female")
    write_text(root / "ISIC_2019_Training_GroundTruth.csv", "\n".join(rows) + "\n")
    write_text(root / "ISIC_2019_Training_Metadata.csv", "\n".join(meta) + "\n")
    return root


ODIR_HEADER = ("ID,Patient Age,Patient Sex,Left-Fundus,Right-Fundus,Left-Diagnostic Keywords,"
               "Right-Diagnostic Keywords,N,D,G,C,A,H,M,O,filepath,labels,target,filename")
ODIR_ORDER = "NDGCAHMO"


def odir(root: Path, patients: list[tuple[int, str, str]]) -> Path:
    """full_df.csv (one row per eye) + preprocessed_images/; patients are (ID, left, right).

    The patient-level N..O columns mark both eyes' classes (as in the real file), so a loader
    that used them would see two labels.
    """
    rows = [ODIR_HEADER]
    for patient, left, right in patients:
        flags = ",".join("1" if c in (left, right) else "0" for c in ODIR_ORDER)
        for eye, label in (("left", left), ("right", right)):
            filename = f"{patient}_{eye}.jpg"
            write_image(root / "preprocessed_images" / filename, patient * 2 + (eye == "right"))
            target = "[" + ", ".join("1" if c == label else "0" for c in ODIR_ORDER) + "]"
            rows.append(f'{patient},69,Female,{patient}_left.jpg,{patient}_right.jpg,'
                        f'"cataract","normal fundus",{flags},'
                        f'../input/ocular-disease-recognition-odir5k/ODIR-5K/Training Images/'
                        f"{filename},['{label}'],\"{target}\",{filename}")
    write_text(root / "full_df.csv", "\n".join(rows) + "\n")
    return root


COVID_FOLDERS = {"COVID": 3, "Lung_Opacity": 4, "Normal": 5, "Viral Pneumonia": 2}


def covid(root: Path, counts=None) -> Path:
    """COVID-19_Radiography_Dataset/<class>/images|masks/ with grayscale PNGs; the masks are
    smaller than the images, as in the real release (256 vs 299 px)."""
    base = root / "COVID-19_Radiography_Dataset"
    seed = 0
    for folder, n in (counts or COVID_FOLDERS).items():
        for i in range(1, n + 1):
            write_image(base / folder / "images" / f"{folder}-{i}.png", seed, (10, 10), "L")
            write_mask(base / folder / "masks" / f"{folder}-{i}.png", seed, (8, 8))
            seed += 1
        write_text(base / f"{folder}.metadata.xlsx", "placeholder")
    return root


def imagefolder(root: Path, counts: dict[str, dict[str, int]]) -> Path:
    """train/ val/ test/ with one folder per class; counts[part][class]."""
    seed = 0
    for part, classes in counts.items():
        for class_name, n in classes.items():
            for i in range(n):
                write_image(root / part / class_name / f"img{i}.png", seed, (8, 8))
                seed += 1
    return root


def truncate(path: Path) -> Path:
    """Cut an image file to its first half, as an interrupted copy would."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def medmnist_npz(path: Path, num_classes=7, counts=(20, 5, 8), size=28, rgb=True,
                 multi_label=False) -> Path:
    """A .npz in MedMNIST's format (train/val/test _images and _labels, labels N×1)."""
    rng = np.random.default_rng(0)
    arrays = {}
    for part, n in zip(("train", "val", "test"), counts, strict=True):
        shape = (n, size, size, 3) if rgb else (n, size, size)
        arrays[f"{part}_images"] = rng.integers(0, 256, shape, dtype=np.uint8)
        labels = np.arange(n) % num_classes
        arrays[f"{part}_labels"] = (rng.integers(0, 2, (n, 3)) if multi_label
                                    else labels.reshape(-1, 1).astype(np.uint8))
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **arrays)
    return path


def paper_datasets(root: Path, per_class: int = 4) -> Path:
    """The four datasets of the paper under ``root/<id>/``, ``per_class`` images of every class.

    Layouts as unpacked from Kaggle: HAM10000's ``images/`` + ``masks/`` + ``GroundTruth.csv``
    (the source the paper cites), ISIC 2019 nested with its empty ``UNK`` column and
    ``_downsampled`` names, ODIR-5K's ``full_df.csv`` + ``preprocessed_images/`` (two eyes of
    different classes per patient), COVID-19 with ``Viral Pneumonia`` and the ``masks/`` folders.
    The paper's split holds out ``round(0.15 n)`` images per class for val and for test, which is
    1 from n = 4 on: 4 images per class are the fewest that put every class in all three parts.
    """
    ham_ground_truth(root / "ham10000", [c for c in HAM_CLASSES for _ in range(per_class)])
    isic(root / "isic2019", [c for c in ISIC_COLUMNS if c != "UNK" for _ in range(per_class)])
    eyes = [c for _ in range(per_class) for c in ODIR_ORDER]
    odir(root / "odir5k", [(i, eyes[2 * i], eyes[2 * i + 1]) for i in range(len(eyes) // 2)])
    covid(root / "covid19", dict.fromkeys(COVID_FOLDERS, per_class))
    return root


@pytest.fixture(scope="session")
def trees() -> SimpleNamespace:
    """The fixture-tree builders above (test modules cannot import conftest in importlib mode)."""
    return SimpleNamespace(
        write_image=write_image, write_mask=write_mask, write_text=write_text, truncate=truncate,
        ham_ground_truth=ham_ground_truth, ham_metadata=ham_metadata, isic=isic, odir=odir,
        covid=covid, imagefolder=imagefolder, medmnist_npz=medmnist_npz,
        paper_datasets=paper_datasets,
    )


def write_cifar(root, dataset: str = "cifar10", per_class: int = 20, test_per_class: int = 3,
                num_classes: int | None = None, seed: int = 0):
    """A CIFAR tree in torchvision's pickle format under ``root`` (random 32×32 images).

    The real folder, file names and keys: ``cifar-10-batches-py/data_batch_1..5``,
    ``test_batch``, ``batches.meta`` (``labels``, ``label_names``), or ``cifar-100-python/train``,
    ``test``, ``meta`` (``fine_labels``, ``coarse_labels``, ``fine_label_names``). Labels are
    shuffled as in CIFAR (class members spread over the batches). Returns ``root``.
    """
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


@pytest.fixture(scope="session")
def slurm_cluster(tmp_path_factory):
    """A private single-node SLURM cluster (``scripts/slurm_cluster.sh``) for the session;
    ``SLURM_CONF`` points the clients (sbatch, sacct, submitit) at it while it runs."""
    if os.geteuid() != 0:
        pytest.skip("the SLURM cluster test needs root (it installs and starts daemons)")
    if not shutil.which("slurmctld") and not shutil.which("apt-get"):
        pytest.skip("SLURM is not installed and apt-get is not available to install it")
    home = tmp_path_factory.mktemp("slurm")
    start = time.perf_counter()
    started = subprocess.run([str(SLURM_SCRIPT), "start", str(home)], capture_output=True,
                             text=True)
    try:
        assert started.returncode == 0, f"{started.stdout}\n{started.stderr}"
        print(f"SLURM cluster started in {time.perf_counter() - start:.1f} s")
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("SLURM_CONF", str(home / "slurm.conf"))
            yield home
    finally:
        subprocess.run([str(SLURM_SCRIPT), "stop", str(home)], check=True)
