"""The layer equations in numpy, each proven equal to its Keras layer (musegen_lessons.layers.convolution).

Every comparison builds a real Keras layer, gives it known random weights with `set_weights`, runs both on the
same float32 input — random numbers, a Bach chorale's piano roll, or its soprano as one-hot tokens — and asserts
that the largest absolute difference is below 1e-5.
"""

import subprocess
import sys
import warnings

import keras
import numpy as np
import pytest

from musegen_lessons.corpora import bundled
from musegen_lessons.errors import ChoiceError, ShapeError
from musegen_lessons.layers.activations import sigmoid, softmax, tanh
from musegen_lessons.layers.convolution import (
    conv1d,
    conv1d_params,
    conv_output_steps,
    gated_activation,
    max_pool1d,
    receptive_field,
    wavenet_block,
)
from musegen_lessons.layers.dense import (
    dense,
    dense_params,
    embedding,
    embedding_params,
    softmax_cross_entropy,
    softmax_cross_entropy_gradient,
)
from musegen_lessons.layers.recurrent import lstm, lstm_params, lstm_step, simple_rnn, simple_rnn_params
from musegen_lessons.layers.shapes import max_abs_difference
from musegen_lessons.music.encoding import Vocabulary, notes_to_piano_roll, notes_to_tokens, one_hot
from musegen_lessons.music.midi import as_pretty_midi, midi_to_notes

TOLERANCE = 1e-5  # float32 rounding of sums over up to a few hundred terms stays far below this
DIFFERENCES = {}  # test input -> largest absolute difference seen, kept for reporting


def assert_equal_to_keras(ours, theirs, label):
    """Assert same shape and largest absolute difference < TOLERANCE; remember the difference under `label`."""
    theirs = np.asarray(theirs)
    assert ours.shape == theirs.shape, f"{label}: numpy gives shape {ours.shape}, Keras {theirs.shape}"
    difference = max_abs_difference(ours, theirs)
    DIFFERENCES[label] = difference
    assert difference < TOLERANCE, f"{label}: largest absolute difference {difference:.3g}"


def set_random_weights(layer, rng, scale=0.5):
    """Give a built layer known random float32 weights (biases included, so they are tested too) and return them."""
    weights = [(scale * rng.standard_normal(w.shape)).astype(np.float32) for w in layer.get_weights()]
    layer.set_weights(weights)
    return weights


def random_sequences(rng, *shape):
    return rng.standard_normal(shape).astype(np.float32)


@pytest.fixture(scope="module")
def piano_roll(chorale):
    """bwv66.6 as a (steps, 88) uint8 piano roll on the 16th-note grid: four voices, real polyphony."""
    roll = notes_to_piano_roll(midi_to_notes(as_pretty_midi(chorale), unit="quarters"))
    assert roll.ndim == 2 and roll.shape[1] == 88 and roll.sum() > 0
    return roll


@pytest.fixture(scope="module")
def soprano_ids(chorale):
    """The tune of bwv66.6 as token numbers, and the vocabulary's size."""
    tokens = notes_to_tokens(bundled.melody_notes(bundled.soprano_part(chorale)))
    vocabulary = Vocabulary.from_melodies([tokens])
    return vocabulary.encode(tokens), len(vocabulary)


@pytest.fixture(scope="module")
def soprano_one_hot(soprano_ids):
    """The tune of bwv66.6 as one-hot tokens, (steps, vocab_size) float32."""
    ids, size = soprano_ids
    return one_hot(ids, size)


# --- Conv1D ----------------------------------------------------------------------------------------------------------


def keras_conv1d(rng, kernel_size, in_channels, filters, stride=1, padding="valid", dilation=1, use_bias=True):
    layer = keras.layers.Conv1D(
        filters, kernel_size, strides=stride, padding=padding, dilation_rate=dilation, use_bias=use_bias
    )
    layer.build((None, None, in_channels))
    return layer, set_random_weights(layer, rng)


CONV_CASES = [
    (kernel_size, stride, dilation, padding)
    for padding in ("valid", "same", "causal")
    for kernel_size in (1, 2, 3, 5)
    for stride in (1, 2, 3)
    for dilation in (1, 2)
    if stride == 1 or dilation == 1  # Keras refuses strides > 1 together with dilation_rate > 1
]


