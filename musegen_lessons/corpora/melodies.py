"""The music the course learns from: Bach chorales and Essen folk songs, bundled with music21, offline.

From each piece the course takes one melody (the soprano of a chorale, the tune of a folk song), cleans it
(`cleaning`), transposes it to C major or A minor, and turns it into tokens. Loading a whole collection takes
minutes the first time, so the result is cached as JSON (`cache`) and rebuilt whenever it is missing, stale or
damaged.

Lesson: 02_preprocessing
"""

import contextlib
import json
import time
from dataclasses import asdict, dataclass

from musegen_lessons.corpora import essen
from musegen_lessons.corpora.bundled import (
    chorale_names,
    folk_song_books,
    load_chorale,
    score_notes,
    score_title,
    soprano_part,
)
from musegen_lessons.corpora.cache import cache_dir, cache_lock, parallel_map, write_json
from musegen_lessons.corpora.cleaning import DUPLICATE, Piece, clean_elements, clean_melody
from musegen_lessons.errors import ChoiceError
from musegen_lessons.lesson import is_quick
from musegen_lessons.music.encoding import validate_tokens
from musegen_lessons.music.keys import analyze_key

COLLECTIONS = ("chorales", "folk")
CACHE_FORMAT = 2  # bump when what a cached piece holds, or how it is cleaned, changes
QUICK_LIMITS = {"chorales": 80, "folk": 1}  # quick mode: 80 chorales and the first folk-song book (313 songs)


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
        extract = extract_chorale if collection == "chorales" else _extract_folk_book
        results = parallel_map(extract, sources, progress, desc=f"reading {collection}")
        corpus = collect_pieces(collection, results, source)
        if cache:
            write_json(path, {**asdict(corpus), "written": time.strftime("%Y-%m-%d %H:%M:%S")})
        return corpus


def extract_chorale(name):
    """The extraction rows [(id, Piece or None, reason or None)] of one chorale's melody; an unreadable file is
    reported as ('failed', ...)."""
    try:
        score = load_chorale(name)
        key = analyze_key(score_notes(score))  # all four voices: the harmony decides major or minor
        return [(name, *clean_melody(soprano_part(score), key, name, "chorales", score_title(score, name)))]
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


def collect_pieces(collection, results, source):
    """The corpus made of every piece's extraction rows [(id, Piece or None, reason or None)]: pieces kept once each
    (a repeated melody is dropped as a duplicate), dropped ones by reason, unreadable ones as failed."""
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
