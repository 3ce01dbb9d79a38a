"""The music the course learns from: Bach chorales and Essen folk songs, bundled with music21, offline.

From each piece the course takes one melody (the soprano of a chorale, the tune of a folk song), cleans it,
transposes it to C major or A minor, and turns it into tokens. Loading a whole collection takes minutes the
first time, so the result is cached as JSON (never pickle) under the user's cache folder and rebuilt whenever
it is missing, stale or damaged.

Lesson: 01_representation (one chorale); 02_preprocessing (the whole corpus)
"""

import contextlib
import json
import os
import sys
import time
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path

from . import essen
from .encoding import notes_to_tokens, validate_tokens
from .errors import ChoiceError, MelodyError
from .essen import CHORD, GRACE_NOTE
from .lesson import is_quick
from .melody import Melody, home_key, transposition_to_c
from .notation import parse_key

EXAMPLE_CHORALE = "bach/bwv66.6"  # "Christ unser Herr zum Jordan kam": short, four voices, in F# minor
COLLECTIONS = ("chorales", "folk")
CACHE_ENV = "MUSEGEN_CACHE"
CACHE_FORMAT = 2  # bump when what a cached piece holds, or how it is cleaned, changes
MELODY_RANGE = (48, 88)  # C3 to E6 after transposition: wider than any singer's tune, narrower than noise
MIN_STEPS = 16  # a melody shorter than one 4/4 bar teaches nothing about melody
QUICK_LIMITS = {"chorales": 80, "folk": 1}  # quick mode: 80 chorales and the first folk-song book (313 songs)

# Why a piece is left out, in the words the lesson prints.
OFF_GRID = "rhythm off the 16th-note grid (tuplets)"
GRACE = "grace notes"
CHORDS = "chords in the melody"
OUT_OF_RANGE = "pitch range out of bounds"
TOO_SHORT = "shorter than one bar"
NO_NOTES = "no notes"
DUPLICATE = "same melody as an earlier piece"


@dataclass
class Piece:
    """One cleaned melody, in C major or A minor, as tokens on the 16th-note grid.

    Lesson: 02_preprocessing

    `transposition` is how many semitones the piece was moved to reach C major / A minor, so the original
    pitches are the tokens' minus it. `pickup_steps` is how far into its bar the first step falls (an upbeat),
    and `bar_steps` how many steps a bar has, so that a step's position in the bar can be recovered.
    """

    id: str
    collection: str
    title: str
    key: str  # as found, before transposition: 'F# minor'
    transposition: int
    time_signature: str
    bar_steps: int
    pickup_steps: int
    tokens: list = field(repr=False)

    @property
    def mode(self):
        return self.key.split()[-1]

    @property
    def melody(self):
        """The cleaned melody with its key (C major or A minor), metre and upbeat; `.transposed(piece.key)` gives
        it back as found."""
        return Melody(self.tokens, home_key(self.key), self.time_signature, self.pickup_steps)


@dataclass
class MelodyCorpus:
    """A cleaned collection: the pieces kept, and for every piece left out, the reason.

    Lesson: 02_preprocessing
    """

    collection: str
    pieces: list
    dropped: dict  # reason -> list of piece ids
    failed: dict  # piece id -> why music21 could not read it
    source: dict  # what made it: music21 version, cache format, limit

    def report(self):
        """A few lines: how many pieces were read, kept, dropped for each reason, and failed to parse."""
        total = len(self.pieces) + sum(map(len, self.dropped.values())) + len(self.failed)
        steps = sum(len(p.tokens) for p in self.pieces)
        lines = [f"{self.collection}: {total} pieces read, {len(self.pieces)} kept ({steps:,} tokens)"]
        for reason, ids in sorted(self.dropped.items(), key=lambda item: -len(item[1])):
            lines.append(f"  dropped {len(ids):4d}: {reason} (e.g. {ids[0]})")
        if self.failed:
            first = next(iter(self.failed.items()))
            lines.append(f"  failed  {len(self.failed):4d}: music21 could not read them (e.g. {first[0]}: {first[1]})")
        return "\n".join(lines)


