"""nbgrader configuration for rnn-course.

Paths are relative to the course root: the directory nbgrader runs in. In this repository that
is the repository root (instructors run `nbgrader generate_assignment 01_rnn_forward` here, or
`make release`); `make demo` and the tests copy this file and solutions/ into a scratch course
directory and run nbgrader there, with its own SQLite gradebook.
"""

import os

c = get_config()  # noqa: F821  (provided by nbgrader when it loads this file)

c.CourseDirectory.course_id = "rnn-course"
# One nbgrader assignment per chapter: solutions/<chapter>/<chapter>.ipynb is the source,
# notebooks/<chapter>/<chapter>.ipynb the student release.
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "notebooks"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
# nbgrader's exchange (formgrader's Release/Collect, the students' Assignments tab) beside this
# file, so that one machine (`make lab`) needs no shared /usr/local/share/nbgrader/exchange. On a
# JupyterHub, point it at the folder every user shares.
c.Exchange.root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "exchange")
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "*.keras", "*.h5"]

# Per-cell limit while nbgrader executes a notebook (validate, autograde). The default, 30 s, is
# configured as Execute.timeout (ExecutePreprocessor.timeout is ignored by nbgrader). Chapters
# keep every cell far below this; tests/notebooks asserts a margin.
c.Execute.timeout = 120

c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
