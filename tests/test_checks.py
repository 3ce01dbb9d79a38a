"""Exercise checks: every reference answer passes, a stub is 'not attempted', a wrong answer says why."""

import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from musegen_lessons.corpora import dataset, splits
from musegen_lessons.course.checks import (
    ANSWERED,
    FAILED,
    PASSED,
    CheckFailed,
    call,
    check,
    check_environment,
    evaluate,
    exercises,
    find_exercise,
    resolve,
)
from musegen_lessons.evaluation import copying, features, likelihood, listening
from musegen_lessons.families import gan, vae
from musegen_lessons.families.polyphony import metric, models
from musegen_lessons.layers import activations, attention, convolution, dense, recurrent
from musegen_lessons.music import audio, encoding, melody, midi, notation

ROOT = Path(__file__).resolve().parents[1]
PREDICTIONS = {"03.8", "04.3", "05.5", "06.3", "09.6", "12.4"}  # graded "answered", right or wrong

# A correct function for every exercise, taken from the package itself: the trusted references.
REFERENCES = {
    "00.1": lambda tempo_bpm: 60.0 / tempo_bpm,
    "01.1": notation.midi_to_frequency,
    "01.2": notation.name_to_midi,
    "01.3": encoding.notes_to_tokens,
    "01.4": lambda tokens: encoding.notes_to_piano_roll(encoding.tokens_to_notes(tokens), steps=len(tokens)),
    "02.1": lambda tokens, tonic, mode: encoding.transpose_tokens(tokens, melody.transposition_to_c(tonic, mode)),
    "02.2": dataset.make_windows,
    "02.3": splits.tune_fingerprint,
    "03.1": lambda x, kernel, bias: activations.softmax(dense.dense(x, kernel, bias)),
    "03.2": dense.softmax_cross_entropy_gradient,
    "03.3": lambda kernel, bias, x, targets, rate: _sgd_step(kernel, bias, x, targets, rate),
    "03.4": dense.two_layer_gradients,
    "03.5": convolution.conv1d,
    "03.6": convolution.conv_output_steps,
    "03.7": convolution.max_pool1d,
    "03.8": lambda: _bar_stack_field_by_the_formula(),
    "04.1": lambda x_t, h_prev, W_x, W_h, b: np.tanh(x_t @ W_x + h_prev @ W_h + b),
    "04.2": recurrent.simple_rnn,
    "04.3": lambda: _smallest_remembering_bias(),
    "04.4": recurrent.lstm_step,
    "04.5": lambda inputs, budget: _largest_units(inputs, budget),
    "05.1": lambda sequences: dict(Counter(pair for s in sequences for pair in zip(s[:-1], s[1:]))),
    "05.2": lambda p, targets: float(-np.mean(np.log(p[np.arange(len(targets)), targets]))),
    "05.3": lambda vocab_size: _specified_model(vocab_size),
    "05.4": lambda model, sequences, steps: _trained(model, sequences, steps),
    "05.5": lambda: {question: verdict for question, (verdict, _) in _benchmark_changes().items()},
    "05.6": lambda p, targets: likelihood.next_token_scores(np.log(p), targets)["onset_accuracy"],
    "05.7": lambda counts, lower: (
        (counts + np.count_nonzero(counts) * lower) / (counts.sum() + np.count_nonzero(counts))
        if counts.sum()
        else lower
    ),
    "06.1": lambda p, entropy: _temperature_for(p, entropy),
    "06.2": lambda p, k: _top_k(np.asarray(p, float), k),
    "06.3": lambda: _outside_the_key_measured(),
    "06.4": lambda tokens, tempo_bpm: midi.notes_to_midi(encoding.tokens_to_notes(tokens), tempo_bpm=tempo_bpm),
    "07.1": features.pitch_class_histogram,
    "07.2": features.scale_consistency,
    "07.3": lambda p, q, grid: float(np.minimum(p, q).sum() * (grid[1] - grid[0])),
    "07.4": listening.binomial_p_value,
    "08.1": metric.frame_nll,
    "08.2": metric.frame_accuracy,
    "08.3": lambda keys, hidden: models.made_masks(keys, hidden)[:2],
    "08.4": lambda frames, hidden, steps: _trained_made(frames, hidden, steps),
    "09.1": lambda x, kernel, bias, dilation: convolution.conv1d(x, kernel, bias, padding="causal", dilation=dilation),
    "09.2": lambda kernel_size, span: [kernel_size**layer for layer in range(math.ceil(math.log(span, kernel_size)))],
    "09.5": audio.mu_law_encode,
    "09.6": lambda: int(np.count_nonzero(np.abs(audio.mu_law_decode(np.arange(256))) <= 0.1)),
    "09.3": lambda channels, dilation: _residual_block(channels, dilation),
    "09.4": lambda queue, x: (queue[0].copy(), np.concatenate([queue[1:], x[None]])),
    "10.1": lambda q, k, v, mask: attention.scaled_dot_product_attention(q, k, v, mask)[0],
    "10.2": attention.causal_mask,
    "10.3": attention.skew,
    "10.4": lambda width, heads: _transformer_block(width, heads),
    "10.5": lambda q, k, v, keys, values: _cached_step(q, k, v, keys, values),
    "11.1": gan.discriminator_loss,
    "11.2": gan.generator_loss,
    "11.3": lambda generator, discriminator, real, noise, rate: _gan_step(generator, discriminator, real, noise, rate),
    "11.4": copying.copy_rate,
    "11.5": gan.penalty_from_gradients,
    "12.1": vae.gaussian_kl,
    "12.2": vae.reparameterise,
    "12.3": lambda encoder, decoder, ids, noise, free_nats, rate: _vae_step(
        encoder, decoder, ids, noise, free_nats, rate
    ),
    "12.4": lambda: _midpoint_norm_measured(),
}


def _cached_step(q, k, v, keys, values, scale=True, append=True):
    """One step of attention with a key/value cache (10.5); the flags make its wrong answers."""
    if append:
        keys, values = np.vstack([keys, k[None]]), np.vstack([values, v[None]])
    if not len(keys):
        return np.zeros_like(q), keys, values
    logits = keys @ q / (np.sqrt(len(q)) if scale else 1.0)
    weights = np.exp(logits - logits.max())
    return (weights / weights.sum()) @ values, keys, values


