"""The segmentation engine: train one ``SegConfig``, record it in the run store, never lose work.

``fit(config)`` trains the network on the training masks, scores the validation masks after
every epoch (``lmf.seg.metrics.segmentation_scores`` at ``image_size``), keeps the epoch of the
best validation DSC in ``best.pt``, stops early after ``patience`` epochs without a better one,
and scores that epoch once on val and test. Progressive resizing (``resize_schedule``) resizes
each training batch to the stage's side, images bilinearly with antialiasing and masks by
nearest neighbour, so the network of one stage is the starting point of the next.

It follows the store protocol of the classification engine (``lmf.core.engine.train_once``: the
lock, the ``done`` marker, a damaged run trained again) and the reliability rules of the shared
trainer (``lmf.core.trainer``): ``last.pt`` after every epoch, so a killed run resumes from its last
finished epoch and ends with the numbers of an uninterrupted one on the CPU; a restart with a
warning from an unreadable ``last.pt``; a :class:`~lmf.core.errors.RunError` on a non-finite loss or
non-finite outputs.

Files of a finished run (beside the common ones of ``lmf.core.runs``): ``metrics.json`` with
``best_epoch``, ``epochs_run``, ``class_names``, ``class_counts`` (pixels per class in each
part), ``imbalance_ratio`` per part (Cui et al.'s background/foreground ratio) and the ``val``
and ``test`` scores; ``predictions.npz`` with the test ``pred`` and ``true`` masks (uint8) and
``ids``, compressed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from lmf.core import runs
from lmf.core.batches import epoch_order, size_at
from lmf.core.engine import RunResult, train_once
from lmf.core.errors import RunError
from lmf.core.inputs import model_inputs
from lmf.core.trainer import Trainer
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


class _SegTrainer(Trainer):
    """A segmentation run on the base :class:`~lmf.core.trainer.Trainer`: batches of masks resized
    to the stage's side, the validation scores of ``segmentation_scores`` after every epoch,
    early stopping, the test masks as predictions."""

    key_metric = "val_dsc"
    higher_is_better = True
    scored_parts = ("val",)

    def __init__(self, config: SegConfig, identity: dict, path: Path, quiet: bool) -> None:
        super().__init__(config, identity, path, quiet)
        self.parts = run_data(config)
        train = self.parts["train"]
        self.class_names = [str(name) for name in train.class_names]
        num_classes = len(self.class_names)
        for part in ("train", "val"):
            if not len(self.parts[part]):
                raise RunError(f"{config.dataset} has no {part} images with split "
                               f"{config.split!r}; use more images or another split")
        self.train_counts = pixel_counts(train.masks, num_classes)
        self.class_counts = {part: dict(zip(self.class_names, map(int, pixel_counts(
            data.masks, num_classes)), strict=True)) for part, data in self.parts.items()}
        self.imbalance = {part: imbalance_ratio(data.masks) for part, data in self.parts.items()
                          if len(data)}

        self._build()
        self.weights = (oversampling_weights(train.masks, num_classes)
                        if config.sampler == "oversample" else None)

    def _new_model(self) -> torch.nn.Module:
        config = self.config
        return build_seg_model(config.model, len(self.class_names), attention=config.attention,
                               pretrained=config.pretrained).to(self.device)

    def _new_criterion(self) -> torch.nn.Module:
        return build_seg_loss(self.config.loss, self.train_counts, **self.config.loss_params)

    def _stop_early(self) -> bool:
        """Early stopping: ``patience`` epochs have passed without a better validation DSC."""
        patience = self.config.patience
        return patience is not None and len(self.history) - 1 - self.best_epoch >= patience

    def _training_batches(self, epoch: int) -> tuple[int, Iterable]:
        size, batch_size = size_at(self.config, epoch), self.config.batch_size
        train = self.parts["train"]
        order = epoch_order(len(train), self.weights, self.batch_generator).numpy()
        steps = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
        # BatchNorm cannot train on one image
        return size, (self._batch(train, positions, size) for positions in steps
                      if len(positions) >= 2)

    def _score(self, part: str) -> dict:
        pred, loss = self._predict(part)
        scores = segmentation_scores(pred, self.parts[part].masks, len(self.class_names))
        return {"loss": loss, **{name: scores[name] for name in SCORES}}

    def _evaluate(self, part: str) -> dict:
        pred, _ = self._predict(part)
        data = self.parts[part]
        block = segmentation_scores(pred, data.masks, len(self.class_names))
        if part == "test":
            runs.write_npz(self.path / runs.PREDICTIONS, compress=True, pred=pred,
                           true=np.asarray(data.masks, dtype=np.uint8),
                           ids=np.asarray(data.ids, dtype=str))
        return block

    def _metrics_fields(self) -> dict:
        return {"epochs_run": len(self.history), "class_names": self.class_names,
                "class_counts": self.class_counts, "imbalance_ratio": self.imbalance}

    def _batch(self, data: SegData, positions, size: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Model inputs and int64 masks of the images at ``positions``, at side ``size``."""
        images = model_inputs(data.images[positions], self.config, size=size, device=self.device)
        masks = torch.from_numpy(np.ascontiguousarray(data.masks[positions])).to(self.device)
        if masks.shape[-1] != size:
            masks = F.interpolate(masks[:, None].float(), size=(size, size), mode="nearest")[:, 0]
        return images, masks.long()

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
                logits = self.net(images).float()
            self._require_finite(logits, part)
            loss_sum += float(self.criterion(logits, masks)) * len(positions)
            preds.append(logits.argmax(1).to(torch.uint8).cpu().numpy())
        return np.concatenate(preds), loss_sum / len(data)
