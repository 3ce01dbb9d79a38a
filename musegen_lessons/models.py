"""The melody model: token and beat embeddings, a causal convolution, LSTMs, and a softmax at every step.

It is lesson 03's starting-point CNN + RNN model with its faults fixed (section 7): tokens enter as learned vectors
rather than magnitudes, the convolution is causal so no step sees its future, nothing pools along time, and a
second input says where each step falls in the bar, so the model knows when a note is likely to end.

Lesson: 05_keras_model
"""

import json
from pathlib import Path

from .encoding import Vocabulary
from .errors import ModelFileError
from .lesson import quiet_tensorflow

# Positions in the bar 0 .. 47: a chorale's longest bar is 24 steps (3/2, 12/8); 48 leaves room for the folk
# songs' 3/1 and 6/2, though not for their 4/1 (64 steps), which `generate` refuses.
MAX_BAR_STEPS = 48
MODEL_FILE, VOCABULARY_FILE, METRICS_FILE = "melody.keras", "vocabulary.json", "metrics.json"
# The kept model: trained for the full budget by `musegen train` and kept in the course's data/ folder, so that
# every lesson after 05 can use a well-trained model without training one first.
KEPT_MODEL = Path(__file__).resolve().parents[1] / "data" / "models" / "melody"
# Lesson 10's kept melody Transformer, pretrained on the folk songs and fine-tuned on the chorales, made the same way
# (`musegen train --architecture transformer`). `musegen compose --model` takes either name, or a folder.
KEPT_MODELS = {"lstm": KEPT_MODEL, "transformer": KEPT_MODEL.parent / "transformer"}


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
    return keras.Model(inputs, probabilities, name="melody_model")


def embed_melody_inputs(vocab_size, embedding_dim, position_dim):
    """The two inputs of every melody model and what enters its first layer: each token's learned vector, beside
    (with `position_dim` > 0) its step's place in the bar as a learned vector too.

    Lesson: 05_keras_model (lesson 09's WaveNet takes the same inputs)

    Returns:
        ({"tokens", "positions"}: the Keras inputs, (batch, steps) ints; the embedded steps, (batch, steps, width)).
    """
    import keras

    tokens = keras.Input((None,), dtype="int32", name="tokens")
    positions = keras.Input((None,), dtype="int32", name="positions")
    x = keras.layers.Embedding(vocab_size, embedding_dim, name="token_embedding")(tokens)
    if position_dim:
        beat = keras.layers.Embedding(MAX_BAR_STEPS, position_dim, name="beat_embedding")(positions)
        x = keras.layers.Concatenate(name="token_and_beat")([x, beat])
    return {"tokens": tokens, "positions": positions}, x


def save_melody_model(model, vocabulary, metrics, directory):
    """Write the model (.keras), its vocabulary (JSON) and its metrics (JSON) into a folder; return the folder.

    Lesson: 05_keras_model
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save(directory / MODEL_FILE)
    vocabulary.save(directory / VOCABULARY_FILE)
    (directory / METRICS_FILE).write_text(json.dumps(metrics, indent=1) + "\n")
    return directory


def load_melody_model(directory=KEPT_MODEL):
    """Load a saved melody model with Keras's safe mode; return (model, vocabulary, metrics).

    Lesson: 05_keras_model

    Raises:
        ModelFileError: the folder, the model file or its vocabulary is missing or damaged.
    """
    directory = Path(directory)
    path = directory / MODEL_FILE
    if not path.is_file():
        raise ModelFileError(
            f"No model at '{path}'. Train one with `musegen train --out {directory}`, or use the kept model "
            f"in '{KEPT_MODEL}'."
        )
    model = read_keras_model(path, "It may be damaged or incomplete: train it again with `musegen train`.")
    try:
        vocabulary = Vocabulary.load(directory / VOCABULARY_FILE)
        metrics = json.loads((directory / METRICS_FILE).read_text()) if (directory / METRICS_FILE).is_file() else {}
    except (OSError, ValueError) as error:
        raise ModelFileError(f"The vocabulary or metrics beside '{path}' cannot be read: {error}") from error
    if model.output_shape[-1] != len(vocabulary):
        raise ModelFileError(
            f"The model in '{directory}' predicts {model.output_shape[-1]} tokens but its vocabulary has "
            f"{len(vocabulary)}: the two files do not belong together."
        )
    return model, vocabulary, metrics


def read_keras_model(path, advice):
    """Load a .keras file with Keras's safe mode, which refuses to run code stored inside a model file.

    Lesson: 05_keras_model (lesson 08's frame models are loaded the same way)

    Raises:
        ModelFileError: the file is damaged, truncated or not a Keras model; the message ends with `advice`.
    """
    quiet_tensorflow()
    import keras

    from . import relative_layer  # noqa: F401 (registers lesson 10's attention layer, which safe mode then accepts)

    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # a damaged zip, a truncated file or a foreign format all end here
        raise ModelFileError(
            f"'{path}' is not a readable Keras model ({type(error).__name__}: {error}). {advice}"
        ) from error
