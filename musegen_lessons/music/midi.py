"""MIDI files in and out: read into pretty_midi, list the notes, write them back.

A MIDI file stores *events* (note on, note off, tempo) in *ticks*; pretty_midi turns them into notes with a
start and an end in seconds, and its tempo map turns seconds back into quarter notes. Everything a student can
get wrong here (a missing, empty, truncated or corrupt file) raises `MidiReadError` with what to do.

Lesson: 01_representation
"""

import io
import os
import tempfile
from collections import namedtuple
from pathlib import Path

import pretty_midi

from musegen_lessons.errors import ChoiceError, MelodyError, MidiReadError
from musegen_lessons.music.notation import parse_key

Note = namedtuple("Note", "pitch start end velocity")
Note.__doc__ = "One sounding note: MIDI pitch, start and end (seconds or quarter notes), velocity 1-127."

DEFAULT_TEMPO_BPM = 100.0
DEFAULT_VELOCITY = 80


def read_midi(source, require_notes=True):
    """Read a MIDI file from a path or from bytes into a `pretty_midi.PrettyMIDI`.

    Lesson: 01_representation

    Args:
        source: a path (str or Path) or the file's bytes.
        require_notes: if True (the default), a file that parses but holds no notes is an error too: in this
            course a MIDI file without notes is nearly always a mistake further up.

    Raises:
        MidiReadError: the file is missing, empty, not MIDI, truncated or corrupt, or holds no notes.
    """
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, where = bytes(source), "the given MIDI bytes"
    else:
        path = Path(source)
        where = f"'{path}'"
        if not path.is_file():
            raise MidiReadError(f"Cannot read {where}: there is no such file (the current folder is {Path.cwd()}).")
        data = path.read_bytes()
    if not data:
        raise MidiReadError(f"Cannot read {where}: there is no data at all (0 bytes). Was the file written completely?")
    if not data.startswith(b"MThd"):
        raise MidiReadError(
            f"Cannot read {where}: this is not MIDI (MIDI data starts with 'MThd', this starts with {data[:4]!r}). "
            "Is it MusicXML, audio or text? Convert it with music21 first."
        )
    try:
        pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
    except Exception as error:  # mido and pretty_midi raise many types for broken files; all mean the same
        raise MidiReadError(
            f"Cannot read {where}: the MIDI data is damaged ({type(error).__name__}{': ' if str(error) else ''}"
            f"{error}). It may be truncated: export or download it again."
        ) from error
    if require_notes and not any(instrument.notes for instrument in pm.instruments):
        raise MidiReadError(
            f"Cannot use {where}: the MIDI data is valid but holds no notes, so there is nothing to play or learn."
        )
    return pm


def write_midi(music, path, tempo_bpm=DEFAULT_TEMPO_BPM):
    """Write music (a PrettyMIDI, a music21 stream, or notes in quarter notes) to a MIDI file and return its path.

    Lesson: 01_representation

    The file is written to a temporary name first and then moved into place, so a failure half-way never
    leaves a truncated file where a good one was.
    """
    pm = as_pretty_midi(music, tempo_bpm=tempo_bpm)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(suffix=".mid", dir=path.parent)
    os.close(handle)
    try:
        pm.write(temporary)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)
    return path


def midi_to_notes(pm, unit="seconds", include_drums=False):
    """List the notes of a PrettyMIDI as `Note(pitch, start, end, velocity)`, sorted by start then pitch.

    Lesson: 01_representation

    Args:
        pm: a `pretty_midi.PrettyMIDI`.
        unit: 'seconds' (pretty_midi's own unit) or 'quarters' (quarter notes, through the file's tempo map,
            which is what the token encoding needs).
        include_drums: drum tracks have no pitch in the musical sense; they are left out unless asked for.
    """
    if unit not in ("seconds", "quarters"):
        raise ChoiceError(f"unit must be 'seconds' or 'quarters', not {unit!r}")
    notes = []
    for instrument in pm.instruments:
        if instrument.is_drum and not include_drums:
            continue
        for note in instrument.notes:
            start, end = note.start, note.end
            if unit == "quarters":
                start = pm.time_to_tick(start) / pm.resolution
                end = pm.time_to_tick(end) / pm.resolution
            notes.append(Note(int(note.pitch), float(start), float(end), int(note.velocity)))
    return sorted(notes, key=lambda n: (n.start, n.pitch))


def notes_to_midi(notes, tempo_bpm=DEFAULT_TEMPO_BPM, program=0):
    """Make a one-instrument PrettyMIDI from notes timed in quarter notes, at a fixed tempo.

    Lesson: 01_representation

    Args:
        notes: sequence of (pitch, start, end) or (pitch, start, end, velocity), times in quarter notes.
        tempo_bpm: quarter notes per minute; one quarter lasts 60 / tempo_bpm seconds.
        program: General MIDI program number (0 is the acoustic grand piano).
    """
    seconds_per_quarter = 60.0 / float(tempo_bpm)
    pm = pretty_midi.PrettyMIDI(initial_tempo=float(tempo_bpm))
    instrument = pretty_midi.Instrument(program=program)
    for note in notes:
        velocity = int(note[3]) if len(note) > 3 else DEFAULT_VELOCITY
        instrument.notes.append(
            pretty_midi.Note(
                velocity=velocity,
                pitch=int(note[0]),
                start=float(note[1]) * seconds_per_quarter,
                end=float(note[2]) * seconds_per_quarter,
            )
        )
    pm.instruments.append(instrument)
    return pm


def as_pretty_midi(music, tempo_bpm=DEFAULT_TEMPO_BPM):
    """Return a PrettyMIDI for any music the course handles.

    Lesson: 01_representation

    Accepts a PrettyMIDI (returned as it is), a music21 stream (through music21's own MIDI writer), a path or
    bytes of a MIDI file, or a sequence of notes timed in quarter notes (played at `tempo_bpm`).
    """
    if isinstance(music, pretty_midi.PrettyMIDI):
        return music
    if isinstance(music, (str, Path, bytes, bytearray)):
        return read_midi(music)
    if hasattr(music, "flatten") and hasattr(music, "write"):  # a music21 stream
        from music21.midi.translate import streamToMidiFile

        return read_midi(streamToMidiFile(music).writestr())
    return notes_to_midi(list(music), tempo_bpm=tempo_bpm)


def melody_to_midi(melody, tempo_bpm=100, program=0):
    """Export a `melody.Melody` as a PrettyMIDI at a tempo, with its key signature and time signature written in.

    Lesson: 06_generation
    """
    import pretty_midi

    if not tempo_bpm > 0:
        raise MelodyError(f"The tempo must be above 0 beats per minute, not {tempo_bpm}.")
    notes = melody.notes()
    if not notes:
        raise MelodyError("The melody has no notes to write.")
    pm = notes_to_midi(notes, tempo_bpm=tempo_bpm, program=program)
    tonic, mode = parse_key(melody.key)
    pm.key_signature_changes = [pretty_midi.KeySignature(tonic + (12 if mode == "minor" else 0), 0.0)]
    beats, _, unit = melody.time_signature.partition("/")
    pm.time_signature_changes = [pretty_midi.TimeSignature(int(beats), int(unit), 0.0)]
    return pm
