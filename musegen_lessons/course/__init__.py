"""Running the course: the exercises' checks, the grader and its isolation, the student edition, the website, the
composer panel, the course map, tables, and the `musegen` command.

Lesson: 00_welcome (for instructors: INSTRUCTORS.md)
"""
