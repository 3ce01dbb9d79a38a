"""The GAN of lesson 11: losses against hand-computed values and Keras, the gradient penalty against TensorFlow, the
game's optimum, fragments cut from the chorales, and the measures of collapse and copying on sets with known
answers."""

import math

import numpy as np
import pytest

from musegen_lessons.corpora.fragments import cut_fragments, decode_fragments, fragments_to_one_hot
from musegen_lessons.errors import ChoiceError, MelodyError, ModelFileError
from musegen_lessons.evaluation import copying
from musegen_lessons.families import gan
from musegen_lessons.music.encoding import HOLD, REST, Vocabulary
from musegen_lessons.music.melody import Melody

# --- the losses -------------------------------------------------------------------------------------------------


def test_a_discriminator_that_cannot_tell_loses_two_ln_two():
    assert gan.discriminator_loss([0.0], [0.0]) == pytest.approx(2 * math.log(2))


def test_the_discriminator_loss_by_hand():
    # −ln σ(2) − ln(1 − σ(−1)), each the only logit of its kind
    expected = -math.log(1 / (1 + math.exp(-2.0))) - math.log(1 - 1 / (1 + math.exp(1.0)))
    assert gan.discriminator_loss([2.0], [-1.0]) == pytest.approx(expected)
    # two means, not one over both: 3 real logits and 1 fake one
    assert gan.discriminator_loss([2.0, 2.0, 2.0], [-1.0]) == pytest.approx(expected)


def test_the_discriminator_loss_is_keras_binary_cross_entropy():
    import keras

    rng = np.random.default_rng(0)
    real, fake = rng.normal(scale=3, size=50), rng.normal(scale=3, size=50)
    bce = keras.losses.BinaryCrossentropy(from_logits=True)
    expected = float(bce(np.ones((50, 1)), real[:, None])) + float(bce(np.zeros((50, 1)), fake[:, None]))
    assert gan.discriminator_loss(real, fake) == pytest.approx(expected, rel=1e-5)


def test_losses_stay_finite_for_very_sure_logits():
    assert gan.discriminator_loss([800.0], [-800.0]) == pytest.approx(0.0, abs=1e-12)
    assert gan.discriminator_loss([-800.0], [800.0]) == pytest.approx(1600.0)
    assert gan.generator_loss([-800.0]) == pytest.approx(800.0)


def test_the_two_generator_losses_by_hand():
    # at D(G(z)) = 1/2 (logit 0): −ln σ(0) = ln 2 and ln(1 − σ(0)) = −ln 2
    assert gan.generator_loss([0.0]) == pytest.approx(math.log(2))
    assert gan.generator_loss([0.0], saturating=True) == pytest.approx(-math.log(2))
    # logit −3: σ = 0.0474; −ln 0.0474 = 3.0486 and ln(1 − 0.0474) = −0.0486
    assert gan.generator_loss([-3.0]) == pytest.approx(3.048587, abs=1e-6)
    assert gan.generator_loss([-3.0], saturating=True) == pytest.approx(-0.048587, abs=1e-6)


def test_the_saturating_loss_has_a_vanishing_slope_where_the_discriminator_rejects_fakes():
    # numerical slopes with respect to the logit at −6: σ(−6) = 0.0025 against 1 − σ(−6) = 0.9975
    h = 1e-5

    def slope(saturating):
        return (gan.generator_loss([-6.0 + h], saturating) - gan.generator_loss([-6.0 - h], saturating)) / (2 * h)

    assert abs(slope(True)) == pytest.approx(0.002473, abs=1e-5)
    assert abs(slope(False)) == pytest.approx(0.997527, abs=1e-5)


# --- the game ---------------------------------------------------------------------------------------------------


