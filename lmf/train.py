"""Train one configuration the way the paper did, record everything, never lose work.

The recipe (Sadi et al., LMF paper, Section "Experimental setup"; authors' repository
Adnan-Sadi/LMFLOSS, ``train.py`` and ``config.ini``) is the default of :class:`RunConfig`:
Adam (lr 1e-4, weight_decay 5e-4 as L2 inside Adam, not AdamW), StepLR (30 epochs, ×0.1, stepped
once per epoch), batch 32, 100 epochs, seed 23, 224 px, shuffled training batches, no
augmentation, no mean/std normalisation, ImageNet weights. The model of the epoch with the best
**validation macro-F1** is evaluated once on the test split.

Options beyond the paper: class-balanced or square-root batch sampling (Scholz et al. 2024's
sampling strategies: a sample of class ``c`` is drawn with weight ``n_c^-1`` or ``n_c^-1/2``),
progressive resizing (Cui et al.: ``resize_schedule=((0, 128), (10, 160), (20, 224))`` trains at
128 px from epoch 0, 160 px from epoch 10, ...; evaluation always uses ``image_size``),
augmentation (``lmf.data.augment``), and on CUDA bf16 autocast, channels-last memory format,
``torch.compile`` and the cached split kept on the GPU when it fits.

Reliability: after every epoch ``last.pt`` holds model, optimiser, scheduler, best-so-far and every
random state (Python, NumPy, torch, CUDA, and the generators that draw batches and augmentations),
so a run killed at any point continues from its last finished epoch and, on the CPU, ends with
exactly the metrics of an uninterrupted run. A non-finite training loss stops the run with a
:class:`~lmf.errors.RunError` naming epoch and step; the previous ``last.pt`` stays and no ``done``
marker is written. A finished configuration is returned from the run store without training.
"""

from __future__ import annotations

import contextlib
import dataclasses
import random
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from lmf import runs
from lmf.data import DATASETS, augment, prepare, to_tensor
from lmf.errors import ConfigError, RunError, unknown_choice
from lmf.losses import LOSSES, build_loss, loss_parameters
from lmf.metrics import classification_metrics
from lmf.models import build_model, check_arch
from lmf.paper import lmf_weights
from lmf.profiles import Profile, get_profile

