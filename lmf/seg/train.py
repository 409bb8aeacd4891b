"""The segmentation engine: train one ``SegConfig``, record it in the run store, never lose work.

``fit(config)`` trains the network on the training masks, scores the validation masks after
every epoch (``lmf.seg.metrics.segmentation_scores`` at ``image_size``), keeps the epoch of the
best validation DSC in ``best.pt``, stops early after ``patience`` epochs without a better one,
and scores that epoch once on val and test. Progressive resizing (``resize_schedule``) resizes
each training batch to the stage's side, images bilinearly with antialiasing and masks by
nearest neighbour, so the network of one stage is the starting point of the next.

It follows the store protocol of the classification engine (``lmf.engine.train_once``: the
lock, the ``done`` marker, a damaged run trained again) and its reliability rules: ``last.pt``
after every epoch holds model, optimiser, scheduler, best-so-far, history and every random
state, so a killed run resumes from its last finished epoch and ends with the numbers of an
uninterrupted one on the CPU; an unreadable ``last.pt`` restarts the run with a warning; a
non-finite loss or non-finite outputs stop it with a :class:`~lmf.errors.RunError`.

Files of a finished run (beside the common ones of ``lmf.runs``): ``metrics.json`` with
``best_epoch``, ``epochs_run``, ``class_names``, ``class_counts`` (pixels per class in each
part), ``imbalance_ratio`` per part (Cui et al.'s background/foreground ratio) and the ``val``
and ``test`` scores; ``predictions.npz`` with the test ``pred`` and ``true`` masks (uint8) and
``ids``, compressed.
"""

from __future__ import annotations

import datetime
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from lmf import runs
from lmf.atomic import remove_stale_temporaries
from lmf.batches import epoch_order, size_at
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
from lmf.inputs import model_inputs
from lmf.optim import build_optimizer, build_scheduler
from lmf.seg.config import SegConfig
from lmf.seg.data import SegData, load_seg_data, seg_split
from lmf.seg.losses import build_seg_loss
from lmf.seg.metrics import imbalance_ratio, pixel_counts, segmentation_scores
from lmf.seg.models import build_seg_model

__all__ = ["SegConfig", "fit", "load_seg_model", "run_data", "oversampling_weights"]

PARTS = ("train", "val", "test")
#: Images per evaluation batch at least (BatchNorm is in eval mode, so the size is free).
EVAL_BATCH = 64
SCORES = ("iou", "dsc", "precision", "recall")


def fit(config: SegConfig, results: str | Path | None = None, quiet: bool = False) -> RunResult:
    """Train ``config`` (or resume it, or return it when already finished) and score on test."""
    return train_once(config, results,
                      lambda identity, path: _SegTrainer(config, identity, path, quiet).run())


def run_data(config: SegConfig) -> dict[str, SegData]:
    """The train, val and test parts of the run's dataset at its image size."""
    data = load_seg_data(config.dataset, config.data_root, size=config.image_size,
                         **config.dataset_params)
    split = seg_split(data, config.split, config.fold, seed=config.split_seed)
    return {part: data.part(split, part) for part in PARTS}


def load_seg_model(path: str | Path, which: str = "best") -> torch.nn.Module:
    """The trained network of a run (``best`` or ``last`` epoch) on the CPU, in eval mode."""
    config = SegConfig.from_dict(runs.load_config(path))
    checkpoint = runs.load_checkpoint(path, which)
    model = build_seg_model(config.model, len(checkpoint["class_names"]),
                            attention=config.attention, pretrained=False)
    model.load_state_dict(checkpoint["model"])
    return model.eval()


def oversampling_weights(masks: np.ndarray, num_classes: int) -> torch.Tensor | None:
    r"""Sampling weights of random oversampling (Cui et al., Table 6, "data-level balancing").

    The rare class is the foreground class with the fewest training pixels. The images that
    contain it and the images that do not are each drawn with total probability 1/2, so a batch
    holds about as many images with the rare class as without:

    .. math:: w_i = \frac{1}{2 n_{\text{with}}} \text{ if image } i \text{ contains it, else }
              \frac{1}{2 n_{\text{without}}}

    ``None`` (plain shuffling) when every image or none contains it. SMOTE, the other balancing
    of Table 6, interpolates between feature vectors of neighbours; two images interpolated pixel
    by pixel are not an image with a plausible mask, so it has no counterpart here.
    """
    counts = pixel_counts(masks, num_classes)
    rare = 1 + int(np.argmin(counts[1:]))
    has_rare = (masks == rare).reshape(len(masks), -1).any(axis=1)
    n_with = int(has_rare.sum())
    if n_with in (0, len(masks)):
        return None
    weights = np.where(has_rare, 0.5 / n_with, 0.5 / (len(masks) - n_with))
    return torch.as_tensor(weights, dtype=torch.float64)


