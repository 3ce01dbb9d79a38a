"""One formula for the lesson and for training: the losses and the KL of the custom models (lessons 11 and 12) are
written once, in `keras.ops`, so that the training step runs on its tensors the very function that the lesson calls
on numpy arrays, and that the tests check.

A formula takes its inputs through `formula_inputs` and gives its result through `formula_result`: numbers and numpy
arrays go in as float64 tensors and come back as numpy (a numpy float for a single number), at the precision numpy
would compute in; tensors, in a training step, stay tensors, so that the gradient passes through.

Lesson: 11_gan, 12_vae
"""

import sys

import numpy as np

from musegen_lessons.lesson import quiet_tensorflow


def keras_ops():
    """`keras.ops`, with Keras (and so TensorFlow) imported, quietly, the first time it is asked for.

    Lesson: 11_gan
    """
    if "keras" not in sys.modules:  # only the first time: a training step's graph then never sees the set-up
        quiet_tensorflow()
    import keras  # here, not at the top: importing a formula's module must not wait for TensorFlow

    return keras.ops


def formula_inputs(*arrays):
    """(keras.ops, the arrays as tensors, whether they came as numpy): numbers and numpy arrays become float64 tensors;
    if any input is a tensor already (a training step's), all are taken as they are.

    Lesson: 11_gan
    """
    ops = keras_ops()
    if any(ops.is_tensor(a) for a in arrays):
        return ops, arrays, False
    return ops, [ops.convert_to_tensor(np.asarray(a, dtype=np.float64)) for a in arrays], True


def formula_result(ops, result, given_numpy):
    """A formula's result as its inputs came: numpy (a numpy float for a single number) for numpy inputs, else the
    tensor.

    Lesson: 11_gan
    """
    if not given_numpy:
        return result
    result = ops.convert_to_numpy(result)
    return result[()] if result.ndim == 0 else result
