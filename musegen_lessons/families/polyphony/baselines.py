"""Two baselines that learn which keys chorales use, and nothing about harmony: each key on its own.

Lesson: 08_polyphony
"""

import numpy as np

from musegen_lessons.music.encoding import PIANO_KEYS


class FrequencyModel:
    """Each key sounds with its training frequency, whatever came before: the floor any model must beat.

    Lesson: 08_polyphony
    """

    def fit(self, pieces, smoothing=1.0):
        frames = np.concatenate([np.asarray(p)[1:] for p in pieces])
        self.p = (frames.sum(axis=0) + smoothing) / (len(frames) + 2 * smoothing)
        return self

    def predict(self, pieces):
        return [(np.tile(self.p, (len(p) - 1, 1)), np.tile(self.p > 0.5, (len(p) - 1, 1))) for p in pieces]

    def count_params(self):
        return PIANO_KEYS


class MarkovModel:
    """Each key's next state from its own last state: p(x_t,k = 1 | x_t−1,k), a first-order chain per key.

    Lesson: 08_polyphony

    It knows that notes tend to be held or repeated, and nothing of harmony: each key still ignores the others.
    """

    def fit(self, pieces, smoothing=1.0):
        previous = np.concatenate([np.asarray(p)[:-1] for p in pieces]).astype(bool)
        current = np.concatenate([np.asarray(p)[1:] for p in pieces]).astype(bool)
        self.p = np.stack(
            [
                ((current & (previous == state)).sum(axis=0) + smoothing)
                / ((previous == state).sum(axis=0) + 2 * smoothing)
                for state in (False, True)
            ]
        )
        return self

    def predict(self, pieces):
        results = []
        for piece in pieces:
            p = np.where(np.asarray(piece)[:-1].astype(bool), self.p[1], self.p[0])
            results.append((p, p > 0.5))
        return results

    def count_params(self):
        return 2 * PIANO_KEYS
