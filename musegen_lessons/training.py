"""Training and measuring melody models: fit with tf.data and early stopping, score on held-out pieces.

Every model, neural or n-gram, is scored the same way: over whole held-out pieces, each token predicted from
all the tokens before it in its piece (the first token of a piece, which has no past, is not scored). Three
numbers: the mean negative log-likelihood per token in nats (lower is better), the next-token accuracy, and the
accuracy on note onsets, the steps whose true token is a pitch, since HOLD alone is about three tokens in four.

Lesson: 05_keras_model
"""

import time

import numpy as np

from .baselines import NGramModel, tune_ngram
from .dataset import make_tf_dataset, step_positions
from .encoding import SPECIAL_TOKENS
from .lesson import quiet_tensorflow

FIRST_PITCH_ID = len(SPECIAL_TOKENS)  # ids below this are REST and HOLD
EPOCHS = 14  # the full budget of `musegen train`: at about 19 s an epoch on 2 cores, under 5 minutes
LIVE_EPOCHS = 4  # what lesson 05 trains in front of the student: about two minutes on 2 cores


def next_token_scores(log_probs, targets):
    """Score predictions: {'nll', 'accuracy', 'onset_accuracy', 'tokens'} from (steps, V) log-probabilities.

    Lesson: 05_keras_model

    nll = −mean ln p(target); accuracy = share of steps whose most probable token is the target;
    onset_accuracy = the same, counted only where the target is a pitch.
    """
    log_probs, targets = np.asarray(log_probs), np.asarray(targets)
    chosen = log_probs[np.arange(len(targets)), targets]
    predicted = log_probs.argmax(axis=1)
    onsets = targets >= FIRST_PITCH_ID
    return {
        "nll": float(-chosen.mean()),
        "accuracy": float((predicted == targets).mean()),
        "onset_accuracy": float((predicted[onsets] == targets[onsets]).mean()) if onsets.any() else float("nan"),
        "tokens": int(len(targets)),
    }


def predict_pieces(model, pieces, vocabulary):
    """A melody model's next-token distributions over whole pieces: [array (len(piece) − 1, vocab_size)], where row t
    of a piece's array is the distribution of its token t + 1, given the tokens before it.

    Lesson: 05_keras_model

    The pieces go through the model as one padded batch, not one call each: the model is causal, so the padding
    after a piece's end cannot change its outputs, and the padded steps are cut away.
    """
    pieces = list(pieces)
    ids = [vocabulary.encode(piece.tokens) for piece in pieces]
    steps = max(len(i) for i in ids) - 1
    tokens, positions = np.zeros((len(pieces), steps), np.int32), np.zeros((len(pieces), steps), np.int32)
    for row, (piece, piece_ids) in enumerate(zip(pieces, ids)):
        tokens[row, : len(piece_ids) - 1] = piece_ids[:-1]
        positions[row, : len(piece_ids) - 1] = step_positions(piece)[:-1]
    probabilities = np.asarray(model({"tokens": tokens, "positions": positions}, training=False))
    return [probabilities[row, : len(i) - 1] for row, i in enumerate(ids)]


def evaluate_model(model, pieces, vocabulary):
    """Score a melody model on whole pieces (the first token of each is not scored). See `next_token_scores`.

    Lesson: 05_keras_model
    """
    pieces = list(pieces)
    log_probs = [np.log(np.maximum(p, 1e-12)) for p in predict_pieces(model, pieces, vocabulary)]
    targets = [vocabulary.encode(piece.tokens)[1:] for piece in pieces]
    return next_token_scores(np.concatenate(log_probs), np.concatenate(targets))


def evaluate_ngram(ngram, pieces, vocabulary):
    """Score an n-gram model on whole pieces, exactly as `evaluate_model` scores a network.

    Lesson: 05_keras_model
    """
    log_probs, targets = [], []
    for piece in pieces:
        ids = vocabulary.encode(piece.tokens)
        positions = step_positions(piece) if ngram.by_position else None
        log_probs.append(np.log(ngram.distributions(ids, positions)[1:]))
        targets.append(ids[1:])
    return next_token_scores(np.concatenate(log_probs), np.concatenate(targets))


