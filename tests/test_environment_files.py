"""pyproject.toml and environment.yml (conda, Binder) install the same course."""

from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10, which the course supports: pytest itself brings tomli there
    import tomli as tomllib
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def _pyproject():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def _canonical(requirements):
    return {str(Requirement(r)) for r in requirements}


def test_environment_yml_pins_the_same_requirements_as_pyproject():
    project = _pyproject()
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    [pip_section] = [d for d in environment["dependencies"] if isinstance(d, dict)]
    conda_pip = [r for r in pip_section["pip"] if not r.startswith("-e")]
    assert _canonical(conda_pip) == _canonical(project["dependencies"] + project["optional-dependencies"]["dev"])
    assert "-e ." in pip_section["pip"], "the environment must install the course package itself"


def test_environment_yml_uses_conda_forge_and_python_311():
    environment = yaml.safe_load((ROOT / "environment.yml").read_text())
    assert environment["channels"] == ["conda-forge"]
    assert "python=3.11" in environment["dependencies"]


def test_tensorflow_cpu_is_chosen_on_linux_x86_64_only():
    by_name = {Requirement(r).name: Requirement(r) for r in _pyproject()["dependencies"]}
    linux = {"sys_platform": "linux", "platform_machine": "x86_64"}
    mac = {"sys_platform": "darwin", "platform_machine": "arm64"}
    assert by_name["tensorflow-cpu"].marker.evaluate(linux) and not by_name["tensorflow-cpu"].marker.evaluate(mac)
    assert by_name["tensorflow"].marker.evaluate(mac) and not by_name["tensorflow"].marker.evaluate(linux)
    assert "keras" in by_name


def test_the_makefile_offers_the_readme_commands():
    makefile = (ROOT / "Makefile").read_text()
    for target in ("lab:", "test:", "release:", "bench:"):
        assert f"\n{target}" in makefile
    readme = (ROOT / "README.md").read_text()
    assert "make lab" in readme and "make test" in readme
    assert (ROOT / ".ci" / "run").read_text().strip().endswith("make test")
