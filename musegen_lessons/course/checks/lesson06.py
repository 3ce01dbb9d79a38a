"""Checks of the exercises in lesson 06_generation.

Lesson: 06_generation
"""

import numpy as np

from musegen_lessons.corpora.dataset import build_dataset
from musegen_lessons.corpora.melodies import load_melodies
from musegen_lessons.course.checks import (
    NUMPY,
    Answered,
    CheckFailed,
    agreement,
    call,
    call_for_predictions,
    exercise,
)
from musegen_lessons.evaluation.comparison import compare_shares
from musegen_lessons.evaluation.sets import continue_openings
from musegen_lessons.families.lstm import NumpyStepGenerator
from musegen_lessons.families.saving import load_melody_model
from musegen_lessons.music.encoding import excerpt, tokens_to_notes


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


def tempered_entropy(probabilities, temperature):
    """The entropy in nats of a distribution after a temperature: −Σ q ln q, q ∝ p^(1/T), zeros left out."""
    p = np.asarray(probabilities, dtype=np.float64)
    p = p[p > 0]
    logits = np.log(p) / temperature
    q = np.exp(logits - logits.max())
    q /= q.sum()
    return float(-np.sum(q * np.log(np.maximum(q, 1e-300))))


@exercise(
    "06.1", "my_temperature_for", "choose the temperature that gives a distribution a stated entropy", setup=NUMPY
)
def check_temperature_for(fn):
    for p in _distributions()[:-1]:  # not the uniform one, whose entropy no temperature changes
        most = np.log(np.count_nonzero(p))
        for share in (0.25, 0.6, 0.95):
            target = share * most
            temperature = call(fn, p.copy(), target)
            if not isinstance(temperature, (int, float, np.floating)) or not temperature > 0:
                raise CheckFailed(f"Return one temperature, a number above 0, not {temperature!r}.")
            reached, tokens = tempered_entropy(p, float(temperature)), np.count_nonzero(p)
            if abs(reached - target) > 0.01:
                raise CheckFailed(
                    f"For a distribution over {tokens} tokens (entropy {tempered_entropy(p, 1.0):.3f} "
                    f"nats at T = 1) and a target of {target:.3f} nats, your temperature {float(temperature):.4g} "
                    f"gives {reached:.3f}. The entropy grows with T, from 0 (greedy) towards ln {tokens} = "
                    f"{most:.3f} (uniform): search for the T that meets the target."
                )
    return (
        "the entropy rises with the temperature, from 0 near T = 0 to ln V as T grows, so a search (bisection) finds "
        "the temperature for any target between: a sampler can be set by how varied it should be, not by a number."
    )


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
OPENING_STEPS, CONTINUATION_STEPS = 16, 128  # one bar of 4/4 given, eight bars written
OPENING_SEEDS = range(3)  # each opening continued three times per setting


@exercise(
    "06.3",
    "my_outside_the_key_prediction",
    "predict, then measure: notes outside the key",
    references=("musegen_lessons.course.checks.lesson06.outside_the_key_shares",),
    setup=NUMPY,
)
def check_outside_the_key_prediction(fn):
    predicted = call_for_predictions(fn, SAMPLING_SETTINGS, ("more", "fewer", "about as many"))
    bach, shares = outside_the_key_shares()
    verdicts = {label: compare_shares(*counts, *bach) for label, counts in shares.items()}
    table = f"Bach {bach[0] / bach[1]:.1%}; " + "; ".join(
        f"{label} {hits / total:.1%} ({verdicts[label]})" for label, (hits, total) in shares.items()
    )
    return Answered(f"{agreement(predicted, verdicts)} {_measured_over()}: {table}.")


def _measured_over():
    return (
        f"Measured over {len(OPENING_SEEDS)} continuations of each major-key held-out chorale's opening, beside how "
        "Bach continued the same openings ('about as many': a difference smaller than chance alone makes often)"
    )


def outside_the_key_shares(random_seeds=OPENING_SEEDS):
    """The notes on black keys (how many, of how many) in 128-step continuations of the openings of the major-key
    held-out chorales,
    moved to C: Bach's own (how each chorale goes on) and the kept model's, for each sampling setting, each opening
    continued once per random seed (`evaluation.sets.continue_openings`)."""

    def share(melodies):
        pitches = [t for tokens in melodies for t in tokens if isinstance(t, int)]
        return int(np.isin(np.asarray(pitches) % 12, BLACK_KEYS).sum()), len(pitches)

    model, vocabulary, _ = load_melody_model()
    openings = major_key_openings()
    bach = share(excerpt(p.tokens, OPENING_STEPS, CONTINUATION_STEPS) for p in openings)
    generator, shares = NumpyStepGenerator(model), {}
    for label, options in SAMPLING_SETTINGS.items():
        melodies = []
        for random_seed in random_seeds:
            melodies += continue_openings(
                generator,
                vocabulary,
                openings,
                OPENING_STEPS,
                CONTINUATION_STEPS,
                seed=random_seed * len(openings),
                **options,
            )
        shares[label] = share(melodies)
    return bach, shares


def major_key_openings():
    """The held-out chorales in major (moved to C major): whose openings lesson 06 continues, beside Bach's own."""
    pieces = build_dataset(load_melodies("chorales", quick=False, progress=False).pieces).pieces["test"]
    return [p for p in pieces if p.mode == "major"]


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
