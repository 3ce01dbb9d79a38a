"""The equations of the layers in plain numpy: the versions that lessons 03 and 04 build in front of the student.

Each function here is one equation from the lessons, written with numpy and nothing else, and equal (to float32
rounding) to the Keras layer of the same name: `conv1d` is `keras.layers.Conv1D`, `max_pool1d` is
`keras.layers.MaxPooling1D`, `simple_rnn` is `keras.layers.SimpleRNN`, `lstm` is `keras.layers.LSTM`, `dense` is
`keras.layers.Dense` and `embedding` is `keras.layers.Embedding`; `softmax_cross_entropy` is the loss they are all
trained with, and `softmax_cross_entropy_gradient` its gradient; `wavenet_block` is WaveNet's residual block, made
of Keras `Conv1D` layers (dilated and causal, then 1×1) and its gated activation. The weights are laid out as Keras
stores them, so `layer.get_weights()` can be passed straight in.

Shapes follow the course's vocabulary: a sequence is (steps, channels) — a piano roll is (steps, 88), one-hot
tokens are (steps, vocab_size) — and a batch of sequences is (batch, steps, channels). Every function that takes
a sequence accepts either and returns the same kind.

Importing this module imports numpy only, never TensorFlow.

Lesson: 03_cnn_equation, 04_rnn_equation
"""

import math

import numpy as np

from .errors import ChoiceError, ShapeError

PADDINGS = ("valid", "same", "causal")
POOL_PADDINGS = ("valid", "same")


# --- activation functions ------------------------------------------------------------------------------------------


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
    z = _as_float(z)
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
    return np.tanh(_as_float(z))


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
    z = _as_float(z)
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
    return np.maximum(_as_float(z), 0.0)


def linear(z):
    """The identity activation ("no activation"): returns z unchanged, as a float array.

    Lesson: 03_cnn_equation
    """
    return _as_float(z)


ACTIVATIONS = {"tanh": tanh, "sigmoid": sigmoid, "relu": relu, "linear": linear, None: linear}


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
    x, batched = _as_sequences(x, "x", "(steps, in_channels) or (batch, steps, in_channels)")
    kernel = _as_float(kernel)
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
    bias = _check_bias(bias, filters, "(filters,)")
    stride = _positive_int(stride, "stride")
    dilation = _positive_int(dilation, "dilation")
    padding = _check_padding(padding, PADDINGS)

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

    Lesson: 09, dilated causal convolutions (issue 17, not written yet); van den Oord et al. 2016, "WaveNet", eq. 2

    Equation:
        z = tanh(W_f ∗ x) ⊙ σ(W_g ∗ x)

    Each unit's value lies in (−1, 1), scaled by how far its gate, between 0 and 1, is open.
    """
    return tanh(filter_output) * sigmoid(gate_output)


def wavenet_block(x, weights, dilation):
    """One residual block of WaveNet: two dilated causal convolutions, the gated activation, and two 1×1
    convolutions, one back to the input's channels (added to the input: the residual connection) and one out to the
    skip connection that the network sums over all its blocks.

    Lesson: 09, dilated causal convolutions (issue 17, not written yet); van den Oord et al. 2016, "WaveNet",
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
    return _as_float(x) + conv1d(z, *weights["residual"]), conv1d(z, *weights["skip"])


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
    x, batched = _as_sequences(x, "x", "(steps, channels) or (batch, steps, channels)")
    pool_size = _positive_int(pool_size, "pool_size")
    strides = pool_size if strides is None else _positive_int(strides, "strides")
    padding = _check_padding(padding, POOL_PADDINGS)

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
    steps = _non_negative_int(steps, "steps")
    kernel_size = _positive_int(kernel_size, "kernel_size")
    stride = _positive_int(stride, "stride")
    dilation = _positive_int(dilation, "dilation")
    padding = _check_padding(padding, PADDINGS)
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
    kernel_sizes = [_positive_int(k, "kernel size") for k in kernel_sizes]
    layers = len(kernel_sizes)
    strides = [1] * layers if strides is None else [_positive_int(s, "stride") for s in strides]
    dilations = [1] * layers if dilations is None else [_positive_int(d, "dilation") for d in dilations]
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


