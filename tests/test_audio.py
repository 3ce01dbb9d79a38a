"""Rendering music to sound (musegen_lessons.music.audio): real synthesis of the bundled chorale, no mocks."""

import io
import wave

import numpy as np
import pytest

from musegen_lessons.errors import AudioError, MelodyError
from musegen_lessons.music.audio import (
    SAMPLE_RATE,
    available_backends,
    mu_law_decode,
    mu_law_encode,
    play,
    play_waveform,
    quantise_linear,
    render_audio,
    signal_to_noise_db,
    waveform_to_wav,
)
from musegen_lessons.music.midi import as_pretty_midi

SHORT_TUNE = [(60, 0, 1), (64, 1, 2), (67, 2, 3)]  # three quarter notes, 1.8 s at the default 100 bpm


@pytest.fixture(autouse=True)
def no_audio_settings(monkeypatch):
    """Each test starts without MUSEGEN_AUDIO / MUSEGEN_SOUNDFONT from the shell that runs pytest."""
    monkeypatch.delenv("MUSEGEN_AUDIO", raising=False)
    monkeypatch.delenv("MUSEGEN_SOUNDFONT", raising=False)


@pytest.fixture(scope="module")
def chorale_seconds(chorale):
    return as_pretty_midi(chorale).get_end_time()


@pytest.fixture(scope="module", params=["numpy", "midirenderer"])
def chorale_rendering(request, chorale):
    return render_audio(chorale, backend=request.param)


def _rms(waveform):
    return float(np.sqrt(np.mean(np.square(waveform, dtype=np.float64))))


# --- the chorale through each backend ----------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["numpy", "midirenderer"])
def test_forced_backend_is_the_one_that_plays(backend):
    rendering = render_audio(SHORT_TUNE, backend=backend)
    assert rendering.backend == backend
    assert f"played with {backend}" in rendering.message


def test_rendering_is_mono_float32(chorale_rendering):
    assert chorale_rendering.waveform.ndim == 1
    assert chorale_rendering.waveform.dtype == np.float32


def test_rendering_is_at_22050_hz(chorale_rendering):
    assert chorale_rendering.sample_rate == SAMPLE_RATE == 22050


def test_rendering_is_not_silent(chorale_rendering):
    assert _rms(chorale_rendering.waveform) > 1e-3


def test_rendering_stays_within_minus_one_to_one(chorale_rendering):
    assert np.abs(chorale_rendering.waveform).max() <= 1.0


def test_rendering_lasts_about_as_long_as_the_piece(chorale_rendering, chorale_seconds):
    seconds = len(chorale_rendering.waveform) / chorale_rendering.sample_rate
    assert chorale_seconds == pytest.approx(22.5)  # 36 quarter notes at 96 bpm
    assert abs(seconds - chorale_seconds) < 1.0


def test_rendering_message_gives_the_duration(chorale_rendering):
    seconds = len(chorale_rendering.waveform) / chorale_rendering.sample_rate
    assert f"{seconds:.1f} s" in chorale_rendering.message


def test_midirenderer_names_its_soundfont():
    rendering = render_audio(SHORT_TUNE, backend="midirenderer")
    assert "TimGM6mb.sf2" in rendering.message


def test_other_sample_rate_is_honoured():
    rendering = render_audio(SHORT_TUNE, backend="midirenderer", sample_rate=16000)
    assert rendering.sample_rate == 16000
    assert abs(len(rendering.waveform) / 16000 - 1.8) < 1.0


def test_notes_in_quarters_play_at_the_tempo_asked_for():
    half_note = [(60, 0, 2)]  # 2 s at 60 bpm, 1 s at 120 bpm; the numpy synthesiser adds 0.5 s of tail
    slow = render_audio(half_note, backend="numpy", tempo_bpm=60)
    fast = render_audio(half_note, backend="numpy", tempo_bpm=120)
    assert len(slow.waveform) / SAMPLE_RATE == pytest.approx(2.5, abs=0.01)
    assert len(fast.waveform) / SAMPLE_RATE == pytest.approx(1.5, abs=0.01)


def test_tempo_does_not_change_music_that_has_its_own(chorale, chorale_seconds):
    rendering = render_audio(chorale, backend="numpy", tempo_bpm=200)
    assert abs(len(rendering.waveform) / SAMPLE_RATE - chorale_seconds) < 1.0


# --- cutting long music ------------------------------------------------------------------------------------------


def test_max_seconds_cuts_the_waveform(chorale):
    rendering = render_audio(chorale, backend="numpy", max_seconds=5)
    assert len(rendering.waveform) == 5 * SAMPLE_RATE


