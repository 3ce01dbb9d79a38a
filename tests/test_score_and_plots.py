"""Seeing music (musegen_lessons.music.plots): scores engraved by verovio, piano rolls, waveforms, spectrograms."""

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes

from musegen_lessons.music.audio import render_audio
from musegen_lessons.music.encoding import notes_to_piano_roll
from musegen_lessons.music.midi import notes_to_midi
from musegen_lessons.music.plots import show_piano_roll, show_spectrogram, show_waveform
from musegen_lessons.music.score import Score, render_score

C_MAJOR_CHORD = [(60, 0, 1), (64, 0, 1), (67, 0, 1), (72, 0, 1)]  # C4, E4, G4, C5 struck together


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def tune_waveform():
    rendering = render_audio([(60, 0, 1), (67, 1, 2)], backend="numpy")
    return rendering.waveform, rendering.sample_rate


def _note_heads(svg):
    return svg.count('class="note"')  # verovio marks each engraved note with this class


# --- the engraved score ------------------------------------------------------------------------------------------


def test_chord_notes_engrave_as_svg():
    score = render_score(C_MAJOR_CHORD)
    assert isinstance(score, Score)
    assert score.svg.lstrip().startswith("<svg")
    assert score.svg.rstrip().endswith("</svg>")


def test_chord_of_four_notes_has_four_note_heads():
    assert _note_heads(render_score(C_MAJOR_CHORD).svg) == 4


def test_melody_notes_have_one_note_head_each(melody):
    assert _note_heads(render_score(melody).svg) == len(melody)


def test_chorale_engraves_as_svg_with_all_its_notes(chorale):
    svg = render_score(chorale).svg
    assert "<svg" in svg
    assert _note_heads(svg) > 100  # four voices of a whole chorale


def test_natural_notes_are_engraved_without_accidentals():
    assert render_score(C_MAJOR_CHORD).svg.count('class="accid"') == 0  # no natural sign on C, E, G


def test_black_key_is_engraved_with_one_accidental():
    assert render_score([(66, 0, 1)]).svg.count('class="accid"') == 1  # F#4


def test_score_shows_inline_in_jupyter():
    score = render_score(C_MAJOR_CHORD)
    assert score._repr_svg_() == score.svg


def test_score_saves_to_an_svg_file(tmp_path):
    score = render_score(C_MAJOR_CHORD)
    path = score.save(tmp_path / "chord.svg")
    assert path.read_text() == score.svg


def test_pretty_midi_engraves_through_music21():
    svg = render_score(notes_to_midi([(60, 0, 1), (62, 1, 2), (64, 2, 4)])).svg
    assert _note_heads(svg) >= 3


# --- the piano roll ----------------------------------------------------------------------------------------------


def test_piano_roll_of_notes_returns_axes(melody):
    assert isinstance(show_piano_roll(melody), Axes)


def test_piano_roll_of_notes_spans_their_pitches_with_a_margin(melody):
    ax = show_piano_roll(melody)  # pitches 60..67
    assert ax.get_ylim() == (57.5, 69.5)


def test_piano_roll_of_notes_spans_their_time_in_quarters(melody):
    assert show_piano_roll(melody).get_xlim() == (0.0, 4.0)


def test_piano_roll_draws_one_bar_per_note(melody):
    ax = show_piano_roll(melody)
    assert len(ax.collections) == len(melody)


def test_piano_roll_of_pretty_midi_has_the_same_range(melody):
    ax = show_piano_roll(notes_to_midi(melody))
    assert ax.get_ylim() == (57.5, 69.5)
    assert ax.get_xlim() == pytest.approx((0.0, 4.0))


def test_piano_roll_of_midi_file_has_the_same_range(melody_midi_path):
    assert show_piano_roll(melody_midi_path).get_ylim() == (57.5, 69.5)


def test_piano_roll_of_array_has_the_range_of_its_keys(melody):
    roll = notes_to_piano_roll(melody)
    assert roll.shape == (16, 88)
    ax = show_piano_roll(roll)
    assert isinstance(ax, Axes)
    assert ax.get_ylim() == (57.5, 69.5)
    assert ax.get_xlim() == (0.0, 4.0)


def test_piano_roll_of_empty_array_still_draws():
    ax = show_piano_roll(np.zeros((16, 88), dtype=np.uint8))
    assert ax.get_ylim() == (57.5, 62.5)  # centred on middle C


def test_piano_roll_of_chorale_spans_bass_to_soprano(chorale):
    ax = show_piano_roll(chorale)
    low, high = ax.get_ylim()
    assert low < 48 and high > 72  # the bass goes below C3, the soprano above C5


def test_piano_roll_names_the_lowest_and_highest_notes_of_a_narrow_melody(melody):
    ax = show_piano_roll(melody)  # 60 to 67: only one C in range, so the ends are named too
    assert [t.get_text() for t in ax.get_yticklabels()] == ["C4", "G4"]


def test_piano_roll_names_the_c_keys_of_a_wide_range():
    ax = show_piano_roll([(48, 0, 1), (60, 1, 2), (74, 2, 3)])
    assert [t.get_text() for t in ax.get_yticklabels()] == ["C3", "C4", "C5"]


def test_piano_roll_gives_each_voice_its_own_colour(chorale):
    ax = show_piano_roll(chorale)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Soprano", "Alto", "Tenor", "Bass"]


def test_piano_roll_draws_into_given_axes(melody):
    _, ax = plt.subplots()
    assert show_piano_roll(melody, ax=ax, title="A tune") is ax
    assert ax.get_title() == "A tune"


# --- waveform and spectrogram ------------------------------------------------------------------------------------


def test_waveform_returns_axes_in_seconds(tune_waveform):
    waveform, sample_rate = tune_waveform
    ax = show_waveform(waveform, sample_rate)
    assert isinstance(ax, Axes)
    assert ax.get_xlabel() == "time (s)"
    assert ax.get_xlim()[1] == pytest.approx((len(waveform) - 1) / sample_rate)


def test_spectrogram_returns_axes_up_to_max_hz(tune_waveform):
    waveform, sample_rate = tune_waveform
    ax = show_spectrogram(waveform, sample_rate, max_hz=3000)
    assert isinstance(ax, Axes)
    assert ax.get_ylabel() == "frequency (Hz)"
    assert ax.get_ylim() == (0.0, 3000.0)


def test_spectrogram_of_a_waveform_ending_in_silence_prints_no_warning(tune_waveform):
    waveform, sample_rate = tune_waveform
    assert (waveform[-sample_rate // 10 :] == 0).all()  # the numpy synthesiser ends in digital silence
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        show_spectrogram(waveform, sample_rate)
    messages = [f"{w.category.__name__}: {w.message}" for w in caught]
    assert messages == [], f"a student would see these warnings under the plot: {messages}"
