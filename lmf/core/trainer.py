"""One trainer for every task: the epoch loop, the checkpoints and the files of a finished run.

:class:`Trainer` is what ``lmf.classification.train`` (classification) and ``lmf.seg.train`` (segmentation)
share below the store protocol of ``lmf.core.engine.train_once``; a task subclasses it and supplies
hooks only, so the two engines cannot drift apart in what makes a run reliable:

- after every epoch ``last.pt`` holds model, optimiser, scheduler, best-so-far, history and every
  random state (Python, NumPy, torch, CUDA, and the task's named generators that draw batches
  and augmentations), so a run killed at any point continues from its last finished epoch and,
  on the CPU, ends with exactly the numbers of an uninterrupted run;
- an unreadable ``last.pt`` (a full disk, a cut copy) restarts the run from scratch with a
  warning (``lmf.core.engine.resume_state``);
- a non-finite training loss stops the run with a :class:`~lmf.core.errors.RunError` that names the
  epoch, the step and the checkpoint that stays; so do non-finite validation/test outputs
  (:meth:`Trainer._require_finite`); no ``done`` marker is written then;
- ``best.pt`` holds the model of the epoch with the best *key metric* (a history column the task
  declares, as MONAI's ``Workflow(key_metric=...)`` does); the finished run is that model's;
- once a run is done its resume state ``last.pt`` is deleted (the best model stays in
  ``best.pt``).

The base owns :meth:`Trainer.run` (run directory, identity and config, resume, the epoch loop
with an optional early stop, finish), the training epoch (the criterion's ``set_epoch`` hook when
it has one, the optimiser steps under autocast, the finiteness check, the scheduler step), the
``best.pt``/``last.pt``/``history.csv`` writes after each epoch, and the end of the run
(``metrics.json``, ``history.csv``, ``run.json``, ``done``). A task supplies how its model and
criterion are built, its training batches, how a part is scored after an epoch, how the best
model is evaluated on val and test (with ``predictions.npz``), its own ``metrics.json`` fields,
and its key metric; the hooks below say what each must return.
"""

from __future__ import annotations

import abc
import datetime
import time
import warnings
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from tqdm.auto import tqdm

from lmf.core import runs
from lmf.core.atomic import remove_stale_temporaries
from lmf.core.devices import resolve_device
from lmf.core.engine import restore_rng, resume_state, rng_state, run_info, seed_everything
from lmf.core.errors import RunError
from lmf.core.optim import build_optimizer, build_scheduler

#: A final training loss this many times the first epoch's is reported as divergence.
DIVERGENCE_FACTOR = 10.0

#: The split parts a finished run is evaluated on (those that have images).
EVALUATED_PARTS = ("val", "test")


