"""The case studies' full-mode path, end to end, on miniature Keras-cache archives.

Full mode reads the complete datasets from the Keras cache, which the test machine
does not have: the archives here are the small fixtures of ``fixtures_data`` laid
out where Keras keeps the real ones. Each test does what chapters 9 and 10 do in
full mode: load with the mode's default sizes, measure the layer statistics at
initialization, and train the case-study model through the experiment runner.
"""

import numpy as np
import pytest

from initcourse import data, experiments, layer_stats, models, settings
from test_data import cifar_cache, imdb_cache, isolated  # noqa: F401  (fixtures)


@pytest.fixture(autouse=True)
def full_mode(isolated):  # noqa: F811  (after isolated, which resets the mode)
    settings.set_mode("full")
    yield
    settings.set_mode(None)


def _train_one_epoch(build, dataset):
    runs = experiments.run_grid(build, dataset, variants={"he_normal": {"kernel_initializer": "he_normal"}},
                                seeds=(0,), epochs=1, cache_dir=False)
    return experiments.summarize(runs)


def test_cifar10_full_mode(cifar_cache, capsys):  # noqa: F811
    _, (x_train_all, _, x_test_all, _) = cifar_cache
    cifar = data.load_cifar10()
    assert "Keras cache" in capsys.readouterr().out
    # the whole archive, a tenth of its training part held out for validation
    assert (len(cifar.x_train), len(cifar.x_val), len(cifar.x_test)) == (
        len(x_train_all) - len(x_train_all) // 10, len(x_train_all) // 10, len(x_test_all))
    stats = layer_stats.compare_initializers(models.cifar_cnn, cifar.x_train[:16], ["he_normal", "random_normal"])
    assert stats["std"].notna().all() and len(stats) == 2 * 7

    def build(kernel_initializer):
        return models.compile_model(models.cifar_cnn(kernel_initializer=kernel_initializer), optimizer="adam",
                                    loss="sparse_categorical_crossentropy", learning_rate=0.001, metrics=["accuracy"])

    summary = _train_one_epoch(build, cifar)
    assert 0.0 <= summary.loc["he_normal", "final_mean"] <= 1.0


def test_imdb_full_mode(imdb_cache, capsys):  # noqa: F811
    imdb = data.load_imdb(vocab_size=50, sequence_length=24)
    assert "Keras cache" in capsys.readouterr().out
    n_train_part = len(imdb.x_train) + len(imdb.x_val)
    assert len(imdb.x_val) == n_train_part // 10
    reversed_ids = np.ascontiguousarray(imdb.x_train[:, ::-1])  # as chapter 10 feeds them: padding first
    assert np.array_equal(reversed_ids[:, -1], imdb.x_train[:, 0])

    def build(kernel_initializer):
        model = models.imdb_rnn(vocab_size=50, sequence_length=24, embedding_dim=4, units=4,
                                kernel_initializer=kernel_initializer)
        return models.compile_model(model, optimizer="adam", loss="binary_crossentropy", learning_rate=0.001,
                                    metrics=["accuracy"])

    stats = layer_stats.compare_initializers(build, reversed_ids[:8], ["uniform", "he_normal"],
                                             argument="kernel_initializer")
    assert stats.query("layer == 'rnn'")["preact_std"].notna().all()
    summary = _train_one_epoch(build, (reversed_ids, imdb.y_train, imdb.x_val[:, ::-1], imdb.y_val))
    assert 0.0 <= summary.loc["he_normal", "final_mean"] <= 1.0
