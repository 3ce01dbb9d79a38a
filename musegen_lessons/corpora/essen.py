"""The Essen folk songs, read fast: music21's own ABC reader, from its tokens straight to the notes of the tune.

music21 reads an ABC book in two stages: its `ABCHandler` turns the text into tokens (each note with its pitch,
its length, its tuplet, tie and grace marks, in the context of the tune's metre and key signature), and its
translator then builds a full score from them: measures, beams, clefs, spanners. Building the score is most of the
time, and the course needs none of it. This module keeps the first stage, music21's, and reads the notes off its
tokens the way the translator places them, so that a tune gives the same notes, metre and upbeat as the full
score would (`tests/test_essen.py` compares the two on a real book). About 20 times faster than building scores.

Lesson: 02_preprocessing
"""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

GRACE_NOTE = "grace note"  # the kinds of melody element `Tune.elements` holds, beside plain notes
CHORD = "chord"


@dataclass
class Tune:
    """One folk song as music21 would place it: its title, metre and upbeat, and its elements in time.

    Lesson: 02_preprocessing

    `elements` are (pitches, start, length, kind) in quarter notes, rests left out and tied notes joined: `pitches`
    is a tuple of MIDI pitches (more than one for a chord), `kind` is None, 'grace note' or 'chord'. `notes` are the
    same as (pitch, start, end), before ties are joined, as music21's score holds them and its key finder reads
    them. `pickup_quarters` is how much of the first bar is silent before the tune starts (an upbeat), as
    music21's `paddingLeft`.
    """

    title: str
    time_signature: str  # as music21 writes it: '3/4'
    bar_quarters: float
    pickup_quarters: float
    elements: list
    notes: list


def book_path(book):
    """The file of an Essen book in music21's corpus: 'essenFolksong/kinder0' -> .../essenFolksong/kinder0.abc.

    Lesson: 02_preprocessing
    """
    import music21

    return Path(music21.__file__).parent / "corpus" / f"{book}.abc"


def read_book(book):
    """Every tune of an Essen book, in the order music21 puts them in an Opus (by reference number X:).

    Lesson: 02_preprocessing

    Returns:
        [(number in the book, counted from 1, Tune or None, why not)]: a tune music21's reader cannot follow is
        (number, None, reason), as music21 itself would fail on it.
    """
    from music21 import abcFormat

    handler = abcFormat.ABCFile().readstr(book_path(book).read_text(encoding="utf-8"))
    tunes = handler.splitByReferenceNumber() if handler.definesReferenceNumbers() else {None: handler}
    results = []
    for number, (_, tune_handler) in enumerate(sorted(tunes.items(), key=lambda item: item[0] or 0), start=1):
        try:
            results.append((number, read_tune(tune_handler), None))
        except Exception as error:  # music21 raises many types for tunes it cannot read; all mean "skip it"
            results.append((number, None, f"{type(error).__name__}: {error}"))
    return results


def read_tune(handler):
    """A `Tune` from the tokens of one tune (an `ABCHandler` that music21 has processed).

    Lesson: 02_preprocessing
    """
    from music21 import abcFormat

    title, meter = None, None
    for token in handler.tokens:
        if isinstance(token, abcFormat.ABCMetadata):
            if token.isTitle() and title is None:
                title = token.data
            elif token.isMeter() and meter is None:
                meter = token.getTimeSignatureObject()
    bar_quarters = float(meter.barDuration.quarterLength) if meter is not None else 4.0
    sounding, start = [], 0.0
    for token in handler.tokens:
        if not isinstance(token, abcFormat.ABCNote):
            continue
        length = _length(token)
        if isinstance(token, abcFormat.ABCChord):
            pitches = tuple(_midi(sub.pitchName) for sub in token.subTokens if isinstance(sub, abcFormat.ABCNote))
            if pitches:  # music21 leaves out an empty chord
                sounding.append([pitches, start, length, CHORD, None])
                start += length
            continue
        if not token.isRest:
            kind = GRACE_NOTE if token.inGrace else None
            sounding.append([(_midi(token.pitchName),), start, 0.0 if kind else length, kind, token.tie])
        if not token.inGrace:
            start += length
    return Tune(
        title=title or "",
        time_signature=meter.ratioString if meter is not None else "4/4",
        bar_quarters=bar_quarters,
        pickup_quarters=_pickup(handler, meter),
        elements=_join_ties(sounding),
        notes=[(pitch, start, start + length) for pitches, start, length, *_ in sounding for pitch in pitches],
    )


def _length(token):
    """A note's length in quarters as music21 gives it: its written length, times its tuplet's ratio."""
    if token.activeTuplet is None:
        return float(token.quarterLength)
    return float(token.quarterLength) * float(token.activeTuplet.tupletMultiplier())


def _pickup(handler, meter):
    """The silent start of the first bar, as music21's translator finds it: only when the tune defines bars, and
    its first bar, holding the metre, is shorter than a whole bar (it then pads it as an anacrusis)."""
    from music21 import abcFormat

    if meter is None or not handler.definesMeasures():
        return 0.0
    bars = abcFormat.mergeLeadingMetaData(handler.splitByMeasure())
    if len(bars) <= 1:  # one bar only: music21 makes no measures
        return 0.0
    first = next(bar for bar in bars if bar.hasNotes())
    if not any(isinstance(t, abcFormat.ABCMetadata) and t.isMeter() for t in first.tokens):
        return 0.0
    filled = sum(_length(t) for t in first.tokens if isinstance(t, abcFormat.ABCNote) and not t.inGrace)
    bar = float(meter.barDuration.quarterLength)
    return bar - filled if filled < bar else 0.0


def _join_ties(sounding):
    """Elements with every tied note joined to the note it is tied from, as music21's `stripTies` joins them.

    The joined note keeps the first note's pitch: a note tied over a bar line keeps its accidental (in 'K:A',
    '=c2- | c2' is one C natural), although the tokens spell the second note with the key signature's C sharp.
    """
    joined = []
    for pitches, start, length, kind, tie in sounding:
        previous = joined[-1] if joined else None
        if (
            previous is not None
            and tie in ("stop", "continue")
            and previous[4] in ("start", "continue")
            and abs(previous[1] + previous[2] - start) < 1e-9
        ):
            previous[2] += length
            previous[4] = tie
            continue
        joined.append([pitches, start, length, kind, tie])
    return [(pitches, start, length, kind) for pitches, start, length, kind, _ in joined]


@cache
def _midi(pitch_name):
    """The MIDI number of a music21 pitch name ('F#4', 'B-3'); a tune uses few, so each is worked out once."""
    from music21 import pitch

    return int(pitch.Pitch(pitch_name).midi)
