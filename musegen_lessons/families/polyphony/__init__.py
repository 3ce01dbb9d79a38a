"""Four voices at once: models that predict a whole chord, an 88-key frame, at every step (lesson 08).

A melody model chooses one token per step. A chorale sounds four notes at once, so here every quarter note is a
frame (`music.frames`), a vector of 88 zeros and ones, and a model gives, at every step, the probability of each key
sounding in the next frame. One module per concept:

- `metric`: the benchmark's frame NLL and frame accuracy, the published table, chord statistics of samples;
- `baselines`: per-key frequency and per-key Markov models;
- `models`: an LSTM or a TCN (lesson 09) with independent or MADE output over the keys, saving and safe loading;
- `training`: padded batches of whole pieces, training through `families.training.fit`, scoring;
- `sampler`: the trained model in numpy, sampling and decoding key by key.

The split they train on is `corpora.jsb`; frames are engraved by `music.score.frames_to_score`.

Lesson: 08_polyphony
"""
