"""The sampling core: the step-generator protocol, the registry of families, sampling the next token, and
continuing a melody. It knows no family: each family module registers its fastest step generator here.

A **step generator** runs a trained melody model one 16th-note step at a time. It has three methods:

- `reset()`: forget the music so far;
- `step(token, position)`: take one token number at its position in the bar and return the distribution of the
  next token (a numpy array over the vocabulary);
- `prime(ids, positions)` (the fast ones): take a stretch of music at once, as the music so far.

Lesson 06 sets three side by side for its LSTM (`WindowedGenerator`, which any Keras melody model serves, and the
LSTM's `lstm.KerasStepGenerator` and `lstm.NumpyStepGenerator`); lessons 09 and 10 add their families' own. Each
family registers the fastest one under the name its Keras models carry (`register_family`), so that
`step_generator(model)` finds it for a saved model whatever family it is.

Sampling (greedy, temperature, top-k, nucleus) is done in numpy by `sample_next`, which also keeps the melody
valid: never a HOLD at the start or after a REST. `generate` drives any step generator; `compose` continues a
`melody.Melody` in any key, moving it to the model's key and back.

Lesson: 06_generation
"""

from dataclasses import dataclass, replace

import numpy as np
from threadpoolctl import threadpool_limits

from musegen_lessons.errors import ChoiceError, MelodyError
from musegen_lessons.families.inputs import MAX_BAR_STEPS
from musegen_lessons.music.encoding import HOLD, REST, validate_tokens
from musegen_lessons.music.melody import home_key, transposition_to_c
from musegen_lessons.music.notation import midi_to_name, parse_key


