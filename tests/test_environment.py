"""environment.yml (conda/Binder) installs the same pinned set as pyproject.toml."""

import pathlib
import re
import tomllib

ROOT = pathlib.Path(__file__).resolve().parents[1]


def _normalise(req: str) -> str:
    return re.sub(r"\s+", "", req).replace('"', "'").lower()


def _pyproject_requirements():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in ("book", "test"):
        reqs += project["optional-dependencies"][extra]
    return reqs


def _environment_pip_requirements():
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    reqs = []
    for line in lines[start + 1:]:
        m = re.match(r"^\s+-\s+(.*)$", line)
        if not m:
            break
        reqs.append(m.group(1))
    return reqs


def test_environment_yml_pins_match_pyproject():
    env = _environment_pip_requirements()
    assert "-e ." in env, "environment.yml must install the course package itself"
    env = sorted(_normalise(r) for r in env if r != "-e .")
    assert env == sorted(_normalise(r) for r in _pyproject_requirements())


def test_every_requirement_is_pinned():
    for req in _pyproject_requirements():
        assert "==" in req, f"{req} is not pinned"


def test_environment_python_matches_supported_range():
    text = (ROOT / "environment.yml").read_text()
    assert re.search(r"^\s+- python=3\.11$", text, re.M)
