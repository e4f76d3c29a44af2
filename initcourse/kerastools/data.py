"""The two real datasets of the case studies: CIFAR-10 images and IMDB reviews.

:func:`load_cifar10` and :func:`load_imdb` return a :class:`Dataset` with
train / validation / test splits, ready for ``model.fit``. They read the data
from one of two *sources*:

``"keras"``
    The complete datasets in the Keras cache (``$KERAS_HOME`` or ``~/.keras``,
    then ``datasets/``), downloaded there with ``keras.utils.get_file`` when
    missing and the network allows. CIFAR-10 is the archive that
    ``keras.datasets.cifar10.load_data()`` keeps
    (``datasets/cifar-10-batches-py-target_archive``); IMDB is the raw Large Movie
    Review archive ``datasets/aclImdb_v1.tar.gz``, the one Keras' text
    classification examples start from (the reviews are read straight from the
    archive, nothing is unpacked).
``"offline"``
    The real offline samples ``cifar10_sample.npz`` (10,000 train / 2,000 test
    images) and ``imdb_sample.csv.gz`` (5,000 train / 2,000 test reviews), looked
    for in the ``data_dir`` argument, else the folder named by the environment
    variable ``INITCOURSE_DATA``, else ``../shared/datasets/`` beside the
    repository (when it exists).

With ``source="auto"`` (the default) the order is what is fastest offline and
still right online:

1. the Keras cache, if the archive is there (no network needed);
2. in quick mode, the offline sample, if its folder is there (no network
   needed; the quick sizes are the sample's sizes);
3. a download into the Keras cache.

Full mode (:func:`initcourse.settings.get_mode`) asks for the complete dataset, so
it skips step 2: offline and without the Keras cache it fails with a message
saying how to get the data (or pass ``source="offline"`` to use the whole sample).

Sizes: quick mode defaults to 8,000 / 2,000 / 2,000 CIFAR-10 images and 4,000 /
1,000 / 2,000 IMDB reviews (train / validation / test); full mode to the whole
source, with a tenth of its training part held out for validation. Explicit
``n_train``, ``n_val``, ``n_test`` override the defaults. Every split is balanced
by class and chosen by ``seed``; validation examples come from the training part
and never overlap the training examples; test examples come from the test part.

Integrity: sample files and Keras archives are checked against their published
SHA-256 before they are read; a damaged file raises :class:`CorruptDatasetError`
naming the file and what to do. The CIFAR-10 batches are pickles by format: they
are read with an unpickler that can rebuild NumPy arrays and nothing else.
``.npz`` files are read with ``allow_pickle=False``.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import pickle
import re
import socket
import string
import tarfile
import warnings
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from .. import settings
from .._validation import as_generator, check_choice, check_positive_int

__all__ = [
    "Dataset",
    "DatasetUnavailableError",
    "CorruptDatasetError",
    "load_cifar10",
    "load_imdb",
    "CIFAR10_CLASS_NAMES",
    "IMDB_CLASS_NAMES",
]

SOURCES = ("auto", "keras", "offline")
DATA_ENV_VAR = "INITCOURSE_DATA"
SAMPLES_BESIDE_REPO = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"

CIFAR10_CLASS_NAMES = (
    "airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck",
)
IMDB_CLASS_NAMES = ("negative", "positive")

#: SHA-256 of the offline sample files (from the samples' README).
SAMPLE_SHA256 = {
    "cifar10_sample.npz": "48c16fdc752652982b7305a37fa1a04d7cacf7aa861229579673a4b6e692153a",
    "imdb_sample.csv.gz": "3069c99c60a1a67b543ae18c135a8080011e39a3b3f3dfc6832b0bb1758c7056",
}

#: The Keras-cache archives: file name under ``datasets/``, URL, SHA-256.
KERAS_ARCHIVES = {
    "cifar10": (
        "cifar-10-batches-py-target_archive",
        "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
        "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
    ),
    "imdb": (
        "aclImdb_v1.tar.gz",
        "https://ai.stanford.edu/~amaas/data/sentiment/aclImdb_v1.tar.gz",
        "c40f74a18d3b61f90feba1e17730e0d38e8b97c05fde7008942e91923d1658fe",
    ),
}

#: Quick-mode (n_train, n_val, n_test); full mode uses the whole source.
QUICK_SIZES = {"cifar10": (8000, 2000, 2000), "imdb": (4000, 1000, 2000)}

DOWNLOAD_SOCKET_TIMEOUT = 20.0  # seconds without any byte before a download gives up


class DatasetUnavailableError(RuntimeError):
    """Neither the Keras cache nor an offline sample could provide the data."""


class CorruptDatasetError(ValueError):
    """A data file exists but is damaged, truncated or not what it should be."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train / validation / test splits of one dataset.

    Attributes
    ----------
    x_train, y_train, x_val, y_val, x_test, y_test : numpy.ndarray
        Inputs (CIFAR-10: float32 images in [0, 1], shape (n, 32, 32, 3); IMDB:
        int32 token ids, shape (n, sequence_length), 0 = padding, 1 = unknown word)
        and int64 labels, shape (n,).
    class_names : tuple of str
        Name of each label value.
    source : str
        ``"keras"`` or ``"offline sample"``.
    vectorizer : keras.layers.TextVectorization or None
        IMDB only: the layer that turned the reviews into token ids, adapted on the
        training reviews (use it to encode new text).
    vocabulary : tuple of str
        IMDB only: the vectorizer's vocabulary (index ``i`` is token id ``i``).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple
    source: str
    vectorizer: object = field(default=None, repr=False)
    vocabulary: tuple = field(default=(), repr=False)

    def __repr__(self) -> str:
        return (
            f"Dataset(source={self.source!r}, train={self.x_train.shape}, "
            f"val={self.x_val.shape}, test={self.x_test.shape}, classes={len(self.class_names)})"
        )


