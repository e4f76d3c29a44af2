import random
import subprocess
import sys

import numpy as np
import pytest

from initcourse import settings


@pytest.fixture(autouse=True)
def _reset_mode(monkeypatch):
    monkeypatch.delenv(settings.MODE_ENV_VAR, raising=False)
    settings.set_mode(None)
    yield
    monkeypatch.delenv(settings.MODE_ENV_VAR, raising=False)
    settings.set_mode(None)


def test_default_mode_is_quick():
    assert settings.get_mode() == "quick"
    assert not settings.is_full()


def test_mode_from_environment(monkeypatch):
    monkeypatch.setenv(settings.MODE_ENV_VAR, "FULL")
    assert settings.get_mode() == "full"
    assert settings.is_full()


def test_set_mode_overrides_environment(monkeypatch):
    monkeypatch.setenv(settings.MODE_ENV_VAR, "full")
    assert settings.set_mode("quick") == "quick"
    assert settings.set_mode(None) == "full"


def test_bad_mode_names_the_choices(monkeypatch):
    with pytest.raises(ValueError, match="mode must be one of 'quick', 'full', got 'fast'"):
        settings.set_mode("fast")
    monkeypatch.setenv(settings.MODE_ENV_VAR, "fast")
    with pytest.raises(ValueError, match="INITCOURSE_MODE"):
        settings.get_mode()


def test_seed_everything_makes_all_generators_repeat():
    keras = settings.quiet_tensorflow()

    def draw():
        return (random.random(), np.random.rand(), float(keras.random.normal((1,))[0]))

    settings.seed_everything(3)
    first = draw()
    settings.seed_everything(3)
    assert draw() == first
    settings.seed_everything(4)
    assert draw() != first


@pytest.mark.parametrize("bad", [-1, 1.5, "0", None, True])
def test_seed_everything_rejects_bad_seeds(bad):
    with pytest.raises((TypeError, ValueError), match="seed"):
        settings.seed_everything(bad)


def test_setup_returns_mode_and_sets_it():
    assert settings.setup(0, mode="full", deterministic=False) == "full"


def test_setup_rejects_a_non_boolean_deterministic():
    with pytest.raises(TypeError, match="deterministic must be True or False"):
        settings.setup(0, deterministic="yes")


def test_setup_makes_training_repeat_exactly_and_turns_on_op_determinism():
    # In a fresh process: op determinism is global and cannot be turned off again.
    code = (
        "import numpy as np\n"
        "from initcourse import settings\n"
        "import tensorflow as tf\n"
        "def run():\n"
        "    settings.setup(5)\n"
        "    keras = settings.quiet_tensorflow()\n"
        "    x = np.random.randn(256, 8).astype('float32'); y = x.sum(1, keepdims=True)\n"
        "    m = keras.Sequential([keras.Input((8,)), keras.layers.Dense(16, activation='relu'), keras.layers.Dense(1)])\n"
        "    m.compile('adam', 'mse')\n"
        "    return m.fit(x, y, epochs=2, batch_size=32, verbose=0).history['loss']\n"
        "first, second = run(), run()\n"
        "from tensorflow.python.framework import config\n"
        "print(first == second, config.is_op_determinism_enabled())\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["True", "True"]


def test_quiet_tensorflow_prints_nothing():
    code = (
        "from initcourse import settings\n"
        "keras = settings.quiet_tensorflow()\n"
        "keras.layers.Dense(2)(keras.ops.ones((1, 3)))\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert proc.stderr == ""


def test_importing_initcourse_does_not_import_tensorflow():
    code = "import sys, initcourse, initcourse.settings; print('tensorflow' in sys.modules)"
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.stdout.strip() == "False"
