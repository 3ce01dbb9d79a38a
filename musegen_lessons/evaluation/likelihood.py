"""Scoring melody models on held-out pieces: NLL, accuracy and onset accuracy, for networks and n-grams alike.

Every model, neural or n-gram, is scored the same way: over whole held-out pieces, each token predicted from
all the tokens before it in its piece (the first token of a piece, which has no past, is not scored). Three
numbers: the mean negative log-likelihood per token in nats (lower is better), the next-token accuracy, and the
accuracy on note onsets, the steps whose true token is a pitch, since HOLD alone is about three tokens in four.
`run_baselines` fits and tunes the n-gram rows of lesson 05's table.

Lesson: 05_keras_model
"""

import numpy as np

from musegen_lessons.corpora.dataset import step_positions
from musegen_lessons.families.ngram import NGramModel, tune_ngram
from musegen_lessons.music.encoding import SPECIAL_TOKENS

FIRST_PITCH_ID = len(SPECIAL_TOKENS)  # ids below this are REST and HOLD


def next_token_scores(log_probs, targets):
    """Score predictions: {'nll', 'accuracy', 'onset_accuracy', 'tokens'} from (steps, V) log-probabilities.

    Lesson: 05_keras_model

    nll = −mean ln p(target); accuracy = share of steps whose most probable token is the target;
    onset_accuracy = the same, counted only where the target is a pitch.
    """
    log_probs, targets = np.asarray(log_probs), np.asarray(targets)
    chosen = log_probs[np.arange(len(targets)), targets]
    predicted = log_probs.argmax(axis=1)
    onsets = targets >= FIRST_PITCH_ID
    return {
        "nll": float(-chosen.mean()),
        "accuracy": float((predicted == targets).mean()),
        "onset_accuracy": float((predicted[onsets] == targets[onsets]).mean()) if onsets.any() else float("nan"),
        "tokens": int(len(targets)),
    }


def predict_pieces(model, pieces, vocabulary):
    """A melody model's next-token distributions over whole pieces: [array (len(piece) − 1, vocab_size)], where row t
    of a piece's array is the distribution of its token t + 1, given the tokens before it.

    Lesson: 05_keras_model

    The pieces go through the model as one padded batch, not one call each: the model is causal, so the padding
    after a piece's end cannot change its outputs, and the padded steps are cut away.
    """
    pieces = list(pieces)
    ids = [vocabulary.encode(piece.tokens) for piece in pieces]
    steps = max(len(i) for i in ids) - 1
    tokens, positions = np.zeros((len(pieces), steps), np.int32), np.zeros((len(pieces), steps), np.int32)
    for row, (piece, piece_ids) in enumerate(zip(pieces, ids)):
        tokens[row, : len(piece_ids) - 1] = piece_ids[:-1]
        positions[row, : len(piece_ids) - 1] = step_positions(piece)[:-1]
    probabilities = np.asarray(model({"tokens": tokens, "positions": positions}, training=False))
    return [probabilities[row, : len(i) - 1] for row, i in enumerate(ids)]


def evaluate_model(model, pieces, vocabulary, context=None):
    """Score a melody model on whole pieces (the first token of each is not scored). See `next_token_scores`;
    `piece_losses` adds each piece's summed NLL, for `paired_difference`.

    Lesson: 05_keras_model; 09_wavenet (`context`)

    Args:
        context: predict each token from at most this many tokens before it (a recurrent network's state started
            afresh for every prediction), to measure what a longer past is worth; None: from the whole piece.
    """
    pieces = list(pieces)
    predicted = predict_pieces(model, pieces, vocabulary)
    if context is not None:
        predicted = [_predict_with_context(model, p, vocabulary, context, whole) for p, whole in zip(pieces, predicted)]
    log_probs = [np.log(np.maximum(p, 1e-12)) for p in predicted]
    targets = [vocabulary.encode(piece.tokens)[1:] for piece in pieces]
    return _scores_and_piece_losses(log_probs, targets)


