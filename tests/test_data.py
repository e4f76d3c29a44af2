import os
import re
from pathlib import Path

import numpy as np
import pytest

import fixtures_data as fx
from initcourse import data, settings

SAMPLES_BESIDE_REPO_AT_IMPORT = data.SAMPLES_BESIDE_REPO

REAL_SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "datasets"
keras = settings.quiet_tensorflow()  # imported before any test points KERAS_HOME elsewhere


class FakeGetFile:
    """Stands in for keras.utils.get_file: no test touches the network.

    By default it fails the way Keras does offline; with ``writer`` it "downloads"
    by writing a fixture archive where Keras would put it.
    """

    def __init__(self, writer=None):
        self.writer, self.calls = writer, []

    def __call__(self, fname, origin, file_hash, extract, cache_dir, cache_subdir):
        self.calls.append(fname)
        if self.writer is None:
            raise Exception(f"URL fetch failure on {origin}: None -- [Errno -2] Name or service not known")
        folder = Path(cache_dir) / cache_subdir
        target = folder / (f"{fname}_archive" if extract else fname)
        self.writer(target)
        return str(folder / fname) if extract else str(target)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Empty Keras cache, no data folder, quick mode, no network."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "keras_home"))
    monkeypatch.delenv(data.DATA_ENV_VAR, raising=False)
    monkeypatch.delenv(settings.MODE_ENV_VAR, raising=False)
    monkeypatch.setattr(data, "SAMPLES_BESIDE_REPO", tmp_path / "no_such_folder")
    settings.set_mode(None)
    fake = FakeGetFile()
    monkeypatch.setattr(keras.utils, "get_file", fake)
    yield fake
    settings.set_mode(None)


@pytest.fixture
def cifar_sample(tmp_path, monkeypatch):
    folder = tmp_path / "samples"
    folder.mkdir()
    arrays = fx.write_cifar_sample(folder / "cifar10_sample.npz")
    monkeypatch.setitem(data.SAMPLE_SHA256, "cifar10_sample.npz", fx.sha256(folder / "cifar10_sample.npz"))
    return folder, arrays


@pytest.fixture
def imdb_sample(tmp_path, monkeypatch):
    folder = tmp_path / "samples"
    folder.mkdir(exist_ok=True)
    fx.write_imdb_sample(folder / "imdb_sample.csv.gz")
    monkeypatch.setitem(data.SAMPLE_SHA256, "imdb_sample.csv.gz", fx.sha256(folder / "imdb_sample.csv.gz"))
    return folder


def keras_datasets_dir(tmp_path):
    folder = tmp_path / "keras_home" / "datasets"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def patch_archive_hash(monkeypatch, key, path):
    fname, origin, _ = data.KERAS_ARCHIVES[key]
    monkeypatch.setitem(data.KERAS_ARCHIVES, key, (fname, origin, fx.sha256(path)))


@pytest.fixture
def cifar_cache(tmp_path, monkeypatch):
    path = keras_datasets_dir(tmp_path) / "cifar-10-batches-py-target_archive"
    arrays = fx.write_cifar_archive(path)
    patch_archive_hash(monkeypatch, "cifar10", path)
    return path, arrays


@pytest.fixture
def imdb_cache(tmp_path, monkeypatch):
    path = keras_datasets_dir(tmp_path) / "aclImdb_v1.tar.gz"
    fx.write_imdb_archive(path)
    patch_archive_hash(monkeypatch, "imdb", path)
    return path


def train_review_ids(ds):
    """The identity token (``train3``...) of every training review.

    Validation and test reviews have theirs out of vocabulary (id 1).
    """
    return [ds.vocabulary[i] for i in ds.x_train[:, fx.MARK_POSITION]]


def reviews_without_identity(*xs):
    """Each row's tokens with the identity token masked: distinct reviews stay distinct."""
    rows = np.concatenate(xs).copy()
    rows[:, fx.MARK_POSITION] = -1
    return [tuple(row) for row in rows]


