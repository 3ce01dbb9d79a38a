"""The melody Transformer: a decoder-only stack of relative self-attention, as the Music Transformer, on melody tokens.

Each block is pre-norm, as most Transformers since GPT-2:

    h = x + Attention(LayerNorm(x)),   x' = h + W_2 relu(W_1 LayerNorm(h) + b_1) + b_2

with the Music Transformer's relative attention (`attention.relative_attention`, skewing and all) in every head.
The tokens and the beat enter as in lesson 05 (`inputs.embed_melody_inputs`); nothing else says where a step is,
since the relative positions say how far back each key lies. `RelativeAttention` is the Keras layer; numpy mirrors
the whole model (`transformer_forward`) and runs it one step at a time with a cache of keys and values
(`CachedTransformerGenerator`), both proven equal to Keras in the tests.

Training follows the idea behind every large model since: pretrain on much data (the Essen folk songs of lesson
02, 1.5 million tokens), then fine-tune on little (the chorales, 60 thousand). `train_transformer` does both, or the
chorales alone, within one budget of training steps.

Lesson: 10_transformer
"""

import numpy as np

from musegen_lessons.corpora.dataset import make_tf_dataset
from musegen_lessons.errors import ChoiceError, ModelFileError
from musegen_lessons.families.inputs import MAX_BAR_STEPS, embed_melody_inputs
from musegen_lessons.families.sampling import RecomputingGenerator, register_family
from musegen_lessons.families.saving import load_melody_model
from musegen_lessons.families.training import compile_melody_model, fit
from musegen_lessons.layers.activations import softmax
from musegen_lessons.layers.attention import multi_head_attention, relative_distances
from musegen_lessons.layers.normalisation import layer_norm

MODEL_NAME = "melody_transformer"  # what its Keras models are named, and the name it registers under
# The full budget, in training steps of 16 windows of 128 steps (about 270 s on 2 cores): chorales alone spend it all
# on the chorales; pretrained, the first half goes to the folk songs. Chosen on the valid split, where both were still
# improving at the end of it. `make bench` and `musegen train --architecture transformer` train with it.
TRANSFORMER_TRAINING = {
    "window_steps": 128,
    "batch_size": 16,
    "steps": 1100,
    "steps_per_round": 110,  # validation (and early stopping) after every round of this many steps
    "pretrain_share": 0.5,
    "learning_rate": 1e-3,
    "finetune_learning_rate": 5e-4,
    "patience": 4,
}


