"""PPM, prediction by partial match (Cleary and Witten 1984; Moffat 1990; Pearce 2005): the variable-order Markov
models that IDyOM builds on, and the published protocol's baselines.

A context of order n is the n symbols before the one predicted. PPM counts what followed every context up to its
order bound (or, as PPM*, the shortest deterministic context where there is one), predicts from the longest context
it has seen, and *escapes* to the next shorter one for what that context has never been followed by; the escape
method (A, B, C, D or X) says how much probability each context keeps (`PPM` says how each is counted, and the
other choices: blending or interpolation, exclusion, update exclusion). `predict_sequence` combines a long-term
model (optionally learning each test melody as it goes, LTM+) with a short-term model of the melody being
predicted, by IDyOM's entropy-weighted arithmetic or geometric mean (`combine_distributions`).

Lesson: 05_keras_model (the published table)
"""

from collections import defaultdict

import numpy as np

from musegen_lessons.errors import ChoiceError

ESCAPES = ("a", "b", "c", "d", "x")
EXCLUDES = ("predicted", "seen")
# Each escape method as Bunton's weighting λ(s) = count(s) / (count(s) + t(s) / d) with every count shifted by k
# (Pearce 2005, §6.2.3.4): B and D make a symbol novel until it has been seen twice, or one and a half times.
_ESCAPE_K = {"a": 0.0, "b": -1.0, "c": 0.0, "d": -0.5, "x": 0.0}
_ESCAPE_D = {"a": 1.0, "b": 1.0, "c": 1.0, "d": 2.0, "x": 1.0}


class PPM:
    """Prediction by Partial Match: the n-gram of data compression and of IDyOM's models of melody.

    Lesson: 05_keras_model (the published table)

    PPM predicts a symbol from the longest context it has seen and *escapes* to shorter contexts for symbols that
    context has never been followed by, down to the order −1 model, a uniform distribution. How much probability
    each context keeps, λ(s) = n(s) / (n(s) + t(s) / d), is the *escape method* (n counts the context's symbols,
    each count shifted by k; t counts its symbol types):

    - A: the escape is one count, λ = n / (n + 1);
    - B: a symbol is novel until it has been seen twice (k = −1), t types of escape;
    - C: t types of escape (Witten–Bell);
    - D: half of B (k = −½, d = 2);
    - X (AX): t counts only the types seen once, plus one.

    The other choices, each as Pearce (2005, ch. 6) and IDyOM's `ppm-star.lisp` make them:

    - `interpolated=False` **blends** (backs off): a symbol seen in a context gets λ·count/n there, the rest of the
      probability goes down to the next shorter context for the others. `True` **interpolates**: every context
      adds its share to every symbol it has seen.
    - **exclusion** (always on): a shorter context does not count the symbols the longer one above it predicted.
      Under escape B a symbol seen once in a context is novel there (Pearce 2005, §6.2.3.2), so `exclude='predicted'`
      lets a shorter context predict it; `'seen'` leaves it out below too, as IDyOM's code does. The other escape
      methods predict every symbol they have seen, so for them the two are the same.
    - `update_exclusion=True`: after a symbol, only the contexts it was novel in, and the longest it had been seen
      in, count it (Moffat 1990).
    - `order`: the longest context used (a global order bound); None is **PPM\\***: the shortest *deterministic*
      context (one that only one symbol has ever followed) if there is one, else the longest context seen.

    Every distribution is renormalised to sum to 1, as IDyOM's are.

    Args:
        alphabet_size: symbols are the integers 0 .. alphabet_size − 1.
    """

    def __init__(
        self, alphabet_size, order=None, escape="c", interpolated=True, update_exclusion=False, exclude="predicted"
    ):
        if exclude not in EXCLUDES:
            raise ChoiceError(f"exclude must be one of {EXCLUDES}, not {exclude!r}")
        if escape not in ESCAPES:
            raise ChoiceError(f"escape must be one of {ESCAPES}, not {escape!r}")
        if order is not None and order < 0:
            raise ChoiceError(f"A PPM order bound is 0 or more (or None for PPM*), not {order}.")
        if alphabet_size < 1:
            raise ChoiceError(f"A PPM model needs an alphabet of one symbol or more, not {alphabet_size}.")
        self.alphabet_size, self.order, self.escape = int(alphabet_size), order, escape
        self.interpolated, self.update_exclusion = bool(interpolated), bool(update_exclusion)
        self.k, self.d, self.exclude = _ESCAPE_K[escape], _ESCAPE_D[escape], exclude
        # context (a tuple of symbols) -> {symbol: [full count, update-excluded count]}
        self.counts = defaultdict(dict)

    def __repr__(self):
        return f"PPM({self.name})"

    @property
    def name(self):
        """Pearce's short name: escape method, order bound (* for PPM*), U for update exclusion, I for
        interpolation: 'C*I', 'B3'."""
        order = "*" if self.order is None else str(self.order)
        return f"{self.escape.upper()}{order}{'U' if self.update_exclusion else ''}{'I' if self.interpolated else ''}"

    def fit(self, sequences):
        """Learn every event of every sequence (lists of symbols). Returns self."""
        for sequence in sequences:
            sequence = [int(s) for s in sequence]
            for i in range(len(sequence)):
                self.update(sequence[:i], sequence[i])
        return self

    def update(self, history, symbol):
        """Learn that `symbol` followed `history` (the events before it in its sequence)."""
        if not 0 <= symbol < self.alphabet_size:
            raise ChoiceError(f"Symbol {symbol} is outside this PPM model's alphabet 0 .. {self.alphabet_size - 1}.")
        history = tuple(history)
        longest = len(history) if self.order is None else min(len(history), self.order)
        counted = False  # update exclusion: seen in a longer context already, so not counted below it
        for length in range(longest, -1, -1):
            counts = self.counts[history[len(history) - length :]].setdefault(symbol, [0, 0])
            novel = counts[0] == 0
            counts[0] += 1
            if not counted:
                counts[1] += 1
                counted = not novel

    def distribution(self, history):
        """The distribution of the next symbol after `history`: an array of alphabet_size probabilities."""
        chain, selected = self.contexts(tuple(history))
        p, escape, excluded = np.zeros(self.alphabet_size), 1.0, frozenset()
        for i, context in enumerate(chain):
            # Bunton's rule for PPM*: the selected context uses its full counts, the ones below it excluded counts.
            column = 1 if self.update_exclusion and not (i == 0 and selected) else 0
            seen = {s: c[column] for s, c in self.counts.get(context, {}).items() if c[column] > 0}
            types = sum(c == 1 for c in seen.values()) + 1 if self.escape == "x" else len(seen)
            total = sum(c + self.k for s, c in seen.items() if s not in excluded)
            denominator = total + (1.0 if self.escape == "a" else types / self.d)
            weight = total / denominator if denominator > 0 else 0.0
            for s, c in seen.items():
                share = weight * (c + self.k) / total if total > 0 else 0.0
                if self.interpolated:
                    p[s] += escape * share
                elif s not in excluded and share > 0:
                    p[s] = escape * share
            # Exclusion: the next context leaves out what this one predicted (under B, not a symbol seen only once)
            excluded = frozenset(s for s, c in seen.items() if self.exclude == "seen" or c + self.k > 0)
            escape *= 1.0 - weight
        # Order −1: uniform over the symbols the empty context does not predict (plus one, as IDyOM counts them).
        uniform = 1.0 / (self.alphabet_size + 1 - len(excluded))
        if self.interpolated:
            p += escape * uniform
        else:
            p[p == 0] += escape * uniform
        return p / p.sum()

    def contexts(self, history):
        """The contexts to mix, longest first, each the previous without its oldest symbol, ending with the empty
        one; and whether the first was chosen by PPM*'s rule rather than being the longest seen."""

        def suffix(n):
            return history[len(history) - n :] if n else ()

        longest = len(history) if self.order is None else min(len(history), self.order)
        while longest > 0 and suffix(longest) not in self.counts:
            longest -= 1
        start = longest
        if self.order is None:  # PPM*: down a run of deterministic contexts to its shortest (never the empty one)
            while start > 0 and len(self.counts[suffix(start)]) == 1:
                start -= 1
            start = longest if start == longest else start + 1
        return [suffix(n) for n in range(start, -1, -1)], start < longest