def labels_from_text(ds, x):
    return (x[:, fx.MARK_POSITION + 1] == ds.vocabulary.index("great")).astype(int).tolist()


def class_counts(y, n_classes):
    return np.bincount(y, minlength=n_classes)


# --------------------------------------------------------------------------- CIFAR-10, offline sample


def test_cifar_offline_sample_splits(cifar_sample, capsys):
    folder, (x_train, y_train, x_test, y_test) = cifar_sample
    ds = data.load_cifar10(n_train=30, n_val=20, n_test=20, data_dir=folder)
    assert ds.source == "offline sample"
    assert ds.class_names == data.CIFAR10_CLASS_NAMES
    assert ds.x_train.shape == (30, 32, 32, 3) and ds.x_val.shape == (20, 32, 32, 3)
    assert ds.x_test.shape == (20, 32, 32, 3)
    for x, y in ((ds.x_train, ds.y_train), (ds.x_val, ds.y_val), (ds.x_test, ds.y_test)):
        assert x.dtype == np.float32 and x.min() >= 0.0 and x.max() <= 1.0
        assert y.dtype == np.int64 and y.shape == (len(x),)
    # balanced: 30 over 10 classes is exactly 3 each, 20 exactly 2 each
    assert class_counts(ds.y_train, 10).tolist() == [3] * 10
    assert class_counts(ds.y_val, 10).tolist() == [2] * 10
    assert class_counts(ds.y_test, 10).tolist() == [2] * 10
    # train and val are disjoint examples of the training part; test of the test part
    train_ids, val_ids, test_ids = (fx.image_ids(x) for x in (ds.x_train, ds.x_val, ds.x_test))
    assert len(set(train_ids)) == 30 and len(set(val_ids)) == 20 and len(set(test_ids)) == 20
    assert not set(train_ids) & set(val_ids)
    assert all(i < 65536 for i in [*train_ids, *val_ids]) and all(i >= 65536 for i in test_ids)
    # pixels and labels are those of the file, scaled by 1/255
    rows = train_ids
    np.testing.assert_array_equal(ds.x_train, x_train[rows].astype(np.float32) / 255)
    np.testing.assert_array_equal(ds.y_train, y_train[rows])
    out = capsys.readouterr().out
    assert out == "CIFAR-10 from the offline sample (cifar10_sample.npz): 30 train / 20 val / 20 test\n"


def test_cifar_subsets_are_deterministic_by_seed(cifar_sample):
    folder, _ = cifar_sample
    first = data.load_cifar10(n_train=20, n_val=10, n_test=10, seed=5, data_dir=folder)
    again = data.load_cifar10(n_train=20, n_val=10, n_test=10, seed=5, data_dir=folder)
    other = data.load_cifar10(n_train=20, n_val=10, n_test=10, seed=6, data_dir=folder)
    for name in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test"):
        np.testing.assert_array_equal(getattr(first, name), getattr(again, name))
    assert not np.array_equal(fx.image_ids(first.x_train), fx.image_ids(other.x_train))


def test_uneven_split_sizes_stay_balanced_and_use_every_example(cifar_sample):
    folder, _ = cifar_sample  # 6 train images per class
    ds = data.load_cifar10(n_train=33, n_val=27, n_test=13, data_dir=folder)
    for y, n in ((ds.y_train, 33), (ds.y_val, 27), (ds.y_test, 13)):
        counts = class_counts(y, 10)
        assert counts.sum() == n and counts.max() - counts.min() <= 1
    ids = np.concatenate([fx.image_ids(ds.x_train), fx.image_ids(ds.x_val)])
    assert sorted(ids) == list(range(60))  # all 60 training images, none twice


def test_cifar_quick_defaults_from_the_mode(tmp_path, monkeypatch):
    folder = tmp_path / "samples"
    folder.mkdir()
    fx.write_cifar_sample(folder / "cifar10_sample.npz", n_per_class_train=1000, n_per_class_test=200)
    monkeypatch.setitem(data.SAMPLE_SHA256, "cifar10_sample.npz", fx.sha256(folder / "cifar10_sample.npz"))
    ds = data.load_cifar10(data_dir=folder)
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == data.QUICK_SIZES["cifar10"] == (8000, 2000, 2000)
    assert len(data.load_cifar10(n_val=500, data_dir=folder).x_val) == 500


