"""Where a Transformer's heads look: mean distance back, and the shares of attention on the last steps, on note onsets,
on downbeats and on whole bars back, each beside what a head that looks nowhere in particular would give.

Lesson: 10_transformer
"""

import numpy as np


def attention_distance(attention):
    """How far back each head looks on average: Σ_j a_ij (i − j), averaged over the query steps i; (heads,) steps.

    Lesson: 10_transformer

    Args:
        attention: one block's attention weights, (heads, steps, steps), as `transformer_forward` returns them.
    """
    steps = attention.shape[-1]
    gaps = np.arange(steps)[:, None] - np.arange(steps)[None, :]
    return (attention * np.maximum(gaps, 0)).sum(axis=-1).mean(axis=-1)


def attention_shares(attention, onsets, downbeats, bar_steps):
    """Where each head's weight goes, averaged over the query steps: (heads, 5) rows of [mean distance back, share on
    the step itself and the one before, share on note onsets, share on downbeats, share on the steps a whole number
    of bars before the token predicted]. The query at step i predicts the token at i + 1, so key j is a whole number
    of bars back when i + 1 − j is a multiple of the bar.

    Lesson: 10_transformer

    Args:
        attention: one block's weights, (heads, steps, steps); onsets: (steps,) True where a note starts (the token
            is a pitch); downbeats: (steps,) True on the first 16th of a bar; bar_steps: the steps in a bar.

    A head that spread its weight evenly over the past would give the shares of `attention_shares` of a uniform
    causal attention (`uniform_attention`): compare with those, not with 0.
    """
    steps = attention.shape[-1]
    gaps = np.arange(steps)[:, None] - np.arange(steps)[None, :]

    def share(where):
        return (attention * where).sum(axis=-1).mean(axis=-1)

    near = (gaps >= 0) & (gaps <= 1)
    bars_back = (gaps + 1 >= bar_steps) & ((gaps + 1) % bar_steps == 0)
    columns = [
        attention_distance(attention),
        share(near),
        share(np.asarray(onsets)[None]),
        share(np.asarray(downbeats)[None]),
        share(bars_back),
    ]
    return np.stack(columns, axis=-1)


def uniform_attention(steps):
    """The causal attention of a head that looks at nothing in particular: weight 1 / (i + 1) on each of the keys
    j ≤ i; (1, steps, steps), the reference for `attention_shares`.

    Lesson: 10_transformer
    """
    weights = np.tri(steps)
    return (weights / weights.sum(axis=1, keepdims=True))[None]
