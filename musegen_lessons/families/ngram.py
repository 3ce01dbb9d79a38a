"""Statistical baselines: n-gram models of token sequences, the yardstick every neural model must beat.

An n-gram model predicts the next token from the previous n − 1 tokens by counting how often each token
followed them in training. Raw counts give probability 0 to anything unseen, so the counts are *smoothed*.
Three classic ways, each tuned on the validation split in lesson 05:

- **add-k**: P(w | h) = (c(h, w) + k) / (c(h) + k·V), on the full context only;
- **absolute discounting** (interpolated): P(w | h) = max(c(h, w) − D, 0) / c(h) + D·T(h) / c(h) · P(w | h');
- **Witten–Bell** (interpolated): P(w | h) = (c(h, w) + T(h) · P(w | h')) / (c(h) + T(h));
- **Kneser–Ney** (interpolated; Kneser & Ney 1995, Chen & Goodman 1999): absolute discounting in which every
  shorter context counts not how often w followed it but after how many different tokens it did, N₁₊(• h' w):
  a token that always follows the same one is no evidence for it elsewhere,

where c(h) counts context h, c(h, w) counts w after h, T(h) is the number of different tokens seen after h, V
is the vocabulary size and h' is h without its oldest token. The interpolated recursions end in the uniform
distribution 1 / V, so no token ever has probability 0.

An n-gram **by position** (`by_position=True`) also conditions on where in the bar the next token falls, as the
network's beat input lets it: every context, the empty one included, carries that position, so its shortest
context is "what comes at this place in the bar".

Lesson: 02_preprocessing (a long-context n-gram shows the leaks); 05_keras_model (the baselines)
"""

from collections import Counter, defaultdict

import numpy as np

from musegen_lessons.errors import ChoiceError

SMOOTHINGS = ("witten-bell", "add-k", "absolute", "kneser-ney")


