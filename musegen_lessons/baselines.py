"""Statistical baselines: n-gram models of token sequences, the yardstick every neural model must beat.

An n-gram model predicts the next token from the previous n − 1 tokens by counting. This module smooths the
counts with interpolated Witten–Bell smoothing, which gives every token a share of probability even in
contexts never seen in training:

    P(w | h) = (c(h, w) + T(h) · P(w | h')) / (c(h) + T(h))

where c(h) counts context h, c(h, w) counts w after h, T(h) is the number of different tokens seen after h,
and h' is h without its oldest token. The recursion ends in the uniform distribution 1 / V.

Lesson: 02_preprocessing (a long-context n-gram shows the leaks); 05_keras_model (the baselines)
"""

import math
from collections import Counter, defaultdict

import numpy as np


class NGramModel:
    """An interpolated Witten–Bell n-gram model over token ids 0 .. vocab_size − 1.

    Lesson: 02_preprocessing
    """

    def __init__(self, order, vocab_size):
        if order < 1:
            raise ValueError(f"An n-gram has order 1 or more (order 1 is the unigram), not {order}.")
        self.order = int(order)
        self.vocab_size = int(vocab_size)
        # counts[k][context of length k] -> Counter of the next token
        self.counts = [defaultdict(Counter) for _ in range(self.order)]

    def fit(self, sequences):
        """Count every n-gram in the sequences (iterables of token ids). Returns self."""
        for sequence in sequences:
            sequence = [int(t) for t in sequence]
            for i, token in enumerate(sequence):
                for k in range(min(i, self.order - 1) + 1):
                    self.counts[k][tuple(sequence[i - k : i])][token] += 1
        return self

    def probability(self, token, history):
        """P(token | the last order − 1 tokens of history)."""
        p = 1.0 / self.vocab_size
        history = tuple(int(t) for t in history)
        for k in range(min(len(history), self.order - 1) + 1):
            seen = self.counts[k].get(history[len(history) - k :])
            if not seen:
                break  # a longer context containing an unseen one is unseen too
            total, types = seen.total(), len(seen)
            p = (seen[int(token)] + types * p) / (total + types)
        return p

    def distribution(self, history):
        """The whole next-token distribution after a history: an array of vocab_size probabilities summing to 1."""
        return np.array([self.probability(token, history) for token in range(self.vocab_size)])

    def token_log_probs(self, sequence):
        """ln P of every token of a sequence given the tokens before it (the first token has no context)."""
        sequence = [int(t) for t in sequence]
        return np.array([math.log(self.probability(t, sequence[max(0, i - self.order + 1) : i]))
                         for i, t in enumerate(sequence)])

    def nll(self, sequences):
        """Mean negative log-likelihood per token, in nats, over held-out sequences."""
        log_probs = np.concatenate([self.token_log_probs(s) for s in sequences])
        return float(-log_probs.mean())