SAMPLERS = ("none", "balanced", "sqrt")
PARTS = ("train", "val", "test")
#: Evaluation batches hold this many images at least (BatchNorm is frozen, so size is free).
EVAL_BATCH = 256
#: A split is kept on the GPU when its uint8 images take less than this share of free memory.
GPU_SHARE = 0.25


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """Everything that defines one training run; its hash names the run directory.

    Defaults are the paper's recipe. ``device="auto"`` means CUDA when available, else CPU;
    ``amp`` (bf16 autocast) and ``channels_last`` take effect on CUDA only. ``dataset_params`` go
    to ``lmf.data.prepare`` (e.g. ``{"imbalance": 15}`` for digits_lt, ``{"seed": 1}`` for the
    split seed), ``loss_params`` to ``lmf.losses.build_loss``.

    ``threads`` is the number of intra-op threads (``torch.set_num_threads``) a run trains with on
    the CPU. PyTorch splits its CPU reductions (BatchNorm statistics, weight gradients, sums) into
    one chunk per thread, so the float result depends on the thread count: it is part of the
    run's identity, not of the machine, and a run gives the same numbers alone, in a worker
    process, on a SLURM node or resumed. The default 1 is the count every machine has; parallel
    speed comes from training several runs at once (``lmf sweep --jobs N``).
    """

    dataset: str
    model: str
    loss: str
    data_root: str | None = None
    dataset_params: dict = field(default_factory=dict)
    split: str = "paper"
    loss_params: dict = field(default_factory=dict)
    epochs: int = 100
    batch_size: int = 32
    lr: float = 1e-4
    weight_decay: float = 5e-4
    lr_step: int = 30
    lr_gamma: float = 0.1
    image_size: int = 224
    seed: int = 23
    pretrained: bool = True
    weights: str | None = None
    augment: bool = False
    normalize: bool = False
    sampler: str = "none"
    resize_schedule: tuple[tuple[int, int], ...] | None = None
    device: str = "auto"
    amp: bool = True
    channels_last: bool = True
    compile: bool = False
    workers: int = 0
    threads: int = 1

    def __post_init__(self) -> None:
        _validate(self)

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in dataclasses.fields(cls))

    @classmethod
    def from_dict(cls, data: dict) -> RunConfig:
        """A config from plain data (e.g. ``config.json``); unknown keys are an error."""
        unknown = sorted(set(data) - set(cls.fields()))
        if unknown:
            raise ConfigError(
                f"unknown RunConfig field(s) {', '.join(unknown)}; valid: {', '.join(cls.fields())}"
            )
        return cls(**data)

    @classmethod
    def from_profile(
        cls, profile: str | Profile, dataset_id: str, model_id: str, loss: str, **overrides
    ) -> RunConfig:
        """The config of ``dataset_id`` × ``model_id`` × ``loss`` in a profile.

        Ids are the paper's (table columns), mapped through ``profile.datasets`` and
        ``profile.models``; ``profile.run`` replaces recipe defaults. LMF's (α, β) come from
        Table 6 when ``profile.lmf_weights == "table6"``, else from the profile's fixed pair.
        ``overrides`` replace any field; ``loss_params`` given there update the profile's.
        """
        profile = get_profile(profile) if isinstance(profile, str) else profile
        if dataset_id not in profile.datasets:
            raise unknown_choice(f"dataset of profile {profile.name!r}", dataset_id, profile.datasets)
        if model_id not in profile.models:
            raise unknown_choice(f"model of profile {profile.name!r}", model_id, profile.models)
        loss_params: dict = {}
        if loss == "lmf":
            pair = (
                lmf_weights(dataset_id, model_id)
                if profile.lmf_weights == "table6"
                else profile.lmf_weights
            )
            loss_params = {"alpha": float(pair[0]), "beta": float(pair[1])}
        loss_params.update(overrides.pop("loss_params", None) or {})
        values = {
            **profile.run,
            "dataset": profile.datasets[dataset_id],
            "model": profile.models[model_id],
            "loss": loss,
            "loss_params": loss_params,
            **overrides,
        }
        return cls.from_dict(values)


@dataclass
class RunResult:
    """A finished run: its directory, ``metrics.json`` and ``history.csv``."""

    run_dir: Path
    metrics: dict
    history: pd.DataFrame


def fit(config: RunConfig, results: str | Path | None = None, quiet: bool = False) -> RunResult:
    """Train ``config`` (or resume it, or return it when already finished) and evaluate on test.

    Args:
        config: the run.
        results: root of the run store (default ``lmf.paths.results_dir()``).
        quiet: no progress bars.
    """
    path = runs.run_dir(config, results)
    if runs.is_done(path):
        return _result(path)
    with _deterministic(config):
        _Trainer(config, path, quiet).run()
    return _result(path)


# --------------------------------------------------------------------------------------- training