def _predict_with_context(model, piece, vocabulary, context, whole, batch=512):
    """`whole` (one piece's predictions from its whole past) with every row past the first `context` predicted again
    from a window of the last `context` tokens only."""
    ids, positions = vocabulary.encode(piece.tokens), step_positions(piece)
    ends = np.arange(context, len(ids) - 1)  # row k predicts token k + 1 from tokens k − context + 1 … k
    if not len(ends):
        return whole
    rows = ends[:, None] + np.arange(1 - context, 1)[None, :]
    outputs = [
        np.asarray(model({"tokens": ids[rows[i : i + batch]], "positions": positions[rows[i : i + batch]]}))[:, -1]
        for i in range(0, len(rows), batch)
    ]
    limited = whole.copy()
    limited[ends] = np.concatenate(outputs)
    return limited


def _scores_and_piece_losses(log_probs, targets):
    losses = [round(-float(lp[np.arange(len(t)), t].sum()), 4) for lp, t in zip(log_probs, targets)]
    scores = next_token_scores(np.concatenate(log_probs), np.concatenate(targets))
    return {**scores, "piece_losses": losses, "piece_tokens": [int(len(t)) for t in targets]}


def paired_difference(scores, baseline, resamples=2000, seed=0):
    """NLL(scores) − NLL(baseline), two models scored on the same pieces, with a 95% bootstrap interval over pieces.

    Lesson: 05_keras_model

    Each resample draws the test pieces with replacement and recomputes both models' NLL per token on the same draw,
    so the interval says how much the difference owes to which tunes happened to be held out. It does not say how
    much it owes to the training seed: that needs models trained with other seeds.

    Returns:
        {"difference": nats per token, "interval95": [low, high], "pieces": n}
    """
    a, b = np.asarray(scores["piece_losses"]), np.asarray(baseline["piece_losses"])
    if a.shape != b.shape:
        raise ValueError("The two models were not scored on the same pieces.")
    tokens = np.asarray(scores["piece_tokens"], dtype=float)
    draws = np.random.default_rng(seed).integers(0, len(a), (resamples, len(a)))
    differences = (a[draws].sum(axis=1) - b[draws].sum(axis=1)) / tokens[draws].sum(axis=1)
    return {
        "difference": float((a.sum() - b.sum()) / tokens.sum()),
        "interval95": [float(q) for q in np.quantile(differences, [0.025, 0.975])],
        "pieces": int(len(a)),
    }


def sequences_nll(model, sequences, batch_size=256):
    """The mean NLL per token of a next-token model on runs of token ids (N, L + 1): each of the L tokens after the
    first predicted from those before it in its run.

    Lesson: 05_keras_model

    Args:
        model: token ids (batch, steps) in, next-token probabilities (batch, steps, vocab_size) out.
        sequences: (N, L + 1) int token ids, e.g. `MelodyDataset.sequences(split)`.
    """
    sequences = np.asarray(sequences)
    # called batch by batch, not through `predict`, which compiles a new function for every new model it is given
    probabilities = np.concatenate(
        [
            np.asarray(model(sequences[i : i + batch_size, :-1], training=False))
            for i in range(0, len(sequences), batch_size)
        ]
    ).astype(np.float64)
    chosen = np.take_along_axis(probabilities, sequences[:, 1:, None], axis=-1)
    return float(-np.mean(np.log(np.maximum(chosen, 1e-12))))


def spread_verdict(before, before_std, after, after_std, lower_is_better=True):
    """ "better", "worse" or "within the spread": how a change moved a score's mean over seeds, counting only a
    difference larger than the two settings' standard deviations over seeds added together.

    Lesson: 03_cnn_equation, 05_keras_model (the benchmark's questions)
    """
    if abs(after - before) <= before_std + after_std:
        return "within the spread"
    return "better" if (after < before) == lower_is_better else "worse"


