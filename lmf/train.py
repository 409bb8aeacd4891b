"""The training engine: train one configuration the way the paper did, record it, never lose work.

``fit(config)`` trains :class:`~lmf.config.RunConfig` (the paper's recipe by default; see
``lmf.config``) and evaluates the model of the epoch with the best **validation macro-F1** once
on the test split. With ``selection="test"`` (the long-tailed CIFAR protocol's, for comparison
with published numbers only) the best epoch is the one of the best **test top-1 accuracy**, the
test split is scored after every epoch, and a dataset may have no val split (then no val scores
are written). On CUDA it uses bf16 autocast, channels-last memory format, ``torch.compile``
and the cached split kept on the GPU when it fits (``lmf.batches``).

Reliability: one process trains a config at a time (the store's lock); after every epoch
``last.pt`` holds model, optimiser, scheduler, best-so-far and every random state (Python, NumPy,
torch, CUDA, and the generators that draw batches and augmentations), so a run killed at any
point continues from its last finished epoch and, on the CPU, ends with exactly the metrics of an
uninterrupted run. An unreadable ``last.pt`` (a full disk, a cut copy) restarts the run from
scratch with a warning; a ``done`` marker that its files do not back is discarded and the run
trained again. A non-finite training loss or non-finite validation/test outputs stop the run with
a :class:`~lmf.errors.RunError`; the previous ``last.pt`` stays and no ``done`` marker is written.
Once a run is done its resume state ``last.pt`` is deleted (the best model stays in ``best.pt``).
"""

from __future__ import annotations

import datetime
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from lmf import runs
from lmf.atomic import remove_stale_temporaries
from lmf.batches import SplitBatches, epoch_order, sample_weights, size_at
from lmf.config import RunConfig
from lmf.data import augment, pad_crop_flip
from lmf.data.splits import PARTS
from lmf.devices import resolve_device
from lmf.engine import (
    RunResult,
    restore_rng,
    resume_state,
    rng_state,
    run_info,
    seed_everything,
    train_once,
)
from lmf.errors import RunError
from lmf.inputs import model_inputs, prepare_data
from lmf.losses import build_loss
from lmf.metrics import classification_metrics
from lmf.models import build_model
from lmf.optim import build_optimizer, build_scheduler

__all__ = ["RunConfig", "RunResult", "fit", "load_model"]

#: Evaluation batches hold this many images at least (BatchNorm is frozen, so size is free).
EVAL_BATCH = 256
#: A final training loss this many times the first epoch's is reported as divergence.
DIVERGENCE_FACTOR = 10.0


def fit(config: RunConfig, results: str | Path | None = None, quiet: bool = False) -> RunResult:
    """Train ``config`` (or resume it, or return it when already finished) and evaluate on test.

    Args:
        config: the run.
        results: root of the run store (default ``lmf.paths.results_dir()``).
        quiet: no progress bars.
    """
    return train_once(config, results,
                      lambda identity, path: _Trainer(config, identity, path, quiet).run())


def load_model(path: str | Path, which: str = "best") -> torch.nn.Module:
    """The trained model of a run (``best`` or ``last`` epoch) on the CPU, in eval mode."""
    config = RunConfig.from_dict(runs.load_config(path))
    checkpoint = runs.load_checkpoint(path, which)
    model = build_model(config.model, len(checkpoint["class_names"]), pretrained=False,
                        head=config.head)
    model.load_state_dict(checkpoint["model"])
    return model.eval()


# --------------------------------------------------------------------------------------- training


