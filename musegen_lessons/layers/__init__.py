"""The equations of the layers in plain numpy, each equal to the Keras layer of its name (the tests prove it), and the
Keras layers the course adds: activations, dense and embedding, the loss, convolution, recurrence, normalisation,
attention and the Music Transformer's relative attention. Importing the numpy modules imports numpy only.

Lesson: 03_cnn_equation, 04_rnn_equation (lessons 09 and 10 add dilation, normalisation and attention)
"""