def test_the_optimal_discriminator_and_the_game_value_at_it():
    p_data = np.array([0.5, 0.5, 0.0, 0.0])
    p_g = np.array([0.0, 0.25, 0.25, 0.5])
    d_star = gan.optimal_discriminator(p_data, p_g)
    assert d_star.tolist() == [1.0, pytest.approx(2 / 3), 0.0, 0.0]
    # V(D*, G) = −ln 4 + 2 JSD
    assert gan.game_value(d_star, p_data, p_g) == pytest.approx(-math.log(4) + 2 * gan.jensen_shannon(p_data, p_g))
    # no other discriminator does better
    for other in ([0.9, 0.6, 0.1, 0.1], [0.99, 0.7, 0.01, 0.01], [0.5] * 4):
        assert gan.game_value(other, p_data, p_g) < gan.game_value(d_star, p_data, p_g)


def test_the_jensen_shannon_divergence_of_equal_and_of_disjoint_distributions():
    assert gan.jensen_shannon([0.2, 0.8], [0.2, 0.8]) == pytest.approx(0.0)
    assert gan.jensen_shannon([1.0, 0.0], [0.0, 1.0]) == pytest.approx(math.log(2))
    # where neither has any probability, D* is 1/2 (no evidence either way)
    assert gan.optimal_discriminator([0.0, 1.0], [0.0, 0.0]).tolist() == [0.5, 1.0]


# --- the gradient penalty ---------------------------------------------------------------------------------------


def test_interpolation_takes_one_epsilon_per_fragment():
    real, fake = np.ones((2, 3, 4)), np.zeros((2, 3, 4))
    between = gan.interpolate(real, fake, np.array([0.25, 1.0]))
    assert np.all(between[0] == 0.25) and np.all(between[1] == 1.0)


def test_the_penalty_from_gradients_by_hand():
    gradients = np.zeros((2, 2, 2))
    gradients[0] = [[1.0, 2.0], [2.0, 0.0]]  # norm 3 over the whole fragment: (3 − 1)² = 4
    gradients[1, 0, 0] = 1.0  # norm 1: 0
    assert gan.penalty_from_gradients(gradients) == pytest.approx(2.0)
    assert gan.penalty_from_gradients(np.zeros((3, 5, 5))) == pytest.approx(1.0)
    # training's smoothing: a zero gradient then has the norm √(0 + 10⁻¹²) = 10⁻⁶
    assert gan.penalty_from_gradients(np.zeros((3, 5, 5)), smoothing=1e-12) == pytest.approx((1e-6 - 1) ** 2, rel=1e-12)


def test_the_gradient_penalty_equals_the_one_computed_by_hand_for_a_two_layer_critic():
    import keras

    steps, vocab = 8, 6
    critic = keras.Sequential(
        [
            keras.Input((steps, vocab)),
            keras.layers.Flatten(),
            keras.layers.Dense(5, activation="tanh"),
            keras.layers.Dense(1),
        ]
    )
    rng = np.random.default_rng(1)
    real = np.eye(vocab, dtype=np.float32)[rng.integers(0, vocab, (4, steps))]
    fake = rng.dirichlet(np.ones(vocab), (4, steps)).astype(np.float32)
    epsilon = rng.uniform(size=4).astype(np.float32)
    # the gradient of w₂ · tanh(W₁ x + b₁) + b₂ with respect to x is W₁ (w₂ ⊙ (1 − tanh²)), fragment by fragment
    kernel_1, bias_1, kernel_2, _ = (w.astype(np.float64) for w in critic.get_weights())
    between = gan.interpolate(real, fake, epsilon).reshape(4, -1).astype(np.float64)
    hidden = np.tanh(between @ kernel_1 + bias_1)
    gradients = ((1 - hidden**2) * kernel_2[:, 0]) @ kernel_1.T
    by_hand = gan.penalty_from_gradients(gradients)
    assert float(gan.gradient_penalty(critic, real, fake, epsilon)) == pytest.approx(by_hand, rel=1e-4)


def test_the_gradient_penalty_of_a_linear_critic_is_its_slope_less_one_squared():
    import keras

    critic = keras.Sequential([keras.Input((4, 3)), keras.layers.Flatten(), keras.layers.Dense(1)])
    kernel = np.full((12, 1), 0.5, np.float32)  # slope √(12 · 0.25) = √3 everywhere
    critic.layers[-1].set_weights([kernel, np.zeros(1, np.float32)])
    real, fake = np.ones((3, 4, 3), np.float32), np.zeros((3, 4, 3), np.float32)
    penalty = float(gan.gradient_penalty(critic, real, fake, np.array([0.1, 0.5, 0.9])))
    assert penalty == pytest.approx((math.sqrt(3) - 1) ** 2, rel=1e-5)


