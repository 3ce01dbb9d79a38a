"""From melodies to training data (musegen_lessons.corpora.dataset): tune splits, windows, augmentation, tf.data."""

import dataclasses
import random

import numpy as np
import pytest

from musegen_lessons.corpora.cache import CACHE_ENV
from musegen_lessons.corpora.dataset import augment_by_transposition, build_dataset, make_tf_dataset, make_windows
from musegen_lessons.corpora.melodies import extract_chorale, load_melodies
from musegen_lessons.corpora.splits import (
    OUTLINE_PITCHES,
    SPLITS,
    TUNE_DISTANCE,
    group_by_tune,
    split_by_fingerprint,
    split_by_piece,
    split_by_tune,
    tune_distances,
    tune_fingerprint,
    tune_outline,
)
from musegen_lessons.errors import MelodyError
from musegen_lessons.lesson import QUICK_ENV
from musegen_lessons.music.encoding import HOLD, REST, SPECIAL_TOKENS, Vocabulary, transpose_tokens

WINDOW = 32
AUGMENT = range(-3, 4)


def _pitches(tokens):
    return [t for t in tokens if t not in SPECIAL_TOKENS]


def _ids_by_split(pieces, split):
    return {name: {pieces[i].id for i in split[name]} for name in SPLITS}


