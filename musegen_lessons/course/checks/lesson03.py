"""Checks of the exercises in lesson 03_cnn_equation: each answer is compared with Keras (or TensorFlow) itself.

Lesson: 03_cnn_equation
"""

import numpy as np

from musegen_lessons.corpora.bundled import load_chorale, melody_notes, soprano_part
from musegen_lessons.course.checks import NUMPY, Answered, CheckFailed, call, exercise, expect_equal
from musegen_lessons.layers.convolution import receptive_field
from musegen_lessons.layers.dense import finite_difference
from musegen_lessons.music.encoding import Vocabulary, notes_to_piano_roll, notes_to_tokens, one_hot
from musegen_lessons.music.midi import as_pretty_midi, midi_to_notes

TOLERANCE = 1e-4


def keras_layer(layer, x, weights=None):
    """Run a Keras layer on one unbatched example (steps, channels) and return its output without the batch axis."""
    x = np.asarray(x, dtype=np.float32)[None]
    layer.build(x.shape)
    if weights is not None:
        layer.set_weights(weights)
    return np.asarray(layer(x))[0]


def real_inputs(steps=48):
    """Two real inputs: `steps` steps of a chorale's piano roll (steps, 88) and of its soprano one-hot."""

    score = load_chorale()
    roll = notes_to_piano_roll(midi_to_notes(as_pretty_midi(score), unit="quarters"))[:steps].astype(np.float32)
    tokens = notes_to_tokens(melody_notes(soprano_part(score)))
    vocabulary = Vocabulary.from_melodies([tokens])
    return {"piano roll": roll, "one-hot tokens": one_hot(vocabulary.encode(tokens[:steps]), len(vocabulary))}


def compare(what, got, expected, source="Keras"):
    got = np.asarray(got, dtype=np.float64)
    if got.shape != expected.shape:
        raise CheckFailed(f"On {what} the output has shape {expected.shape}; yours has shape {got.shape}.")
    difference = float(np.max(np.abs(got - expected))) if got.size else 0.0
    if difference > TOLERANCE:
        where = np.unravel_index(np.argmax(np.abs(got - expected)), got.shape)
        raise CheckFailed(
            f"On {what}, at index {tuple(int(i) for i in where)}, {source} gives "
            f"{expected[where]:.5f} and yours {got[where]:.5f} (largest difference {difference:.2g})."
        )
    return difference


def _dense_cases(rng):
    """(what, x, kernel, bias): a chorale's one-hot tokens into 12 units, and random numbers into 3."""
    onehot = real_inputs()["one-hot tokens"]
    return [
        (
            "one-hot tokens of a chorale into 12 units",
            onehot,
            rng.normal(size=(onehot.shape[1], 12)),
            rng.normal(size=12),
        ),
        ("random inputs of 7 into 3 units", rng.normal(size=(5, 7)), rng.normal(size=(7, 3)), rng.normal(size=3)),
    ]


@exercise(
    "03.1",
    "my_dense_softmax",
    "a dense layer with a softmax",
    setup=NUMPY,
    references=(
        "musegen_lessons.layers.dense.dense",
        "musegen_lessons.layers.activations.softmax",
        "keras.layers.Dense",
    ),
)
def check_dense_softmax(fn):
    import keras

    for what, x, kernel, bias in _dense_cases(np.random.default_rng(13)):
        kernel, bias = kernel.astype(np.float32), bias.astype(np.float32)
        expected = keras_layer(keras.layers.Dense(kernel.shape[1], activation="softmax"), x, [kernel, bias])
        compare(what, call(fn, x, kernel, bias), expected)
    return "softmax(x W + b), one distribution per row, as keras.layers.Dense(activation='softmax') computes it."


def _logits_and_targets(rng, n, size):
    return (rng.normal(size=(n, size)) * 2).astype(np.float32), rng.integers(0, size, n)


def _keras_cross_entropy_gradient(logits, targets):
    import keras
    import tensorflow as tf

    z = tf.Variable(logits)
    with tf.GradientTape() as tape:
        loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(targets, z)
    return np.asarray(tape.gradient(loss, z))


