"""Checks of the exercises in lesson 10_transformer: attention by hand, the causal mask, the skewing step and one step
with a key/value cache; each answer is compared with the definition on queries, keys and values made from a real
chorale.

Lesson: 10_transformer
"""

import numpy as np

from musegen_lessons.course.checks import NUMPY, CheckFailed, call, exercise
from musegen_lessons.course.checks.lesson03 import compare, real_inputs
from musegen_lessons.layers.attention import (
    causal_mask,
    relative_distances,
    relative_logits_naive,
    scaled_dot_product_attention,
)

DEFINITION = "the definition"


def _chorale_qkv(width=8, steps=24, seed=10):
    """Queries, keys and values (steps, width) projected from a chorale's piano roll by fixed random matrices."""
    roll = real_inputs(steps)["piano roll"].astype(np.float64)
    rng = np.random.default_rng(seed)
    return [roll @ rng.normal(scale=0.3, size=(roll.shape[1], width)) for _ in range(3)]


@exercise(
    "10.1",
    "my_attention",
    "scaled dot-product attention",
    setup=NUMPY,
    references=(
        "musegen_lessons.layers.attention.scaled_dot_product_attention",
        "musegen_lessons.layers.attention.relative_attention",
    ),
)
def check_attention(fn):

    for width, steps in [(8, 24), (5, 13), (16, 7)]:
        q, k, v = _chorale_qkv(width, steps, seed=width)
        for masked in (False, True):
            mask = causal_mask(steps) if masked else np.zeros((steps, steps))
            expected, _ = scaled_dot_product_attention(q, k, v, mask)
            what = f"{steps} steps of width {width}, {'with' if masked else 'without'} the causal mask"
            compare(what, call(fn, q, k, v, mask), expected, DEFINITION)
    q, k, v = _chorale_qkv(4, 10, seed=4)
    compare(
        "fewer keys than queries",
        call(fn, q, k[:6], v[:6], np.zeros((10, 6))),
        scaled_dot_product_attention(q, k[:6], v[:6])[0],
        DEFINITION,
    )
    return "softmax over the keys of Q Kᵀ / √d + M, times V: every output a weighted average of the values."


@exercise(
    "10.2",
    "my_causal_mask",
    "the causal mask",
    setup=NUMPY,
    references=("musegen_lessons.layers.attention.causal_mask",),
)
def check_causal_mask(fn):
    for steps in (1, 2, 5, 16):
        got = np.asarray(call(fn, steps), dtype=np.float64)
        if got.shape != (steps, steps):
            raise CheckFailed(f"For {steps} steps the mask is ({steps}, {steps}); yours has shape {got.shape}.")
        for i in range(steps):
            for j in range(steps):
                allowed = j <= i
                if allowed and got[i, j] != 0:
                    raise CheckFailed(
                        f"With {steps} steps, query {i} may see key {j} (j ≤ i, the step itself included): M[{i}, {j}]"
                        f" must be 0, yours is {got[i, j]}."
                    )
                if not allowed and not (np.isneginf(got[i, j]) or got[i, j] <= -1e9):
                    raise CheckFailed(
                        f"With {steps} steps, query {i} must not see key {j}, which comes after it: M[{i}, {j}] "
                        f"must be −∞ (or at most −1e9), yours is {got[i, j]}."
                    )
    return "0 on and below the diagonal, −∞ above it: after the softmax, no step takes anything from its future."


@exercise(
    "10.3",
    "my_skew",
    "the skewing step",
    setup=NUMPY,
    references=("musegen_lessons.layers.attention.skew", "musegen_lessons.layers.attention.relative_logits_skewed"),
)
def check_skew(fn):

    rng = np.random.default_rng(3)
    for steps, distances in [(6, 6), (24, 24), (24, 9)]:
        q, _, _ = _chorale_qkv(8, steps, seed=steps)
        table = rng.normal(size=(distances, 8))
        qe = q @ table[relative_distances(steps, distances)].T
        got = np.asarray(call(fn, qe), dtype=np.float64)
        if got.shape != (steps, steps):
            raise CheckFailed(
                f"Skewing a ({steps}, {steps}) matrix gives ({steps}, {steps}); yours has shape {got.shape}."
            )
        below = np.tri(steps, dtype=bool)
        expected = relative_logits_naive(q, table)
        wrong = np.argwhere(below & (np.abs(got - expected) > 1e-9))
        if len(wrong):
            i, j = wrong[0]
            raise CheckFailed(
                f"With {steps} steps, S_rel[{i}, {j}] must be q_{i} · e_{i - j} = {expected[i, j]:.5f} (column "
                f"{steps - 1 - (i - j)} of row {i} of Q E_rᵀ); yours is {got[i, j]:.5f}. Pad the zero column on the "
                "left, reshape to (L + 1, L), and drop the first row."
            )
    return "pad, reshape, slice: the L × L relative logits without the L × L × d tensor."


@exercise(
    "10.4",
    "my_cached_attention_step",
    "one step with a key/value cache",
    setup=NUMPY,
    references=("musegen_lessons.layers.attention.scaled_dot_product_attention",),
)
def check_cached_attention_step(fn):

    for width, steps in [(8, 20), (3, 9)]:
        q, k, v = _chorale_qkv(width, steps, seed=width + 1)
        expected, _ = scaled_dot_product_attention(q, k, v, causal_mask(steps))
        keys, values = np.zeros((0, width)), np.zeros((0, width))
        for t in range(steps):
            result = call(fn, q[t], k[t], v[t], keys, values)
            if not (isinstance(result, tuple) and len(result) == 3):
                raise CheckFailed("Return three things: (this step's output, the keys so far, the values so far).")
            output, keys, values = (np.asarray(r, dtype=np.float64) for r in result)
            if keys.shape != (t + 1, width) or values.shape != (t + 1, width):
                raise CheckFailed(
                    f"After step {t} the cache holds {t + 1} keys and values of width {width}; yours holds keys "
                    f"{keys.shape} and values {values.shape}. Append this step's key and value before attending."
                )
            compare(f"step {t} of {steps}, width {width}", output, expected[t], "attention over the whole sequence")
    return "one query against every cached key: the same outputs as the full causal attention, a step at a time."
