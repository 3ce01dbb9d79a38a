"""Checks of the exercises in lesson 10_transformer: attention by hand, a causal mask off by one found and fixed, the
skewing step, a pre-norm Transformer block in Keras and one step with a key/value cache; each answer is compared with
the definition on queries, keys and values made from a real chorale, and the mask and the block are judged by what
they do (no output may move when a later input changes).

Lesson: 10_transformer
"""

import numpy as np

from musegen_lessons.course.checks import NUMPY, CheckFailed, call, exercise
from musegen_lessons.course.checks.behaviour import expect_causal, expect_model, outputs_of
from musegen_lessons.course.checks.lesson03 import compare, real_inputs
from musegen_lessons.layers.attention import (
    causal_mask,
    relative_distances,
    relative_logits_naive,
    scaled_dot_product_attention,
)

DEFINITION = "the definition"


def _chorale_projections(width=8, steps=24, seed=10):
    """A chorale's piano roll (steps, 88) and three fixed random matrices that project it to width `width`."""
    roll = real_inputs(steps)["piano roll"].astype(np.float64)
    rng = np.random.default_rng(seed)
    return roll, [rng.normal(scale=0.3, size=(roll.shape[1], width)) for _ in range(3)]


def _chorale_qkv(width=8, steps=24, seed=10):
    """Queries, keys and values (steps, width) projected from a chorale's piano roll by fixed random matrices."""
    roll, projections = _chorale_projections(width, steps, seed)
    return [roll @ w for w in projections]


def masked_attention_leaks(mask, width=8, seed=10):
    """Attention with `mask` over a chorale (queries, keys and values projected from its piano roll): for each step s,
    the earlier steps whose outputs move when the input at s changes, {s: steps before s}; empty when it is causal.
    Also returns the outputs, in which a query that sees no key at all is nan."""
    roll, projections = _chorale_projections(width, len(mask), seed)

    def attend(x):
        with np.errstate(invalid="ignore"):  # a row of the mask that is all −∞ gives 0/0: nan, reported by the caller
            return scaled_dot_product_attention(*(x @ w for w in projections), mask)[0]

    before, rng, leaks = attend(roll), np.random.default_rng(seed), {}
    for step in range(1, len(mask)):
        changed = roll.copy()
        changed[step] += rng.normal(size=roll.shape[1])  # another input at this step: the notes, changed
        moved = np.flatnonzero(np.abs(attend(changed) - before)[:step].max(axis=1) > 1e-9)
        if moved.size:
            leaks[step] = moved.tolist()
    return leaks, before


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


# Exercise 10.2: the number of steps the check diagnoses a mask on (a chorale's first 16 quarter notes), by its
# off-by-one patterns and by what attention does with it, before comparing it entry by entry at other sizes.
MASK_STEPS = 16


@exercise(
    "10.2",
    "my_causal_mask",
    "find the bug: a causal mask off by one",
    setup=NUMPY,
    references=("musegen_lessons.layers.attention.causal_mask",),
)
def check_causal_mask(fn):
    steps = MASK_STEPS
    got = np.asarray(call(fn, steps), dtype=np.float64)
    if got.shape != (steps, steps):
        raise CheckFailed(f"For {steps} steps the mask is ({steps}, {steps}); yours has shape {got.shape}.")
    query, key = np.indices(got.shape)
    masked = np.isneginf(got) | (got <= -1e9)
    seen_future = (key > query) & ~masked
    leaks, outputs = masked_attention_leaks(got)
    if seen_future.any() and np.all(key[seen_future] == query[seen_future] + 1):
        i = int(query[seen_future][0])
        moved = "moves" if i in leaks.get(i + 1, []) else "can move"
        raise CheckFailed(
            f"Off by one: with {steps} steps your mask lets query {i} see key {i + 1} (M[{i}, {i + 1}] = "
            f"{got[i, i + 1]:g}), the next token, which is the very token step {i} is trained to predict; attention "
            f"with your mask {moved} output {i} when the input at step {i + 1} changes. A model trained so learns to "
            "copy the answer, and has none to copy when it generates. Only keys j ≤ i are the past and the present: "
            "M[i, j] = −∞ for every j > i, j = i + 1 included."
        )
    hidden_self = np.flatnonzero(np.diag(masked))
    if hidden_self.size and not seen_future.any():
        i = int(hidden_self[0])
        blind = np.flatnonzero(~np.all(np.isfinite(outputs), axis=1))
        nan = f"; query {blind[0]} then sees no key at all and its output is nan (0/0)" if blind.size else ""
        raise CheckFailed(
            f"Off by one the other way: with {steps} steps your mask hides query {i} from key {i} (M[{i}, {i}] = "
            f"{got[i, i]:g}), its own step{nan}. The present is not the future: a step may see itself, only keys "
            "j > i must be −∞."
        )
    if leaks:
        step, earlier = next(iter(leaks.items()))
        raise CheckFailed(
            f"Attention with your mask is not causal: over {steps} steps of a chorale, changing the input at step "
            f"{step} moved the output{'s' if len(earlier) > 1 else ''} at step{'s' if len(earlier) > 1 else ''} "
            f"{', '.join(map(str, earlier))}, before it. Query i may take from keys j ≤ i only: M[i, j] = −∞ where "
            "j > i, 0 elsewhere."
        )
    for steps in (1, 2, 5, MASK_STEPS):
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
    return (
        "0 on and below the diagonal, −∞ above it: with your mask no output of attention moved when a later input "
        "changed, and every step still sees itself."
    )


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
    "10.5",
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


