"""digits_lt: the long-tailed profile, its fixed split, its images, and prepare() on it."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

from lmf.core.errors import ConfigError
from lmf.data import prepare, read_index
from lmf.data.sources.digits_lt import load_images


def test_training_counts_follow_the_exponential_profile():
    index = read_index("digits_lt")
    train = index[index["split"] == "train"]
    counts = np.bincount(train["label"], minlength=10)
    n_max = int(np.bincount(load_digits().target).min()) - 60
    expected = [int(n_max * 15 ** (-i / 9)) for i in range(10)]
    assert counts.tolist() == expected
    assert 5 <= counts.min() <= 10  # a handful in the rarest class
    for part in ("val", "test"):
        assert np.bincount(index.loc[index["split"] == part, "label"]).tolist() == [30] * 10


def test_index_columns_ids_and_class_names():
    index = read_index("digits_lt", imbalance=10, val_per_class=20, test_per_class=25)
    assert list(index.columns) == ["path", "label", "class_name", "group", "split"]
    assert index.attrs["class_names"] == [str(d) for d in range(10)]
    assert (index["class_name"] == index["label"].astype(str)).all()
    assert index["path"].is_unique and index["path"].str.fullmatch(r"digits/\d{4}").all()
    targets = load_digits().target
    positions = index["path"].str[7:].astype(int)
    assert (targets[positions] == index["label"]).all()
    assert (index["split"] == "val").sum() == 200 and (index["split"] == "test").sum() == 250


def test_split_is_fixed_by_split_seed():
    a, b = read_index("digits_lt"), read_index("digits_lt")
    assert a.equals(b)
    c = read_index("digits_lt", split_seed=1)
    assert not a["path"].equals(c["path"])


@pytest.mark.parametrize("bad", [{"imbalance": 0.5}, {"val_per_class": 0},
                                 {"test_per_class": 200}, {"colour": True}])
def test_bad_parameters_are_config_errors(bad):
    with pytest.raises(ConfigError):
        read_index("digits_lt", **bad)


def test_images_scale_0_16_to_uint8_and_repeat_channels():
    index = read_index("digits_lt").iloc[:5]
    native = load_images(index, 8)
    digits = load_digits().images
    positions = index["path"].str[7:].astype(int).to_numpy()
    assert native.dtype == np.uint8 and native.shape == (5, 8, 8, 3)
    assert np.array_equal(native[..., 0], np.rint(digits[positions] * 255 / 16).astype(np.uint8))
    assert np.array_equal(native[..., 0], native[..., 2])
    large = load_images(index, 32)
    assert large.shape == (5, 32, 32, 3)
    # Upsampling keeps the picture: block means at 32 px follow the 8 px pixels closely.
    blocks = large[..., 0].reshape(5, 8, 4, 8, 4).mean(axis=(2, 4))
    assert np.corrcoef(blocks.ravel(), native[..., 0].ravel())[0, 1] > 0.95


def test_prepare_digits(data_home):
    data = prepare("digits_lt", size=16, progress=False)
    assert data.class_names == [str(d) for d in range(10)] and data.num_classes == 10
    train, val, test = (data.part(p) for p in ("train", "val", "test"))
    assert (len(train), len(val), len(test)) == (413, 300, 300)
    assert data.class_counts().tolist() == np.bincount(train.labels).tolist()
    assert data.class_counts("test").tolist() == [30] * 10
    assert data.class_counts().dtype == np.int64 and train.labels.dtype == np.int64
    assert train.images.shape == (413, 16, 16, 3) and train.images.dtype == np.uint8
    assert isinstance(train.images, np.memmap)  # contiguous part: no copy
    assert set(train.ids).isdisjoint(val.ids) and set(val.ids).isdisjoint(test.ids)
    assert np.array_equal(test.images, load_images(data.index[data.index["split"] == "test"], 16))
    assert data.source_path(train.ids[0]) is None
    assert str(data.cache_dir).startswith(str(data_home / "cache"))


def test_prepare_reuses_the_cache(data_home):
    first = prepare("digits_lt", size=8, progress=False)
    written = (first.cache_dir / "images.npy").stat().st_mtime_ns
    again = prepare("digits_lt", size=8, progress=False)
    assert again.cache_dir == first.cache_dir
    assert (again.cache_dir / "images.npy").stat().st_mtime_ns == written
    explicit_default = prepare("digits_lt", size=8, progress=False, imbalance=15)
    assert explicit_default.cache_dir == first.cache_dir
    other = prepare("digits_lt", size=8, progress=False, imbalance=5)
    assert other.cache_dir != first.cache_dir
    assert other.class_counts()[-1] == int(114 / 5)