def simple_rnn(x, kernel, recurrent_kernel, bias, activation="tanh", h0=None, return_sequences=True):
    """Read a sequence one step at a time, carrying a hidden state: `keras.layers.SimpleRNN`.

    Lesson: 04_rnn_equation

    Equation, for t = 1 … steps, with h_0 = 0 unless given:
        h_t = σ(x_t · W_x + h_{t−1} · W_h + b)

    where W_x is Keras's `kernel`, W_h its `recurrent_kernel` and σ the activation (tanh by default). The row
    vector x_t multiplies from the left, as in Keras: W_x maps an input step to the hidden units.

    Args:
        x: (steps, input_dim) or (batch, steps, input_dim), e.g. one-hot melody tokens.
        kernel: W_x, (input_dim, units).
        recurrent_kernel: W_h, (units, units).
        bias: b, (units,), or None for use_bias=False.
        activation: 'tanh', 'sigmoid', 'relu', 'linear', or a function of one array.
        h0: the initial hidden state, (units,) or (batch, units); None means zeros.
        return_sequences: True returns every h_t, False only the last.

    Returns:
        (steps, units) — or (units,) with return_sequences=False — with a leading batch axis for a batched x.

    Raises:
        ShapeError: if a shape does not fit.
        ChoiceError: if the activation is unknown.

    Example:
        >>> x = np.array([[1.0], [0.0]])  # one input, two steps
        >>> simple_rnn(x, kernel=[[1.0]], recurrent_kernel=[[1.0]], bias=[0.0]).round(4)
        array([[0.7616],
               [0.642 ]])
    """
    x, batched = _as_sequences(x, "x", "(steps, input_dim) or (batch, steps, input_dim)")
    kernel, recurrent_kernel, bias = _check_recurrent_weights(x, kernel, recurrent_kernel, bias, gates=1)
    sigma = _activation(activation)
    units = recurrent_kernel.shape[0]
    h = _initial_state(h0, x.shape[0], units, "h0", batched)

    states = []
    for t in range(x.shape[1]):
        h = sigma(x[:, t] @ kernel + bias + h @ recurrent_kernel)  # Keras's order of the sums, for equal rounding
        states.append(h)
    if not states:
        raise ShapeError("x has no steps: a recurrent layer needs at least one step to read.")
    y = np.stack(states, axis=1) if return_sequences else states[-1]
    return y if batched else y[0]


def lstm_step(x_t, h_prev, c_prev, kernel, recurrent_kernel, bias):
    """One step of a Long Short-Term Memory cell, exactly as `keras.layers.LSTM` computes it.

    Lesson: 04_rnn_equation

    Equations, with U = `recurrent_kernel` and Keras's gate order i, f, g, o along the last axis of the weights:
        z = x_t · W + h_{t−1} · U + b,   split in 4 equal parts z_i, z_f, z_g, z_o
        i = σ(z_i)                 input gate: how much of the candidate to write
        f = σ(z_f)                 forget gate: how much of the old cell to keep
        g = tanh(z_g)              candidate: what could be written
        o = σ(z_o)                 output gate: how much of the cell to show
        c_t = f ⊙ c_{t−1} + i ⊙ g  the cell state, the long memory
        h_t = o ⊙ tanh(c_t)        the hidden state, the output

    σ is the sigmoid (Keras's default recurrent_activation) and ⊙ the element-wise product.

    Args:
        x_t: one input step, (input_dim,) or (batch, input_dim).
        h_prev: h_{t−1}, (units,) or (batch, units).
        c_prev: c_{t−1}, (units,) or (batch, units).
        kernel: W, (input_dim, 4·units).
        recurrent_kernel: U, (units, 4·units).
        bias: b, (4·units,), or None for use_bias=False.

    Returns:
        (h_t, c_t), each (units,) or (batch, units) like h_prev.

    Raises:
        ShapeError: if a shape does not fit.

    Example:
        With every weight zero, all gates are σ(0) = ½ and the candidate is 0, so the cell keeps half its memory:

        >>> h, c = lstm_step(np.zeros(1), np.zeros(1), np.ones(1), np.zeros((1, 4)), np.zeros((1, 4)), np.zeros(4))
        >>> c, h.round(4)
        (array([0.5]), array([0.2311]))
    """
    x_t = _as_float(x_t)
    if x_t.ndim not in (1, 2):
        raise ShapeError(f"x_t must have shape (input_dim,) or (batch, input_dim); got shape {x_t.shape}.")
    one_step = x_t[..., None, :]  # (…, 1, input_dim): x_t as a sequence of one step, for the shape check
    kernel, recurrent_kernel, bias = _check_recurrent_weights(one_step, kernel, recurrent_kernel, bias, gates=4)
    units = recurrent_kernel.shape[0]
    h_prev, c_prev = _as_float(h_prev), _as_float(c_prev)
    for name, state in (("h_prev", h_prev), ("c_prev", c_prev)):
        if state.shape != x_t.shape[:-1] + (units,):
            raise ShapeError(f"{name} must have shape {x_t.shape[:-1] + (units,)} for this x_t; got {state.shape}.")

    z = x_t @ kernel + h_prev @ recurrent_kernel + bias
    z_i, z_f, z_g, z_o = np.split(z, 4, axis=-1)
    i = sigmoid(z_i)
    f = sigmoid(z_f)
    g = tanh(z_g)
    o = sigmoid(z_o)
    c = f * c_prev + i * g
    h = o * tanh(c)
    return h, c