def test_environment_variable_names_the_data_folder(cifar_sample, monkeypatch):
    folder, _ = cifar_sample
    monkeypatch.setenv(data.DATA_ENV_VAR, str(folder))
    assert data.load_cifar10(n_train=10, n_val=10, n_test=10).source == "offline sample"


def test_samples_beside_the_repository_are_found(cifar_sample, monkeypatch):
    folder, _ = cifar_sample
    monkeypatch.setattr(data, "SAMPLES_BESIDE_REPO", folder)
    assert data.load_cifar10(n_train=10, n_val=10, n_test=10).source == "offline sample"


def test_sample_with_a_wrong_checksum_is_refused(cifar_sample, monkeypatch):
    folder, _ = cifar_sample
    monkeypatch.setitem(data.SAMPLE_SHA256, "cifar10_sample.npz", "0" * 64)
    with pytest.raises(data.CorruptDatasetError, match=r"cifar10_sample\.npz is damaged or incomplete.*fresh copy"):
        data.load_cifar10(n_train=10, n_val=10, n_test=10, data_dir=folder)


def test_truncated_sample_is_refused(cifar_sample, monkeypatch):
    folder, _ = cifar_sample
    path = folder / "cifar10_sample.npz"
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(data.CorruptDatasetError, match="damaged or incomplete"):
        data.load_cifar10(n_train=10, n_val=10, n_test=10, data_dir=folder)
    # Even a file whose checksum were right is never half-parsed.
    monkeypatch.setitem(data.SAMPLE_SHA256, "cifar10_sample.npz", fx.sha256(path))
    with pytest.raises(data.CorruptDatasetError, match=r"cifar10_sample\.npz could not be read"):
        data.load_cifar10(n_train=10, n_val=10, n_test=10, data_dir=folder)


def test_sample_with_wrong_arrays_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "cifar10_sample.npz"
    np.savez(path, x_train=np.zeros((10, 32, 32), np.uint8), y_train=np.zeros(10, np.uint8),
             x_test=np.zeros((10, 32, 32, 3), np.uint8), y_test=np.zeros(10, np.uint8))
    monkeypatch.setitem(data.SAMPLE_SHA256, "cifar10_sample.npz", fx.sha256(path))
    with pytest.raises(data.CorruptDatasetError, match="unexpected arrays"):
        data.load_cifar10(n_train=5, n_val=5, n_test=5, data_dir=tmp_path)


def test_asking_for_more_than_the_sample_holds(cifar_sample):
    folder, _ = cifar_sample
    with pytest.raises(ValueError, match=r"asked for 50 \+ 20 examples, only 60 available"):
        data.load_cifar10(n_train=50, n_val=20, n_test=10, data_dir=folder)


# --------------------------------------------------------------------------- sources and their order


def test_no_source_names_both_ways_to_get_the_data(isolated):
    with pytest.raises(data.DatasetUnavailableError) as info:
        data.load_cifar10()
    message = str(info.value)
    assert "download failed" in message and "connect to the internet" in message
    assert data.DATA_ENV_VAR in message and "data_dir" in message and "cifar10_sample.npz" in message
    assert isolated.calls == ["cifar-10-batches-py-target"]  # one bounded try, same call as Keras'


def test_offline_source_never_tries_the_network(isolated, tmp_path):
    with pytest.raises(data.DatasetUnavailableError, match="has no cifar10_sample.npz.*connect to the internet"):
        data.load_cifar10(source="offline", data_dir=tmp_path)
    with pytest.raises(data.DatasetUnavailableError, match="no offline data folder"):
        data.load_imdb(source="offline")
    assert isolated.calls == []


