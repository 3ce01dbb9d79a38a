"""The student's function in a process of its own: what crosses the pipe comes back as the same data, and only data."""

import io
import math
import pickle
from collections import Counter

import numpy as np
import pretty_midi
import pytest

from musegen_lessons.course.checks import CheckFailed, UsesReference, find_exercise
from musegen_lessons.course.isolation import (
    CellError,
    IsolatedFunction,
    Stopped,
    Unsendable,
    decode,
    encode,
    read_message,
    write_message,
)

VALUES = {
    "int": 7,
    "big int": 2**80,
    "float": 0.1,
    "bool": True,
    "none": None,
    "string": "HOLD",
    "tokens": [60, "HOLD", "REST", 62],
    "tuple of arrays": (np.arange(3), np.zeros((2, 2), np.float32)),
    "nested": {"a": [(1, 2.5), {"b": None}]},
    "tuple keys": {(60, 62): 3, (62, 64): 1},
    "set": {1, 2, 3},
    "numpy int": np.int64(3),
    "numpy float32": np.float32(0.25),
    "numpy bool": np.bool_(True),
    "strings array": np.array(["HOLD", "REST"]),
    "empty array": np.zeros((0, 4), np.int64),
}


def _same(a, b):
    if isinstance(a, np.ndarray):
        return type(b) is np.ndarray and a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))
    if isinstance(a, dict):
        return type(b) is dict and a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("value", VALUES.values(), ids=VALUES.keys())
def test_a_value_comes_back_with_its_types(value):
    assert _same(value, decode(encode(value)))


def test_nan_and_infinity_come_back():
    nan, inf = decode(encode([math.nan, math.inf]))
    assert math.isnan(nan) and inf == math.inf


def test_a_counter_and_an_iterator_come_back_as_what_the_checks_read():
    assert decode(encode(Counter("aab"))) == {"a": 2, "b": 1}
    assert decode(encode(map(str, [1, 2]))) == ["1", "2"]


def test_a_pretty_midi_comes_back_by_its_notes():
    pm = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    piano.notes.append(pretty_midi.Note(velocity=80, pitch=60, start=0.0, end=1 / 6))
    pm.instruments.append(piano)
    [back] = decode(encode(pm)).instruments
    [note] = back.notes
    assert (note.pitch, note.velocity, note.start, note.end) == (60, 80, 0.0, 1 / 6)


@pytest.mark.parametrize(
    "value, said",
    [(object(), "a value of type object, which the grader does not take back"), (np.array([object()]), "dtype object")],
)
def test_anything_else_is_refused_by_name(value, said):
    with pytest.raises(Unsendable, match=said):
        encode(value)


def test_a_pickle_is_never_loaded():
    # A pickled object in an .npy file, or any tag the grader did not write, is refused, not run.
    buffer = io.BytesIO()
    np.save(buffer, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    import base64
    import json

    forged = json.dumps({"array": base64.b64encode(buffer.getvalue()).decode()})
    with pytest.raises(ValueError, match="pickle"):
        decode(forged)
    with pytest.raises(ValueError, match="unknown tag"):
        decode(json.dumps({"pickle": base64.b64encode(pickle.dumps(1)).decode()}))


def test_a_keras_model_with_a_lambda_layer_is_refused():
    import keras

    model = keras.Sequential([keras.Input((3,)), keras.layers.Lambda(lambda x: x * 2)])
    with pytest.raises(ValueError, match="Lambda"):
        decode(encode(model))
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    assert decode(encode(model)).count_params() == 8


def test_a_message_longer_than_the_limit_or_cut_short_is_refused():
    stream = io.BytesIO()
    write_message(stream, b"x" * 100)
    stream.seek(0)
    with pytest.raises(ValueError, match="larger than"):
        read_message(stream, limit=10)
    with pytest.raises(EOFError):
        read_message(io.BytesIO(stream.getvalue()[:50]))


def test_the_function_runs_in_another_process(tmp_path):
    cell = "import os\ndef my_seconds_per_quarter(tempo_bpm):\n    return os.getpid()"
    with IsolatedFunction(find_exercise("00.1"), cell, 60, tmp_path) as fn:
        assert fn(120) != __import__("os").getpid()


def test_the_cell_s_errors_are_told_apart(tmp_path):
    ex = find_exercise("03.5")
    cells = {
        "def my_conv1d(x, kernel, bias):\n    return chorale": None,
        "chorale.parts\ndef my_conv1d(x, kernel, bias):\n    pass": (CellError, "NameError"),
        "my_conv1d = 3": (CellError, "did not define a function my_conv1d"),
        "from musegen_lessons.layers import convolution\nconvolution.conv1d(1, 2, 3)": (
            UsesReference,
            "convolution.conv1d",
        ),
        "while True:\n    pass": (Stopped, "timed out"),
    }
    for cell, expected in cells.items():
        if expected is None:
            with IsolatedFunction(ex, cell, 5, tmp_path) as fn, pytest.raises(Exception, match="'chorale' is not"):
                fn(np.ones((4, 1)), np.ones((3, 1, 1)), np.zeros(1))
            continue
        with pytest.raises(expected[0], match=expected[1]):
            with IsolatedFunction(ex, cell, 5, tmp_path):
                pass


def test_the_time_limit_covers_all_calls_together(tmp_path):
    cell = "import time\ndef my_seconds_per_quarter(tempo_bpm):\n    time.sleep(1.5)\n    return 60 / tempo_bpm"
    with IsolatedFunction(find_exercise("00.1"), cell, 4, tmp_path) as fn:
        assert fn(60) == 1.0 and fn(120) == 0.5
        with pytest.raises(Stopped, match="longer than 4 s"):
            fn(90)


def test_printing_and_reading_input_cannot_disturb_the_replies(tmp_path):
    cell = (
        "import os, sys\ndef my_seconds_per_quarter(tempo_bpm):\n    print('passed')\n    os.write(1, b'\\x00' * 9)\n"
        "    sys.stdout.flush()\n    assert sys.stdin.read() == ''\n    return 60 / tempo_bpm"
    )
    with IsolatedFunction(find_exercise("00.1"), cell, 30, tmp_path) as fn:
        assert fn(120) == 0.5


def test_an_unsendable_answer_is_a_failed_check(tmp_path):
    cell = "def my_seconds_per_quarter(tempo_bpm):\n    return lambda: 1"
    with IsolatedFunction(find_exercise("00.1"), cell, 30, tmp_path) as fn:
        with pytest.raises(CheckFailed, match="a value of type function, which the grader does not take back"):
            fn(120)
