"""Attention in numpy: scaled dot-product attention, its causal mask, many heads, and positions, absolute and relative.

Each query step asks every key step how well they match and takes a weighted average of their values:

    Attention(Q, K, V) = softmax(Q Kᵀ / √d + M) V,   M_ij = 0 if j ≤ i, −∞ if j > i (the causal mask)

Attention alone ignores order (permute the steps and its outputs permute with them), so positions must be added:
absolute ones to the input (`sinusoidal_positions`), or relative ones inside the logits (Shaw et al. 2018), where a
learned vector e_{i−j} per distance adds q_i · e_{i−j} to the logit of query i and key j. Computed naively that
needs an L × L × d tensor; the Music Transformer's *skewing* (Huang et al. 2018, section 3.4.1) gets the same L × L
logits from one L × L product and a reshape, in memory of order L·d rather than L²·d.

Lesson: 10_transformer
"""

import tracemalloc

import numpy as np

from musegen_lessons.errors import ShapeError
from musegen_lessons.layers.activations import softmax


def causal_mask(steps):
    """The additive causal mask M, (steps, steps): 0 where key j ≤ query i, −∞ where j > i (the future).

    Lesson: 10_transformer

    Example:
        >>> causal_mask(3)
        array([[  0., -inf, -inf],
               [  0.,   0., -inf],
               [  0.,   0.,   0.]])
    """
    return np.where(np.tri(int(steps), dtype=bool), 0.0, -np.inf)


def scaled_dot_product_attention(q, k, v, mask=None):
    """softmax(Q Kᵀ / √d + M) V, for queries (…, Lq, d), keys (…, Lk, d) and values (…, Lk, dv).

    Lesson: 10_transformer

    Returns:
        (outputs (…, Lq, dv), attention weights (…, Lq, Lk): each row, one query's weights, sums to 1).
    """
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    if q.shape[-1] != k.shape[-1] or k.shape[-2] != v.shape[-2]:
        raise ShapeError(f"Queries {q.shape}, keys {k.shape} and values {v.shape} do not fit together.")
    logits = q @ np.swapaxes(k, -1, -2) / np.sqrt(q.shape[-1])
    if mask is not None:
        logits = logits + mask
    weights = softmax(logits, axis=-1)
    return weights @ v, weights


def attention_weights_of(layer):
    """A `keras.layers.MultiHeadAttention`'s weights as numpy: {'query', 'key', 'value': (kernel (d, heads, dk),
    bias (heads, dk)), 'output': (kernel (heads, dk, d), bias (d,))}, Keras's own layouts.

    Lesson: 10_transformer
    """
    arrays = [np.asarray(w, dtype=np.float64) for w in layer.get_weights()]
    names = ("query", "key", "value", "output")
    return {name: (arrays[2 * i], arrays[2 * i + 1]) for i, name in enumerate(names)}


def multi_head_attention(x, weights, causal=True, relative=None):
    """Multi-head self-attention over x (steps, d): each head projects x to its own queries, keys and values,
    attends, and the heads' outputs are projected back to d and summed.

    Lesson: 10_transformer

        head_h = Attention(x W_h^Q + b_h^Q, x W_h^K + b_h^K, x W_h^V + b_h^V),   y = Σ_h head_h W_h^O + b^O

    Args:
        weights: as `attention_weights_of` returns (the layout of `keras.layers.MultiHeadAttention`).
        causal: add the causal mask.
        relative: None, or a table of relative-position vectors (heads, distances, dk) as the Music Transformer's
            attention learns them: its logits are `relative_attention`'s.

    Returns:
        (y (steps, d), attention weights (heads, steps, steps)).
    """
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        raise ShapeError(f"Self-attention takes one sequence of shape (steps, d), not {x.shape}.")
    q, k, v = (
        np.einsum("td,dhk->htk", x, weights[name][0]) + weights[name][1][:, None] for name in ("query", "key", "value")
    )
    mask = causal_mask(len(x)) if causal else None
    if relative is None:
        heads, attention = scaled_dot_product_attention(q, k, v, mask)
    else:
        heads, attention = relative_attention(q, k, v, relative, mask)
    kernel, bias = weights["output"]
    return np.einsum("htk,hkd->td", heads, kernel) + bias, attention