def lstm(x, kernel, recurrent_kernel, bias, h0=None, c0=None, return_sequences=True):
    """Run `lstm_step` along a whole sequence: `keras.layers.LSTM`.

    Lesson: 04_rnn_equation

    Equation:
        (h_t, c_t) = lstm_step(x_t, h_{t−1}, c_{t−1}) for t = 1 … steps, with h_0 = c_0 = 0 unless given.

    Args:
        x: (steps, input_dim) or (batch, steps, input_dim).
        kernel: W, (input_dim, 4·units), gates in Keras's order i, f, g, o.
        recurrent_kernel: U, (units, 4·units).
        bias: b, (4·units,), or None.
        h0, c0: initial states, (units,) or (batch, units); None means zeros.
        return_sequences: True returns every h_t, False only the last.

    Returns:
        (steps, units) — or (units,) with return_sequences=False — with a leading batch axis for a batched x.

    Raises:
        ShapeError: if a shape does not fit.
    """
    x, batched = _as_sequences(x, "x", "(steps, input_dim) or (batch, steps, input_dim)")
    kernel, recurrent_kernel, bias = _check_recurrent_weights(x, kernel, recurrent_kernel, bias, gates=4)
    units = recurrent_kernel.shape[0]
    h = _initial_state(h0, x.shape[0], units, "h0", batched)
    c = _initial_state(c0, x.shape[0], units, "c0", batched)

    states = []
    for t in range(x.shape[1]):
        h, c = lstm_step(x[:, t], h, c, kernel, recurrent_kernel, bias)
        states.append(h)
    if not states:
        raise ShapeError("x has no steps: a recurrent layer needs at least one step to read.")
    y = np.stack(states, axis=1) if return_sequences else states[-1]
    return y if batched else y[0]


# --- the other layers of the course's model ------------------------------------------------------------------------


def dense(x, kernel, bias):
    """A fully connected layer, applied to the last axis: `keras.layers.Dense` (without its activation).

    Lesson: 03_cnn_equation, 04_rnn_equation

    Equation:
        y = x · W + b,   i.e. y[…, u] = b_u + Σ_i x[…, i] · W[i, u]

    Args:
        x: (..., input_dim), e.g. (steps, units) hidden states.
        kernel: W, (input_dim, units).
        bias: b, (units,), or None.

    Returns:
        (..., units); pass it to `softmax` to get next-token probabilities.

    Raises:
        ShapeError: if a shape does not fit.

    Example:
        >>> dense(np.array([1.0, 2.0]), kernel=np.array([[1.0], [1.0]]), bias=np.array([0.5]))
        array([3.5])
    """
    x, kernel = _as_float(x), _as_float(kernel)
    if kernel.ndim != 2:
        raise ShapeError(f"kernel must have shape (input_dim, units); got shape {kernel.shape}.")
    if x.ndim < 1 or x.shape[-1] != kernel.shape[0]:
        raise ShapeError(
            f"x must have shape (..., {kernel.shape[0]}) to meet a kernel of shape {kernel.shape}; got {x.shape}."
        )
    return x @ kernel + _check_bias(bias, kernel.shape[1], "(units,)")


