"""Generation: sampling, valid melodies, the three step generators agreeing, reproducibility, and `musegen compose`."""

import io
import wave

import numpy as np
import pytest

from musegen_lessons.corpora.dataset import build_dataset, step_positions
from musegen_lessons.corpora.melodies import load_melodies
from musegen_lessons.course.cli import main
from musegen_lessons.errors import MelodyError, NotationError
from musegen_lessons.families.lstm import KerasStepGenerator, NumpyStepGenerator
from musegen_lessons.families.sampling import WindowedGenerator, compose, generate
from musegen_lessons.families.saving import load_melody_model
from musegen_lessons.music.encoding import HOLD, REST, parse_melody, validate_tokens
from musegen_lessons.music.melody import Melody
from musegen_lessons.music.midi import melody_to_midi, read_midi


@pytest.fixture(scope="module")
def kept_model():
    model, vocabulary, _ = load_melody_model()
    return model, vocabulary


@pytest.fixture(scope="module")
def held_out_piece():
    return build_dataset(load_melodies("chorales", quick=False, progress=False).pieces).pieces["test"][0]


# --- the three generators ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("generator_class", [NumpyStepGenerator, KerasStepGenerator, WindowedGenerator])
def test_stepwise_generation_equals_the_windowed_model(kept_model, held_out_piece, generator_class):
    model, vocabulary = kept_model
    ids = vocabulary.encode(held_out_piece.tokens[:64])
    positions = step_positions(held_out_piece)[:64]
    reference = np.asarray(model({"tokens": ids[None], "positions": positions[None]}))[0]
    generator = generator_class(model)
    steps = 64 if generator_class is not WindowedGenerator else 12  # the naive loop is slow; 12 steps prove it
    stepwise = np.array([generator.step(int(t), int(p)) for t, p in zip(ids[:steps], positions[:steps])])
    assert np.abs(stepwise - reference[:steps]).max() <= 1e-5


def test_generated_melodies_are_valid_and_extend_the_seed(kept_model, held_out_piece):
    model, vocabulary = kept_model
    seed = held_out_piece.tokens[:16]
    melody = generate(NumpyStepGenerator(model), vocabulary, seed, 200, temperature=1.5, seed=9)
    assert melody[:16] == seed and len(melody) == 216
    validate_tokens(melody)


def test_the_same_seed_gives_identical_midi_bytes(kept_model):
    model, vocabulary = kept_model
    files = []
    for _ in range(2):
        tokens = generate(NumpyStepGenerator(model), vocabulary, parse_melody("C4 D4 E4"), 96, seed=7)
        files.append(_midi_bytes(melody_to_midi(Melody(tokens).transposed("G major"), tempo_bpm=90)))
    assert files[0] == files[1]
    other = generate(NumpyStepGenerator(model), vocabulary, parse_melody("C4 D4 E4"), 96, seed=8)
    assert other != tokens


@pytest.mark.parametrize("bar_steps", [0, 64])
def test_a_bar_the_beat_input_cannot_take_is_refused(kept_model, bar_steps):
    model, vocabulary = kept_model
    with pytest.raises(MelodyError, match=f"A bar of {bar_steps} steps is outside the model's beat input"):
        generate(NumpyStepGenerator(model), vocabulary, [60], 8, bar_steps=bar_steps)


@pytest.mark.parametrize("length", [0, -3])
def test_a_length_below_one_is_refused(kept_model, length):
    model, vocabulary = kept_model
    with pytest.raises(MelodyError, match="length"):
        generate(NumpyStepGenerator(model), vocabulary, [60], length)


def test_a_seed_pitch_the_model_never_saw_is_refused(kept_model):
    model, vocabulary = kept_model
    with pytest.raises(MelodyError, match="not in this Vocabulary"):
        generate(NumpyStepGenerator(model), vocabulary, parse_melody("C1"), 8)


def test_an_empty_seed_is_refused(kept_model):
    model, vocabulary = kept_model
    with pytest.raises(MelodyError, match="empty"):
        generate(NumpyStepGenerator(model), vocabulary, [], 8)


# --- typed melodies and post-processing -------------------------------------------------------------------------


def test_typed_notes_become_tokens():
    assert parse_melody("C4 D4:0.5 r:0.25 E4:2") == [60, HOLD, HOLD, HOLD, 62, HOLD, REST, 64] + [HOLD] * 7


@pytest.mark.parametrize(
    "text, error",
    [
        ("H4", NotationError),
        ("C4:x", NotationError),
        ("C4:0", NotationError),
        ("C4:0.3", NotationError),
        ("r r", MelodyError),
        ("", MelodyError),
    ],
)
def test_bad_typed_notes_are_refused(text, error):
    with pytest.raises(error):
        parse_melody(text)


def test_the_tempo_sets_the_length_in_seconds():
    pm = melody_to_midi(Melody([60] + [HOLD] * 15), tempo_bpm=120)
    assert pm.instruments[0].notes[0].end == pytest.approx(2.0)


