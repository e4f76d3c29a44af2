"""One source of truth for the course's versions: constraints.txt.

pyproject.toml declares the library's compatible ranges; constraints.txt pins the
exact set the course is built and tested with; `make` and environment.yml install
the package through those constraints. These tests keep the three in step, and
check that the environment running the tests is the pinned set.
"""

import importlib.metadata
import pathlib
import re
import tomllib

import pytest
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = pathlib.Path(__file__).resolve().parents[1]
EXTRAS = ("book", "test")


def _project():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _requirements(extras=EXTRAS):
    project = _project()
    reqs = list(project["dependencies"])
    for extra in extras:
        reqs += project["optional-dependencies"][extra]
    return [Requirement(r) for r in reqs]


def _pins() -> dict:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = re.fullmatch(r"([A-Za-z0-9_.-]+)==(\S+)", line).groups()
            pins[canonicalize_name(name)] = version
    return pins


def _environment_pip_lines():
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    reqs = []
    for line in lines[start + 1:]:
        m = re.match(r"^\s+-\s+(.*)$", line)
        if not m:
            break
        reqs.append(m.group(1).strip())
    return reqs


def test_library_declares_ranges_not_pins():
    for req in _requirements(extras=[*EXTRAS, "dask"]):
        assert not any(spec.operator in ("==", "===") for spec in req.specifier), (
            f"{req} is an exact pin: pyproject.toml declares ranges, pins go to constraints.txt"
        )
        assert req.specifier, f"{req} has no version range"


def test_every_requirement_has_a_pin_inside_its_range():
    pins = _pins()
    for req in _requirements(extras=[*EXTRAS, "dask"]):
        name = canonicalize_name(req.name)
        assert name in pins, f"{req.name} has no exact version in constraints.txt"
        assert req.specifier.contains(pins[name], prereleases=True), (
            f"constraints.txt pins {req.name}=={pins[name]}, outside pyproject's range {req.specifier}"
        )


def test_every_pin_is_a_requirement():
    required = {canonicalize_name(r.name) for r in _requirements(extras=[*EXTRAS, "dask"])}
    assert set(_pins()) <= required, f"constraints.txt pins packages nobody requires: {set(_pins()) - required}"


def test_tensorflow_flavour_covers_every_platform_once():
    reqs = [r for r in _requirements(extras=()) if canonicalize_name(r.name) in ("tensorflow", "tensorflow-cpu")]
    platforms = {
        "linux x86_64": {"sys_platform": "linux", "platform_machine": "x86_64"},
        "linux aarch64": {"sys_platform": "linux", "platform_machine": "aarch64"},
        "macos arm64": {"sys_platform": "darwin", "platform_machine": "arm64"},
        "macos x86_64": {"sys_platform": "darwin", "platform_machine": "x86_64"},
        "windows": {"sys_platform": "win32", "platform_machine": "AMD64"},
    }
    chosen = {}
    for label, overrides in platforms.items():
        environment = {**default_environment(), **overrides}
        picked = [canonicalize_name(r.name) for r in reqs if r.marker is None or r.marker.evaluate(environment)]
        assert len(picked) == 1, f"{label}: {picked}"
        chosen[label] = picked[0]
    # tensorflow-cpu has no wheels for ARM Linux or macOS
    assert chosen["linux aarch64"] == chosen["macos arm64"] == "tensorflow"
    assert chosen["linux x86_64"] == "tensorflow-cpu"


def test_environment_yml_installs_the_package_through_the_constraints():
    assert _environment_pip_lines() == ["-c constraints.txt", "-e .[book,test]"]


def test_makefile_installs_through_the_constraints():
    makefile = (ROOT / "Makefile").read_text()
    assert re.search(r"pip install .*-c constraints\.txt .*-e \"\.\[book,test\]\"", makefile)


def test_environment_python_matches_supported_range():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s+- python=3\.11$", text, re.M)


@pytest.mark.parametrize("req", _requirements(), ids=lambda r: r.name)
def test_installed_versions_are_the_pinned_set(req):
    if req.marker is not None and not req.marker.evaluate():
        pytest.skip(f"{req.name} is not for this platform")
    pinned = _pins()[canonicalize_name(req.name)]
    assert importlib.metadata.version(req.name) == pinned, (
        f"{req.name} {importlib.metadata.version(req.name)} is installed, constraints.txt pins {pinned}: "
        "run `make install` (tests run on the pinned set)"
    )