class Trainer(abc.ABC):
    """One run's state; :meth:`run` goes from the last checkpoint (or scratch) to ``done``.

    A task's ``__init__`` calls ``super().__init__``, reads its data (setting ``parts``, a
    mapping of part name to a sized split, and ``class_names``), then calls :meth:`_build`.

    Declarations of a task:
        key_metric: the history column that picks the best epoch (``val_dsc``, ...).
        higher_is_better: whether a larger key metric is a better epoch.
        scored_parts: the parts scored after every epoch (their columns are ``<part>_<score>``).
    """

    key_metric: str
    higher_is_better: bool
    scored_parts: Sequence[str]

    def __init__(self, config, identity: dict, path: Path, quiet: bool) -> None:
        self.config, self.identity, self.path, self.quiet = config, identity, path, quiet
        self.started = datetime.datetime.now(datetime.UTC)
        self.device = resolve_device(config.device)
        self.autocast_enabled = config.amp and self.device.type == "cuda"
        self.history: list[dict] = []
        self.best_score = -np.inf if self.higher_is_better else np.inf
        self.best_epoch, self.start_epoch = -1, 0

    def _build(self) -> None:
        """Seed every random stream, then build model, criterion, optimiser, scheduler and the
        batch generator, in this order: it fixes the random draws of the initial weights.
        ``net`` is what the forward passes call (a task may replace it by a compiled model)."""
        seed_everything(self.config.seed)
        self.model = self._new_model()
        self.net = self.model
        self.criterion = self._new_criterion().to(self.device)
        self.optimizer = build_optimizer(self.config, self.model.parameters())
        self.scheduler = build_scheduler(self.config, self.optimizer)
        self.batch_generator = torch.Generator().manual_seed(self.config.seed)

    # ------------------------------------------------------------------------ a task's hooks

    @abc.abstractmethod
    def _new_model(self) -> torch.nn.Module:
        """The freshly initialised network, on the run's device."""

    @abc.abstractmethod
    def _new_criterion(self) -> torch.nn.Module:
        """The training loss (moved to the device by the base)."""

    @abc.abstractmethod
    def _training_batches(self, epoch: int) -> tuple[int, Iterable]:
        """The side of epoch ``epoch``'s training images and its ``(inputs, targets)`` batches,
        inputs ready for ``net``; the batches draw their order from ``batch_generator``."""

    @abc.abstractmethod
    def _score(self, part: str) -> dict:
        """``part``'s history columns after an epoch (without the ``<part>_`` prefix): its
        ``loss`` first, then its scores."""

    @abc.abstractmethod
    def _evaluate(self, part: str) -> dict:
        """The best model's metrics block on ``part``; on ``test`` it also writes
        ``predictions.npz``."""

    @abc.abstractmethod
    def _metrics_fields(self) -> dict:
        """The task's fields of ``metrics.json`` besides best epoch, epochs, train seconds,
        warnings and the val/test blocks."""

    def _generators(self) -> dict[str, torch.Generator]:
        """The run's own random generators by name, saved in and restored from ``last.pt``."""
        return {"batches": self.batch_generator}

    def _stop_early(self) -> bool:
        """Whether the run ends before its next epoch; never, unless a task says so."""
        return False

    # ---------------------------------------------------------------------------- the run

    def run(self) -> None:
        runs.make_run_dir(self.path)
        remove_stale_temporaries(self.path)
        runs.write_json(self.path / runs.IDENTITY, self.identity)
        runs.write_json(self.path / runs.CONFIG, self.config.to_dict())
        self._resume()
        bar = tqdm(range(self.start_epoch, self.config.epochs), desc=self.path.name,
                   unit="epoch", disable=self.quiet, initial=self.start_epoch,
                   total=self.config.epochs)
        for epoch in bar:
            if self._stop_early():
                break
            row = self._train_epoch(epoch)
            bar.set_postfix(loss=f"{row['train_loss']:.4f}",
                            **{self.key_metric: f"{row[self.key_metric]:.4f}"})
        self._finish()

    def _resume(self) -> None:
        """Continue from ``last.pt`` when there is one (and it can be read)."""
        state = resume_state(self.path)
        if state is not None:
            self._restore(state)

    def _train_epoch(self, epoch: int) -> dict:
        """Train one epoch, score ``scored_parts``, write the checkpoints; the history row."""
        start = time.perf_counter()
        if hasattr(self.criterion, "set_epoch"):
            self.criterion.set_epoch(epoch)
        lr = self.optimizer.param_groups[0]["lr"]
        self.model.train()
        size, batches = self._training_batches(epoch)
        losses = []
        for inputs, targets in tqdm(batches, desc=f"epoch {epoch + 1}/{self.config.epochs}",
                                    leave=False, disable=self.quiet):
            with self._autocast():
                logits = self.net(inputs)
            loss = self.criterion(logits.float(), targets)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            losses.append(loss.detach())
        losses = torch.stack(losses).float().cpu()
        self._check_finite(losses, epoch)
        self.scheduler.step()

        row = {"epoch": epoch, "lr": lr, "image_size": size, "train_loss": float(losses.mean())}
        for part in self.scored_parts:
            row.update({f"{part}_{name}": value for name, value in self._score(part).items()})
        row["seconds"] = time.perf_counter() - start
        self._record(epoch, row)
        return row

    def _record(self, epoch: int, row: dict) -> None:
        """Add the epoch's row; keep its model in ``best.pt`` when its key metric is the best
        so far; write ``last.pt`` and ``history.csv``."""
        self.history.append(row)
        score = row[self.key_metric]
        if self._improves(score):
            self.best_score, self.best_epoch = score, epoch
            runs.write_checkpoint(self.path / runs.BEST, {
                "epoch": epoch, "model": self.model.state_dict(), "class_names": self.class_names,
            })
        runs.write_checkpoint(self.path / runs.LAST, self._state(epoch))
        runs.write_csv(self.path / runs.HISTORY, pd.DataFrame(self.history))

    def _improves(self, score: float) -> bool:
        """Whether ``score`` of the key metric beats the best epoch's so far."""
        return score > self.best_score if self.higher_is_better else score < self.best_score

    def _finish(self) -> None:
        """Evaluate the best epoch once on val and test; write metrics, predictions, the run's
        facts and ``done``; then drop the resume state."""
        best = runs.load_checkpoint(self.path, "best")
        self.model.load_state_dict(best["model"])
        blocks = {part: self._evaluate(part) for part in EVALUATED_PARTS if len(self.parts[part])}
        seconds = sum(row["seconds"] for row in self.history)
        notes = self._divergence_notes()
        runs.write_json(self.path / runs.METRICS, {
            "best_epoch": best["epoch"], "epochs": self.config.epochs, **self._metrics_fields(),
            "train_seconds": seconds, "warnings": notes, **blocks,
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

    # ------------------------------------------------------------------ numerics and state

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast_enabled)

    def _check_finite(self, losses: torch.Tensor, epoch: int) -> None:
        """A RunError naming the epoch, the step and the checkpoint that stays when a training
        loss of the epoch is not finite."""
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

    def _require_finite(self, logits: torch.Tensor, part: str) -> None:
        """A RunError when the model's outputs on ``part`` are not finite (diverged weights)."""
        if not torch.isfinite(logits).all():
            raise RunError(
                f"the model's {part} outputs are not finite in run {self.path.name} (the weights "
                "diverged); lower the learning rate or check the loss parameters. The run is not "
                "marked done")

    def _state(self, epoch: int) -> dict:
        """The resume state of ``last.pt`` after epoch ``epoch``."""
        return {
            "epoch": epoch,
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict(),
            "best_score": self.best_score,
            "best_epoch": self.best_epoch,
            "history": self.history,
            "class_names": self.class_names,
            "rng": rng_state(self.device, **self._generators()),
        }

    def _restore(self, state: dict) -> None:
        """Undo :meth:`_state`: the run continues with the epoch after ``state["epoch"]``."""
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.best_score, self.best_epoch = state["best_score"], state["best_epoch"]
        self.history = list(state["history"])
        self.start_epoch = state["epoch"] + 1
        restore_rng(state["rng"], self.device, **self._generators())
