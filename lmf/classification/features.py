"""What a loss does to the feature space: penultimate features, their embedding, their separation.

Scholz et al. (MIDL 2024, seed 002) report "more pronounced clustering of minority classes in
feature space" for metric-derived losses, judged from pictures. Here the claim is measured on the
features themselves (a 2-D embedding distorts distances, so it is only drawn, never scored):

- ``extract(run_dir, split)``: the input of the classification head (``lmf.classification.models.
  classifier_head``) for every image of a split, read with a forward pre-hook from the run's best
  checkpoint, cached in the run directory (``features-<split>.npz``) so a second call is instant.
- ``separation(features, labels, k)``: per class, the mean silhouette (scikit-learn's
  ``silhouette_samples``, Rousseeuw 1987), the k-nearest-neighbour purity and the ratio of
  between-class to within-class scatter (Fisher's criterion, per class).
- ``embed(features, method)``: t-SNE (scikit-learn, van der Maaten & Hinton 2008) after PCA to 50
  dimensions, deterministic given the seed; UMAP (McInnes et al. 2018) through ``umap-learn``
  when it is installed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.metrics import silhouette_samples
from sklearn.neighbors import NearestNeighbors
from threadpoolctl import threadpool_limits

from lmf.classification.config import RunConfig
from lmf.core import runs
from lmf.core.errors import ConfigError
from lmf.core.validation import check_choice, check_integer

EMBEDDINGS = ("tsne", "umap")
#: Images per forward pass when extracting (inference only: memory, not results, depends on it).
BATCH = 256


def extract(run_dir: str | Path, split: str = "test") -> tuple[np.ndarray, np.ndarray]:
    """``(features, labels)`` of ``split`` (``train``, ``val`` or ``test``): (N, D) float32 and (N,)
    int64, in the split's order; the head's input under the run's best checkpoint."""
    from lmf.classification.data import prepare_data
    from lmf.classification.train import load_model
    from lmf.core.inputs import model_inputs
    from lmf.data.splits import PARTS

    check_choice("split", split, PARTS)
    cache = Path(run_dir) / f"features-{split}.npz"
    if cache.is_file():
        with np.load(cache) as stored:
            return stored["features"], stored["labels"]
    config = RunConfig.from_dict(runs.load_config(run_dir))
    part = prepare_data(config).part(split)
    batches = (model_inputs(part.images[start:start + BATCH], config)
               for start in range(0, len(part), BATCH))
    features = head_inputs(load_model(run_dir), batches)
    labels = np.asarray(part.labels, dtype=np.int64)
    runs.write_npz(cache, features=features, labels=labels)
    return features, labels


def head_inputs(model: torch.nn.Module, batches) -> np.ndarray:
    """The input of ``classifier_head(model)`` for every image of ``batches`` (an iterable of
    model-ready tensors), as one (N, D) float32 array: read with a forward pre-hook during the
    model's own forward pass in eval mode, so any architecture works unchanged."""
    from lmf.classification.models import classifier_head

    captured: list[torch.Tensor] = []
    hook = classifier_head(model).register_forward_pre_hook(
        lambda _module, inputs: captured.append(inputs[0].detach().flatten(1).float()))
    model.eval()
    try:
        with torch.inference_mode():
            for batch in batches:
                model(batch)
    finally:
        hook.remove()
    return torch.cat(captured).numpy()


