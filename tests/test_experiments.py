import math

import numpy as np
import pandas as pd
import pytest

from initcourse import experiments, settings
from initcourse.kerastools.data import Dataset

keras = settings.quiet_tensorflow()

VARIANTS = {
    "glorot_uniform": {"kernel_initializer": "glorot_uniform"},
    "he_normal": {"kernel_initializer": "he_normal"},
}
METRICS = ["loss", "accuracy", "val_loss", "val_accuracy"]


class Calls:
    """How often the test builders ran (a class, so counting does not change their cache key)."""

    n = 0


def build(kernel_initializer="glorot_uniform", units=4):
    Calls.n += 1
    model = keras.Sequential([
        keras.Input((8,)),
        keras.layers.Dense(units, activation="relu", kernel_initializer=kernel_initializer),
        keras.layers.Dense(1, activation="sigmoid", kernel_initializer=kernel_initializer),
    ])
    # eager: quicker than compiling a graph for a few tiny batches
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="binary_crossentropy", metrics=["accuracy"],
                  run_eagerly=True)
    return model


def make_data(seed=0, n=48):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 8)).astype(np.float32)
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.float32)
    return x[:32], y[:32], x[32:], y[32:]


@pytest.fixture(autouse=True)
def count_calls(monkeypatch):
    monkeypatch.delenv(experiments.PROGRESS_ENV_VAR, raising=False)
    Calls.n = 0


def grid(cache_dir=False, **kwargs):
    options = dict(variants=VARIANTS, seeds=(0, 1), epochs=2, batch_size=16, cache_dir=cache_dir)
    options.update(kwargs)
    data = options.pop("data", make_data())
    builder = options.pop("build_model", build)
    return experiments.run_grid(builder, data, **options)


def small_grid(cache_dir=False, **kwargs):
    """One variant, one seed: one run."""
    return grid(cache_dir, **{"variants": {"he": VARIANTS["he_normal"]}, "seeds": (0,), **kwargs})


@pytest.fixture(scope="module")
def reference():
    """The 2 variants x 2 seeds x 2 epochs grid, trained once for several tests."""
    return grid()


def metric_columns(frame):
    return frame.drop(columns="seconds")


# --------------------------------------------------------------------------- run_grid


def test_tidy_frame_one_row_per_variant_seed_epoch(reference):
    results = reference
    assert list(results.columns[:3]) == ["variant", "seed", "epoch"] and results.columns[-1] == "seconds"
    assert sorted(results.columns[3:-1]) == sorted(METRICS)
    assert len(results) == 2 * 2 * 2
    assert results[["variant", "seed", "epoch"]].values.tolist() == [
        [v, s, e] for v in VARIANTS for s in (0, 1) for e in (1, 2)
    ]
    assert (results["seconds"] > 0).all()
    assert results[METRICS].notna().all().all()


def test_same_seed_same_numbers_other_seed_other_numbers(reference):
    again = grid()
    assert Calls.n == 4
    pd.testing.assert_frame_equal(metric_columns(reference), metric_columns(again))
    by_seed = reference.set_index(["variant", "seed", "epoch"])["loss"]
    assert by_seed["he_normal", 0, 1] != by_seed["he_normal", 1, 1]
    assert by_seed["he_normal", 0, 1] != by_seed["glorot_uniform", 0, 1]


def test_second_identical_call_reads_the_cache(tmp_path):
    first = grid(cache_dir=tmp_path)
    assert Calls.n == 4 and len(list(tmp_path.glob("*.csv"))) == 4
    again = grid(cache_dir=tmp_path)
    assert Calls.n == 4  # nothing trained
    pd.testing.assert_frame_equal(first, again)  # exact floats, seconds included


def test_what_changes_the_cache_key(tmp_path):
    small_grid(tmp_path)
    small_grid(tmp_path, epochs=3)
    assert Calls.n == 2
    small_grid(tmp_path, batch_size=8)
    assert Calls.n == 3
    small_grid(tmp_path, data=make_data(seed=1))
    assert Calls.n == 4
    small_grid(tmp_path, variants={"he": {"kernel_initializer": "he_normal", "units": 5}})
    assert Calls.n == 5
    small_grid(tmp_path, seeds=(0, 1))
    assert Calls.n == 6  # only the new seed
    results = small_grid(tmp_path, variants={"renamed": VARIANTS["he_normal"]})
    assert Calls.n == 6 and set(results["variant"]) == {"renamed"}  # a label is not a configuration


def make_builder(units):
    def builder(kernel_initializer):
        return build(kernel_initializer, units=units)

    return builder