def test_auto_prefers_the_keras_cache_then_the_sample(cifar_sample, cifar_cache, isolated, capsys):
    folder, _ = cifar_sample
    ds = data.load_cifar10(n_train=20, n_val=10, n_test=10, data_dir=folder)
    assert ds.source == "keras"
    assert "Keras cache (datasets/cifar-10-batches-py-target_archive)" in capsys.readouterr().out
    offline = data.load_cifar10(n_train=20, n_val=10, n_test=10, data_dir=folder, source="offline")
    assert offline.source == "offline sample"
    cifar_cache[0].unlink()
    assert data.load_cifar10(n_train=20, n_val=10, n_test=10, data_dir=folder).source == "offline sample"
    assert isolated.calls == []


def test_full_mode_does_not_fall_back_to_the_sample(cifar_sample, isolated):
    folder, _ = cifar_sample
    settings.set_mode("full")
    with pytest.raises(data.DatasetUnavailableError, match="full mode needs the complete dataset"):
        data.load_cifar10(data_dir=folder)
    assert len(isolated.calls) == 1
    # the whole sample on explicit request: a tenth of its 60 training images for validation
    ds = data.load_cifar10(data_dir=folder, source="offline")
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (54, 6, 30)


def test_source_keras_downloads_with_keras_get_file(cifar_sample, monkeypatch, tmp_path, capsys):
    folder, _ = cifar_sample
    fake = FakeGetFile(writer=fx.write_cifar_archive)
    monkeypatch.setattr(keras.utils, "get_file", fake)
    written = tmp_path / "expected.tar.gz"
    fx.write_cifar_archive(written)
    patch_archive_hash(monkeypatch, "cifar10", written)
    ds = data.load_cifar10(n_train=20, n_val=10, n_test=10, source="keras", data_dir=folder)
    assert ds.source == "keras" and fake.calls == ["cifar-10-batches-py-target"]
    assert (keras_datasets_dir(tmp_path) / "cifar-10-batches-py-target_archive").is_file()
    assert "just downloaded" in capsys.readouterr().out


# --------------------------------------------------------------------------- CIFAR-10, Keras cache


def test_cifar_keras_cache_full_mode_is_the_whole_dataset(cifar_cache):
    _, (x_train, y_train, x_test, y_test) = cifar_cache  # 100 train, 20 test images
    settings.set_mode("full")
    ds = data.load_cifar10()
    assert ds.source == "keras"
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (90, 10, 20)
    assert sorted(np.concatenate([fx.image_ids(ds.x_train), fx.image_ids(ds.x_val)])) == list(range(100))
    # exact pixels: the CHW rows of the batches come back as HWC images
    rows = fx.image_ids(ds.x_train)
    np.testing.assert_array_equal(ds.x_train, x_train[rows] / np.float32(255))
    np.testing.assert_array_equal(ds.y_train, y_train[rows])
    np.testing.assert_array_equal(ds.x_test, x_test[fx.image_ids(ds.x_test) - 65536] / np.float32(255))


def test_broken_keras_cache_file_is_reported(cifar_cache):
    path, _ = cifar_cache
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(data.CorruptDatasetError, match="damaged or incomplete.*delete it from the Keras cache"):
        data.load_cifar10(n_train=10, n_val=10, n_test=10)


def test_keras_archive_missing_a_batch_is_reported(tmp_path, monkeypatch):
    path = keras_datasets_dir(tmp_path) / "cifar-10-batches-py-target_archive"
    fx.write_cifar_archive(path, skip=("data_batch_3",))
    patch_archive_hash(monkeypatch, "cifar10", path)
    with pytest.raises(data.CorruptDatasetError, match="could not be read.*missing data_batch_3"):
        data.load_cifar10(n_train=10, n_val=10, n_test=10)