def separation(features, labels, k: int = 10) -> pd.DataFrame:
    """One row per class present (``label``, ``n``) with three separation scores on ``features``.

    - ``silhouette``: mean over the class's samples of ``(b − a) / max(a, b)``, ``a`` the mean
      distance to the own class, ``b`` to the nearest other class (scikit-learn; a sample alone
      in its class scores 0, and when every sample is alone in its class the score is undefined:
      NaN).
    - ``knn_purity``: mean over the class's samples of the share of its ``k`` nearest *other*
      samples (Euclidean) that carry its label.
    - ``scatter_ratio``: ``‖μ_c − μ‖² / ((1/n_c) Σ_{i∈c} ‖x_i − μ_c‖²)``, the class mean's squared
      distance from the global mean over the class's mean squared spread (Fisher's between- to
      within-class scatter, for one class).
    """
    features = np.asarray(features, dtype=np.float64)
    labels = np.asarray(labels)
    if features.ndim != 2 or len(features) != len(labels):
        raise ConfigError(f"features must be (N, D) with one label per row, got {features.shape} "
                          f"and {labels.shape}")
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ConfigError("separation needs samples of at least two classes")
    k = check_integer("k", k, low=1)
    if k >= len(features):
        raise ConfigError(f"k must be below the number of samples ({len(features)}), got {k}")
    defined = len(classes) < len(features)  # scikit-learn needs 2 <= classes <= N - 1
    silhouette = (silhouette_samples(features, labels) if defined
                  else np.full(len(features), np.nan))
    purity = _knn_purity(features, labels, k)
    centre = features.mean(axis=0)
    rows = []
    for label in classes:
        members = features[labels == label]
        mean = members.mean(axis=0)
        spread = np.mean(np.sum((members - mean) ** 2, axis=1))
        between = np.sum((mean - centre) ** 2)
        rows.append({"label": label, "n": len(members),
                     "silhouette": float(silhouette[labels == label].mean()),
                     "knn_purity": float(purity[labels == label].mean()),
                     "scatter_ratio": float(between / spread) if spread > 0 else np.inf})
    return pd.DataFrame(rows)


def _knn_purity(features: np.ndarray, labels: np.ndarray, k: int) -> np.ndarray:
    """Per sample: the share of its ``k`` nearest other samples with the same label."""
    _, neighbours = NearestNeighbors(n_neighbors=k + 1).fit(features).kneighbors(features)
    others = np.empty((len(features), k), dtype=np.int64)
    for row, found in enumerate(neighbours):  # drop the sample itself (not always first on ties)
        found = found[found != row]
        others[row] = found[:k]
    return (labels[others] == labels[:, None]).mean(axis=1)


def minority_classes(train_counts: dict[str, int]) -> list[str]:
    """The rarest third of the classes by training count (at least one), rarest first."""
    ranked = sorted(train_counts, key=lambda name: (train_counts[name], name))
    return ranked[:max(1, len(ranked) // 3)]


def embed(features, method: str = "tsne", seed: int = 0, pca_dims: int = 50) -> np.ndarray:
    """A 2-D embedding (N, 2) of ``features`` for drawing: PCA to ``pca_dims`` dimensions (fewer
    when the data have fewer), then t-SNE or UMAP with ``random_state=seed``.

    Runs on one thread (``threadpoolctl``): scikit-learn's t-SNE parallelises with OpenMP,
    whose waiting threads made it 10× slower on a CPU shared with other processes (measured on
    2 busy cores: 30–90 s instead of 3.5 s for six embeddings of 300 points), and a few
    thousand points take seconds on one core."""
    check_choice("embedding", method, EMBEDDINGS)
    features = np.asarray(features, dtype=np.float64)
    with threadpool_limits(limits=1):
        return _embed(features, method, seed, pca_dims)


def _embed(features: np.ndarray, method: str, seed: int, pca_dims: int) -> np.ndarray:
    dims = min(pca_dims, *features.shape)
    reduced = PCA(n_components=dims, random_state=seed).fit_transform(features)
    if method == "umap":
        try:
            import umap
        except ImportError:
            raise ConfigError("UMAP needs the optional package umap-learn: pip install "
                              "'lmf[umap]' (or umap-learn), or use method='tsne'") from None
        return umap.UMAP(n_components=2, random_state=seed).fit_transform(reduced)
    perplexity = min(30.0, (len(reduced) - 1) / 3)
    return TSNE(n_components=2, perplexity=perplexity, init="pca", random_state=seed,
                max_iter=1000).fit_transform(reduced)
