"""Seeing music with matplotlib: the piano roll, the waveform and the spectrogram.

Lesson: 01_representation
"""

import numpy as np

from musegen_lessons.music.encoding import piano_roll_to_notes
from musegen_lessons.music.midi import as_pretty_midi, midi_to_notes
from musegen_lessons.music.notation import STEPS_PER_QUARTER, midi_to_name


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