class _SegTrainer:
    """One run's state; ``run()`` goes from the last checkpoint (or scratch) to ``done``."""

    def __init__(self, config: SegConfig, identity: dict, path: Path, quiet: bool) -> None:
        self.config, self.identity, self.path, self.quiet = config, identity, path, quiet
        self.started = datetime.datetime.now(datetime.UTC)
        self.device = resolve_device(config.device)
        self.autocast_enabled = config.amp and self.device.type == "cuda"
        self.parts = run_data(config)
        train = self.parts["train"]
        self.class_names = [str(name) for name in train.class_names]
        num_classes = len(self.class_names)
        for part in ("train", "val"):
            if not len(self.parts[part]):
                raise RunError(f"{config.dataset} has no {part} images with split "
                               f"{config.split!r}; use more images or another split")
        counts = pixel_counts(train.masks, num_classes)
        self.class_counts = {part: dict(zip(self.class_names, map(int, pixel_counts(
            data.masks, num_classes)), strict=True)) for part, data in self.parts.items()}
        self.imbalance = {part: imbalance_ratio(data.masks) for part, data in self.parts.items()
                          if len(data)}

        seed_everything(config.seed)
        self.model = build_seg_model(config.model, num_classes, attention=config.attention,
                                     pretrained=config.pretrained).to(self.device)
        self.criterion = build_seg_loss(config.loss, counts, **config.loss_params).to(self.device)
        self.optimizer = build_optimizer(config, self.model.parameters())
        self.scheduler = build_scheduler(config, self.optimizer)
        self.batch_generator = torch.Generator().manual_seed(config.seed)
        self.weights = (oversampling_weights(train.masks, num_classes)
                        if config.sampler == "oversample" else None)
        self.history: list[dict] = []
        self.best_score, self.best_epoch, self.start_epoch = -np.inf, -1, 0

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
            if self._stopped_early():
                break
            row = self._train_epoch(epoch)
            bar.set_postfix(loss=f"{row['train_loss']:.4f}", val_dsc=f"{row['val_dsc']:.4f}")
        self._finish()

    def _stopped_early(self) -> bool:
        """Early stopping: ``patience`` epochs have passed without a better validation DSC."""
        patience = self.config.patience
        return patience is not None and len(self.history) - 1 - self.best_epoch >= patience

    def _resume(self) -> None:
        """Continue from ``last.pt`` when there is one (and it can be read)."""
        state = resume_state(self.path)
        if state is None:
            return
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.scheduler.load_state_dict(state["scheduler"])
        self.best_score, self.best_epoch = state["best_score"], state["best_epoch"]
        self.history = list(state["history"])
        self.start_epoch = state["epoch"] + 1
        restore_rng(state["rng"], self.device, batches=self.batch_generator)

    def _train_epoch(self, epoch: int) -> dict:
        config, start = self.config, time.perf_counter()
        size = size_at(config, epoch)
        lr = self.optimizer.param_groups[0]["lr"]
        train = self.parts["train"]
        self.model.train()
        losses = []
        order = epoch_order(len(train), self.weights, self.batch_generator).numpy()
        steps = [order[i:i + config.batch_size] for i in range(0, len(order), config.batch_size)]
        for batch in tqdm(steps, desc=f"epoch {epoch + 1}/{config.epochs}", leave=False,
                          disable=self.quiet):
            if len(batch) < 2:  # BatchNorm cannot train on one image
                continue
            images, masks = self._batch(train, batch, size)
            with self._autocast():
                logits = self.model(images)
            loss = self.criterion(logits.float(), masks)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            losses.append(loss.detach())
        losses = torch.stack(losses).float().cpu()
        self._check_finite(losses, epoch)
        self.scheduler.step()

        pred, loss = self._predict("val")
        scores = segmentation_scores(pred, self.parts["val"].masks, len(self.class_names))
        row = {"epoch": epoch, "lr": lr, "image_size": size, "train_loss": float(losses.mean()),
               "val_loss": loss, **{f"val_{k}": scores[k] for k in SCORES},
               "seconds": time.perf_counter() - start}
        self.history.append(row)
        if row["val_dsc"] > self.best_score:
            self.best_score, self.best_epoch = row["val_dsc"], epoch
            runs.write_checkpoint(self.path / runs.BEST, {
                "epoch": epoch, "model": self.model.state_dict(), "class_names": self.class_names,
            })
        runs.write_checkpoint(self.path / runs.LAST, self._state(epoch))
        runs.write_csv(self.path / runs.HISTORY, pd.DataFrame(self.history))
        return row

    def _batch(self, data: SegData, positions, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Model inputs and int64 masks of the images at ``positions``, at side ``size``."""
        images = model_inputs(data.images[positions], self.config, size=size, device=self.device)
        masks = torch.from_numpy(np.ascontiguousarray(data.masks[positions])).to(self.device)
        if masks.shape[-1] != size:
            masks = F.interpolate(masks[:, None].float(), size=(size, size), mode="nearest")[:, 0]
        return images, masks.long()

    def _finish(self) -> None:
        """Score the best epoch once on val and test; write metrics, predictions, the run's
        facts and ``done``; then drop the resume state."""
        best = runs.load_checkpoint(self.path, "best")
        self.model.load_state_dict(best["model"])
        blocks = {}
        for part in [p for p in ("val", "test") if len(self.parts[p])]:
            pred, _ = self._predict(part)
            true = self.parts[part].masks
            blocks[part] = segmentation_scores(pred, true, len(self.class_names))
            if part == "test":
                runs.write_npz(self.path / runs.PREDICTIONS, compress=True, pred=pred,
                               true=np.asarray(true, dtype=np.uint8),
                               ids=np.asarray(self.parts["test"].ids, dtype=str))
        seconds = sum(row["seconds"] for row in self.history)
        runs.write_json(self.path / runs.METRICS, {
            "best_epoch": best["epoch"], "epochs": self.config.epochs,
            "epochs_run": len(self.history), "class_names": self.class_names,
            "class_counts": self.class_counts, "imbalance_ratio": self.imbalance,
            "train_seconds": seconds, "warnings": [], **blocks,
        })
        runs.write_json(self.path / runs.RUN_INFO, run_info(self.device, self.started, seconds,
                                                          self.config.data_root))
        runs.mark_done(self.path)
        (self.path / runs.LAST).unlink(missing_ok=True)

    @torch.inference_mode()
    def _predict(self, part: str) -> tuple[np.ndarray, float]:
        """Predicted masks (uint8, N×H×W) of a whole part at ``image_size`` and the mean loss."""
        data = self.parts[part]
        self.model.eval()
        batch = max(EVAL_BATCH, self.config.batch_size)
        preds, loss_sum = [], 0.0
        for first in range(0, len(data), batch):
            positions = np.arange(first, min(first + batch, len(data)))
            images, masks = self._batch(data, positions, self.config.image_size)
            with self._autocast():
                logits = self.model(images).float()
            if not torch.isfinite(logits).all():
                raise RunError(f"the model's {part} outputs are not finite in run "
                               f"{self.path.name} (the weights diverged); lower the learning "
                               "rate or check the loss parameters. The run is not marked done")
            loss_sum += float(self.criterion(logits, masks)) * len(positions)
            preds.append(logits.argmax(1).to(torch.uint8).cpu().numpy())
        return np.concatenate(preds), loss_sum / len(data)

    def _autocast(self):
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.autocast_enabled)

    def _check_finite(self, losses: torch.Tensor, epoch: int) -> None:
        bad = torch.nonzero(~torch.isfinite(losses)).flatten()
        if len(bad):
            raise RunError(
                f"non-finite training loss ({float(losses[int(bad[0])])}) at epoch {epoch} of "
                f"run {self.path.name}; the checkpoint of the previous epoch stays. Lower the "
                "learning rate or check the loss parameters, then run again (it resumes)")

    def _state(self, epoch: int) -> dict:
        return {
            "epoch": epoch, "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(), "scheduler": self.scheduler.state_dict(),
            "best_score": self.best_score, "best_epoch": self.best_epoch,
            "history": self.history, "class_names": self.class_names,
            "rng": rng_state(self.device, batches=self.batch_generator),
        }