COMBINATIONS = ("arithmetic", "geometric")


def combine_distributions(distributions, bias=2, combination="arithmetic"):
    """Combine several models' distributions over the same symbols into one, trusting the more certain more.

    Lesson: 05_keras_model (the published table)

    Each model m gets the weight w_m = H_rel(p_m)^(−b), where H_rel = H(p_m) / log₂|alphabet| is its entropy relative
    to the uniform distribution's, and b is the `bias` (Conklin 1990; Pearce 2005, eq. 6.9). 'arithmetic' averages
    the probabilities, p = Σ w_m p_m / Σ w_m (Pearce, ch. 6); 'geometric' averages the log-probabilities and
    renormalises (Pearce, ch. 7; IDyOM's default today).
    """
    if combination not in COMBINATIONS:
        raise ChoiceError(f"combination must be one of {COMBINATIONS}, not {combination!r}")
    p = np.asarray(distributions, dtype=float)
    size = p.shape[-1]
    entropy = -(p * np.log2(np.maximum(p, 1e-300))).sum(axis=-1)
    relative = entropy / np.log2(size) if size > 1 else np.ones(len(p))
    weights = np.maximum(relative, 1e-12) ** (-float(bias))
    if combination == "arithmetic":
        return weights @ p / weights.sum()
    mixed = np.exp(weights @ np.log(np.maximum(p, 1e-300)) / weights.sum())
    return mixed / mixed.sum()


def predict_sequence(sequence, ltm=None, stm=None, learn=True, bias=2, combination="arithmetic"):
    """Predict every event of a sequence from the events before it, as IDyOM does: with a long-term model, a
    short-term model, or both combined (`combine_distributions`).

    Lesson: 05_keras_model (the published table)

    Args:
        ltm: a PPM trained on other sequences (the long-term model), or None. With `learn`, it also learns each event
            once it has been predicted, and keeps it for the sequences that follow (Pearce's LTM+).
        stm: an empty PPM (the short-term model), or None: it learns this sequence only, event by event, and
            predicts from what it has seen of it so far.

    Returns:
        an array (len(sequence), alphabet size): row i is the distribution of event i.
    """
    models = [m for m in (ltm, stm) if m is not None]
    if not models:
        raise ChoiceError("Give a long-term model, a short-term model or both to predict with.")
    sequence = [int(s) for s in sequence]
    predicted = []
    for i, symbol in enumerate(sequence):
        history = sequence[:i]
        distributions = [m.distribution(history) for m in models]
        predicted.append(
            distributions[0] if len(models) == 1 else combine_distributions(distributions, bias, combination)
        )
        if ltm is not None and learn:
            ltm.update(history, symbol)
        if stm is not None:
            stm.update(history, symbol)
    return np.array(predicted).reshape(len(sequence), models[0].alphabet_size)
