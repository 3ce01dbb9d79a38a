"""The Music Transformer's relative self-attention as a Keras layer, registered so that safe mode can load it.

Lesson: 10_transformer (the equations are `attention.relative_attention`; the model is `transformer`)
"""

import keras
import numpy as np

ops = keras.ops


@keras.saving.register_keras_serializable(package="musegen")
class RelativeAttention(keras.layers.Layer):
    """Causal multi-head self-attention with the Music Transformer's relative positions (Huang et al. 2018).

    Lesson: 10_transformer

    Its weights have `keras.layers.MultiHeadAttention`'s layout (query, key, value kernels (d, heads, dk) and
    biases (heads, dk), output kernel (heads, dk, d) and bias (d,)), and one more: `relative`, (heads,
    max_distance, dk), row k the vector e_k for a key k steps back; keys further back share the last row.
    """

    def __init__(self, heads, key_dim, max_distance, dropout=0.0, **kwargs):
        super().__init__(**kwargs)
        self.heads, self.key_dim, self.max_distance, self.dropout = heads, key_dim, max_distance, dropout
        self.dropout_layer = keras.layers.Dropout(dropout)

    def build(self, input_shape):
        width = input_shape[-1]
        self.projections = {}
        for name in ("query", "key", "value"):
            shape = (width, self.heads, self.key_dim)
            kernel = self.add_weight(shape=shape, initializer="glorot_uniform", name=f"{name}_kernel")
            bias = self.add_weight(shape=shape[1:], initializer="zeros", name=f"{name}_bias")
            self.projections[name] = (kernel, bias)
        self.output_kernel = self.add_weight(
            shape=(self.heads, self.key_dim, width), initializer="glorot_uniform", name="output_kernel"
        )
        self.output_bias = self.add_weight(shape=(width,), initializer="zeros", name="output_bias")
        self.relative = self.add_weight(
            shape=(self.heads, self.max_distance, self.key_dim),
            initializer=keras.initializers.RandomNormal(stddev=self.key_dim**-0.5),
            name="relative",
        )

    def call(self, x, training=None):
        q, k, v = (
            ops.einsum("btd,dhk->bhtk", x, kernel) + bias[:, None, :]
            for kernel, bias in (self.projections[name] for name in ("query", "key", "value"))
        )
        steps = ops.shape(x)[1]
        # E_r: the rows for the distances L − 1, …, 0, the far ones clipped to the table's last row
        rows = ops.minimum(ops.arange(steps - 1, -1, -1), self.max_distance - 1)
        qe = ops.einsum("bhtk,hrk->bhtr", q, ops.take(self.relative, rows, axis=1))
        # skewing: pad a column on the left, read the (L, L + 1) rows as (L + 1, L), drop the first row
        padded = ops.pad(qe, [[0, 0], [0, 0], [0, 0], [1, 0]])
        s_rel = ops.reshape(padded, (-1, self.heads, steps + 1, steps))[:, :, 1:, :]
        logits = (ops.einsum("bhtk,bhsk->bhts", q, k) + s_rel) / float(np.sqrt(self.key_dim))
        logits = ops.where(ops.tril(ops.ones((steps, steps), "bool")), logits, -1e9)  # the causal mask
        weights = self.dropout_layer(ops.softmax(logits, axis=-1), training=training)
        heads = ops.einsum("bhts,bhsk->bhtk", weights, v)
        return ops.einsum("bhtk,hkd->btd", heads, self.output_kernel) + self.output_bias

    def get_config(self):
        config = super().get_config()
        config.update(heads=self.heads, key_dim=self.key_dim, max_distance=self.max_distance, dropout=self.dropout)
        return config
