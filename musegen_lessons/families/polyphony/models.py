"""The frame models: an LSTM over past frames, with one sigmoid per key or an autoregressive (MADE) output
over the 88 keys; saving and safe loading.

Two ways to turn the network's summary h_t into the probability of each key sounding in the next frame:

- independent keys: p(x_t | h_t) = Π_k σ(w_k·h_t + b_k), one sigmoid per key, each deaf to the others. Where
  the model is unsure between two chords it blurs them, and sampling mixes their notes;
- autoregressive over keys: p(x_t | h_t) = Π_k p(x_t,k | x_t,<k, h_t), the chain rule, so that each key is
  chosen knowing the keys below it. A MADE head (Germain et al. 2015) computes all 88 conditionals in one pass
  with masked weights, so training with the true frame as input (teacher forcing) gives the exact likelihood.

Lesson: 08_polyphony
"""

import json
from pathlib import Path

import numpy as np

from musegen_lessons.errors import ChoiceError, ModelFileError
from musegen_lessons.families.polyphony.metric import EPSILON
from musegen_lessons.families.saving import read_keras_model
from musegen_lessons.lesson import quiet_tensorflow
from musegen_lessons.music.encoding import PIANO_KEYS

OUTPUTS = ("independent", "autoregressive")
BODIES = ("lstm", "tcn")
TCN_DILATIONS = (1, 2, 4, 8)  # with kernel 5, Bai et al.'s polyphonic-music TCN: 4 levels of 150 channels
MODEL_FILE, METRICS_FILE = "frames.keras", "metrics.json"


def made_masks(keys=PIANO_KEYS, hidden=256):
    """The three MADE masks for keys in order 0 (lowest) … keys − 1 (highest).

    Lesson: 08_polyphony

    Key k has degree k + 1, hidden unit j the degree m_j = 1 + j mod (keys − 1). A hidden unit may see key i
    when i + 1 ≤ m_j; key k's output may see hidden unit j when m_j < k + 1, and key i directly when i < k. So
    whatever path a signal takes, output k depends only on keys below k.

    Returns:
        (input → hidden (keys, hidden), hidden → output (hidden, keys), input → output (keys, keys)) as float32.
    """
    key_degree = np.arange(1, keys + 1)
    hidden_degree = 1 + np.arange(hidden) % (keys - 1)
    to_hidden = key_degree[:, None] <= hidden_degree[None, :]
    to_output = hidden_degree[:, None] < key_degree[None, :]
    direct = key_degree[:, None] < key_degree[None, :]
    return to_hidden.astype(np.float32), to_output.astype(np.float32), direct.astype(np.float32)


def keras_objects():
    """The masked layer and the loss, defined when Keras is first needed (importing the package must stay light).

    Lesson: 08_polyphony

    Returns:
        {'MaskedDense': the layer class, 'frame_nll_loss': the loss}, registered with Keras so that saved models
        that use them load in safe mode.
    """
    if keras_objects.cache:
        return keras_objects.cache
    quiet_tensorflow()
    import keras

    @keras.saving.register_keras_serializable(package="musegen_lessons")
    class MaskedDense(keras.layers.Dense):
        """A Dense layer whose kernel is multiplied by a fixed 0/1 mask: a MADE layer."""

        def __init__(self, units, mask_kind, made_hidden, **kwargs):
            super().__init__(units, **kwargs)
            self.mask_kind, self.made_hidden = mask_kind, made_hidden

        def build(self, input_shape):
            super().build(input_shape)
            masks = dict(zip(("to_hidden", "to_output", "direct"), made_masks(PIANO_KEYS, self.made_hidden)))
            self.mask = keras.ops.convert_to_tensor(masks[self.mask_kind])

        def call(self, inputs):
            outputs = keras.ops.matmul(inputs, self.kernel * self.mask)
            if self.use_bias:
                outputs = outputs + self.bias
            return self.activation(outputs) if self.activation is not None else outputs

        def get_config(self):
            return {**super().get_config(), "mask_kind": self.mask_kind, "made_hidden": self.made_hidden}

    @keras.saving.register_keras_serializable(package="musegen_lessons")
    def frame_nll_loss(frames, probabilities):
        """The frame NLL (nats) of every step; Keras then averages it over the steps, weighted."""
        p = keras.ops.clip(probabilities, EPSILON, 1 - EPSILON)
        return -keras.ops.sum(frames * keras.ops.log(p) + (1 - frames) * keras.ops.log(1 - p), axis=-1)

    keras_objects.cache.update(MaskedDense=MaskedDense, frame_nll_loss=frame_nll_loss)
    return keras_objects.cache


keras_objects.cache = {}