@pytest.mark.parametrize("kernel_size, stride, dilation, padding", CONV_CASES)
def test_conv1d_equals_keras_conv1d_on_random_batches(kernel_size, stride, dilation, padding):
    rng = np.random.default_rng(kernel_size * 100 + stride * 10 + dilation)
    steps = 20 + kernel_size  # odd and even lengths, so 'same' meets odd and even padding totals
    layer, (kernel, bias) = keras_conv1d(rng, kernel_size, 6, 4, stride, padding, dilation)
    x = random_sequences(rng, 3, steps, 6)
    ours = conv1d(x, kernel, bias, stride=stride, padding=padding, dilation=dilation)
    assert_equal_to_keras(ours, layer(x), f"conv1d random k={kernel_size} s={stride} d={dilation} {padding}")


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_conv1d_on_one_sequence_returns_one_unbatched_output(padding):
    rng = np.random.default_rng(1)
    layer, (kernel, bias) = keras_conv1d(rng, 3, 5, 2, padding=padding)
    x = random_sequences(rng, 17, 5)
    ours = conv1d(x, kernel, bias, padding=padding)
    assert ours.ndim == 2
    assert_equal_to_keras(ours, layer(x[None])[0], f"conv1d unbatched {padding}")


@pytest.mark.parametrize(
    "kernel_size, stride, dilation, padding",
    [(3, 1, 1, "valid"), (3, 1, 1, "same"), (2, 1, 2, "causal"), (5, 2, 1, "same"), (3, 3, 1, "causal")],
)
def test_conv1d_equals_keras_on_a_chorale_piano_roll(piano_roll, kernel_size, stride, dilation, padding):
    rng = np.random.default_rng(2)
    layer, (kernel, bias) = keras_conv1d(rng, kernel_size, 88, 16, stride, padding, dilation)
    ours = conv1d(piano_roll, kernel, bias, stride=stride, padding=padding, dilation=dilation)  # uint8 roll as is
    theirs = layer(piano_roll[None].astype(np.float32))[0]
    assert_equal_to_keras(ours, theirs, f"conv1d piano roll k={kernel_size} s={stride} d={dilation} {padding}")


def test_conv1d_equals_keras_on_one_hot_tokens(soprano_one_hot):
    rng = np.random.default_rng(3)
    vocab_size = soprano_one_hot.shape[1]
    layer, (kernel, bias) = keras_conv1d(rng, 3, vocab_size, 8, padding="causal", dilation=2)
    ours = conv1d(soprano_one_hot, kernel, bias, padding="causal", dilation=2)
    assert_equal_to_keras(ours, layer(soprano_one_hot[None])[0], "conv1d one-hot tokens causal d=2")


def test_conv1d_without_bias_equals_keras_conv1d_without_bias():
    rng = np.random.default_rng(4)
    layer, (kernel,) = keras_conv1d(rng, 3, 4, 3, padding="same", use_bias=False)
    x = random_sequences(rng, 2, 12, 4)
    assert_equal_to_keras(conv1d(x, kernel, None, padding="same"), layer(x), "conv1d use_bias=False")


def test_conv1d_causal_output_never_sees_the_future():
    rng = np.random.default_rng(5)
    kernel, bias = rng.standard_normal((3, 4, 2)), rng.standard_normal(2)
    x = rng.standard_normal((20, 4))
    later = x.copy()
    later[12:] += 100.0  # change only steps 12 onwards
    y = conv1d(x, kernel, bias, padding="causal", dilation=2)
    y_later = conv1d(later, kernel, bias, padding="causal", dilation=2)
    np.testing.assert_array_equal(y[:12], y_later[:12])
    assert not np.allclose(y[12], y_later[12])


def test_conv1d_with_stride_and_dilation_is_the_dilated_conv_sampled_every_stride_steps():
    # Keras refuses this combination; the equation is still defined: y[t] uses x[t·s + k·d].
    rng = np.random.default_rng(6)
    kernel, bias = rng.standard_normal((3, 4, 2)), rng.standard_normal(2)
    x = rng.standard_normal((2, 25, 4))
    for padding in ("valid", "causal"):
        strided = conv1d(x, kernel, bias, stride=3, padding=padding, dilation=2)
        dense_in_time = conv1d(x, kernel, bias, stride=1, padding=padding, dilation=2)
        np.testing.assert_allclose(strided, dense_in_time[:, ::3], atol=1e-12)


def test_conv1d_rejects_a_kernel_whose_in_channels_differ_from_the_input():
    with pytest.raises(ShapeError, match=r"kernel must have shape \(kernel_size, 88, filters\)"):
        conv1d(np.zeros((16, 88)), np.zeros((3, 12, 4)), np.zeros(4))


