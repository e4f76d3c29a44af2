"""Tiny data files laid out like the real ones, for the tests of initcourse.kerastools.data.

Every image and review carries its own identity so that the tests can tell
which examples landed in which split:

- image ``i`` of a part has pixel (0, 0) = (i % 256, i // 256, part) with part 0
  for train, 1 for test; the other pixels are random;
- review ``i`` of a part contains the token ``train{i}`` or ``test{i}``.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import hashlib
import io
import pickle
import tarfile

import numpy as np

WORDS = "good bad film movie plot actor great awful scene story the a and of".split()


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def images(n_per_class: int, part: int, n_classes: int = 10, seed: int = 0):
    """uint8 HWC images and their labels, interleaved by class as in the real sample."""
    rng = np.random.default_rng(seed + part)
    n = n_per_class * n_classes
    x = rng.integers(0, 256, size=(n, 32, 32, 3), dtype=np.uint8)
    ids = np.arange(n)
    x[:, 0, 0, 0], x[:, 0, 0, 1], x[:, 0, 0, 2] = ids % 256, ids // 256, part
    return x, (ids % n_classes).astype(np.uint8)


def image_ids(x) -> np.ndarray:
    """Recover (part, index) codes ``part * 65536 + i`` from float images in [0, 1]."""
    pixel = np.rint(x[:, 0, 0, :] * 255).astype(int)
    return pixel[:, 2] * 65536 + pixel[:, 1] * 256 + pixel[:, 0]


def write_cifar_sample(path, n_per_class_train=6, n_per_class_test=3):
    x_train, y_train = images(n_per_class_train, 0)
    x_test, y_test = images(n_per_class_test, 1)
    np.savez_compressed(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return x_train, y_train, x_test, y_test


def _cifar_batch(x, y) -> bytes:
    """One batch in the original format: a pickled dict with bytes keys, CHW rows.

    Protocol 3 writes NumPy's reconstructor by name; the name is rewritten to the
    ``numpy.core`` spelling found in the original files.
    """
    batch = {
        b"batch_label": b"fixture batch",
        b"labels": [int(v) for v in y],
        b"data": np.ascontiguousarray(x.transpose(0, 3, 1, 2).reshape(len(x), -1)),
        b"filenames": [f"img_{i}.png".encode() for i in range(len(x))],
    }
    raw = pickle.dumps(batch, protocol=3)
    return raw.replace(b"cnumpy._core.multiarray\n", b"cnumpy.core.multiarray\n")


@contextlib.contextmanager
def _tar_gz(path):
    """A .tar.gz writer whose bytes depend on the content only (no name or time in the gzip header)."""
    with open(path, "wb") as raw, gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0) as gz, \
            tarfile.open(fileobj=gz, mode="w") as archive:
        yield archive


def _add(archive: tarfile.TarFile, name: str, payload: bytes):
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    archive.addfile(info, io.BytesIO(payload))


def write_cifar_archive(path, n_per_class_train=10, n_per_class_test=2, skip=(), extra=None):
    """``cifar-10-python.tar.gz`` in miniature; returns the full arrays it holds."""
    x_train, y_train = images(n_per_class_train, 0)
    x_test, y_test = images(n_per_class_test, 1)
    batches = np.array_split(np.arange(len(x_train)), 5)
    with _tar_gz(path) as archive:
        _add(archive, "cifar-10-batches-py/batches.meta", b"not read")
        for i, rows in enumerate(batches, start=1):
            if f"data_batch_{i}" not in skip:
                payload = extra or _cifar_batch(x_train[rows], y_train[rows])
                _add(archive, f"cifar-10-batches-py/data_batch_{i}", payload)
        _add(archive, "cifar-10-batches-py/test_batch", _cifar_batch(x_test, y_test))
    return x_train, y_train, x_test, y_test


MARK_POSITION = 12  # token position of a review's identity token; the label word follows


def review(part: str, i: int, label: int, rng) -> str:
    words = list(rng.choice(WORDS, size=MARK_POSITION)) + [f"{part}{i}", "great!" if label else "awful."]
    words.insert(5, "<br /><br />")
    return " ".join(words)


def reviews(part: str, n_per_label: int, seed: int = 0):
    """Rows (part, label, text), alternating negative / positive as in the sample."""
    rng = np.random.default_rng(seed)
    return [(part, i % 2, review(part, i, i % 2, rng)) for i in range(2 * n_per_label)]


def write_imdb_sample(path, n_per_label_train=10, n_per_label_test=4):
    with gzip.open(path, "wt", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["split", "label", "text"])
        writer.writerows(reviews("train", n_per_label_train) + reviews("test", n_per_label_test))


def write_imdb_archive(path, n_per_label_train=10, n_per_label_test=4):
    """``aclImdb_v1.tar.gz`` in miniature, unlabelled reviews and vocabulary included."""
    with _tar_gz(path) as archive:
        _add(archive, "aclImdb/imdb.vocab", "\n".join(WORDS).encode())
        _add(archive, "aclImdb/train/unsup/0_0.txt", b"unlabelled review, never read")
        for part, n in (("test", n_per_label_test), ("train", n_per_label_train)):
            rows = list(enumerate(reviews(part, n)))
            for i, (_, label, text) in reversed(rows):  # archive order differs from id order
                name = f"aclImdb/{part}/{'pos' if label else 'neg'}/{i}_{8 if label else 2}.txt"
                _add(archive, name, text.encode("utf-8"))