def test_max_seconds_says_it_cut(chorale):
    rendering = render_audio(chorale, backend="numpy", max_seconds=5)
    assert "Cut to the first 5 s" in rendering.message
    assert "5.0 s, played with numpy" in rendering.message


def test_music_shorter_than_max_seconds_is_not_cut():
    rendering = render_audio(SHORT_TUNE, backend="numpy", max_seconds=60)
    assert "Cut" not in rendering.message


def test_max_seconds_none_keeps_everything(chorale, chorale_seconds):
    rendering = render_audio(chorale, backend="numpy", max_seconds=None)
    assert len(rendering.waveform) / SAMPLE_RATE >= chorale_seconds


# --- choosing a backend ------------------------------------------------------------------------------------------


def test_available_backends_always_include_numpy():
    backends = available_backends()
    assert set(backends) == {"midirenderer", "fluidsynth", "numpy"}
    assert backends["numpy"] is None


def test_forced_unavailable_backend_raises_audio_error():
    reason = available_backends()["fluidsynth"]
    if reason is None:
        pytest.skip("FluidSynth is installed here, so it is not an unavailable backend")
    with pytest.raises(AudioError, match="'fluidsynth' cannot play here"):
        render_audio(SHORT_TUNE, backend="fluidsynth")


def test_unknown_backend_raises_audio_error():
    with pytest.raises(AudioError, match="Unknown audio backend"):
        render_audio(SHORT_TUNE, backend="timidity")


def test_missing_soundfont_path_raises_audio_error(tmp_path):
    missing = tmp_path / "nowhere.sf2"
    with pytest.raises(AudioError, match="No soundfont") as caught:
        render_audio(SHORT_TUNE, soundfont=missing)
    assert "nowhere.sf2" in str(caught.value)


def test_automatic_choice_without_settings_starts_with_midirenderer():
    assert available_backends()["midirenderer"] is None  # installed with the package
    assert render_audio(SHORT_TUNE).backend == "midirenderer"


def test_missing_soundfont_in_environment_falls_back_to_numpy(monkeypatch, tmp_path):
    monkeypatch.setenv("MUSEGEN_SOUNDFONT", str(tmp_path / "nowhere.sf2"))
    rendering = render_audio(SHORT_TUNE)
    assert rendering.backend == "numpy"
    assert _rms(rendering.waveform) > 1e-3


def test_fallback_to_numpy_says_why(monkeypatch, tmp_path):
    monkeypatch.setenv("MUSEGEN_SOUNDFONT", str(tmp_path / "nowhere.sf2"))
    message = render_audio(SHORT_TUNE).message
    assert "midirenderer skipped" in message
    assert "no soundfont" in message and "nowhere.sf2" in message


def test_missing_soundfont_in_environment_makes_forced_midirenderer_fail(monkeypatch, tmp_path):
    monkeypatch.setenv("MUSEGEN_SOUNDFONT", str(tmp_path / "nowhere.sf2"))
    with pytest.raises(AudioError, match="no soundfont"):
        render_audio(SHORT_TUNE, backend="midirenderer")


def test_musegen_audio_numpy_picks_numpy(monkeypatch):
    monkeypatch.setenv("MUSEGEN_AUDIO", "numpy")
    rendering = render_audio(SHORT_TUNE)
    assert rendering.backend == "numpy"
    assert "skipped" not in rendering.message


def test_musegen_audio_that_is_no_backend_is_ignored_and_said(monkeypatch):
    monkeypatch.setenv("MUSEGEN_AUDIO", "gramophone")
    rendering = render_audio(SHORT_TUNE)
    assert rendering.backend in ("midirenderer", "fluidsynth", "numpy")
    assert "MUSEGEN_AUDIO='gramophone' is not a backend" in rendering.message


# --- music with nothing to play ----------------------------------------------------------------------------------


def test_empty_notes_raise_melody_error():
    with pytest.raises(MelodyError, match="nothing to play"):
        render_audio([])


def test_midi_file_without_notes_raises_melody_error(empty_midi_path):
    from musegen_lessons.music.midi import read_midi

    with pytest.raises(MelodyError):
        render_audio(read_midi(empty_midi_path, require_notes=False))


def test_midi_file_on_disk_is_rendered(melody_midi_path):
    rendering = render_audio(melody_midi_path, backend="numpy")
    assert _rms(rendering.waveform) > 1e-3


# --- play and WAV ------------------------------------------------------------------------------------------------


def test_play_returns_an_inline_audio_player():
    from IPython.display import Audio

    player = play(SHORT_TUNE, backend="numpy")
    assert isinstance(player, Audio)
    assert player.data[:4] == b"RIFF"