def softmax_cross_entropy(logits, targets):
    """The loss every model of the course minimises: the mean cross-entropy of softmax(logits) against target ids.

    Lesson: 03_cnn_equation

    Equation:
        L = −(1/N) Σ_n ln p[n, y_n],   p = softmax(z)

    Equal to `keras.losses.SparseCategoricalCrossentropy(from_logits=True)`. Computed as the log-sum-exp of the
    logits minus the target's logit, so that large logits do not overflow.

    Args:
        logits: z, (N, vocab_size) scores, one row per prediction.
        targets: y, (N,) token numbers.

    Returns:
        a float, in nats: ln(vocab_size) for a model that knows nothing.
    """
    logits, targets = _as_logits_and_targets(logits, targets)
    top = logits.max(axis=1, keepdims=True)
    log_sum = np.log(np.exp(logits - top).sum(axis=1)) + top[:, 0]
    return float(np.mean(log_sum - logits[np.arange(len(targets)), targets]))


def softmax_cross_entropy_gradient(logits, targets):
    """The gradient of `softmax_cross_entropy` with respect to the logits: the famous p − y.

    Lesson: 03_cnn_equation

    Equation:
        ∂L/∂z[n, k] = (p[n, k] − y[n, k]) / N,   y the one-hot of the targets

    Raising the target's score lowers the loss, by as much as the model is still unsure (1 − p); raising any other
    score raises it, by that score's probability.

    Args:
        logits: z, (N, vocab_size).
        targets: y, (N,) token numbers.

    Returns:
        (N, vocab_size), what `tf.GradientTape` gives for the mean loss.
    """
    logits, targets = _as_logits_and_targets(logits, targets)
    gradient = softmax(logits, axis=1)
    gradient[np.arange(len(targets)), targets] -= 1.0
    return gradient / len(targets)


def _as_logits_and_targets(logits, targets):
    logits, targets = _as_float(logits), np.asarray(targets)
    if logits.ndim != 2 or targets.shape != (logits.shape[0],):
        raise ShapeError(
            f"logits must be (N, vocab_size) and targets (N,); got shapes {logits.shape} and {targets.shape}."
        )
    if targets.size and (targets.min() < 0 or targets.max() >= logits.shape[1]):
        raise ShapeError(f"targets must be token numbers from 0 to {logits.shape[1] - 1}.")
    return logits, targets.astype(int)


def embedding(ids, table):
    """Look up one learned vector per token number: `keras.layers.Embedding`.

    Lesson: 04_rnn_equation

    Equation:
        y[t] = E[ids[t]]   — row ids[t] of the table E, the same as one_hot(ids) · E

    Args:
        ids: int token numbers, any shape, e.g. (steps,) or (batch, steps).
        table: E, (vocab_size, dim).

    Returns:
        ids.shape + (dim,).

    Raises:
        ShapeError: if the table is not 2-D, or a token number lies outside 0 … vocab_size − 1.

    Example:
        >>> embedding([2, 0], table=np.array([[0.0, 0.0], [1.0, 1.0], [2.0, 4.0]]))
        array([[2., 4.],
               [0., 0.]])
    """
    table = _as_float(table)
    if table.ndim != 2:
        raise ShapeError(f"table must have shape (vocab_size, dim); got shape {table.shape}.")
    ids = np.asarray(ids)
    if ids.size and not np.issubdtype(ids.dtype, np.integer):
        raise ShapeError(f"ids must be integer token numbers; got dtype {ids.dtype}.")
    if ids.size and (ids.min() < 0 or ids.max() >= table.shape[0]):
        raise ShapeError(
            f"Token numbers must lie in 0..{table.shape[0] - 1} for a table of shape {table.shape}; "
            f"got {ids.min()}..{ids.max()}."
        )
    return table[ids.astype(np.int64)]


# --- parameter counts ----------------------------------------------------------------------------------------------


def conv1d_params(kernel_size, in_channels, filters):
    """Count a Conv1D layer's weights: kernel_size · in_channels · filters + filters (one bias per filter).

    Lesson: 03_cnn_equation

    Example:
        >>> conv1d_params(3, 88, 32)  # a 3-step filter bank over the piano roll
        8480
    """
    return kernel_size * in_channels * filters + filters


