"""Engraved scores: music21 streams rendered by verovio as inline SVG, offline.

A `melody.Melody` is engraved in its key signature and metre, its upbeat as an anacrusis; notes, a piano roll, a
PrettyMIDI or a music21 stream are engraved too, and a chorale's 88-key frames on two staves (`frames_to_score`).

Lesson: 01_representation (lesson 08 engraves frames)
"""

import numpy as np

from musegen_lessons.errors import MelodyError, NotationError
from musegen_lessons.music.encoding import piano_roll_to_notes
from musegen_lessons.music.keys import analyze_key
from musegen_lessons.music.melody import Melody
from musegen_lessons.music.midi import as_pretty_midi
from musegen_lessons.music.notation import STEPS_PER_QUARTER

_SCORE_OPTIONS = {
    "pageWidth": 2200,
    "pageHeight": 60000,
    "adjustPageHeight": True,
    "scale": 35,
    "header": "none",
    "footer": "none",
    "breaks": "auto",
}


class Score:
    """An engraved score as SVG, shown inline by Jupyter. `.svg` holds the markup, e.g. to save it to a file."""

    def __init__(self, svg):
        self.svg = svg

    def _repr_svg_(self):
        return self.svg

    def save(self, path):
        from pathlib import Path

        Path(path).write_text(self.svg)
        return Path(path)


def render_score(music):
    """Engrave music with verovio and return a `Score` that Jupyter shows inline.

    Lesson: 01_representation

    music21 writes MusicXML, and verovio engraves the MusicXML as SVG, all offline.

    A `melody.Melody` is engraved in its key signature and time signature, an upbeat as a short first bar
    (the anacrusis), so that the bar lines fall where the melody's metre puts them.

    Args:
        music: a `melody.Melody`, a music21 stream or object, or anything `midi.as_pretty_midi` accepts (notes
            in quarter notes are engraved directly; MIDI goes through music21's quantiser).
    """
    import verovio
    from music21.musicxml.m21ToXml import GeneralObjectExporter

    stream = _as_music21(music)
    musicxml = GeneralObjectExporter(stream).parse().decode("utf-8")
    toolkit = verovio.toolkit()
    toolkit.setOptions(_SCORE_OPTIONS)
    if not toolkit.loadData(musicxml):
        raise NotationError("verovio could not read the MusicXML that music21 wrote for this music.")
    return Score(toolkit.renderToSVG(1))


def _as_music21(music):
    import music21

    if isinstance(music, Melody):
        return melody_to_stream(music)
    if isinstance(music, music21.base.Music21Object):
        if isinstance(music, music21.stream.Stream):
            return music
        stream = music21.stream.Stream()
        stream.append(music)
        return stream
    if _is_note_list(music):
        return notes_to_stream(music)
    import io

    from music21.midi.translate import midiStringToStream

    data = io.BytesIO()
    as_pretty_midi(music).write(data)
    return midiStringToStream(data.getvalue())


def _is_note_list(music):
    try:
        return all(len(n) >= 3 for n in music) and not isinstance(music, (str, bytes))
    except TypeError:
        return False


def _spell(midi, key=None):
    """A music21 Pitch for a MIDI number, with no explicit natural sign (which would be engraved on every note).

    In a key, a note of its scale is spelled as the scale spells it (G# in A major, Ab in F minor; in a minor key
    the raised sixth and seventh too, E# in F# minor), and a note outside it with sharps in a sharp key and flats
    in a flat one.
    """
    import music21

    pitch = music21.pitch.Pitch(midi=midi)
    if key is not None:
        in_scale = {p.pitchClass: p.name for p in key.getScale(key.mode).pitches}
        if key.mode == "minor":
            for degree in (6, 7):
                raised = key.pitchFromDegree(degree).transpose("A1")
                in_scale.setdefault(raised.pitchClass, raised.name)
        if midi % 12 in in_scale:
            pitch = _with_octave(in_scale[midi % 12], midi)
        elif key.sharps < 0 and pitch.accidental is not None and pitch.accidental.alter > 0:
            pitch = pitch.getEnharmonic()
    if pitch.accidental is not None and pitch.accidental.name == "natural":
        pitch.accidental = None
    return pitch


