"""Listening: the blind listening test, which plays pairs of melodies and asks which one is Bach, and the binomial test
that says whether a listener did better than guessing.

Lesson: 07_evaluation
"""

import numpy as np

from musegen_lessons.errors import ChoiceError, MelodyError
from musegen_lessons.music.audio import play
from musegen_lessons.music.encoding import tokens_to_notes


class BlindListening:
    """A blind listening test: for each pair, Bach and another melody in a random order, "which one is Bach?".

    Lesson: 07_evaluation

    The answers are recorded as they are given, and the truth is revealed only after the last pair, with the
    number right and the binomial test of that score against guessing (`listening.binomial_p_value`). Shown in a
    notebook, the object is the panel; `result()` gives the figures to a later cell.

    Args:
        pairs: [(Bach's tokens, the other melody's tokens)], each a whole melody, opening included.
        seed: the random seed that decides which pairs play Bach first (half of them, as near as can be).
    """

    def __init__(self, pairs, seed=0, tempo_bpm=96):
        import ipywidgets as w
        import numpy as np

        if not pairs:
            raise MelodyError("A listening test needs at least one pair of melodies.")
        self.pairs = [(list(bach), list(other)) for bach, other in pairs]
        # Bach first in half of the pairs, in a random order: always answering "A" scores no better than chance
        half = [True] * (len(self.pairs) // 2) + [False] * (len(self.pairs) - len(self.pairs) // 2)
        self.bach_first = [bool(b) for b in np.random.default_rng(seed).permutation(half)]
        self.answers = []  # True where the listener picked Bach
        self.tempo_bpm = tempo_bpm
        self.title = w.HTML()
        self.players = w.Output()
        self.buttons = [w.Button(description=f"{side} is Bach", button_style="info") for side in "AB"]
        for side, button in enumerate(self.buttons):
            button.on_click(lambda _, side=side: self.answer(side))
        self.panel = w.VBox([self.title, self.players, w.HBox(self.buttons)])
        self._show_pair()

    def answer(self, side):
        """Record that the listener says melody `side` (0 for A, 1 for B) of the current pair is Bach."""
        if len(self.answers) == len(self.pairs):
            return
        self.answers.append((side == 0) == self.bach_first[len(self.answers)])
        self._show_pair()

    def result(self):
        """(right, pairs answered, p-value) once every pair is answered; None before, so nothing is revealed."""

        if len(self.answers) < len(self.pairs):
            return None
        right = sum(self.answers)
        return right, len(self.answers), binomial_p_value(right, len(self.answers))

    def _ipython_display_(self):
        from IPython.display import display

        display(self.panel)

    def _show_pair(self):
        from IPython.display import display

        self.players.clear_output()
        done = len(self.answers)
        if done == len(self.pairs):
            right, trials, p = self.result()
            for button in self.buttons:
                button.disabled = True
            truth = ", ".join(f"{i + 1}: {'A' if first else 'B'}" for i, first in enumerate(self.bach_first))
            self.title.value = (
                f"<b>{right} of {trials} right.</b> Bach was {truth}. Someone who only guessed would do as well or "
                f"better with probability p = {p:.3f}" + (": hard to put down to luck." if p < 0.05 else ".")
            )
            return
        self.title.value = f"<b>Pair {done + 1} of {len(self.pairs)}:</b> which one is Bach?"
        bach, other = self.pairs[done]
        with self.players:
            for side, tokens in zip("AB", (bach, other) if self.bach_first[done] else (other, bach)):
                print(side)
                display(play(tokens_to_notes(tokens), tempo_bpm=self.tempo_bpm))


def binomial_p_value(correct, trials, chance=0.5):
    """The one-sided binomial test: P(at least `correct` right out of `trials`) for a listener who only guesses.

    Lesson: 07_evaluation

    p = Σ_{j = correct}^{trials} C(trials, j) · chance^j · (1 − chance)^(trials − j). Small p: hard to explain
    by luck; p near 1: no better than guessing.

    Raises:
        ChoiceError: counts that are not whole numbers with 0 <= correct <= trials, or chance outside (0, 1).
    """
    import math

    if not (isinstance(correct, (int, np.integer)) and isinstance(trials, (int, np.integer))) or not (
        0 <= correct <= trials
    ):
        raise ChoiceError(f"The counts must be whole numbers with 0 <= correct <= trials, not {correct} of {trials}.")
    if not 0 < chance < 1:
        raise ChoiceError(f"The chance of a right guess lies strictly between 0 and 1, not {chance}.")
    return float(
        sum(math.comb(trials, j) * chance**j * (1 - chance) ** (trials - j) for j in range(correct, trials + 1))
    )