# --------------------------------------------------------------------------- locations


def _keras_datasets_dir() -> Path:
    """``$KERAS_HOME/datasets`` or ``~/.keras/datasets`` (Keras' own rule)."""
    home = os.environ.get("KERAS_HOME") or os.path.join(os.path.expanduser("~"), ".keras")
    return Path(home) / "datasets"


def _sample_dir(data_dir) -> Path | None:
    """The folder to look in for the offline samples, or None if there is none."""
    if data_dir is not None:
        if not str(data_dir).strip():
            raise ValueError("data_dir must name a folder, got an empty path (None: the default folder)")
        return Path(data_dir)
    if os.environ.get(DATA_ENV_VAR):
        return Path(os.environ[DATA_ENV_VAR])
    return SAMPLES_BESIDE_REPO if SAMPLES_BESIDE_REPO.is_dir() else None


# --------------------------------------------------------------------------- integrity


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _verify(path: Path, expected: str, remedy: str) -> None:
    if _sha256(path) != expected:
        raise CorruptDatasetError(
            f"{path} is damaged or incomplete (its SHA-256 is not the published one, "
            f"{expected[:12]}...): {remedy}"
        )


def _corrupt(path: Path, remedy: str, reason) -> CorruptDatasetError:
    return CorruptDatasetError(f"{path} could not be read ({reason}): {remedy}")