def test_conv1d_rejects_a_kernel_that_is_not_three_dimensional():
    with pytest.raises(ShapeError, match=r"\(kernel_size, in_channels, filters\)"):
        conv1d(np.zeros((16, 88)), np.zeros((3, 88)), np.zeros(4))


def test_conv1d_rejects_a_bias_of_the_wrong_length():
    with pytest.raises(ShapeError, match=r"bias must have shape \(filters,\) = \(4,\)"):
        conv1d(np.zeros((16, 88)), np.zeros((3, 88, 4)), np.zeros(5))


def test_conv1d_rejects_an_unknown_padding():
    with pytest.raises(ChoiceError, match="padding must be one of 'valid', 'same', 'causal'"):
        conv1d(np.zeros((16, 2)), np.zeros((3, 2, 4)), np.zeros(4), padding="full")


def test_conv1d_rejects_an_input_shorter_than_the_kernel_with_valid_padding():
    with pytest.raises(ShapeError, match="spans 5"):
        conv1d(np.zeros((4, 2)), np.zeros((3, 2, 1)), np.zeros(1), dilation=2)


def test_conv1d_rejects_a_four_dimensional_input():
    with pytest.raises(ShapeError, match=r"\(steps, in_channels\) or \(batch, steps, in_channels\)"):
        conv1d(np.zeros((1, 2, 16, 2)), np.zeros((3, 2, 1)), np.zeros(1))


# --- MaxPooling1D ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("strides", [None, 1, 2, 3])
@pytest.mark.parametrize("pool_size", [2, 3, 5])
def test_max_pool1d_equals_keras_max_pooling1d(pool_size, strides, padding):
    rng = np.random.default_rng(pool_size * 10 + (strides or 0))
    x = random_sequences(rng, 2, 19, 3)
    theirs = keras.layers.MaxPooling1D(pool_size, strides=strides, padding=padding)(x)
    ours = max_pool1d(x, pool_size, strides=strides, padding=padding)
    assert_equal_to_keras(ours, theirs, f"max_pool1d random p={pool_size} s={strides} {padding}")


@pytest.mark.parametrize("padding", ["valid", "same"])
def test_max_pool1d_equals_keras_on_a_chorale_piano_roll(piano_roll, padding):
    ours = max_pool1d(piano_roll, 4, padding=padding)  # one value per quarter note: did the key sound in it?
    theirs = keras.layers.MaxPooling1D(4, padding=padding)(piano_roll[None].astype(np.float32))[0]
    assert_equal_to_keras(ours, theirs, f"max_pool1d piano roll {padding}")


def test_max_pool1d_same_padding_never_picks_the_padding():
    x = -1.0 - np.arange(10, dtype=np.float32)[:, None]  # every value negative: a zero pad would win the max
    ours = max_pool1d(x, 3, strides=2, padding="same")
    assert (ours < 0).all()
    assert_equal_to_keras(ours, keras.layers.MaxPooling1D(3, 2, padding="same")(x[None])[0], "max_pool1d negatives")


def test_max_pool1d_rejects_causal_padding():
    with pytest.raises(ChoiceError, match="padding must be one of 'valid', 'same'"):
        max_pool1d(np.zeros((8, 2)), 2, padding="causal")


# --- output steps and receptive field --------------------------------------------------------------------------------


@pytest.mark.parametrize("padding", ["valid", "same", "causal"])
def test_conv_output_steps_equals_the_keras_output_length(padding):
    rng = np.random.default_rng(7)
    for kernel_size, stride, dilation in [(1, 1, 1), (2, 2, 1), (3, 1, 2), (3, 3, 1), (5, 2, 1), (5, 1, 2)]:
        layer, _ = keras_conv1d(rng, kernel_size, 1, 1, stride, padding, dilation)
        for steps in range(9, 17):
            measured = layer(np.zeros((1, steps, 1), dtype=np.float32)).shape[1]
            assert conv_output_steps(steps, kernel_size, stride, padding, dilation) == measured, (
                f"k={kernel_size} s={stride} d={dilation} {padding} steps={steps}"
            )


def test_conv_output_steps_is_zero_when_the_kernel_does_not_fit():
    assert conv_output_steps(4, kernel_size=3, dilation=2) == 0