def test_builder_closure_and_initializer_objects_are_part_of_the_key(tmp_path):
    small_grid(tmp_path, build_model=make_builder(3))
    small_grid(tmp_path, build_model=make_builder(3))
    assert Calls.n == 1
    small_grid(tmp_path, build_model=make_builder(5))
    assert Calls.n == 2

    def he(seed):
        return {"he": {"kernel_initializer": keras.initializers.HeNormal(seed=seed)}}

    small_grid(tmp_path, variants=he(1))
    small_grid(tmp_path, variants=he(1))
    assert Calls.n == 3
    small_grid(tmp_path, variants=he(2))
    assert Calls.n == 4


class Unsaveable(keras.initializers.Initializer):
    """An initializer whose get_config fails: its attributes make the key."""

    def __init__(self, scale):
        self.scale = scale

    def __call__(self, shape, dtype=None):
        return keras.ops.full(shape, self.scale, dtype=dtype)

    def get_config(self):
        raise NotImplementedError


def test_objects_without_a_config_are_keyed_by_their_attributes(tmp_path):
    for scale in (0.1, 0.1, 0.2):
        small_grid(tmp_path, variants={"const": {"kernel_initializer": Unsaveable(scale)}})
    assert Calls.n == 2


def test_interrupted_write_leaves_no_entry(tmp_path, monkeypatch):
    def fail(src, dst):
        raise KeyboardInterrupt

    monkeypatch.setattr(experiments.os, "replace", fail)
    with pytest.raises(KeyboardInterrupt):
        small_grid(tmp_path)
    assert list(tmp_path.iterdir()) == []  # neither an entry nor a temporary file
    monkeypatch.undo()
    small_grid(tmp_path)
    small_grid(tmp_path)
    assert Calls.n == 2


@pytest.fixture(scope="module")
def good_entry(tmp_path_factory):
    """(file name, text) of a cache entry written by a real run, and that run's result."""
    folder = tmp_path_factory.mktemp("entry")
    result = small_grid(folder)
    (entry,) = folder.glob("*.csv")
    return entry.name, entry.read_text(), result


@pytest.mark.parametrize(
    "damage",
    [
        lambda text: text[: len(text) // 2],  # cut short
        lambda text: "",  # empty
        lambda text: text.replace("epoch", "epoch_"),  # not our columns
        lambda text: text.replace("\n2,", "\nx,"),  # not a number
        lambda text: "\x00\x01garbage",
    ],
)
def test_corrupt_entry_is_trained_again(tmp_path, good_entry, damage):
    name, text, result = good_entry
    (tmp_path / name).write_text(damage(text))
    with pytest.warns(UserWarning, match="incomplete cache entry"):
        again = small_grid(tmp_path)
    assert Calls.n == 1
    pd.testing.assert_frame_equal(metric_columns(result), metric_columns(again))
    assert pd.read_csv(tmp_path / name)["epoch"].tolist() == [1, 2]  # rewritten whole
    small_grid(tmp_path)
    assert Calls.n == 1


def test_default_cache_folder_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(experiments.CACHE_ENV_VAR, str(tmp_path / "c"))
    assert experiments.default_cache_dir() == tmp_path / "c"
    small_grid(cache_dir=None)
    assert len(list((tmp_path / "c").glob("*.csv"))) == 1
    monkeypatch.delenv(experiments.CACHE_ENV_VAR)
    assert experiments.default_cache_dir().parts[-3:] == (".cache", "initcourse", "experiments")


def test_accepts_a_dataset_and_data_without_validation():
    x, y, xv, yv = make_data()
    dataset = Dataset(x, y, xv, yv, x[:1], y[:1], class_names=("no", "yes"), source="test")
    from_dataset = small_grid(data=dataset)
    pd.testing.assert_frame_equal(metric_columns(from_dataset), metric_columns(small_grid()))
    no_val = small_grid(data=(x, y, None, None))
    assert "val_loss" not in no_val.columns and "loss" in no_val.columns


def test_progress_bar_only_when_asked(capsys, monkeypatch):
    small_grid()
    assert capsys.readouterr().err == ""
    small_grid(progress=True)
    assert "runs" in capsys.readouterr().err
    monkeypatch.setenv(experiments.PROGRESS_ENV_VAR, "1")
    small_grid(seeds=(0, 1))
    assert "2/2" in capsys.readouterr().err


def test_builder_must_return_a_compiled_model():
    def uncompiled(kernel_initializer):
        return keras.Sequential([keras.Input((8,)), keras.layers.Dense(1)])

    with pytest.raises(TypeError, match="compiled keras.Model, got Sequential that is not compiled"):
        grid(build_model=uncompiled)
    with pytest.raises(TypeError, match="compiled keras.Model, got str"):
        grid(build_model=lambda kernel_initializer: "model")


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"variants": {}}, ValueError, "variants must be a non-empty mapping"),
        ({"variants": {"a": "he_normal"}}, TypeError, r"variants\['a'\] must be a mapping"),
        ({"variants": {"": {}}}, TypeError, "every label must be a non-empty string"),
        ({"seeds": ()}, TypeError, "seeds must be a non-empty sequence"),
        ({"seeds": 0}, TypeError, r"such as \(0, 1, 2\)"),
        ({"seeds": (0, -1)}, ValueError, "seeds must be non-negative integers, got -1"),
        ({"seeds": (0, 1.5)}, ValueError, "seeds must be non-negative integers, got 1.5"),
        ({"seeds": (1, 1)}, ValueError, "seeds must be distinct"),
        ({"epochs": 0}, ValueError, "epochs must be a positive integer, got 0"),
        ({"epochs": -2}, ValueError, "epochs must be a positive integer, got -2"),
        ({"epochs": 2.0}, TypeError, "epochs must be a positive integer"),
        ({"batch_size": 0}, ValueError, "batch_size must be a positive integer, got 0"),
        ({"cache_dir": 3}, TypeError, "cache_dir must be a folder path"),
        ({"progress": "yes"}, TypeError, "progress must be True, False or None"),
        ({"verbose": 3}, ValueError, "verbose must be one of 0, 1, 2, 'auto'"),
        ({"data": make_data()[:3]}, TypeError, r"data must be \(x_train, y_train, x_val, y_val\)"),
        ({"data": (np.zeros((4, 8)), np.zeros(3), None, None)}, ValueError, "equal length"),
        ({"data": (np.zeros((4, 8)), np.zeros(4), np.zeros((2, 8)), None)}, ValueError, "x_val and y_val"),
        ({"build_model": "mlp"}, TypeError, "build_model must be callable"),
    ],
)
def test_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        grid(**kwargs)
    assert Calls.n == 0