@exercise(
    "03.2",
    "my_softmax_cross_entropy_gradient",
    "the gradient of the softmax cross-entropy",
    setup=NUMPY,
    references=("musegen_lessons.layers.dense.softmax_cross_entropy_gradient", "tensorflow.GradientTape"),
)
def check_softmax_cross_entropy_gradient(fn):
    rng = np.random.default_rng(14)
    for n, size in [(4, 3), (256, 35), (1, 12)]:
        logits, targets = _logits_and_targets(rng, n, size)
        expected = _keras_cross_entropy_gradient(logits, targets)
        compare(f"{n} predictions over {size} tokens", call(fn, logits.copy(), targets), expected)
    return "(p − y) / N: the target's score is pushed up by 1 − p, every other score down by its probability."


@exercise(
    "03.3",
    "my_sgd_step",
    "one step of gradient descent",
    setup=f"{NUMPY}\n\nfrom musegen_lessons.layers import dense",
    references=("keras.optimizers.SGD", "tensorflow.GradientTape"),
)
def check_sgd_step(fn):
    import keras
    import tensorflow as tf

    rng = np.random.default_rng(15)
    onehot = real_inputs()["one-hot tokens"]
    x, targets = onehot[:-1], onehot[1:].argmax(axis=1)  # each step of the chorale, and the token after it
    for learning_rate in (0.5, 3.0):
        kernel = (rng.normal(size=(x.shape[1], x.shape[1])) * 0.1).astype(np.float32)
        bias = (rng.normal(size=x.shape[1]) * 0.1).astype(np.float32)
        layer = keras.layers.Dense(x.shape[1])
        layer.build((None, x.shape[1]))
        layer.set_weights([kernel, bias])
        with tf.GradientTape() as tape:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(targets, layer(x))
        optimizer = keras.optimizers.SGD(learning_rate)
        optimizer.apply_gradients(zip(tape.gradient(loss, layer.trainable_variables), layer.trainable_variables))
        expected = [np.asarray(w) for w in layer.get_weights()]
        got = call(fn, kernel.copy(), bias.copy(), x, targets, learning_rate)
        if not (isinstance(got, tuple) and len(got) == 2):
            raise CheckFailed("Return the pair (kernel, bias) after the step.")
        for name, mine, right in zip(("kernel", "bias"), got, expected):
            compare(f"the new {name} after one step at learning rate {learning_rate}", mine, right)
    return "W ← W − η xᵀ(p − y)/N and b ← b − η Σ(p − y)/N: the step keras.optimizers.SGD takes."


def two_layer_loss(x, targets, weights):
    """The loss of the two-layer network of section A6 in float64: softmax_cross_entropy(tanh(x W1 + b1) W2 + b2)."""
    from musegen_lessons.layers.dense import softmax_cross_entropy

    hidden = np.tanh(x @ weights["W1"] + weights["b1"])
    return softmax_cross_entropy(hidden @ weights["W2"] + weights["b2"], targets)


def _two_layer_cases(rng):
    onehot = real_inputs(steps=64)["one-hot tokens"].astype(np.float64)
    cases = [
        ("a chorale's one-hot tokens, 16 hidden units", onehot[:-1], onehot[1:].argmax(axis=1), 16, onehot.shape[1]),
        ("random inputs of 7, 4 hidden units, 3 tokens", rng.normal(size=(5, 7)), rng.integers(0, 3, 5), 4, 3),
    ]
    for what, x, targets, hidden, vocab in cases:
        weights = {
            "W1": rng.normal(size=(x.shape[1], hidden)) * 0.5,
            "b1": rng.normal(size=hidden) * 0.1,
            "W2": rng.normal(size=(hidden, vocab)) * 0.5,
            "b2": rng.normal(size=vocab) * 0.1,
        }
        yield what, x, targets, weights