def test_a_waveform_plays_at_its_own_rate_and_silence_and_nothing_are_handled():
    quiet = 0.01 * np.sin(2 * np.pi * 440 * np.arange(800) / 8000)
    player = play_waveform(quiet, 8000)
    with wave.open(io.BytesIO(player.data)) as wav:
        assert wav.getframerate() == 8000 and wav.getnframes() == 800
        assert np.abs(np.frombuffer(wav.readframes(800), dtype="<i2")).max() > 30000  # scaled up to be heard
    assert play_waveform(np.zeros(80), 8000).data[:4] == b"RIFF"  # silence plays as silence, not an error
    with pytest.raises(AudioError, match="no sound to play"):
        play_waveform([], 8000)


def test_play_prints_which_backend_played(capsys):
    play(SHORT_TUNE, backend="numpy")
    assert "played with numpy" in capsys.readouterr().out


def test_waveform_to_wav_makes_a_16_bit_mono_wav():
    waveform = np.sin(2 * np.pi * 440 * np.arange(SAMPLE_RATE // 10) / SAMPLE_RATE).astype(np.float32)
    with wave.open(io.BytesIO(waveform_to_wav(waveform))) as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, SAMPLE_RATE)
        assert wav.getnframes() == len(waveform)
        pcm = np.frombuffer(wav.readframes(wav.getnframes()), dtype="<i2")
    assert np.allclose(pcm / 32767, waveform, atol=1e-4)


def test_waveform_to_wav_clips_to_full_scale():
    with wave.open(io.BytesIO(waveform_to_wav([2.0, -2.0, 0.0], sample_rate=8000))) as wav:
        assert wav.getframerate() == 8000
        pcm = np.frombuffer(wav.readframes(3), dtype="<i2")
    assert pcm.tolist() == [32767, -32767, 0]


def test_chorale_rendering_saves_as_wav(chorale_rendering):
    data = waveform_to_wav(chorale_rendering.waveform, chorale_rendering.sample_rate)
    with wave.open(io.BytesIO(data)) as wav:
        assert wav.getnframes() == len(chorale_rendering.waveform)


# --- μ-law and plain quantisation (lesson 09) ----------------------------------------------------------------------
def test_mu_law_maps_the_ends_and_the_middle_and_clips():
    levels = mu_law_encode(np.array([-2.0, -1.0, 0.0, 1.0, 3.0]))
    assert levels.tolist() == [0, 0, 128, 255, 255] and levels.dtype == np.int32
    assert mu_law_decode(np.array([0, 255]), 256).tolist() == pytest.approx([-1.0, 1.0])
    # a hand-computed value: F(0.1) = ln(1 + 25.5) / ln(256) = 0.5910, level round(1.5910 / 2 · 255) = 203
    assert mu_law_encode(np.array([0.1]))[0] == 203


def test_mu_law_decoding_undoes_encoding_up_to_half_a_level(chorale):
    waveform = render_audio(chorale, sample_rate=8000, backend="numpy", max_seconds=2.0).waveform
    levels = mu_law_encode(waveform)
    assert np.array_equal(mu_law_encode(mu_law_decode(levels)), levels)  # a level decodes to itself
    error = np.abs(mu_law_decode(levels) - waveform)
    # the step between levels near x is about ln(256)·(1/255 + |x|)·(2/255): half of it bounds the error
    assert np.all(error <= 0.5 * np.log(256) * (1 / 255 + np.abs(waveform)) * 2 / 255 * 1.05 + 1e-6)


def test_plain_8_bit_quantisation_of_a_full_sine_has_the_textbook_snr():
    t = np.arange(80000) / 8000
    sine = np.sin(2 * np.pi * 441.3 * t)
    # 6.02 · 8 + 1.76 dB for a full-scale sine, with 255 steps across [−1, 1] rather than 256: 49.9 dB
    expected = 10 * np.log10(0.5 / ((2 / 255) ** 2 / 12))
    assert signal_to_noise_db(sine, quantise_linear(sine)) == pytest.approx(expected, abs=0.2)


def test_mu_law_keeps_a_quiet_sound_that_plain_quantisation_loses():
    quiet = 0.01 * np.sin(2 * np.pi * 220 * np.arange(8000) / 8000)
    mu, plain = (
        signal_to_noise_db(quiet, mu_law_decode(mu_law_encode(quiet))),
        signal_to_noise_db(quiet, quantise_linear(quiet)),
    )
    assert mu > plain + 10
    assert signal_to_noise_db(quiet, quiet) == float("inf")


def test_a_quantiser_needs_at_least_two_levels():
    with pytest.raises(AudioError, match="at least 2"):
        mu_law_encode(np.zeros(3), levels=1)
    with pytest.raises(AudioError, match="whole number"):
        quantise_linear(np.zeros(3), levels=2.5)