# Exercise 10.4: the block's size in the check; how much its output must grow when its input grows tenfold (a pre-norm
# block's grows about as much, a post-norm block's last LayerNorm brings it back to unit scale); the task it learns.
BLOCK_WIDTH, BLOCK_HEADS, PRE_NORM_GROWTH, FIRST_TOKEN_ACCURACY = 32, 4, 3.0, 0.9


@exercise(
    "10.4",
    "my_transformer_block",
    "a pre-norm Transformer block in Keras, causal, that learns",
    setup="import keras\nimport numpy as np",
    references=("musegen_lessons.families.transformer.build_transformer_model",),
)
def check_transformer_block(fn):
    width, heads = BLOCK_WIDTH, BLOCK_HEADS
    block = expect_model(fn, width, heads)
    x = np.random.default_rng(13).normal(size=(2, 24, width)).astype(np.float32)
    [out, *more] = outputs_of(block, x)
    if more or out.shape != x.shape:
        raise CheckFailed(
            f"For an input of shape {x.shape} return one output of the same shape; yours gives "
            f"{[o.shape for o in [out, *more]]}."
        )
    norms = sum(type(layer).__name__ == "LayerNormalization" for layer in block.layers)
    if norms < 2:
        raise CheckFailed(
            f"The block has {norms} LayerNormalization layers: it needs one before the attention and "
            "one before the feed-forward network."
        )
    expect_causal(block, x, 15, "the block")
    growth = np.linalg.norm(outputs_of(block, 10 * x)[0]) / np.linalg.norm(out)
    if growth < PRE_NORM_GROWTH:
        raise CheckFailed(
            f"Ten times the input gives only {growth:.1f} times the output: the output is normalised, so a LayerNorm "
            "comes after a residual sum (post-norm). Pre-norm normalises each sublayer's input and leaves the sum "
            "alone: h = x + Attention(LN(x)), then h + FeedForward(LN(h))."
        )
    accuracy = first_token_accuracy(block, width)
    if accuracy < FIRST_TOKEN_ACCURACY:
        raise CheckFailed(
            f"Trained to repeat, at every step, the first token of its sequence, the block gets {accuracy:.0%} "
            f"right; it should get at least {FIRST_TOKEN_ACCURACY:.0%}. Only attention can fetch a token from far "
            "back: is its output added to the residual stream, with its query, key and value from LN(x)?"
        )
    return (
        f"one output of the input's shape, nothing heard from the future, a residual stream that LayerNorm leaves "
        f"alone (10 × the input gives {growth:.1f} × the output), and, trained for a few seconds, it repeats the "
        f"first token {accuracy:.0%} of the time."
    )


def first_token_accuracy(block, width, vocab_size=12, steps=24, examples=4096, seed=0):
    """Train `block` inside a small model (token and position embeddings in, a softmax out) to output at every step
    the first token of its sequence, and return its accuracy on fresh sequences: a task for attention, which can
    look back at step 0 from anywhere, and not for a feed-forward network, which sees one step at a time."""
    import keras

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)

    def sequences(n):
        ids = rng.integers(0, vocab_size, (n, steps))
        return [ids, np.tile(np.arange(steps), (n, 1))], np.repeat(ids[:, :1], steps, axis=1)

    tokens, positions = keras.Input((steps,), dtype="int32"), keras.Input((steps,), dtype="int32")
    x = keras.layers.Add()(
        [keras.layers.Embedding(vocab_size, width)(tokens), keras.layers.Embedding(steps, width)(positions)]
    )
    model = keras.Model([tokens, positions], keras.layers.Dense(vocab_size, activation="softmax")(block(x)))
    model.compile(optimizer=keras.optimizers.Adam(0.005), loss="sparse_categorical_crossentropy")
    x, y = sequences(examples)
    model.fit(x, y, batch_size=64, epochs=3, verbose=0)
    x, y = sequences(256)
    return float(np.mean(np.asarray(model(x, training=False)).argmax(axis=-1) == y))
