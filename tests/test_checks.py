"""Exercise checks: every reference answer passes, a stub is 'not attempted', a wrong answer says why."""

import json
from collections import Counter

import numpy as np
import pytest

from musegen_lessons import corpus, dataset, encoding, equations, metrics, midi, notation, polyphony, training
from musegen_lessons.checks import RESULT_MIME, CheckFailed, call, check, check_environment, exercises

# A correct function for every exercise, taken from the package itself: the trusted references.
REFERENCES = {
    "00.1": lambda tempo_bpm: 60.0 / tempo_bpm,
    "01.1": notation.midi_to_frequency,
    "01.2": notation.name_to_midi,
    "01.3": encoding.notes_to_tokens,
    "01.4": lambda tokens: encoding.notes_to_piano_roll(encoding.tokens_to_notes(tokens), steps=len(tokens)),
    "02.1": corpus.transposition_to_c,
    "02.2": encoding.transpose_tokens,
    "02.3": dataset.make_windows,
    "02.4": dataset.tune_fingerprint,
    "03.1": equations.conv1d,
    "03.2": equations.conv_output_steps,
    "03.3": equations.max_pool1d,
    "03.4": equations.receptive_field,
    "04.1": lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x + h_prev @ W_h + b),
    "04.2": equations.simple_rnn,
    "04.3": equations.lstm_step,
    "04.4": equations.lstm_params,
    "05.1": lambda sequences: dict(Counter(pair for s in sequences for pair in zip(s[:-1], s[1:]))),
    "05.2": lambda p, targets: float(-np.mean(np.log(p[np.arange(len(targets)), targets]))),
    "05.3": lambda vocab_size: _specified_model(vocab_size),
    "05.4": lambda p, targets: training.next_token_scores(np.log(p), targets)["onset_accuracy"],
    "06.1": lambda p, temperature: (lambda q: q / q.sum())(np.asarray(p, float) ** (1 / temperature)),
    "06.2": lambda p, k: _top_k(np.asarray(p, float), k),
    "06.3": lambda tokens, tempo_bpm: midi.notes_to_midi(encoding.tokens_to_notes(tokens), tempo_bpm=tempo_bpm),
    "07.1": metrics.pitch_class_histogram,
    "07.2": metrics.scale_consistency,
    "07.3": lambda p, q, grid: float(np.minimum(p, q).sum() * (grid[1] - grid[0])),
    "08.1": polyphony.frame_nll,
    "08.2": polyphony.frame_accuracy,
    "08.3": lambda keys, hidden: polyphony.made_masks(keys, hidden)[:2],
}


def _top_k(p, k):
    kept = np.zeros_like(p)
    keep = np.argsort(-p, kind="stable")[:k]
    kept[keep] = p[keep]
    return kept / kept.sum()


def _specified_model(vocab_size):
    import keras

    return keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(vocab_size, 16),
            keras.layers.Conv1D(32, 3, padding="causal", activation="relu"),
            keras.layers.LSTM(64, return_sequences=True),
            keras.layers.Dense(vocab_size, activation="softmax"),
        ]
    )


def _stub(*args):
    raise NotImplementedError()


def test_every_exercise_has_a_reference_here():
    assert sorted(REFERENCES) == [e.id for e in exercises()]


@pytest.mark.parametrize("exercise_id", sorted(REFERENCES))
def test_the_reference_answer_passes(exercise_id, capsys):
    check(exercise_id, REFERENCES[exercise_id])
    assert "passed" in capsys.readouterr().out


@pytest.mark.parametrize("exercise_id", sorted(REFERENCES))
def test_a_stub_is_not_attempted_and_does_not_raise(exercise_id, capsys):
    check(exercise_id, _stub)
    assert "not attempted yet" in capsys.readouterr().out


@pytest.mark.parametrize("exercise_id", sorted(REFERENCES))
def test_a_constant_answer_fails_with_a_message(exercise_id):
    with pytest.raises(CheckFailed, match=f"Exercise {exercise_id}"):
        check(exercise_id, lambda *args: 0)


def test_a_crashing_answer_names_the_input_and_the_error():
    with pytest.raises(CheckFailed, match=r"my_name_to_midi\('C4'\).*KeyError"):

        def my_name_to_midi(name):
            return {}[name]

        check("01.2", my_name_to_midi)


def test_off_by_an_octave_is_caught():
    with pytest.raises(CheckFailed, match="the answer is 60, yours was 48"):
        check("01.2", lambda name: notation.name_to_midi(name) - 12)


def test_a_piano_roll_of_the_wrong_shape_says_the_right_one():
    with pytest.raises(CheckFailed, match=r"shape \(4, 88\)"):
        check("01.4", lambda tokens: encoding.notes_to_piano_roll(encoding.tokens_to_notes(tokens)).T)


def test_an_unknown_exercise_lists_the_known_ones():
    with pytest.raises(KeyError, match="01.1"):
        check("99.9", _stub)


def test_call_passes_not_implemented_through():
    with pytest.raises(NotImplementedError):
        call(_stub, 1)


def test_the_check_result_is_machine_readable_in_a_notebook(tmp_path):
    """Run a check in a real kernel and read the output the grader reads."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell('from musegen_lessons.checks import check\ncheck("00.1", lambda t: 60 / t)')]
    NotebookClient(nb, timeout=60, kernel_name="python3").execute()
    [output] = nb.cells[0].outputs
    result = output["data"][RESULT_MIME]
    assert result["exercise"] == "00.1" and result["status"] == "passed"
    assert "passed" in output["data"]["text/plain"]
    json.dumps(result)


def test_environment_check_finds_the_course_packages(capsys):
    rows = check_environment()
    assert all(rows[name][0] for name in ("music21", "pretty_midi", "verovio", "numpy", "tensorflow", "keras"))
    assert rows["audio: numpy"] == (True, "ready")
    assert "Sound will be played with" in capsys.readouterr().out


def test_a_frame_nll_that_forgets_the_silent_keys_is_caught():
    with pytest.raises(CheckFailed, match="silent|do not"):
        check("08.1", lambda p, frame: -(np.asarray(frame) * np.log(p)).sum(axis=-1))


def test_a_made_mask_that_lets_a_key_hear_itself_is_caught():
    def leaky(keys, hidden):
        to_hidden = polyphony.made_masks(keys, hidden)[0]
        m = 1 + np.arange(hidden) % (keys - 1)
        return to_hidden, (m[:, None] <= np.arange(1, keys + 1)[None, :]).astype(float)

    with pytest.raises(CheckFailed, match="hidden → output"):
        check("08.3", leaky)
