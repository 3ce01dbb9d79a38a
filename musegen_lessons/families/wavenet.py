"""WaveNet: a stack of dilated causal convolutions with gated residual blocks, over melody tokens or sound samples,
and the two ways to run it one step at a time.

A WaveNet (van den Oord et al. 2016) predicts the next token from the ones before it like the lesson 05 model, but
without a recurrence: block i is `layers.convolution.wavenet_block` with dilation 2^i, so that L blocks of kernel 2 see
2^L past steps, and every output step of a window is computed at once in training. Its blocks:

    input:  x_0 = W_in · [token embedding, beat embedding] + b_in                   (a 1×1 convolution)
    block i: z = tanh(W_f ∗_d x_i) ⊙ σ(W_g ∗_d x_i),  x_{i+1} = x_i + W_r z,  s_i = W_s z
    output: p(next token) = softmax(W_o · relu(W_h · relu(Σ_i s_i) + b_h) + b_o)

Generating one token at a time, the naive way (`NaiveWaveNetGenerator`) runs the whole network over the last
receptive field of steps at every step: a cost that doubles with every block. The cached way
(`CachedWaveNetGenerator`, Paine et al. 2016, "Fast Wavenet Generation Algorithm") keeps, for every block, a queue
of the inputs it saw in the last (kernel − 1)·d steps, so that a step computes one new column per block: a cost
that grows by one block's work per block. Both are numpy, both equal the Keras model.

The WaveNet family registers its cached generator for models named "wavenet" (over tokens) and "sound_wavenet"
(over μ-law levels of sound, `sound_wavenet`).

Lesson: 09_wavenet
"""

import numpy as np

from musegen_lessons.errors import ShapeError
from musegen_lessons.families.inputs import MAX_BAR_STEPS, embed_melody_inputs
from musegen_lessons.families.sampling import RecomputingGenerator, register_family
from musegen_lessons.layers.activations import relu, softmax
from musegen_lessons.layers.convolution import conv1d, receptive_field, wavenet_block
from musegen_lessons.layers.dense import dense

MELODY_DILATIONS = (1, 2, 4, 8, 16, 32)  # kernel 2: a receptive field of 64 steps, the training window
# How the melody WaveNet trains (`training.train_melody_model(dataset, build_wavenet_model, **MELODY_TRAINING)`),
# chosen on the valid split: it fits the training windows within a few epochs and then overfits, so it
# learns at half the LSTM's rate, with dropout 0.3 (the model's default), and stops after 2 epochs without progress.
MELODY_TRAINING = {"epochs": 10, "learning_rate": 1e-3, "patience": 2}


def doubling_dilations(layers, stacks=1):
    """Dilations 1, 2, 4, …, 2^(layers − 1), repeated `stacks` times: WaveNet's schedule.

    Lesson: 09_wavenet
    """
    if int(layers) < 1 or int(stacks) < 1:
        raise ShapeError(f"A WaveNet needs at least one layer and one stack, not {layers} and {stacks}.")
    return tuple(2**i for i in range(int(layers))) * int(stacks)


def build_wavenet_model(
    vocab_size,
    embedding_dim=32,
    position_dim=8,
    channels=64,
    skip_channels=128,
    kernel_size=2,
    dilations=MELODY_DILATIONS,
    dropout=0.3,
    name="wavenet",
):
    """Build a WaveNet over tokens: tokens and positions in, a next-token distribution at every step out.

    Lesson: 09_wavenet

    The inputs and output are those of `lstm.build_melody_model`, so that every pipeline, score and step
    generator of lessons 05 and 06 serves it: "tokens" and "positions" (batch, steps), and (batch, steps,
    vocab_size) probabilities, where output step t is the distribution of the token at step t + 1.
    `position_dim=0` leaves the beat out (the positions input is then taken and ignored); a sound WaveNet, whose
    tokens are μ-law levels, is built that way.

    Layer names, read by `wavenet_weights`: token_embedding, beat_embedding, input_projection, then per block i
    (from 1) filter_i, gate_i, skip_i and (all but the last block) residual_i; output_conv and next_token.
    """
    import keras

    inputs, x = embed_melody_inputs(vocab_size, embedding_dim, position_dim)
    x = keras.layers.Conv1D(channels, 1, name="input_projection")(x)
    skips = []
    for i, dilation in enumerate(dilations, start=1):
        conv = {"kernel_size": kernel_size, "dilation_rate": dilation, "padding": "causal"}
        f = keras.layers.Conv1D(channels, activation="tanh", name=f"filter_{i}", **conv)(x)
        g = keras.layers.Conv1D(channels, activation="sigmoid", name=f"gate_{i}", **conv)(x)
        z = keras.layers.Multiply(name=f"gated_{i}")([f, g])
        skips.append(keras.layers.Conv1D(skip_channels, 1, name=f"skip_{i}")(z))
        if i < len(dilations):  # the last block's residual output would feed nothing
            x = keras.layers.Add(name=f"residual_sum_{i}")(
                [x, keras.layers.Conv1D(channels, 1, name=f"residual_{i}")(z)]
            )
    s = skips[0] if len(skips) == 1 else keras.layers.Add(name="skip_sum")(skips)
    s = keras.layers.Activation("relu", name="skip_relu")(s)
    s = keras.layers.Dropout(dropout, name="dropout")(s)
    s = keras.layers.Conv1D(skip_channels, 1, activation="relu", name="output_conv")(s)
    probabilities = keras.layers.Dense(vocab_size, activation="softmax", name="next_token")(s)
    return keras.Model(inputs, probabilities, name=name)


