"""What the build-and-train exercises share: a model judged by what it does, never by its text.

A build exercise returns a Keras model (it reaches the grader as a `.keras` file of Keras's own layers, loaded in
safe mode: `isolation`); its check runs it here, on inputs of its own: the shapes it gives, whether an output
moves when a *later* input changes (then it sees the future), and whether it trains on a task only the asked-for
design can learn. A training exercise gets a model from the check and hands it back trained; the check scores it on
data the student's code never saw.

A training-step exercise gets small models and a batch from the check and hands back its losses and the models
after one step of plain gradient descent; the check takes the same step itself, on copies, and compares the losses
and the gradient each weight's move implies.

Lesson: 00_welcome (how exercises are checked); used by the checks of lessons 05 and 09 to 12
"""

import numpy as np

from musegen_lessons.course.checks import CheckFailed, call


def expect_model(fn, *args):
    """Call a student's model-building function and return the keras.Model it gives; fail on anything else."""
    import keras

    model = call(fn, *args)
    if not isinstance(model, keras.Model):
        raise CheckFailed(
            f"Return a keras.Model (keras.Sequential or keras.Model(inputs, outputs)), not {type(model).__name__}."
        )
    return model


def outputs_of(model, x):
    """The model's outputs on x as a list of numpy arrays (one for each output); a CheckFailed if it cannot run."""
    try:
        out = model(x)
    except Exception as error:
        raise CheckFailed(
            f"The model does not run on an input of shape {np.shape(x)}: {type(error).__name__}: {error}"
        ) from None
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


def changed_outputs(model, x, step):
    """For each output, the largest change at every step when the input at `step` changes: (outputs, steps) arrays."""
    before = outputs_of(model, x)
    changed = np.array(x, copy=True)
    if np.issubdtype(changed.dtype, np.integer):
        changed[:, step] = (changed[:, step] + 1) % (int(changed.max()) + 1)
    else:  # a random change: adding the same amount to every feature would vanish in a LayerNorm
        changed[:, step] += np.random.default_rng(step).normal(size=changed[:, step].shape).astype(changed.dtype)
    after = outputs_of(model, changed)
    return [np.abs(a - b).max(axis=tuple(i for i in range(a.ndim) if i != 1)) for a, b in zip(after, before)]


def expect_causal(model, x, step, what):
    """Fail when an output before `step` moves as the input at `step` changes: the model sees the future."""
    changes = changed_outputs(model, x, step)
    for output, change in enumerate(changes):
        leak = float(change[:step].max())
        if leak > 1e-5:
            which = f"output {output + 1}" if len(changes) > 1 else "the output"
            first = int(np.argmax(change[:step] > 1e-5))
            raise CheckFailed(
                f"Changing the input at step {step} changed {which} at step {first} (by {leak:.2g}): {what} sees the "
                "future. Use padding='causal' (a convolution) or use_causal_mask=True (attention)."
            )


def copy_model(model):
    """A model of the same layers with the same weights, that a student's code cannot reach."""
    import keras

    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    return copy


def expect_number(name, got, expected, hint, tolerance=1e-4):
    """Fail unless the student's `got` is a number within `tolerance` (relative, for large ones) of `expected`."""
    try:
        value = float(np.asarray(got))
    except (TypeError, ValueError):
        raise CheckFailed(f"Return the {name} as one number, not {type(got).__name__}.") from None
    if not abs(value - expected) <= tolerance * max(1.0, abs(expected)):
        raise CheckFailed(f"On the check's batch the {name} is {expected:.5f}; yours is {value:.5f}. {hint}")


def expect_step(what, before, after, gradients, learning_rate, hint):
    """Fail unless the model `after` is the weights `before` moved one step of plain gradient descent down
    `gradients` (w ← w − η g). The gradient the student's step implies, (before − after) / η, is compared with
    the loss's, weight by weight, so that a message can say which weight went wrong."""
    import keras

    if not isinstance(after, keras.Model):
        raise CheckFailed(f"Return the {what} after its update as a keras.Model, not {type(after).__name__}.")
    updated = after.get_weights()
    if [w.shape for w in updated] != [w.shape for w in before]:
        raise CheckFailed(f"Return the {what} you were given, updated: its weights have other shapes than those given.")
    largest = max(float(np.abs(g).max()) for g in gradients)
    moved = max(float(np.abs(b - a).max()) for b, a in zip(before, updated))
    if moved == 0.0:
        raise CheckFailed(f"Your step left the {what}'s weights as they were. {hint}")
    for index, (b, a, right) in enumerate(zip(before, updated, gradients)):
        implied = (b - a) / learning_rate
        difference = np.abs(implied - right)
        if difference.max() > 1e-3 * max(largest, 1e-6):
            where = tuple(int(i) for i in np.unravel_index(np.argmax(difference), difference.shape))
            raise CheckFailed(
                f"The {what}'s update is not one step down the gradient of its loss: at index {where} of its weight "
                f"{index} ({b.shape}) your step implies a gradient of {implied[where]:.5f}, the loss's is "
                f"{right[where]:.5f}. {hint}"
            )


def step_fragments(count=32):
    """A batch of `count` real one-bar fragments of the chorales' training split (token lists, every 37th) and the
    vocabulary: the data of the training-step checks."""
    from musegen_lessons.corpora.dataset import build_dataset
    from musegen_lessons.corpora.fragments import cut_fragments
    from musegen_lessons.corpora.melodies import load_melodies

    dataset = build_dataset(load_melodies("chorales", quick=False).pieces)
    return cut_fragments(dataset.pieces["train"], bars=1)[::37][:count], dataset.vocabulary


def fragment_writer(inputs, steps, tokens, activation):
    """A small network from a vector (noise, or a code) to a softmax over `tokens` at each of `steps` steps: the
    generator of the GAN step's check and the decoder of the VAE step's."""
    import keras

    return keras.Sequential(
        [
            keras.Input((inputs,)),
            keras.layers.Dense(32, activation=activation),
            keras.layers.Dense(steps * tokens),
            keras.layers.Reshape((steps, tokens)),
            keras.layers.Softmax(),
        ]
    )
