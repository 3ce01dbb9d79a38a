"""The LSTM family, lesson 05's melody model: token and beat embeddings, a causal convolution, LSTMs, and a softmax
at every step; and lesson 06's two ways to run it one step at a time.

It is lesson 03's starting-point CNN + RNN model with its faults fixed (section 7): tokens enter as learned vectors
rather than magnitudes, the convolution is causal so no step sees its future, nothing pools along time, and a
second input says where each step falls in the bar, so the model knows when a note is likely to end.

Step by step (lesson 06): `KerasStepGenerator` runs one step of the same network under `tf.function`, carrying the
convolution's last inputs and the LSTM states from step to step; `NumpyStepGenerator` runs it in plain numpy, with
lessons 03 and 04's own equations and the weights taken out of the trained model. It is the fastest, and the one
this family registers for the composer and `musegen compose`.

Lesson: 05_keras_model; 06_generation (the step generators)
"""

import numpy as np

from musegen_lessons.families.inputs import MAX_BAR_STEPS, embed_melody_inputs
from musegen_lessons.families.sampling import register_family
from musegen_lessons.lesson import quiet_tensorflow

MODEL_NAME = "melody_model"  # what its Keras models are named, and the name it registers under
EPOCHS = 14  # the full budget of `musegen train`: at about 19 s an epoch on 2 cores, under 5 minutes
LIVE_EPOCHS = 4  # what lesson 05 trains in front of the student: about two minutes on 2 cores


def build_melody_model(
    vocab_size,
    embedding_dim=32,
    position_dim=8,
    conv_filters=64,
    kernel_size=3,
    lstm_units=128,
    lstm_layers=2,
    dropout=0.2,
):
    """Build the lesson 05 model: tokens and positions in, a next-token distribution at every step out.

    Lesson: 05_keras_model

    Inputs: "tokens" (batch, steps) token ids and "positions" (batch, steps) steps into the bar. Output:
    (batch, steps, vocab_size) probabilities; output step t is the distribution of the token at step t + 1.

    `position_dim=0` leaves the beat out: the model still takes the positions, so that every pipeline and step
    generator serves it, but nothing in it uses them (lesson 05 measures what the beat input adds).
    """
    import keras

    inputs, x = embed_melody_inputs(vocab_size, embedding_dim, position_dim)
    x = keras.layers.Conv1D(conv_filters, kernel_size, padding="causal", activation="relu", name="causal_conv")(x)
    for layer in range(lstm_layers):
        x = keras.layers.LSTM(lstm_units, return_sequences=True, name=f"lstm_{layer + 1}")(x)
        x = keras.layers.Dropout(dropout, name=f"dropout_{layer + 1}")(x)
    probabilities = keras.layers.Dense(vocab_size, activation="softmax", name="next_token")(x)
    return keras.Model(inputs, probabilities, name=MODEL_NAME)


def melody_weights(model):
    """The trained melody model's weights by layer, as float32 numpy arrays, for the step generators.

    Lesson: 06_generation

    Returns:
        {'token', 'beat': embedding tables; 'conv', 'conv_bias': the causal convolution; 'lstms': [(kernel,
        recurrent_kernel, bias) per LSTM]; 'dense', 'dense_bias': the output layer}, in Keras's layouts.
    """

    def weights(name):
        return [np.asarray(w, dtype=np.float32) for w in model.get_layer(name).get_weights()]

    (token,) = weights("token_embedding")
    names = {layer.name for layer in model.layers}
    # a model without the beat input (position_dim=0) adds nothing for the position: an empty table
    (beat,) = weights("beat_embedding") if "beat_embedding" in names else [np.zeros((MAX_BAR_STEPS, 0), np.float32)]
    conv, conv_bias = weights("causal_conv")
    dense, dense_bias = weights("next_token")
    lstms = [weights(layer.name) for layer in model.layers if type(layer).__name__ == "LSTM"]
    return {
        "token": token,
        "beat": beat,
        "conv": conv,
        "conv_bias": conv_bias,
        "lstms": lstms,
        "dense": dense,
        "dense_bias": dense_bias,
    }


