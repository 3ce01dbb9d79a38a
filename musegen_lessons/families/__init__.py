"""The model families: each builds its Keras model, trains it and generates with it. The n-gram and PPM baselines,
the LSTM (lesson 05), WaveNet (09), the Transformer (10), the GAN (11), the VAE (12) and the frame models of four
voices (`polyphony`, 08), beside what they share: their inputs, the training loop, saving, and the sampling core.

The sampling core (`sampling`) knows no family. Each melody family registers its fastest step generator there under
the name its models carry (`sampling.register_family`); importing this package imports them all, so that
`sampling.step_generator(model)` finds every one.

Lesson: 05_keras_model (lessons 06 and 08 to 12 add a family each)
"""

from musegen_lessons.families import lstm, transformer, wavenet  # noqa: F401 (each registers its family)
