"""From symbols to sound: render music to a waveform and play it inline.

Three synthesisers, tried in order, so that a notebook always makes a sound:

1. **midirenderer** with the General MIDI soundfont that pretty_midi ships (TimGM6mb.sf2): real instrument
   samples, installed by pip alone.
2. **FluidSynth**, when pyfluidsynth and the libfluidsynth library are both installed.
3. **numpy**: a small additive synthesiser (a few harmonics under an attack-decay envelope) that needs
   nothing but numpy and always works.

`MUSEGEN_AUDIO` (midirenderer, fluidsynth or numpy) asks for one; `MUSEGEN_SOUNDFONT` names another .sf2
file. Every rendering says which backend played. Audio is mono at 22.05 kHz, and long pieces are cut (with a
note) so that notebooks stay small.

For a model that predicts sound sample by sample, the module also quantises a waveform: plain quantisation and the
μ-law that WaveNet uses, with the signal-to-noise ratio of each.

Lesson: 00_welcome (quantisation: 09_wavenet)
"""

import io
import os
import wave
from collections import namedtuple
from pathlib import Path

import numpy as np
import pretty_midi

from musegen_lessons.errors import AudioError, MelodyError
from musegen_lessons.music.midi import DEFAULT_TEMPO_BPM, as_pretty_midi, midi_to_notes
from musegen_lessons.music.notation import midi_to_frequency

SAMPLE_RATE = 22050
MAX_SECONDS = 60.0
BACKENDS = ("midirenderer", "fluidsynth", "numpy")
DEFAULT_SOUNDFONT = Path(pretty_midi.__file__).with_name("TimGM6mb.sf2")

Rendering = namedtuple("Rendering", "waveform sample_rate backend message")
Rendering.__doc__ = (
    "A rendered waveform (float32, mono, -1..1), its sample rate, the backend that made it, and what to tell the "
    "listener."
)


def render_audio(
    music, sample_rate=SAMPLE_RATE, backend=None, soundfont=None, max_seconds=MAX_SECONDS, tempo_bpm=DEFAULT_TEMPO_BPM
):
    """Render music to a mono waveform with the first backend that works.

    Lesson: 00_welcome

    Args:
        music: a PrettyMIDI, a music21 stream, a MIDI path or bytes, or notes (pitch, start, end) in quarters.
        sample_rate: samples per second of the result.
        backend: 'midirenderer', 'fluidsynth' or 'numpy' to insist on one (an error if it cannot play);
            None tries them in order, starting with the one `MUSEGEN_AUDIO` names, if any.
        soundfont: path of an .sf2 file; None means `MUSEGEN_SOUNDFONT` or pretty_midi's General MIDI font.
        max_seconds: longer music is cut here (None keeps all of it).
        tempo_bpm: the tempo at which notes timed in quarter notes are played (other music keeps its own).

    Returns:
        Rendering(waveform, sample_rate, backend, message).

    Raises:
        MelodyError: the music has no notes.
        AudioError: the backend asked for cannot play, or the soundfont asked for does not exist.
    """
    pm = as_pretty_midi(music, tempo_bpm=tempo_bpm)
    if not midi_to_notes(pm):
        raise MelodyError("There is nothing to play: the music has no notes.")
    if backend is not None and backend not in BACKENDS:
        raise AudioError(f"Unknown audio backend {backend!r}; choose one of {', '.join(BACKENDS)}.")
    if soundfont is not None and not Path(soundfont).is_file():
        raise AudioError(f"No soundfont at '{soundfont}'. Give the path of an existing .sf2 file, or leave it out.")
    soundfont = Path(soundfont or os.environ.get("MUSEGEN_SOUNDFONT") or DEFAULT_SOUNDFONT)

    notes = []
    if backend is not None:
        candidates = [backend]
    else:
        wanted = os.environ.get("MUSEGEN_AUDIO", "").strip().lower()
        candidates = ([wanted] if wanted in BACKENDS else []) + [b for b in BACKENDS if b != wanted]
        if wanted and wanted not in BACKENDS:
            notes.append(f"MUSEGEN_AUDIO={wanted!r} is not a backend ({', '.join(BACKENDS)}); ignored.")
    for name in candidates:
        reason = _unavailable(name, soundfont)
        if reason is None:
            try:
                waveform = _RENDERERS[name](pm, sample_rate, soundfont)
                break
            except Exception as error:  # a synthesiser library failing must not cost the student the sound
                reason = f"it failed ({type(error).__name__}: {error})"
        if backend is not None:
            raise AudioError(f"The audio backend {name!r} cannot play here: {reason}.")
        if name != "numpy":
            notes.append(f"{name} skipped: {reason}.")
    waveform = np.asarray(waveform, dtype=np.float32)
    full_seconds = len(waveform) / sample_rate
    if max_seconds is not None and full_seconds > max_seconds:
        waveform = waveform[: int(max_seconds * sample_rate)]
        notes.append(f"Cut to the first {max_seconds:g} s of {full_seconds:.1f} s to keep the notebook small.")
    described = name if name != "midirenderer" else f"midirenderer and the {soundfont.name} soundfont"
    message = f"♪ {len(waveform) / sample_rate:.1f} s, played with {described}." + "".join(" " + n for n in notes)
    return Rendering(waveform, sample_rate, name, message)


