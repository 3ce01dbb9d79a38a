"""Checks of the exercises in lesson 04_rnn_equation: each answer is compared with Keras itself.

Lesson: 04_rnn_equation
"""

import numpy as np

from musegen_lessons.course.checks import NUMPY, Answered, CheckFailed, call, exercise, expect_equal
from musegen_lessons.course.checks.lesson03 import compare, real_inputs

# What 04.1 and 04.2 compute: their answer must not call it.
SIMPLE_RNN = ("musegen_lessons.layers.recurrent.simple_rnn", "keras.layers.SimpleRNN", "keras.layers.SimpleRNNCell")


def _weights(rng, input_dim, units, gates=1):
    """Random weights of a stable network: recurrent weights scaled by 1/sqrt(units), so that float32 rounding
    differences between two correct implementations shrink over time instead of growing."""
    return (
        (rng.normal(size=(input_dim, gates * units)) * 0.5).astype(np.float32),
        (rng.normal(size=(units, gates * units)) / np.sqrt(units)).astype(np.float32),
        (rng.normal(size=gates * units) * 0.1).astype(np.float32),
    )


def _keras_rnn(layer, x, weights, initial_state=None):

    x = np.asarray(x, dtype=np.float32)[None]
    layer.build(x.shape)
    layer.set_weights(list(weights))
    if initial_state is None:
        return layer(x)
    return layer(x, initial_state=[np.asarray(s, dtype=np.float32)[None] for s in initial_state])


@exercise("04.1", "my_rnn_step", "one step of a simple RNN", setup=NUMPY, references=SIMPLE_RNN)
def check_rnn_step(fn):
    import keras

    rng = np.random.default_rng(5)
    for input_dim, units in [(3, 2), (10, 8), (35, 16)]:
        W_x, W_h, b = _weights(rng, input_dim, units)
        x_t = rng.normal(size=input_dim).astype(np.float32)
        h_prev = np.tanh(rng.normal(size=units)).astype(np.float32)
        layer = keras.layers.SimpleRNN(units)
        expected = np.asarray(_keras_rnn(layer, x_t[None], (W_x, W_h, b), [h_prev]))[0]
        compare(f"an input of {input_dim} and {units} units", call(fn, x_t, h_prev, W_x, W_h, b), expected)
    return "h_t = tanh(x_t W_x + h_{t-1} W_h + b), as keras.layers.SimpleRNN computes it."


@exercise("04.2", "my_simple_rnn", "a simple RNN over a melody", setup=NUMPY, references=SIMPLE_RNN)
def check_simple_rnn(fn):
    import keras

    rng = np.random.default_rng(6)
    x = real_inputs()["one-hot tokens"]
    for units in (4, 12):
        W_x, W_h, b = _weights(rng, x.shape[1], units)
        expected = np.asarray(_keras_rnn(keras.layers.SimpleRNN(units, return_sequences=True), x, (W_x, W_h, b)))[0]
        compare(f"48 one-hot tokens of a chorale with {units} units", call(fn, x, W_x, W_h, b), expected)
    return "every hidden state over a real melody equals keras.layers.SimpleRNN's."


@exercise(
    "04.4",
    "my_lstm_step",
    "one LSTM step",
    setup=NUMPY,
    references=(
        "musegen_lessons.layers.recurrent.lstm_step",
        "musegen_lessons.layers.recurrent.lstm",
        "keras.layers.LSTM",
        "keras.layers.LSTMCell",
    ),
)
def check_lstm_step(fn):
    import keras

    rng = np.random.default_rng(7)
    for input_dim, units in [(3, 2), (35, 8)]:
        kernel, recurrent_kernel, bias = _weights(rng, input_dim, units, gates=4)
        x_t = rng.normal(size=input_dim).astype(np.float32)
        h_prev = np.tanh(rng.normal(size=units)).astype(np.float32)
        c_prev = rng.normal(size=units).astype(np.float32)
        layer = keras.layers.LSTM(units, return_state=True)
        _, h, c = _keras_rnn(layer, x_t[None], (kernel, recurrent_kernel, bias), [h_prev, c_prev])
        got = call(fn, x_t, h_prev, c_prev, kernel, recurrent_kernel, bias)
        if not (isinstance(got, tuple) and len(got) == 2):
            raise CheckFailed("Return the pair (h, c): the new hidden state and the new cell state.")
        compare(f"the hidden state h ({input_dim} inputs, {units} units)", got[0], np.asarray(h)[0])
        compare(f"the cell state c ({input_dim} inputs, {units} units)", got[1], np.asarray(c)[0])
    return "gates in Keras's order i, f, g, o; h and c equal keras.layers.LSTM's."


@exercise(
    "04.5",
    "my_lstm_params",
    "LSTM parameter count",
    references=("musegen_lessons.layers.recurrent.lstm_params", "keras.layers.LSTM", "keras.layers.LSTMCell"),
    setup=NUMPY,
)
def check_lstm_params(fn):
    import keras

    for input_dim, units in [(1, 1), (35, 128), (64, 128), (128, 128), (88, 32)]:
        layer = keras.layers.LSTM(units)
        layer.build((None, None, input_dim))
        expect_equal(
            fn,
            (input_dim, units),
            layer.count_params(),
            "Four gates, each with input weights, recurrent weights and a bias.",
        )
    return "4 · units · (inputs + units + 1), as count_params() says."


# Exercise 04.3: the gradient that reaches the first note of 128 steps must stay above this to count as remembered.
REMEMBERED = 1e-2
FORGET_BIASES = range(6)


@exercise(
    "04.3",
    "my_smallest_remembering_bias",
    "predict, then measure: the forget-gate bias that remembers",
    references=("musegen_lessons.course.checks.lesson04.forget_bias_gradients",),
    setup=NUMPY,
)
def check_smallest_remembering_bias(fn):
    predicted = call(fn)
    if not isinstance(predicted, (int, np.integer)) or predicted not in FORGET_BIASES:
        raise CheckFailed(f"Predict one whole number from 0 to 5, not {predicted!r}.")
    gradients = forget_bias_gradients(real_inputs(steps=128)["one-hot tokens"])
    measured = next((b for b, g in zip(FORGET_BIASES, gradients) if g > REMEMBERED), None)
    table = "; ".join(
        f"bias {b}: σ(b)^128 = {(1 / (1 + np.exp(-b))) ** 128:.0e}, measured {g:.0e}"
        for b, g in zip(FORGET_BIASES, gradients)
    )
    verdict = "right" if predicted == measured else f"not what was measured: the smallest that remembers is {measured}"
    return Answered(
        f"you predicted {predicted}, {verdict}. {table}. σ(b)^T gives the steepness, not the level: the gradient also "
        "flows through the other gates and all 32 units, which here make it tens of times larger."
    )


def forget_bias_gradients(x, units=32, seed=0):
    """|d(sum of h_T) / dx_1| of one LSTM, the same weights each time, with its forget-gate bias set to 0 ... 5."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    layer = keras.layers.LSTM(units)
    layer.build((None, None, x.shape[1]))
    kernel, recurrent_kernel, bias = layer.get_weights()
    inputs = tf.constant(np.asarray(x, np.float32)[None])
    gradients = []
    for value in FORGET_BIASES:
        bias[units : 2 * units] = value  # Keras's gate order is i, f, g, o: the second block is the forget gate
        layer.set_weights([kernel, recurrent_kernel, bias])
        with tf.GradientTape() as tape:
            tape.watch(inputs)
            total = tf.reduce_sum(layer(inputs))
        gradients.append(float(tf.norm(tape.gradient(total, inputs)[0, 0])))
    return gradients