def load_chorale(name=EXAMPLE_CHORALE):
    """Parse a chorale from music21's bundled corpus (no network) and return the music21 Score.

    Lesson: 01_representation
    """
    from music21 import corpus

    return corpus.parse(name)


def soprano_part(score):
    """Return the part that carries a chorale's tune: the one named Soprano, not simply the first part.

    Lesson: 01_representation

    Some chorales open with an instrument part (horn, trumpet, violin), so position is not a safe guide.

    Raises:
        MelodyError: the score has no parts.
    """
    parts = list(score.parts)
    if not parts:
        raise MelodyError("This score has no parts, so it has no soprano to take the melody from.")
    for part in parts:
        for name in (part.partName, part.id):
            name = name.strip().lower() if isinstance(name, str) else ""
            if "soprano" in name or name in ("s", "s.") or name.startswith("s. "):
                return part
    return parts[0]


def melody_notes(part):
    """List a monophonic part's notes as (pitch, start, end) in quarter notes, ties joined, rests skipped.

    Lesson: 01_representation

    Raises:
        MelodyError: the part has no notes, or holds chords (it is not one melodic line).
    """
    notes = []
    for element in part.stripTies().flatten().notes:
        if element.isChord:
            raise MelodyError(f"The part holds a chord at quarter {float(element.offset)}: it is not a single melody.")
        start = float(element.offset)
        notes.append((int(element.pitch.midi), start, start + float(element.quarterLength)))
    if not notes:
        raise MelodyError("The part has no notes: there is no melody to take.")
    return notes


def chorale_names():
    """The names of the Bach chorales in music21's corpus, each once ('bach/bwv269', ...), in catalogue order.

    Lesson: 02_preprocessing
    """
    from music21 import corpus

    return list(dict.fromkeys(corpus.chorales.Iterator(returnType="filename")))


def folk_song_books():
    """The Essen folk-song books in music21's corpus ('essenFolksong/kinder0', ...), test files left out.

    Lesson: 02_preprocessing
    """
    import music21

    folder = Path(music21.__file__).parent / "corpus" / "essenFolksong"
    return [f"essenFolksong/{p.stem}" for p in sorted(folder.glob("*.abc")) if not p.stem.startswith("test")]


def analyze_key(notes):
    """The key of some music, found as music21's `analyze("key")` finds it: 'F# minor'.

    Lesson: 02_preprocessing

    The Krumhansl–Schmuckler method with the Aarden–Essen profiles (music21's default): add up how long each of
    the 12 pitch classes sounds, correlate that with each profile turned to each of the 12 tonics, and take the key
    whose correlation is highest. This is music21's arithmetic, step for step, without the 24 music21 Key objects
    it builds for every piece, which made key finding the slowest part of reading the corpus.

    Args:
        notes: (pitch, start, end) in quarter notes, any number of voices (see `score_notes`).

    Raises:
        MelodyError: there are no notes, so there is no key to find.
    """
    durations = [0.0] * 12
    count = 0
    for note in notes:
        durations[int(note[0]) % 12] += note[2] - note[1]
        count += 1
    if not count:
        raise MelodyError("There are no notes, so there is no key to find.")
    best = max(
        (_correlation(durations, profile, tonic), tonic, mode == "minor")
        for mode, profile in _key_profiles().items()
        for tonic in range(12)
    )
    return _key_names()[best[1], "minor" if best[2] else "major"]


def score_notes(music):
    """Every note of a music21 score, part or stream as (pitch, start, end) in quarter notes, chords as their pitches.

    Lesson: 02_preprocessing
    """
    return [
        (int(p.midi), float(n.offset), float(n.offset + n.quarterLength))
        for n in music.flatten().notes
        for p in n.pitches
    ]