class _Trainer:
    """One run's state; ``run()`` goes from the last checkpoint (or scratch) to ``done``."""

    def __init__(self, config: RunConfig, path: Path, quiet: bool) -> None:
        self.config, self.path, self.quiet = config, path, quiet
        self.device = resolve_device(config.device)
        cuda = self.device.type == "cuda"
        self.autocast_enabled = config.amp and cuda
        self.memory_format = (
            torch.channels_last if config.channels_last and cuda else torch.contiguous_format
        )
        data = prepare(
            config.dataset, root=config.data_root, split=config.split,
            size=config.image_size, **config.dataset_params,
        )
        self.class_names = [str(name) for name in data.class_names]
        self.parts = {name: _Split(data.part(name), config, self.device) for name in PARTS}
        counts = np.asarray(data.class_counts("train"))

        _seed_everything(config.seed)
        self.model = build_model(
            config.model, len(self.class_names), pretrained=config.pretrained, weights=config.weights
        ).to(self.device, memory_format=self.memory_format)
        self.net = torch.compile(self.model) if config.compile else self.model
        self.criterion = build_loss(config.loss, counts, **config.loss_params).to(self.device)
        self.optimizer = torch.optim.Adam(
            self.model.parameters(), lr=config.lr, weight_decay=config.weight_decay
        )
        self.scheduler = torch.optim.lr_scheduler.StepLR(
            self.optimizer, step_size=config.lr_step, gamma=config.lr_gamma
        )
        self.batch_generator = torch.Generator().manual_seed(config.seed)
        self.augment_generator = torch.Generator(device=self.device).manual_seed(config.seed + 1)
        self.sample_weights = _sample_weights(self.parts["train"].labels, counts, config.sampler)
        self.history: list[dict] = []
        self.best_score, self.best_epoch, self.start_epoch = -np.inf, -1, 0

    def run(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        runs.write_json(self.path / runs.CONFIG, runs.config_dict(self.config))
        if (self.path / runs.LAST).is_file():
            self._restore(runs.load_checkpoint(self.path, "last"))
        epochs = range(self.start_epoch, self.config.epochs)
        bar = tqdm(epochs, desc=self.path.name, unit="epoch", disable=self.quiet,
                   initial=self.start_epoch, total=self.config.epochs)
        for epoch in bar:
            row = self._train_epoch(epoch)
            bar.set_postfix(loss=f"{row['train_loss']:.4f}", val_f1=f"{row['val_macro_f1']:.4f}")
        self._finish()

    def _train_epoch(self, epoch: int) -> dict:
        config, start = self.config, time.perf_counter()
        if hasattr(self.criterion, "set_epoch"):
            self.criterion.set_epoch(epoch)
        size = _size_at(config, epoch)
        lr = self.optimizer.param_groups[0]["lr"]
        train = self.parts["train"]
        self.model.train()
        losses = []
        batches = train.batches(self._epoch_order(len(train)), config.batch_size, drop_single=True)
        for images, labels in tqdm(batches, desc=f"epoch {epoch + 1}/{config.epochs}",
                                   leave=False, disable=self.quiet):
            inputs = self._inputs(images, size)
            if config.augment:
                inputs = augment(inputs, self.augment_generator)
            with self._autocast():
                logits = self.net(inputs)
            loss = self.criterion(logits.float(), labels)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            losses.append(loss.detach())
        losses = torch.stack(losses).float().cpu()
        self._check_finite(losses, epoch)
        self.scheduler.step()

        val_logits, val_loss = self._predict("val")
        val = classification_metrics(self.parts["val"].labels, val_logits.argmax(1), self.class_names)
        row = {
            "epoch": epoch, "lr": lr, "image_size": size,
            "train_loss": float(losses.mean()), "val_loss": val_loss,
            **{f"val_{k}": val[k] for k in ("accuracy", "precision", "recall", "macro_f1",
                                            "balanced_accuracy", "mcc")},
            "seconds": time.perf_counter() - start,
        }
        self.history.append(row)
        if val["macro_f1"] > self.best_score:
            self.best_score, self.best_epoch = val["macro_f1"], epoch
            runs.write_checkpoint(self.path / runs.BEST, {
                "epoch": epoch, "model": self.model.state_dict(), "class_names": self.class_names,
            })
        runs.write_checkpoint(self.path / runs.LAST, self._state(epoch))
        runs.write_csv(self.path / runs.HISTORY, pd.DataFrame(self.history))
        return row

    def _finish(self) -> None:
        """Evaluate the best epoch once on val and test; write metrics, predictions, ``done``."""
        best = runs.load_checkpoint(self.path, "best")
        self.model.load_state_dict(best["model"])
        blocks = {}
        for part in ("val", "test"):
            logits, _ = self._predict(part)
            probs = torch.softmax(logits, 1).numpy()
            blocks[part] = classification_metrics(
                self.parts[part].labels, probs.argmax(1), self.class_names, probs=probs
            )
            if part == "test":
                test = self.parts["test"]
                runs.write_npz(self.path / runs.PREDICTIONS, logits=logits.numpy(),
                               labels=test.labels, ids=np.asarray(test.ids, dtype=str))
        seconds = sum(row["seconds"] for row in self.history)
        runs.write_json(self.path / runs.METRICS, {
            "best_epoch": best["epoch"], "epochs": self.config.epochs,
            "class_names": self.class_names, "train_seconds": seconds, **blocks,
        })
        runs.write_csv(self.path / runs.HISTORY, pd.DataFrame(self.history))
        runs.mark_done(self.path)

    @torch.inference_mode()
    def _predict(self, part: str) -> tuple[torch.Tensor, float]:
        """Logits (float32, CPU) of a whole split at ``image_size`` and the loss on them."""
        split = self.parts[part]
        self.model.eval()
        batch = max(EVAL_BATCH, self.config.batch_size)
        chunks = []
        for images, _ in split.batches(torch.arange(len(split)), batch):
            with self._autocast():
                chunks.append(self.net(self._inputs(images, self.config.image_size)).float())
        logits = torch.cat(chunks)
        labels = torch.as_tensor(split.labels, device=logits.device)
        loss = float(self.criterion(logits, labels))
        return logits.cpu(), loss

    def _inputs(self, images: torch.Tensor, size: int) -> torch.Tensor:
        inputs = to_tensor(images.to(self.device, non_blocking=True), normalize=self.config.normalize)
        if inputs.shape[-1] != size or inputs.shape[-2] != size:
            inputs = F.interpolate(inputs, size=(size, size), mode="bilinear",
                                   antialias=True, align_corners=False)
        return inputs.contiguous(memory_format=self.memory_format)

    def _epoch_order(self, n: int) -> torch.Tensor:
        if self.sample_weights is None:
            return torch.randperm(n, generator=self.batch_generator)
        return torch.multinomial(self.sample_weights, n, replacement=True,
                                 generator=self.batch_generator)

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast_enabled)

    def _check_finite(self, losses: torch.Tensor, epoch: int) -> None:
        bad = torch.nonzero(~torch.isfinite(losses)).flatten()
        if len(bad):
            step = int(bad[0])
            last_good = epoch - 1
            kept = (f"the checkpoint of epoch {last_good} stays in {self.path / runs.LAST}"
                    if last_good >= 0 else "no checkpoint was written")
            raise RunError(
                f"non-finite training loss ({float(losses[step])}) at epoch {epoch} step {step} "
                f"of run {self.path.name}; {kept}. Lower the learning rate or check the loss "
                "parameters, then run again (it resumes from the checkpoint)"
            )

    def _state(self, epoch: int) -> dict:
        cuda = self.device.type == "cuda"
        return {
            "epoch": epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "best_score": self.best_score,
            "best_epoch": self.best_epoch,
            "history": self.history,
            "class_names": self.class_names,
            "rng": {
                "python": random.getstate(),
                "numpy": np.random.get_state(),
                "torch": torch.get_rng_state(),
                "cuda": torch.cuda.get_rng_state_all() if cuda else None,
                "batches": self.batch_generator.get_state(),
                "augment": self.augment_generator.get_state(),
            },
        }

    def _restore(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.best_score, self.best_epoch = state["best_score"], state["best_epoch"]
        self.history = list(state["history"])
        self.start_epoch = state["epoch"] + 1
        rng = state["rng"]
        random.setstate(rng["python"])
        np.random.set_state(rng["numpy"])
        torch.set_rng_state(rng["torch"])
        if rng["cuda"] is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state_all(rng["cuda"])
        self.batch_generator.set_state(rng["batches"])
        self.augment_generator.set_state(rng["augment"])


class _Split:
    """One split's uint8 images and labels, served as batches of uint8 NHWC tensors.

    With ``workers == 0`` the whole split is read into memory once (and onto the GPU when it
    fits), and batches are plain tensor indexing, with no DataLoader overhead. With ``workers > 0``
    the images stay where they are (e.g. a memory-mapped cache) and a DataLoader reads the same
    batches in worker processes.
    """

    def __init__(self, part, config: RunConfig, device: torch.device) -> None:
        self.labels = np.array(part.labels, dtype=np.int64)  # a writable copy
        self.ids = list(part.ids)
        self.workers = config.workers
        self.device = device
        if self.workers:
            self.images = part.images
            self.store = torch.device("cpu")
        else:
            images = torch.from_numpy(np.ascontiguousarray(part.images))
            self.store = _store_device(images, device)
            self.images = images.to(self.store)
        self.label_tensor = torch.from_numpy(self.labels).to(self.store)

    def __len__(self) -> int:
        return len(self.labels)

    def batches(self, order: torch.Tensor, batch_size: int, drop_single: bool = False):
        """(images, labels) per consecutive chunk of ``order``; a final batch of one image is
        dropped when ``drop_single`` (BatchNorm cannot train on it)."""
        chunks = list(order.split(batch_size))
        if drop_single and len(chunks) > 1 and len(chunks[-1]) == 1:
            chunks.pop()
        if self.workers:
            loader = torch.utils.data.DataLoader(
                _IndexedBatches(self.images, self.labels, chunks), batch_size=None,
                num_workers=self.workers, pin_memory=self.device.type == "cuda",
            )
            for images, labels in loader:
                yield images, labels.to(self.device, non_blocking=True)
            return
        for chunk in chunks:
            index = chunk.to(self.store)
            yield self.images[index], self.label_tensor[index].to(self.device, non_blocking=True)


class _IndexedBatches(torch.utils.data.Dataset):
    """Batch ``i`` of a fixed list of index chunks, read in a DataLoader worker."""

    def __init__(self, images, labels: np.ndarray, chunks: list[torch.Tensor]) -> None:
        self.images, self.labels, self.chunks = images, labels, [c.numpy() for c in chunks]

    def __len__(self) -> int:
        return len(self.chunks)

    def __getitem__(self, i: int):
        index = self.chunks[i]
        return torch.from_numpy(np.asarray(self.images[index])), torch.from_numpy(self.labels[index])


# ------------------------------------------------------------------------------------- helpers


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA when available, else CPU; other names as given (checked to exist)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError(f"device {name!r} requested but CUDA is not available; use device='cpu'")
    return device


def _store_device(images: torch.Tensor, device: torch.device) -> torch.device:
    """The GPU when the split fits comfortably in its free memory, else the CPU."""
    if device.type != "cuda":
        return torch.device("cpu")
    free, _ = torch.cuda.mem_get_info(device)
    return device if images.numel() < GPU_SHARE * free else torch.device("cpu")


def _sample_weights(labels: np.ndarray, counts: np.ndarray, sampler: str) -> torch.Tensor | None:
    """Per-sample draw weights: ``None`` (shuffle), ``1/n_c`` (balanced) or ``n_c^-1/2`` (sqrt)."""
    if sampler == "none":
        return None
    power = {"balanced": 1.0, "sqrt": 0.5}[sampler]
    per_class = np.where(counts > 0, np.maximum(counts, 1).astype(np.float64) ** -power, 0.0)
    return torch.as_tensor(per_class[labels], dtype=torch.float64)


def _size_at(config: RunConfig, epoch: int) -> int:
    """Training image size at ``epoch`` under the progressive-resize schedule."""
    size = config.image_size
    for start, stage_size in config.resize_schedule or ():
        if epoch >= start:
            size = stage_size
    return size


def _seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextlib.contextmanager
def _deterministic(config: RunConfig):
    """Deterministic kernels and ``config.threads`` intra-op threads on the CPU for the duration
    of a run (both restored afterwards)."""
    if resolve_device(config.device).type != "cpu":
        yield
        return
    previous = torch.are_deterministic_algorithms_enabled()
    previous_warn = torch.is_deterministic_algorithms_warn_only_enabled()
    previous_threads = torch.get_num_threads()
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.set_num_threads(config.threads)
    try:
        yield
    finally:
        torch.use_deterministic_algorithms(previous, warn_only=previous_warn)
        torch.set_num_threads(previous_threads)


def _result(path: Path) -> RunResult:
    return RunResult(path, runs.load_metrics(path), runs.load_history(path))


# ---------------------------------------------------------------------------------- validation


def _validate(config: RunConfig) -> None:
    """Check every field; normalise types (tuples, floats) in place of the frozen dataclass."""
    def set_(name, value):
        object.__setattr__(config, name, value)

    for name in ("epochs", "batch_size", "lr_step", "image_size", "seed", "workers", "threads"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int | np.integer):
            raise ConfigError(f"{name} must be an integer, got {value!r}")
        set_(name, int(value))
    for name, low in (("epochs", 1), ("batch_size", 2), ("lr_step", 1), ("image_size", 8),
                      ("seed", 0), ("workers", 0), ("threads", 1)):
        if getattr(config, name) < low:
            raise ConfigError(f"{name} must be >= {low}, got {getattr(config, name)}")
    for name in ("lr", "weight_decay", "lr_gamma"):
        value = getattr(config, name)
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise ConfigError(f"{name} must be a number, got {value!r}")
        set_(name, float(value))
    if not (config.lr > 0 and np.isfinite(config.lr)):
        raise ConfigError(f"lr must be a positive number, got {config.lr}")
    if not (config.weight_decay >= 0 and np.isfinite(config.weight_decay)):
        raise ConfigError(f"weight_decay must be a finite number >= 0, got {config.weight_decay}")
    if not 0 < config.lr_gamma <= 1:
        raise ConfigError(f"lr_gamma must be in (0, 1], got {config.lr_gamma}")
    for name in ("pretrained", "augment", "normalize", "amp", "channels_last", "compile"):
        if not isinstance(getattr(config, name), bool):
            raise ConfigError(f"{name} must be true or false, got {getattr(config, name)!r}")
    if config.sampler not in SAMPLERS:
        raise unknown_choice("sampler", config.sampler, SAMPLERS)
    if not isinstance(config.split, str):
        raise ConfigError(f"split must be a name, got {config.split!r}")
    if not re.fullmatch(r"auto|cpu|mps|cuda(:\d+)?", str(config.device)):
        raise ConfigError(f"device must be auto, cpu, cuda, cuda:<n> or mps, got {config.device!r}")
    if not isinstance(config.dataset, str) or config.dataset.partition(":")[0] not in DATASETS:
        raise unknown_choice("dataset", config.dataset, DATASETS)
    check_arch(config.model)
    if config.loss not in LOSSES:
        raise unknown_choice("loss", config.loss, LOSSES)
    for name in ("dataset_params", "loss_params"):
        if not isinstance(getattr(config, name), dict):
            raise ConfigError(f"{name} must be a dict, got {getattr(config, name)!r}")
        set_(name, dict(getattr(config, name)))
    valid = loss_parameters(config.loss)
    unknown = sorted(set(config.loss_params) - set(valid))
    if unknown:
        raise ConfigError(
            f"loss {config.loss!r} takes no parameter {', '.join(unknown)}; "
            f"valid parameters: {', '.join(valid) or 'none'}"
        )
    for name in ("data_root", "weights"):
        value = getattr(config, name)
        if value is not None:
            set_(name, str(value))
    set_("resize_schedule", _schedule(config.resize_schedule))


def _schedule(schedule) -> tuple[tuple[int, int], ...] | None:
    if schedule is None or len(schedule) == 0:
        return None
    try:
        stages = tuple((int(epoch), int(size)) for epoch, size in schedule)
    except (TypeError, ValueError) as error:
        raise ConfigError(
            f"resize_schedule must be (epoch, size) pairs like ((0, 128), (10, 224)), got {schedule!r}"
        ) from error
    epochs = [epoch for epoch, _ in stages]
    if epochs != sorted(set(epochs)) or epochs[0] < 0 or min(s for _, s in stages) < 8:
        raise ConfigError(
            f"resize_schedule needs increasing epochs >= 0 and sizes >= 8, got {schedule!r}"
        )
    return stages
