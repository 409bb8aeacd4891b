"""lmf.classification.features: separation scores against values worked out by hand, minority classes, embeddings."""

from __future__ import annotations

import builtins

import numpy as np
import pytest

from lmf.classification.features import embed, minority_classes, separation
from lmf.core.errors import ConfigError


def test_silhouette_of_two_pairs_on_a_line_by_hand():
    # class 0 at 0 and 1, class 1 at 10 and 11: for x = 0, a = 1 (its partner), b = (10 + 11) / 2
    features = np.array([[0.0], [1.0], [10.0], [11.0]])
    table = separation(features, [0, 0, 1, 1], k=1).set_index("label")
    s0 = (10.5 - 1) / 10.5   # x = 0
    s1 = (9.5 - 1) / 9.5     # x = 1: b = (9 + 10) / 2
    assert table.loc[0, "silhouette"] == pytest.approx((s0 + s1) / 2)
    assert table.loc[1, "silhouette"] == pytest.approx((s1 + s0) / 2)  # mirror image
    assert table.loc[0, "n"] == 2


def test_knn_purity_by_hand():
    # labels alternate on a line: every nearest neighbour has the other label
    line = np.arange(4.0)[:, None]
    alternating = separation(line, [0, 1, 0, 1], k=1)
    assert alternating.knn_purity.tolist() == [0.0, 0.0]
    # k = 2: x=0 sees 1 (other), 2 (own) -> 1/2; x=3 sees 2 (other), 1 (own) -> 1/2;
    # x=1 sees 0 and 2 (both other) -> 0; x=2 sees 1 and 3 (both other) -> 0
    table = separation(line, [0, 1, 0, 1], k=2).set_index("label")
    assert table.loc[0, "knn_purity"] == pytest.approx((0.5 + 0.0) / 2)
    assert table.loc[1, "knn_purity"] == pytest.approx((0.0 + 0.5) / 2)
    far = separation(np.array([[0.0], [0.1], [0.2], [50.0], [50.1], [50.2]]), [0, 0, 0, 1, 1, 1],
                     k=2)
    assert far.knn_purity.tolist() == [1.0, 1.0]


def test_knn_purity_ignores_the_sample_itself_on_exact_duplicates():
    duplicates = np.array([[0.0], [0.0], [5.0], [5.0]])
    assert separation(duplicates, [0, 0, 1, 1], k=1).knn_purity.tolist() == [1.0, 1.0]


def test_scatter_ratio_by_hand():
    # class means at -2 and +2 (global mean 0): between = 4; each class spreads by 1 around its
    # mean (mean squared distance 1) -> 4. A third, wider class: mean 0 (between 0) -> 0.
    features = np.array([[-3.0, 0], [-1.0, 0], [1.0, 0], [3.0, 0]])
    table = separation(features, ["a", "a", "b", "b"], k=1).set_index("label")
    assert table.scatter_ratio.tolist() == pytest.approx([4.0, 4.0])
    wide = np.array([[-3.0, 0], [-1.0, 0], [1.0, 0], [3.0, 0], [0, 5.0], [0, -5.0]])
    table = separation(wide, ["a", "a", "b", "b", "c", "c"], k=1).set_index("label")
    assert table.loc["c", "scatter_ratio"] == pytest.approx(0.0)  # its mean is the global mean
    assert table.loc["a", "scatter_ratio"] == pytest.approx(4.0)


@pytest.mark.parametrize(("features", "labels", "k", "message"), [
    (np.zeros((4, 2)), [0, 0, 0, 0], 1, "at least two classes"),
    (np.zeros((4, 2)), [0, 1], 1, "one label per row"),
    (np.eye(4), [0, 1, 0, 1], 4, "k must be below"),
    (np.eye(4), [0, 1, 0, 1], 0, "k must be an integer >= 1"),
])
def test_bad_inputs_are_config_errors(features, labels, k, message):
    with pytest.raises(ConfigError, match=message):
        separation(features, labels, k=k)


def test_minority_classes_are_the_rarest_third():
    counts = {"a": 100, "b": 5, "c": 50, "d": 1, "e": 7, "f": 30}
    assert minority_classes(counts) == ["d", "b"]
    assert minority_classes({"x": 3, "y": 9}) == ["x"]


def test_tsne_is_deterministic_given_the_seed_and_separates_clusters():
    rng = np.random.default_rng(0)
    features = np.concatenate([rng.normal(0, 1, (30, 64)), rng.normal(12, 1, (30, 64))])
    first, again = embed(features, seed=3), embed(features, seed=3)
    assert first.shape == (60, 2)
    np.testing.assert_array_equal(first, again)
    # the two clusters stay apart in the picture: every point's nearest point is of its cluster
    labels = np.repeat([0, 1], 30)
    distances = np.linalg.norm(first[:, None] - first[None], axis=2) + np.eye(60) * 1e9
    assert (labels[distances.argmin(axis=1)] == labels).all()


def test_umap_without_umap_learn_says_how_to_get_it(monkeypatch):
    real_import = builtins.__import__

    def no_umap(name, *args, **kwargs):
        if name == "umap":
            raise ImportError("No module named 'umap'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_umap)
    with pytest.raises(ConfigError, match="umap-learn"):
        embed(np.random.default_rng(0).normal(size=(20, 8)), method="umap")
    with pytest.raises(ConfigError, match="valid choices: tsne, umap"):
        embed(np.zeros((5, 2)), method="pca")


def test_embedding_runs_on_one_thread(monkeypatch):
    import threadpoolctl

    import lmf.classification.features

    seen = []
    real = lmf.classification.features.TSNE

    class Recording(real):
        def fit_transform(self, X, y=None):
            seen.extend(pool["num_threads"] for pool in threadpoolctl.threadpool_info())
            return super().fit_transform(X, y)

    monkeypatch.setattr(lmf.classification.features, "TSNE", Recording)
    embed(np.random.default_rng(0).normal(size=(40, 8)))
    assert seen and set(seen) == {1}


def test_silhouette_is_undefined_when_every_sample_is_alone_in_its_class():
    table = separation(np.array([[0.0], [1.0], [5.0]]), [0, 1, 2], k=1)
    assert table.silhouette.isna().all()
    assert table.knn_purity.tolist() == [0.0, 0.0, 0.0]  # no neighbour shares a label
