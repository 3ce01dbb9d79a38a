"""Sphinx settings of the course's website; `make book` (`musegen book`) builds it, see musegen_lessons/book.py.

Sphinx reads the pages that `musegen book` writes to build/book/source/ (the solution edition, each exercise's
answer folded behind a toggle, and the README's lesson map and instructor guide) and executes each lesson with
MyST-NB, keeping the outputs in a cache so that a rebuild executes only the lessons whose code changed.
Everything a page loads comes with the site: MathJax from the sphinx-mathjax-offline package, the theme's fonts
and icons from the theme; no widget script from a CDN.
"""

import os

from musegen_lessons import __version__
from musegen_lessons.course import book

project = "MuseGen Lessons"
author = "The MuseGen Lessons authors"
release = __version__
copyright = "MuseGen Lessons authors, MIT licence"

extensions = ["myst_nb", "sphinx-mathjax-offline"]
myst_enable_extensions = ["dollarmath", "amsmath"]

html_theme = "sphinx_book_theme"
html_title = "MuseGen Lessons"
# A browser asks every site for an icon; without one its request fails and the console shows an error.
html_favicon = "favicon.svg"
# The theme logs an error on a first visit unless a light or dark mode is set.
html_context = {"default_mode": "light"}
html_theme_options = {
    "show_toc_level": 2,
    "use_download_button": False,
    "use_fullscreen_button": False,
    "home_page_in_toc": True,
}
# The lessons' tables stay inside the page's column (musegen_lessons.course.tables).
html_static_path = ["_static"]
html_css_files = ["tables.css"]
html_copy_source = False
html_show_sourcelink = False

# Execute every lesson once per change of its code; a quick-mode build (MUSEGEN_QUICK=1) keeps a cache of its own,
# so that its outputs are never shown as the full mode's.
nb_execution_mode = "cache"
nb_execution_cache_path = str(book.cache_dir(quick=bool(os.environ.get("MUSEGEN_QUICK"))))
nb_execution_timeout = 900
nb_execution_raise_on_error = True
nb_execution_show_tb = True
# Only exercise answers are folded (musegen_lessons.course.book.FOLDED).
nb_code_prompt_show = "Show the answer"
nb_code_prompt_hide = "Hide the answer"
# Lessons that write files (MIDI, WAV) write them to a temporary folder, not beside the site's sources.
nb_execution_in_temp = True
# ipywidgets need a JavaScript widget manager that only a CDN provides: a static page shows no widgets, and the
# lessons say where a widget needs JupyterLab.
nb_ipywidgets_js = {}
# The lessons' progress bars and TensorFlow's warnings are noise on a page.
nb_output_stderr = "remove"
nb_merge_streams = True
