"""What the build-and-train exercises share: a model judged by what it does, never by its text.

A build exercise returns a Keras model (it reaches the grader as a `.keras` file of Keras's own layers, loaded in
safe mode: `isolation`); its check runs it here, on inputs of its own: the shapes it gives, whether an output
moves when a *later* input changes (then it sees the future), and whether it trains on a task only the asked-for
design can learn. A training exercise gets a model from the check and hands it back trained; the check scores it on
data the student's code never saw.

Lesson: 00_welcome (how exercises are checked); used by the checks of lessons 05, 09 and 10
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