def run_baselines(dataset, orders=(1, 2, 3, 4, 5), long_orders=(6, 8, 12, 16)):
    """Fit and tune the n-gram baselines on a dataset's splits; return one row per model for the results table.

    Lesson: 05_keras_model

    Orders 1 to 5 each get the smoothing (add-k, absolute discounting, Witten–Bell or Kneser–Ney) that does best on
    the validation split; the long-context model is the order from `long_orders` and the smoothing (Witten–Bell or
    Kneser–Ney) that do best there. The n-gram by position, which also knows where in the bar the next token falls,
    as the network does, is Witten–Bell with the order that does best.
    """
    vocabulary, size = dataset.vocabulary, len(dataset.vocabulary)
    encoded = {split: [vocabulary.encode(p.tokens) for p in pieces] for split, pieces in dataset.pieces.items()}
    rows = []
    for order in orders:
        model, _ = tune_ngram(order, encoded["train"], encoded["valid"], size)
        rows.append(_baseline_row(f"{order}-gram", model, dataset, vocabulary))
    long_smoothings = [("witten-bell", {})] + [("kneser-ney", {"discount": d}) for d in (0.5, 0.7, 0.9)]
    candidates = [
        tune_ngram(order, encoded["train"], encoded["valid"], size, long_smoothings)[0] for order in long_orders
    ]
    best = min(candidates, key=lambda m: m.nll(encoded["valid"]))
    rows.append(_baseline_row(f"long-context {best.order}-gram", best, dataset, vocabulary))
    positions = {split: [step_positions(p) for p in pieces] for split, pieces in dataset.pieces.items()}
    candidates = [
        NGramModel(order, size, by_position=True).fit(encoded["train"], positions["train"])
        for order in orders + tuple(long_orders)
    ]
    best = min(candidates, key=lambda m: m.nll(encoded["valid"], positions["valid"]))
    rows.append(_baseline_row(f"{best.order}-gram by position", best, dataset, vocabulary))
    return rows


def train_melody_model(
    dataset,
    epochs=EPOCHS,
    batch_size=64,
    learning_rate=2e-3,
    patience=3,
    checkpoint=None,
    verbose=2,
    seed=0,
    build=None,
    **architecture,
):
    """Train the lesson 05 model, or another melody model, on a dataset's windows, with early stopping on the
    validation loss.

    Lesson: 05_keras_model (lesson 09 trains its WaveNet with it too)

    Args:
        dataset: a `dataset.MelodyDataset`.
        epochs: the most passes over the training windows; training stops earlier when the validation loss has
            not improved for `patience` epochs, and the best weights are kept.
        checkpoint: a .keras path where the best model so far is saved after every epoch, or None.
        build: the function that builds the model from the vocabulary size and `architecture`:
            `models.build_melody_model` (None) or `wavenet.build_wavenet_model`.
        architecture: passed to `build` (lstm_units, conv_filters, ... or channels, dilations, ...).

    Returns:
        (model, history as {metric: [value per epoch]}, training seconds).
    """
    quiet_tensorflow()
    import keras

    from .models import build_melody_model

    keras.utils.set_random_seed(seed)
    model = compile_melody_model((build or build_melody_model)(len(dataset.vocabulary), **architecture), learning_rate)
    train = make_tf_dataset(*dataset.windows["train"], batch_size, True, seed, positions=dataset.positions["train"])
    valid = make_tf_dataset(*dataset.windows["valid"], 256, False, positions=dataset.positions["valid"])
    return fit(model, train, epochs, patience, validation_data=valid, checkpoint=checkpoint, verbose=verbose)


def compile_melody_model(model, learning_rate=2e-3):
    """Compile a melody model as every one of them trains: Adam, the cross-entropy of the next token, accuracy.

    Lesson: 05_keras_model

    Returns the model.
    """
    import keras

    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate),
        loss=keras.losses.SparseCategoricalCrossentropy(),
        metrics=[keras.metrics.SparseCategoricalAccuracy(name="accuracy")],
    )
    return model