class NumpyStepGenerator:
    """One step of the trained melody model in plain numpy: the fastest way to generate.

    Lesson: 06_generation

    Lessons 03 and 04's equations with the trained weights, arranged so that a step does as little as it can:

    - the convolution is linear before its ReLU, so what each (token, position in the bar) adds through each
      kernel tap is worked out once, in a table: a step adds one row of it to the sums of the next kernel_size
      outputs, and takes the oldest sum, which is then complete;
    - each LSTM multiplies [x_t, h_{t−1}, 1] by its kernel, recurrent kernel and bias stacked into one matrix: one
      product instead of two and a sum. The sigmoid gates are computed with the same tanh as the candidate,
      σ(z) = ½(1 + tanh(z / 2)), the halving folded into their columns;
    - every array a step writes into is made once, in float32, and written in place.

    The tests prove it equal to the Keras model, step by step.
    """

    def __init__(self, model):
        w = melody_weights(model)
        width, taps = w["token"].shape[1], w["conv"].shape[0]
        token_taps = np.einsum("ve,kef->vkf", w["token"], w["conv"][:, :width])  # (vocabulary, taps, filters)
        beat_taps = np.einsum("pe,kef->pkf", w["beat"], w["conv"][:, width:])  # (positions, taps, filters)
        # table[token, position, j]: what this step's input adds to the output j steps from now (tap taps - 1 - j)
        self.conv_table = (token_taps[:, None] + beat_taps[None])[:, :, ::-1].copy()
        self.conv_bias = w["conv_bias"]
        self.lstms = []
        for kernel, recurrent_kernel, bias in w["lstms"]:
            units = recurrent_kernel.shape[0]
            stacked = np.vstack([kernel, recurrent_kernel, bias[None]])
            stacked[:, : 2 * units] *= 0.5  # i and f: tanh(z / 2) gives their sigmoids
            stacked[:, 3 * units :] *= 0.5  # o likewise; g (Keras's third block) stays tanh(z)
            self.lstms.append((np.ascontiguousarray(stacked), kernel.shape[0], units))
        self.dense = np.vstack([w["dense"], w["dense_bias"][None]])
        self.taps = taps
        self.reset()

    def reset(self):
        self.sums = np.tile(self.conv_bias, (self.taps, 1))  # the convolution's next outputs, before the ReLU
        self.layers = []
        for stacked, inputs, units in self.lstms:
            xh = np.zeros(inputs + units + 1, np.float32)  # [x_t, h_{t−1}, 1]
            xh[-1] = 1.0
            z = np.zeros(4 * units, np.float32)
            blocks = [z[k * units : (k + 1) * units] for k in range(4)]  # i, f, g, o
            self.layers.append(
                (
                    stacked,
                    xh,
                    z,
                    *blocks,
                    np.zeros(units, np.float32),
                    np.zeros(units, np.float32),
                    xh[inputs : inputs + units],
                )
            )
        self.logits = np.zeros(self.dense.shape[1], np.float32)

    def prime(self, ids, positions):
        """Take these steps as the music so far: each is fed, since the state is made of what the steps compute."""
        for token, position in zip(ids, positions):
            self.step(int(token), int(position))

    def step(self, token, position):
        """Feed one token at its position in the bar; return the distribution of the next token."""
        self.sums += self.conv_table[token, position]
        x = self.layers[0][1][: self.sums.shape[1]]
        np.maximum(self.sums[0], 0.0, out=x)  # the finished output of the convolution, after its ReLU
        self.sums[:-1] = self.sums[1:]
        self.sums[-1] = self.conv_bias
        for index, (stacked, xh, z, i, f, g, o, c, tanh_c, h) in enumerate(self.layers):
            if index:
                xh[: len(x)] = x  # the layer below's h_t is this layer's x_t
            np.matmul(xh, stacked, out=z)
            np.tanh(z, out=z)
            for gate in (i, f, o):
                gate *= 0.5
                gate += 0.5
            c *= f  # c_t = f ⊙ c_{t−1} + i ⊙ g
            np.multiply(i, g, out=g)
            c += g
            np.tanh(c, out=tanh_c)
            np.multiply(o, tanh_c, out=h)  # h_t = o ⊙ tanh(c_t), where the next step reads h_{t−1}
            x = h
        np.matmul(self.layers[-1][1][-len(x) - 1 :], self.dense, out=self.logits)
        self.logits -= self.logits.max()
        np.exp(self.logits, out=self.logits)
        return self.logits / self.logits.sum()


class KerasStepGenerator:
    """One step of the trained melody model in TensorFlow, compiled once with `tf.function`.

    Lesson: 06_generation
    """

    def __init__(self, model):
        quiet_tensorflow()
        import tensorflow as tf

        self._tf = tf
        weights = melody_weights(model)
        self.weights = {name: tf.constant(w) for name, w in weights.items() if name != "lstms"}
        self.weights["lstms"] = [[tf.constant(w) for w in layer] for layer in weights["lstms"]]
        self._kernel_size = weights["conv"].shape[0]
        self._step = tf.function(self._graph_step)
        self.reset()

    def reset(self):
        tf = self._tf
        self.buffer = tf.zeros((self._kernel_size, self.weights["conv"].shape[1]))
        self.states = [(tf.zeros((1, w[1].shape[0])), tf.zeros((1, w[1].shape[0]))) for w in self.weights["lstms"]]

    def _graph_step(self, token, position, buffer, states):
        tf, w = self._tf, self.weights
        x = tf.concat([tf.gather(w["token"], token), tf.gather(w["beat"], position)], axis=0)
        buffer = tf.concat([buffer[1:], x[None]], axis=0)
        h = tf.nn.relu(tf.einsum("kc,kcf->f", buffer, w["conv"]) + w["conv_bias"])[None]
        new_states = []
        for (kernel, recurrent_kernel, bias), (h_prev, c_prev) in zip(w["lstms"], states):
            z_i, z_f, z_g, z_o = tf.split(h @ kernel + h_prev @ recurrent_kernel + bias, 4, axis=-1)
            c = tf.sigmoid(z_f) * c_prev + tf.sigmoid(z_i) * tf.tanh(z_g)
            h = tf.sigmoid(z_o) * tf.tanh(c)
            new_states.append((h, c))
        return tf.nn.softmax(h @ w["dense"] + w["dense_bias"])[0], buffer, new_states

    def step(self, token, position):
        tf = self._tf
        probabilities, self.buffer, self.states = self._step(
            tf.constant(token, tf.int32), tf.constant(position, tf.int32), self.buffer, self.states
        )
        return probabilities.numpy()


register_family([MODEL_NAME], build_melody_model, NumpyStepGenerator, "05_keras_model")
