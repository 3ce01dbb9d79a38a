"""Seeing music: the piano roll (matplotlib), the engraved score (verovio), the waveform and the spectrogram.

Lesson: 01_representation
"""

import numpy as np

from .encoding import piano_roll_to_notes
from .errors import MelodyError, NotationError
from .melody import Melody
from .midi import as_pretty_midi, midi_to_notes
from .notation import STEPS_PER_QUARTER, midi_to_name

_SCORE_OPTIONS = {
    "pageWidth": 2200,
    "pageHeight": 60000,
    "adjustPageHeight": True,
    "scale": 35,
    "header": "none",
    "footer": "none",
    "breaks": "auto",
}


def show_piano_roll(music, ax=None, title=None, steps_per_quarter=STEPS_PER_QUARTER):
    """Draw a piano roll: time in quarter notes across, pitch up, one bar per note. Returns the Axes.

    Lesson: 01_representation

    Rows of black keys are shaded, as on a piano. Notes are drawn one by one, so a key struck twice shows two
    bars; a (steps, 88) array has lost that distinction and is drawn as it is, step by step.

    Args:
        music: a (steps, 88) piano roll array, or anything `midi.as_pretty_midi` accepts (PrettyMIDI, music21
            stream, MIDI path or bytes, notes in quarter notes).
    """
    import matplotlib.pyplot as plt

    if isinstance(music, np.ndarray) and music.ndim == 2:
        voices = [("", piano_roll_to_notes(music, steps_per_quarter))]
        end = music.shape[0] / steps_per_quarter
        gap = 0.0
    else:
        pm = as_pretty_midi(music)
        # one colour per instrument (a chorale's four voices), so each line can be followed by eye
        voices = [
            (instrument.name, midi_to_notes(_only(pm, instrument), unit="quarters"))
            for instrument in pm.instruments
            if not instrument.is_drum
        ]
        end = max((n[2] for _, notes in voices for n in notes), default=1.0)
        gap = 0.1  # a visible gap between a note and the same key struck again
    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3.2), layout="constrained")
    pitches = [int(n[0]) for _, notes in voices for n in notes] or [60]
    low, high = min(pitches) - 2, max(pitches) + 2
    for pitch in range(low, high + 1):
        if pitch % 12 in (1, 3, 6, 8, 10):
            ax.axhspan(pitch - 0.5, pitch + 0.5, color="0.93", zorder=0)
    for index, (name, notes) in enumerate(voices):
        colour = f"C{index}" if len(voices) > 1 else "tab:blue"
        for note in notes:
            ax.broken_barh([(note[1], note[2] - note[1] - gap)], (note[0] - 0.4, 0.8), color=colour, zorder=2)
        if len(voices) > 1:
            ax.plot([], [], color=colour, linewidth=6, label=name or f"part {index + 1}")
    if len(voices) > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8, frameon=False)
    labelled = [p for p in range(low, high + 1) if p % 12 == 0]
    if len(labelled) < 2:  # a narrow melody: name its lowest and highest notes too
        labelled = sorted(set(labelled) | {min(pitches), max(pitches)})
    ax.set_yticks(labelled, [midi_to_name(p) for p in labelled])
    ax.set_ylim(low - 0.5, high + 0.5)
    ax.set_xlim(0, end)
    ax.set_xlabel("time (quarter notes)")
    ax.set_ylabel("pitch")
    if title:
        ax.set_title(title)
    return ax


def _only(pm, instrument):
    """A PrettyMIDI holding one instrument of another, with the same tempo map (to count in quarter notes)."""
    import copy

    single = copy.copy(pm)
    single.instruments = [instrument]
    return single


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


def show_waveform(waveform, sample_rate, ax=None, title=None):
    """Plot a waveform against time in seconds. Returns the Axes.

    Lesson: 01_representation
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 2.4), layout="constrained")
    seconds = np.arange(len(waveform)) / sample_rate
    ax.plot(seconds, waveform, linewidth=0.3, color="tab:blue")
    ax.set_xlim(0, seconds[-1] if len(seconds) else 1)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("amplitude")
    if title:
        ax.set_title(title)
    return ax


def show_spectrogram(waveform, sample_rate, ax=None, title=None, max_hz=4000):
    """Plot a spectrogram (short-time Fourier transform, decibels) of a waveform. Returns the Axes.

    Lesson: 01_representation
    """
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(10, 3), layout="constrained")
    with np.errstate(divide="ignore"):  # silence is minus infinity decibels, drawn as the floor, not a warning
        ax.specgram(waveform, NFFT=2048, Fs=sample_rate, noverlap=1536, cmap="magma", scale="dB", vmin=-120)
    ax.set_ylim(0, max_hz)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("frequency (Hz)")
    if title:
        ax.set_title(title)
    return ax


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


COURSE_MAP = (  # (stage, what it does, the lessons that teach it): every lesson appears at least once
    ("data", "Bach chorales,\nfolk songs", "00, 01"),
    ("preprocessing", "clean, transpose,\ntokens, windows", "02"),
    ("learning", "neuron, loss,\ngradient descent", "03"),
    ("CNN features", "Conv1D over\nneighbouring steps", "03"),
    ("RNN over time", "LSTM carries\nthe past", "04, 05"),
    ("dilated CNN", "WaveNet, TCN:\nthe view doubles", "09"),
    ("attention", "Transformer: every\nstep looks back", "10"),
    ("GAN", "a generator\nagainst a critic", "11"),
    ("VAE", "a map of melodies\nto walk across", "12"),
    ("generation", "sample the next\ntoken, again", "06"),
    ("evaluation", "is it music?\nmeasured", "07"),
    ("four voices", "chords as frames,\nthe JSB benchmark", "08"),
    ("MIDI and audio", "score, piano roll,\nsound", "00, 01, 06"),
)


def show_course_map():
    """Draw the course as the pipeline it builds, each stage with the lessons that teach it. Returns the Axes.

    Lesson: 00_welcome
    """
    import matplotlib.pyplot as plt
    from matplotlib.patches import FancyBboxPatch

    _, ax = plt.subplots(figsize=(1.8 * len(COURSE_MAP), 2.6), layout="constrained")  # room for every label
    width, gap = 1.7, 0.4
    colours = plt.get_cmap("Blues")(np.linspace(0.25, 0.6, len(COURSE_MAP)))
    for i, ((stage, what, lessons), colour) in enumerate(zip(COURSE_MAP, colours)):
        x = i * (width + gap)
        ax.add_patch(FancyBboxPatch((x, 0), width, 1, boxstyle="round,pad=0.05", facecolor=colour, edgecolor="0.3"))
        ax.text(x + width / 2, 0.72, stage, ha="center", va="center", fontsize=11, weight="bold")
        ax.text(x + width / 2, 0.34, what, ha="center", va="center", fontsize=9)
        ax.text(x + width / 2, -0.25, f"lesson {lessons}", ha="center", va="center", fontsize=9, color="0.35")
        if i + 1 < len(COURSE_MAP):
            ax.annotate(
                "",
                xy=(x + width + gap - 0.05, 0.5),
                xytext=(x + width + 0.08, 0.5),
                arrowprops={"arrowstyle": "->", "lw": 1.5},
            )
    ax.set_xlim(-0.2, len(COURSE_MAP) * (width + gap) - gap + 0.2)
    ax.set_ylim(-0.5, 1.2)
    ax.axis("off")
    return ax