# --- fragments ----------------------------------------------------------------------------------------------------


def _piece(tokens, pickup_steps=0, time_signature="4/4"):
    """A piece as `cut_fragments` reads it: a `Melody` has the tokens, metre and upbeat it needs."""
    return Melody(tokens, "C major", time_signature, pickup_steps)


def test_fragments_start_at_bar_lines_and_skip_tied_notes_and_other_metres():
    bar = lambda pitch: [pitch] + [HOLD] * 15  # noqa: E731
    # a one-beat upbeat, then five bars; the bar line falls after 4 steps
    tokens = [59, HOLD, HOLD, HOLD] + bar(60) + bar(62) + [HOLD] * 16 + bar(64) + bar(65)
    fragments = cut_fragments([_piece(tokens, pickup_steps=12)])
    # from bars 1, 2, 3, 4: bar 3 opens with a tied note, so the fragment from it is left out
    assert fragments == [bar(60) + bar(62), bar(62) + [HOLD] * 16, bar(64) + bar(65)]
    with pytest.raises(MelodyError, match="4/4"):
        cut_fragments([_piece([60] + [HOLD] * 47, time_signature="3/4")])


def test_fragments_of_the_chorales_are_verbatim_stretches_of_their_melodies(chorale_pieces):
    fragments = cut_fragments(chorale_pieces)
    assert len(fragments) > 100 and all(len(f) == 32 and f[0] != HOLD for f in fragments)
    joined = [" ".join(map(str, p.tokens)) for p in chorale_pieces]
    assert all(any(" ".join(map(str, f)) in melody for melody in joined) for f in fragments[:50])


@pytest.fixture(scope="module")
def chorale_pieces():
    from musegen_lessons.corpora.melodies import load_melodies

    return load_melodies("chorales", quick=True, progress=False).pieces


def test_one_hot_and_back_gives_the_fragments_again():
    vocabulary = Vocabulary(range(60, 65))
    fragments = [[60, HOLD, REST, 64], [62, 63, HOLD, HOLD]]
    one_hot = fragments_to_one_hot(fragments, vocabulary)
    assert one_hot.shape == (2, 4, len(vocabulary)) and one_hot.sum() == 8
    assert decode_fragments(one_hot, vocabulary) == fragments


def test_decoding_turns_a_hold_with_nothing_sounding_into_a_rest():
    vocabulary = Vocabulary(range(60, 62))  # REST 0, HOLD 1, 60 → 2, 61 → 3
    probabilities = np.eye(4)[[[1, 2, 1, 0, 1, 3]]] * 0.7 + 0.075  # soft, the most likely token as given
    assert decode_fragments(probabilities, vocabulary) == [[REST, 60, HOLD, REST, REST, 61]]


# --- the networks -------------------------------------------------------------------------------------------------


def test_the_generator_writes_a_distribution_over_tokens_at_every_step():
    generator = gan.build_generator(vocab_size=35)
    probabilities = np.asarray(generator(np.random.default_rng(0).normal(size=(3, gan.NOISE_DIM))))
    assert probabilities.shape == (3, 32, 35)
    assert np.allclose(probabilities.sum(axis=-1), 1.0, atol=1e-5)
    with pytest.raises(ChoiceError, match="multiple of 8"):
        gan.build_generator(35, steps=20)


def test_an_unknown_loss_is_refused():
    with pytest.raises(ChoiceError, match="wgan-gp"):
        gan.GAN(np.zeros((4, 32, 35), np.float32), loss="hinge")


@pytest.mark.parametrize("fragments", [np.zeros((0, 32, 35)), np.zeros((32, 35)), [[60, HOLD, HOLD]]])
def test_no_fragments_or_token_lists_instead_of_one_hot_are_refused(fragments):
    with pytest.raises(MelodyError, match="one-hot fragments shaped"):
        gan.GAN(fragments)