def test_batches_may_only_unpickle_numpy_arrays(tmp_path, monkeypatch):
    import pickle

    path = keras_datasets_dir(tmp_path) / "cifar-10-batches-py-target_archive"
    fx.write_cifar_archive(path, extra=pickle.dumps({b"data": os.getcwd, b"labels": []}))
    patch_archive_hash(monkeypatch, "cifar10", path)
    with pytest.raises(data.CorruptDatasetError, match="refusing to load posix.getcwd"):
        data.load_cifar10(n_train=10, n_val=10, n_test=10)


# --------------------------------------------------------------------------- IMDB


def test_imdb_offline_sample(imdb_sample, capsys):
    ds = data.load_imdb(n_train=8, n_val=6, n_test=4, vocab_size=100, sequence_length=30, data_dir=imdb_sample)
    assert ds.source == "offline sample" and ds.class_names == ("negative", "positive")
    assert capsys.readouterr().out == "IMDB from the offline sample (imdb_sample.csv.gz): 8 train / 6 val / 4 test\n"
    for x, y, n in ((ds.x_train, ds.y_train, 8), (ds.x_val, ds.y_val, 6), (ds.x_test, ds.y_test, 4)):
        assert x.shape == (n, 30) and x.dtype == np.int32 and y.dtype == np.int64
        assert class_counts(y, 2).tolist() == [n // 2, n // 2]
        assert labels_from_text(ds, x) == y.tolist()  # labels follow their reviews
    train = train_review_ids(ds)
    assert len(set(train)) == 8 and all(t.startswith("train") for t in train)
    assert len(set(reviews_without_identity(ds.x_train, ds.x_val))) == 14  # train, val disjoint


def test_imdb_vocabulary_is_fitted_on_the_training_reviews_only(imdb_sample):
    ds = data.load_imdb(n_train=8, n_val=6, n_test=4, vocab_size=100, sequence_length=30, data_dir=imdb_sample)
    marks = {t for t in ds.vocabulary if t.startswith(("train", "test"))}
    assert marks == set(train_review_ids(ds))  # no validation or test review leaks in
    assert np.all(ds.x_val[:, fx.MARK_POSITION] == 1) and np.all(ds.x_test[:, fx.MARK_POSITION] == 1)
    assert ds.vocabulary[:2] == ("", "[UNK]")
    assert ds.vocabulary == tuple(ds.vectorizer.get_vocabulary())
    # standardisation: lower case, no <br /> (it would leave "br"), no punctuation
    assert "br" not in ds.vocabulary and "great" in ds.vocabulary and "great!" not in ds.vocabulary
    assert np.asarray(ds.vectorizer(["GREAT!<br />Awful."]))[0, :3].tolist() == [
        ds.vocabulary.index("great"), ds.vocabulary.index("awful"), 0]


def test_imdb_vocab_size_and_padding(imdb_sample):
    ds = data.load_imdb(n_train=16, n_val=2, n_test=8, vocab_size=10, sequence_length=40, data_dir=imdb_sample)
    assert len(ds.vocabulary) == 10 and ds.x_train.max() < 10
    # 14-token reviews padded with zeros to 40 (out-of-vocabulary words are 1, not 0)
    assert np.all(ds.x_train[:, :14] > 0) and np.all(ds.x_train[:, 14:] == 0)
    short = data.load_imdb(n_train=16, n_val=2, n_test=8, sequence_length=5, data_dir=imdb_sample)
    assert short.x_train.shape == (16, 5) and np.all(short.x_train > 0)  # cut, not padded


def test_imdb_keras_cache_full_mode(imdb_cache):
    settings.set_mode("full")
    ds = data.load_imdb(vocab_size=200, sequence_length=30)
    assert ds.source == "keras"
    assert (len(ds.x_train), len(ds.x_val), len(ds.x_test)) == (18, 2, 8)
    for x, y in ((ds.x_train, ds.y_train), (ds.x_val, ds.y_val), (ds.x_test, ds.y_test)):
        assert labels_from_text(ds, x) == y.tolist()
    assert len(set(reviews_without_identity(ds.x_train, ds.x_val))) == 20  # every training review once
    assert set(train_review_ids(ds)) <= {f"train{i}" for i in range(20)}


def test_imdb_both_sources_tokenise_alike(imdb_cache, imdb_sample):
    kwargs = dict(n_train=12, n_val=4, n_test=8, vocab_size=200, sequence_length=30, seed=3)
    from_cache = data.load_imdb(**kwargs)
    from_sample = data.load_imdb(source="offline", data_dir=imdb_sample, **kwargs)
    assert (from_cache.source, from_sample.source) == ("keras", "offline sample")
    assert from_cache.vocabulary == from_sample.vocabulary
    for name in ("x_train", "y_train", "x_val", "x_test"):
        np.testing.assert_array_equal(getattr(from_cache, name), getattr(from_sample, name))


def test_imdb_sample_with_wrong_columns_is_refused(tmp_path, monkeypatch):
    import gzip

    path = tmp_path / "imdb_sample.csv.gz"
    with gzip.open(path, "wt") as f:
        f.write("split,stars,text\ntrain,1,good\n")
    monkeypatch.setitem(data.SAMPLE_SHA256, "imdb_sample.csv.gz", fx.sha256(path))
    with pytest.raises(data.CorruptDatasetError, match=r"imdb_sample\.csv\.gz could not be read"):
        data.load_imdb(data_dir=tmp_path)


# --------------------------------------------------------------------------- bad arguments


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"n_train": 0}, ValueError, "n_train must be a positive integer, got 0"),
        ({"n_val": 2.5}, TypeError, "n_val must be a positive integer"),
        ({"n_test": -1}, ValueError, "n_test must be a positive integer"),
        ({"source": "web"}, ValueError, "source must be one of 'auto', 'keras', 'offline', got 'web'"),
        ({"seed": -1}, ValueError, "seed must be a non-negative integer"),
        ({"data_dir": 3}, TypeError, "data_dir must be a folder path"),
    ],
)
def test_bad_arguments(isolated, kwargs, error, message):
    with pytest.raises(error, match=message):
        data.load_cifar10(**kwargs)  # before looking for any data
    assert isolated.calls == []


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"vocab_size": 0}, ValueError, "vocab_size must be a positive integer, got 0"),
        ({"vocab_size": 2}, ValueError, "vocab_size must be at least 3"),
        ({"sequence_length": True}, TypeError, "sequence_length must be a positive integer"),
        ({"n_train": 0}, ValueError, "n_train must be a positive integer"),
    ],
)
def test_bad_imdb_arguments(isolated, kwargs, error, message):
    with pytest.raises(error, match=message):
        data.load_imdb(**kwargs)  # before looking for any data
    assert isolated.calls == []


