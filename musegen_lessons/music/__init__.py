"""How music is written down and heard: pitch names and MIDI numbers, melody tokens and the piano roll, a melody
with its key and metre, MIDI files, 88-key frames, event tokens, sound, scores and plots.

This wing knows no model: everything above it (the corpora, the models, their evaluation) speaks its words.

Lesson: 01_representation (lessons 06, 08, 09 and 10 add frames, sound and events)
"""
