"""Shared set-up and fixtures: TensorFlow's options, the bundled chorale, and small MIDI files written with
pretty_midi into tmp_path.

pytest imports this file before any test module, so the lessons' TensorFlow options (no start-up noise, the
same CPU maths) are set once here, before any test imports Keras.
"""

import matplotlib
import pretty_midi
import pytest

from musegen_lessons.corpora import bundled
from musegen_lessons.lesson import quiet_tensorflow

quiet_tensorflow()
matplotlib.use("Agg")  # no window: the tests draw into memory


@pytest.fixture(scope="session")
def chorale():
    """bach/bwv66.6 from music21's bundled corpus (offline). Shared: tests must not change it."""
    return bundled.load_chorale()


@pytest.fixture
def melody():
    """A short melody in quarter notes (pitch, start, end), with a gap between the third and fourth notes."""
    return [(60, 0.0, 1.0), (62, 1.0, 1.5), (64, 1.5, 2.0), (67, 2.5, 4.0)]


@pytest.fixture
def tempo_bpm():
    """The tempo of the fixture files: one quarter note lasts 0.5 s."""
    return 120.0


@pytest.fixture
def melody_midi_path(tmp_path, melody, tempo_bpm):
    """A real MIDI file of `melody` at `tempo_bpm`, velocity 90, written with pretty_midi itself (not the package)."""
    seconds_per_quarter = 60.0 / tempo_bpm
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo_bpm)
    piano = pretty_midi.Instrument(program=0)
    for pitch, start, end in melody:
        piano.notes.append(
            pretty_midi.Note(velocity=90, pitch=pitch, start=start * seconds_per_quarter, end=end * seconds_per_quarter)
        )
    pm.instruments.append(piano)
    path = tmp_path / "melody.mid"
    pm.write(str(path))
    return path


@pytest.fixture
def empty_midi_path(tmp_path, tempo_bpm):
    """A valid MIDI file with one piano track and no notes in it."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo_bpm)
    pm.instruments.append(pretty_midi.Instrument(program=0))
    path = tmp_path / "empty.mid"
    pm.write(str(path))
    return path


# The slowest files first. pytest-xdist hands each worker whole files (`--dist loadfile`) in the order they were
# collected, so a long file handed out last keeps one core busy while the other waits; with the long ones first,
# the short unit-test files come last and fill the gaps. The lessons run in both editions, the later lessons first,
# since they train more.
SLOWEST_FIRST = ("tests/browser/", "tests/test_grade.py", "tests/test_checks.py")


def pytest_collection_modifyitems(items):
    def rank(item):
        path = item.nodeid.split("::")[0]
        for place, slow in enumerate(SLOWEST_FIRST):
            if path.startswith(slow):
                return (0, place)
        if path.endswith(".ipynb"):
            return (1, -int(path.rsplit("/", 1)[-1][:2]))
        return (2, 0)

    items.sort(key=rank)  # a stable sort: every file keeps its own order, nbval's cells theirs