def test_a_few_steps_of_training_move_both_losses_and_repeat_with_the_seed():
    vocabulary = Vocabulary(range(60, 72))
    rng = np.random.default_rng(2)
    fragments = fragments_to_one_hot(
        [[int(p)] + [HOLD] * 7 + [int(q)] + [HOLD] * 7 for p, q in rng.integers(60, 72, (64, 2))], vocabulary
    )
    histories = []
    for _ in range(2):
        model = gan.GAN(fragments, loss="wgan-gp", batch_size=16, seed=3, width=8)
        noise = model.noise(4)
        histories.append(model.train(3, snapshot_at=(0, 3), snapshot_noise=noise))
    first, second = histories
    assert len(first["generator_loss"]) == 3 and len(first["discriminator_loss"]) == 3
    assert sorted(first["snapshots"]) == [0, 3] and first["snapshots"][3].shape == (4, 16, len(vocabulary))
    assert not np.allclose(first["snapshots"][0], first["snapshots"][3])  # the generator moved
    assert first["generator_loss"] == second["generator_loss"]  # and the same seed moved it the same way


def _small_gan(loss):
    fragments = np.eye(10, dtype=np.float32)[np.random.default_rng(4).integers(0, 10, (32, 16))]
    return gan.GAN(fragments, loss=loss, batch_size=16, seed=6, width=8), fragments


@pytest.mark.parametrize("loss", gan.LOSSES)
def test_the_training_step_minimises_the_losses_of_the_formulas(loss):
    """What the training step takes the gradient of is the lesson's formula on the discriminator's scores, computed
    here in numpy from the networks' outputs: a sign flipped in a step's objective fails this."""
    model, fragments = _small_gan(loss)
    noise = np.random.default_rng(7).normal(size=(8, gan.NOISE_DIM)).astype(np.float32)
    fake = np.asarray(model.generator(noise, training=True))
    scores = np.asarray(model.discriminator(fake, training=True), np.float64)
    real_scores = np.asarray(model.discriminator(fragments[:8], training=True), np.float64)
    if loss == "gan":  # −ln σ(a) = ln(1 + e^−a)
        expected_g = np.logaddexp(0, -scores).mean()
        expected_d = np.logaddexp(0, -real_scores).mean() + np.logaddexp(0, scores).mean()
        got_d = float(model.discriminator_objective(fragments[:8], fake))
    else:  # the critic's loss, its penalty (checked by hand above) taken off
        expected_g = -scores.mean()
        expected_d = scores.mean() - real_scores.mean()
        epsilon = np.full(8, 0.5, np.float32)
        penalty = float(gan.gradient_penalty(model.discriminator, fragments[:8], fake, epsilon))
        got_d = float(model.discriminator_objective(fragments[:8], fake, epsilon)) - gan.PENALTY_WEIGHT * penalty
    assert float(model.generator_objective(noise)) == pytest.approx(expected_g, rel=1e-5, abs=1e-6)
    assert got_d == pytest.approx(expected_d, rel=1e-5, abs=1e-6)


@pytest.mark.parametrize("loss", gan.LOSSES)
def test_generator_steps_raise_the_discriminators_scores_of_its_fragments(loss):
    """The generator learns to fool the discriminator as it stands: with the discriminator left alone, a few
    generator steps raise its mean score of the generator's fragments (a step that climbed its loss would lower it)."""
    model, _ = _small_gan(loss)
    noise = model.noise(64)

    def mean_score():
        return float(np.mean(model.discriminator(model.generator(noise, training=False), training=False)))

    before = mean_score()
    for _ in range(5):
        model.generator_step()
    assert mean_score() > before


def test_gradient_norms_of_both_generator_losses_are_measured():
    fragments = np.eye(10, dtype=np.float32)[np.random.default_rng(4).integers(0, 10, (32, 16))]
    norms = gan.generator_gradient_norms(gan.GAN(fragments, width=8), count=32)
    assert norms["saturating"] > 0 and norms["non-saturating"] > 0 and 0 < norms["mean D(G(z))"] < 1