class NGramModel:
    """An n-gram model over token ids 0 .. vocab_size − 1, with one of three smoothings.

    Lesson: 02_preprocessing, 05_keras_model

    Args:
        order: n; order 1 is the unigram (no context), order 5 sees the 4 previous tokens.
        vocab_size: the number of token ids.
        smoothing: 'witten-bell' (no parameter), 'add-k' (uses `k`), 'absolute' or 'kneser-ney' (use `discount`).
        by_position: condition on the position in the bar of the token predicted too; then every method that
            takes sequences takes, beside them, the position of every step (`dataset.step_positions`).
    """

    def __init__(self, order, vocab_size, smoothing="witten-bell", k=0.1, discount=0.7, by_position=False):
        if order < 1:
            raise ChoiceError(f"An n-gram has order 1 or more (order 1 is the unigram), not {order}.")
        if smoothing not in SMOOTHINGS:
            raise ChoiceError(f"smoothing must be one of {SMOOTHINGS}, not {smoothing!r}")
        if smoothing == "add-k" and not k > 0:
            raise ChoiceError(f"add-k smoothing needs k > 0, not {k}: with k = 0 unseen tokens get probability 0.")
        if smoothing in ("absolute", "kneser-ney") and not 0 < discount < 1:
            raise ChoiceError(f"{smoothing} smoothing needs 0 < discount < 1, not {discount}.")
        self.order, self.vocab_size, self.smoothing = int(order), int(vocab_size), smoothing
        self.k, self.discount = float(k), float(discount)
        self.by_position = bool(by_position)
        # counts[j][context of length j] -> Counter of the next token
        self.counts = [defaultdict(Counter) for _ in range(self.order)]
        self._vectors, self._continuations = {}, None

    def __repr__(self):
        parameter = {
            "add-k": f", k={self.k:g}",
            "absolute": f", D={self.discount:g}",
            "kneser-ney": f", D={self.discount:g}",
        }
        parameter = parameter.get(self.smoothing, "")
        position = ", by position" if self.by_position else ""
        return f"NGramModel(order={self.order}, {self.smoothing}{parameter}{position})"

    def fit(self, sequences, positions=None):
        """Count every n-gram in the sequences (iterables of token ids). Returns self."""
        for sequence, where in self._with_positions(sequences, positions):
            sequence = tuple(int(t) for t in sequence)
            for i, token in enumerate(sequence):
                # the key a history is counted under: its tokens, after the position of step i when by position
                place = (int(where[i]),) if self.by_position else ()
                for j in range(min(i, self.order - 1) + 1):
                    self.counts[j][place + sequence[i - j : i]][token] += 1
        self._vectors, self._continuations = {}, None
        return self

    def distribution(self, history, position=None):
        """The next-token distribution after a history (and, by position, at a position in the bar): an array of
        vocab_size probabilities summing to 1."""
        if self.by_position and position is None:
            raise ChoiceError("This n-gram conditions on the position in the bar: give the position too.")
        history = tuple(int(t) for t in history)[-(self.order - 1) :] if self.order > 1 else ()
        place = (int(position),) if self.by_position else ()
        # Melodies repeat their contexts (held notes above all), so each distribution is worked out once.
        key = ("distribution", place + history)
        if key not in self._vectors:
            self._vectors[key] = self._smoothed(place, history)
            self._vectors[key].setflags(write=False)  # shared by every caller: read-only, so none can change it
        return self._vectors[key]

    def _smoothed(self, place, history):
        """The distribution after a history (its last order − 1 tokens) at a place (the position, or ()), smoothed."""
        if self.smoothing == "add-k":
            counts, total, _ = self._vector(len(history), place + history)
            return (counts + self.k) / (total + self.k * self.vocab_size)
        p = np.full(self.vocab_size, 1.0 / self.vocab_size)
        for j in range(len(history) + 1):
            context = place + history[len(history) - j :]
            # Kneser–Ney: every context below the longest counts continuations, not occurrences
            continued = self.smoothing == "kneser-ney" and j < len(history)
            counts, total, types = self._continuation_vector(j, context) if continued else self._vector(j, context)
            if total == 0:
                break  # a longer context that contains an unseen one is unseen too
            if self.smoothing == "witten-bell":
                p = (counts + types * p) / (total + types)
            else:
                p = np.maximum(counts - self.discount, 0) / total + self.discount * types / total * p
        return p

    def probability(self, token, history, position=None):
        """P(token | the last order − 1 tokens of history)."""
        return float(self.distribution(history, position)[int(token)])

    def token_log_probs(self, sequence, positions=None):
        """ln P of every token of a sequence given the tokens before it (the first token has no context)."""
        predicted = self.distributions(sequence, positions)
        return np.log(predicted[np.arange(len(sequence)), np.asarray(sequence, dtype=int)])

    def distributions(self, sequence, positions=None):
        """The predicted distribution before every token of a sequence: shape (len(sequence), vocab_size)."""
        [(sequence, where)] = self._with_positions([sequence], None if positions is None else [positions])
        sequence = [int(t) for t in sequence]
        return np.array(
            [
                self.distribution(sequence[max(0, i - self.order + 1) : i], None if where is None else where[i])
                for i in range(len(sequence))
            ]
        )

    def nll(self, sequences, positions=None):
        """Mean negative log-likelihood per token, in nats, over held-out sequences."""
        pairs = self._with_positions(sequences, positions)
        log_probs = np.concatenate([self.token_log_probs(s, where) for s, where in pairs])
        return float(-log_probs.mean())

    def _with_positions(self, sequences, positions):
        """(sequence, its positions or None) pairs, refusing positions missing where they are needed."""
        sequences = list(sequences)
        if not self.by_position:
            return [(s, None) for s in sequences]
        if positions is None:
            raise ChoiceError("This n-gram conditions on the position in the bar: give the positions of every step.")
        positions = list(positions)
        if [len(p) for p in positions] != [len(s) for s in sequences]:
            raise ChoiceError("Give one position per step of every sequence (`dataset.step_positions`).")
        return list(zip(sequences, positions))

    def _continuation_vector(self, j, context):
        """Like `_vector`, with N₁₊(• context w), the number of different tokens that came before context + w, in
        place of the count of w after the context."""
        key = ("continuation", j, context)
        if key not in self._vectors:
            if self._continuations is None:
                self._continuations = self.continuation_counts()
            seen = self._continuations[j].get(context)
            counts = np.zeros(self.vocab_size)
            if seen:
                counts[list(seen)] = list(seen.values())
            self._vectors[key] = (counts, counts.sum(), len(seen) if seen else 0)
        return self._vectors[key]

    def continuation_counts(self):
        """continuations[j][context of length j][w] = N₁₊(• context w), from the counts one order up."""
        place = 1 if self.by_position else 0
        continuations = [defaultdict(Counter) for _ in range(self.order - 1)]
        for j in range(self.order - 1):
            for longer, following in self.counts[j + 1].items():
                shorter = longer[:place] + longer[place + 1 :]  # without its oldest token
                for token in following:
                    continuations[j][shorter][token] += 1
        return continuations

    def _vector(self, j, context):
        """(counts as a vocab_size array, their total, the number of distinct next tokens) after a context."""
        key = (j, context)
        if key not in self._vectors:
            seen = self.counts[j].get(context) if j < self.order else None
            counts = np.zeros(self.vocab_size)
            if seen:
                counts[list(seen)] = list(seen.values())
            self._vectors[key] = (counts, counts.sum(), len(seen) if seen else 0)
        return self._vectors[key]


def tune_ngram(order, train, valid, vocab_size, smoothings=None):
    """Fit an n-gram of one order with every smoothing setting and keep the best on the validation split.

    Lesson: 05_keras_model

    Returns:
        (best model, {description: validation NLL}) for every setting tried.
    """
    settings = smoothings or (
        [("witten-bell", {})]
        + [("add-k", {"k": k}) for k in (0.001, 0.01, 0.1, 1.0)]
        + [("absolute", {"discount": d}) for d in (0.5, 0.7, 0.9)]
        + [("kneser-ney", {"discount": d}) for d in (0.5, 0.7, 0.9)]
    )
    train, valid = list(train), list(valid)
    base = NGramModel(order, vocab_size).fit(train)
    tried, best, best_nll = {}, None, np.inf
    for smoothing, parameters in settings:
        model = NGramModel(order, vocab_size, smoothing, **parameters)
        model.counts = base.counts  # the counts are the same; only the smoothing differs
        nll = model.nll(valid)
        tried[repr(model)] = nll
        if nll < best_nll:
            best, best_nll = model, nll
    return best, tried