def play(music, **options):
    """Render music (see `render_audio`) and return an inline audio player, after saying which backend played.

    Lesson: 00_welcome
    """
    rendering = render_audio(music, **options)
    print(rendering.message)
    return play_waveform(rendering.waveform, rendering.sample_rate)


def play_waveform(waveform, sample_rate):
    """An inline audio player for a waveform (float, mono), scaled to full volume unless it is silence.

    Lesson: 00_welcome (lesson 09 plays the sound a WaveNet wrote with it)
    """
    from IPython.display import Audio

    waveform = np.asarray(waveform, dtype=np.float32)
    if waveform.size == 0:
        raise AudioError("There is no sound to play: the waveform is empty.")
    return Audio(waveform, rate=int(sample_rate), normalize=bool(np.any(waveform)))


def available_backends(soundfont=None):
    """Return {backend: None if it can play here, else the reason it cannot}.

    Lesson: 00_welcome
    """
    soundfont = Path(soundfont or os.environ.get("MUSEGEN_SOUNDFONT") or DEFAULT_SOUNDFONT)
    return {name: _unavailable(name, soundfont) for name in BACKENDS}


def waveform_to_wav(waveform, sample_rate=SAMPLE_RATE):
    """Return the bytes of a 16-bit mono WAV file holding the waveform (clipped to -1..1)."""
    pcm = (np.clip(np.asarray(waveform, dtype=np.float32), -1.0, 1.0) * 32767).astype("<i2")
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(int(sample_rate))
        out.writeframes(pcm.tobytes())
    return buffer.getvalue()


def _unavailable(name, soundfont):
    if name == "numpy":
        return None
    if not soundfont.is_file():
        return f"no soundfont at '{soundfont}'"
    try:
        if name == "midirenderer":
            import midirenderer  # noqa: F401
        else:
            import fluidsynth  # noqa: F401  (pyfluidsynth; importing it loads libfluidsynth)
    except (ImportError, OSError) as error:
        return f"not installed ({error})"
    return None


def _render_midirenderer(pm, sample_rate, soundfont):
    import midirenderer

    midi_bytes = io.BytesIO()
    pm.write(midi_bytes)
    wav_bytes = midirenderer.render_wave_from(soundfont.read_bytes(), midi_bytes.getvalue())
    with wave.open(io.BytesIO(wav_bytes)) as rendered:
        rate, channels = rendered.getframerate(), rendered.getnchannels()
        pcm = np.frombuffer(rendered.readframes(rendered.getnframes()), dtype="<i2")
    mono = pcm.reshape(-1, channels).mean(axis=1) / 32768.0
    return _resample(mono, rate, sample_rate)


def _render_fluidsynth(pm, sample_rate, soundfont):
    return pm.fluidsynth(fs=sample_rate, sf2_path=str(soundfont))


