"""Checks of the exercises in lesson 04_rnn_equation: each answer is compared with Keras itself.

Lesson: 04_rnn_equation
"""

import numpy as np

from musegen_lessons.course.checks import NUMPY, Answered, CheckFailed, call, exercise
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


def _one_step_late(states, expected):
    """Whether `states` are `expected` one step late: row t is the state before reading x[t] (row 0 then h_0)."""
    late = np.asarray(states, dtype=np.float64)
    return late.shape == expected.shape and np.allclose(late[1:], expected[:-1], atol=1e-4, rtol=0)


@exercise(
    "04.2",
    "my_simple_rnn",
    "find the bug: a simple RNN whose states are one step late",
    setup=NUMPY,
    references=SIMPLE_RNN,
)
def check_simple_rnn(fn):
    import keras

    rng = np.random.default_rng(6)
    x = real_inputs()["one-hot tokens"]
    for units in (4, 12):
        W_x, W_h, b = _weights(rng, x.shape[1], units)
        expected = np.asarray(_keras_rnn(keras.layers.SimpleRNN(units, return_sequences=True), x, (W_x, W_h, b)))[0]
        what = f"48 one-hot tokens of a chorale with {units} units"
        got = call(fn, x, W_x, W_h, b)
        if _one_step_late(got, expected):
            raise CheckFailed(
                f"On {what}, your row t is Keras's row t − 1 (and your row 0 is the state before any input): every "
                "state is stored before it is updated, so it is one step late, as in the loop with the bug. Row t "
                "must be the state after reading x[t]: update h, then store it."
            )
        compare(what, got, expected)
    return "every hidden state over a real melody equals keras.layers.SimpleRNN's: h is stored after it is updated."


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


def keras_lstm_params(inputs, units):
    """Keras's count of the parameters of an LSTM layer of `units` units reading `inputs` features (0 units: 0)."""
    import keras

    if units == 0:
        return 0
    # zeros instead of the orthogonal recurrent initialiser: the count is the same, and nothing is factorised
    layer = keras.layers.LSTM(units, kernel_initializer="zeros", recurrent_initializer="zeros")
    layer.build((None, None, inputs))
    return layer.count_params()


# Exercise 04.5: (inputs, budget) pairs: lesson 05's LSTMs, budgets met exactly and missed by one, too small for a unit.
BUDGETS = [
    (64, 100_000),
    (64, 98_816),
    (64, 98_815),
    (35, 147),
    (35, 148),
    (128, 131_584),
    (88, 50_000),
    (1, 11),
    (128, 1_000_000),
]
LARGEST_BUILT = 4096  # more units than this are not built to be counted: their recurrent kernel alone is too big


@exercise(
    "04.5",
    "my_largest_units",
    "choose the largest LSTM within a parameter budget",
    references=("musegen_lessons.layers.recurrent.lstm_params", "keras.layers.LSTM", "keras.layers.LSTMCell"),
    setup=NUMPY,
)
def check_largest_units(fn):
    for inputs, budget in BUDGETS:
        units = call(fn, inputs, budget)
        if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 0:
            raise CheckFailed(f"Return a whole number of units, 0 or more (an int), not {units!r}.")
        units = int(units)
        given = f"For {inputs} inputs and a budget of {budget:,} parameters you chose {units} unit{'s' * (units != 1)}"
        if units > LARGEST_BUILT:
            raise CheckFailed(
                f"{given}: their recurrent kernel alone holds 4·{units}² = {4 * units**2:,} parameters, over the "
                "budget. Count all of them, 4u(n + u + 1), and take the largest u that fits."
            )
        count = keras_lstm_params(inputs, units)
        if count > budget:
            raise CheckFailed(
                f"{given}, and Keras counts {count:,} parameters: {count - budget:,} over the budget. Count every one "
                "of them, 4u(n + u + 1) (four gates, each with input weights, recurrent weights and a bias), and "
                "round the root down, never up."
            )
        larger = keras_lstm_params(inputs, units + 1)
        if larger <= budget:
            raise CheckFailed(
                f"{given} ({count:,} parameters), but {units + 1} unit{'s' * (units != 0)} fit too ({larger:,} "
                "parameters). Take the largest u with 4u(n + u + 1) ≤ budget: a budget met exactly is allowed, and "
                "Keras gives each gate one bias per unit, not two."
            )
    return (
        "the largest LSTM within every budget, by Keras's count: u = ⌊(√((n + 1)² + B) − (n + 1)) / 2⌋, the root of "
        "4u(n + u + 1) = B rounded down; 0 when one unit is already over."
    )


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