# --------------------------------------------------------------------------- summarize and curves


def hand_made():
    """Two variants, two seeds, three epochs, values chosen for exact means."""
    rows = [
        # variant, seed, epoch, val_accuracy, val_loss
        ("a", 0, 1, 0.50, 1.0), ("a", 0, 2, 0.70, 0.8), ("a", 0, 3, 0.60, 0.9),
        ("a", 1, 1, 0.30, 1.2), ("a", 1, 2, 0.50, 0.6), ("a", 1, 3, 0.80, 0.6),
        ("b", 0, 1, 0.25, 2.0), ("b", 0, 2, 0.25, 2.0), ("b", 0, 3, 0.75, 1.0),
        ("b", 1, 1, 0.25, 2.0), ("b", 1, 2, 0.25, 2.0), ("b", 1, 3, 0.25, 2.0),
    ]
    frame = pd.DataFrame(rows, columns=["variant", "seed", "epoch", "val_accuracy", "val_loss"])
    frame["seconds"] = 1.0
    return frame.sample(frac=1, random_state=0)  # row order must not matter


def test_summarize_exact():
    summary = experiments.summarize(hand_made(), threshold=0.7)
    a, b = summary.loc["a"], summary.loc["b"]
    assert a["n_seeds"] == 2
    assert a["final_mean"] == pytest.approx(0.70) and a["final_std"] == pytest.approx(math.sqrt(0.02))
    assert (a["final_min"], a["final_max"]) == (0.60, 0.80)
    # mean curve of a: 0.40, 0.60, 0.70 -> best 0.70 at epoch 3
    assert a["best_mean"] == pytest.approx(0.70) and a["best_epoch"] == 3
    # a: seed 0 reaches 0.7 at epoch 2, seed 1 at epoch 3
    assert a["epochs_to_threshold"] == 2.5 and a["seeds_reached"] == 2
    # b: only seed 0 reaches 0.7 (epoch 3)
    assert b["epochs_to_threshold"] == 3 and b["seeds_reached"] == 1
    assert b["final_mean"] == 0.5 and b["best_mean"] == 0.5 and b["best_epoch"] == 3


