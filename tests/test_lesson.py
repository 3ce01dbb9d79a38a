"""The lesson set-up: one line of output, quiet TensorFlow, fixed seeds, the right package version."""

import os
import random
import subprocess
import sys

import numpy as np
import pytest

from musegen_lessons import __version__
from musegen_lessons.errors import VersionMismatchError
from musegen_lessons.lesson import is_quick, output_dir, start_lesson


def test_start_lesson_prints_one_line_with_the_mode(capsys, monkeypatch):
    monkeypatch.setenv("MUSEGEN_QUICK", "1")
    start_lesson("01_representation", written_for=__version__)
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert "01_representation" in lines[0] and "quick mode" in lines[0] and __version__ in lines[0]


def test_full_mode_is_the_default(monkeypatch):
    monkeypatch.delenv("MUSEGEN_QUICK", raising=False)
    assert not is_quick()
    monkeypatch.setenv("MUSEGEN_QUICK", "0")
    assert not is_quick()
    monkeypatch.setenv("MUSEGEN_QUICK", "yes")
    assert is_quick()


def test_seeds_make_random_draws_repeat(capsys):
    start_lesson("00_welcome", written_for=__version__, seed=7)
    first = (random.random(), np.random.rand())
    start_lesson("00_welcome", written_for=__version__, seed=7)
    assert (random.random(), np.random.rand()) == first


def test_a_notebook_for_another_version_is_refused_with_what_to_do():
    with pytest.raises(VersionMismatchError, match="pip install -e"):
        start_lesson("00_welcome", written_for="99.0.0")


def test_tensorflow_is_silenced_before_it_is_imported():
    code = (
        "from musegen_lessons.lesson import start_lesson\n"
        f"start_lesson('00_welcome', written_for='{__version__}')\n"
        "import os, sys\n"
        "assert 'tensorflow' not in sys.modules\n"
        "print(os.environ['TF_CPP_MIN_LOG_LEVEL'], os.environ['TF_ENABLE_ONEDNN_OPTS'])\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.splitlines()[-1] == "2 0"


def test_importing_the_package_does_not_import_tensorflow():
    """Every module but the Keras layers' own (whose classes are Keras's subclasses) imports without TensorFlow, so
    that the numpy lessons, the checks and the grader never wait for it."""
    code = (
        "import importlib, pkgutil, sys, musegen_lessons\n"
        "from musegen_lessons.course.checks import exercises\n"
        "names = [m.name for m in pkgutil.walk_packages(musegen_lessons.__path__, 'musegen_lessons.')]\n"
        "for name in names:\n"
        "    if name != 'musegen_lessons.layers.relative_attention':\n"
        "        importlib.import_module(name)\n"
        "exercises()\n"
        "print(len(names), 'tensorflow' in sys.modules, 'keras' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    modules, tensorflow, keras = out.split()
    assert int(modules) > 60 and (tensorflow, keras) == ("False", "False")


def test_output_dir_is_created_beside_the_notebook(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert output_dir().resolve() == (tmp_path / "output").resolve() and (tmp_path / "output").is_dir()


def test_benchmark_results_are_read_when_saved_and_none_before(tmp_path, monkeypatch):
    from musegen_lessons import lesson

    monkeypatch.setattr(lesson, "BENCHMARK_RESULTS", tmp_path)
    assert lesson.benchmark_results("melody") is None
    (tmp_path / "melody.json").write_text('{"rows": [{"model": "3-gram"}]}')
    assert lesson.benchmark_results("melody") == {"rows": [{"model": "3-gram"}]}