def measure_receptive_field(layers, steps=64, channels=2):
    """Perturb each input step of a Keras stack in turn and count the input steps that change one middle output."""
    rng = np.random.default_rng(8)
    model = keras.Sequential([keras.Input((steps, channels)), *layers])
    for layer in model.layers:
        set_random_weights(layer, rng)
    base = random_sequences(rng, steps, channels)
    # one row per perturbed step, once upwards and once downwards, so a max-pool cannot hide the change
    batch = np.repeat(base[None], 2 * steps + 1, axis=0)
    for t in range(steps):
        batch[1 + t, t] += 1000.0
        batch[1 + steps + t, t] -= 1000.0
    out = np.asarray(model(batch))
    middle = out.shape[1] // 2
    changed = np.abs(out[1:, middle] - out[0, middle]).max(axis=-1) > 1e-2
    seen = np.flatnonzero(changed[:steps] | changed[steps:])
    assert (np.diff(seen) == 1).all(), "an output step should see one unbroken span of input steps"
    return len(seen)


RECEPTIVE_FIELD_STACKS = {
    "two convs k3": [("conv", 3, 1, 1), ("conv", 3, 1, 1)],
    "dilated causal k2 d1-2-4": [("conv", 2, 1, 1), ("conv", 2, 1, 2), ("conv", 2, 1, 4)],
    "strided k3 s2 then k3": [("conv", 3, 2, 1), ("conv", 3, 1, 1), ("conv", 5, 3, 1), ("conv", 2, 1, 1)],
    "conv pool conv": [("conv", 3, 1, 1), ("pool", 2, 2, 1), ("conv", 3, 1, 2), ("pool", 3, 2, 1), ("conv", 2, 1, 1)],
}


@pytest.mark.parametrize("stack", RECEPTIVE_FIELD_STACKS, ids=list(RECEPTIVE_FIELD_STACKS))
def test_receptive_field_of_a_stack_equals_the_measured_one(stack):
    specs = RECEPTIVE_FIELD_STACKS[stack]
    layers = [
        keras.layers.Conv1D(4, k, strides=s, dilation_rate=d) if kind == "conv" else keras.layers.MaxPooling1D(k, s)
        for kind, k, s, d in specs
    ]
    predicted = receptive_field([k for _, k, _, _ in specs], [s for _, _, s, _ in specs], [d for *_, d in specs])
    assert predicted == measure_receptive_field(layers)


def test_receptive_field_of_one_layer_is_its_kernel_span():
    assert receptive_field([5], dilations=[3]) == (5 - 1) * 3 + 1


def test_receptive_field_rejects_lists_of_different_lengths():
    with pytest.raises(ShapeError, match="one entry per layer"):
        receptive_field([3, 3], strides=[1])


# --- activations -----------------------------------------------------------------------------------------------------


def test_sigmoid_equals_keras_sigmoid():
    z = np.linspace(-12, 12, 97, dtype=np.float32)
    assert_equal_to_keras(sigmoid(z), keras.activations.sigmoid(z), "sigmoid")


def test_tanh_equals_keras_tanh():
    z = np.linspace(-6, 6, 97, dtype=np.float32)
    assert_equal_to_keras(tanh(z), keras.activations.tanh(z), "tanh")


def test_softmax_equals_keras_softmax():
    z = random_sequences(np.random.default_rng(9), 5, 30) * 4
    assert_equal_to_keras(softmax(z), keras.activations.softmax(z), "softmax")


def test_softmax_rows_sum_to_one():
    probabilities = softmax(np.random.default_rng(10).standard_normal((16, 40)) * 5)
    np.testing.assert_allclose(probabilities.sum(axis=-1), 1.0, atol=1e-12)
    assert (probabilities > 0).all()


def test_softmax_along_another_axis_sums_along_that_axis():
    probabilities = softmax(np.random.default_rng(11).standard_normal((16, 40)), axis=0)
    np.testing.assert_allclose(probabilities.sum(axis=0), 1.0, atol=1e-12)


def test_softmax_survives_large_logits():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # an overflow would warn
        probabilities = softmax(np.array([1000.0, 1000.0, -1000.0, 999.0]))
    assert np.isfinite(probabilities).all()
    total = 2 + np.exp(-1)  # e^0 + e^0 + e^-2000 + e^-1, after subtracting the largest logit
    np.testing.assert_allclose(probabilities, [1 / total, 1 / total, 0.0, np.exp(-1) / total])


def test_sigmoid_survives_large_inputs():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_allclose(values, [0.0, 0.5, 1.0])


# --- SimpleRNN -------------------------------------------------------------------------------------------------------