def wavenet_weights(model):
    """A trained WaveNet's weights as float32 numpy arrays, in Keras's layouts, for the numpy generators.

    Lesson: 09_wavenet

    Returns:
        {'token', 'beat': embedding tables (beat (48, 0) without the beat input); 'input', 'output', 'dense':
        (kernel, bias); 'blocks': [({'filter', 'gate', 'residual', 'skip'}: (kernel, bias), dilation)], the
        weights `convolution.wavenet_block` takes (the last block's residual is zeros: nothing reads it)}.
    """

    def weights(layer):
        return tuple(np.asarray(w, dtype=np.float32) for w in layer.get_weights())

    names = {layer.name for layer in model.layers}
    (token,) = weights(model.get_layer("token_embedding"))
    beat = weights(model.get_layer("beat_embedding"))[0] if "beat_embedding" in names else np.zeros((MAX_BAR_STEPS, 0))
    blocks = []
    i = 1
    while f"filter_{i}" in names:
        layer = model.get_layer(f"filter_{i}")
        block = {part: weights(model.get_layer(f"{part}_{i}")) for part in ("filter", "gate", "skip")}
        if f"residual_{i}" in names:
            block["residual"] = weights(model.get_layer(f"residual_{i}"))
        else:
            units, channels = block["filter"][0].shape[2], block["filter"][0].shape[1]
            block["residual"] = (np.zeros((1, units, channels), np.float32), np.zeros(channels, np.float32))
        blocks.append((block, int(layer.dilation_rate[0])))
        i += 1
    return {
        "token": token,
        "beat": beat.astype(np.float32),
        "input": weights(model.get_layer("input_projection")),
        "blocks": blocks,
        "output": weights(model.get_layer("output_conv")),
        "dense": weights(model.get_layer("next_token")),
    }


def wavenet_forward(weights, ids, positions):
    """Run a WaveNet over a whole sequence in numpy with lesson 03's equations: (steps, vocab_size) probabilities.

    Lesson: 09_wavenet

    Row t is the distribution of token t + 1, as the Keras model's output; `weights` is `wavenet_weights(model)`.
    """
    ids, positions = np.asarray(ids), np.asarray(positions)
    x = np.concatenate([weights["token"][ids], weights["beat"][positions]], axis=-1)
    x = conv1d(x, *weights["input"])
    skip_sum = 0.0
    for block, dilation in weights["blocks"]:
        x, skip = wavenet_block(x, block, dilation)
        skip_sum = skip_sum + skip
    hidden = relu(conv1d(relu(skip_sum), *weights["output"]))
    return softmax(dense(hidden, *weights["dense"]))


def wavenet_receptive_field(weights):
    """How many past steps (this one included) one output of the WaveNet sees: 1 + Σ (kernel − 1)·d.

    Lesson: 09_wavenet
    """
    kernel_sizes = [block["filter"][0].shape[0] for block, _ in weights["blocks"]]
    return receptive_field(kernel_sizes, dilations=[d for _, d in weights["blocks"]])


class NaiveWaveNetGenerator(RecomputingGenerator):
    """The naive way to generate: at every step, run the whole WaveNet over the last receptive field of steps.

    Lesson: 09_wavenet

    One step costs the network's work on receptive_field steps: with dilations 1 … 2^(L−1), 2^L steps through L
    blocks, doubling with every block added. A step generator of lesson 06: `step(token, position)` returns the
    distribution of the next token.
    """

    def __init__(self, model):
        self.weights = wavenet_weights(model)
        self.field = wavenet_receptive_field(self.weights)
        self.reset()

    def predict_last(self):
        window = slice(-self.field, None)
        return wavenet_forward(self.weights, self.ids[window], self.positions[window])[-1]