# --- collapse and copying -----------------------------------------------------------------------------------------


def test_distinct_fragments_and_the_share_of_the_most_common():
    fragments = [[60, HOLD], [60, HOLD], [62, HOLD], [60, HOLD]]
    assert copying.count_distinct(fragments) == 2
    assert copying.most_common_share(fragments) == 0.75
    assert copying.count_distinct(np.array([[1, 2], [1, 2], [2, 1]])) == 2
    with pytest.raises(MelodyError, match="no fragments"):
        copying.count_distinct([])


def test_nearest_training_fragments_by_hamming_distance():
    training = [[60, HOLD, 62, HOLD], [64, HOLD, HOLD, HOLD], [60, 62, 64, 65]]
    samples = [[64, HOLD, HOLD, HOLD], [60, HOLD, 62, REST], [67, 67, 67, 67]]
    distances, indices = copying.nearest_fragments(samples, training)
    assert distances.tolist() == [0, 1, 4] and indices[:2].tolist() == [1, 0]
    assert copying.copy_rate(samples, training) == pytest.approx(1 / 3)
    # a copy that appears twice among the samples counts twice
    assert copying.copy_rate([training[0], training[0], samples[2]], training) == pytest.approx(2 / 3)


def test_fragments_of_different_lengths_cannot_be_compared():
    with pytest.raises(MelodyError, match="4 steps"):
        copying.nearest_fragments([[60, HOLD]], [[60, HOLD, HOLD, HOLD]])
    with pytest.raises(MelodyError, match="different lengths"):
        copying.nearest_fragments([[60], [60, HOLD]], [[60]])


def test_measuring_a_set_counts_copies_silence_and_closeness(chorale_pieces):
    fragments = cut_fragments(chorale_pieces)
    training, held_out = fragments[:-40], fragments[-40:]
    silent = [REST] * 32
    samples = [training[0], training[0], training[5], silent]
    figures = copying.measure_samples(samples, training, [p.tokens for p in chorale_pieces], held_out)
    assert figures["count"] == 4 and figures["distinct"] == 3 and figures["most_common_share"] == 0.5
    # three copies at distance 0; the rests differ from every fragment wherever it has a note
    assert figures["copy_rate"] == 0.75 and figures["verbatim_rate"] == 0.75
    assert figures["silent_share"] == 0.25 and 0 < figures["mean_overlap"] <= 1 and figures["mean_kl"] >= 0


# --- the kept generators ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", gan.LOSSES)
def test_the_kept_generators_load_in_safe_mode_and_write_fragments(loss):
    generator, vocabulary = gan.load_generator(loss)
    probabilities = np.asarray(generator(np.random.default_rng(5).normal(size=(6, gan.NOISE_DIM)), training=False))
    fragments = decode_fragments(probabilities, vocabulary)
    assert len(fragments) == 6 and all(len(f) == 32 for f in fragments)
    assert all(any(t not in (HOLD, REST) for t in f) for f in fragments)  # trained: every fragment has notes


def test_the_kept_generators_are_what_the_benchmark_measured():
    # benchmarks/gan.py kept seed 0 of each: the plain GAN had collapsed (1 different of 1,000), WGAN-GP had not (999)
    noise = np.random.default_rng(0).normal(size=(1000, gan.NOISE_DIM))
    distinct = {}
    for loss in gan.LOSSES:
        generator, vocabulary = gan.load_generator(loss)
        distinct[loss] = copying.count_distinct(decode_fragments(np.asarray(generator(noise)), vocabulary))
    assert distinct["gan"] <= 50 and distinct["wgan-gp"] >= 950


def test_a_missing_or_damaged_generator_is_a_clear_error(tmp_path):
    with pytest.raises(ModelFileError, match="No kept generator"):
        gan.load_generator("gan", tmp_path)
    (tmp_path / "gan.keras").write_bytes(b"PK\x03\x04 not really a zip")
    Vocabulary(range(60, 62)).save(tmp_path / "vocabulary.json")
    with pytest.raises(ModelFileError, match="not a readable Keras model"):
        gan.load_generator("gan", tmp_path)
