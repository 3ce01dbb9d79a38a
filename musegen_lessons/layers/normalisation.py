"""Layer normalisation in numpy, as `keras.layers.LayerNormalization`: what every block of the Transformer does
before its attention and its feed-forward layer.

Lesson: 10_transformer
"""

import numpy as np


def layer_norm(x, gamma, beta, epsilon):
    """LayerNorm over the last axis: γ ⊙ (x − mean) / √(variance + ε) + β, as `keras.layers.LayerNormalization`.

    Lesson: 10_transformer
    """
    mean = x.mean(axis=-1, keepdims=True)
    return gamma * (x - mean) / np.sqrt(x.var(axis=-1, keepdims=True) + epsilon) + beta
