"""The music the course learns from: Bach chorales from the corpus that ships inside music21, offline.

Lesson: 01_representation (a first chorale); 02_preprocessing (the whole corpus)
"""

from .errors import MelodyError

EXAMPLE_CHORALE = "bach/bwv66.6"  # "Christ unser Herr zum Jordan kam": short, four voices, in F# minor


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
