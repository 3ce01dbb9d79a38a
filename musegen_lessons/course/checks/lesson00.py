"""Checks of the exercises in lesson 00_welcome.

Lesson: 00_welcome
"""

from musegen_lessons.course.checks import exercise, expect_equal


@exercise("00.1", "my_seconds_per_quarter", "seconds per quarter note")
def check_seconds_per_quarter(fn):
    for tempo_bpm, expected in [(60, 1.0), (120, 0.5), (100, 0.6), (90, 2 / 3), (40, 1.5)]:
        expect_equal(fn, (tempo_bpm,), expected, "A tempo counts quarter notes per minute, and a minute is 60 s.")
    return "at 120 bpm a quarter note lasts 0.5 s."