def keras_recurrent(layer, rng, input_dim, scale=0.5):
    """Build a recurrent layer with known random weights; return it and [kernel, recurrent_kernel, bias].

    The recurrent kernel is scaled by 1/sqrt(units) so the recurrence is contractive, as in a trained network.
    With larger recurrent weights the recurrence is chaotic and amplifies float32 rounding step after step, so
    two correct implementations drift apart (6.5e-5 after 144 steps was seen), which tests nothing about the equation.
    """
    layer.build((None, None, input_dim))
    kernel, recurrent_kernel, bias = (scale * rng.standard_normal(w.shape) for w in layer.get_weights())
    recurrent_kernel /= np.sqrt(recurrent_kernel.shape[0])
    weights = [w.astype(np.float32) for w in (kernel, recurrent_kernel, bias)]
    layer.set_weights(weights)
    return layer, weights


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "one sequence"])
@pytest.mark.parametrize("return_sequences", [True, False], ids=["sequences", "last"])
@pytest.mark.parametrize("activation", ["tanh", "sigmoid"])
def test_simple_rnn_equals_keras_simple_rnn(activation, return_sequences, batched):
    rng = np.random.default_rng(12)
    layer, (kernel, recurrent_kernel, bias) = keras_recurrent(
        keras.layers.SimpleRNN(6, activation=activation, return_sequences=return_sequences), rng, 5
    )
    x = random_sequences(rng, 3, 15, 5)
    theirs = np.asarray(layer(x))
    x, theirs = (x, theirs) if batched else (x[0], theirs[0])
    ours = simple_rnn(x, kernel, recurrent_kernel, bias, activation=activation, return_sequences=return_sequences)
    assert_equal_to_keras(
        ours, theirs, f"simple_rnn random {activation} sequences={return_sequences} batched={batched}"
    )


def test_simple_rnn_equals_keras_on_one_hot_tokens(soprano_one_hot):
    rng = np.random.default_rng(13)
    layer, weights = keras_recurrent(keras.layers.SimpleRNN(16, return_sequences=True), rng, soprano_one_hot.shape[1])
    ours = simple_rnn(soprano_one_hot, *weights)
    assert_equal_to_keras(ours, layer(soprano_one_hot[None])[0], "simple_rnn one-hot tokens")


def test_simple_rnn_with_an_initial_state_equals_keras():
    rng = np.random.default_rng(14)
    layer, weights = keras_recurrent(keras.layers.SimpleRNN(4, return_sequences=True), rng, 3)
    x, h0 = random_sequences(rng, 2, 9, 3), random_sequences(rng, 2, 4)
    assert_equal_to_keras(simple_rnn(x, *weights, h0=h0), layer(x, initial_state=[h0]), "simple_rnn h0")


def test_simple_rnn_accepts_an_activation_function():
    rng = np.random.default_rng(15)
    layer, weights = keras_recurrent(keras.layers.SimpleRNN(4, activation="relu", return_sequences=True), rng, 3)
    x = random_sequences(rng, 2, 9, 3)
    assert_equal_to_keras(simple_rnn(x, *weights, activation=lambda z: np.maximum(z, 0)), layer(x), "simple_rnn relu")


def test_simple_rnn_rejects_a_kernel_that_does_not_match_the_input():
    with pytest.raises(ShapeError, match=r"kernel must have shape \(input_dim, units\) = \(5, 4\)"):
        simple_rnn(np.zeros((10, 5)), np.zeros((6, 4)), np.zeros((4, 4)), np.zeros(4))


def test_simple_rnn_rejects_an_unknown_activation():
    with pytest.raises(ChoiceError, match="activation must be one of"):
        simple_rnn(np.zeros((10, 5)), np.zeros((5, 4)), np.zeros((4, 4)), np.zeros(4), activation="softsign")


# --- LSTM ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "one step"])
def test_lstm_step_equals_one_step_of_keras_lstm(batched):
    rng = np.random.default_rng(16)
    layer, weights = keras_recurrent(keras.layers.LSTM(5, return_state=True), rng, 7)
    x_t, h_prev, c_prev = random_sequences(rng, 3, 7), random_sequences(rng, 3, 5), random_sequences(rng, 3, 5)
    _, h_keras, c_keras = layer(x_t[:, None], initial_state=[h_prev, c_prev])  # a sequence of one step
    h_keras, c_keras = np.asarray(h_keras), np.asarray(c_keras)
    if not batched:
        x_t, h_prev, c_prev, h_keras, c_keras = x_t[0], h_prev[0], c_prev[0], h_keras[0], c_keras[0]
    h, c = lstm_step(x_t, h_prev, c_prev, *weights)
    assert_equal_to_keras(h, h_keras, f"lstm_step h batched={batched}")
    assert_equal_to_keras(c, c_keras, f"lstm_step c batched={batched}")