def build_transformer_model(
    vocab_size,
    model_dim=128,
    position_dim=8,
    heads=4,
    layers=2,
    feedforward_dim=256,
    max_distance=TRANSFORMER_TRAINING["window_steps"],
    dropout=0.2,
    name=MODEL_NAME,
):
    """Build the melody Transformer: tokens and positions in, a next-token distribution at every step out.

    Lesson: 10_transformer

    The token embedding is `model_dim − position_dim` wide and the beat embedding `position_dim`, side by side:
    `model_dim` in all. Layer names: attention_norm_i, attention_i (`RelativeAttention`), feedforward_norm_i,
    feedforward_i, feedforward_out_i for block i, then final_norm and next_token.
    """
    import keras

    # Deferred: the layer's module imports Keras, which importing this module must not.
    from musegen_lessons.layers.relative_attention import RelativeAttention

    inputs, x = embed_melody_inputs(vocab_size, model_dim - position_dim, position_dim)
    for block in range(1, layers + 1):
        h = keras.layers.LayerNormalization(name=f"attention_norm_{block}")(x)
        h = RelativeAttention(heads, model_dim // heads, max_distance, dropout, name=f"attention_{block}")(h)
        x = keras.layers.Add(name=f"attention_residual_{block}")([x, keras.layers.Dropout(dropout)(h)])
        h = keras.layers.LayerNormalization(name=f"feedforward_norm_{block}")(x)
        h = keras.layers.Dense(feedforward_dim, activation="relu", name=f"feedforward_{block}")(h)
        h = keras.layers.Dense(model_dim, name=f"feedforward_out_{block}")(h)
        x = keras.layers.Add(name=f"feedforward_residual_{block}")([x, keras.layers.Dropout(dropout)(h)])
    x = keras.layers.LayerNormalization(name="final_norm")(x)
    probabilities = keras.layers.Dense(vocab_size, activation="softmax", name="next_token")(x)
    return keras.Model(inputs, probabilities, name=name)


def transformer_weights(model):
    """The melody Transformer's weights as float64 numpy arrays, for `transformer_forward` and the generators.

    Lesson: 10_transformer

    Returns:
        {'token', 'beat': embedding tables; 'blocks': [{'attention_norm': (gamma, beta, epsilon), 'attention':
        {'query', 'key', 'value', 'output': (kernel, bias)}, 'relative': (heads, distances, dk),
        'feedforward_norm', 'feedforward': (W_1, b_1), 'feedforward_out': (W_2, b_2)}]; 'final_norm'; 'dense'}.
    """

    def arrays(name):
        return [np.asarray(w, dtype=np.float64) for w in model.get_layer(name).get_weights()]

    def norm(name):
        return (*arrays(name), float(model.get_layer(name).epsilon))

    blocks = []
    for block in range(1, sum(layer.name.startswith("attention_norm_") for layer in model.layers) + 1):
        q, bq, k, bk, v, bv, o, bo, relative = arrays(f"attention_{block}")
        blocks.append(
            {
                "attention_norm": norm(f"attention_norm_{block}"),
                "attention": {"query": (q, bq), "key": (k, bk), "value": (v, bv), "output": (o, bo)},
                "relative": relative,
                "feedforward_norm": norm(f"feedforward_norm_{block}"),
                "feedforward": tuple(arrays(f"feedforward_{block}")),
                "feedforward_out": tuple(arrays(f"feedforward_out_{block}")),
            }
        )
    names = {layer.name for layer in model.layers}
    (beat,) = arrays("beat_embedding") if "beat_embedding" in names else [np.zeros((MAX_BAR_STEPS, 0))]
    return {
        "token": arrays("token_embedding")[0],
        "beat": beat,
        "blocks": blocks,
        "final_norm": norm("final_norm"),
        "dense": tuple(arrays("next_token")),
    }


def embed_steps(weights, ids, positions):
    """What enters the first block: each step's token vector beside its beat vector, (steps, model_dim).

    Lesson: 10_transformer
    """
    return np.concatenate([weights["token"][np.asarray(ids)], weights["beat"][np.asarray(positions)]], axis=-1)


def transformer_forward(weights, ids, positions):
    """The melody Transformer in numpy, over a whole sequence at once.

    Lesson: 10_transformer

    Returns:
        (probabilities (steps, vocab): row t the distribution of token t + 1; attention weights, one (heads, steps,
        steps) array per block: row i of a head says how much query step i took from each key step).
    """

    x = embed_steps(weights, ids, positions)
    maps = []
    for block in weights["blocks"]:
        attended, attention = multi_head_attention(
            layer_norm(x, *block["attention_norm"]), block["attention"], relative=block["relative"]
        )
        x = x + attended
        maps.append(attention)
        x = x + _feedforward(block, layer_norm(x, *block["feedforward_norm"]))
    logits = layer_norm(x, *weights["final_norm"]) @ weights["dense"][0] + weights["dense"][1]
    return softmax(logits), maps


def _feedforward(block, x):
    (w1, b1), (w2, b2) = block["feedforward"], block["feedforward_out"]
    return np.maximum(x @ w1 + b1, 0.0) @ w2 + b2


class RecomputeTransformerGenerator(RecomputingGenerator):
    """The naive way to generate: at every step, run the whole Transformer over every step so far.

    Lesson: 10_transformer

    Step t costs the network's work on t steps, and attention's share of it t²: a melody of L steps costs of
    order L³ in all. A step generator of lesson 06: `step(token, position)` returns the next token's distribution.
    """

    def __init__(self, model):
        self.weights = transformer_weights(model)
        self.reset()

    def predict_last(self):
        return transformer_forward(self.weights, self.ids, self.positions)[0][-1]


class CachedTransformerGenerator:
    """The fast way: keep every step's keys and values, so that a new step computes only its own query, key and
    value and attends over the cache.

    Lesson: 10_transformer

    The past never changes in a causal model, so neither do its keys and values: step t projects its one input,
    appends its key and value to each block's cache, and attends with its one query over the t + 1 cached ones. A
    step then costs the fixed work of the projections and feed-forward layers plus attention over t keys: it slows
    down as the melody grows, where the LSTM's step costs the same at every length. Numpy in float64; the cache
    doubles its room whenever it fills.
    """

    def __init__(self, model):
        w = transformer_weights(model)
        self.weights = w
        self.blocks = []
        for block in w["blocks"]:
            a = block["attention"]
            # the three projections as one (d, 3 · heads · dk) matrix: one product per step
            kernel = np.concatenate([a[n][0].reshape(a[n][0].shape[0], -1) for n in ("query", "key", "value")], 1)
            bias = np.concatenate([a[n][1].ravel() for n in ("query", "key", "value")])
            heads, dk = a["query"][1].shape
            output = a["output"][0].reshape(heads * dk, -1)
            self.blocks.append((block, kernel, bias, heads, dk, output, a["output"][1]))
        self.reset()

    def reset(self, room=256):
        self.length = 0
        self.keys = [np.zeros((heads, room, dk)) for _, _, _, heads, dk, _, _ in self.blocks]
        self.values = [np.zeros((heads, room, dk)) for _, _, _, heads, dk, _, _ in self.blocks]

    def prime(self, ids, positions):
        """Take these steps as the music so far: each is fed, since the cache is made of what the steps compute."""
        for token, position in zip(ids, positions):
            self.step(int(token), int(position))

    def step(self, token, position):
        w, t = self.weights, self.length
        if t == self.keys[0].shape[1]:  # full: double the room
            self.keys = [np.concatenate([k, np.zeros_like(k)], axis=1) for k in self.keys]
            self.values = [np.concatenate([v, np.zeros_like(v)], axis=1) for v in self.values]
        x = embed_steps(w, token, position)
        for (block, kernel, bias, heads, dk, output, output_bias), keys, values in zip(
            self.blocks, self.keys, self.values
        ):
            q, k, v = (layer_norm(x, *block["attention_norm"]) @ kernel + bias).reshape(3, heads, dk)
            keys[:, t], values[:, t] = k, v
            # q · k_j for every cached key j, plus q · e_{t − j}: the relative term, one distance per key
            relative = np.einsum("hk,hrk->hr", q, block["relative"])[
                :, relative_distances(t + 1, len(block["relative"][0]))
            ]
            logits = (np.einsum("hk,hjk->hj", q, keys[:, : t + 1]) + relative) / np.sqrt(dk)
            a = softmax(logits, axis=1)
            x = x + np.einsum("hj,hjk->hk", a, values[:, : t + 1]).ravel() @ output + output_bias
            x = x + _feedforward(block, layer_norm(x, *block["feedforward_norm"]))
        self.length += 1
        logits = layer_norm(x, *w["final_norm"]) @ w["dense"][0] + w["dense"][1]
        return softmax(logits)


def train_transformer(
    chorales,
    folk=None,
    steps=TRANSFORMER_TRAINING["steps"],
    pretrain_share=TRANSFORMER_TRAINING["pretrain_share"],
    batch_size=TRANSFORMER_TRAINING["batch_size"],
    steps_per_round=TRANSFORMER_TRAINING["steps_per_round"],
    learning_rate=TRANSFORMER_TRAINING["learning_rate"],
    finetune_learning_rate=TRANSFORMER_TRAINING["finetune_learning_rate"],
    patience=TRANSFORMER_TRAINING["patience"],
    verbose=2,
    seed=0,
    **architecture,
):
    """Train the melody Transformer for a budget of `steps` training steps: on the chorales alone, or pretrained on
    the folk songs for `pretrain_share` of them and fine-tuned on the chorales for the rest.

    Lesson: 10_transformer

    Training runs in rounds of `steps_per_round` steps, each followed by the loss on the chorales' valid windows:
    the learning curves, pretraining included, are in the chorales' own measure. Fine-tuning (or training on the
    chorales alone) stops early after `patience` rounds without a better valid loss, and keeps the best weights.

    Args:
        chorales, folk: `dataset.MelodyDataset`s with the same vocabulary (`build_dataset(..., vocabulary=)`).

    Raises:
        ChoiceError: a stage's share of the steps is not a whole number of rounds.

    Returns:
        (model, history {'loss', 'val_loss', 'stage': one entry per round}, training seconds).
    """
    import keras

    keras.utils.set_random_seed(seed)
    model = compile_melody_model(build_transformer_model(len(chorales.vocabulary), **architecture), learning_rate)
    valid = make_tf_dataset(*chorales.windows["valid"], 128, False, positions=chorales.positions["valid"])
    history = {"loss": [], "val_loss": [], "stage": []}
    seconds = 0.0
    stages = [("fine-tune" if folk is not None else "chorales", chorales, steps)]
    if folk is not None:
        pretrain_steps = int(round(steps * pretrain_share))
        stages = [("pretrain", folk, pretrain_steps), ("fine-tune", chorales, steps - pretrain_steps)]
    for stage, _, stage_steps in stages:
        if stage_steps % min(steps_per_round, stage_steps):
            raise ChoiceError(
                f"The {stage} stage's {stage_steps} steps do not make whole rounds of {steps_per_round}: choose a "
                "budget and a round length that divide, so that both ways train for exactly the same number of steps."
            )
    for stage, data, stage_steps in stages:
        if stage == "fine-tune":
            model.optimizer.learning_rate.assign(finetune_learning_rate)
        train = make_tf_dataset(*data.windows["train"], batch_size, True, seed, positions=data.positions["train"])
        per_round = min(steps_per_round, stage_steps)
        rounds = stage_steps // per_round
        model, stage_history, stage_seconds = fit(
            model,
            train.repeat(),
            rounds,
            # pretraining runs its whole share: its valid loss is watched, not acted on
            patience if stage != "pretrain" else rounds,
            validation_data=valid,
            steps_per_epoch=per_round,
            verbose=verbose,
        )
        seconds += stage_seconds
        history["loss"] += [float(v) for v in stage_history["loss"]]
        history["val_loss"] += [float(v) for v in stage_history["val_loss"]]
        history["stage"] += [stage] * len(stage_history["loss"])
    return model, history, seconds


def load_transformer_model(directory):
    """Load a saved melody Transformer with Keras's safe mode: (model, vocabulary, metrics), as
    `saving.load_melody_model` loads every melody model.

    Lesson: 10_transformer

    Raises:
        ModelFileError: as `saving.load_melody_model`, or the folder holds another kind of model.
    """
    model, vocabulary, metrics = load_melody_model(directory)
    if model.name != MODEL_NAME:
        raise ModelFileError(f"The model in '{directory}' is a {model.name!r}, not a melody Transformer.")
    return model, vocabulary, metrics


def pretraining_pieces(pieces, vocabulary):
    """The pieces a model with this vocabulary can pretrain on: those whose every pitch it holds and whose bar fits
    the beat input (`inputs.MAX_BAR_STEPS`). The folk songs are key-normalised as the chorales are (lesson 02), so
    most fit the chorales' vocabulary as they are.

    Lesson: 10_transformer
    """
    known = set(vocabulary.pitches)
    return [
        piece
        for piece in pieces
        if piece.bar_steps <= MAX_BAR_STEPS and {t for t in piece.tokens if isinstance(t, int)} <= known
    ]


register_family([MODEL_NAME], build_transformer_model, CachedTransformerGenerator, "10_transformer")