def _softmax_over(logits, axis):
    e = np.exp(logits - logits.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


# A plausible wrong answer for every exercise (off by one, wrong axis, forgotten bias, wrong padding, ...), and what
# the check must say: each message names the input on which the answer went wrong.
def _sgd_step(kernel, bias, x, targets, learning_rate):
    delta = dense.softmax_cross_entropy_gradient(x @ kernel + bias, targets)
    return kernel - learning_rate * (x.T @ delta), bias - learning_rate * delta.sum(axis=0)


def _two_layer_gradients_without_tanh_derivative(x, targets, W1, b1, W2, b2):
    h1 = np.tanh(x @ W1 + b1)
    delta2 = dense.softmax_cross_entropy_gradient(h1 @ W2 + b2, targets)
    delta1 = delta2 @ W2.T
    return {"W1": x.T @ delta1, "b1": delta1.sum(axis=0), "W2": h1.T @ delta2, "b2": delta2.sum(axis=0)}


def _two_layer_gradients_with_mean_biases(x, targets, W1, b1, W2, b2):
    gradients = dense.two_layer_gradients(x, targets, W1, b1, W2, b2)
    return {**gradients, "b1": gradients["b1"] / len(x), "b2": gradients["b2"] / len(x)}


def _trained(model, sequences, steps, shift=1):
    """Exercise 05.4's training function; `shift=0` is the draft's bug, targets that are the inputs."""
    import keras

    model.compile(optimizer=keras.optimizers.Adam(0.01), loss="sparse_categorical_crossentropy")
    inputs, targets = sequences[:, :-1], sequences[:, shift : sequences.shape[1] - 1 + shift]
    batches = np.random.default_rng(0).integers(0, len(sequences), steps * 32)
    model.fit(inputs[batches], targets[batches], batch_size=32, epochs=1, verbose=0)
    return model


def _residual_block(channels, dilation, padding="causal", dilation_rate=None, outputs=("residual", "skip")):
    """Exercise 09.3's WaveNet block; the keywords make its wrong answers."""
    import keras

    x = keras.Input((None, channels))
    dilated = {"kernel_size": 2, "dilation_rate": dilation_rate or dilation, "padding": padding}
    z = keras.layers.Multiply()(
        [
            keras.layers.Conv1D(channels, activation="tanh", **dilated)(x),
            keras.layers.Conv1D(channels, activation="sigmoid", **dilated)(x),
        ]
    )
    made = {
        "residual": keras.layers.Add()([x, keras.layers.Conv1D(channels, 1)(z)]),
        "skip": keras.layers.Conv1D(channels, 1)(z),
    }
    return keras.Model(x, [made[name] for name in outputs])


def _transformer_block(width, heads, causal=True, post_norm=False, attention=True):
    """Exercise 10.4's pre-norm block; the keywords make its wrong answers (a Dense in place of the attention)."""
    import keras

    x = keras.Input((None, width))

    def sublayer(inputs, layer):
        normed = inputs if post_norm else keras.layers.LayerNormalization()(inputs)
        total = keras.layers.Add()([inputs, layer(normed)])
        return keras.layers.LayerNormalization()(total) if post_norm else total

    def attend(normed):
        if not attention:
            return keras.layers.Dense(width)(normed)
        return keras.layers.MultiHeadAttention(heads, width // heads)(normed, normed, use_causal_mask=causal)

    h = sublayer(x, attend)
    return keras.Model(
        x, sublayer(h, lambda n: keras.layers.Dense(width)(keras.layers.Dense(4 * width, activation="relu")(n)))
    )


def _gan_step(generator, discriminator, real, noise, rate, saturating=False, both=False):
    """Exercise 11.3's step; the keywords make its wrong answers (`both`: the generator's loss moves the
    discriminator too)."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        d_loss = gan.discriminator_loss(discriminator(real), discriminator(generator(noise)))
    tf.keras.optimizers.SGD(rate).apply_gradients(
        zip(tape.gradient(d_loss, discriminator.trainable_variables), discriminator.trainable_variables)
    )
    weights = generator.trainable_variables + (discriminator.trainable_variables if both else [])
    with tf.GradientTape() as tape:
        g_loss = gan.generator_loss(discriminator(generator(noise)), saturating=saturating)
    tf.keras.optimizers.SGD(rate).apply_gradients(zip(tape.gradient(g_loss, weights), weights))
    return float(d_loss), float(g_loss), generator, discriminator


def _vae_step(encoder, decoder, ids, noise, free_nats, rate, on_the_total=False, update=True):
    """Exercise 12.3's step; the keywords make its wrong answers (free bits on the total KL, no step taken)."""
    import tensorflow as tf

    with tf.GradientTape() as tape:
        mean, log_variance = encoder(ids)
        probabilities = decoder(vae.reparameterise(mean, log_variance, noise))
        nll = tf.keras.losses.sparse_categorical_crossentropy(ids, probabilities)
        reconstruction = tf.reduce_mean(tf.reduce_sum(nll, axis=1))
        per_dimension = vae.gaussian_kl_per_dimension(mean, log_variance)
        kl = tf.reduce_mean(tf.reduce_sum(per_dimension, axis=1))
        if on_the_total:
            penalty = tf.maximum(kl, free_nats * per_dimension.shape[1])
        else:
            penalty = tf.reduce_sum(tf.maximum(tf.reduce_mean(per_dimension, axis=0), free_nats))
        loss = reconstruction + penalty
    weights = encoder.trainable_variables + decoder.trainable_variables
    if update:
        tf.keras.optimizers.SGD(rate).apply_gradients(zip(tape.gradient(loss, weights), weights))
    return float(loss), float(reconstruction), float(kl), encoder, decoder


def _trained_made(frames, hidden, steps, masked=True):
    """Exercise 08.4 with the package's masked layer; `masked=False` trains the same network without its masks."""
    import keras

    layer = models.keras_objects()["MaskedDense"]
    x = keras.Input((88,))
    made_in = layer(hidden, "to_hidden", hidden) if masked else keras.layers.Dense(hidden)
    made_out = layer(88, "to_output", hidden) if masked else keras.layers.Dense(88)
    direct = layer(88, "direct", hidden, use_bias=False) if masked else keras.layers.Dense(88, use_bias=False)
    a = keras.layers.Activation("relu")(made_in(x))
    made = keras.Model(x, keras.layers.Activation("sigmoid")(keras.layers.Add()([made_out(a), direct(x)])))
    made.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy")
    frames = np.asarray(frames, np.float32)
    batches = np.random.default_rng(0).integers(0, len(frames), steps * 64)
    made.fit(frames[batches], frames[batches], batch_size=64, epochs=1, verbose=0)
    names = {"W_in": (made_in, 0), "b_in": (made_in, 1), "W_out": (made_out, 0), "b_out": (made_out, 1)}
    return {**{k: layer.get_weights()[i] for k, (layer, i) in names.items()}, "W_direct": direct.get_weights()[0]}


def _temperature_for(p, entropy):
    """Exercise 06.1 by bisection on log T, the entropy rising with T."""
    from musegen_lessons.course.checks.lesson06 import tempered_entropy

    low, high = 1e-3, 1e3
    for _ in range(100):
        middle = math.sqrt(low * high)
        low, high = (middle, high) if tempered_entropy(p, middle) < entropy else (low, middle)
    return math.sqrt(low * high)


def _rnn_step_without_bias(x_t, h_prev, W_x, W_h, b):
    return np.tanh(x_t @ W_x + h_prev @ W_h)


def _simple_rnn_without_recurrence(x, W_x, W_h, b):
    return np.tanh(x @ W_x + b)


def _simple_rnn_one_step_late(x, W_x, W_h, b):
    """Exercise 04.2's planted bug: each state stored before it is updated."""
    h = np.zeros(W_h.shape[0], dtype=W_h.dtype)
    states = []
    for x_t in x:
        states.append(h)
        h = np.tanh(x_t @ W_x + h @ W_h + b)
    return np.array(states)


def _bar_stack_field_by_the_formula():
    """Exercise 03.8 by the formula, not measured: the receptive field of the stack the check builds."""
    from musegen_lessons.course.checks.lesson03 import bar_stack, sizes_and_strides

    return convolution.receptive_field(*zip(*sizes_and_strides(bar_stack())))


def _largest_units(inputs, budget):
    """Exercise 04.5 by search, not by the quadratic: units added one at a time while the count stays within."""
    units = 0
    while recurrent.lstm_params(inputs, units + 1) <= budget:
        units += 1
    return units


def _lstm_step_with_o_and_g_swapped(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    z_i, z_f, z_o, z_g = np.split(x_t @ kernel + h_prev @ recurrent_kernel + bias, 4)
    c = activations.sigmoid(z_f) * c_prev + activations.sigmoid(z_i) * np.tanh(z_g)
    return activations.sigmoid(z_o) * np.tanh(c), c


def _smallest_remembering_bias():
    """The measurement itself, independent of the check's verdict: the first bias whose gradient is remembered."""
    from musegen_lessons.course.checks.lesson03 import real_inputs
    from musegen_lessons.course.checks.lesson04 import FORGET_BIASES, REMEMBERED, forget_bias_gradients

    gradients = forget_bias_gradients(real_inputs(steps=128)["one-hot tokens"])
    return next(b for b, g in zip(FORGET_BIASES, gradients) if g > REMEMBERED)


def _outside_the_key_measured():
    """The measurement itself, judged apart from the check's verdict: more or fewer notes outside the key than Bach,
    or about as many (a 95% interval of the difference of the two shares, by the normal approximation, holding 0)."""
    from musegen_lessons.course.checks.lesson06 import outside_the_key_shares

    (bach_hits, bach_total), shares = outside_the_key_shares()
    answers = {}
    for label, (hits, total) in shares.items():
        p, q = hits / total, bach_hits / bach_total
        pooled = (hits + bach_hits) / (total + bach_total)
        half = 1.96 * math.sqrt(pooled * (1 - pooled) * (1 / total + 1 / bach_total))
        answers[label] = "about as many" if abs(p - q) < half else ("more" if p > q else "fewer")
    return answers


def _benchmark_changes():
    from musegen_lessons.course.checks.lesson05 import benchmark_changes

    return benchmark_changes()


def _bigrams_across_sequences(sequences):
    joined = [token for s in sequences for token in s]
    return dict(Counter(zip(joined[:-1], joined[1:])))


def _top_k_plus_one(p, k):
    return _top_k(np.asarray(p, float), k + 1)


def _roll_of_onsets_only(tokens):
    roll = np.zeros((len(tokens), 88), np.uint8)
    for step, token in enumerate(tokens):
        if token not in ("HOLD", "REST"):
            roll[step, token - 21] = 1
    return roll


WRONG_ANSWERS = {
    "00.1": [(lambda tempo_bpm: tempo_bpm / 60, r"\(120\) the answer is 0\.5, yours was 2\.0")],
    "01.1": [(lambda midi: 440 * 2 ** ((midi - 60) / 12), r"\(69\) the answer is 440\.0")],
    "01.2": [(lambda name: notation.name_to_midi(name) - 12, r"\('C4'\) the answer is 60, yours was 48")],
    "01.3": [
        (
            lambda notes: [t for t in encoding.notes_to_tokens(notes) if t != "REST"],
            r"\(\[\(67, 1, 2\)\]\) the answer is \['REST'",
        )
    ],
    "01.4": [
        (_roll_of_onsets_only, r"For tokens \[60, 'HOLD', 'REST', 62\] step 1, column 39 \(MIDI 60\) should be 1"),
        (lambda tokens: REFERENCES["01.4"](tokens).T, r"For 4 tokens the piano roll has shape \(4, 88\)"),
    ],
    "02.1": [
        (
            lambda tokens, tonic, mode: encoding.transpose_tokens(tokens, ((0 if mode == "major" else 9) - tonic) % 12),
            r"\(\[60, 'HOLD', 'REST', 64\], 0, 'minor'\) the answer is \[57, 'HOLD', 'REST', 61\], yours was \[69",
        ),
        (
            lambda tokens, tonic, mode: encoding.transpose_tokens(tokens, melody.transposition_to_c(tonic, "major")),
            r"\(\[60, 'HOLD', 'REST', 64\], 0, 'minor'\) the answer is \[57, 'HOLD', 'REST', 61\], yours was \[60, ",
        ),
    ],
    "02.2": [
        (
            lambda ids, length: (dataset.make_windows(ids, length)[0],) * 2,
            r"For a sequence of 10 ids and windows of 4, the targets",
        )
    ],
    "02.3": [
        (
            lambda tokens: tuple(t for t in tokens[:10] if t not in ("HOLD", "REST")),
            r"the answer is \(69, 60, 61, 62, 63, 64, 65, 66, 67, 68\), yours was \(69, 60, 61, 62, 63, 64\)",
        )
    ],
    "03.1": [
        (
            lambda x, kernel, bias: activations.softmax(x @ kernel),
            r"On one-hot tokens of a chorale into 12 units, at index",
        ),
        (lambda x, kernel, bias: activations.softmax(x @ kernel + bias, axis=0), r"into 12 units, at index"),
        (lambda x, kernel, bias: x @ kernel + bias, r"into 12 units, at index"),
        (lambda x, kernel, bias: activations.softmax(kernel.T @ x.T + bias), r"raised ValueError"),
    ],
    "03.2": [
        (lambda z, y: -dense.softmax_cross_entropy_gradient(z, y), r"On 4 predictions over 3 tokens, at index"),
        (lambda z, y: dense.softmax_cross_entropy_gradient(z, y) * len(y), r"On 4 predictions over 3 tokens"),
        (lambda z, y: (z - np.eye(z.shape[1])[y]) / len(y), r"On 4 predictions over 3 tokens"),
    ],
    "03.3": [
        (lambda k, b, x, y, rate: _sgd_step(k, b, x, y, -rate), r"the new kernel after one step at learning rate 0\.5"),
        (lambda k, b, x, y, rate: (_sgd_step(k, b, x, y, rate)[0], b), r"the new bias after one step at learning rate"),
        (lambda k, b, x, y, rate: _sgd_step(k, b, x, y, rate)[0], r"Return the pair \(kernel, bias\)"),
    ],
    "03.4": [
        (
            _two_layer_gradients_without_tanh_derivative,
            r"On a chorale's one-hot tokens, 16 hidden units, dL/dW1, at index .* Δ₁ = \(Δ₂ W₂ᵀ\) ⊙ \(1 − H₁²\)",
        ),
        (_two_layer_gradients_with_mean_biases, r"dL/db2, at index .* ∂L/∂b₂ sums Δ₂ over the rows"),
    ],
    "03.5": [
        (lambda x, kernel, bias: convolution.conv1d(x, kernel, None), r"On piano roll with kernel size 3, at index"),
        (
            lambda x, kernel, bias: convolution.conv1d(x, kernel[::-1], bias),
            r"On piano roll with kernel size 3, at index",
        ),
    ],
    "03.6": [
        (
            lambda steps, kernel_size, stride, padding: (steps - kernel_size) // stride + 1,
            r"\(80, 3, 1, 'same'\) the answer is 80, yours was 78",
        )
    ],
    "03.7": [
        (
            lambda x, pool_size: convolution.max_pool1d(np.asarray(x).T, pool_size).T,
            r"On piano roll with pool size 2 the output has shape \(24, 88\); yours has shape \(48, 44\)",
        )
    ],
    "03.8": [
        (lambda: 10, r"you predicted 10, not what was measured \(16\): 10 is .* every stride taken as 1"),
        (lambda: 9, r"you predicted 9, not .*: 9 is what the formula gives with the pooling layer left out"),
        (lambda: 15, r"15 is .* the pooling's stride but not its own window .* input steps 48 to 63 of 64, 16 steps"),
    ],
    "04.1": [
        (_rnn_step_without_bias, r"On an input of 3 and 2 units, at index"),
        (
            lambda x_t, h_prev, W_x, W_h, b: activations.sigmoid(x_t @ W_x + h_prev @ W_h + b),
            r"On an input of 3 and 2 units, at index",
        ),
    ],
    "04.2": [
        (_simple_rnn_one_step_late, r"with 4 units, your row t is Keras's row t − 1 .* one step late"),
        (_simple_rnn_without_recurrence, r"On 48 one-hot tokens of a chorale with 4 units, at index"),
        (
            lambda x, W_x, W_h, b: _simple_rnn_one_step_late(x, W_x, W_h, b)[1:],
            r"with 4 units the output has shape \(48, 4\); yours has shape \(47, 4\)",
        ),
    ],
    "04.3": [(lambda: 1, r"you predicted 1, not what was measured: the smallest that remembers is 3\. bias 0: σ\(b\)")],
    "04.4": [(_lstm_step_with_o_and_g_swapped, r"On the hidden state h \(3 inputs, 2 units\), at index")],
    "04.5": [
        (  # the bias left out
            lambda inputs, budget: (math.isqrt(budget + inputs**2) - inputs) // 2,
            r"For 64 inputs and a budget of 100,000 parameters you chose 129 units, and Keras counts 100,104 "
            r"parameters: 104 over",
        ),
        (  # one gate instead of four
            lambda inputs, budget: (math.isqrt(4 * budget + (inputs + 1) ** 2) - inputs - 1) // 2,
            r"100,000 parameters you chose 285 units, and Keras counts 399,000",
        ),
        (  # the root rounded up
            lambda inputs, budget: math.ceil((math.sqrt((inputs + 1) ** 2 + budget) - inputs - 1) / 2),
            r"you chose 129 units, and Keras counts 100,104 parameters: 104 over the budget.* round the root down",
        ),
        (  # two biases per gate, as PyTorch has
            lambda inputs, budget: (math.isqrt(budget + (inputs + 2) ** 2) - inputs - 2) // 2,
            r"budget of 98,816 parameters you chose 127 units \(97,536 parameters\), but 128 units fit too",
        ),
        (
            lambda inputs, budget: max(1, _largest_units(inputs, budget)),
            r"For 35 inputs and a budget of 147 parameters you chose 1 unit, and Keras counts 148 parameters",
        ),
        (lambda inputs, budget: float(_largest_units(inputs, budget)), r"Return a whole number of units"),
    ],
    "05.1": [
        (
            _bigrams_across_sequences,
            r"For the sequences \[\[0\], \[3, 3, 3\]\] the counts differ, e\.g\. at \(\(0, 3\), 1\)",
        )
    ],
    "05.2": [
        (
            lambda p, targets: float(-np.sum(np.log(p[np.arange(len(targets)), targets]))),
            r"For 5 steps over 3 tokens Keras's loss is",
        )
    ],
    "05.3": [
        (
            lambda vocab_size: _specified_model(vocab_size, padding="same"),
            r"Changing the input at step 10 changed the output at step 9 .*sees the future",
        )
    ],
    "05.4": [
        (
            lambda model, sequences, steps: _trained(model, sequences, steps, shift=0),
            r"After 300 steps the held-out NLL is [3-9]\.\d+ .* It learned something, but not the next token",
        ),
        (lambda model, sequences, steps: model, r"the held-out NLL is 3\.\d+ .* It has hardly changed"),
        (
            lambda model, sequences, steps: _specified_model(model.layers[-1].units, units=128),
            r"Return the model you were given, trained",
        ),
    ],
    "05.5": [
        (
            lambda: {question: "worse" for question in _benchmark_changes()},
            r"not what was measured for without the beat input: onset accuracy\. benchmarks/melody\.py measured: ",
        )
    ],
    "05.6": [
        (
            lambda p, targets: float(np.mean(p.argmax(axis=1) == targets)),
            r"For <lambda>\(array of shape \(143, \d+\), array of shape \(143,\)\) the answer is",
        )
    ],
    "05.7": [
        (  # escape method A: one count of escape, whatever the number of symbols seen
            lambda counts, lower: (
                counts.sum() / (counts.sum() + 1) * counts / max(counts.sum(), 1) + lower / (counts.sum() + 1)
            ),
            r"For the counts \[.*\] the answer is .*, yours was .* λ = n / \(n \+ t\)",
        ),
        (  # forgets the context never seen: 0 / 0
            lambda counts, lower: (
                counts.sum() / (counts.sum() + np.count_nonzero(counts)) * counts / counts.sum()
                + np.count_nonzero(counts) / (counts.sum() + np.count_nonzero(counts)) * lower
            ),
            r"For the counts \[0\.0, 0\.0, 0\.0, 0\.0\] .* passes `lower` on unchanged",
        ),
    ],
    "06.1": [
        (  # the search run the wrong way: a higher temperature taken for a lower entropy
            lambda p, entropy: 1 / _temperature_for(p, entropy),
            r"For a distribution over 35 tokens \(entropy \d\.\d+ nats at T = 1\) and a target of \d\.\d+ nats, your "
            r"temperature [\d.]+ gives",
        ),
        (lambda p, entropy: 1.0, r"your temperature 1 gives"),
    ],
    "06.2": [(_top_k_plus_one, r"With k = 1 on 35 tokens: expected")],
    "06.3": [
        (
            lambda: {**_outside_the_key_measured(), "temperature 0.5": "more"},
            r"3 of 4 as measured; not what was measured for temperature 0\.5\. Measured over 3 continuations of each",
        )
    ],
    "06.4": [
        (
            lambda tokens, tempo_bpm: midi.notes_to_midi(encoding.tokens_to_notes(tokens), tempo_bpm=tempo_bpm / 4),
            r"For \[60, 'HOLD', 'HOLD', 'HOLD', 62, 'HOLD'\] at 60 bpm the notes",
        )
    ],
    "07.1": [
        (
            lambda tokens: np.bincount([p % 12 for p, _, _ in encoding.tokens_to_notes(tokens)], minlength=12) / 3,
            r"For \[60, 'HOLD', 'HOLD', 'HOLD', 62, 'HOLD', 64, 'HOLD'\]\.\.\. the histogram is",
        )
    ],
    "07.2": [
        (
            lambda tokens: max(
                np.isin([p % 12 for p in _sounding_steps(tokens)], [(t + d) % 12 for d in s]).mean()
                for t in range(12)
                for s in (features.MAJOR_SCALE, features.MINOR_SCALE)
            ),
            r"\(\[67, 'HOLD', 'REST', 66, 65, 'HOLD', 'HOLD'\]\) the answer is 0\.666",
        )
    ],
    "07.3": [
        (
            lambda p, q, grid: float(np.minimum(p, q).sum()),
            r"For the densities of 300 samples of N\(0, 1²\) and 300 of N\(0, 1²\) on a grid from -6 to 12",
        )
    ],
    "07.4": [
        (
            lambda correct, trials: math.comb(trials, correct) / 2**trials,  # exactly as many right, not at least
            r"For 0 right out of 5, a guesser does at least as well with probability 1\.000000",
        )
    ],
    "08.1": [
        (lambda p, frame: -(np.asarray(frame) * np.log(p)).sum(axis=-1), r"For a frame with pitches \[48, 64, 67, 72\]")
    ],
    "08.2": [
        (
            lambda predicted, frames: float(np.mean(np.asarray(predicted) == np.asarray(frames))),
            r"With 20 frames of \d+ sounding keys in all, predicting silence everywhere scores 0\.0000; yours gives "
            r"0\.96",
        )
    ],
    "08.3": [
        (
            lambda keys, hidden: models.made_masks(keys, hidden)[1:],
            r"With 4 keys and 6 hidden units the input → hidden mask is not right",
        )
    ],
    "08.4": [
        (  # trained without its masks: it reads each key off its input, and is caught once the masks are applied
            lambda frames, hidden, steps: _trained_made(frames, hidden, steps, masked=False),
            r"with the course's masks applied to your weights, the MADE scores \d+\.\d+ nats a frame; it should score "
            r"below 9\.5\. Without the masks your weights score far better",
        ),
        (
            lambda frames, hidden, steps: _trained_made(frames, hidden, 5),
            r"the MADE scores \d+\.\d+ nats a frame; it should score below 9\.5\. Train it longer",
        ),
        (
            lambda frames, hidden, steps: {"W_in": np.zeros((88, hidden))},
            r"Return the weights as a dict of these shapes",
        ),
    ],
    "09.1": [
        (  # the dilation forgotten
            lambda x, kernel, bias, dilation: convolution.conv1d(x, kernel, bias, padding="causal"),
            r"On piano roll, kernel size 2, dilation 4, at index",
        ),
        (  # 'same' padding: half the kernel looks ahead
            lambda x, kernel, bias, dilation: convolution.conv1d(x, kernel, bias, padding="same", dilation=dilation),
            r"On piano roll, kernel size 2, dilation 1, at index",
        ),
    ],
    "09.2": [
        (  # doubling, whatever the kernel size: right for K = 2, too many layers for K = 3
            lambda kernel_size, span: [2**layer for layer in range(math.ceil(math.log2(span)))],
            r"For kernel size 3 and a span of 27 steps your dilations \[1, 2, 4, 8, 16\] hear the whole span with 5 "
            r"layers; 3 suffice",
        ),
        (
            lambda kernel_size, span: [1, 4, 16],
            r"For kernel size 2 and a span of 64 steps your dilations \[1, 4, 16\] leave blind spots: the output never "
            r"hears the steps 2, 3, 6",
        ),
    ],
    "09.5": [
        (  # no clipping: a sample beyond ±1 lands outside 0 … 255
            lambda waveform, levels: np.rint(
                (np.sign(waveform) * np.log1p((levels - 1) * np.abs(waveform)) / np.log1p(levels - 1) + 1)
                / 2
                * (levels - 1)
            ).astype(int),
            r"On values from -1\.5 to 2, 256 levels: sample -1\.5000 is level 0",
        ),
        (  # floor instead of round
            lambda waveform, levels: _floor_levels(waveform, levels),
            r"On a rendered chorale, 256 levels: sample",
        ),
        (lambda waveform, levels: audio.mu_law_encode(waveform, levels) * 1.0, r"Levels are whole numbers"),
    ],
    "09.6": [
        (  # the levels taken to be evenly spaced, as plain quantisation's are
            lambda: 26,
            r"you predicted 26, not what was measured: 150\. .* against 26 of plain 8-bit quantisation's",
        ),
        (lambda: 140, r"you predicted 140, close: 150 were measured"),
    ],
    "09.3": [
        (
            lambda channels, dilation: _residual_block(channels, dilation, padding="same"),
            r"Changing the input at step 20 changed output 1 at step 1\d .* the block sees the future",
        ),
        (  # causal, but it cannot hear `dilation` steps back, so it does not learn the task
            lambda channels, dilation: _residual_block(channels, dilation, dilation_rate=1),
            r"the block gets \d+% right; it should get at least 90%",
        ),
        (
            lambda channels, dilation: _residual_block(channels, dilation, outputs=("skip",)),
            r"return two outputs, \[residual, skip\], each of the input's shape; yours gives \[\(2, 32, 8\)\]",
        ),
    ],
    "09.4": [
        (  # the newest input taken, not the oldest: right only for dilation 1
            lambda queue, x: (queue[-1].copy(), np.concatenate([queue[1:], x[None]])),
            r"With dilation 2, at step \d+ the input 2 step\(s\) ago",
        ),
        (lambda queue, x: _queue_step_in_place(queue, x), r"With dilation 1, at step \d+ the input 1 step\(s\) ago"),
    ],
    "10.1": [
        (  # no 1/√d: logits too large, the softmax too sharp
            lambda q, k, v, mask: _softmax_over(q @ k.T + mask, -1) @ v,
            r"On 24 steps of width 8, without the causal mask, at index",
        ),
        (  # the softmax over the queries instead of the keys
            lambda q, k, v, mask: _softmax_over(q @ k.T / np.sqrt(q.shape[1]) + mask, 0) @ v,
            r"On 24 steps of width 8, without the causal mask, at index",
        ),
        (  # the mask ignored
            lambda q, k, v, mask: attention.scaled_dot_product_attention(q, k, v)[0],
            r"On 24 steps of width 8, with the causal mask, at index",
        ),
    ],
    "10.2": [
        (  # the lesson's planted bug: each step also sees the next one, the token it is to predict
            lambda steps: np.triu(np.full((steps, steps), -np.inf), k=2),
            r"Off by one: with 16 steps your mask lets query 0 see key 1 .* attention with your mask moves output 0 "
            r"when the input at step 1 changes",
        ),
        (  # its mirror: each step hidden from itself
            lambda steps: np.where(np.tri(steps, k=-1, dtype=bool), 0.0, -np.inf),
            r"Off by one the other way: .* hides query 0 from key 0 .* its output is nan",
        ),
        (
            lambda steps: attention.causal_mask(steps).T,
            r"not causal: over 16 steps of a chorale, changing the input at step 1 moved the output at step 0",
        ),
        (lambda steps: np.tri(steps), r"not causal: .* changing the input at step 1 moved the output at step 0"),
        (  # right for 16 steps, wrong for 1
            lambda steps: attention.causal_mask(steps) if steps > 1 else np.full((1, 1), -np.inf),
            r"With 1 steps, query 0 may see key 0",
        ),
    ],
    "10.3": [
        (  # the pad on the right
            lambda qe: np.concatenate([qe, np.zeros((len(qe), 1))], 1).reshape(len(qe) + 1, len(qe))[1:],
            r"With 6 steps, S_rel\[0, 0\] must be q_0 · e_0 = [-\d.]+ \(column 5 of row 0",
        ),
        (lambda qe: qe, r"With 6 steps, S_rel\[0, 0\] must be q_0 · e_0"),
    ],
    "10.4": [
        (
            lambda width, heads: _transformer_block(width, heads, causal=False),
            r"Changing the input at step 15 changed the output at step \d+ .* the block sees the future",
        ),
        (
            lambda width, heads: _transformer_block(width, heads, post_norm=True),
            r"Ten times the input gives only 1\.0 times the output: .* \(post-norm\)",
        ),
        (  # causal, pre-norm, the right shape, and it cannot fetch the first token: it does not learn the task
            lambda width, heads: _transformer_block(width, heads, attention=False),
            r"the block gets \d+% right; it should get at least 90%",
        ),
    ],
    "10.5": [
        (  # this step's own key and value never put in the cache
            lambda q, k, v, keys, values: _cached_step(q, k, v, keys, values, append=False),
            r"After step 0 the cache holds 1 keys",
        ),
        (
            lambda q, k, v, keys, values: _cached_step(q, k, v, keys, values, scale=False),
            r"On step \d+ of 20, width 8, at index",
        ),
    ],
    "11.1": [
        (  # the labels swapped: 'fake' for real fragments
            lambda real, fake: gan.discriminator_loss(fake, real),
            r"For real logits \[4, 1, -1\] \(3 logits\) and fake logits \[-2, 0.5\]",
        ),
        (  # one mean over both kinds of logits instead of two means
            lambda real, fake: float(np.mean(np.concatenate([np.logaddexp(0, -real), np.logaddexp(0, fake)]))),
            r"For real logits \[0\] \(1 logits\).*the loss is 1.386294; yours is 0.693147",
        ),
        (
            lambda real, fake: _naive_discriminator_loss(real, fake),
            r"For real logits \[-40\].*yours is inf.*np.logaddexp",
        ),
    ],
    "11.2": [
        (  # the planted bug: a sign slip on the minimax loss, −mean ln(1 − D(G(z)))
            lambda fake: float(-np.mean(np.log(1 - 1 / (1 + np.exp(-fake))))),
            r"For fake logits \[-2\] \(D\(G\(z\)\) = 0.12\) your loss is 0.1269.* it falls as D\(G\(z\)\) falls: the "
            r"generator learns to look fake",
        ),
        (  # the same slip, written stably: the discriminator's target for fakes
            lambda fake: float(np.logaddexp(0, fake).mean()),
            r"it falls as D\(G\(z\)\) falls: the generator learns to look fake",
        ),
        (  # the minimax game's own loss, mean ln(1 − D(G(z)))
            lambda fake: gan.generator_loss(fake, saturating=True),
            r"For fake logits \[0\] \(1 logits\) the loss is 0.693147; yours is -0.693147\. Yours is the saturating "
            r"minimax loss.*right direction, but its gradient vanishes where D is sure",
        ),
        (  # the sum, not the mean
            lambda fake: float(np.logaddexp(0, -fake).sum()),
            r"For fake logits \[-5, -3, -6\] \(3 logits\) the loss is",
        ),
    ],
    "11.3": [
        (
            lambda g, d, real, noise, rate: _gan_step(g, d, real, noise, rate, saturating=True),
            r"the generator's loss is 0\.\d+; yours is -0\.\d+\. The non-saturating L_G",
        ),
        (
            lambda g, d, real, noise, rate: _gan_step(g, d, real, noise, rate, both=True),
            r"The discriminator's update is not one step down the gradient of its loss: at index",
        ),
        (lambda g, d, real, noise, rate: (0.0, 0.0, g, d), r"On the check's batch the discriminator's loss is 1\.\d+"),
    ],
    "11.4": [
        (  # distinct copies rather than samples that are copies
            lambda samples, training: len({tuple(s) for s in samples if any((s == training).all(1))}) / len(samples),
            r"For 6 samples: the same copy twice",
        ),
        (  # each sample against the training fragment at its own index only
            lambda samples, training: float(np.mean([(s == t).all() for s, t in zip(samples, training)])),
            r"For 6 samples: the same copy twice",
        ),
        (  # near copies counted as copies
            lambda samples, training: float(np.mean([(s != training).sum(1).min() <= 1 for s in samples])),
            r"For 6 samples: the same copy twice",
        ),
        (  # a count, not a share
            lambda samples, training: int(sum((s == training).all(1).any() for s in samples)),
            r"For 6 samples: the same copy twice.*yours is 4",
        ),
    ],
    "11.5": [
        (  # the norm of each step, not of the whole fragment
            lambda g: float(np.mean((np.linalg.norm(g, axis=-1) - 1) ** 2)),
            r"For 3 fragments whose gradients each have norm exactly 1",
        ),
        (  # the squared norm
            lambda g: float(np.mean(((g.reshape(len(g), -1) ** 2).sum(1) - 1) ** 2)),
            r"For 2 fragments, gradient norms 3 and 1",
        ),
        (  # the norm itself, not its distance from 1
            lambda g: float(np.mean(np.linalg.norm(g.reshape(len(g), -1), axis=1) ** 2)),
            r"For 3 fragments whose gradients each have norm exactly 1",
        ),
    ],
    "12.1": [
        (  # the −1 forgotten: the prior itself is charged
            lambda mean, log_variance: 0.5 * np.sum(mean**2 + np.exp(log_variance) - log_variance, axis=-1),
            r"On a code equal to the prior \(mean 0, log-variance 0\), at index \(0,\), the package gives 0.00000",
        ),
        (  # σ where σ² belongs
            lambda mean, log_variance: 0.5 * np.sum(mean**2 + np.exp(0.5 * log_variance) - 1 - log_variance, axis=-1),
            r"On one dimension, mean 1 and log-variance 1, at index",
        ),
        (  # the mean over the dimensions, not the sum
            lambda mean, log_variance: 0.5 * np.mean(mean**2 + np.exp(log_variance) - 1 - log_variance, axis=-1),
            r"On 3 fragments' codes of 16 dimensions, at index",
        ),
    ],
    "12.2": [
        (  # the planted bug: numpy draws the code, off the tape
            lambda mean, log_variance, noise: _numpy_draw(mean, log_variance),
            r"the gradient of E‖z‖² does not reach μ or ln σ²: the draw left the tape",
        ),
        (  # σ taken as exp(log_variance)
            lambda mean, log_variance, noise: _code_drawn(mean, log_variance, noise, power=1.0),
            r"On a code with log-variance ln 4 \(σ = 2\), yours scales the noise by exp\(log_variance\): that is σ², "
            r"the variance",
        ),
        (  # σ by numpy: the tape follows μ, not ln σ²
            lambda mean, log_variance, noise: mean + np.exp(0.5 * np.asarray(log_variance)) * noise,
            r"the gradient of E‖z‖² does not reach ln σ²: the draw left the tape",
        ),
        (
            lambda mean, log_variance, noise: mean + log_variance * noise,
            r"On a code with log-variance 0 \(σ = 1\), given as numpy arrays, at index",
        ),
        (  # a tensor back for numpy arrays in, which the grader cannot take back
            lambda mean, log_variance, noise: _code_drawn(mean, log_variance, noise, numpy_back=False),
            r"Given a code with log-variance 0 \(σ = 1\) as numpy arrays, return a numpy array",
        ),
    ],
    "12.3": [
        (
            lambda e, d, ids, noise, free_nats, rate: _vae_step(e, d, ids, noise, free_nats, rate, on_the_total=True),
            r"On the check's batch the loss is \d+\.\d+; yours is \d+\.\d+\. Free bits charge each dimension",
        ),
        (
            lambda e, d, ids, noise, free_nats, rate: _vae_step(e, d, ids, noise, free_nats, rate, update=False),
            r"Your step left the encoder's weights as they were",
        ),
    ],
    "12.4": [
        (  # on the shell: as if averaging kept the length
            lambda: 1.0,
            r"you predicted 1, not what was measured: 0\.70\d .* the slerp midpoint 1\.0",
        ),
        (  # halfway, so half as long
            lambda: 0.5,
            r"you predicted 0.5, not what was measured: 0\.70\d \(within 0.05 counts as right\)",
        ),
        (  # the midpoint's norm itself, √8, not a fraction
            lambda: 2.83,
            r"you predicted 2.83, not what was measured: .*; a norm itself, perhaps\?",
        ),
    ],
}


def _numpy_draw(mean, log_variance):
    """Exercise 12.2's planted bug: numpy draws the code from the mean and standard deviation, off the tape."""
    import tensorflow as tf

    return tf.constant(np.random.default_rng().normal(mean.numpy(), np.exp(0.5 * log_variance.numpy())))


def _code_drawn(mean, log_variance, noise, power=0.5, numpy_back=True):
    """mean + exp(power · log_variance) · noise in TensorFlow (12.2's answer with power ½), numpy back for numpy in."""
    import tensorflow as tf

    z = mean + tf.exp(power * tf.convert_to_tensor(log_variance)) * noise
    return np.asarray(z) if numpy_back and isinstance(mean, np.ndarray) else z


def _midpoint_norm_measured():
    """Exercise 12.4's measurement itself, given as the prediction."""
    from musegen_lessons.course.checks.lesson12 import midpoint_norms

    return midpoint_norms()["linear"]


def _naive_discriminator_loss(real, fake):
    """ln σ and ln(1 − σ) straight from the sigmoid: −∞ once σ rounds to 0 or 1 (a wrong answer to 11.1)."""
    with np.errstate(divide="ignore", over="ignore"):
        return float(-np.mean(np.log(1 / (1 + np.exp(-real)))) - np.mean(np.log(1 - 1 / (1 + np.exp(-fake)))))


def _floor_levels(waveform, levels):
    """μ-law levels rounded down rather than to the nearest (a wrong answer to 09.5)."""
    mu = levels - 1
    x = np.clip(waveform, -1, 1)
    return np.floor((np.sign(x) * np.log1p(mu * np.abs(x)) / np.log1p(mu) + 1) / 2 * mu).astype(int)


def _queue_step_in_place(queue, x):
    """Shifts the queue in place and returns a view of its first row, which the shift has already overwritten."""
    oldest = queue[0]
    queue[:-1] = queue[1:]
    queue[-1] = x
    return oldest, queue


def _sounding_steps(tokens):
    """The pitch of every step a note sounds (a note counted once per step: the wrong unit for 07.2)."""
    pitches, current = [], None
    for token in tokens:
        current = None if token == "REST" else current if token == "HOLD" else token
        if current is not None:
            pitches.append(current)
    return pitches


def _top_k(p, k):
    kept = np.zeros_like(p)
    keep = np.argsort(-p, kind="stable")[:k]
    kept[keep] = p[keep]
    return kept / kept.sum()


def _specified_model(vocab_size, padding="causal", units=64):
    import keras

    return keras.Sequential(
        [
            keras.Input((None,), dtype="int32"),
            keras.layers.Embedding(vocab_size, 16),
            keras.layers.Conv1D(32, 3, padding=padding, activation="relu"),
            keras.layers.LSTM(units, return_sequences=True),
            keras.layers.Dense(vocab_size, activation="softmax"),
        ]
    )


def _stub(*args):
    raise NotImplementedError()


def test_every_exercise_has_a_reference_here():
    assert sorted(REFERENCES) == [e.id for e in exercises()]


@pytest.mark.parametrize("exercise_id", sorted(REFERENCES))
def test_the_reference_answer_passes(exercise_id):
    # `evaluate`, not `check`: many of these are the package's own function, which `check` would refuse.
    status, message = evaluate(find_exercise(exercise_id), REFERENCES[exercise_id])
    if exercise_id in PREDICTIONS:  # the measurement itself, given as the prediction
        assert status == ANSWERED and re.search(r"answered: (you predicted [\d.]+, right|all \d as measured)", message)
    else:
        assert status == PASSED, message


@pytest.mark.parametrize(
    "exercise_id, reference", [(e.id, r) for e in exercises() for r in e.references], ids=lambda value: str(value)
)
def test_an_answer_that_calls_its_reference_is_reported_not_passed(exercise_id, reference):
    with pytest.raises(
        CheckFailed, match=f"Exercise {exercise_id} .* calls {reference.removeprefix('musegen_lessons.')}, "
    ):
        check(exercise_id, lambda *args: resolve(reference)(*args))


def test_the_references_work_again_after_a_check():
    with pytest.raises(CheckFailed, match="calls layers.convolution.conv1d"):
        check("03.5", lambda x, kernel, bias: convolution.conv1d(x, kernel, bias))
    x = np.ones((4, 1), np.float32)
    assert convolution.conv1d(x, np.ones((3, 1, 1)), np.zeros(1)).shape == (2, 1)
    import keras

    assert keras.layers.Conv1D(2, 3).filters == 2


@pytest.mark.parametrize("exercise_id", sorted(REFERENCES))
def test_a_stub_is_not_attempted_and_does_not_raise(exercise_id, capsys):
    check(exercise_id, _stub)
    assert "not attempted yet" in capsys.readouterr().out


# 0 is one of 04.3's predictions, and a norm 12.4 may predict
@pytest.mark.parametrize("exercise_id", sorted(set(REFERENCES) - {"04.3", "12.4"}))
def test_a_constant_answer_fails_with_a_message(exercise_id):
    with pytest.raises(CheckFailed, match=f"Exercise {exercise_id}"):
        check(exercise_id, lambda *args: 0)


def test_every_exercise_has_a_wrong_answer_here():
    assert sorted(WRONG_ANSWERS) == [e.id for e in exercises()]


@pytest.mark.parametrize(
    "exercise_id, wrong, message",
    [
        (exercise_id, wrong, message)
        for exercise_id, answers in sorted(WRONG_ANSWERS.items())
        for wrong, message in answers
    ],
    ids=lambda value: value if isinstance(value, str) and "." in value and len(value) == 4 else "",
)
def test_a_plausible_wrong_answer_is_rejected_naming_the_input(exercise_id, wrong, message):
    # `evaluate`, not `check`: some of these wrong answers are made from the package's own functions. A wrong
    # prediction is not rejected but answered, with the measurement beside it.
    status, said = evaluate(find_exercise(exercise_id), wrong)
    expected = ANSWERED if exercise_id in PREDICTIONS else FAILED
    assert status == expected and re.search(f"Exercise {exercise_id} .*{message}", said, re.DOTALL), said


def test_a_crashing_answer_names_the_input_and_the_error():
    with pytest.raises(CheckFailed, match=r"my_name_to_midi\('C4'\).*KeyError"):

        def my_name_to_midi(name):
            return {}[name]

        check("01.2", my_name_to_midi)


def test_an_unknown_exercise_lists_the_known_ones():
    with pytest.raises(KeyError, match="01.1"):
        check("99.9", _stub)


def test_call_passes_not_implemented_through():
    with pytest.raises(NotImplementedError):
        call(_stub, 1)


def test_environment_check_finds_the_course_packages(capsys):
    rows = check_environment()
    assert all(rows[name][0] for name in ("music21", "pretty_midi", "verovio", "numpy", "tensorflow", "keras"))
    assert rows["audio: numpy"] == (True, "ready")
    assert "Sound will be played with" in capsys.readouterr().out


def test_a_made_mask_that_lets_a_key_hear_itself_is_caught():
    def leaky(keys, hidden):
        to_hidden = models.made_masks(keys, hidden)[0]
        m = 1 + np.arange(hidden) % (keys - 1)
        return to_hidden, (m[:, None] <= np.arange(1, keys + 1)[None, :]).astype(float)

    status, said = evaluate(find_exercise("08.3"), leaky)
    assert status == FAILED and "hidden → output" in said


def test_every_kind_is_given_to_an_exercise_that_exists():
    from musegen_lessons.course.checks import KINDS

    assert set(KINDS) <= {e.id for e in exercises()} and PREDICTIONS <= set(KINDS)


def test_the_predictions_are_the_exercises_that_ask_for_one():
    assert PREDICTIONS == {e.id for e in exercises() if e.title.startswith("predict, then")}


@pytest.mark.parametrize("answer", [0, 257, 150.0, True, "150"], ids=repr)
def test_a_prediction_of_quiet_levels_must_be_a_whole_number_of_levels(answer):
    status, said = evaluate(find_exercise("09.6"), lambda: answer)
    assert status == FAILED and f"Predict a whole number of levels from 1 to 256, not {answer!r}." in said


@pytest.mark.parametrize("answer", [None, {"near": "more"}, {"near": "more", "far": "maybe"}])
def test_a_prediction_must_answer_every_question_with_a_given_answer(answer):
    from musegen_lessons.course.checks import call_for_predictions

    with pytest.raises(CheckFailed, match=r"one entry for each of \['near', 'far'\], each one of 'more', 'fewer'"):
        call_for_predictions(lambda: answer, {"near": 1, "far": 2}, ("more", "fewer"))


@pytest.mark.parametrize("answer", ["0.7", None, -0.7, float("nan"), True])
def test_a_midpoint_norm_prediction_must_be_a_number_not_below_zero(answer):
    status, said = evaluate(find_exercise("12.4"), lambda: answer)
    assert status == FAILED and "Predict one number, 0 or more" in said, said


@pytest.mark.parametrize("ex", exercises(), ids=lambda ex: ex.id)
def test_every_reference_can_be_refused(ex):
    for dotted in ex.references:
        target = resolve(dotted)
        assert isinstance(target, type) or not target.__code__.co_freevars, f"{dotted} cannot have its code swapped"


def _code_cells_above(lesson, function):
    """The code cells of a lesson's solution edition above the cell that defines `function`, and that cell."""
    import nbformat

    path = next((ROOT / "solutions").glob(f"{lesson}_*.ipynb"))
    cells = [c for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]
    index = next(i for i, c in enumerate(cells) if f"def {function}(" in c.source)
    return cells[:index], cells[index]


def _bound_names(source):
    """{name: what it was imported as ('numpy', 'musegen_lessons.music.encoding.tokens_to_notes') or None} of a cell."""
    import ast

    bound = {}
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            bound.update(
                {(a.asname or a.name.split(".")[0]): a.name if a.asname else a.name.split(".")[0] for a in node.names}
            )
        elif isinstance(node, ast.ImportFrom):
            bound.update({(a.asname or a.name): f"{node.module}.{a.name}" for a in node.names})
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            bound.setdefault(node.id, None)
    return bound


@pytest.mark.parametrize("ex", exercises(), ids=lambda ex: ex.id)
def test_the_set_up_is_what_the_lesson_ran_above_the_exercise(ex):
    above, _ = _code_cells_above(ex.lesson_number, ex.function)
    lesson = {}
    for cell in above:
        lesson.update(_bound_names(cell.source))
    for name, imported in _bound_names(ex.setup).items():
        assert lesson.get(name, "missing") == imported, (
            f"{ex.id}'s set-up binds {name}, which the lesson does not above it"
        )


@pytest.mark.parametrize("ex", exercises(), ids=lambda ex: ex.id)
def test_the_set_up_gives_the_solution_every_name_it_uses(ex):
    import ast
    import builtins

    _, cell = _code_cells_above(ex.lesson_number, ex.function)
    tree = ast.parse(cell.source)
    loaded = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}
    local = set(_bound_names(cell.source)) | {a.arg for a in ast.walk(tree) if isinstance(a, ast.arg)}
    local |= {n.name for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    missing = loaded - local - set(dir(builtins)) - set(_bound_names(ex.setup))
    assert not missing, f"{ex.id}'s answer uses {sorted(missing)}, which its set-up does not give it"


@pytest.mark.parametrize("ex", [e for e in exercises() if e.references], ids=lambda ex: ex.id)
def test_no_lesson_imports_an_exercise_reference_above_it(ex):
    """A student's namespace holds no reference under its own name before the exercise (a module may be there)."""
    above, _ = _code_cells_above(ex.lesson_number, ex.function)
    references = {id(resolve(r)) for r in ex.references}
    for cell in above:
        for imported in filter(None, _bound_names(cell.source).values()):
            try:
                target = resolve(imported)
            except (ImportError, AttributeError, ValueError):  # a module imported whole: no reference by name
                continue
            assert id(target) not in references, f"cell {cell.get('id')} imports {imported}, {ex.id}'s reference"


@pytest.mark.parametrize("prediction", [16.0, "16", True, 0, 65])
def test_a_receptive_field_prediction_is_a_whole_number_of_steps_the_stack_reads(prediction):
    status, said = evaluate(find_exercise("03.8"), lambda: prediction)
    assert status == FAILED and "Predict one whole number of input steps, from 1 to 64" in said
