"""Training and scoring the frame models on whole chorales.

A frame model reads whole pieces, each frame predicting the next. Pieces differ in length, so a batch is padded
with silence and every padded step weighs 0 in the loss. Training goes through lesson 05's `training.fit`
(Keras's `fit`, early stopping, the best epoch kept) with two differences, both for the benchmark's sake: the
figure watched after every epoch is the benchmark's own frame NLL on the whole valid pieces, and the learning
rate halves when it stalls.

Lesson: 08_polyphony
"""

import numpy as np

from musegen_lessons.families.polyphony.metric import score_split
from musegen_lessons.families.polyphony.models import build_frame_model, is_autoregressive, keras_objects
from musegen_lessons.families.polyphony.sampler import FrameSampler
from musegen_lessons.families.training import fit
from musegen_lessons.lesson import quiet_tensorflow
from musegen_lessons.music.encoding import PIANO_KEYS
from musegen_lessons.music.frames import augment_pieces

PAD_MULTIPLE = 16  # padded to multiples of 16 steps, a model called batch by batch meets few shapes (each traced once)


def pad_pieces(pieces, multiple=PAD_MULTIPLE):
    """Pieces as one batch: (inputs, targets, weights), padded with silence to a multiple of `multiple` steps.

    Lesson: 08_polyphony

    inputs[i, t] is frame t of piece i and targets[i, t] its frame t + 1; weights is 1 where a target is real.
    """
    steps = max(len(p) for p in pieces) - 1
    steps = -(-steps // multiple) * multiple
    inputs = np.zeros((len(pieces), steps, PIANO_KEYS), np.float32)
    targets, weights = np.zeros_like(inputs), np.zeros((len(pieces), steps), np.float32)
    for row, piece in enumerate(pieces):
        inputs[row, : len(piece) - 1], targets[row, : len(piece) - 1] = piece[:-1], piece[1:]
        weights[row, : len(piece) - 1] = 1
    return inputs, targets, weights


def model_inputs(model, inputs, targets):
    """What a frame model is fed: the past frames, and for the MADE output also the frames it predicts.

    Lesson: 08_polyphony
    """
    return {"previous": inputs, "current": targets} if is_autoregressive(model) else {"previous": inputs}


def keras_predict(model, pieces, batch_size=64, decode=True):
    """`score_split`'s predict for a Keras frame model: probabilities with teacher forcing, predicted frames.

    Lesson: 08_polyphony

    For the independent model a key is predicted on when p > 0.5. For the autoregressive model the predicted
    frame is decoded key by key, lowest first, each key on when its p > 0.5 given the keys already decoded.
    `decode=False` skips that decoding (p > 0.5 with the true lower keys), for when only the NLL is needed.
    """
    results = []
    decoding = decode and is_autoregressive(model)
    if decoding:  # built once: the sampler copies the weights, the summary model wraps the LSTM
        import keras

        sampler = FrameSampler(model)
        summary = keras.Model(model.input["previous"], model.get_layer("summary").output)
    for start in range(0, len(pieces), batch_size):
        batch = pieces[start : start + batch_size]
        inputs, targets, _ = pad_pieces(batch)
        probabilities = np.asarray(model(model_inputs(model, inputs, targets), training=False))
        if decoding:
            predicted = sampler.decode(np.asarray(summary(inputs, training=False)), greedy=True)
        else:
            predicted = probabilities > 0.5
        results += [(probabilities[row, : len(p) - 1], predicted[row, : len(p) - 1]) for row, p in enumerate(batch)]
    return results


def piece_batches(model, pieces, batch_size, seed):
    """A tf.data pipeline of padded batches of whole pieces, in a new random order every epoch.

    Lesson: 08_polyphony

    Pieces of similar length share a batch, so little of each batch is padding. The weights of a batch are
    scaled to average 1, so that Keras's mean over all steps is the mean over the real ones.
    """
    import tensorflow as tf

    rng = np.random.default_rng(seed)
    frames = tf.TensorSpec((None, None, PIANO_KEYS), tf.float32)
    names = ("previous", "current") if is_autoregressive(model) else ("previous",)

    def batches():
        order = np.argsort([len(p) + rng.random() * 8 for p in pieces])
        groups = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        for index in rng.permutation(len(groups)):
            inputs, targets, weights = pad_pieces([pieces[i] for i in groups[index]])
            yield model_inputs(model, inputs, targets), targets, weights * weights.size / weights.sum()

    signature = ({name: frames for name in names}, frames, tf.TensorSpec((None, None), tf.float32))
    data = tf.data.Dataset.from_generator(batches, output_signature=signature)
    # A generator has no length of its own; saying it lets Keras count the steps of an epoch (and not warn at its end).
    count = -(-len(pieces) // batch_size)
    return data.apply(tf.data.experimental.assert_cardinality(count)).prefetch(2)


def train_frame_model(
    split,
    output="autoregressive",
    epochs=60,
    batch_size=8,
    learning_rate=2e-3,
    augment=(0,),
    patience=8,
    decay_patience=3,
    verbose=0,
    seed=0,
    **architecture,
):
    """Train a frame model on a split's training pieces; keep the weights that scored best on validation.

    Lesson: 08_polyphony

    Args:
        split: a `FrameSplit`.
        output: 'independent' or 'autoregressive'.
        epochs: the most passes over the training pieces.
        augment: transpositions of the training pieces in semitones, e.g. range(-3, 4); (0,) means none.
        patience: stop after this many epochs without a better validation NLL.
        decay_patience: halve the learning rate after this many epochs without one (and again after as many more).
        architecture: passed to `build_frame_model`.

    Returns:
        (model, history {'loss', 'val_nll', 'learning_rate'} per epoch, training seconds).
    """
    quiet_tensorflow()
    import keras

    keras.utils.set_random_seed(seed)
    model = build_frame_model(output, **architecture)
    loss = keras_objects()["frame_nll_loss"]
    model.compile(optimizer=keras.optimizers.Adam(learning_rate, clipnorm=5.0), loss=loss)
    train = piece_batches(model, augment_pieces(split.pieces["train"], augment), batch_size, seed)

    def validation_nll(model):
        return score_split(lambda pieces: keras_predict(model, pieces, decode=False), split.pieces["valid"])["nll"]

    return fit(
        model, train, epochs, patience, validation_nll=validation_nll, decay_patience=decay_patience, verbose=verbose
    )
