"""The chorales as 88-key frames, split into train, valid and test: the JSB benchmark's own split, or one like it
made from music21's chorales.

The benchmark split (Boulanger-Lewandowski et al. 2012) comes with the course, in data/jsb/ (its provenance in
data/README.md): the quarter-note file the literature measures on, read by `read_jsb`, and the same chorales at 16th
notes with the four voices kept apart, read by `read_jsb_voices`. `MUSEGEN_JSB` may name another copy of the
quarter-note file, or say `off`; then `build_chorale_split` makes the same kind of split from music21's own chorales:
every chorale in C major or C minor, quarter-note frames, split by tune.

Lesson: 08_polyphony
"""

import contextlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from musegen_lessons.corpora.bundled import load_chorale
from musegen_lessons.corpora.cache import cache_dir, cache_lock, parallel_map, write_json
from musegen_lessons.corpora.melodies import load_melodies
from musegen_lessons.corpora.splits import SPLITS, split_by_tune
from musegen_lessons.errors import DataFileError
from musegen_lessons.lesson import DATA_DIR, is_quick
from musegen_lessons.music.encoding import PIANO_KEYS, piano_key
from musegen_lessons.music.frames import frame_to_pitches, pitches_to_frame
from musegen_lessons.music.melody import transposition_to_c

JSB_ENV = "MUSEGEN_JSB"
JSB_FILE = DATA_DIR / "jsb" / "jsb-chorales-quarter.json"
JSB_VOICES_FILE = DATA_DIR / "jsb" / "Jsb16thSeparated.json"
JSB_PUBLIC_COPY = (
    "https://github.com/czhuang/JSB-Chorales-dataset (jsb-chorales-quarter.pkl: the same split, "
    "to be saved as JSON in the structure read_jsb reads)"
)
VOICES = ("soprano", "alto", "tenor", "bass")
REST = -1  # a voice that is silent at a step, in the voices file
QUICK_PIECES = {"train": 60, "valid": 20, "test": 20}  # quick mode reads the first pieces of each split
FRAMES_CACHE_FORMAT = 1
QUICK_CHORALES = 80  # quick mode reads this many chorales when it builds the split from music21


@dataclass
class FrameSplit:
    """Chorales as frames, split into train, valid and test: {split: [array (frames, 88) of 0/1, ...]}.

    Lesson: 08_polyphony

    `official` is True only for the benchmark's own split, the one the published figures are measured on.
    """

    source: str
    official: bool
    pieces: dict
    path: str = ""

    def summary(self):
        """One line per split: pieces, frames, frames that are scored (all but each piece's first)."""
        lines = [f"{self.source}"]
        for split in SPLITS:
            frames = sum(len(p) for p in self.pieces[split])
            lines.append(
                f"  {split:<6}{len(self.pieces[split]):>5} pieces {frames:>7,} frames "
                f"{frames - len(self.pieces[split]):>7,} scored"
            )
        return "\n".join(lines)


def find_jsb():
    """The JSB quarter-note file: the one `MUSEGEN_JSB` names, else the course's copy in data/jsb/; None if
    `MUSEGEN_JSB` says `off` (or the course's copy is missing).

    Lesson: 08_polyphony
    """
    chosen = os.environ.get(JSB_ENV, "").strip()
    if chosen.lower() in ("off", "none", "no", "0"):
        return None
    if chosen:
        return Path(chosen)
    return JSB_FILE if JSB_FILE.is_file() else None


