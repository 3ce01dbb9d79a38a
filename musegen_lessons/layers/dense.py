"""The dense layer, the embedding and the loss in numpy: `keras.layers.Dense` and `keras.layers.Embedding`, the
softmax cross-entropy every model of the course is trained with and its gradient p − y, and their parameter counts.

The weights are laid out as Keras stores them, so `layer.get_weights()` can be passed straight in.

Lesson: 03_cnn_equation, 04_rnn_equation
"""

import numpy as np

from musegen_lessons.errors import ShapeError
from musegen_lessons.layers.activations import softmax
from musegen_lessons.layers.shapes import as_float, check_bias


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
    x, kernel = as_float(x), as_float(kernel)
    if kernel.ndim != 2:
        raise ShapeError(f"kernel must have shape (input_dim, units); got shape {kernel.shape}.")
    if x.ndim < 1 or x.shape[-1] != kernel.shape[0]:
        raise ShapeError(
            f"x must have shape (..., {kernel.shape[0]}) to meet a kernel of shape {kernel.shape}; got {x.shape}."
        )
    return x @ kernel + check_bias(bias, kernel.shape[1], "(units,)")


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


def two_layer_gradients(x, targets, W1, b1, W2, b2):
    """Backpropagation through two dense layers: the gradient of the loss with respect to every weight.

    Lesson: 03_cnn_equation

    Equation:
        H₁ = tanh(X W₁ + b₁),  Z = H₁ W₂ + b₂,  L = softmax_cross_entropy(Z, y)
        Δ₂ = (P − Y) / N,  ∂L/∂W₂ = H₁ᵀ Δ₂,  ∂L/∂b₂ = Σ_n Δ₂
        Δ₁ = (Δ₂ W₂ᵀ) ⊙ (1 − H₁²),  ∂L/∂W₁ = Xᵀ Δ₁,  ∂L/∂b₁ = Σ_n Δ₁

    Args:
        x: X, (N, inputs).
        targets: y, (N,) token numbers.
        W1, b1: the hidden layer, (inputs, hidden) and (hidden,).
        W2, b2: the output layer, (hidden, vocab_size) and (vocab_size,).

    Returns:
        {"W1": ..., "b1": ..., "W2": ..., "b2": ...}, each the shape of its weight: what `tf.GradientTape` gives.
    """
    x = as_float(x)
    h1 = np.tanh(x @ W1 + b1)
    delta2 = softmax_cross_entropy_gradient(h1 @ W2 + b2, targets)
    delta1 = (delta2 @ np.asarray(W2).T) * (1 - h1**2)
    return {"W1": x.T @ delta1, "b1": delta1.sum(axis=0), "W2": h1.T @ delta2, "b2": delta2.sum(axis=0)}


def finite_difference(loss, weights, name, index, epsilon=1e-6):
    """The gradient of `loss` with respect to one weight, measured by nudging it: no calculus at all.

    Lesson: 03_cnn_equation

    Equation:
        ∂L/∂w ≈ (L(w + ε) − L(w − ε)) / 2ε

    Args:
        loss: a function of the weights, {name: array} → a float.
        weights: {name: array}; not changed (the nudges are made on a float64 copy).
        name, index: which weight, e.g. ("W", (3, 7)).
        epsilon: the nudge ε; small, in float64, so that rounding does not swamp it.
    """
    nudged = {key: np.array(value, dtype=np.float64) for key, value in weights.items()}
    nudged[name][index] += epsilon
    above = loss(nudged)
    nudged[name][index] -= 2 * epsilon
    return (above - loss(nudged)) / (2 * epsilon)


def _as_logits_and_targets(logits, targets):
    logits, targets = as_float(logits), np.asarray(targets)
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
    table = as_float(table)
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
