"""Where the music comes from, and how it becomes training data: music21's bundled chorales and folk songs, read,
cleaned, key-normalised and cached; splits by tune; windows and tf.data; fragments; the JSB benchmark's split; the
published protocol's melodies and folds.

Lesson: 02_preprocessing (lessons 05, 08 and 11 add the protocol, the JSB split and fragments)
"""