# --------------------------------------------------------------------------- readers
# Each reader returns (train_inputs, train_labels, test_inputs, test_labels), the
# whole train and test parts of its source, labels as int64.


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that can rebuild NumPy arrays and nothing else."""

    _ALLOWED = {
        ("numpy", "ndarray"),
        ("numpy", "dtype"),
        ("numpy.core.multiarray", "_reconstruct"),  # spelling in the original batches
        ("numpy._core.multiarray", "_reconstruct"),
    }

    def find_class(self, module, name):
        if (module, name) not in self._ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _read_cifar_batch(raw: bytes):
    batch = _ArrayUnpickler(io.BytesIO(raw), encoding="bytes").load()
    images = np.asarray(batch[b"data"], dtype=np.uint8).reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)
    labels = np.asarray(batch[b"labels"], dtype=np.int64)
    if len(images) != len(labels):
        raise ValueError("images and labels differ in number")
    return images, labels


def _read_cifar10_archive(path: Path, remedy: str):
    """The python-version CIFAR-10 archive, read without unpacking it."""
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    found = {}
    try:
        with tarfile.open(path, "r|gz") as archive:
            for member in archive:
                name = member.name.rsplit("/", 1)[-1]
                if member.isfile() and name in names:
                    found[name] = _read_cifar_batch(archive.extractfile(member).read())
    except (tarfile.TarError, OSError, EOFError, pickle.UnpicklingError, KeyError, ValueError) as exc:
        raise _corrupt(path, remedy, exc) from exc
    missing = [n for n in names if n not in found]
    if missing:
        raise _corrupt(path, remedy, f"missing {', '.join(missing)}")
    x_train = np.concatenate([found[n][0] for n in names[:5]])
    y_train = np.concatenate([found[n][1] for n in names[:5]])
    return x_train, y_train, *found["test_batch"]


def _read_cifar10_sample(path: Path, remedy: str):
    try:
        with np.load(path, allow_pickle=False) as npz:
            parts = [npz[key] for key in ("x_train", "y_train", "x_test", "y_test")]
    except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile) as exc:
        raise _corrupt(path, remedy, exc) from exc
    x_train, y_train, x_test, y_test = parts
    for x, y in ((x_train, y_train), (x_test, y_test)):
        if x.dtype != np.uint8 or x.shape[1:] != (32, 32, 3) or y.shape != (len(x),):
            raise _corrupt(path, remedy, f"unexpected arrays {x.dtype}{x.shape} / {y.shape}")
    return x_train, y_train.astype(np.int64), x_test, y_test.astype(np.int64)


_IMDB_MEMBER = re.compile(r"(?:^|/)aclImdb/(train|test)/(neg|pos)/(\d+)_\d+\.txt$")


def _read_imdb_archive(path: Path, remedy: str):
    """The raw aclImdb archive, read without unpacking it (labelled reviews only)."""
    reviews = []  # (split, id, label, text)
    try:
        with tarfile.open(path, "r|gz") as archive:
            for member in archive:
                match = _IMDB_MEMBER.search(member.name)
                if match and member.isfile():
                    split, polarity, number = match.groups()
                    text = archive.extractfile(member).read().decode("utf-8")
                    reviews.append((split, polarity == "pos", int(number), text))
    except (tarfile.TarError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise _corrupt(path, remedy, exc) from exc
    reviews.sort(key=lambda r: r[:3])  # archive order is not guaranteed
    return _imdb_parts(path, remedy, [(s, int(label), text) for s, label, _, text in reviews])


def _read_imdb_sample(path: Path, remedy: str):
    import pandas as pd

    try:
        frame = pd.read_csv(path, dtype={"split": str, "label": "int64", "text": str}, keep_default_na=False)
    except (OSError, EOFError, ValueError, pd.errors.ParserError) as exc:
        raise _corrupt(path, remedy, exc) from exc
    if list(frame.columns) != ["split", "label", "text"]:
        raise _corrupt(path, remedy, f"columns {list(frame.columns)} instead of split, label, text")
    return _imdb_parts(path, remedy, zip(frame["split"], frame["label"], frame["text"]))


def _imdb_parts(path: Path, remedy: str, rows):
    parts = {"train": ([], []), "test": ([], [])}
    for split, label, text in rows:
        if split not in parts or label not in (0, 1):
            raise _corrupt(path, remedy, f"unexpected split {split!r} or label {label!r}")
        parts[split][0].append(text)
        parts[split][1].append(label)
    for split, (_, labels) in parts.items():
        if set(labels) != {0, 1}:
            raise _corrupt(path, remedy, f"the {split} part lacks negative or positive reviews")
    (train_texts, train_labels), (test_texts, test_labels) = parts["train"], parts["test"]
    return (
        np.array(train_texts, dtype=object), np.array(train_labels, dtype=np.int64),
        np.array(test_texts, dtype=object), np.array(test_labels, dtype=np.int64),
    )


# --------------------------------------------------------------------------- sources


@dataclass(frozen=True)
class _Spec:
    key: str  # "cifar10" or "imdb"
    title: str
    sample_file: str
    read_archive: Callable
    read_sample: Callable
    extract: bool  # whether Keras' own loader unpacks the archive into the cache


_CIFAR10 = _Spec("cifar10", "CIFAR-10", "cifar10_sample.npz", _read_cifar10_archive, _read_cifar10_sample, True)
_IMDB = _Spec("imdb", "IMDB", "imdb_sample.csv.gz", _read_imdb_archive, _read_imdb_sample, False)


def _how_to_get(spec: _Spec) -> str:
    return (
        f"To get the data, connect to the internet so that Keras downloads {spec.title} into its "
        f"cache (datasets/ under $KERAS_HOME or ~/.keras), or point the environment variable "
        f"{DATA_ENV_VAR} (or data_dir=) at a folder holding the offline sample {spec.sample_file}."
    )


@contextlib.contextmanager
def _socket_timeout(seconds: float):
    previous = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(previous)


def _read_keras_archive(spec: _Spec, path: Path):
    remedy = (
        "delete it from the Keras cache so that Keras downloads it again, "
        f"or use source='offline' with the sample {spec.sample_file}"
    )
    _verify(path, KERAS_ARCHIVES[spec.key][2], remedy)
    return spec.read_archive(path, remedy)


def _download(spec: _Spec, why_not_sample: str) -> Path:
    """Download the archive into the Keras cache with ``keras.utils.get_file``; return its path."""
    fname, origin, sha256 = KERAS_ARCHIVES[spec.key]
    keras = settings.quiet_tensorflow()
    datasets_dir = _keras_datasets_dir()
    datasets_dir.mkdir(parents=True, exist_ok=True)
    # CIFAR-10: the very call of keras.datasets.cifar10, hence the same cache layout.
    name = fname.removesuffix("_archive") if spec.extract else fname
    try:
        with _socket_timeout(DOWNLOAD_SOCKET_TIMEOUT):
            path = keras.utils.get_file(
                fname=name, origin=origin, file_hash=sha256, extract=spec.extract,
                cache_dir=str(datasets_dir.parent), cache_subdir=datasets_dir.name,
            )
    except Exception as exc:  # Keras raises a bare Exception when the fetch fails
        raise DatasetUnavailableError(
            f"{spec.title} is not in the Keras cache, {why_not_sample}, and the download "
            f"failed ({exc}). {_how_to_get(spec)}"
        ) from exc
    return Path(f"{path}_archive") if spec.extract else Path(path)


def _read_sample(spec: _Spec, folder: Path | None):
    if folder is None or not (folder / spec.sample_file).is_file():
        where = "no offline data folder was found" if folder is None else f"the folder {folder} has no {spec.sample_file}"
        raise DatasetUnavailableError(f"{spec.title}: {where}. {_how_to_get(spec)}")
    path = folder / spec.sample_file
    remedy = f"replace it with a fresh copy of {spec.sample_file}, or go online and use source='keras'"
    _verify(path, SAMPLE_SHA256[spec.sample_file], remedy)
    return spec.read_sample(path, remedy)


def _acquire(spec: _Spec, source: str, data_dir):
    """Return ``(parts, source_label, description)`` from the first source that has the data."""
    fname = KERAS_ARCHIVES[spec.key][0]
    cached = _keras_datasets_dir() / fname
    folder = _sample_dir(data_dir)
    has_sample = folder is not None and (folder / spec.sample_file).is_file()
    if source != "offline" and cached.is_file():
        try:
            return _read_keras_archive(spec, cached), "keras", f"the Keras cache (datasets/{fname})"
        except CorruptDatasetError as error:
            if not (source == "auto" and has_sample and not settings.is_full()):
                raise
            warnings.warn(f"{error} Using the offline sample {spec.sample_file} instead.", stacklevel=4)
    if source == "offline" or (source == "auto" and has_sample and not settings.is_full()):
        return _read_sample(spec, folder), "offline sample", f"the offline sample ({spec.sample_file})"
    if source == "keras":
        why_not_sample = "source='keras' excludes the offline sample"
    elif has_sample:
        why_not_sample = (
            "full mode needs the complete dataset (the offline sample serves quick mode or source='offline')"
        )
    else:
        why_not_sample = "no offline sample was found"
    path = _download(spec, why_not_sample)
    return _read_keras_archive(spec, path), "keras", f"the Keras cache (datasets/{fname}, just downloaded)"


# --------------------------------------------------------------------------- splitting


def _resolve_sizes(spec: _Spec, n_train, n_val, n_test, n_train_part: int, n_test_part: int):
    if settings.is_full():
        n_val = n_val if n_val is not None else max(1, n_train_part // 10)
        n_train = n_train if n_train is not None else n_train_part - n_val
        n_test = n_test if n_test is not None else n_test_part
        if n_train <= 0:
            raise ValueError(f"n_val must be smaller than the {n_train_part} training examples, got {n_val}")
    else:
        quick = QUICK_SIZES[spec.key]
        n_train, n_val, n_test = (given if given is not None else default
                                  for given, default in zip((n_train, n_val, n_test), quick))
    return n_train, n_val, n_test


def _balanced_counts(n: int, available: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Split ``n`` over the classes as evenly as possible.

    The remainder goes one each to the classes with the most examples still
    available (ties broken at random), so that a later split from what is left
    stays feasible whenever the total is.
    """
    k = len(available)
    counts = np.full(k, n // k)
    order = np.lexsort((rng.permutation(k), -available))
    counts[order[: n % k]] += 1
    return counts


def _select(labels: np.ndarray, sizes, rng: np.random.Generator, what: str) -> list[np.ndarray]:
    """Disjoint, class-balanced, shuffled index sets of the given sizes."""
    classes = np.unique(labels)
    members = [rng.permutation(np.flatnonzero(labels == c)) for c in classes]
    available = np.array([len(m) for m in members])
    if sum(sizes) > available.sum():
        raise ValueError(f"{what}: asked for {' + '.join(map(str, sizes))} examples, only {available.sum()} available")
    taken = np.zeros(len(classes), dtype=int)
    chosen = []
    for n in sizes:
        counts = _balanced_counts(n, available - taken, rng)
        if np.any(taken + counts > available):
            raise ValueError(f"{what}: not enough examples of every class for a balanced split of {n}")
        picked = np.concatenate([m[t : t + c] for m, t, c in zip(members, taken, counts)])
        chosen.append(rng.permutation(picked))
        taken += counts
    return chosen


# --------------------------------------------------------------------------- loaders


def _load(spec: _Spec, n_train, n_val, n_test, seed, source, data_dir):
    for value, name in ((n_train, "n_train"), (n_val, "n_val"), (n_test, "n_test")):
        if value is not None:
            check_positive_int(value, name)
    check_choice(source, "source", SOURCES)
    if data_dir is not None and not isinstance(data_dir, (str, os.PathLike)):
        raise TypeError(f"data_dir must be a folder path (str or os.PathLike), got {data_dir!r}")
    rng = as_generator(seed)
    parts, source_label, description = _acquire(spec, source, data_dir)
    x_train_all, y_train_all, x_test_all, y_test_all = parts
    sizes = _resolve_sizes(spec, n_train, n_val, n_test, len(y_train_all), len(y_test_all))
    where = f"{spec.title} from {description}"
    train_idx, val_idx = _select(y_train_all, sizes[:2], rng, f"{where}, training part (n_train + n_val)")
    (test_idx,) = _select(y_test_all, sizes[2:], rng, f"{where}, test part (n_test)")
    print(f"{where}: {sizes[0]} train / {sizes[1]} val / {sizes[2]} test")
    splits = [(x_train_all[i], y_train_all[i]) for i in (train_idx, val_idx)]
    splits.append((x_test_all[test_idx], y_test_all[test_idx]))
    return splits, source_label


def load_cifar10(*, n_train=None, n_val=None, n_test=None, seed=0, source="auto", data_dir=None) -> Dataset:
    """Load CIFAR-10 as float32 images in [0, 1] and int64 labels 0-9.

    Parameters
    ----------
    n_train, n_val, n_test : int or None
        Split sizes; ``None`` takes the run mode's default (quick: 8000 / 2000 /
        2000; full: the whole source, a tenth of its training part for validation).
        Train and validation come from the training part, test from the test part.
    seed : int, numpy.random.Generator or None
        Chooses the (class-balanced) subsets and their order.
    source : {"auto", "keras", "offline"}
        Where to read the data (see the module docstring for the order of "auto").
    data_dir : str, os.PathLike or None
        Folder holding ``cifar10_sample.npz``; default: ``$INITCOURSE_DATA``, else
        ``../shared/datasets/`` beside the repository.

    Returns
    -------
    Dataset
        Prints one line saying which source was used.

    Raises
    ------
    DatasetUnavailableError
        If no source has the data (the message says how to get it).
    CorruptDatasetError
        If a data file is damaged (the message names it and what to do).
    """
    splits, source_label = _load(_CIFAR10, n_train, n_val, n_test, seed, source, data_dir)
    arrays = []
    for x, y in splits:
        arrays += [np.divide(x, 255, dtype=np.float32), y]
    return Dataset(*arrays, class_names=CIFAR10_CLASS_NAMES, source=source_label)


def _standardize_review(text):
    """Lower-case, replace the ``<br />`` line breaks by spaces, drop punctuation."""
    import tensorflow as tf

    text = tf.strings.lower(text)
    text = tf.strings.regex_replace(text, "<br />", " ")
    return tf.strings.regex_replace(text, f"[{re.escape(string.punctuation)}]", "")


def load_imdb(
    *, n_train=None, n_val=None, n_test=None, vocab_size=10000, sequence_length=200, seed=0,
    source="auto", data_dir=None, padding="post",
) -> Dataset:
    """Load IMDB reviews as padded token-id sequences and int64 labels (1 = positive).

    Both sources go through the same tokenisation: the raw review text is fed to a
    ``keras.layers.TextVectorization`` layer (lower case, ``<br />`` and punctuation
    removed, split on whitespace) adapted on the training reviews only, keeping the
    ``vocab_size`` most frequent tokens (ids 0 and 1 are padding and unknown word),
    then cut or zero-padded to ``sequence_length`` tokens.

    Parameters
    ----------
    n_train, n_val, n_test : int or None
        Split sizes; ``None`` takes the run mode's default (quick: 4000 / 1000 /
        2000; full: the whole source, a tenth of its training part for validation).
    vocab_size : int
        Vocabulary size, padding and unknown-word tokens included.
    sequence_length : int
        Length of every output sequence.
    seed, source, data_dir
        As in :func:`load_cifar10` (the sample file is ``imdb_sample.csv.gz``).
    padding : {"post", "pre"}
        Where the padding of a review shorter than ``sequence_length`` goes:
        ``"post"`` (after the review, what ``TextVectorization`` does) or ``"pre"``
        (before it, in the same word order, as ``keras.utils.pad_sequences`` pads by
        default). Either way a longer review keeps its first ``sequence_length``
        tokens (``pad_sequences`` would keep its last ones by default).

    Returns
    -------
    Dataset
        With ``vectorizer`` (the adapted layer) and ``vocabulary``. Prints one line
        saying which source was used.
    """
    if check_positive_int(vocab_size, "vocab_size") < 3:
        raise ValueError(f"vocab_size must be at least 3 (padding, unknown word and one word), got {vocab_size}")
    sequence_length = check_positive_int(sequence_length, "sequence_length")
    check_choice(padding, "padding", IMDB_PADDINGS)
    splits, source_label = _load(_IMDB, n_train, n_val, n_test, seed, source, data_dir)
    keras = settings.quiet_tensorflow()
    vectorizer = keras.layers.TextVectorization(
        max_tokens=vocab_size, output_sequence_length=sequence_length, standardize=_standardize_review,
    )
    vectorizer.adapt(list(splits[0][0]))
    arrays = []
    for texts, y in splits:
        tokens = np.asarray(vectorizer(list(texts)), dtype=np.int32)
        arrays += [pad_before(tokens) if padding == "pre" else tokens, y]
    return Dataset(
        *arrays, class_names=IMDB_CLASS_NAMES, source=source_label,
        vectorizer=vectorizer, vocabulary=tuple(str(token) for token in vectorizer.get_vocabulary()),
    )


IMDB_PADDINGS = ("post", "pre")


def pad_before(tokens) -> np.ndarray:
    """Move the padding (id 0) of every row of ``tokens`` in front of its words.

    The words keep their order, so ``[5, 7, 9, 0, 0]`` becomes ``[0, 0, 5, 7, 9]``:
    the layout ``keras.utils.pad_sequences(..., padding="pre")`` produces. A row
    without padding is returned unchanged.
    """
    tokens = np.asarray(tokens)
    if tokens.ndim != 2 or tokens.dtype.kind not in "iu":
        raise ValueError(f"tokens must be a 2-D integer array (reviews x tokens), got shape {tokens.shape} "
                         f"and dtype {tokens.dtype}")
    order = np.argsort(tokens != 0, axis=1, kind="stable")  # padding first, words in their order
    return np.ascontiguousarray(np.take_along_axis(tokens, order, axis=1))