def test_full_mode_validation_must_leave_training_examples(cifar_sample):
    folder, _ = cifar_sample
    settings.set_mode("full")
    with pytest.raises(ValueError, match="n_val must be smaller than the 60 training examples"):
        data.load_cifar10(n_val=60, source="offline", data_dir=folder)


# --------------------------------------------------------------------------- the real samples


@pytest.mark.skipif(not REAL_SAMPLES.is_dir(), reason="the offline samples are not beside the repository")
def test_real_samples_load(capsys):
    cifar = data.load_cifar10(n_train=200, n_val=100, n_test=100, source="offline", data_dir=REAL_SAMPLES)
    assert class_counts(cifar.y_train, 10).tolist() == [20] * 10
    # Channel means of the whole sample (its README): 125.8 / 123.2 / 114.0 on 0..255.
    # The mean of one image's channel varies between images with a std below the pixel
    # std (about 63), so the mean over 200 images has a standard error below
    # 63 / sqrt(200) = 4.5 grey levels: 15 levels is more than 3 standard errors.
    means = cifar.x_train.mean(axis=(0, 1, 2)) * 255
    np.testing.assert_allclose(means, [125.8, 123.2, 114.0], atol=15)
    imdb = data.load_imdb(n_train=200, n_val=50, n_test=50, source="offline", data_dir=REAL_SAMPLES)
    assert imdb.x_train.shape == (200, 200) and class_counts(imdb.y_test, 2).tolist() == [25, 25]
    assert {"the", "movie", "film"} <= set(imdb.vocabulary) and "br" not in imdb.vocabulary
    out = capsys.readouterr().out.splitlines()
    assert out == [
        "CIFAR-10 from the offline sample (cifar10_sample.npz): 200 train / 100 val / 100 test",
        "IMDB from the offline sample (imdb_sample.csv.gz): 200 train / 50 val / 50 test",
    ]