def sample_next(probabilities, rng, temperature=1.0, top_k=None, top_p=None, previous=None, hold_id=1, rest_id=0):
    """Choose the next token number from a distribution.

    Lesson: 06_generation

    Args:
        probabilities: the model's next-token distribution (NaN, negative or all-zero entries are tolerated).
        rng: a numpy Generator (its seed makes generation reproducible).
        temperature: 0 is greedy (always the most probable token); below 1 sharpens the distribution,
            above 1 flattens it: p_i ∝ p_i^(1/T).
        top_k: keep only the k most probable tokens.
        top_p: nucleus sampling: keep the fewest most probable tokens whose probabilities sum to at least p.
        previous: the token number before this step (None at the start); HOLD is forbidden at the start and
            after a REST, since it would continue a note that is not sounding.
        hold_id, rest_id: the token numbers of HOLD and REST; `hold_id=None` for a vocabulary without them (lesson
            09's μ-law levels of sound).
    """
    p = np.array(probabilities, dtype=np.float64)  # a copy: the caller's distribution is left as it was
    if not np.isfinite(p).all():
        p = np.nan_to_num(p, nan=0.0, posinf=0.0, neginf=0.0)
    np.maximum(p, 0.0, out=p)
    no_hold = hold_id is not None and (previous is None or previous == rest_id)
    if no_hold:
        p[hold_id] = 0.0
    if p.sum() <= 0:  # a broken distribution: fall back to uniform over what is allowed
        p = np.ones_like(p)
        if no_hold:
            p[hold_id] = 0.0
    if temperature == 0:
        return int(np.argmax(p))
    if temperature < 0:
        raise ChoiceError(f"temperature must be 0 (greedy) or above, not {temperature}")
    if temperature != 1:  # p_i^(1/T), as (p_i / p_max)^(1/T) so that a small T cannot overflow
        p /= p.max()
        p **= 1.0 / temperature
    order = None
    if top_k is not None and top_k < len(p):
        order = np.argsort(-p, kind="stable")
        p[order[max(int(top_k), 1) :]] = 0.0
    if top_p is not None and top_p < 1:
        order = np.argsort(-p, kind="stable") if order is None else order
        cumulative = np.cumsum(p[order]) / p.sum()
        p[order[np.searchsorted(cumulative, top_p) + 1 :]] = 0.0
    cumulative = np.cumsum(p)
    return int(min(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"), len(p) - 1))


class RecomputingGenerator:
    """What every naive step generator shares: it keeps the music so far, and at every step runs a whole network
    over it (or over its last receptive field) and keeps the last output. A subclass says how, in `predict_last`.

    Lesson: 06_generation (lessons 09 and 10 set their naive generators beside their cached ones)
    """

    def reset(self):
        self.ids, self.positions = [], []

    def prime(self, ids, positions):
        """Take these steps as the music so far, without the outputs that feeding them would compute."""
        self.ids.extend(int(i) for i in ids)
        self.positions.extend(int(p) for p in positions)

    def step(self, token, position):
        self.prime([token], [position])
        return self.predict_last()

    def predict_last(self):
        """The next token's distribution after `self.ids` at `self.positions`."""
        raise NotImplementedError


class WindowedGenerator:
    """The naive loop: every step runs `model.predict` on the whole window so far and keeps the last output.

    Lesson: 06_generation
    """

    def __init__(self, model, window_steps=64):
        self.model, self.window_steps = model, window_steps
        self.reset()

    def reset(self):
        self.tokens, self.positions = [], []

    def step(self, token, position):
        self.tokens.append(int(token))
        self.positions.append(int(position))
        features = {
            "tokens": np.array([self.tokens[-self.window_steps :]], np.int32),
            "positions": np.array([self.positions[-self.window_steps :]], np.int32),
        }
        return self.model.predict(features, verbose=0)[0, -1]


def generate(
    generator,
    vocabulary,
    seed_tokens,
    length,
    temperature=1.0,
    top_k=None,
    top_p=None,
    seed=0,
    bar_steps=16,
    pickup_steps=0,
):
    """Continue a seed melody by `length` steps, sampling one token at a time; return seed and continuation.

    Lesson: 06_generation

    Args:
        generator: any of the three step generators.
        seed_tokens: the opening, as tokens (REST, HOLD, MIDI pitches) inside the vocabulary.
        length: how many new 16th-note steps to write (at least 1).
        seed: the random seed: the same seed gives the same melody.
        bar_steps, pickup_steps: the metre, so that every step gets its position in the bar.

    Raises:
        MelodyError: an empty or invalid seed, a seed pitch outside the model's vocabulary, or a length below 1.
    """
    if int(length) < 1:
        raise MelodyError(f"The length must be at least 1 step, not {length}.")
    if not 0 < bar_steps <= MAX_BAR_STEPS:
        raise MelodyError(f"A bar of {bar_steps} steps is outside the model's beat input (1 to {MAX_BAR_STEPS} steps).")
    seed_tokens = list(seed_tokens)
    if not seed_tokens:
        raise MelodyError("The seed melody is empty: give at least one note to start from.")
    validate_tokens(seed_tokens)
    ids = [int(i) for i in vocabulary.encode(seed_tokens)]
    rng = np.random.default_rng(seed)
    generator.reset()
    total = len(ids) + int(length)
    positions = (np.arange(total) + pickup_steps) % bar_steps
    # One step multiplies small matrices: sharing each product out between cores costs more time than it saves.
    with threadpool_limits(limits=1, user_api="blas"):
        for step in range(total - 1):
            probabilities = generator.step(ids[step], int(positions[step]))
            if step + 1 >= len(ids):
                ids.append(sample_next(probabilities, rng, temperature, top_k, top_p, previous=ids[step]))
    return vocabulary.decode(ids)


def seed_from_piece(piece, steps=16):
    """The opening `steps` tokens of a piece and its metre: (tokens, bar_steps, pickup_steps).

    Lesson: 06_generation
    """
    return list(piece.tokens[:steps]), piece.bar_steps, piece.pickup_steps


def compose(generator, vocabulary, seed_melody, length, temperature=1.0, top_k=None, top_p=None, seed=0):
    """Continue a `melody.Melody` in any key: move it to the model's key, generate, and move the result back.

    Lesson: 06_generation

    The model knows only C major and A minor (lesson 02), so an opening typed in D major is moved down to C major
    to be continued and the whole melody is moved back up: it starts with exactly the notes typed.

    Raises:
        MelodyError: an opening note the model never saw, named as it was typed, with the range it can take.
    """
    home = seed_melody.transposed(home_key(seed_melody.key))
    if not any(t not in (HOLD, REST) for t in seed_melody.tokens):
        raise MelodyError("The seed melody has no notes: give at least one note to start from.")
    shift = -transposition_to_c(*parse_key(seed_melody.key))  # from the model's key back to the typed one
    known = set(vocabulary.pitches)
    for typed, moved in zip(seed_melody.tokens, home.tokens):
        if moved not in (HOLD, REST) and int(moved) not in known:
            low, high = min(known) + shift, max(known) + shift
            raise MelodyError(
                f"The opening's {midi_to_name(typed)} is a note this model never wrote in {seed_melody.key}: "
                f"its notes there lie from {midi_to_name(low)} to {midi_to_name(high)}."
            )
    tokens = generate(
        generator,
        vocabulary,
        home.tokens,
        length,
        temperature,
        top_k,
        top_p,
        seed,
        bar_steps=home.bar_steps,
        pickup_steps=home.pickup_steps,
    )
    return replace(home, tokens=tokens).transposed(seed_melody.key)


@dataclass(frozen=True)
class Family:
    """A family of melody models as the sampling core knows it: the names its Keras models carry, the function that
    builds one from a vocabulary size, and its fastest step generator (a class or function of the model).

    Lesson: 06_generation
    """

    names: tuple
    build: object
    step_generator: object
    lesson: str


_FAMILIES = {}


def register_family(names, build, step_generator, lesson):
    """Register a family: models named any of `names` (a Keras model's `name`, which its .keras file keeps) are run
    by `step_generator(model)`. Each family module calls it once, at import; `families` imports every family.

    Lesson: 06_generation

    Raises:
        ChoiceError: a name another family has registered already.
    """
    family = Family(tuple(names), build, step_generator, lesson)
    for name in family.names:  # every name checked before any is taken, so that a refusal leaves the registry as it was
        if name in _FAMILIES and _FAMILIES[name] != family:
            raise ChoiceError(f"Two families claim the model name {name!r}: give the new family's models another name.")
    _FAMILIES.update(dict.fromkeys(family.names, family))
    return family


def registered_families():
    """Every registered family, once each, in the order they registered.

    Lesson: 06_generation
    """
    return list(dict.fromkeys(_FAMILIES.values()))


def step_generator(model):
    """The fastest step generator for a melody model of any registered family, found by the model's name: lesson
    06's numpy LSTM step, lesson 09's cached WaveNet, lesson 10's Transformer with its key/value cache.

    Lesson: 06_generation (lessons 09 and 10 register their families)

    Raises:
        ChoiceError: no family has registered the model's name; the message names those that have, and the naive
            `WindowedGenerator`, which runs any Keras melody model.
    """
    family = _FAMILIES.get(model.name)
    if family is None:
        known = ", ".join(sorted(_FAMILIES))
        raise ChoiceError(
            f"No family of the course makes models named {model.name!r} (the families' models are named {known}). "
            "Build it with a family's build function, register its family with sampling.register_family, or run it "
            "step by step with sampling.WindowedGenerator(model), which serves any Keras melody model."
        )
    return family.step_generator(model)