@exercise(
    "03.4",
    "my_two_layer_gradients",
    "backpropagation through two layers",
    setup=f"{NUMPY}\n\nfrom musegen_lessons.layers import dense",
    references=("musegen_lessons.layers.dense.two_layer_gradients", "tensorflow.GradientTape"),
)
def check_two_layer_gradients(fn):
    import tensorflow as tf

    worst = 0.0
    for what, x, targets, weights in _two_layer_cases(np.random.default_rng(16)):
        variables = {name: tf.Variable(value) for name, value in weights.items()}
        with tf.GradientTape() as tape:
            hidden = tf.tanh(x @ variables["W1"] + variables["b1"])
            logits = hidden @ variables["W2"] + variables["b2"]
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(targets, logits))
        expected = dict(zip(variables, (np.asarray(g) for g in tape.gradient(loss, list(variables.values())))))
        got = call(fn, x.copy(), targets.copy(), *(weights[name].copy() for name in ("W1", "b1", "W2", "b2")))
        if not isinstance(got, dict) or set(got) != set(expected):
            raise CheckFailed('Return a dict {"W1": ..., "b1": ..., "W2": ..., "b2": ...} of the four gradients.')
        for name in ("W2", "b2", "W1", "b1"):  # in the order backpropagation computes them
            hint = (
                "Δ₂ = (P − Y)/N; then ∂L/∂W₂ = H₁ᵀΔ₂ and ∂L/∂b₂ sums Δ₂ over the rows."
                if name.endswith("2")
                else "Δ₁ = (Δ₂ W₂ᵀ) ⊙ (1 − H₁²): the gradient reaching H₁, times the derivative of tanh."
            )
            try:
                compare(f"{what}, dL/d{name}", got[name], expected[name], source="tf.GradientTape")
            except CheckFailed as failure:
                raise CheckFailed(f"{failure.message} {hint}") from None

        def loss_of(w, x=x, targets=targets):
            return two_layer_loss(x, targets, w)

        for name, value in weights.items():  # the student's gradient against nudging a few weights
            for index in list(np.ndindex(value.shape))[:: max(1, value.size // 5)]:
                nudged = finite_difference(loss_of, weights, name, index)
                worst = max(worst, abs(float(np.asarray(got[name])[index]) - nudged))
    return (
        "equal to tf.GradientTape on every weight, and to the finite differences (L(w + ε) − L(w − ε)) / 2ε "
        f"of the weights nudged one at a time within {worst:.0e}."
    )


@exercise(
    "03.5",
    "my_conv1d",
    "a Conv1D forward pass",
    references=("musegen_lessons.layers.convolution.conv1d", "keras.layers.Conv1D"),
    setup=NUMPY,
)
def check_conv1d(fn):
    import keras

    rng = np.random.default_rng(3)
    largest = 0.0
    for what, x in real_inputs().items():
        for kernel_size, filters in [(3, 4), (1, 2), (5, 3)]:
            kernel = rng.normal(size=(kernel_size, x.shape[1], filters)).astype(np.float32)
            bias = rng.normal(size=filters).astype(np.float32)
            expected = keras_layer(keras.layers.Conv1D(filters, kernel_size), x, [kernel, bias])
            largest = max(
                largest, compare(f"{what} with kernel size {kernel_size}", call(fn, x, kernel, bias), expected)
            )
    return f"equal to keras.layers.Conv1D on a piano roll and on one-hot tokens (largest difference {largest:.1g})."


@exercise(
    "03.6",
    "my_conv_output_steps",
    "output length of a convolution",
    references=("musegen_lessons.layers.convolution.conv_output_steps", "keras.layers.Conv1D"),
    setup=NUMPY,
)
def check_conv_output_steps(fn):
    import keras

    for steps, kernel_size, stride, padding in [
        (80, 3, 1, "valid"),
        (80, 3, 1, "same"),
        (80, 3, 1, "causal"),
        (80, 3, 2, "valid"),
        (81, 4, 2, "same"),
        (64, 5, 3, "valid"),
        (7, 7, 1, "valid"),
        (100, 2, 4, "same"),
        (10, 3, 2, "valid"),
    ]:
        layer = keras.layers.Conv1D(1, kernel_size, strides=stride, padding=padding)
        expected = layer.compute_output_shape((None, steps, 1))[1]
        expect_equal(
            fn,
            (steps, kernel_size, stride, padding),
            expected,
            "valid: floor((T - K) / s) + 1; same: ceil(T / s); causal: T (with stride 1).",
        )
    return "valid shrinks by K - 1, same and causal keep the length, stride divides it."


@exercise(
    "03.7",
    "my_max_pool1d",
    "max pooling",
    references=("musegen_lessons.layers.convolution.max_pool1d", "keras.layers.MaxPooling1D"),
    setup=NUMPY,
)
def check_max_pool1d(fn):
    import keras

    rng = np.random.default_rng(4)
    cases = list(real_inputs().items()) + [("random values", rng.normal(size=(11, 3)).astype(np.float32))]
    for what, x in cases:
        for pool_size in (2, 3):
            expected = keras_layer(keras.layers.MaxPooling1D(pool_size), x)
            compare(f"{what} with pool size {pool_size}", call(fn, x, pool_size), expected)
    return "equal to keras.layers.MaxPooling1D: the time axis shrinks by the pool size."


# Exercise 03.8: a stack that reads four bars of a piano roll, 64 steps of 16th notes over 88 keys.
STACK_STEPS, STACK_KEYS = 64, 88


def bar_stack():
    """The layers of exercise 03.8, not yet built: Conv1D (kernel 3), MaxPooling1D (2), Conv1D (3), Conv1D (5), with
    ReLUs and 'valid' padding, as a first model of the piano roll might start."""
    import keras

    return [
        keras.layers.Conv1D(16, 3, activation="relu"),
        keras.layers.MaxPooling1D(2),
        keras.layers.Conv1D(16, 3, activation="relu"),
        keras.layers.Conv1D(16, 5, activation="relu"),
    ]


def sizes_and_strides(layers):
    """The kernel (or pool) size and the stride of each Conv1D or MaxPooling1D layer: what the formula needs."""
    return [
        ((layer.kernel_size if hasattr(layer, "kernel_size") else layer.pool_size)[0], layer.strides[0])
        for layer in layers
    ]


def gradient_receptive_field(layers, steps=STACK_STEPS, channels=STACK_KEYS, batch=32, seed=0):
    """The input steps that the last output step of a stack of layers depends on, measured with tf.GradientTape:
    those where the gradient of that output step (summed over its channels) is not zero, for any of a batch of
    random inputs. One input may miss some: max pooling passes the gradient only to the largest value of each
    window, channel by channel, and a ReLU none where it gives 0."""
    import keras
    import tensorflow as tf

    keras.utils.set_random_seed(seed)
    model = keras.Sequential([keras.Input((steps, channels)), *layers])
    x = tf.constant(np.random.default_rng(seed).normal(size=(batch, steps, channels)).astype(np.float32))
    with tf.GradientTape() as tape:
        tape.watch(x)
        last = tf.reduce_sum(model(x)[:, -1])
    return np.flatnonzero(np.abs(np.asarray(tape.gradient(last, x))).sum(axis=(0, 2)) > 0)


def _field_mistakes(sizes, strides):
    """{a wrong receptive field: the slip that gives it} for the usual slips with a pooling layer in a stack."""
    pooled = [k != 1 and s != 1 for k, s in zip(sizes, strides)]  # the layers with a window and a stride
    return {
        receptive_field(sizes, [1] * len(sizes)): "every stride taken as 1 (the pooling's stride left out)",
        receptive_field([k for k, p in zip(sizes, pooled) if not p]): "the pooling layer left out altogether",
        receptive_field([1 if p else k for k, p in zip(sizes, pooled)], strides): (
            "the pooling's stride but not its own window of 2 steps"
        ),
    }


@exercise(
    "03.8",
    "my_receptive_field_prediction",
    "predict, then measure: the receptive field of a stack",
    references=("musegen_lessons.course.checks.lesson03.gradient_receptive_field",),
    setup=NUMPY,
)
def check_receptive_field_prediction(fn):
    predicted = call(fn)
    whole = isinstance(predicted, (int, np.integer)) and not isinstance(predicted, bool)
    if not whole or not 1 <= predicted <= STACK_STEPS:
        raise CheckFailed(
            f"Predict one whole number of input steps, from 1 to {STACK_STEPS} (the stack reads {STACK_STEPS}), "
            f"not {predicted!r}."
        )
    layers = bar_stack()
    reached = gradient_receptive_field(layers)
    measured = len(reached)
    sizes, strides = zip(*sizes_and_strides(layers))
    terms, jump = [], 1
    for size, stride in zip(sizes, strides):
        terms.append(f"({size} − 1)·{jump}")
        jump *= stride
    verdict = "right" if predicted == measured else f"not what was measured ({measured})"
    slip = _field_mistakes(sizes, strides).get(int(predicted)) if predicted != measured else None
    return Answered(
        f"you predicted {predicted}, {verdict}{f': {predicted} is what the formula gives with {slip}' if slip else ''}."
        f" Measured with tf.GradientTape: the gradient of the last output step reaches input steps {reached[0]} to "
        f"{reached[-1]} of {STACK_STEPS}, {measured} steps (a 4/4 bar is 16 steps). By the formula, "
        f"1 + {' + '.join(terms)} = {receptive_field(sizes, strides)}: the pooling's stride doubles the reach of "
        "every layer above it."
    )
