"""Cleaning a melody: a part or a list of notes made into a `Piece` in C major or A minor on the 16th-note grid, or
the reason it cannot be one (grace notes, chords, tuplets, a range out of bounds, too short).

Lesson: 02_preprocessing
"""

from dataclasses import dataclass, field

from musegen_lessons.corpora.bundled import bar_position
from musegen_lessons.corpora.essen import CHORD, GRACE_NOTE
from musegen_lessons.errors import MelodyError
from musegen_lessons.music.encoding import notes_to_tokens
from musegen_lessons.music.melody import Melody, home_key, transposition_to_c
from musegen_lessons.music.notation import parse_key

MELODY_RANGE = (48, 88)  # C3 to E6 after transposition: wider than any singer's tune, narrower than noise
MIN_STEPS = 16  # a melody shorter than one 4/4 bar teaches nothing about melody
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
    bar_steps, pickup_steps, meter = bar_position(part)
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