def clean_melody(part, key, piece_id, collection, title):
    """Turn one melodic part (music21) into a `Piece`, or give the reason it cannot be one.

    Lesson: 02_preprocessing

    Args:
        part: a music21 part holding one melody.
        key: the key the piece is in, e.g. 'F# minor' (`analyze_key`); the melody is moved from it to C major or
            A minor.

    Returns:
        (Piece, None) or (None, reason); see `clean_elements`.
    """
    elements = [
        (
            tuple(int(p.midi) for p in e.pitches),
            float(e.offset),
            float(e.quarterLength),
            GRACE_NOTE if e.duration.isGrace else CHORD if e.isChord else None,
        )
        for e in part.stripTies().flatten().notes
    ]
    bar_steps, pickup_steps, meter = _bar_position(part)
    return clean_elements(elements, key, meter, bar_steps, pickup_steps, piece_id, collection, title)


def clean_elements(elements, key, time_signature, bar_steps, pickup_steps, piece_id, collection, title):
    """Clean a melody given as elements in time, and make it a `Piece`, or give the reason it cannot be one.

    Lesson: 02_preprocessing

    Args:
        elements: (pitches, start, length, kind) in quarter notes, ties joined, rests left out; kind is None for a
            note, 'grace note' or 'chord' (`essen.Tune.elements`, or what `clean_melody` reads off a music21 part).
        key: the key the piece is in, e.g. 'F# minor'.

    Returns:
        (Piece, None) or (None, reason). A piece is left out for grace notes, chords, rhythms off the 16th-note
        grid (tuplets), a range outside `MELODY_RANGE` after transposition, or fewer than `MIN_STEPS` steps.
    """
    if not elements:
        return None, NO_NOTES
    if any(kind == GRACE_NOTE or length == 0 for _, _, length, kind in elements):
        return None, GRACE
    if any(kind == CHORD for *_, kind in elements):
        return None, CHORDS
    for _, start, length, _ in elements:
        for quarters in (start, length):
            if abs(quarters * 4 - round(quarters * 4)) > 1e-6:
                return None, OFF_GRID
    shift = transposition_to_c(*parse_key(key))
    notes = [(pitches[0] + shift, start, start + length) for pitches, start, length, _ in elements]
    low, high = min(n[0] for n in notes), max(n[0] for n in notes)
    if low < MELODY_RANGE[0] or high > MELODY_RANGE[1]:
        return None, OUT_OF_RANGE
    try:
        tokens = notes_to_tokens(notes)
    except MelodyError:  # overlapping notes: the part is not one line after all
        return None, CHORDS
    if len(tokens) < MIN_STEPS:
        return None, TOO_SHORT
    piece = Piece(piece_id, collection, title, key, shift, time_signature, bar_steps, pickup_steps, tokens)
    return piece, None


def load_melodies(collection, limit=None, cache=True, progress=True, quick=None):
    """Load, clean and key-normalise a whole collection; cached after the first time.

    Lesson: 02_preprocessing

    Args:
        collection: 'chorales' (Bach, soprano parts) or 'folk' (Essen folk songs, their tunes).
        limit: read only the first `limit` chorales, or folk-song books; None reads all, and in quick mode
            None means `QUICK_LIMITS`.
        quick: True or False to choose; None follows MUSEGEN_QUICK. Lesson 05 measures the kept model on
            the whole corpus's test split even in quick mode, so it passes False.
        cache: read and write the cache (`MUSEGEN_CACHE`, else the user's cache folder).
        progress: show a progress bar while parsing.

    Returns:
        a `MelodyCorpus`. Pieces that music21 cannot parse are counted in `failed`, never raised.
    """
    if collection not in COLLECTIONS:
        raise ChoiceError(f"collection must be one of {COLLECTIONS}, not {collection!r}")
    if limit is None and (is_quick() if quick is None else quick):
        limit = QUICK_LIMITS[collection]
    import music21

    source = {"collection": collection, "limit": limit, "format": CACHE_FORMAT, "music21": music21.__version__}
    path = cache_dir() / f"{collection}-{limit or 'all'}.json"
    with cache_lock(path) if cache else contextlib.nullcontext():
        cached = _read_cache(path, source) if cache else None
        if cached is not None:
            return cached
        sources = chorale_names() if collection == "chorales" else folk_song_books()
        sources = sources[:limit] if limit else sources
        extract = _extract_chorale if collection == "chorales" else _extract_folk_book
        results = parallel_map(extract, sources, progress, desc=f"reading {collection}")
        corpus = _collect(collection, results, source)
        if cache:
            write_json(path, {**asdict(corpus), "written": time.strftime("%Y-%m-%d %H:%M:%S")})
        return corpus