@pytest.mark.parametrize("batched", [True, False], ids=["batched", "one sequence"])
def test_lstm_equals_keras_lstm_with_return_sequences(batched):
    rng = np.random.default_rng(17)
    layer, weights = keras_recurrent(keras.layers.LSTM(6, return_sequences=True), rng, 4)
    x = random_sequences(rng, 3, 20, 4)
    theirs = np.asarray(layer(x))
    x, theirs = (x, theirs) if batched else (x[0], theirs[0])
    assert_equal_to_keras(lstm(x, *weights), theirs, f"lstm random sequences batched={batched}")


def test_lstm_last_state_equals_keras_lstm_without_return_sequences():
    rng = np.random.default_rng(18)
    layer, weights = keras_recurrent(keras.layers.LSTM(6), rng, 4)
    x = random_sequences(rng, 3, 20, 4)
    assert_equal_to_keras(lstm(x, *weights, return_sequences=False), layer(x), "lstm random last")


def test_lstm_with_initial_states_equals_keras():
    rng = np.random.default_rng(19)
    layer, weights = keras_recurrent(keras.layers.LSTM(5, return_sequences=True), rng, 3)
    x, h0, c0 = random_sequences(rng, 2, 11, 3), random_sequences(rng, 2, 5), random_sequences(rng, 2, 5)
    assert_equal_to_keras(lstm(x, *weights, h0=h0, c0=c0), layer(x, initial_state=[h0, c0]), "lstm h0 c0")


def test_lstm_equals_keras_on_a_chorale_piano_roll(piano_roll):
    rng = np.random.default_rng(20)
    layer, weights = keras_recurrent(keras.layers.LSTM(12, return_sequences=True), rng, 88, scale=0.3)
    ours = lstm(piano_roll, *weights)
    assert_equal_to_keras(ours, layer(piano_roll[None].astype(np.float32))[0], "lstm piano roll")


def test_lstm_equals_keras_on_one_hot_tokens(soprano_one_hot):
    rng = np.random.default_rng(21)
    layer, weights = keras_recurrent(keras.layers.LSTM(16, return_sequences=True), rng, soprano_one_hot.shape[1])
    assert_equal_to_keras(lstm(soprano_one_hot, *weights), layer(soprano_one_hot[None])[0], "lstm one-hot tokens")


def test_lstm_gates_are_in_keras_order_input_forget_candidate_output():
    # Only the biases speak: input gate shut (−30), forget gate open (+30), candidate 0, output gate open (+30).
    # Then the cell keeps its memory, c_t = c_{t−1}, and shows it, h_t = tanh(c_{t−1}) — in numpy and in Keras alike.
    units, input_dim = 3, 2
    kernel = np.zeros((input_dim, 4 * units), dtype=np.float32)
    recurrent_kernel = np.zeros((units, 4 * units), dtype=np.float32)
    bias = np.concatenate([np.full(units, -30.0), np.full(units, 30.0), np.zeros(units), np.full(units, 30.0)])
    bias = bias.astype(np.float32)
    c_prev = np.array([[0.5, -1.0, 2.0]], dtype=np.float32)
    h_prev = np.zeros((1, units), dtype=np.float32)
    x_t = np.ones((1, input_dim), dtype=np.float32)

    h, c = lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias)
    np.testing.assert_allclose(c, c_prev, atol=1e-6)
    np.testing.assert_allclose(h, np.tanh(c_prev), atol=1e-6)

    layer = keras.layers.LSTM(units, return_state=True)
    layer.build((None, None, input_dim))
    layer.set_weights([kernel, recurrent_kernel, bias])
    _, h_keras, c_keras = layer(x_t[:, None], initial_state=[h_prev, c_prev])
    assert_equal_to_keras(h, h_keras, "lstm gate order h")
    assert_equal_to_keras(c, c_keras, "lstm gate order c")


def test_lstm_step_rejects_a_recurrent_kernel_without_four_gates():
    with pytest.raises(ShapeError, match=r"recurrent_kernel must have shape \(units, 4·units\)"):
        lstm_step(np.zeros(2), np.zeros(3), np.zeros(3), np.zeros((2, 12)), np.zeros((3, 3)), np.zeros(12))


def test_lstm_step_rejects_a_cell_state_of_the_wrong_size():
    with pytest.raises(ShapeError, match=r"c_prev must have shape \(3,\)"):
        lstm_step(np.zeros(2), np.zeros(3), np.zeros(4), np.zeros((2, 12)), np.zeros((3, 12)), np.zeros(12))


