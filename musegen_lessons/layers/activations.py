"""The activation functions in numpy: sigmoid, tanh, softmax, ReLU and the identity, each written so that no input
overflows it.

Lesson: 03_cnn_equation, 04_rnn_equation
"""

import numpy as np

from musegen_lessons.errors import ChoiceError
from musegen_lessons.layers.shapes import as_float


def sigmoid(z):
    """The logistic sigmoid, squashing any number into (0, 1).

    Lesson: 04_rnn_equation

    Equation:
        σ(z) = 1 / (1 + e^(−z))

    It is computed as ½·(1 + tanh(z/2)), the same function written so that a large |z| never overflows.

    Args:
        z: a number or an array of any shape.

    Returns:
        array of the same shape as z, each value in (0, 1) (0 and 1 themselves after float rounding).

    Example:
        >>> sigmoid(np.array([0.0, 2.0])).round(4)
        array([0.5   , 0.8808])
    """
    z = as_float(z)
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def tanh(z):
    """The hyperbolic tangent, squashing any number into (−1, 1).

    Lesson: 04_rnn_equation

    Equation:
        tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z)) = 2·σ(2z) − 1

    Args:
        z: a number or an array of any shape.

    Returns:
        array of the same shape as z, each value in (−1, 1).

    Example:
        >>> tanh(np.array([0.0, 1.0])).round(4)
        array([0.    , 0.7616])
    """
    return np.tanh(as_float(z))


def softmax(z, axis=-1):
    """Turn scores (logits) into probabilities that are positive and sum to 1 along `axis`.

    Lesson: 03_cnn_equation, 04_rnn_equation

    Equation:
        softmax(z)_i = e^(z_i) / Σ_j e^(z_j)  =  e^(z_i − m) / Σ_j e^(z_j − m),  m = max_j z_j

    Subtracting the largest score m first changes nothing mathematically but keeps every e^(…) ≤ 1, so logits of
    1000 or more do not overflow.

    Args:
        z: array of scores, e.g. (vocab_size,) for one step or (steps, vocab_size) for a melody.
        axis: the axis that holds one distribution (the vocabulary).

    Returns:
        array of the same shape as z; the values along `axis` sum to 1.

    Example:
        >>> softmax(np.array([1.0, 1.0, 1.0, 1.0]))
        array([0.25, 0.25, 0.25, 0.25])
    """
    z = as_float(z)
    shifted = z - np.max(z, axis=axis, keepdims=True)
    exp = np.exp(shifted)
    return exp / np.sum(exp, axis=axis, keepdims=True)


def relu(z):
    """The rectified linear unit: max(0, z).

    Lesson: 03_cnn_equation

    Example:
        >>> relu(np.array([-1.0, 2.0]))
        array([0., 2.])
    """
    return np.maximum(as_float(z), 0.0)


def linear(z):
    """The identity activation ("no activation"): returns z unchanged, as a float array.

    Lesson: 03_cnn_equation
    """
    return as_float(z)


ACTIVATIONS = {"tanh": tanh, "sigmoid": sigmoid, "relu": relu, "linear": linear, None: linear}


def activation_function(activation):
    if callable(activation):
        return activation
    try:
        return ACTIVATIONS[activation]
    except (KeyError, TypeError):
        names = ", ".join(repr(name) for name in ACTIVATIONS if name is not None)
        raise ChoiceError(f"activation must be one of {names} or a function; got {activation!r}.") from None