def compare_over_seeds(change, before, after, unit="nats per token"):
    """A sentence comparing a loss over training seeds, before and after a change (lower is better).

    Lesson: 03_cnn_equation (the same rule as lesson 05's benchmark questions)

    A difference counts only when it is larger than the two settings' standard deviations over seeds added
    together; a smaller one is said to be within the spread. With one seed each there is no spread to judge by,
    and the sentence says so.

    Args:
        change: what was changed, e.g. "the hidden layer".
        before, after: the loss of each seed without and with the change.
    """
    before, after = np.asarray(before, float), np.asarray(after, float)
    shown = (
        f"from {before.mean():.3f} ± {before.std():.3f} to {after.mean():.3f} ± {after.std():.3f} {unit} "
        f"(mean ± standard deviation over {len(before)} seeds)"
    )
    difference, spread = after.mean() - before.mean(), before.std() + after.std()
    if min(len(before), len(after)) < 2:
        return f"With {change} the loss goes {shown}: one seed, so no spread to judge the difference by."
    verdict = spread_verdict(before.mean(), before.std(), after.mean(), after.std())
    if verdict == "within the spread":
        return f"With {change} the loss goes {shown}: the difference, {difference:+.3f}, is within the spread."
    verdict = "lowers" if verdict == "better" else "raises"
    return (
        f"{change[0].upper()}{change[1:]} {verdict} the loss {shown}: a difference of {difference:+.3f}, larger "
        f"than the two spreads together ({spread:.3f})."
    )


def evaluate_ngram(ngram, pieces, vocabulary):
    """Score an n-gram model on whole pieces, exactly as `evaluate_model` scores a network.

    Lesson: 05_keras_model
    """
    log_probs, targets = [], []
    for piece in pieces:
        ids = vocabulary.encode(piece.tokens)
        positions = step_positions(piece) if ngram.by_position else None
        log_probs.append(np.log(ngram.distributions(ids, positions)[1:]))
        targets.append(ids[1:])
    return _scores_and_piece_losses(log_probs, targets)


def run_baselines(dataset, orders=(1, 2, 3, 4, 5), long_orders=(6, 8, 12, 16)):
    """Fit and tune the n-gram baselines on a dataset's splits; return one row per model for the results table.

    Lesson: 05_keras_model

    Orders 1 to 5 each get the smoothing (add-k, absolute discounting, Witten–Bell or Kneser–Ney) that does best on
    the validation split; the long-context model is the order from `long_orders` and the smoothing (Witten–Bell or
    Kneser–Ney) that do best there. The n-gram by position, which also knows where in the bar the next token falls,
    as the network does, is Witten–Bell with the order that does best.
    """
    vocabulary, size = dataset.vocabulary, len(dataset.vocabulary)
    encoded = {split: [vocabulary.encode(p.tokens) for p in pieces] for split, pieces in dataset.pieces.items()}
    rows = []
    for order in orders:
        model, _ = tune_ngram(order, encoded["train"], encoded["valid"], size)
        rows.append(_baseline_row(f"{order}-gram", model, dataset, vocabulary))
    long_smoothings = [("witten-bell", {})] + [("kneser-ney", {"discount": d}) for d in (0.5, 0.7, 0.9)]
    candidates = [
        tune_ngram(order, encoded["train"], encoded["valid"], size, long_smoothings)[0] for order in long_orders
    ]
    best = min(candidates, key=lambda m: m.nll(encoded["valid"]))
    rows.append(_baseline_row(f"long-context {best.order}-gram", best, dataset, vocabulary))
    positions = {split: [step_positions(p) for p in pieces] for split, pieces in dataset.pieces.items()}
    candidates = [
        NGramModel(order, size, by_position=True).fit(encoded["train"], positions["train"])
        for order in orders + tuple(long_orders)
    ]
    best = min(candidates, key=lambda m: m.nll(encoded["valid"], positions["valid"]))
    rows.append(_baseline_row(f"{best.order}-gram by position", best, dataset, vocabulary))
    return rows


def _baseline_row(name, model, dataset, vocabulary):
    return {
        "model": name,
        "smoothing": repr(model),
        "parameters": _ngram_size(model),
        "valid": evaluate_ngram(model, dataset.pieces["valid"], vocabulary),
        "test": evaluate_ngram(model, dataset.pieces["test"], vocabulary),
    }


def _ngram_size(model):
    """The number of stored counts: the n-gram's equivalent of a parameter count."""
    return int(sum(len(counter) for table in model.counts for counter in table.values()))