@pytest.fixture(scope="module")
def chorales(tmp_path_factory):
    """The kept melodies of the first 40 chorales, loaded with a cache folder of their own."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV, str(tmp_path_factory.mktemp("chorale-cache")))
        patch.delenv(QUICK_ENV, raising=False)
        return load_melodies("chorales", limit=40, progress=False).pieces


@pytest.fixture(scope="module")
def harmonised_twice(chorales):
    """The chorales plus, for every third one, two more settings of its tune: one without its last bar, one with a
    bar more.

    This is what Bach's corpus holds: one hymn tune harmonised for several cantatas.
    """
    pieces = list(chorales)
    for piece in chorales[::3]:
        pieces.append(dataclasses.replace(piece, id=piece.id + "/shorter", tokens=piece.tokens[:-16]))
        pieces.append(dataclasses.replace(piece, id=piece.id + "/longer", tokens=piece.tokens + piece.tokens[-16:]))
    return pieces


# --- fingerprints and tune groups --------------------------------------------------------------------------------


def test_tune_fingerprint_is_the_first_pitches():
    assert tune_fingerprint([60, HOLD, 62, REST, 64], pitches=2) == (60, 62)


def test_tune_fingerprint_ignores_rhythm_and_rests():
    plain = [60, 62, 64, 65]
    dotted = [60, HOLD, HOLD, 62, REST, 64, HOLD, REST, REST, 65]
    assert tune_fingerprint(plain) == tune_fingerprint(dotted) == (60, 62, 64, 65)


def test_tune_fingerprint_of_a_different_opening_differs():
    assert tune_fingerprint([60, 62, 64]) != tune_fingerprint([60, 62, 65])


def test_tune_fingerprint_of_numpy_pitches_equals_that_of_python_ints():
    tokens = [60, HOLD, 62, 64]
    as_numpy = [np.int64(t) if t not in SPECIAL_TOKENS else t for t in tokens]
    assert tune_fingerprint(as_numpy) == tune_fingerprint(tokens)
    assert all(type(p) is int for p in tune_fingerprint(as_numpy))


OPENING = [60, 62, 64, 65, 67, 69, 71, 72, 74, 76]


def test_tune_outline_counts_a_repeated_note_once_and_ignores_rhythm():
    assert tune_outline([60, HOLD, 60, REST, 62, 62, HOLD, 64]) == (60, 62, 64)
    assert len(tune_outline(list(range(50, 110)))) == OUTLINE_PITCHES


def test_tune_distances_count_edits_as_a_share_of_the_longer_outline():
    passing = OPENING[:3] + [63] + OPENING[3:]  # one passing note more: one insertion
    distances = tune_distances([OPENING, passing, OPENING[::-1]])
    assert distances[0, 1] == pytest.approx(1 / 11) and distances[1, 0] == distances[0, 1]
    assert distances[0, 0] == 0 and distances[0, 2] > TUNE_DISTANCE


def test_group_by_tune_joins_a_passing_note_a_new_rhythm_and_a_new_ending_but_not_another_tune():
    melodies = [
        OPENING + [77],
        [60, HOLD, HOLD, REST] + OPENING[1:] + [60, 60],  # same tune, new rhythm and ending
        OPENING[:5] + [68] + OPENING[5:],  # a passing note more
        [72, 71, 69, 67, 65, 64, 62, 60, 62, 64],  # another tune
    ]
    assert sorted(group_by_tune(melodies).values()) == [[0, 1, 2], [3]]


def test_group_by_tune_joins_two_pieces_through_a_third():
    middle = OPENING[:4] + [66, 68] + OPENING[4:]  # two edits from each end, the ends four from each other
    far = middle[:6] + [70, 73] + middle[6:]
    distances = tune_distances([OPENING, middle, far])
    assert distances[0, 2] > TUNE_DISTANCE >= max(distances[0, 1], distances[1, 2])
    assert list(group_by_tune([OPENING, middle, far]).values()) == [[0, 1, 2]]


# Lesson 07 found these settings of one hymn tune in the old split's test and training sets: their first ten
# pitches differ by a passing note, so the exact fingerprint put them in two groups.
SAME_TUNE_SETTINGS = [("bwv86.6", "bwv9.7"), ("bwv244.3", "bwv244.46"), ("bwv257", "bwv114.7"), ("bwv172.6", "bwv436")]


def test_group_by_tune_joins_the_settings_that_the_fingerprint_missed():
    names = [name for pair in SAME_TUNE_SETTINGS for name in pair]
    pieces = {name: piece for name in names for _, piece, _ in extract_chorale(name)}
    for a, b in SAME_TUNE_SETTINGS:
        assert tune_fingerprint(pieces[a].tokens) != tune_fingerprint(pieces[b].tokens)
    groups = group_by_tune([pieces[name] for name in names])
    assert sorted(groups.values()) == [[0, 1], [2, 3], [4, 5], [6, 7]]


def test_group_by_tune_of_the_harmonised_tunes_finds_three_settings(chorales, harmonised_twice):
    groups = group_by_tune(harmonised_twice)
    assert len(groups) == len(chorales)
    assert sorted(len(members) for members in groups.values()).count(3) == len(chorales[::3])


# --- splits ------------------------------------------------------------------------------------------------------


def test_split_by_tune_puts_every_piece_in_exactly_one_split(harmonised_twice):
    split = split_by_tune(harmonised_twice)
    assert sorted(i for name in SPLITS for i in split[name]) == list(range(len(harmonised_twice)))


def test_split_by_tune_never_puts_one_tune_in_two_splits(harmonised_twice):
    split = split_by_tune(harmonised_twice)
    tune_of = {i: tune for tune, members in group_by_tune(harmonised_twice).items() for i in members}
    tunes = {name: {tune_of[i] for i in split[name]} for name in SPLITS}
    assert not tunes["train"] & tunes["valid"]
    assert not tunes["train"] & tunes["test"]
    assert not tunes["valid"] & tunes["test"]


def test_split_by_tune_is_deterministic(harmonised_twice):
    assert split_by_tune(harmonised_twice, seed=3) == split_by_tune(list(harmonised_twice), seed=3)


def test_split_by_tune_changes_with_the_seed(harmonised_twice):
    assert split_by_tune(harmonised_twice, seed=0) != split_by_tune(harmonised_twice, seed=1)


def test_split_by_tune_does_not_depend_on_the_order_of_the_pieces(harmonised_twice):
    shuffled = list(harmonised_twice)
    random.Random(7).shuffle(shuffled)
    assert shuffled != harmonised_twice
    assert _ids_by_split(shuffled, split_by_tune(shuffled)) == _ids_by_split(
        harmonised_twice, split_by_tune(harmonised_twice)
    )


def test_split_by_tune_of_distinct_tunes_meets_the_fractions(chorales):
    assert len(group_by_tune(chorales)) == len(chorales)  # forty different tunes
    split = split_by_tune(chorales, fractions=(0.6, 0.2, 0.2))
    total = len(chorales)
    for name, fraction in zip(SPLITS, (0.6, 0.2, 0.2)):
        assert abs(len(split[name]) - fraction * total) <= 1, (name, len(split[name]))


def test_split_by_tune_overshoots_a_share_by_less_than_one_tune(harmonised_twice):
    split = split_by_tune(harmonised_twice)
    largest = max(len(members) for members in group_by_tune(harmonised_twice).values())
    for name, fraction in zip(SPLITS, (0.8, 0.1, 0.1)):
        assert len(split[name]) > 0
        assert len(split[name]) - fraction * len(harmonised_twice) < largest, name


def test_split_rejects_fractions_that_are_not_three_shares_of_one(chorales):
    with pytest.raises(ValueError, match="fractions"):
        split_by_tune(chorales, fractions=(0.8, 0.1, 0.2))
    with pytest.raises(ValueError, match="fractions"):
        split_by_piece(chorales, fractions=(0.9, 0.1))


@pytest.fixture
def one_tune_thirty_times():
    """30 settings of one tune (the same opening, every other one with a passing note in it, different endings)
    among 70 different tunes."""
    opening = [60, HOLD, 62, 64, HOLD, 65, 67, 69, 71, 72, 74, HOLD, 76]  # ten pitches
    passing = opening[:3] + [63] + opening[3:]
    assert len(_pitches(opening)) == 10
    copies = [(passing if i % 2 else opening) + [50 + i, HOLD] for i in range(30)]
    rng = np.random.default_rng(0)
    others = [[int(p) for p in rng.integers(40, 90, 12)] for _ in range(70)]
    return copies + others


def test_split_by_piece_leaks_a_repeated_tune_into_two_splits(one_tune_thirty_times):
    split = split_by_piece(one_tune_thirty_times)
    splits_of_the_tune = {name for name in SPLITS for i in split[name] if i < 30}
    assert len(splits_of_the_tune) >= 2


def test_split_by_fingerprint_leaks_the_settings_with_a_passing_note(one_tune_thirty_times):
    leaks = 0
    for seed in range(5):
        split = split_by_fingerprint(one_tune_thirty_times, seed=seed)
        leaks += len({name for name in SPLITS for i in split[name] if i < 30}) >= 2
    assert leaks


def test_split_by_tune_keeps_all_thirty_settings_in_one_split(one_tune_thirty_times):
    split = split_by_tune(one_tune_thirty_times)
    splits_of_the_tune = {name for name in SPLITS for i in split[name] if i < 30}
    assert len(splits_of_the_tune) == 1


def test_split_by_piece_puts_every_piece_in_exactly_one_split(chorales):
    split = split_by_piece(chorales)
    assert sorted(i for name in SPLITS for i in split[name]) == list(range(len(chorales)))


# --- windows -----------------------------------------------------------------------------------------------------


def test_window_targets_are_the_inputs_shifted_by_one():
    ids = np.array([7, 3, 9, 1, 4, 4, 8, 2, 6, 5])
    inputs, targets = make_windows(ids, length=4)
    for start, (x, y) in enumerate(zip(inputs, targets)):
        assert list(x) == list(ids[start : start + 4])
        assert list(y) == list(ids[start + 1 : start + 5])


def test_windows_have_shape_windows_by_length_and_dtype_int32():
    inputs, targets = make_windows(np.arange(20), length=5)
    assert inputs.shape == targets.shape == (15, 5)
    assert inputs.dtype == targets.dtype == np.int32


@pytest.mark.parametrize("steps", [0, 3, 5])
def test_sequence_no_longer_than_the_window_gives_no_windows(steps):
    inputs, targets = make_windows(np.arange(steps), length=5)
    assert inputs.shape == targets.shape == (0, 5)


def test_sequence_one_longer_than_the_window_gives_one_window():
    inputs, targets = make_windows(np.arange(6), length=5)
    assert inputs.tolist() == [[0, 1, 2, 3, 4]]
    assert targets.tolist() == [[1, 2, 3, 4, 5]]


@pytest.mark.parametrize("steps, stride", [(20, 3), (21, 3), (22, 4), (10, 10)])
def test_stride_spaces_the_window_starts_and_keeps_every_window_that_fits(steps, stride):
    length = 5
    inputs, targets = make_windows(np.arange(steps), length=length, stride=stride)
    expected_starts = list(range(0, steps - length, stride))  # a window needs length + 1 steps
    assert inputs[:, 0].tolist() == expected_starts
    assert targets[-1, -1] <= steps - 1


# --- augmentation ------------------------------------------------------------------------------------------------


@pytest.fixture
def vocabulary():
    return Vocabulary(range(55, 80))  # G3..G5


def test_augmented_melodies_stay_in_the_vocabulary_range(chorales, vocabulary):
    melodies = [p.tokens for p in chorales if 55 <= min(_pitches(p.tokens)) and max(_pitches(p.tokens)) <= 79]
    assert melodies
    augmented = augment_by_transposition(melodies, range(-6, 7), vocabulary)
    assert len(augmented) > len(melodies)
    for tokens in augmented:
        assert 55 <= min(_pitches(tokens)) and max(_pitches(tokens)) <= 79
        vocabulary.encode(tokens)  # raises if a token is not in the vocabulary


def test_augmentation_keeps_the_originals_with_shift_zero(vocabulary):
    melodies = [[60, HOLD, 62, REST, 64], [67, 65, HOLD, 64]]
    assert augment_by_transposition(melodies, [0], vocabulary) == melodies
    assert all(m in augment_by_transposition(melodies, AUGMENT, vocabulary) for m in melodies)


def test_augmentation_without_zero_drops_the_originals(vocabulary):
    melodies = [[60, HOLD, 62, REST, 64]]
    assert augment_by_transposition(melodies, [-2, 2], vocabulary) == [
        [58, HOLD, 60, REST, 62],
        [62, HOLD, 64, REST, 66],
    ]


def test_augmented_copies_are_the_melody_transposed(vocabulary):
    melody = [60, HOLD, HOLD, 62, REST, REST, 64, HOLD]
    augmented = augment_by_transposition([melody], AUGMENT, vocabulary)
    assert augmented == [transpose_tokens(melody, shift) for shift in AUGMENT]


def test_augmentation_drops_copies_that_would_leave_the_vocabulary(vocabulary):
    spanning = [55, HOLD, 79]  # already uses the lowest and highest pitch
    assert augment_by_transposition([spanning], AUGMENT, vocabulary) == [spanning]


def test_augmented_copies_only_use_pitches_of_a_vocabulary_with_gaps():
    melodies = [[60, HOLD, 64, 67], [62, 65, HOLD, 69]]
    vocabulary = Vocabulary.from_melodies(melodies)  # 60 62 64 65 67 69: no 61, 63, 66 or 68
    for tokens in augment_by_transposition(melodies, AUGMENT, vocabulary):
        assert set(_pitches(tokens)) <= set(vocabulary.pitches), f"{tokens} is not in {vocabulary.pitches}"


# --- the dataset -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def plain(chorales):
    return build_dataset(chorales, window_steps=WINDOW)


@pytest.fixture(scope="module")
def augmented(chorales):
    return build_dataset(chorales, window_steps=WINDOW, augment=AUGMENT)


def test_dataset_vocabulary_spans_every_pitch_from_lowest_to_highest(chorales, plain):
    pitches = [p for piece in chorales for p in _pitches(piece.tokens)]
    assert plain.vocabulary.pitches == list(range(min(pitches), max(pitches) + 1))
    assert plain.vocabulary.tokens[:2] == [REST, HOLD]


@pytest.mark.parametrize("name", SPLITS)
def test_dataset_window_ids_all_lie_in_the_vocabulary(plain, augmented, name):
    for dataset in (plain, augmented):
        inputs, targets = dataset.windows[name]
        assert len(inputs) > 0
        assert inputs.shape[1] == targets.shape[1] == WINDOW
        for ids in (inputs, targets):
            assert 0 <= ids.min() and ids.max() < len(dataset.vocabulary)


def test_dataset_targets_are_inputs_shifted_by_one(plain):
    inputs, targets = plain.windows["train"]
    assert (inputs[:, 1:] == targets[:, :-1]).all()


def test_dataset_pieces_follow_the_split_by_tune(chorales, plain):
    split = split_by_tune(chorales)
    assert {name: [p.id for p in plain.pieces[name]] for name in SPLITS} == {
        name: [chorales[i].id for i in split[name]] for name in SPLITS
    }


@pytest.mark.parametrize("name", ["valid", "test"])
def test_augmentation_leaves_valid_and_test_windows_unchanged(plain, augmented, name):
    assert augmented.vocabulary == plain.vocabulary
    for before, after in zip(plain.windows[name], augmented.windows[name]):
        assert np.array_equal(before, after)


def test_augmentation_adds_training_windows(plain, augmented):
    assert len(augmented.windows["train"][0]) > len(plain.windows["train"][0])
    assert augmented.augment == tuple(AUGMENT) and plain.augment == ()


def test_valid_windows_step_a_quarter_of_a_window(plain):
    expected = sum(
        len(make_windows(plain.vocabulary.encode(p.tokens), WINDOW, WINDOW // 4)[0]) for p in plain.pieces["valid"]
    )
    assert len(plain.windows["valid"][0]) == expected


def test_train_windows_use_the_given_stride(chorales):
    one_step = build_dataset(chorales, window_steps=WINDOW, stride=1)
    four_steps = build_dataset(chorales, window_steps=WINDOW, stride=4)
    expected = sum(
        len(make_windows(four_steps.vocabulary.encode(p.tokens), WINDOW, 4)[0]) for p in four_steps.pieces["train"]
    )
    assert len(four_steps.windows["train"][0]) == expected < len(one_step.windows["train"][0])


def test_dataset_summary_lists_every_split(plain):
    lines = plain.summary().splitlines()
    assert [line.split()[0] for line in lines[1:]] == list(SPLITS)
    assert [int(line.split()[1]) for line in lines[1:]] == [len(plain.pieces[name]) for name in SPLITS]


def test_dataset_of_no_pieces_raises_melody_error():
    with pytest.raises(MelodyError, match="no pieces"):
        build_dataset([])


# --- tf.data (imports TensorFlow once, last) ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def windows():
    return make_windows(np.arange(100) % 30, length=16, stride=2)  # 42 windows


def test_tf_dataset_batches_have_the_window_shape_and_int32(windows):
    import tensorflow as tf

    batches = list(make_tf_dataset(*windows, batch_size=8))
    inputs, targets = batches[0]
    assert inputs.shape == targets.shape == (8, 16)
    assert inputs.dtype == targets.dtype == tf.int32
    assert [len(x) for x, _ in batches] == [8, 8, 8, 8, 8, 2]


def test_tf_dataset_yields_every_window_once_with_its_target(windows):
    batches = list(make_tf_dataset(*windows, batch_size=8, shuffle=True))
    pairs = sorted(
        (tuple(x), tuple(y))
        for inputs, targets in batches
        for x, y in zip(inputs.numpy().tolist(), targets.numpy().tolist())
    )
    assert pairs == sorted((tuple(x), tuple(y)) for x, y in zip(windows[0].tolist(), windows[1].tolist()))


def test_tf_dataset_without_shuffle_keeps_the_order(windows):
    batches = list(make_tf_dataset(*windows, batch_size=8, shuffle=False))
    assert np.array_equal(np.concatenate([x.numpy() for x, _ in batches]), windows[0])


def test_a_given_vocabulary_encodes_the_pieces_and_refuses_a_pitch_it_lacks():
    melodies = [[60, "HOLD", 62, "HOLD"] * 10, [64, "HOLD", 65, "REST"] * 10, [62, "HOLD", 64, "HOLD"] * 10]
    wider = Vocabulary(range(55, 80))
    data = build_dataset(melodies, window_steps=8, fractions=(1 / 3, 1 / 3, 1 / 3), vocabulary=wider)
    assert data.vocabulary is wider
    with pytest.raises(MelodyError, match=r"pitches \[60, 62\] that the given vocabulary does not hold"):
        build_dataset(melodies[:1], window_steps=8, vocabulary=Vocabulary(range(63, 70)))