class _Trainer:
    """One run's state; ``run()`` goes from the last checkpoint (or scratch) to ``done``."""

    def __init__(self, config: RunConfig, identity: dict, path: Path, quiet: bool) -> None:
        self.config, self.identity, self.path, self.quiet = config, identity, path, quiet
        self.started = datetime.datetime.now(datetime.UTC)
        self.device = resolve_device(config.device)
        cuda = self.device.type == "cuda"
        self.autocast_enabled = config.amp and cuda
        self.memory_format = (
            torch.channels_last if config.channels_last and cuda else torch.contiguous_format
        )
        data = prepare_data(config, progress=not quiet)
        self.class_names = [str(name) for name in data.class_names]
        self.skipped_images = len(data.skipped)
        self.parts = {name: SplitBatches(data.part(name), config.workers, self.device)
                      for name in PARTS}
        self.class_counts = {part: dict(zip(self.class_names,
                                            map(int, data.class_counts(part)), strict=True))
                             for part in PARTS}
        counts = np.asarray(data.class_counts("train"))
        self.scored = [p for p in ("val", "test") if len(self.parts[p]) and (
            p == "val" or config.selection == "test")]
        if config.selection == "val" and not len(self.parts["val"]):
            raise RunError(f"{config.dataset} has no validation images with these options, and "
                           "selection='val' picks the best epoch on them; hold some out (e.g. "
                           "dataset_params={'val_per_class': 50} for CIFAR-LT) or use "
                           "selection='test' (the published protocol's)")

        seed_everything(config.seed)
        self.model = build_model(
            config.model, len(self.class_names), pretrained=config.pretrained,
            weights=config.weights, head=config.head,
        ).to(self.device, memory_format=self.memory_format)
        self.net = torch.compile(self.model) if config.compile else self.model
        self.criterion = build_loss(config.loss, counts, **config.loss_params).to(self.device)
        self.optimizer = build_optimizer(config, self.model.parameters())
        self.scheduler = build_scheduler(config, self.optimizer)
        self.batch_generator = torch.Generator().manual_seed(config.seed)
        self.augment_generator = torch.Generator(device=self.device).manual_seed(config.seed + 1)
        self.sample_weights = sample_weights(self.parts["train"].labels, counts, config.sampler)
        self.history: list[dict] = []
        self.best_score, self.best_epoch, self.start_epoch = -np.inf, -1, 0

    def run(self) -> None:
        runs.make_run_dir(self.path)
        remove_stale_temporaries(self.path)
        runs.write_json(self.path / runs.IDENTITY, self.identity)
        runs.write_json(self.path / runs.CONFIG, self.config.to_dict())
        self._resume()
        epochs = range(self.start_epoch, self.config.epochs)
        bar = tqdm(epochs, desc=self.path.name, unit="epoch", disable=self.quiet,
                   initial=self.start_epoch, total=self.config.epochs)
        for epoch in bar:
            row = self._train_epoch(epoch)
            score = f"{self.config.selection}_{self._selection_metric}"
            bar.set_postfix(loss=f"{row['train_loss']:.4f}", **{score: f"{row[score]:.4f}"})
        self._finish()

    def _resume(self) -> None:
        """Continue from ``last.pt`` when there is one (and it can be read)."""
        state = resume_state(self.path)
        if state is not None:
            self._restore(state)

    def _train_epoch(self, epoch: int) -> dict:
        config, start = self.config, time.perf_counter()
        if hasattr(self.criterion, "set_epoch"):
            self.criterion.set_epoch(epoch)
        size = size_at(config, epoch)
        lr = self.optimizer.param_groups[0]["lr"]
        train = self.parts["train"]
        self.model.train()
        losses = []
        order = epoch_order(len(train), self.sample_weights, self.batch_generator)
        batches = train.batches(order, config.batch_size, drop_single=True)
        for images, labels in tqdm(batches, desc=f"epoch {epoch + 1}/{config.epochs}",
                                   leave=False, disable=self.quiet):
            inputs = self._training_inputs(images, size)
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

        row = {"epoch": epoch, "lr": lr, "image_size": size, "train_loss": float(losses.mean())}
        for part in self.scored:
            logits, loss = self._predict(part)
            scores = classification_metrics(self.parts[part].labels, logits.argmax(1),
                                            self.class_names)
            row[f"{part}_loss"] = loss
            row.update({f"{part}_{k}": scores[k] for k in ("accuracy", "precision", "recall",
                                                           "macro_f1", "balanced_accuracy", "mcc")})
        row["seconds"] = time.perf_counter() - start
        self.history.append(row)
        score = row[f"{config.selection}_{self._selection_metric}"]
        if score > self.best_score:
            self.best_score, self.best_epoch = score, epoch
            runs.write_checkpoint(self.path / runs.BEST, {
                "epoch": epoch, "model": self.model.state_dict(), "class_names": self.class_names,
            })
        runs.write_checkpoint(self.path / runs.LAST, self._state(epoch))
        runs.write_csv(self.path / runs.HISTORY, pd.DataFrame(self.history))
        return row

    def _finish(self) -> None:
        """Evaluate the best epoch once on val and test; write metrics, predictions, the run's
        facts and ``done``; then drop the resume state."""
        best = runs.load_checkpoint(self.path, "best")
        self.model.load_state_dict(best["model"])
        blocks = {}
        for part in [p for p in ("val", "test") if len(self.parts[p])]:
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
        notes = self._divergence_notes()
        runs.write_json(self.path / runs.METRICS, {
            "best_epoch": best["epoch"], "epochs": self.config.epochs,
            "class_names": self.class_names, "class_counts": self.class_counts,
            "skipped_images": self.skipped_images, "train_seconds": seconds,
            "warnings": notes, **blocks,
        })
        runs.write_csv(self.path / runs.HISTORY, pd.DataFrame(self.history))
        runs.write_json(self.path / runs.RUN_INFO, run_info(self.device, self.started, seconds,
                                                          self.config.data_root))
        runs.mark_done(self.path)
        (self.path / runs.LAST).unlink(missing_ok=True)

    def _divergence_notes(self) -> list[str]:
        """Warnings for a run that finished but whose training loss grew (a too high lr)."""
        if len(self.history) < 2:
            return []
        first, last = self.history[0]["train_loss"], self.history[-1]["train_loss"]
        if last <= DIVERGENCE_FACTOR * max(first, 1e-12):
            return []
        note = (f"training loss grew from {first:.4g} (epoch 0) to {last:.4g} (epoch "
                f"{len(self.history) - 1}): the run diverged; lower the learning rate")
        warnings.warn(f"run {self.path.name}: {note}", stacklevel=4)
        return [note]

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
        if not torch.isfinite(logits).all():
            raise RunError(
                f"the model's {part} outputs are not finite in run {self.path.name} (the weights "
                "diverged); lower the learning rate or check the loss parameters. The run is not "
                "marked done")
        labels = torch.as_tensor(split.labels, device=logits.device)
        loss = float(self.criterion(logits, labels))
        return logits.cpu(), loss

    @property
    def _selection_metric(self) -> str:
        """The score that picks the best epoch: val macro-F1, or test top-1 accuracy."""
        return "macro_f1" if self.config.selection == "val" else "accuracy"

    def _training_inputs(self, images: torch.Tensor, size: int) -> torch.Tensor:
        """A training batch as model input, augmented on the device as ``config.augment``
        says (``pad_crop_flip`` on the uint8 pixels, ``shift`` on the float input)."""
        if self.config.augment == "pad_crop_flip":
            images = pad_crop_flip(images.to(self.device, non_blocking=True),
                                   self.augment_generator)
        inputs = self._inputs(images, size)
        if self.config.augment == "shift":
            inputs = augment(inputs, self.augment_generator)
        return inputs

    def _inputs(self, images: torch.Tensor, size: int) -> torch.Tensor:
        return model_inputs(images, self.config, size=size, device=self.device,
                            memory_format=self.memory_format)

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
        return {
            "epoch": epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "best_score": self.best_score,
            "best_epoch": self.best_epoch,
            "history": self.history,
            "class_names": self.class_names,
            "rng": rng_state(self.device, batches=self.batch_generator,
                             augment=self.augment_generator),
        }

    def _restore(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.best_score, self.best_epoch = state["best_score"], state["best_epoch"]
        self.history = list(state["history"])
        self.start_epoch = state["epoch"] + 1
        restore_rng(state["rng"], self.device, batches=self.batch_generator,
                    augment=self.augment_generator)


# ------------------------------------------------------------------------------------- helpers
