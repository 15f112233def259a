"""Support code for the rnn-course chapters: set-up, checks, gradient checks, plots.

This package ships to students with the notebooks, so it never holds the answer to a graded
exercise: answers live only in ``solutions/``.
"""

import os as _os

# Before anything can import TensorFlow: keep its C++ start-up logs off stderr, where nbgrader
# would score a test cell 0. Measured with TF 2.21: TF_CPP_MIN_LOG_LEVEL alone does not silence
# the oneDNN notice (absl logs it before initialisation); TF_ENABLE_ONEDNN_OPTS=0 does.
for _key, _value in (("TF_CPP_MIN_LOG_LEVEL", "2"), ("TF_ENABLE_ONEDNN_OPTS", "0")):
    _os.environ.setdefault(_key, _value)

__version__ = "0.1.0"