def read_jsb(path):
    """Read the benchmark split from its JSON file ({'train'/'valid'/'test': [piece = [step = [pitches]]]}).

    Lesson: 08_polyphony

    Raises:
        DataFileError: the file is missing, is not JSON, or does not hold the three splits of pitch lists.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        pieces = {split: [_pitch_lists_to_frames(piece) for piece in data[split]] for split in SPLITS}
    except FileNotFoundError:
        raise DataFileError(
            f"No JSB file at '{path}'. Set {JSB_ENV} to the quarter-note JSON file "
            f"(public copy: {JSB_PUBLIC_COPY}), or unset it to use music21's chorales."
        ) from None
    except (ValueError, KeyError, TypeError, OSError) as error:  # MelodyError and NotationError are ValueErrors
        raise DataFileError(
            f"'{path}' is not the JSB quarter-note split ({type(error).__name__}: {error}). It must be JSON "
            "{'train'|'valid'|'test': [piece, ...]}, piece = [[midi pitch, ...], ...]."
        ) from error
    if any(len(piece) < 2 for split in SPLITS for piece in pieces[split]) or not all(pieces.values()):
        raise DataFileError(f"'{path}' has an empty split or a piece shorter than two frames: nothing to score.")
    return FrameSplit(
        "JSB Chorales, the benchmark's own split (Boulanger-Lewandowski et al. 2012)", True, pieces, str(path)
    )


def chorale_frames(score, semitones=0):
    """A chorale's frames at quarter-note resolution: the keys sounding at the start of every quarter note.

    Lesson: 08_polyphony

    Only the four voices are read (a score's instrument parts, where there are any, double them or decorate).
    """
    parts = [p for p in score.parts if _voice_name(p)] or list(score.parts)[-4:]
    notes = [
        (int(p.midi) + semitones, float(n.offset), float(n.offset + n.quarterLength))
        for part in parts
        for n in part.stripTies().flatten().notes
        for p in n.pitches
    ]
    length = int(np.ceil(max(end for _, _, end in notes) - 1e-9))
    frames = np.zeros((length, PIANO_KEYS), np.uint8)
    for pitch, start, end in notes:
        first, last = int(np.ceil(start - 1e-9)), int(np.ceil(end - 1e-9))  # the quarters whose start it covers
        frames[first:last, piano_key(pitch)] = 1
    return frames


def build_chorale_split(quick=None, cache=True, progress=True):
    """The JSB kind of split made from music21's own chorales, for where the benchmark file is absent.

    Lesson: 08_polyphony

    Each chorale goes to C major or C minor (as the benchmark's do), becomes quarter-note frames, and goes to
    train, valid or test with every other harmonisation of its tune (lesson 02's split by tune, with the tune
    read from the chord frames' top line, see `top_line`). The frames are cached as JSON.
    """
    quick = is_quick() if quick is None else quick
    melodies = load_melodies("chorales", limit=QUICK_CHORALES if quick else None, quick=quick, progress=progress)
    path = cache_dir() / f"chorale-frames-{'quick' if quick else 'all'}.json"
    source = {"format": FRAMES_CACHE_FORMAT, "melodies": melodies.source}
    with cache_lock(path) if cache else contextlib.nullcontext():
        cached = _read_frames_cache(path, source) if cache else None
        if cached is None:
            jobs = [(piece.id, _shift_to_c(piece)) for piece in melodies.pieces]
            lists = parallel_map(_chorale_pitch_lists, jobs, progress, "chorale frames")
            cached = dict(zip([job[0] for job in jobs], lists))
            if cache:
                write_json(path, {"source": source, "pieces": cached})
    frames = [_pitch_lists_to_frames(cached[piece.id]) for piece in melodies.pieces]
    indices = split_by_tune([top_line(f) for f in frames])
    pieces = {split: [frames[i] for i in indices[split]] for split in SPLITS}
    label = f"music21's Bach chorales{f' (quick mode: the first {QUICK_CHORALES})' if quick else ''}, split by tune"
    return FrameSplit(label, False, pieces, str(path))


def top_line(frames):
    """The highest note of every sounding frame, a repeated note counted once: the tune, at quarter-note grain.

    Lesson: 08_polyphony

    The split groups chorales by this line as lesson 02 groups melodies (`splits.group_by_tune`); at this grain a
    passing note between two beats has dropped out before the edit distance is taken.
    """
    top = [max(frame_to_pitches(f)) for f in np.asarray(frames) if f.any()]
    return [p for i, p in enumerate(top) if i == 0 or p != top[i - 1]]


def load_frame_split(quick=None, progress=True):
    """The benchmark split (see `find_jsb`), else `build_chorale_split`. Quick mode keeps the first pieces of each
    split (`QUICK_PIECES`), so that the lesson's tests train on little.

    Lesson: 08_polyphony
    """
    path = find_jsb()
    if path is None:
        return build_chorale_split(quick=quick, progress=progress)
    split = read_jsb(path)
    if not (is_quick() if quick is None else quick):
        return split
    return FrameSplit(
        split.source + " (quick mode: the first pieces of each split)",
        split.official,
        {name: pieces[: QUICK_PIECES[name]] for name, pieces in split.pieces.items()},
        split.path,
    )


def read_jsb_voices(path=JSB_VOICES_FILE):
    """The benchmark's chorales at 16th notes with the four voices kept apart (Coconet's `Jsb16thSeparated`, the
    same 229 / 76 / 77 split as the quarter-note file, in the chorales' own keys).

    Returns {split: [array (steps, 4) of MIDI pitches, soprano to bass, `REST` (-1) where a voice is silent]}.

    Lesson: 08_polyphony

    Raises:
        DataFileError: the file is missing, is not JSON, or does not hold the three splits of four-voice steps.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text())
        pieces = {
            split: [np.asarray(piece, np.int64).reshape(-1, len(VOICES)) for piece in data[split]] for split in SPLITS
        }
    except FileNotFoundError:
        raise DataFileError(f"No JSB voices file at '{path}'; the course keeps it in {JSB_VOICES_FILE}.") from None
    except (ValueError, KeyError, TypeError, OSError) as error:
        raise DataFileError(
            f"'{path}' is not the JSB split with voices apart ({type(error).__name__}: {error}). It must be JSON "
            "{'train'|'valid'|'test': [piece, ...]}, piece = [[soprano, alto, tenor, bass], ...], -1 for a rest."
        ) from error
    for split, chorales in pieces.items():
        for number, piece in enumerate(chorales):
            if len(piece) < 2 or piece.min() < REST or piece.max() > 127:
                raise DataFileError(
                    f"'{path}': piece {number} of '{split}' is shorter than two steps or holds a value that is "
                    "neither a MIDI pitch (0–127) nor -1 for a rest."
                )
    if not all(pieces.values()):
        raise DataFileError(f"'{path}' has an empty split: nothing to train or score on.")
    return pieces


def _pitch_lists_to_frames(piece):
    """A piece stored as lists of MIDI pitches (the benchmark file's format, and the cache's) as frames."""
    return np.array([pitches_to_frame(step) for step in piece], np.uint8).reshape(-1, PIANO_KEYS)


def _shift_to_c(piece):
    """Semitones that take a melody-corpus piece's tonic to C: that corpus moved minor keys to A minor instead."""
    tonic = ((0 if piece.mode == "major" else 9) - piece.transposition) % 12
    return transposition_to_c(tonic, "major")


def _chorale_pitch_lists(job):
    name, semitones = job
    return [frame_to_pitches(frame) for frame in chorale_frames(load_chorale(name), semitones)]


def _voice_name(part):
    name = str(part.partName or part.id or "").strip().lower()
    return any(voice in name for voice in ("soprano", "alto", "tenor", "bass"))


def _read_frames_cache(path, source):
    try:
        data = json.loads(path.read_text())
        return data["pieces"] if data["source"] == source else None
    except (OSError, ValueError, KeyError, TypeError):
        return None
