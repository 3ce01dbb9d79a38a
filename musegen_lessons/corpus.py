"""The music the course learns from: Bach chorales and Essen folk songs, bundled with music21, offline.

From each piece the course takes one melody (the soprano of a chorale, the tune of a folk song), cleans it,
transposes it to C major or A minor, and turns it into tokens. Loading a whole collection takes minutes the
first time, so the result is cached as JSON (never pickle) under the user's cache folder and rebuilt whenever
it is missing, stale or damaged.

Lesson: 01_representation (one chorale); 02_preprocessing (the whole corpus)
"""

import json
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .encoding import notes_to_tokens, validate_tokens
from .errors import MelodyError
from .lesson import is_quick

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


def transposition_to_c(tonic_pitch_class, mode):
    """Semitones that move a key to C major (major) or A minor (minor), the smaller way round: -6 to +5.

    Lesson: 02_preprocessing

    Example: F# minor (tonic 6) -> +3 (F# up to A); G major (7) -> +5; D major (2) -> -2.
    """
    target = 0 if mode == "major" else 9
    shift = (target - int(tonic_pitch_class)) % 12
    return shift - 12 if shift > 5 else shift


def clean_melody(part, key, piece_id, collection, title):
    """Turn one melodic part into a `Piece`, or give the reason it cannot be one.

    Lesson: 02_preprocessing

    Returns:
        (Piece, None) or (None, reason). A piece is left out for grace notes, chords, rhythms off the 16th-note
        grid (tuplets), a range outside `MELODY_RANGE` after transposition, or fewer than `MIN_STEPS` steps.
    """
    elements = list(part.stripTies().flatten().notes)
    if not elements:
        return None, NO_NOTES
    if any(e.duration.isGrace or e.quarterLength == 0 for e in elements):
        return None, GRACE
    if any(e.isChord for e in elements):
        return None, CHORDS
    for element in elements:
        for quarters in (element.offset, element.quarterLength):
            if abs(float(quarters) * 4 - round(float(quarters) * 4)) > 1e-6:
                return None, OFF_GRID
    shift = transposition_to_c(key.tonic.pitchClass, key.mode)
    notes = [(e.pitch.midi + shift, float(e.offset), float(e.offset + e.quarterLength)) for e in elements]
    low, high = min(n[0] for n in notes), max(n[0] for n in notes)
    if low < MELODY_RANGE[0] or high > MELODY_RANGE[1]:
        return None, OUT_OF_RANGE
    try:
        tokens = notes_to_tokens(notes)
    except MelodyError:  # overlapping notes: the part is not one line after all
        return None, CHORDS
    if len(tokens) < MIN_STEPS:
        return None, TOO_SHORT
    bar_steps, pickup_steps, meter = _bar_position(part)
    key_name = f"{key.tonic.name.replace('-', 'b')} {key.mode}"  # music21 writes B-flat as 'B-'
    piece = Piece(piece_id, collection, title, key_name, shift, meter, bar_steps, pickup_steps, tokens)
    return piece, None


def load_melodies(collection, limit=None, cache=True, progress=True, quick=None):
    """Load, clean and key-normalise a whole collection; cached after the first time.

    Lesson: 02_preprocessing

    Args:
        collection: 'chorales' (Bach, soprano parts) or 'folk' (Essen folk songs, their tunes).
        limit: read only the first `limit` chorales, or folk-song books; None reads all, and in quick mode
            None means `QUICK_LIMITS`.
        quick: True or False to choose; None follows MUSEGEN_QUICK. Lesson 05 measures the pretrained model on
            the whole corpus's test split even in quick mode, so it passes False.
        cache: read and write the cache (`MUSEGEN_CACHE`, else the user's cache folder).
        progress: show a progress bar while parsing.

    Returns:
        a `MelodyCorpus`. Pieces that music21 cannot parse are counted in `failed`, never raised.
    """
    if collection not in COLLECTIONS:
        raise ValueError(f"collection must be one of {COLLECTIONS}, not {collection!r}")
    if limit is None and (is_quick() if quick is None else quick):
        limit = QUICK_LIMITS[collection]
    import music21

    source = {"collection": collection, "limit": limit, "format": CACHE_FORMAT, "music21": music21.__version__}
    path = cache_dir() / f"{collection}-{limit or 'all'}.json"
    if cache:
        cached = _read_cache(path, source)
        if cached is not None:
            return cached
    sources = chorale_names() if collection == "chorales" else folk_song_books()
    sources = sources[:limit] if limit else sources
    extract = _extract_chorale if collection == "chorales" else _extract_folk_book
    results = _map(extract, sources, progress, desc=f"reading {collection}")
    corpus = _collect(collection, results, source)
    if cache:
        _write_cache(path, corpus)
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
        key = score.analyze("key")  # all four voices: the harmony decides major or minor
        return [(name, *clean_melody(soprano_part(score), key, name, "chorales", _title(score, name)))]
    except Exception as error:  # music21 raises many types for files it cannot read; all mean "skip it"
        return [(name, None, f"failed: {type(error).__name__}: {error}")]


def _extract_folk_book(book):
    from music21 import corpus

    try:
        opus = corpus.parse(book)
    except Exception as error:
        return [(book, None, f"failed: {type(error).__name__}: {error}")]
    results = []
    for number, score in enumerate(opus.scores, start=1):
        piece_id = f"{book}#{number}"
        try:
            results.append(
                (
                    piece_id,
                    *clean_melody(score.parts[0], score.analyze("key"), piece_id, "folk", _title(score, piece_id)),
                )
            )
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


def _map(function, items, progress, desc):
    """function over items, in order, on every core when there are many (parsing is slow and independent)."""
    from tqdm.auto import tqdm

    import multiprocessing

    workers = min(os.cpu_count() or 1, 4)
    # fork starts workers in milliseconds and needs no `if __name__ == "__main__"` guard in the caller's script;
    # where it does not exist (Windows, macOS defaults) the pieces are simply read one after another.
    if len(items) < 20 or workers == 1 or "fork" not in multiprocessing.get_all_start_methods():
        return [function(item) for item in tqdm(items, desc=desc, disable=not progress)]
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork")) as pool:
        return list(tqdm(pool.map(function, items, chunksize=4), total=len(items), desc=desc, disable=not progress))


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


def _write_cache(path, corpus):
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(f".{os.getpid()}.tmp")  # written whole, then moved: never half a cache
    temporary.write_text(json.dumps({**asdict(corpus), "written": time.strftime("%Y-%m-%d %H:%M:%S")}))
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
