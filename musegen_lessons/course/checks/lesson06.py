"""Checks of the exercises in lesson 06_generation.

Lesson: 06_generation
"""

import numpy as np

from musegen_lessons.corpora.dataset import build_dataset
from musegen_lessons.corpora.melodies import load_melodies
from musegen_lessons.course.checks import NUMPY, CheckFailed, call, call_for_predictions, describe, exercise
from musegen_lessons.families.lstm import NumpyStepGenerator
from musegen_lessons.families.sampling import generate, seed_from_piece
from musegen_lessons.families.saving import load_melody_model
from musegen_lessons.music.encoding import tokens_to_notes


def _distributions():
    rng = np.random.default_rng(11)
    logits = rng.normal(size=(5, 35)) * 2
    p = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    p[2, :30] = 0.0  # a distribution with zeros in it
    p[2] /= p[2].sum()
    return list(p) + [np.array([0.5, 0.3, 0.2]), np.array([0.25, 0.25, 0.25, 0.25])]


def _compare(what, got, expected):
    got = np.asarray(got, dtype=np.float64)
    if got.shape != expected.shape or not np.allclose(got, expected, atol=1e-6):
        raise CheckFailed(
            f"{what}: expected {np.round(expected[:6], 4).tolist()}..., got {np.round(got.ravel()[:6], 4).tolist()}..."
        )


@exercise("06.1", "my_apply_temperature", "temperature", setup=NUMPY)
def check_apply_temperature(fn):
    for p in _distributions():
        for temperature in (0.5, 1.0, 2.0):
            with np.errstate(divide="ignore"):
                expected = np.where(p > 0, p ** (1 / temperature), 0.0)
            expected = expected / expected.sum()
            what = f"With temperature {temperature} on {describe(np.round(p, 3).tolist())}"
            _compare(what, call(fn, p.copy(), temperature), expected)
    return "below 1 the likely tokens grow likelier; above 1 the distribution flattens."


@exercise("06.2", "my_top_k", "top-k filtering", setup=NUMPY)
def check_top_k(fn):
    for p in _distributions():
        for k in (1, 2, 3, 10):
            keep = np.argsort(-p, kind="stable")[:k]
            expected = np.zeros_like(p)
            expected[keep] = p[keep]
            expected /= expected.sum()
            _compare(f"With k = {k} on {len(p)} tokens", call(fn, p.copy(), k), expected)
    return "only the k most probable tokens can be chosen, in their old proportions."


# Exercise 06.3: the settings to predict, each as `generate` takes it
SAMPLING_SETTINGS = {
    "temperature 0.5": {"temperature": 0.5},
    "temperature 1.0": {"temperature": 1.0},
    "temperature 1.5, top-k 3": {"temperature": 1.5, "top_k": 3},
    "temperature 1.5, nucleus p = 0.9": {"temperature": 1.5, "top_p": 0.9},
}
BLACK_KEYS = (1, 3, 6, 8, 10)  # in C major, the notes outside the key


@exercise(
    "06.3",
    "my_outside_the_key_prediction",
    "predict, then measure: notes outside the key",
    references=("musegen_lessons.course.checks.lesson06.outside_the_key_shares",),
    setup=NUMPY,
)
def check_outside_the_key_prediction(fn):
    predicted = call_for_predictions(fn, SAMPLING_SETTINGS, ("more", "fewer"))
    bach, shares = outside_the_key_shares()
    table = f"Bach {bach:.1%}; " + "; ".join(f"{label} {share:.1%}" for label, share in shares.items())
    wrong = [label for label, share in shares.items() if predicted[label] != ("more" if share > bach else "fewer")]
    if wrong:
        raise CheckFailed(f"The other way round for {', '.join(wrong)}. Measured over 20 continuations: {table}.")
    return f"all four right. Measured over 20 continuations: {table}."


def outside_the_key_shares(random_seeds=range(20)):
    """The share of notes on black keys: Bach's in the major-key training chorales moved to C, and the kept
    model's in 128-step continuations of the first 4/4 held-out chorale's opening, for each sampling setting."""

    def share(pitches):
        return float(np.isin(np.asarray(pitches) % 12, BLACK_KEYS).mean())

    model, vocabulary, _ = load_melody_model()
    pieces = build_dataset(load_melodies("chorales", quick=False, progress=False).pieces).pieces
    bach = share([t for p in pieces["train"] if p.mode == "major" for t in p.tokens if isinstance(t, int)])
    seed_tokens, bar_steps, pickup_steps = seed_from_piece(
        next(p for p in pieces["test"] if p.time_signature == "4/4"), steps=16
    )
    generator, shares = NumpyStepGenerator(model), {}
    for label, options in SAMPLING_SETTINGS.items():
        pitches = []
        for random_seed in random_seeds:
            melody = generate(
                generator,
                vocabulary,
                seed_tokens,
                128,
                seed=random_seed,
                bar_steps=bar_steps,
                pickup_steps=pickup_steps,
                **options,
            )
            pitches += [t for t in melody[len(seed_tokens) :] if isinstance(t, int)]
        shares[label] = share(pitches)
    return bach, shares


@exercise(
    "06.4",
    "my_tokens_to_midi",
    "tokens to MIDI at a tempo",
    setup="import numpy as np\nimport pretty_midi\n\nfrom musegen_lessons.music.encoding import tokens_to_notes",
    references=(
        "musegen_lessons.music.midi.notes_to_midi",
        "musegen_lessons.music.midi.as_pretty_midi",
        "musegen_lessons.music.midi.melody_to_midi",
    ),
)
def check_tokens_to_midi(fn):
    import pretty_midi

    cases = [
        ([60, "HOLD", "HOLD", "HOLD", 62, "HOLD"], 60),
        (["REST", 67, "HOLD", 65, "REST", "REST", 64], 120),
        ([72] + ["HOLD"] * 15 + [71, "HOLD"], 90),
    ]
    for tokens, tempo_bpm in cases:
        pm = call(fn, tokens, tempo_bpm)
        if not isinstance(pm, pretty_midi.PrettyMIDI):
            raise CheckFailed(f"Return a pretty_midi.PrettyMIDI, not {type(pm).__name__}.")
        got = _in_time_order((n.pitch, round(n.start, 6), round(n.end, 6)) for i in pm.instruments for n in i.notes)
        seconds = 60.0 / tempo_bpm
        expected = _in_time_order(
            (p, round(s * seconds, 6), round(e * seconds, 6)) for p, s, e in tokens_to_notes(tokens)
        )
        if got != expected:
            raise CheckFailed(
                f"For {tokens} at {tempo_bpm} bpm the notes (pitch, start s, end s) are {expected}; "
                f"yours are {got}. A 16th note lasts 60 / tempo / 4 seconds."
            )
    return "a 16th note lasts 15 / tempo seconds."


def _in_time_order(notes):
    """(pitch, start, end) notes sorted by start, then pitch: the order in which they are compared."""
    return sorted(notes, key=lambda note: (note[1], note[0]))