def simple_rnn_params(input_dim, units):
    """Count a SimpleRNN layer's weights: units·(input_dim + units + 1).

    Lesson: 04_rnn_equation

    W_x has input_dim·units weights, W_h units·units and b units.

    Example:
        >>> simple_rnn_params(40, 64)
        6720
    """
    return units * (input_dim + units + 1)


def lstm_params(input_dim, units):
    """Count an LSTM layer's weights: four gates, each a SimpleRNN's worth: 4·units·(input_dim + units + 1).

    Lesson: 04_rnn_equation

    Example:
        >>> lstm_params(40, 64)
        26880
    """
    return 4 * units * (input_dim + units + 1)


def dense_params(input_dim, units):
    """Count a Dense layer's weights: input_dim·units + units.

    Lesson: 04_rnn_equation

    Example:
        >>> dense_params(64, 40)
        2600
    """
    return input_dim * units + units


def embedding_params(vocab_size, dim):
    """Count an Embedding layer's weights: one dim-long vector per token, vocab_size·dim.

    Lesson: 04_rnn_equation

    Example:
        >>> embedding_params(40, 16)
        640
    """
    return vocab_size * dim


# --- comparing with Keras ------------------------------------------------------------------------------------------


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


# --- helpers -------------------------------------------------------------------------------------------------------


def _as_float(a):
    """An array of floats: float32 stays float32, float64 stays float64, ints and uint8 piano rolls become float."""
    a = np.asarray(a)
    return a if np.issubdtype(a.dtype, np.floating) else a.astype(np.result_type(a.dtype, np.float32))


def _as_sequences(x, name, expected):
    """Return x as a (batch, steps, channels) float array, and whether it came with a batch axis."""
    x = _as_float(x)
    if x.ndim == 2:
        return x[None], False
    if x.ndim == 3:
        return x, True
    raise ShapeError(f"{name} must have shape {expected}; got shape {x.shape}.")


def _check_bias(bias, size, expected):
    if bias is None:
        return np.zeros(size, dtype=np.float32)
    bias = _as_float(bias)
    if bias.shape != (size,):
        raise ShapeError(f"bias must have shape {expected} = ({size},); got shape {bias.shape}.")
    return bias


def _check_recurrent_weights(x, kernel, recurrent_kernel, bias, gates):
    """Check a recurrent layer's weights against x (…, steps, input_dim) and return them as float arrays."""
    kernel, recurrent_kernel = _as_float(kernel), _as_float(recurrent_kernel)
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
    return kernel, recurrent_kernel, _check_bias(bias, gates * units, f"({width},)")


def _initial_state(state, batch, units, name, batched):
    if state is None:
        return np.zeros((batch, units), dtype=np.float32)
    state = _as_float(state)
    expected = (batch, units) if batched else (units,)
    if state.shape != expected:
        raise ShapeError(f"{name} must have shape {expected} for this x; got shape {state.shape}.")
    return state if batched else state[None]


def _activation(activation):
    if callable(activation):
        return activation
    try:
        return ACTIVATIONS[activation]
    except (KeyError, TypeError):
        names = ", ".join(repr(name) for name in ACTIVATIONS if name is not None)
        raise ChoiceError(f"activation must be one of {names} or a function; got {activation!r}.") from None


def _check_padding(padding, allowed):
    name = padding.lower() if isinstance(padding, str) else padding
    if name not in allowed:
        raise ChoiceError(f"padding must be one of {', '.join(map(repr, allowed))}; got {padding!r}.")
    return name


def _positive_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ShapeError(f"{name} must be a positive whole number; got {value!r}.")
    return int(value)


def _non_negative_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 0:
        raise ShapeError(f"{name} must be a whole number of steps, 0 or more; got {value!r}.")
    return int(value)


def _padding_amounts(steps, kernel_size, stride, padding, dilation=1):
    """Zero steps (before, after) that `padding` adds to an input of `steps` steps."""
    span = (kernel_size - 1) * dilation + 1
    if padding == "causal":
        return span - 1, 0
    if padding == "same":
        total = max((math.ceil(steps / stride) - 1) * stride + span - steps, 0)
        return total // 2, total - total // 2
    return 0, 0