class CachedWaveNetGenerator:
    """The fast way (Paine et al. 2016): one queue of past inputs per block, one new column per block and step.

    Lesson: 09_wavenet

    Block i with dilation d and kernel K needs its inputs at steps t, t − d, …, t − (K − 1)·d. Every input it has
    seen is pushed on its queue, which keeps the last (K − 1)·d of them, so a step reads its taps from the queue
    instead of recomputing them: the cost of a step is the same few small products in every block, linear in the
    number of blocks. The queues start as zeros, which is what Keras's causal padding puts before the first step.

    Arranged so that a step does little: what each token and position adds through the input projection is a
    table row; each block's filter and gate kernels, all taps, are one matrix, and its residual and skip kernels
    another; the sigmoid is computed with the tanh, σ(z) = ½(1 + tanh(z / 2)), the halving folded into the gate's
    columns. The tests prove it equal to the Keras model, step by step.
    """

    def __init__(self, model):
        w = wavenet_weights(model)
        width = w["token"].shape[1]
        kernel, bias = w["input"]
        self.token_table = w["token"] @ kernel[0, :width] + bias  # (vocabulary, channels)
        self.beat_table = w["beat"] @ kernel[0, width:]  # (positions, channels)
        self.blocks = []
        for block, dilation in w["blocks"]:
            taps, channels, units = block["filter"][0].shape
            stacked = np.concatenate([block["filter"][0], 0.5 * block["gate"][0]], axis=2).reshape(taps * channels, -1)
            bias = np.concatenate([block["filter"][1], 0.5 * block["gate"][1]])
            out = np.concatenate([block["residual"][0][0], block["skip"][0][0]], axis=1)
            out_bias = np.concatenate([block["residual"][1], block["skip"][1]])
            self.blocks.append((stacked, bias, out, out_bias, taps, dilation, channels, units))
        self.output, self.dense = w["output"], w["dense"]
        self.reset()

    def reset(self):
        # Block b's queue keeps its last (taps − 1)·d inputs in a ring whose hand is `self.clock`; `inputs[b]` is the
        # block's taps side by side, [x_{t−(taps−1)d}, …, x_{t−d}, x_t], the vector its stacked kernel multiplies.
        self.queues = [np.zeros(((taps - 1) * d, c), np.float32) for _, _, _, _, taps, d, c, _ in self.blocks]
        self.inputs = [np.zeros(taps * c, np.float32) for _, _, _, _, taps, _, c, _ in self.blocks]
        self.clock = 0

    def prime(self, ids, positions):
        """Take these steps as the music so far: each is fed, since the queues are made of what the steps compute."""
        for token, position in zip(ids, positions):
            self.step(int(token), int(position))

    def step(self, token, position):
        x = self.token_table[token] + self.beat_table[position]
        skip_sum = 0.0
        for (stacked, bias, out, out_bias, taps, d, channels, units), queue, inputs in zip(
            self.blocks, self.queues, self.inputs
        ):
            size = len(queue)
            for k in range(taps - 1):  # tap k reads the input (taps − 1 − k)·d steps ago
                inputs[k * channels : (k + 1) * channels] = queue[(self.clock - (taps - 1 - k) * d) % size]
            inputs[-channels:] = x
            if size:
                queue[self.clock % size] = x
            fg = np.tanh(inputs @ stacked + bias)
            z = fg[:units] * (0.5 + 0.5 * fg[units:])  # tanh(f) ⊙ σ(g)
            o = z @ out + out_bias
            x = x + o[:channels]
            skip_sum = skip_sum + o[channels:]
        self.clock += 1
        hidden = np.maximum(np.maximum(skip_sum, 0.0) @ self.output[0][0] + self.output[1], 0.0)
        logits = hidden @ self.dense[0] + self.dense[1]
        return softmax(logits)


def input_gradient(model, steps, channels=1):
    """How much the last output step of a sequence model moves with each input step: |∂y_T/∂x_t| for t < steps.

    Lesson: 09_wavenet

    The gradient of the last output (summed over its channels) with respect to every input step, by
    `tf.GradientTape`, at an input of ones; the steps where it is not zero are the receptive field, measured.
    `model` takes (batch, steps, channels) and returns (batch, steps, ...). Returns a (steps,) array.
    """
    import tensorflow as tf

    x = tf.Variable(np.ones((1, steps, channels), np.float32))
    with tf.GradientTape() as tape:
        last = tf.reduce_sum(model(x)[0, -1])
    return np.abs(tape.gradient(last, x).numpy()[0]).sum(axis=1)


# --- WaveNet on sound -------------------------------------------------------------------------------------------


register_family(("wavenet", "sound_wavenet"), build_wavenet_model, CachedWaveNetGenerator, "09_wavenet")
