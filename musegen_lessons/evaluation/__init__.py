"""How good the models are: the likelihood of held-out music, melody features and the comparison of sets, copying
and collapse, listening tests, where attention looks, speed, and the published protocol's bits per note.

Lesson: 07_evaluation (lessons 05, 09, 10 and 11 add likelihood, speed, attention maps and copying)
"""