def test_the_midi_file_carries_the_key_and_time_signatures():
    pm = read_midi(_midi_bytes(melody_to_midi(Melody([62, HOLD, 66], "B minor", "6/8"), tempo_bpm=90)))
    [key] = pm.key_signature_changes
    [metre] = pm.time_signature_changes
    assert key.key_number == 12 + 11 and (metre.numerator, metre.denominator) == (6, 8)


def _midi_bytes(pm):
    data = io.BytesIO()
    pm.write(data)
    return data.getvalue()


# --- an opening typed in any key ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "key, typed",
    [
        ("D major", "A4 D5 C#5 B4 A4"),
        ("F# minor", "C#5 A4 F#4 G#4 A4"),
        ("Bb major", "F4 Bb4 D5 C5:2"),
        ("C major", "E4 D4 C4"),
    ],
)
def test_the_opening_typed_is_the_opening_heard(kept_model, key, typed):
    model, vocabulary = kept_model
    opening = Melody(parse_melody(typed), key)
    melody = compose(NumpyStepGenerator(model), vocabulary, opening, 48, seed=3)
    assert melody.key == key and melody.tokens[: len(opening.tokens)] == opening.tokens
    assert len(melody.tokens) == len(opening.tokens) + 48
    validate_tokens(list(melody.tokens))


def test_the_melody_is_continued_where_the_model_knows_it(kept_model):
    model, vocabulary = kept_model
    home = compose(NumpyStepGenerator(model), vocabulary, Melody(parse_melody("E4 D4 C4"), "C major"), 32, seed=3)
    moved = compose(NumpyStepGenerator(model), vocabulary, Melody(parse_melody("F#4 E4 D4"), "D major"), 32, seed=3)
    assert moved.transposed("C major") == home  # the same melody, two semitones up


def test_a_typed_note_outside_the_model_s_range_is_named_as_typed(kept_model):
    model, vocabulary = kept_model
    expected = "The opening's D2 is a note this model never wrote in D major: its notes there lie from F#3 to D6"
    with pytest.raises(MelodyError, match=expected):
        compose(NumpyStepGenerator(model), vocabulary, Melody(parse_melody("D4 D2"), "D major"), 8)


# --- musegen compose --------------------------------------------------------------------------------------------


def test_compose_writes_midi_wav_and_svg(tmp_path, capsys):
    out = tmp_path / "tunes"
    assert (
        main(
            [
                "compose",
                "--out",
                str(out),
                "--seed-notes",
                "E4 D4 C4",
                "--length",
                "64",
                "--key",
                "D major",
                "--tempo",
                "90",
                "--seed",
                "1",
            ]
        )
        == 0
    )
    assert sorted(p.name for p in out.iterdir()) == ["melody.mid", "melody.svg", "melody.wav"]
    assert read_midi(out / "melody.mid").get_end_time() > 2
    with wave.open(str(out / "melody.wav")) as audio:
        assert audio.getnframes() > 0
    assert "<svg" in (out / "melody.svg").read_text()
    assert str(out / "melody.mid") in capsys.readouterr().out


def test_compose_starts_with_the_notes_typed_in_the_key_chosen(tmp_path):
    out = tmp_path / "tunes"
    typed = ["--seed-notes", "A4 D5 C#5 B4 A4", "--key", "D major", "--length", "32", "--seed", "2"]
    assert main(["compose", "--out", str(out)] + typed) == 0
    pm = read_midi(out / "melody.mid")
    assert [n.pitch for n in pm.instruments[0].notes[:5]] == [69, 74, 73, 71, 69]
    assert pm.key_signature_changes[0].key_number == 2  # D major
    assert (out / "melody.svg").read_text().count('class="keyAccid"') == 2  # the two sharps of the key signature


@pytest.mark.parametrize(
    "arguments, message",
    [
        (["--seed-notes", "H9"], "not a pitch name"),
        (["--length", "0"], "argument --length: must be a whole number of at least 1"),
        (["--temperature", "0"], "argument --temperature: must be a number above 0"),
        (["--temperature", "-1"], "argument --temperature: must be a number above 0"),
        (["--top-p", "1.5"], "argument --top-p: must lie in (0, 1]"),
        (["--tempo", "fast"], "argument --tempo: must be a number above 0, not 'fast'"),
        (["--key", "X major"], "Unknown key"),
        (["--key", "D major", "--seed-notes", "D4 D1"], "The opening's D1 is a note this model never wrote in D major"),
        (["--model", "/nonexistent/model"], "No model at"),
    ],
)
def test_compose_refuses_bad_arguments_and_writes_nothing(tmp_path, capsys, arguments, message):
    out = tmp_path / "tunes"
    assert main(["compose", "--out", str(out)] + arguments) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_compose_with_the_kept_transformer_starts_with_the_notes_typed(tmp_path):
    out = tmp_path / "tunes"
    typed = ["--seed-notes", "A4 D5 C#5 B4 A4", "--key", "D major", "--length", "32", "--model", "transformer"]
    assert main(["compose", "--out", str(out)] + typed) == 0
    notes = read_midi(out / "melody.mid").instruments[0].notes
    assert [n.pitch for n in notes[:5]] == [69, 74, 73, 71, 69] and len(notes) > 5
