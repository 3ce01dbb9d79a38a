"""How fast: the training tokens a model learns from in a second, and the steps a step generator writes in a second.

Both time a fixed amount of work after an untimed warm-up, so that tracing a function once or filling a cache is
not counted; `benchmarks/` runs them side by side, as ratios against a baseline in the same process.

Lesson: 09_wavenet (lesson 10 times its Transformer and the LSTM with it too)
"""

import time

import numpy as np


def training_throughput(model, dataset, batches=20, batch_size=64, warmup=3):
    """Tokens per second that a compiled melody model trains on: `batches` training steps on the same windows.

    Lesson: 09_wavenet (the WaveNet against the lesson 05 LSTM)

    Each step is one `train_on_batch` of `batch_size` windows of the training split; `warmup` steps come first,
    untimed, so that tracing the step is not counted. A token is one step of one window: every one of them is
    predicted and its gradient computed in every training step.
    """
    inputs, targets = dataset.windows["train"]
    positions = dataset.positions["train"]
    rng = np.random.default_rng(0)
    chosen = [rng.choice(len(inputs), batch_size, replace=False) for _ in range(warmup + batches)]
    started = None
    for step, rows in enumerate(chosen):
        if step == warmup:
            started = time.perf_counter()
        model.train_on_batch({"tokens": inputs[rows], "positions": positions[rows]}, targets[rows])
    return batches * batch_size * inputs.shape[1] / (time.perf_counter() - started)


def steps_per_second(generator, steps, vocab_size, history=0, seed=0):
    """Time a step generator on `steps` random tokens after `history` untimed ones; return its steps per second.

    Lesson: 09_wavenet (lesson 10 times its Transformer and the LSTM with it too)

    The tokens do not change the work a step does, so random ones measure speed as well as a melody would. Give a
    history of at least the receptive field to time the naive generator at its full cost: before that, it has
    fewer past steps to recompute.
    """
    rng = np.random.default_rng(seed)
    tokens = rng.integers(0, vocab_size, history + steps)
    positions = np.arange(history + steps) % 16
    generator.reset()
    generator.prime(tokens[:history], positions[:history])
    generator.step(0, 0)  # the first step pays for anything made once
    started = time.perf_counter()
    for token, position in zip(tokens[history:], positions[history:]):
        generator.step(int(token), int(position))
    return steps / (time.perf_counter() - started)