def test_pad_before_moves_the_padding_in_front_keeping_the_word_order():
    tokens = np.array([[5, 7, 9, 0, 0], [1, 2, 3, 4, 6], [0, 0, 0, 0, 0], [8, 1, 0, 0, 0]], dtype=np.int32)
    moved = data.pad_before(tokens)
    assert moved.tolist() == [[0, 0, 5, 7, 9], [1, 2, 3, 4, 6], [0, 0, 0, 0, 0], [0, 0, 0, 8, 1]]
    assert moved.dtype == tokens.dtype and moved.flags["C_CONTIGUOUS"]
    keras = settings.quiet_tensorflow()
    ragged = [[5, 7, 9], [1, 2, 3, 4, 6], [], [8, 1]]
    assert moved.tolist() == keras.utils.pad_sequences(ragged, maxlen=5, padding="pre").tolist()
    with pytest.raises(ValueError, match="tokens must be a 2-D integer array"):
        data.pad_before(np.zeros(5, dtype=np.int32))
    with pytest.raises(ValueError, match="tokens must be a 2-D integer array"):
        data.pad_before(np.zeros((2, 5)))


def test_imdb_padding_before_the_review(imdb_sample):
    kwargs = dict(n_train=16, n_val=2, n_test=8, vocab_size=10, sequence_length=40, data_dir=imdb_sample)
    post = data.load_imdb(**kwargs)
    pre = data.load_imdb(padding="pre", **kwargs)
    # 14-token reviews: 26 padding tokens first, then the same words in the same order
    assert np.all(pre.x_train[:, :26] == 0) and np.all(pre.x_train[:, 26:] == post.x_train[:, :14])
    for split in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(pre, f"x_{split}"), data.pad_before(getattr(post, f"x_{split}")))
        np.testing.assert_array_equal(getattr(pre, f"y_{split}"), getattr(post, f"y_{split}"))


def test_imdb_padding_must_be_pre_or_post(isolated):
    with pytest.raises(ValueError, match="padding must be one of 'post', 'pre', got 'left'"):
        data.load_imdb(padding="left")
    assert isolated.calls == []


# --------------------------------------------------------------------------- bad input


def test_corrupt_keras_cache_falls_back_to_the_offline_sample_with_auto(cifar_cache, cifar_sample):
    path, _ = cifar_cache
    folder, _ = cifar_sample
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.warns(UserWarning, match="damaged or incomplete.*offline sample"):
        dataset = data.load_cifar10(n_train=10, n_val=10, n_test=10, data_dir=folder)
    assert dataset.source == "offline sample"
    with pytest.raises(data.CorruptDatasetError):  # asked for the Keras archive: no fallback
        data.load_cifar10(n_train=10, n_val=10, n_test=10, data_dir=folder, source="keras")


def test_empty_data_dir_is_refused():
    with pytest.raises(ValueError, match="data_dir must name a folder"):
        data.load_cifar10(data_dir="")


def test_missing_sample_message_names_the_whole_folder(tmp_path):
    folder = tmp_path / "somewhere" / "samples"
    folder.mkdir(parents=True)
    with pytest.raises(data.DatasetUnavailableError, match=re.escape(str(folder))):
        data.load_cifar10(source="offline", data_dir=folder)


def test_offline_samples_are_looked_for_beside_the_repository():
    # The value the module computed at import, before any test's fixture replaced it.
    repository = Path(__file__).resolve().parent.parent
    assert SAMPLES_BESIDE_REPO_AT_IMPORT == repository.parent / "shared" / "datasets"
