"""The lesson set-up that every notebook's first cell calls, and the course's quick mode.

Lesson: 00_welcome
"""

import os
import random
from pathlib import Path

from musegen_lessons import __version__
from musegen_lessons.errors import VersionMismatchError

QUICK_ENV = "MUSEGEN_QUICK"
DEFAULT_SEED = 0
# The course's folders, found from the package's own place, so that a lesson finds them wherever it runs.
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DATA_DIR = PROJECT_ROOT / "data"  # the kept models, the JSB split, the published protocol's folds
# What `make bench` measured at the full budgets: the figures a lesson shows beside what it trains live.
BENCHMARK_RESULTS = PROJECT_ROOT / "benchmarks" / "results"


def is_quick():
    """True in quick mode (`MUSEGEN_QUICK=1`): smaller data and fewer epochs, so that a lesson runs in seconds.

    Lesson: 00_welcome
    """
    return os.environ.get(QUICK_ENV, "").strip().lower() not in ("", "0", "false", "no")


def start_lesson(lesson, written_for, seed=DEFAULT_SEED):
    """Prepare the kernel for a lesson and print one line saying how it is set up.

    Lesson: 00_welcome

    Silences TensorFlow's start-up messages (they must be set before TensorFlow is first imported), fixes the
    random seeds of Python and numpy (and of Keras once a lesson imports it, through `seed_everything`), and
    checks that the installed package is the version this notebook was written for.

    Args:
        lesson: the notebook's name, e.g. '01_representation'.
        written_for: the package version the notebook was written for; major and minor must match.
        seed: the random seed for this lesson.

    Raises:
        VersionMismatchError: the installed package is another major.minor version than the notebook's.
    """
    quiet_tensorflow()
    if _major_minor(written_for) != _major_minor(__version__):
        raise VersionMismatchError(
            f"This notebook was written for musegen_lessons {written_for}, but {__version__} is installed. "
            "Use the notebooks that came with your copy of the package, or reinstall the package that came with "
            "these notebooks: `pip install -e .` in the course folder (make lab does it)."
        )
    seed_everything(seed)
    mode = "quick mode (MUSEGEN_QUICK=1: small data, few epochs)" if is_quick() else "full mode"
    print(f"MuseGen Lessons {__version__} · lesson {lesson} · {mode} · seed {seed}")


def quiet_tensorflow():
    """Set TensorFlow's start-up options; they only count if set before TensorFlow is first imported.

    Lesson: 00_welcome
    """
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hide TensorFlow's INFO and WARNING start-up lines
    os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")  # exact, repeatable CPU maths, and no notice about it


def seed_everything(seed=DEFAULT_SEED):
    """Seed Python's, numpy's and (if it is already imported) Keras's random number generators.

    Lesson: 00_welcome
    """
    import sys

    import numpy as np

    random.seed(seed)
    np.random.seed(seed)
    if "keras" in sys.modules:
        sys.modules["keras"].utils.set_random_seed(seed)


def output_dir(name="output"):
    """Return a folder beside the notebook for the files a lesson writes (MIDI, audio, scores); it is created.

    Lesson: 00_welcome
    """
    path = Path(name)
    path.mkdir(parents=True, exist_ok=True)
    return path


def benchmark_results(name):
    """A benchmark's saved figures, from benchmarks/results/<name>.json, or None before `make bench` wrote them.

    Lesson: 05_keras_model, 08_polyphony, 09_wavenet, 10_transformer, 11_gan, 12_vae (what they trained live,
    beside what the full budgets reached); read from the package's folder, so that a lesson finds them wherever it runs
    """
    import json

    path = BENCHMARK_RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.is_file() else None


def _major_minor(version):
    return tuple(str(version).split(".")[:2])