def cache_dir():
    """The folder of the corpus cache: `MUSEGEN_CACHE` if set, else the user's cache folder (platformdirs).

    Lesson: 02_preprocessing
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("musegen-lessons"))


def _extract_chorale(name):
    """[(id, Piece or None, reason or None)] for one chorale; an unreadable file is reported as ('failed', ...)."""
    try:
        score = load_chorale(name)
        key = analyze_key(score_notes(score))  # all four voices: the harmony decides major or minor
        return [(name, *clean_melody(soprano_part(score), key, name, "chorales", _title(score, name)))]
    except Exception as error:  # music21 raises many types for files it cannot read; all mean "skip it"
        return [(name, None, f"failed: {type(error).__name__}: {error}")]


def _extract_folk_book(book):
    """The same for every song of an Essen book, read through `essen`'s fast path."""
    try:
        tunes = essen.read_book(book)
    except Exception as error:
        return [(book, None, f"failed: {type(error).__name__}: {error}")]
    results = []
    for number, tune, problem in tunes:
        piece_id = f"{book}#{number}"
        if tune is None:
            results.append((piece_id, None, f"failed: {problem}"))
            continue
        try:
            bar_steps = round(tune.bar_quarters * 4)
            title = tune.title.strip().title() or piece_id
            cleaned = clean_elements(
                tune.elements,
                analyze_key(tune.notes),
                tune.time_signature,
                bar_steps,
                round(tune.pickup_quarters * 4) % bar_steps,
                piece_id,
                "folk",
                title,
            )
            results.append((piece_id, *cleaned))
        except Exception as error:
            results.append((piece_id, None, f"failed: {type(error).__name__}: {error}"))
    return results


def _collect(collection, results, source):
    pieces, dropped, failed, seen = [], {}, {}, set()
    for piece_id, piece, reason in (row for rows in results for row in rows):
        if reason and reason.startswith("failed: "):
            failed[piece_id] = reason[len("failed: ") :]
        elif piece is None:
            dropped.setdefault(reason, []).append(piece_id)
        elif tuple(piece.tokens) in seen:
            dropped.setdefault(DUPLICATE, []).append(piece_id)
        else:
            seen.add(tuple(piece.tokens))
            pieces.append(piece)
    return MelodyCorpus(collection, pieces, dropped, failed, source)


def parallel_map(function, items, progress, desc):
    """function over items, in order, on every core when there are many (parsing is slow and independent).

    Lesson: 02_preprocessing
    """
    import multiprocessing

    from tqdm.auto import tqdm

    # leave=False: the bar goes when the work is done, so a saved notebook keeps no widget that can no longer show
    workers = min(os.cpu_count() or 1, 4)
    # fork starts workers in milliseconds and needs no `if __name__ == "__main__"` guard in the caller's script;
    # where it does not exist (Windows, macOS defaults) the pieces are simply read one after another. So they are
    # once TensorFlow runs in this process: a fork copies none of its threads, and a copy can crash without them.
    forkable = "fork" in multiprocessing.get_all_start_methods() and "tensorflow" not in sys.modules
    if len(items) < 20 or workers == 1 or not forkable:
        return [function(item) for item in tqdm(items, desc=desc, disable=not progress, leave=False)]
    from concurrent.futures import ProcessPoolExecutor

    # a few large items (27 folk-song books): one at a time, so both cores finish together
    chunk = 1 if len(items) < 100 else 4
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        mapped = pool.map(function, items, chunksize=chunk)
        return list(tqdm(mapped, total=len(items), desc=desc, disable=not progress, leave=False))


