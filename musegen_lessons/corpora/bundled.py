"""music21's bundled corpus, offline: the chorales and the folk-song books by name, one chorale as a score, its
soprano, its notes, its title and where its first bar begins.

Lesson: 01_representation (one chorale); 02_preprocessing (the collections)
"""

from pathlib import Path

from musegen_lessons.errors import MelodyError

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


def score_notes(music):
    """Every note of a music21 score, part or stream as (pitch, start, end) in quarter notes, chords as their pitches.

    Lesson: 02_preprocessing
    """
    return [
        (int(p.midi), float(n.offset), float(n.offset + n.quarterLength))
        for n in music.flatten().notes
        for p in n.pitches
    ]


def score_title(score, fallback):
    title = score.metadata.title if score.metadata is not None else None
    return str(title).strip().title() if title else fallback


def bar_position(part):
    """(steps per bar, steps into the bar at which the piece starts, time signature) from the first measure."""
    from music21 import meter

    measures = part.getElementsByClass("Measure")
    first = measures[0] if measures else None
    signature = part.recurse().getElementsByClass(meter.TimeSignature).first()
    signature = signature or meter.TimeSignature("4/4")
    bar_steps = round(float(signature.barDuration.quarterLength) * 4)
    padding = float(first.paddingLeft) if first is not None else 0.0
    return bar_steps, round(padding * 4) % bar_steps, signature.ratioString
