"""The environment check of lesson 00: is everything the course needs installed, and which synthesiser plays?

Lesson: 00_welcome
"""

import os
import platform
from importlib import metadata

from musegen_lessons import __version__
from musegen_lessons.lesson import is_quick
from musegen_lessons.music.audio import available_backends

# The distributions the lessons import, in the order a student meets them.
COURSE_PACKAGES = (
    "numpy",
    "matplotlib",
    "scipy",
    "music21",
    "pretty_midi",
    "verovio",
    "midirenderer",
    "ipywidgets",
    "jupyterlab",
    "keras",
    "tensorflow",
)


def check_environment():
    """Print a table of what the course needs and return it as {name: (found, detail)}.

    Lesson: 00_welcome

    TensorFlow is looked up by its installed version, not imported, so this check takes a moment, not
    seconds. A missing package is flagged with what to do about it.
    """
    rows = {
        "python": (True, platform.python_version()),
        "musegen_lessons": (True, __version__),
        "processor cores": (True, str(os.cpu_count())),
        "mode": (True, "quick" if is_quick() else "full"),
    }
    for name in COURSE_PACKAGES:
        version = installed_version(name)
        rows[name] = (version is not None, version or "MISSING: run `make lab` (or pip install -e .) again")
    backends = available_backends()
    for backend, reason in backends.items():
        rows[f"audio: {backend}"] = (reason is None, "ready" if reason is None else f"optional, {reason}")
    width = max(map(len, rows)) + 2
    for name, (found, detail) in rows.items():
        mark = "✔" if found else "·" if name.startswith("audio:") else "✘"
        print(f"{mark} {name:<{width}}{detail}")
    playing = next(name for name, reason in backends.items() if reason is None)
    print(f"Sound will be played with {playing}.")
    return rows


def installed_version(name):
    """The installed version of a distribution, or None. Lesson: 00_welcome"""
    # tensorflow-cpu installs the same `tensorflow` package under another distribution name.
    for distribution in (name, f"{name}-cpu") if name == "tensorflow" else (name,):
        try:
            return metadata.version(distribution)
        except metadata.PackageNotFoundError:
            continue
    return None