def sinusoidal_positions(steps, dim):
    """The Transformer's absolute positions (Vaswani et al. 2017): PE[t, 2i] = sin(t / 10000^(2i/d)),
    PE[t, 2i + 1] = cos(t / 10000^(2i/d)); an array (steps, dim), added to the inputs.

    Lesson: 10_transformer
    """
    if int(dim) < 2 or int(dim) % 2:
        raise ShapeError(f"Sinusoidal positions need an even width of at least 2, not {dim}.")
    angles = np.arange(int(steps))[:, None] / 10000 ** (np.arange(0, int(dim), 2) / int(dim))
    table = np.empty((int(steps), int(dim)))
    table[:, 0::2], table[:, 1::2] = np.sin(angles), np.cos(angles)
    return table


def relative_distances(steps, distances):
    """Which row of a relative table each of the `steps` columns of the skewing product uses: column r stands for
    the distance steps − 1 − r (from the farthest back to 0), and every distance beyond the table's last row
    uses that row (Shaw et al.'s clipping). An int array (steps,).

    Lesson: 10_transformer

    Example:
        >>> relative_distances(5, 3)
        array([2, 2, 2, 1, 0])
    """
    return np.minimum(np.arange(int(steps))[::-1], int(distances) - 1)


def relative_logits_naive(q, table):
    """S_rel[i, j] = q_i · e_{i−j} for keys j ≤ i, the direct way: gather a vector for every (i, j) pair into an
    (L, L, d) tensor R and contract it with the queries (0 for j > i, which the causal mask removes anyway).

    Lesson: 10_transformer

    Args:
        q: queries (…, L, d); table: relative-position vectors (…, distances, d), row k for distance k.
    """
    q, table = np.asarray(q), np.asarray(table)
    steps = q.shape[-2]
    gaps = np.arange(steps)[:, None] - np.arange(steps)[None, :]
    rows = np.minimum(np.maximum(gaps, 0), table.shape[-2] - 1)
    r = table[..., rows, :]  # (…, L, L, d): the memory the skewing avoids
    return np.where(gaps >= 0, np.einsum("...id,...ijd->...ij", q, r), 0.0)


def skew(qe):
    """The Music Transformer's skewing: from Q E_rᵀ (…, L, L), whose column r holds distance L − 1 − r, to S_rel,
    whose column j holds key j: pad one column of zeros on the left, reshape to (L + 1, L), drop the first row.

    Lesson: 10_transformer

    Row i of Q E_rᵀ ends with distance 0 in its last column; padding and reshaping shifts row i left by L − 1 − i
    places, so that distance i − j lands in column j. The entries above the diagonal are left-over numbers that the
    causal mask removes.
    """
    qe = np.asarray(qe)
    steps = qe.shape[-1]
    padded = np.concatenate([np.zeros(qe.shape[:-1] + (1,), qe.dtype), qe], axis=-1)
    return padded.reshape(qe.shape[:-2] + (steps + 1, steps))[..., 1:, :]


def relative_logits_skewed(q, table):
    """S_rel by skewing: Q E_rᵀ with E_r (L, d), the table's rows for the distances L − 1, …, 0, then `skew`.
    Equal to `relative_logits_naive` where j ≤ i, in memory of order L·d besides the L × L logits.

    Lesson: 10_transformer
    """
    q, table = np.asarray(q), np.asarray(table)
    e_r = table[..., relative_distances(q.shape[-2], table.shape[-2]), :]
    return skew(q @ np.swapaxes(e_r, -1, -2))


def relative_attention(q, k, v, table, mask=None):
    """The Music Transformer's relative attention: softmax((Q Kᵀ + S_rel) / √d + M) V, S_rel by skewing.

    Lesson: 10_transformer

    Returns:
        (outputs, attention weights), as `scaled_dot_product_attention`.
    """
    q, k, v = (np.asarray(a, dtype=np.float64) for a in (q, k, v))
    logits = (q @ np.swapaxes(k, -1, -2) + relative_logits_skewed(q, table)) / np.sqrt(q.shape[-1])
    if mask is not None:
        logits = logits + mask
    weights = softmax(logits, axis=-1)
    return weights @ v, weights


def peak_memory(function, *args):
    """The most memory (bytes) that numpy and Python held at once while `function(*args)` ran, beyond what was
    held before; measured with `tracemalloc`, which sees every numpy array's buffer.

    Lesson: 10_transformer
    """
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        function(*args)
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()