def _read_cache(path, source):
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text())
        if data["source"] != source:
            print(f"The corpus cache {path} was made by another version; rebuilding it.")
            return None
        pieces = [Piece(**p) for p in data["pieces"]]
        for piece in pieces:  # JSON of the right shape can still hold nonsense; it is checked, not trusted
            if not isinstance(piece.tokens, list):
                raise TypeError(f"the tokens of {piece.id} are not a list")
            validate_tokens(piece.tokens)
        return MelodyCorpus(data["collection"], pieces, data["dropped"], data["failed"], source)
    except (ValueError, KeyError, TypeError) as error:
        print(f"The corpus cache {path} is damaged ({type(error).__name__}); rebuilding it.")
        return None


@contextlib.contextmanager
def cache_lock(path):
    """Hold a lock on a cache file while it is read or built, so that two lessons (or two test workers) that need
    the same cache at once build it once: the second waits, then reads what the first wrote.

    Lesson: 02_preprocessing

    Where the system has no file locks (Windows), there is no lock: each builds its own, and `write_json` keeps the
    file whole either way.
    """
    try:
        import fcntl
    except ImportError:
        yield
        return
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def write_json(path, data):
    """Write data as JSON to a cache file, whole or not at all: into a temporary file first, then moved.

    Lesson: 02_preprocessing

    Two lessons building the same cache at once, or a kernel stopped half-way, never leave half a file.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")
    temporary.write_text(json.dumps(data))
    os.replace(temporary, path)


def _title(score, fallback):
    title = score.metadata.title if score.metadata is not None else None
    return str(title).strip().title() if title else fallback


def _bar_position(part):
    """(steps per bar, steps into the bar at which the piece starts, time signature) from the first measure."""
    from music21 import meter

    measures = part.getElementsByClass("Measure")
    first = measures[0] if measures else None
    signature = part.recurse().getElementsByClass(meter.TimeSignature).first()
    signature = signature or meter.TimeSignature("4/4")
    bar_steps = round(float(signature.barDuration.quarterLength) * 4)
    padding = float(first.paddingLeft) if first is not None else 0.0
    return bar_steps, round(padding * 4) % bar_steps, signature.ratioString


def _correlation(durations, profile, tonic):
    """Pearson's correlation of pitch-class durations with a key profile turned to a tonic, in music21's order of
    arithmetic (`KeyWeightKeyAnalysis._getDifference`), so that near-ties between keys fall the same way."""
    weights = [profile[(j - tonic) % 12] for j in range(12)]
    profile_mean, duration_mean = sum(profile) / 12, sum(durations) / 12
    top = spread_profile = spread_durations = 0.0
    for weight, duration in zip(weights, durations):
        top += (weight - profile_mean) * (duration - duration_mean)
        spread_profile += (weight - profile_mean) ** 2
        spread_durations += (duration - duration_mean) ** 2
    if spread_profile == 0 or spread_durations == 0:
        return 0.0
    return float(top / ((spread_profile * spread_durations) ** 0.5))


@lru_cache(maxsize=1)
def _key_profiles():
    """music21's Aarden–Essen key profiles, {'major': 12 weights, 'minor': 12 weights}, tonic first."""
    from music21.analysis.discrete import AardenEssen

    return {mode: AardenEssen().getWeights(mode) for mode in ("major", "minor")}


@lru_cache(maxsize=1)
def _key_names():
    """{(tonic pitch class, mode): name} spelt as music21 spells the keys it finds ('Eb major', 'G# minor')."""
    from music21 import pitch
    from music21.analysis.discrete import KeyWeightKeyAnalysis

    names = {}
    for mode, valid in (("major", KeyWeightKeyAnalysis.keysValidMajor), ("minor", KeyWeightKeyAnalysis.keysValidMinor)):
        for tonic in range(12):
            spelt = pitch.Pitch(tonic)
            if spelt.name not in valid:
                spelt = spelt.getEnharmonic()
            names[tonic, mode] = f"{spelt.name.replace('-', 'b')} {mode}"
    return names
