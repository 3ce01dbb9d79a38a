"""Two-bar fragments of the 4/4 chorales: what lesson 11's GANs and lesson 12's VAE learn from, as token lists and
as one-hot arrays, and the generators' probabilities made back into tokens.

Lesson: 11_gan (lesson 12 trains on the same)
"""

import numpy as np

from musegen_lessons.corpora.dataset import build_dataset
from musegen_lessons.corpora.melodies import load_melodies
from musegen_lessons.errors import MelodyError
from musegen_lessons.music.encoding import HOLD, REST, rest_orphan_holds

FRAGMENT_BARS = 2
BAR_STEPS = 16  # fragments are cut from the chorales in 4/4 only, so that every fragment is two whole bars


def cut_fragments(pieces, bars=FRAGMENT_BARS):
    """Every stretch of `bars` whole bars of the 4/4 pieces, starting at each bar line, as token lists.

    Lesson: 11_gan

    A stretch that begins inside a tied note (a HOLD on its first step) is left out rather than changed, so that
    every fragment is exactly what the chorale has there; so is a stretch without a note.
    """
    steps = bars * BAR_STEPS
    fragments = []
    for piece in pieces:
        if piece.time_signature != "4/4":
            continue
        first_bar_line = (BAR_STEPS - piece.pickup_steps) % BAR_STEPS
        for start in range(first_bar_line, len(piece.tokens) - steps + 1, BAR_STEPS):
            fragment = list(piece.tokens[start : start + steps])
            if fragment[0] != HOLD and any(t not in (HOLD, REST) for t in fragment):
                fragments.append(fragment)
    if not fragments:
        raise MelodyError(f"No piece in 4/4 is {bars} bars long: there are no fragments to cut.")
    return fragments


def chorale_fragments():
    """The chorales' fragments as lessons 11 and 12 and their benchmarks use them, from the tune-disjoint split of
    every melody benchmark: (vocabulary, training fragments, held-out fragments, training melodies as token lists).

    Lesson: 11_gan (lesson 12 trains on the same)
    """

    dataset = build_dataset(load_melodies("chorales", quick=False).pieces)
    training, held_out = cut_fragments(dataset.pieces["train"]), cut_fragments(dataset.pieces["test"])
    return dataset.vocabulary, training, held_out, [piece.tokens for piece in dataset.pieces["train"]]


def fragments_to_one_hot(fragments, vocabulary):
    """Token fragments as a float32 array (fragments, steps, vocabulary size), one-hot at every step.

    Lesson: 11_gan
    """
    ids = np.array([vocabulary.encode(f) for f in fragments], dtype=np.int64)
    return np.eye(len(vocabulary), dtype=np.float32)[ids]


def decode_fragments(probabilities, vocabulary):
    """The generator's probabilities (fragments, steps, vocabulary size) made into token fragments.

    Lesson: 11_gan

    The most likely token at every step; a HOLD with no note sounding (at the start, or after a REST) becomes a
    REST (`encoding.rest_orphan_holds`), so that every fragment is a valid melody.
    """
    return [rest_orphan_holds(vocabulary.decode(ids)) for ids in np.asarray(probabilities).argmax(axis=-1)]
