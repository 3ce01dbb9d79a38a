"""Attention in numpy (musegen_lessons.layers.attention): the causal mask, scaled dot-product and multi-head attention
proven equal to Keras on a real chorale, order blindness, and relative positions computed naively and by skewing."""

import numpy as np
import pytest

from musegen_lessons.corpora.bundled import load_chorale, melody_notes, soprano_part
from musegen_lessons.errors import ShapeError
from musegen_lessons.layers import attention
from musegen_lessons.music.encoding import Vocabulary, notes_to_tokens


@pytest.fixture(scope="module")
def embedded_chorale():
    """The bundled chorale's soprano, token by token, through a Keras embedding of width 16: (steps, 16)."""
    import keras

    tokens = notes_to_tokens(melody_notes(soprano_part(load_chorale())))
    ids = np.asarray(Vocabulary.from_melodies([tokens]).encode(tokens))
    keras.utils.set_random_seed(3)
    layer = keras.layers.Embedding(int(ids.max()) + 1, 16)
    return np.asarray(layer(ids[None]))[0]


def test_the_causal_mask_hides_exactly_the_future():
    mask = attention.causal_mask(5)
    assert (mask[np.tril_indices(5)] == 0).all()
    assert np.isneginf(mask[np.triu_indices(5, k=1)]).all()


def test_masked_attention_weights_sum_to_one_and_never_look_ahead(embedded_chorale):
    x = embedded_chorale[:40]
    _, weights = attention.scaled_dot_product_attention(x, x, x, attention.causal_mask(len(x)))
    assert np.allclose(weights.sum(axis=-1), 1)
    assert (weights[np.triu_indices(len(x), k=1)] == 0).all()
    assert weights[0, 0] == pytest.approx(1.0)  # the first step can only attend to itself


def test_attention_scales_by_the_square_root_of_the_width():
    q = np.array([[2.0, 0.0, 0.0, 0.0]])
    k = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, 0.0, 0.0]])
    _, weights = attention.scaled_dot_product_attention(q, k, np.eye(2))
    # logits 2/√4 = 1 and 0: softmax gives e/(e+1), not e²/(e²+1) as without the scaling
    assert weights[0, 0] == pytest.approx(np.e / (np.e + 1))


@pytest.mark.parametrize("heads, key_dim", [(1, 16), (4, 8), (2, 5)])
def test_multi_head_attention_equals_keras_with_the_causal_mask(embedded_chorale, heads, key_dim):
    import keras

    x = embedded_chorale[None].astype(np.float32)
    layer = keras.layers.MultiHeadAttention(heads, key_dim)
    expected, expected_weights = layer(x, x, use_causal_mask=True, return_attention_scores=True)
    got, weights = attention.multi_head_attention(embedded_chorale, attention.attention_weights_of(layer))
    assert np.abs(got - np.asarray(expected)[0]).max() < 1e-5
    assert np.abs(weights - np.asarray(expected_weights)[0]).max() < 1e-5


def test_attention_without_positions_permutes_with_its_input(embedded_chorale):
    import keras

    layer = keras.layers.MultiHeadAttention(2, 8)
    layer(embedded_chorale[None], embedded_chorale[None])
    weights = attention.attention_weights_of(layer)
    order = np.random.default_rng(0).permutation(len(embedded_chorale))
    plain, _ = attention.multi_head_attention(embedded_chorale, weights, causal=False)
    permuted, _ = attention.multi_head_attention(embedded_chorale[order], weights, causal=False)
    assert np.abs(permuted - plain[order]).max() < 1e-9
    # the causal mask breaks the symmetry: it knows which step comes first
    masked, _ = attention.multi_head_attention(embedded_chorale[order], weights)
    assert np.abs(masked - attention.multi_head_attention(embedded_chorale, weights)[0][order]).max() > 1e-3


def test_sinusoidal_positions_follow_the_formula():
    table = attention.sinusoidal_positions(50, 8)
    assert table.shape == (50, 8)
    assert np.allclose(table[0], [0, 1] * 4)
    assert table[7, 2] == pytest.approx(np.sin(7 / 10000 ** (2 / 8)))
    assert table[7, 3] == pytest.approx(np.cos(7 / 10000 ** (2 / 8)))
    with pytest.raises(ShapeError):
        attention.sinusoidal_positions(10, 5)


def test_skewing_moves_each_distance_under_its_key():
    steps = 4
    qe = np.arange(steps)[None, :].repeat(steps, axis=0).astype(float)  # column r holds distance steps - 1 - r
    skewed = attention.skew(qe)
    for i in range(steps):
        for j in range(i + 1):
            assert skewed[i, j] == steps - 1 - (i - j)


@pytest.mark.parametrize("steps, distances", [(12, 12), (12, 5), (30, 64)], ids=["full", "clipped", "longer table"])
def test_the_skewed_relative_logits_equal_the_naive_ones(steps, distances):
    rng = np.random.default_rng(steps + distances)
    q, table = rng.normal(size=(3, steps, 6)), rng.normal(size=(3, distances, 6))
    naive, skewed = attention.relative_logits_naive(q, table), attention.relative_logits_skewed(q, table)
    below = np.tri(steps, dtype=bool)
    assert np.abs((naive - skewed)[:, below]).max() < 1e-12
    i, j = 9, 2  # one entry by its definition: q_i · e_min(i − j, distances − 1)
    assert naive[1, i, j] == pytest.approx(q[1, i] @ table[1, min(i - j, distances - 1)])


def test_the_naive_relative_logits_need_a_tensor_the_skewed_ones_do_not():
    rng = np.random.default_rng(0)
    memory = {}
    for steps in (128, 256):
        q, table = rng.normal(size=(steps, 16)), rng.normal(size=(steps, 16))
        memory[steps] = [
            attention.peak_memory(f, q, table)
            for f in (attention.relative_logits_naive, attention.relative_logits_skewed)
        ]
    naive, skewed = memory[256]
    assert naive > steps * steps * 16 * 8  # the (L, L, d) tensor of float64
    assert skewed < naive / 5
    assert memory[256][0] / memory[128][0] > 3.5  # L² d: four times the memory for twice the length


def test_attention_refuses_keys_that_do_not_fit_the_queries():
    with pytest.raises(ShapeError):
        attention.scaled_dot_product_attention(np.ones((3, 4)), np.ones((3, 5)), np.ones((3, 2)))