def _with_octave(name, midi):
    """The pitch spelled `name` ('B#', 'Cb') that sounds as `midi`: the octave number follows the letter."""
    import music21

    for octave in range(midi // 12 - 2, midi // 12 + 1):
        pitch = music21.pitch.Pitch(f"{name}{octave}")
        if round(pitch.ps) == midi:
            return pitch
    raise NotationError(f"{name} cannot sound as MIDI {midi}.")


def notes_to_stream(notes, key=None):
    """A music21 stream of notes timed in quarter notes; notes that start and end together become a chord.

    Lesson: 01_representation; 08_polyphony (one stream per staff)

    Args:
        key: a music21 Key whose scale spells the notes (`_spell`); none spells them as music21 does by default.
    """
    import music21

    groups = {}
    for note in notes:
        groups.setdefault((float(note[1]), float(note[2])), []).append(int(note[0]))
    stream = music21.stream.Stream()
    for (start, end), pitches in sorted(groups.items()):
        spelled = [_spell(p, key) for p in sorted(pitches)]
        element = music21.note.Note(spelled[0]) if len(spelled) == 1 else music21.chord.Chord(spelled)
        element.quarterLength = end - start
        stream.insert(start, element)
    overlapping = any(a.offset + a.quarterLength > b.offset for a, b in zip(stream.notes, list(stream.notes)[1:]))
    return stream.chordify() if overlapping else stream


def music21_key(name):
    """The music21 Key of a key's name ('Bb major' -> Key of B- major), for its signature and its spelling."""
    import music21

    tonic, mode = name.split()
    return music21.key.Key(tonic.replace("b", "-"), mode)


def melody_to_stream(melody):
    """A music21 part of a `melody.Melody`, in bars: its key signature, its time signature, and an upbeat engraved
    as a short first bar (an anacrusis, numbered 0), so that every later bar line falls where the metre says.

    Lesson: 02_preprocessing; 06_generation
    """
    import music21

    notes = melody.notes()
    if not notes:
        raise MelodyError("The melody has no notes to engrave.")
    key = music21_key(melody.key)
    padding = melody.pickup_steps / STEPS_PER_QUARTER  # the part of the first bar before the melody begins
    part = music21.stream.Part()
    part.insert(0, key)
    part.insert(0, music21.meter.TimeSignature(melody.time_signature))
    for element in notes_to_stream(notes, key).notes:
        part.insert(element.offset + padding, element)
    bars = part.makeMeasures()
    bars.makeTies(inPlace=True)  # before the rests: a note held over a bar line leaves no gap to fill
    bars.makeRests(fillGaps=True, inPlace=True, hideRests=False)
    measures = list(bars.getElementsByClass("Measure"))
    if padding:
        first, last = measures[0], measures[-1]
        for rest in list(first.getElementsByClass("Rest")):
            if rest.offset < padding:
                first.remove(rest)
        for element in first.notesAndRests:
            element.offset -= padding
        first.paddingLeft = padding
        # the last bar stays short, as the upbeat it completes: the filler rests after the last note go
        end = max(n.offset + n.quarterLength for n in last.notes)
        for rest in list(last.getElementsByClass("Rest")):
            if rest.offset >= end:
                last.remove(rest)
        last.paddingRight = last.barDuration.quarterLength - end
    offset = 0.0
    for number, measure in enumerate(measures, start=0 if padding else 1):
        measure.number, measure.offset = number, offset
        offset += measure.duration.quarterLength
    bars.makeAccidentals(inPlace=True)
    return bars


def frames_to_score(frames, key=None):
    """A two-staff music21 score of frames: the lower half of each chord (tenor and bass) on the bass staff, the
    upper half (soprano and alto) on the treble staff, both in the key signature of `key`.

    Lesson: 08_polyphony

    Splitting by place in the chord rather than at middle C keeps each voice on one staff wherever it lies. A key
    held over consecutive frames is engraved as one note (see `encoding.piano_roll_to_notes`).

    Args:
        key: the key the chorale is in, e.g. 'C minor'; by default the key `keys.analyze_key` finds in the frames.
    """
    import music21

    frames = np.asarray(frames)
    staves = np.zeros((2,) + frames.shape, np.uint8)  # [treble, bass]
    for t, frame in enumerate(frames):
        keys = np.flatnonzero(frame)
        staves[1, t, keys[: len(keys) // 2]] = 1
        staves[0, t, keys[len(keys) // 2 :]] = 1
    everything = piano_roll_to_notes(frames, steps_per_quarter=1)
    if key is None and everything:
        key = analyze_key(everything)
    signature = music21_key(key) if key else None
    score = music21.stream.Score()
    for clef, staff in zip((music21.clef.TrebleClef(), music21.clef.BassClef()), staves):
        part = music21.stream.Part()
        part.insert(0, clef)
        if signature is not None:
            part.insert(0, music21.key.KeySignature(signature.sharps))
        notes = piano_roll_to_notes(staff, steps_per_quarter=1)
        if notes:
            for element in notes_to_stream(notes, signature).notesAndRests:
                part.insert(element.offset, element)
        else:
            part.insert(0, music21.note.Rest(quarterLength=len(frames)))
        score.insert(0, part)
    return score