def test_lstm_rejects_an_input_with_the_wrong_number_of_features():
    with pytest.raises(ShapeError, match=r"kernel must have shape \(input_dim, 4·units\) = \(88, 12\)"):
        lstm(np.zeros((16, 88)), np.zeros((40, 12)), np.zeros((3, 12)), np.zeros(12))


# --- Dense and Embedding ---------------------------------------------------------------------------------------------


def test_dense_equals_keras_dense_on_every_step_of_a_batch():
    rng = np.random.default_rng(22)
    layer = keras.layers.Dense(7)
    layer.build((None, None, 6))
    kernel, bias = set_random_weights(layer, rng)
    x = random_sequences(rng, 3, 10, 6)
    assert_equal_to_keras(dense(x, kernel, bias), layer(x), "dense")


def test_dense_rejects_an_input_that_does_not_meet_the_kernel():
    with pytest.raises(ShapeError, match=r"x must have shape \(\.\.\., 6\)"):
        dense(np.zeros((10, 5)), np.zeros((6, 7)), np.zeros(7))


def test_embedding_equals_keras_embedding_on_chorale_tokens(soprano_ids):
    ids, vocab_size = soprano_ids
    rng = np.random.default_rng(23)
    layer = keras.layers.Embedding(vocab_size, 8)
    layer.build((None, None))
    (table,) = set_random_weights(layer, rng)
    assert_equal_to_keras(embedding(ids, table), layer(ids[None])[0], "embedding chorale tokens")


def test_embedding_is_one_hot_times_the_table(soprano_ids):
    ids, vocab_size = soprano_ids
    table = np.random.default_rng(24).standard_normal((vocab_size, 8))
    np.testing.assert_allclose(embedding(ids, table), one_hot(ids, vocab_size) @ table, atol=1e-12)


def test_embedding_rejects_a_token_outside_the_vocabulary():
    with pytest.raises(ShapeError, match=r"must lie in 0\.\.9"):
        embedding([0, 3, 10], np.zeros((10, 4)))


# --- parameter counts ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kernel_size, in_channels, filters", [(1, 1, 1), (3, 88, 32), (5, 40, 7)])
def test_conv1d_params_equals_keras_count_params(kernel_size, in_channels, filters):
    layer = keras.layers.Conv1D(filters, kernel_size)
    layer.build((None, None, in_channels))
    assert conv1d_params(kernel_size, in_channels, filters) == layer.count_params()


@pytest.mark.parametrize("input_dim, units", [(1, 1), (40, 64), (88, 7)])
def test_simple_rnn_params_equals_keras_count_params(input_dim, units):
    layer = keras.layers.SimpleRNN(units)
    layer.build((None, None, input_dim))
    assert simple_rnn_params(input_dim, units) == layer.count_params()


@pytest.mark.parametrize("input_dim, units", [(1, 1), (40, 64), (88, 7)])
def test_lstm_params_equals_keras_count_params(input_dim, units):
    layer = keras.layers.LSTM(units)
    layer.build((None, None, input_dim))
    assert lstm_params(input_dim, units) == layer.count_params()


@pytest.mark.parametrize("input_dim, units", [(1, 1), (64, 40), (88, 88)])
def test_dense_params_equals_keras_count_params(input_dim, units):
    layer = keras.layers.Dense(units)
    layer.build((None, input_dim))
    assert dense_params(input_dim, units) == layer.count_params()


@pytest.mark.parametrize("vocab_size, dim", [(2, 1), (40, 16), (130, 64)])
def test_embedding_params_equals_keras_count_params(vocab_size, dim):
    layer = keras.layers.Embedding(vocab_size, dim)
    layer.build((None, None))
    assert embedding_params(vocab_size, dim) == layer.count_params()


# --- comparing, and importing ----------------------------------------------------------------------------------------


def test_max_abs_difference_is_the_largest_gap_as_a_float():
    difference = max_abs_difference(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[1.0, 2.5], [1.0, 4.0]]))
    assert difference == 2.0 and isinstance(difference, float)


def test_max_abs_difference_rejects_arrays_of_different_shapes():
    with pytest.raises(ShapeError, match="same shape"):
        max_abs_difference(np.zeros((3, 1)), np.zeros(3))


def test_importing_equations_does_not_import_tensorflow():
    code = "import sys, musegen_lessons.layers.convolution; print('tensorflow' in sys.modules, 'keras' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.split() == ["False", "False"]


def _logits_and_targets(seed=3, n=48, size=35):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, size)) * 3).astype(np.float32), rng.integers(0, size, n)


