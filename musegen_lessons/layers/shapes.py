"""What every numpy equation of `layers` checks of the arrays it is given, and how a lesson compares it with Keras.

Shapes follow the course's vocabulary: a sequence is (steps, channels) (a piano roll is (steps, 88), one-hot
tokens are (steps, vocab_size)) and a batch of sequences is (batch, steps, channels); every equation that takes a
sequence accepts either and returns the same kind. A shape that does not fit raises `ShapeError` with the shape
expected; `max_abs_difference` is the figure a lesson prints to show that an equation and a Keras layer agree.

Lesson: 03_cnn_equation, 04_rnn_equation
"""

import numpy as np

from musegen_lessons.errors import ChoiceError, ShapeError


def max_abs_difference(a, b):
    """Return the largest absolute difference between two arrays of the same shape, as a float.

    Lesson: 03_cnn_equation, 04_rnn_equation

    Equation:
        max_i |a_i − b_i|

    The lessons print it to show that a numpy equation and a Keras layer agree to float32 rounding (about 1e-6).

    Raises:
        ShapeError: if the shapes differ (broadcasting would hide a real mistake).

    Example:
        >>> max_abs_difference([1.0, 2.0], [1.0, 2.5])
        0.5
    """
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ShapeError(f"Both arrays must have the same shape to be compared; got {a.shape} and {b.shape}.")
    if a.size == 0:
        return 0.0
    return float(np.max(np.abs(a - b)))


def as_float(a):
    """An array of floats: float32 stays float32, float64 stays float64, ints and uint8 piano rolls become float."""
    a = np.asarray(a)
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.result_type(a.dtype, np.float32))


def as_sequences(x, name, expected):
    """Return x as a (batch, steps, channels) float array, and whether it came with a batch axis."""
    x = as_float(x)
    if x.ndim == 2:
        return x[None], False
    if x.ndim == 3:
        return x, True
    raise ShapeError(f"{name} must have shape {expected}; got shape {x.shape}.")


def check_bias(bias, size, expected):
    if bias is None:
        return np.zeros(size, dtype=np.float32)
    bias = as_float(bias)
    if bias.shape != (size,):
        raise ShapeError(f"bias must have shape {expected} = ({size},); got shape {bias.shape}.")
    return bias


def check_recurrent_weights(x, kernel, recurrent_kernel, bias, gates):
    """Check a recurrent layer's weights against x (…, steps, input_dim) and return them as float arrays."""
    kernel, recurrent_kernel = as_float(kernel), as_float(recurrent_kernel)
    width = "units" if gates == 1 else f"{gates}·units"
    if recurrent_kernel.ndim != 2 or recurrent_kernel.shape[1] != gates * recurrent_kernel.shape[0]:
        raise ShapeError(f"recurrent_kernel must have shape (units, {width}); got shape {recurrent_kernel.shape}.")
    units = recurrent_kernel.shape[0]
    input_dim = x.shape[-1]
    if kernel.shape != (input_dim, gates * units):
        raise ShapeError(
            f"kernel must have shape (input_dim, {width}) = ({input_dim}, {gates * units}) for this x and "
            f"recurrent_kernel; got shape {kernel.shape}."
        )
    return kernel, recurrent_kernel, check_bias(bias, gates * units, f"({width},)")


def initial_state(state, batch, units, name, batched):
    if state is None:
        return np.zeros((batch, units), dtype=np.float32)
    state = as_float(state)
    expected = (batch, units) if batched else (units,)
    if state.shape != expected:
        raise ShapeError(f"{name} must have shape {expected} for this x; got shape {state.shape}.")
    return state if batched else state[None]


def check_padding(padding, allowed):
    name = padding.lower() if isinstance(padding, str) else padding
    if name not in allowed:
        raise ChoiceError(f"padding must be one of {', '.join(map(repr, allowed))}; got {padding!r}.")
    return name


def positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ShapeError(f"{name} must be a positive whole number; got {value!r}.")
    return int(value)


def non_negative_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ShapeError(f"{name} must be a whole number of steps, 0 or more; got {value!r}.")
    return int(value)
