"""A classification run's dataset: its source indexed, split and cached (``lmf.data.prepare``)
at the config's image size, as the engine, Grad-CAM and the feature space read it."""

from __future__ import annotations

from lmf.classification.config import RunConfig
from lmf.data import PreparedData, prepare


def prepare_data(config: RunConfig, progress: bool = False) -> PreparedData:
    """The dataset of ``config``, indexed, split and cached at its image size."""
    return prepare(config.dataset, root=config.data_root, split=config.split,
                   size=config.image_size, progress=progress, **config.dataset_params)
