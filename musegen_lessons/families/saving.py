"""Keeping a trained model: a melody model saved as a folder (.keras, its vocabulary, its metrics), loaded with
Keras's safe mode, which runs no code stored inside a file; and the kept models of `data/models/`.

Lesson: 05_keras_model (every later lesson loads its kept models through it)
"""

import json
from pathlib import Path

from musegen_lessons.errors import ModelFileError
from musegen_lessons.lesson import DATA_DIR, quiet_tensorflow
from musegen_lessons.music.encoding import Vocabulary

MODEL_FILE, VOCABULARY_FILE, METRICS_FILE = "melody.keras", "vocabulary.json", "metrics.json"
# The kept model: trained for the full budget by `musegen train` and kept in the course's data/ folder, so that
# every lesson after 05 can use a well-trained model without training one first.
KEPT_MODEL = DATA_DIR / "models" / "melody"
# Lesson 10's kept melody Transformer, pretrained on the folk songs and fine-tuned on the chorales, made the same way
# (`musegen train --architecture transformer`). `musegen compose --model` takes either name, or a folder.
KEPT_MODELS = {"lstm": KEPT_MODEL, "transformer": KEPT_MODEL.parent / "transformer"}


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

    from musegen_lessons.layers import relative_attention as relative_layer  # noqa: F401 (registers lesson 10's attention layer, which safe mode then accepts)

    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as error:  # a damaged zip, a truncated file or a foreign format all end here
        raise ModelFileError(
            f"'{path}' is not a readable Keras model ({type(error).__name__}: {error}). {advice}"
        ) from error
