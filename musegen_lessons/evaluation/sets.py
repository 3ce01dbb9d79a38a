"""The sets a model's music is compared with: the model at several temperatures, an n-gram, random tokens, and the
real music itself.

`evaluation_sets` (lesson 07) continues the openings of the held-out chorales with each (`continue_openings`, which
lesson 06 uses too); the n-gram and the random
tokens write through the same step interface as lesson 06's generators (`NGramStepGenerator`,
`UniformStepGenerator`), so `sampling.generate` drives them all alike. `fragments_from_melody_model` (lesson 11)
writes two-bar fragments with a melody model, to set beside a GAN's.

Lesson: 07_evaluation; 11_gan
"""

from dataclasses import replace

import numpy as np

from musegen_lessons.families.lstm import NumpyStepGenerator
from musegen_lessons.families.ngram import tune_ngram
from musegen_lessons.families.sampling import generate
from musegen_lessons.music.encoding import excerpt


def fragments_from_melody_model(step_generator, vocabulary, training, count=1000, temperature=1.0, seed=0):
    """Fragments as long as the training fragments, written by a next-token model (lesson 05's LSTM) step by step.

    Lesson: 11_gan

    Each starts on a downbeat from the first token of a training fragment drawn at random (the data's own first
    notes, so that the model is not asked to begin a phrase from nothing), and the model writes the rest.
    """

    rng = np.random.default_rng(seed)
    steps = len(training[0])
    firsts = [training[i][0] for i in rng.integers(0, len(training), count)]
    return [
        generate(step_generator, vocabulary, [first], steps - 1, temperature=temperature, seed=seed + i)
        for i, first in enumerate(firsts)
    ]


class NGramStepGenerator:
    """An n-gram model of lesson 05 behind the same step interface, so it can compose too.

    Lesson: 07_evaluation
    """

    def __init__(self, ngram):
        self.ngram = ngram
        self.reset()

    def reset(self):
        self.history = []

    def step(self, token, position):
        self.history.append(int(token))
        return self.ngram.distribution(self.history)


class UniformStepGenerator:
    """The floor of every comparison: each token equally likely, whatever came before.

    Lesson: 07_evaluation
    """

    def __init__(self, vocab_size):
        self.probabilities = np.full(vocab_size, 1.0 / vocab_size)

    def reset(self):
        pass

    def step(self, token, position):
        return self.probabilities


def evaluation_sets(
    model, vocabulary, dataset, temperatures=(0.5, 0.8, 1.0, 1.2, 1.5), seed_steps=16, steps=128, seed=0
):
    """The melody sets that lesson 07 compares, each continuing the first `seed_steps` of every held-out chorale.

    Lesson: 07_evaluation

    Returns:
        {name: [`Melody`]}: "held-out chorales" (the reference: their own continuations), "training chorales"
        (a reference level: real music the model learned from; not a ceiling, since the generated sets
        continue the held-out openings themselves), the model at each temperature, the tuned 5-gram, and
        random tokens. Only the `steps` tokens after the seed are kept, so every set is judged on what it wrote;
        each keeps its chorale's metre, its bar lines where the chorale's fall.
    """

    test, train = dataset.pieces["test"], dataset.pieces["train"]
    encoded_train = [vocabulary.encode(p.tokens) for p in train]
    encoded_valid = [vocabulary.encode(p.tokens) for p in dataset.pieces["valid"]]
    five_gram, _ = tune_ngram(5, encoded_train, encoded_valid, len(vocabulary))
    generators = {f"CNN + LSTM, T = {t}": (NumpyStepGenerator(model), t) for t in temperatures}
    generators["5-gram, T = 1.0"] = (NGramStepGenerator(five_gram), 1.0)
    generators["random tokens"] = (UniformStepGenerator(len(vocabulary)), 1.0)
    sets = {
        "held-out chorales": [continuation_in_bars(p, excerpt(p.tokens, seed_steps, steps), seed_steps) for p in test],
        "training chorales": [
            continuation_in_bars(p, excerpt(p.tokens, seed_steps, steps), seed_steps) for p in train[: len(test)]
        ],
    }
    for name, (generator, temperature) in generators.items():
        continued = continue_openings(generator, vocabulary, test, seed_steps, steps, seed, temperature=temperature)
        sets[name] = [continuation_in_bars(p, tokens, seed_steps) for p, tokens in zip(test, continued)]
    return sets


def continue_openings(generator, vocabulary, pieces, seed_steps=16, steps=128, seed=0, **options):
    """What a step generator writes after the first `seed_steps` of each piece: `steps` tokens each, the opening left
    out, in the piece's metre; piece i is sampled with random seed `seed + i`. `options`: `sampling.generate`'s.

    Lesson: 06_generation (beside the same pieces' own continuations); 07_evaluation
    """
    return [
        excerpt(
            generate(
                generator,
                vocabulary,
                p.tokens[:seed_steps],
                steps,
                seed=seed + i,
                bar_steps=p.bar_steps,
                pickup_steps=p.pickup_steps,
                **options,
            ),
            seed_steps,
        )
        for i, p in enumerate(pieces)
    ]


def continuation_in_bars(piece, tokens, seed_steps):
    """Tokens that follow a piece's first `seed_steps`, as a `Melody` in the piece's key and metre."""
    melody = piece.melody
    return replace(melody, tokens=tokens, pickup_steps=(melody.pickup_steps + seed_steps) % melody.bar_steps)
