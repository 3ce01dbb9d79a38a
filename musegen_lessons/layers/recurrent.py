"""The recurrent layers in numpy: the simple RNN and the LSTM, one step and a whole sequence, equal to
`keras.layers.SimpleRNN` and `keras.layers.LSTM` (gates i, f, g, o in Keras's order), and their parameter counts.

The weights are laid out as Keras stores them, so `layer.get_weights()` can be passed straight in. Shapes follow the
course's vocabulary (`shapes`): a sequence is (steps, channels) and a batch (batch, steps, channels).

Lesson: 04_rnn_equation
"""

import numpy as np

from musegen_lessons.errors import ShapeError
from musegen_lessons.layers.activations import activation_function, sigmoid, tanh
from musegen_lessons.layers.shapes import as_float, as_sequences, check_recurrent_weights, initial_state


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
    x, batched = as_sequences(x, "x", "(steps, input_dim) or (batch, steps, input_dim)")
    kernel, recurrent_kernel, bias = check_recurrent_weights(x, kernel, recurrent_kernel, bias, gates=1)
    sigma = activation_function(activation)
    units = recurrent_kernel.shape[0]
    h = initial_state(h0, x.shape[0], units, "h0", batched)

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
    x_t = as_float(x_t)
    if x_t.ndim not in (1, 2):
        raise ShapeError(f"x_t must have shape (input_dim,) or (batch, input_dim); got shape {x_t.shape}.")
    one_step = x_t[..., None, :]  # (…, 1, input_dim): x_t as a sequence of one step, for the shape check
    kernel, recurrent_kernel, bias = check_recurrent_weights(one_step, kernel, recurrent_kernel, bias, gates=4)
    units = recurrent_kernel.shape[0]
    h_prev, c_prev = as_float(h_prev), as_float(c_prev)
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
    x, batched = as_sequences(x, "x", "(steps, input_dim) or (batch, steps, input_dim)")
    kernel, recurrent_kernel, bias = check_recurrent_weights(x, kernel, recurrent_kernel, bias, gates=4)
    units = recurrent_kernel.shape[0]
    h = initial_state(h0, x.shape[0], units, "h0", batched)
    c = initial_state(c0, x.shape[0], units, "c0", batched)

    states = []
    for t in range(x.shape[1]):
        h, c = lstm_step(x[:, t], h, c, kernel, recurrent_kernel, bias)
        states.append(h)
    if not states:
        raise ShapeError("x has no steps: a recurrent layer needs at least one step to read.")
    y = np.stack(states, axis=1) if return_sequences else states[-1]
    return y if batched else y[0]


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
