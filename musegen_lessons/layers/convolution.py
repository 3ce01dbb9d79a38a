"""The convolution in numpy: `keras.layers.Conv1D` (padding, stride and dilation, causal too), max pooling, the
output length and the receptive field of a stack, and WaveNet's gated residual block.

Each function is one equation of the lessons, written with numpy and nothing else, and equal (to float32 rounding)
to the Keras layer of the same name; the weights are laid out as Keras stores them, so `layer.get_weights()` can be
passed straight in. Importing it imports numpy only, never TensorFlow.

Lesson: 03_cnn_equation; 09_wavenet (dilation and the gated block)
"""

import math

import numpy as np

from musegen_lessons.errors import ShapeError
from musegen_lessons.layers.activations import sigmoid, tanh
from musegen_lessons.layers.shapes import (
    as_float,
    as_sequences,
    check_bias,
    check_padding,
    non_negative_int,
    positive_int,
)

PADDINGS = ("valid", "same", "causal")
POOL_PADDINGS = ("valid", "same")


# --- activation functions ------------------------------------------------------------------------------------------


# --- the convolution and pooling (lesson 03) -----------------------------------------------------------------------


def conv1d(x, kernel, bias, stride=1, padding="valid", dilation=1):
    """Slide a bank of filters along time: the 1-D convolution of `keras.layers.Conv1D`.

    Lesson: 03_cnn_equation

    Equation (a cross-correlation, as Keras computes it — the kernel is not flipped):
        y[t, f] = b_f + Σ_k Σ_c W[k, c, f] · x_pad[t·stride + k·dilation, c]

    for output step t, filter f, kernel tap k = 0 … kernel_size − 1 and input channel c (a piano key, or a token of
    the vocabulary). x_pad is x with zero steps added according to `padding`:

    - 'valid': no padding; an output step exists only where the whole kernel fits inside x.
    - 'same': TensorFlow's SAME rule. out_steps = ceil(steps / stride), and with the kernel's span
      (kernel_size − 1)·dilation + 1, pad_total = max((out_steps − 1)·stride + span − steps, 0) zero steps are added,
      pad_total // 2 before the start and the rest (one more, when pad_total is odd) after the end.
    - 'causal': (kernel_size − 1)·dilation zero steps before the start, none after, so y[t] depends only on
      x[0 … t] — the music so far, never the future.

    Keras refuses stride > 1 together with dilation > 1; the equation itself is well defined, and this function
    computes it.

    Args:
        x: (steps, in_channels) for one sequence, or (batch, steps, in_channels); e.g. a (steps, 88) piano roll.
        kernel: (kernel_size, in_channels, filters), Keras's layout (`layer.get_weights()[0]`).
        bias: (filters,), or None for a layer built with use_bias=False.
        stride: step between consecutive output positions (s above), a positive int.
        padding: 'valid', 'same' or 'causal'.
        dilation: spacing between kernel taps (d above), a positive int.

    Returns:
        (out_steps, filters), or (batch, out_steps, filters) for a batched x, where out_steps is
        `conv_output_steps(steps, kernel_size, stride, padding, dilation)`.

    Raises:
        ShapeError: if a shape does not fit (the kernel's in_channels differ from x's channels, the bias is not
            (filters,)), stride or dilation is not a positive int, or with 'valid' padding x is shorter than the
            kernel's span.
        ChoiceError: if padding is not 'valid', 'same' or 'causal'.

    Example:
        A 2-tap filter that subtracts the previous step from the current one marks where a key starts or stops:

        >>> roll = np.array([[0.0], [1.0], [1.0], [0.0]])  # one key, held for two steps
        >>> conv1d(roll, kernel=np.array([[[-1.0]], [[1.0]]]), bias=np.zeros(1))[:, 0]
        array([ 1.,  0., -1.])
    """
    x, batched = as_sequences(x, "x", "(steps, in_channels) or (batch, steps, in_channels)")
    kernel = as_float(kernel)
    if kernel.ndim != 3:
        raise ShapeError(
            f"kernel must have shape (kernel_size, in_channels, filters), Keras's Conv1D layout; got shape "
            f"{kernel.shape}."
        )
    kernel_size, in_channels, filters = kernel.shape
    if x.shape[-1] != in_channels:
        raise ShapeError(
            f"x has {x.shape[-1]} channels per step but the kernel expects {in_channels}: kernel must have shape "
            f"(kernel_size, {x.shape[-1]}, filters) for this x, got {kernel.shape}."
        )
    bias = check_bias(bias, filters, "(filters,)")
    stride = positive_int(stride, "stride")
    dilation = positive_int(dilation, "dilation")
    padding = check_padding(padding, PADDINGS)

    steps = x.shape[1]
    out_steps = conv_output_steps(steps, kernel_size, stride, padding, dilation)
    if out_steps == 0:
        span = (kernel_size - 1) * dilation + 1
        raise ShapeError(
            f"x has {steps} steps but the kernel spans {span} (kernel_size {kernel_size}, dilation {dilation}), so "
            "'valid' padding leaves no output step. Use a longer x, or padding='same' or 'causal'."
        )
    before, after = _padding_amounts(steps, kernel_size, stride, padding, dilation)
    x_pad = np.pad(x, ((0, 0), (before, after), (0, 0)))

    y = np.zeros((x.shape[0], out_steps, filters), dtype=np.result_type(x, kernel))
    for k in range(kernel_size):
        # x_pad[t·stride + k·dilation] for t = 0 … out_steps − 1: the inputs that tap k sees, all at once
        first = k * dilation
        x_k = x_pad[:, first : first + (out_steps - 1) * stride + 1 : stride, :]
        y += x_k @ kernel[k]  # Σ_c W[k, c, f] · x[…, c]
    y += bias
    return y if batched else y[0]


