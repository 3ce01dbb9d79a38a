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

from .errors import ChoiceError

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
            sequence = [int(t) for t in sequence]
            for i, token in enumerate(sequence):
                for j in range(min(i, self.order - 1) + 1):
                    self.counts[j][self._context(sequence[i - j : i], where, i)][token] += 1
        self._vectors, self._continuations = {}, None
        return self

    def distribution(self, history, position=None):
        """The next-token distribution after a history (and, by position, at a position in the bar): an array of
        vocab_size probabilities summing to 1."""
        if self.by_position and position is None:
            raise ChoiceError("This n-gram conditions on the position in the bar: give the position too.")
        history = tuple(int(t) for t in history)[-(self.order - 1) :] if self.order > 1 else ()
        place = (int(position),) if self.by_position else ()
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

    def _context(self, history, where, i):
        """The key a history is counted under: the tokens, after the position of step i when by position."""
        return ((int(where[i]),) if self.by_position else ()) + tuple(history)

    def _continuation_vector(self, j, context):
        """Like `_vector`, with N₁₊(• context w), the number of different tokens that came before context + w, in
        place of the count of w after the context."""
        key = ("continuation", j, context)
        if key not in self._vectors:
            if self._continuations is None:
                self._continuations = self._count_continuations()
            seen = self._continuations[j].get(context)
            counts = np.zeros(self.vocab_size)
            if seen:
                counts[list(seen)] = list(seen.values())
            self._vectors[key] = (counts, counts.sum(), len(seen) if seen else 0)
        return self._vectors[key]

    def _count_continuations(self):
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
        chain, selected = self._contexts(tuple(history))
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

    def _contexts(self, history):
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