def fit(
    model,
    train,
    epochs,
    patience,
    validation_data=None,
    validation_nll=None,
    decay_patience=None,
    checkpoint=None,
    verbose=2,
    steps_per_epoch=None,
):
    """Train a compiled Keras model with `model.fit`, watching a validation figure after every epoch.

    Lesson: 05_keras_model (lesson 08 trains its frame models with it too)

    Training stops once the validation figure has not improved for `patience` epochs (EarlyStopping), or after
    `epochs` epochs, and the model ends with the weights of its best epoch. Lower is better.

    Args:
        train: a tf.data pipeline of (inputs, targets) or (inputs, targets, weights) batches; it shuffles itself.
        validation_data: batches that Keras scores with the model's own loss: the figure is 'val_loss'.
        validation_nll: instead, a function model -> number, called after every epoch: the figure is 'val_nll'.
            Lesson 08 scores whole pieces with the benchmark's own metric this way.
        decay_patience: if given, halve the learning rate after this many epochs without a better figure (and
            again after as many more): smaller steps once progress stalls.
        checkpoint: a .keras path where the best model so far is saved after every epoch, or None.
        steps_per_epoch: None for an epoch of one pass over `train`; or the number of batches an epoch takes from
            a pipeline that repeats (lesson 10 trains in rounds of a fixed number of steps).

    Returns:
        (model, history as {metric: [value per epoch]}, training seconds).
    """
    import keras

    monitor = "val_loss" if validation_nll is None else "val_nll"
    callbacks = []
    if validation_nll is not None:
        callbacks.append(
            keras.callbacks.LambdaCallback(
                # first in the list, so that every callback after it, and the history, sees the figure
                on_epoch_end=lambda epoch, logs: logs.__setitem__("val_nll", float(validation_nll(model)))
            )
        )
    callbacks.append(keras.callbacks.EarlyStopping(monitor, patience=patience, mode="min", restore_best_weights=True))
    if decay_patience is not None:
        callbacks.append(
            keras.callbacks.ReduceLROnPlateau(monitor, factor=0.5, patience=decay_patience, mode="min", min_delta=0)
        )
    if checkpoint is not None:
        callbacks.append(keras.callbacks.ModelCheckpoint(str(checkpoint), monitor, mode="min", save_best_only=True))
    started = time.perf_counter()
    # shuffle=False: the tf.data pipeline already shuffles the training batches
    history = model.fit(
        train,
        validation_data=validation_data,
        epochs=epochs,
        callbacks=callbacks,
        verbose=verbose,
        shuffle=False,
        steps_per_epoch=steps_per_epoch,
    )
    return model, history.history, time.perf_counter() - started


def _baseline_row(name, model, dataset, vocabulary):
    return {
        "model": name,
        "smoothing": repr(model),
        "parameters": _ngram_size(model),
        "valid": evaluate_ngram(model, dataset.pieces["valid"], vocabulary),
        "test": evaluate_ngram(model, dataset.pieces["test"], vocabulary),
    }


def _ngram_size(model):
    """The number of stored counts: the n-gram's equivalent of a parameter count."""
    return int(sum(len(counter) for table in model.counts for counter in table.values()))


def training_throughput(model, dataset, batches=20, batch_size=64, warmup=3):
    """Tokens per second that a compiled melody model trains on: `batches` training steps on the same windows.

    Lesson: 09_wavenet (the WaveNet against the lesson 05 LSTM)

    Each step is one `train_on_batch` of `batch_size` windows of the training split; `warmup` steps come first,
    untimed, so that tracing the step is not counted. A token is one step of one window: every one of them is
    predicted and its gradient computed in every training step.
    """
    inputs, targets = dataset.windows["train"]
    positions = dataset.positions["train"]
    rng = np.random.default_rng(0)
    chosen = [rng.choice(len(inputs), batch_size, replace=False) for _ in range(warmup + batches)]
    started = None
    for step, rows in enumerate(chosen):
        if step == warmup:
            started = time.perf_counter()
        model.train_on_batch({"tokens": inputs[rows], "positions": positions[rows]}, targets[rows])
    return batches * batch_size * inputs.shape[1] / (time.perf_counter() - started)