def gated_activation(filter_output, gate_output):
    """WaveNet's gated activation unit: a tanh "filter" let through by a sigmoid "gate".

    Lesson: 09_wavenet; van den Oord et al. 2016, "WaveNet", eq. 2

    Equation:
        z = tanh(W_f ∗ x) ⊙ σ(W_g ∗ x)

    Each unit's value lies in (−1, 1), scaled by how far its gate, between 0 and 1, is open.
    """
    return tanh(filter_output) * sigmoid(gate_output)


def wavenet_block(x, weights, dilation):
    """One residual block of WaveNet: two dilated causal convolutions, the gated activation, and two 1×1
    convolutions, one back to the input's channels (added to the input: the residual connection) and one out to the
    skip connection that the network sums over all its blocks.

    Lesson: 09_wavenet; van den Oord et al. 2016, "WaveNet",
    sections 2.3 and 2.4, figure 4

    Equation:
        f = W_f ∗_d x + b_f,   g = W_g ∗_d x + b_g       (causal, dilation d)
        z = tanh(f) ⊙ σ(g)
        residual = x + z W_r + b_r,   skip = z W_s + b_s  (1×1 convolutions)

    Args:
        x: (steps, channels) or (batch, steps, channels).
        weights: {'filter', 'gate', 'residual', 'skip'}: each (kernel, bias) in Keras's Conv1D layout; 'filter'
            and 'gate' kernels are (kernel_size, channels, units), 'residual' (1, units, channels), 'skip'
            (1, units, skip_channels).
        dilation: d, the spacing of the two dilated convolutions' taps.

    Returns:
        (residual, skip): (…, steps, channels) and (…, steps, skip_channels). Output step t depends on input steps
        t − (kernel_size − 1)·d … t only.
    """
    z = gated_activation(
        conv1d(x, *weights["filter"], padding="causal", dilation=dilation),
        conv1d(x, *weights["gate"], padding="causal", dilation=dilation),
    )
    return as_float(x) + conv1d(z, *weights["residual"]), conv1d(z, *weights["skip"])


def max_pool1d(x, pool_size=2, strides=None, padding="valid"):
    """Keep the largest value in each window of time, channel by channel: `keras.layers.MaxPooling1D`.

    Lesson: 03_cnn_equation

    Equation:
        y[t, c] = max_{k = 0 … pool_size − 1} x_pad[t·strides + k, c]

    'valid' keeps only whole windows; 'same' follows TensorFlow's SAME rule (as in `conv1d`, with span = pool_size)
    and pads with −∞, so a padded step never wins the max.

    Args:
        x: (steps, channels) or (batch, steps, channels).
        pool_size: the window length, a positive int.
        strides: step between windows; None means pool_size (windows side by side, as Keras's default).
        padding: 'valid' or 'same'.

    Returns:
        (out_steps, channels), or (batch, out_steps, channels) for a batched x.

    Raises:
        ShapeError: if x is not 2-D or 3-D, or with 'valid' padding x is shorter than one window.
        ChoiceError: if padding is not 'valid' or 'same'.

    Example:
        >>> max_pool1d(np.array([[1.0], [3.0], [2.0], [0.0], [5.0]]))[:, 0]
        array([3., 2.])
    """
    x, batched = as_sequences(x, "x", "(steps, channels) or (batch, steps, channels)")
    pool_size = positive_int(pool_size, "pool_size")
    strides = pool_size if strides is None else positive_int(strides, "strides")
    padding = check_padding(padding, POOL_PADDINGS)

    steps = x.shape[1]
    out_steps = conv_output_steps(steps, pool_size, strides, padding)
    if out_steps == 0:
        raise ShapeError(
            f"x has {steps} steps, fewer than one pooling window of {pool_size}, so 'valid' padding leaves no output "
            "step. Use a longer x or padding='same'."
        )
    before, after = _padding_amounts(steps, pool_size, strides, padding)
    x_pad = np.pad(x, ((0, 0), (before, after), (0, 0)), constant_values=-np.inf)

    y = np.full((x.shape[0], out_steps, x.shape[2]), -np.inf, dtype=x.dtype)
    for k in range(pool_size):
        y = np.maximum(y, x_pad[:, k : k + (out_steps - 1) * strides + 1 : strides, :])
    return y if batched else y[0]


