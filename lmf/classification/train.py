"""The training engine: train one configuration the way the paper did, record it, never lose work.

``fit(config)`` trains :class:`~lmf.classification.config.RunConfig` (the paper's recipe by default; see
``lmf.classification.config``) and evaluates the model of the epoch with the best **validation macro-F1** once
on the test split. With ``selection="test"`` (the long-tailed CIFAR protocol's, for comparison
with published numbers only) the best epoch is the one of the best **test top-1 accuracy**, the
test split is scored after every epoch, and a dataset may have no val split (then no val scores
are written). On CUDA it uses bf16 autocast, channels-last memory format, ``torch.compile``
and the cached split kept on the GPU when it fits (``lmf.core.batches``).

Reliability: one process trains a config at a time (the store's lock) and a ``done`` marker that
its files do not back is discarded and the run trained again (``lmf.core.engine.train_once``); the
checkpoints, resuming, the stop on a non-finite loss or non-finite outputs and the files of a
finished run are the shared trainer's (``lmf.core.trainer``). The random state in ``last.pt``
includes the generators that draw batches and augmentations, so a resumed run ends, on the CPU,
with exactly the metrics of an uninterrupted one; ``metrics.json`` warns of a run whose
training loss grew (``DIVERGENCE_FACTOR``).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np
import torch

from lmf.classification.config import RunConfig
from lmf.classification.data import prepare_data
from lmf.classification.metrics import classification_metrics
from lmf.classification.models import build_model
from lmf.core import runs
from lmf.core.batches import SplitBatches, epoch_order, sample_weights, size_at
from lmf.core.engine import RunResult, train_once
from lmf.core.errors import RunError
from lmf.core.inputs import model_inputs
from lmf.core.trainer import DIVERGENCE_FACTOR, Trainer
from lmf.data import augment, pad_crop_flip
from lmf.data.splits import PARTS
from lmf.losses import build_loss

__all__ = ["DIVERGENCE_FACTOR", "RunConfig", "RunResult", "fit", "load_model"]

#: Evaluation batches hold this many images at least (BatchNorm is frozen, so size is free).
EVAL_BATCH = 256
#: The scores of a part that every epoch's history row holds (``<part>_<score>``).
EPOCH_SCORES = ("accuracy", "precision", "recall", "macro_f1", "balanced_accuracy", "mcc")


def fit(config: RunConfig, results: str | Path | None = None, quiet: bool = False) -> RunResult:
    """Train ``config`` (or resume it, or return it when already finished) and evaluate on test.

    Args:
        config: the run.
        results: root of the run store (default ``lmf.core.paths.results_dir()``).
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


class _Trainer(Trainer):
    """A classification run on the base :class:`~lmf.core.trainer.Trainer`: batches of
    ``lmf.core.batches`` augmented on the device, the val (and, under ``selection="test"``, test)
    scores of ``classification_metrics`` after every epoch, test logits as predictions."""

    higher_is_better = True

    def __init__(self, config: RunConfig, identity: dict, path: Path, quiet: bool) -> None:
        super().__init__(config, identity, path, quiet)
        self.memory_format = (torch.channels_last if config.channels_last
                              and self.device.type == "cuda" else torch.contiguous_format)
        data = prepare_data(config, progress=not quiet)
        self.class_names = [str(name) for name in data.class_names]
        self.skipped_images = len(data.skipped)
        self.parts = {name: SplitBatches(data.part(name), config.workers, self.device)
                      for name in PARTS}
        self.class_counts = {part: dict(zip(self.class_names,
                                            map(int, data.class_counts(part)), strict=True))
                             for part in PARTS}
        self.train_counts = np.asarray(data.class_counts("train"))
        self.scored_parts = [p for p in ("val", "test") if len(self.parts[p]) and (
            p == "val" or config.selection == "test")]
        if config.selection == "val" and not len(self.parts["val"]):
            raise RunError(f"{config.dataset} has no validation images with these options, and "
                           "selection='val' picks the best epoch on them; hold some out (e.g. "
                           "dataset_params={'val_per_class': 50} for CIFAR-LT) or use "
                           "selection='test' (the published protocol's)")

        self._build()
        if config.compile:
            self.net = torch.compile(self.model)
        self.augment_generator = torch.Generator(device=self.device).manual_seed(config.seed + 1)
        self.sample_weights = sample_weights(self.parts["train"].labels, self.train_counts,
                                             config.sampler)

    @property
    def key_metric(self) -> str:
        """The score that picks the best epoch: val macro-F1, or test top-1 accuracy."""
        metric = "macro_f1" if self.config.selection == "val" else "accuracy"
        return f"{self.config.selection}_{metric}"

    def _new_model(self) -> torch.nn.Module:
        config = self.config
        return build_model(
            config.model, len(self.class_names), pretrained=config.pretrained,
            weights=config.weights, head=config.head,
        ).to(self.device, memory_format=self.memory_format)

    def _new_criterion(self) -> torch.nn.Module:
        return build_loss(self.config.loss, self.train_counts, **self.config.loss_params)

    def _generators(self) -> dict[str, torch.Generator]:
        return {**super()._generators(), "augment": self.augment_generator}

    def _training_batches(self, epoch: int) -> tuple[int, Iterable]:
        size = size_at(self.config, epoch)
        train = self.parts["train"]
        order = epoch_order(len(train), self.sample_weights, self.batch_generator)
        batches = train.batches(order, self.config.batch_size, drop_single=True)
        return size, ((self._training_inputs(images, size), labels) for images, labels in batches)

    def _score(self, part: str) -> dict:
        logits, loss = self._predict(part)
        scores = classification_metrics(self.parts[part].labels, logits.argmax(1),
                                        self.class_names)
        return {"loss": loss, **{name: scores[name] for name in EPOCH_SCORES}}

    def _evaluate(self, part: str) -> dict:
        logits, _ = self._predict(part)
        probs = torch.softmax(logits, 1).numpy()
        split = self.parts[part]
        block = classification_metrics(split.labels, probs.argmax(1), self.class_names,
                                       probs=probs)
        if part == "test":
            runs.write_npz(self.path / runs.PREDICTIONS, logits=logits.numpy(),
                           labels=split.labels, ids=np.asarray(split.ids, dtype=str))
        return block

    def _metrics_fields(self) -> dict:
        return {"class_names": self.class_names, "class_counts": self.class_counts,
                "skipped_images": self.skipped_images}

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
        self._require_finite(logits, part)
        labels = torch.as_tensor(split.labels, device=logits.device)
        loss = float(self.criterion(logits, labels))
        return logits.cpu(), loss

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