def build_frame_model(
    output="autoregressive",
    lstm_units=256,
    lstm_layers=1,
    made_hidden=256,
    input_dropout=0.2,
    dropout=0.3,
    skip=False,
    body="lstm",
    tcn_channels=150,
    kernel_size=5,
    dilations=TCN_DILATIONS,
):
    """An LSTM, or a TCN, over past frames, with an independent or an autoregressive (MADE) output over the 88 keys.

    Lesson: 08_polyphony (the TCN body: 09_wavenet)

    h_t is the body's output, or with `skip` the body's output and the frame it just read side by side (a
    shortcut for "this key sounded a moment ago", which the body would otherwise have to carry).

    `body="tcn"` replaces the LSTM with the temporal convolutional network of Bai et al. 2018 (section 3): blocks
    of two dilated causal convolutions (ReLU, dropout after each), `tcn_channels` filters of `kernel_size` taps,
    block i dilated by `dilations[i]`, added to the block's input (through a 1×1 convolution where the widths
    differ) and passed through a ReLU. It sees 1 + 2·(kernel_size − 1)·Σd frames back.

    Inputs: "previous", (batch, steps, 88), frames 0 … T − 2; for the autoregressive output also "current",
    (batch, steps, 88), frames 1 … T − 1, the frame being predicted (teacher forcing: the masks make sure
    key k only ever sees keys below it). Output: (batch, steps, 88), p(key sounds in frame t + 1).

    Independent:     p_k = σ(w_k · h_t + b_k)
    Autoregressive:  a   = relu(W_in^M x_t+1 + V h_t + c)           (hidden units, each seeing some lower keys)
                     p_k = σ(w_k · h_t + b_k + (W_out^M a)_k + (D^M x_t+1)_k)   (M: masked, see `made_masks`)

    Raises:
        ChoiceError: `output` is neither 'independent' nor 'autoregressive'.
    """
    if output not in OUTPUTS:
        raise ChoiceError(f"output must be 'independent' or 'autoregressive', not {output!r}")
    if body not in BODIES:
        raise ChoiceError(f"body must be 'lstm' or 'tcn', not {body!r}")
    quiet_tensorflow()
    import keras

    previous = keras.Input((None, PIANO_KEYS), name="previous")
    inputs = {"previous": previous}
    h = keras.layers.Dropout(input_dropout, name="input_dropout")(previous)
    if body == "tcn":
        for block, dilation in enumerate(dilations, start=1):
            inner = h
            for conv in (1, 2):
                inner = keras.layers.Conv1D(
                    tcn_channels,
                    kernel_size,
                    dilation_rate=dilation,
                    padding="causal",
                    activation="relu",
                    name=f"tcn_{block}_conv_{conv}",
                )(inner)
                inner = keras.layers.Dropout(dropout, name=f"tcn_{block}_dropout_{conv}")(inner)
            if h.shape[-1] != tcn_channels:
                h = keras.layers.Conv1D(tcn_channels, 1, name=f"tcn_{block}_downsample")(h)
            h = keras.layers.Add(name=f"tcn_{block}_sum")([h, inner])
            h = keras.layers.Activation("relu", name=f"tcn_{block}")(h)
    for layer in range(lstm_layers if body == "lstm" else 0):
        h = keras.layers.LSTM(lstm_units, return_sequences=True, name=f"lstm_{layer + 1}")(h)
        h = keras.layers.Dropout(dropout, name=f"dropout_{layer + 1}")(h)
    if skip:
        h = keras.layers.Concatenate(name="summary")([h, previous])
    else:
        h = keras.layers.Identity(name="summary")(h)
    logits = keras.layers.Dense(PIANO_KEYS, name="from_past")(h)
    if output == "autoregressive":
        masked = keras_objects()["MaskedDense"]
        current = inputs["current"] = keras.Input((None, PIANO_KEYS), name="current")
        hidden = keras.layers.Add(name="made_hidden_sum")(
            [
                masked(made_hidden, "to_hidden", made_hidden, name="made_in")(current),
                keras.layers.Dense(made_hidden, use_bias=False, name="made_from_past")(h),
            ]
        )
        hidden = keras.layers.Activation("relu", name="made_hidden")(hidden)
        logits = keras.layers.Add(name="logits")(
            [
                logits,
                masked(PIANO_KEYS, "to_output", made_hidden, use_bias=False, name="made_out")(hidden),
                masked(PIANO_KEYS, "direct", made_hidden, use_bias=False, name="made_direct")(current),
            ]
        )
    probabilities = keras.layers.Activation("sigmoid", name="p_key")(logits)
    return keras.Model(inputs, probabilities, name=f"{output}_frame_model")


def is_autoregressive(model):
    """True if the model has the MADE output (it takes the frame being predicted as a second input).

    Lesson: 08_polyphony
    """
    return "current" in model.input


def save_frame_model(model, metrics, directory):
    """Write a frame model (.keras) and its metrics (JSON) into a folder; return the folder.

    Lesson: 08_polyphony
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save(directory / MODEL_FILE)
    (directory / METRICS_FILE).write_text(json.dumps(metrics, indent=1) + "\n")
    return directory


def load_frame_model(directory):
    """Load a frame model saved by `save_frame_model` (Keras safe mode); return (model, metrics).

    Lesson: 08_polyphony

    Raises:
        ModelFileError: the folder or model is missing or damaged.
    """
    path = Path(directory) / MODEL_FILE
    if not path.is_file():
        raise ModelFileError(f"No frame model at '{path}': train one with `train_frame_model` and save it first.")
    keras_objects()
    model = read_keras_model(path, "Train it again with `train_frame_model` and save it with `save_frame_model`.")
    metrics_path = Path(directory) / METRICS_FILE
    return model, json.loads(metrics_path.read_text()) if metrics_path.is_file() else {}
