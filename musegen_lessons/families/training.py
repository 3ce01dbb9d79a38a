"""Training: the loop every model of the course trains with. Keras models train through `fit` (tf.data, early
stopping or fixed rounds of steps, checkpoints, a validation figure of one's own); the custom models whose step Keras
cannot take (lesson 11's GAN, with two optimisers taking turns; lesson 12's VAE, whose KL weight changes with the
step) through `train_in_steps`, one compiled step run again and again.

Lesson: 05_keras_model (`fit`); 11_gan, 12_vae (`train_in_steps`)
"""

import time

import numpy as np

from musegen_lessons.corpora.dataset import make_tf_dataset
from musegen_lessons.lesson import quiet_tensorflow

# keras (and so TensorFlow) is imported inside the functions that train: importing a family stays fast, so that
# the numpy parts of the lessons (and `musegen grade`) never wait for TensorFlow to load.
RUNNING_MEAN = 50  # training steps averaged in what `train_in_steps` reports


def train_melody_model(
    dataset,
    build,
    epochs,
    batch_size=64,
    learning_rate=2e-3,
    patience=3,
    checkpoint=None,
    verbose=2,
    seed=0,
    **architecture,
):
    """Train the lesson 05 model, or another melody model, on a dataset's windows, with early stopping on the
    validation loss.

    Lesson: 05_keras_model (lesson 09 trains its WaveNet with it too)

    Args:
        dataset: a `dataset.MelodyDataset`.
        build: the function that builds the model from the vocabulary size and `architecture`:
            `lstm.build_melody_model` or `wavenet.build_wavenet_model`.
        epochs: the most passes over the training windows; training stops earlier when the validation loss has
            not improved for `patience` epochs, and the best weights are kept.
        checkpoint: a .keras path where the best model so far is saved after every epoch, or None.
        architecture: passed to `build` (lstm_units, conv_filters, ... or channels, dilations, ...).

    Returns:
        (model, history as {metric: [value per epoch]}, training seconds).
    """
    quiet_tensorflow()
    import keras

    keras.utils.set_random_seed(seed)
    model = compile_melody_model(build(len(dataset.vocabulary), **architecture), learning_rate)
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


def train_in_steps(step, steps, first_step=0, report_every=0, describe=None):
    """Run a custom model's compiled training step `steps` times and keep what each returned.

    Lesson: 11_gan (lesson 12's VAE trains with it too)

    Args:
        step: a function of no arguments that takes one training step and returns its figures, {name: number}
            (the losses of that batch).
        first_step: how many steps the model had taken before (reports count from the model's first step).
        report_every: every this many steps, print the step and `describe(history)`, the text of a report line
            (`running_mean` smooths a figure); 0 prints nothing.

    Returns:
        {name: [the figure at every step]}, and 'seconds': the training time.
    """
    history, started = {}, time.perf_counter()
    for done in range(first_step + 1, first_step + steps + 1):
        for name, value in step().items():
            history.setdefault(name, []).append(float(value))
        if report_every and done % report_every == 0:
            print(f"step {done:>5}: {describe(history)}")
    history["seconds"] = time.perf_counter() - started
    return history


def running_mean(values, steps=RUNNING_MEAN):
    """The mean of the last `steps` values: a training figure with the noise of single batches smoothed out.

    Lesson: 11_gan
    """
    return float(np.mean(values[-steps:]))