def _render_numpy(pm, sample_rate, soundfont=None):
    """Additive synthesis: each note is four harmonics under a 10 ms attack and an exponential decay."""
    notes = midi_to_notes(pm)
    end = max(note.end for note in notes) + 0.5
    out = np.zeros(int(end * sample_rate) + 1, dtype=np.float64)
    harmonics = np.array([1.0, 0.5, 0.25, 0.125])
    for note in notes:
        start = int(note.start * sample_rate)
        length = max(int((note.end - note.start + 0.1) * sample_rate), 1)  # 0.1 s release past the note's end
        t = np.arange(length) / sample_rate
        frequency = midi_to_frequency(note.pitch)
        partials = np.arange(1, len(harmonics) + 1)[:, None] * frequency
        tone = (harmonics[:, None] * np.sin(2 * np.pi * partials * t)).sum(axis=0)
        envelope = np.minimum(t / 0.01, 1.0) * np.exp(-2.5 * t)
        release = np.clip((note.end - note.start + 0.1 - t) / 0.1, 0.0, 1.0)
        out[start : start + length] += (note.velocity / 127.0) * tone * envelope * release
    peak = np.abs(out).max()
    return out / peak * 0.8 if peak > 0 else out


def _resample(signal, rate_in, rate_out):
    if rate_in == rate_out:
        return signal
    from math import gcd

    from scipy.signal import resample_poly

    divisor = gcd(int(rate_in), int(rate_out))
    return resample_poly(signal, int(rate_out) // divisor, int(rate_in) // divisor)


_RENDERERS = {"midirenderer": _render_midirenderer, "fluidsynth": _render_fluidsynth, "numpy": _render_numpy}


# --- quantising sound for a sample-level model (lesson 09) ---------------------------------------------------------


def mu_law_encode(waveform, levels=256):
    """Compand a waveform with the μ-law and quantise it to integer levels 0 … levels − 1, as WaveNet does.

    Lesson: 09_wavenet (van den Oord et al. 2016, section 2.2; ITU-T G.711)

    Equation, with μ = levels − 1 and x clipped to [−1, 1]:
        F(x) = sign(x) · ln(1 + μ|x|) / ln(1 + μ),   level = round((F(x) + 1) / 2 · μ)

    Quiet samples get most of the levels: the steps between levels are small near zero and large near ±1, as
    hearing is more sensitive to a quiet sound's error than to a loud one's.
    """
    mu = _levels(levels) - 1
    x = np.clip(np.asarray(waveform, dtype=np.float64), -1.0, 1.0)
    companded = np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu)
    return np.rint((companded + 1) / 2 * mu).astype(np.int32)


def mu_law_decode(levels_array, levels=256):
    """Turn μ-law levels back into a waveform: the inverse of `mu_law_encode`, up to its rounding.

    Lesson: 09_wavenet

    Equation, with y = 2 · level / μ − 1:   x = sign(y) · ((1 + μ)^|y| − 1) / μ
    """
    mu = _levels(levels) - 1
    y = 2 * np.asarray(levels_array, dtype=np.float64) / mu - 1
    return (np.sign(y) * np.expm1(np.abs(y) * np.log1p(mu)) / mu).astype(np.float32)


def quantise_linear(waveform, levels=256):
    """Plain quantisation: `levels` equal steps across [−1, 1], the waveform rounded to the nearest. Returns the
    quantised waveform (not the levels), for comparison with μ-law.

    Lesson: 09_wavenet
    """
    steps = _levels(levels) - 1
    x = np.clip(np.asarray(waveform, dtype=np.float64), -1.0, 1.0)
    return (np.rint((x + 1) / 2 * steps) / steps * 2 - 1).astype(np.float32)


def signal_to_noise_db(clean, approximation):
    """The signal-to-noise ratio of an approximation of a waveform, in decibels: 10·log10(Σ x² / Σ (x − x̂)²).

    Lesson: 09_wavenet
    """
    clean, approximation = np.asarray(clean, np.float64), np.asarray(approximation, np.float64)
    noise = np.sum((clean - approximation) ** 2)
    return float("inf") if noise == 0 else float(10 * np.log10(np.sum(clean**2) / noise))


def _levels(levels):
    if int(levels) != levels or levels < 2:
        raise AudioError(f"A quantiser needs a whole number of levels, at least 2; got {levels}.")
    return int(levels)
