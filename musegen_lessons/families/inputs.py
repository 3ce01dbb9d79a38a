"""What every melody model of the course reads: the tokens, and each step's place in the bar as a second input.

The LSTM (lesson 05), the WaveNet (09) and the Transformer (10) all take "tokens" and "positions", (batch, steps)
ints, and embed each as a learned vector, so that every pipeline, score and step generator serves them all.

Lesson: 05_keras_model
"""

# Positions in the bar 0 .. 47: a chorale's longest bar is 24 steps (3/2, 12/8); 48 leaves room for the folk
# songs' 3/1 and 6/2, though not for their 4/1 (64 steps), which `generate` refuses.
MAX_BAR_STEPS = 48


def embed_melody_inputs(vocab_size, embedding_dim, position_dim):
    """The two inputs of every melody model and what enters its first layer: each token's learned vector, beside
    (with `position_dim` > 0) its step's place in the bar as a learned vector too.

    Lesson: 05_keras_model (lesson 09's WaveNet takes the same inputs)

    Returns:
        ({"tokens", "positions"}: the Keras inputs, (batch, steps) ints; the embedded steps, (batch, steps, width)).
    """
    import keras

    tokens = keras.Input((None,), dtype="int32", name="tokens")
    positions = keras.Input((None,), dtype="int32", name="positions")
    x = keras.layers.Embedding(vocab_size, embedding_dim, name="token_embedding")(tokens)
    if position_dim:
        beat = keras.layers.Embedding(MAX_BAR_STEPS, position_dim, name="beat_embedding")(positions)
        x = keras.layers.Concatenate(name="token_and_beat")([x, beat])
    return {"tokens": tokens, "positions": positions}, x