def conv_output_steps(steps, kernel_size, stride=1, padding="valid", dilation=1):
    """Count the output steps of a Conv1D (or of a pooling layer, with kernel_size = pool_size).

    Lesson: 03_cnn_equation

    Equation, with the kernel's span K' = (kernel_size − 1)·dilation + 1 and s = stride:
        'valid':  floor((steps − K') / s) + 1   (0 when steps < K')
        'same':   ceil(steps / s)
        'causal': ceil(steps / s)               (the left padding of K' − 1 steps makes it the same count)

    Args:
        steps: number of input steps, e.g. 64 sixteenth notes.
        kernel_size, stride, dilation: positive ints, as in `conv1d`.
        padding: 'valid', 'same' or 'causal'.

    Returns:
        int, the number of output steps.

    Example:
        >>> conv_output_steps(64, kernel_size=3), conv_output_steps(64, 3, stride=2, padding="same")
        (62, 32)
    """
    steps = non_negative_int(steps, "steps")
    kernel_size = positive_int(kernel_size, "kernel_size")
    stride = positive_int(stride, "stride")
    dilation = positive_int(dilation, "dilation")
    padding = check_padding(padding, PADDINGS)
    if padding == "valid":
        span = (kernel_size - 1) * dilation + 1
        return 0 if steps < span else (steps - span) // stride + 1
    return math.ceil(steps / stride)


def receptive_field(kernel_sizes, strides=None, dilations=None):
    """Count the input steps that one output step of a stack of Conv1D / pooling layers can see.

    Lesson: 03_cnn_equation

    Equation, for layers l = 1 … L with kernel (or pool) size k_l, stride s_l and dilation d_l:
        r = 1 + Σ_l (k_l − 1) · d_l · Π_{j<l} s_j

    Each layer widens the view by (k_l − 1)·d_l of its own input steps, and one of its input steps is
    Π_{j<l} s_j steps of the original input, since every earlier stride spread the steps further apart.

    Args:
        kernel_sizes: sequence of kernel (or pool) sizes, first layer first.
        strides: sequence of strides, same length (None: all 1). A MaxPooling1D(2) layer is kernel 2, stride 2.
        dilations: sequence of dilation rates, same length (None: all 1).

    Returns:
        int, the receptive field in input steps.

    Raises:
        ShapeError: if the sequences have different lengths or hold a non-positive value.

    Example:
        Three causal convolutions of kernel 2 with dilations 1, 2, 4 (a small WaveNet) hear 8 sixteenth notes:

        >>> receptive_field([2, 2, 2], dilations=[1, 2, 4])
        8
    """
    kernel_sizes = [positive_int(k, "kernel size") for k in kernel_sizes]
    layers = len(kernel_sizes)
    strides = [1] * layers if strides is None else [positive_int(s, "stride") for s in strides]
    dilations = [1] * layers if dilations is None else [positive_int(d, "dilation") for d in dilations]
    if not len(strides) == len(dilations) == layers:
        raise ShapeError(
            f"kernel_sizes, strides and dilations must have one entry per layer; got {layers}, {len(strides)} and "
            f"{len(dilations)} entries."
        )
    field = 1
    jump = 1  # Π_{j<l} s_j: how many input steps apart two neighbouring steps of layer l's input are
    for k, s, d in zip(kernel_sizes, strides, dilations):
        field += (k - 1) * d * jump
        jump *= s
    return field


# --- the recurrences (lesson 04) -----------------------------------------------------------------------------------


# --- the other layers of the course's model ------------------------------------------------------------------------


# --- parameter counts ----------------------------------------------------------------------------------------------


def conv1d_params(kernel_size, in_channels, filters):
    """Count a Conv1D layer's weights: kernel_size · in_channels · filters + filters (one bias per filter).

    Lesson: 03_cnn_equation

    Example:
        >>> conv1d_params(3, 88, 32)  # a 3-step filter bank over the piano roll
        8480
    """
    return kernel_size * in_channels * filters + filters


# --- comparing with Keras ------------------------------------------------------------------------------------------


# --- helpers -------------------------------------------------------------------------------------------------------


def _padding_amounts(steps, kernel_size, stride, padding, dilation=1):
    """Zero steps (before, after) that `padding` adds to an input of `steps` steps."""
    span = (kernel_size - 1) * dilation + 1
    if padding == "causal":
        return span - 1, 0
    if padding == "same":
        total = max((math.ceil(steps / stride) - 1) * stride + span - steps, 0)
        return total // 2, total - total // 2
    return 0, 0