def test_summarize_keeps_the_order_of_the_variants():
    ordered = hand_made().sort_values(["variant", "seed", "epoch"], ascending=[False, True, True])
    assert experiments.summarize(ordered).index.tolist() == ["b", "a"]
    assert experiments.curves(ordered)["variant"].tolist() == ["b"] * 3 + ["a"] * 3


def test_summarize_a_loss_looks_for_the_minimum():
    summary = experiments.summarize(hand_made(), metric="val_loss", threshold=0.8)
    a = summary.loc["a"]
    # mean curve of a: 1.1, 0.7, 0.75 -> minimum at epoch 2
    assert a["best_mean"] == pytest.approx(0.7) and a["best_epoch"] == 2
    assert a["epochs_to_threshold"] == 2 and a["seeds_reached"] == 2
    assert summary.loc["b", "seeds_reached"] == 0 and math.isnan(summary.loc["b", "epochs_to_threshold"])
    forced = experiments.summarize(hand_made(), metric="val_loss", goal="max")
    assert forced.loc["a", "best_epoch"] == 1


def test_summarize_never_reaching_the_threshold():
    summary = experiments.summarize(hand_made(), threshold=0.99)
    assert summary["seeds_reached"].tolist() == [0, 0]
    assert summary["epochs_to_threshold"].isna().all()
    assert "epochs_to_threshold" not in experiments.summarize(hand_made()).columns


def test_a_diverged_seed_shows_as_nan():
    frame = hand_made()
    frame.loc[(frame["variant"] == "a") & (frame["seed"] == 1) & (frame["epoch"] == 3), "val_accuracy"] = np.nan
    a = experiments.summarize(frame).loc["a"]
    assert math.isnan(a["final_mean"]) and math.isnan(a["final_std"]) and math.isnan(a["final_max"])
    # the mean curve is NaN at epoch 3, so the best is taken over epochs 1-2
    assert a["best_mean"] == pytest.approx(0.60) and a["best_epoch"] == 2
    frame.loc[frame["variant"] == "b", "val_accuracy"] = np.nan
    b = experiments.summarize(frame).loc["b"]
    assert math.isnan(b["best_mean"]) and math.isnan(b["best_epoch"]) and b["n_seeds"] == 2


def test_curves_exact():
    table = experiments.curves(hand_made(), "val_accuracy")
    assert list(table.columns) == ["variant", "epoch", "n_seeds", "mean", "std", "min", "max"]
    a = table[table["variant"] == "a"]
    assert a["epoch"].tolist() == [1, 2, 3] and a["n_seeds"].tolist() == [2, 2, 2]
    np.testing.assert_allclose(a["mean"], [0.40, 0.60, 0.70])
    np.testing.assert_allclose(a["std"], [math.sqrt(0.02)] * 3)
    np.testing.assert_allclose(a["min"], [0.30, 0.50, 0.60])
    np.testing.assert_allclose(a["max"], [0.50, 0.70, 0.80])


def test_summaries_of_a_real_grid(reference):
    results = reference
    summary = experiments.summarize(results, metric="val_loss")
    assert summary.index.tolist() == list(VARIANTS)
    table = experiments.curves(results, "loss")
    assert len(table) == 4
    last = results[results["epoch"] == 2].groupby("variant")["val_loss"].mean()
    np.testing.assert_allclose(summary["final_mean"], last[summary.index])


@pytest.mark.parametrize(
    "call, error, message",
    [
        (lambda: experiments.summarize(hand_made(), metric="val_acc"), ValueError,
         r"metric must be one of \['val_accuracy', 'val_loss'\], got 'val_acc'"),
        (lambda: experiments.summarize(hand_made(), metric="epoch"), ValueError, "metric must be one of"),
        (lambda: experiments.summarize(hand_made(), threshold="high"), ValueError, "threshold must be a finite number"),
        (lambda: experiments.summarize(hand_made(), threshold=math.nan), ValueError, "threshold must be"),
        (lambda: experiments.summarize(hand_made(), goal="up"), ValueError, "goal must be one of 'auto', 'max', 'min'"),
        (lambda: experiments.summarize(hand_made().values), TypeError, "results must be the DataFrame"),
        (lambda: experiments.curves(hand_made().drop(columns="seed"), "val_loss"), ValueError,
         r"lacks the column\(s\) \['seed'\]"),
        (lambda: experiments.curves(pd.concat([hand_made(), hand_made()]), "val_loss"), ValueError, "repeated"),
        (lambda: experiments.curves(hand_made().iloc[:0], "val_loss"), ValueError, "results is empty"),
    ],
)
def test_bad_summary_arguments(call, error, message):
    with pytest.raises(error, match=message):
        call()