def test_softmax_cross_entropy_equals_keras_loss():
    logits, targets = _logits_and_targets()
    expected = float(keras.losses.SparseCategoricalCrossentropy(from_logits=True)(targets, logits))
    assert abs(softmax_cross_entropy(logits, targets) - expected) < 1e-5
    assert softmax_cross_entropy(np.zeros((4, 12)), [0, 3, 5, 11]) == pytest.approx(np.log(12))
    assert np.isfinite(softmax_cross_entropy(np.array([[1000.0, 0.0]]), [1]))


def test_softmax_cross_entropy_gradient_equals_gradient_tape():
    import tensorflow as tf

    logits, targets = _logits_and_targets()
    z = tf.Variable(logits)
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(targets, z)
    expected = tape.gradient(loss, z).numpy()
    got = softmax_cross_entropy_gradient(logits, targets)
    assert max_abs_difference(got, expected) < 1e-6
    assert np.allclose(got.sum(axis=1), 0, atol=1e-7)  # p sums to 1 and so does y: each row of p − y sums to 0


def test_softmax_cross_entropy_rejects_targets_that_do_not_fit():
    with pytest.raises(ShapeError, match="targets must be"):
        softmax_cross_entropy(np.zeros((2, 3)), [0, 3])
    with pytest.raises(ShapeError, match=r"\(N, vocab_size\)"):
        softmax_cross_entropy_gradient(np.zeros(3), [0])


def _keras_wavenet_block(channels, units, skip_channels, kernel_size, dilation):
    """The block as Keras layers: (model, {name: layer}) with the layers named as `wavenet_block`'s weights."""
    inputs = keras.Input((None, channels))
    layers = {
        "filter": keras.layers.Conv1D(units, kernel_size, padding="causal", dilation_rate=dilation),
        "gate": keras.layers.Conv1D(units, kernel_size, padding="causal", dilation_rate=dilation),
        "residual": keras.layers.Conv1D(channels, 1),
        "skip": keras.layers.Conv1D(skip_channels, 1),
    }
    z = keras.layers.Multiply()(
        [
            keras.layers.Activation("tanh")(layers["filter"](inputs)),
            keras.layers.Activation("sigmoid")(layers["gate"](inputs)),
        ]
    )
    outputs = [keras.layers.Add()([inputs, layers["residual"](z)]), layers["skip"](z)]
    return keras.Model(inputs, outputs), layers


@pytest.mark.parametrize("dilation", [1, 2, 4, 8])
def test_wavenet_block_equals_keras_layers_on_a_chorale_piano_roll(piano_roll, dilation):
    rng = np.random.default_rng(dilation)
    model, layers = _keras_wavenet_block(88, 8, 4, 2, dilation)
    weights = {}
    for name, layer in layers.items():
        kernel, bias = layer.get_weights()
        weights[name] = (
            rng.normal(size=kernel.shape).astype(np.float32) * 0.3,
            rng.normal(size=bias.shape).astype(np.float32),
        )
        layer.set_weights(list(weights[name]))
    x = piano_roll[:64].astype(np.float32)
    residual_keras, skip_keras = (np.asarray(y)[0] for y in model(x[None]))
    residual, skip = wavenet_block(x, weights, dilation)
    assert residual.shape == (64, 88) and skip.shape == (64, 4)
    assert max_abs_difference(residual, residual_keras) < 1e-5
    assert max_abs_difference(skip, skip_keras) < 1e-5


def test_a_wavenet_block_never_looks_ahead():
    rng = np.random.default_rng(0)
    weights = {
        "filter": (rng.normal(size=(2, 3, 5)), rng.normal(size=5)),
        "gate": (rng.normal(size=(2, 3, 5)), rng.normal(size=5)),
        "residual": (rng.normal(size=(1, 5, 3)), rng.normal(size=3)),
        "skip": (rng.normal(size=(1, 5, 2)), rng.normal(size=2)),
    }
    x = rng.normal(size=(20, 3))
    changed = x.copy()
    changed[10] += 1.0
    for before, after in zip(wavenet_block(x, weights, 4), wavenet_block(changed, weights, 4)):
        assert np.array_equal(before[:10], after[:10])  # nothing before step 10 moves
        assert not np.allclose(before[10], after[10])


def test_gated_activation_is_tanh_times_sigmoid():
    f, g = np.array([0.0, 2.0, -1.0]), np.array([0.0, 10.0, -10.0])
    assert np.allclose(gated_activation(f, g), np.tanh(f) / (1 + np.exp(-g)))
    assert abs(gated_activation(np.array([3.0]), np.array([-30.0]))[0]) < 1e-12  # a closed gate lets nothing through
