"""Grading a class: sandboxed, parallel, tamper-resistant autograding into nbgrader's gradebook.

``rnn-course grade`` (see :mod:`rnn_course.cli`) is the entry point. Modules:

* :mod:`~rnn_course.grading.intake` — find submissions (nbgrader layout or zips);
* :mod:`~rnn_course.grading.parse` — read a submitted notebook within caps (depth, cells);
* :mod:`~rnn_course.grading.merge` — rebuild the notebook to grade from the instructor's template;
* :mod:`~rnn_course.grading.isolation` — the operating-system sandbox (bubblewrap) a kernel runs in;
* :mod:`~rnn_course.grading.execute` — run it in a sandboxed kernel, limits, verdicts per test cell;
* :mod:`~rnn_course.grading.sandbox`, :mod:`~rnn_course.grading.guard` — the kernel side: rlimits,
  an audit hook student code cannot remove (a second layer inside the sandbox);
* :mod:`~rnn_course.grading.pages` — sanitised graded notebooks, hidden tests out of feedback;
* :mod:`~rnn_course.grading.record` — write grades, comments and graded notebooks (one writer);
* :mod:`~rnn_course.grading.results` — the stored results and the MAC that lets one be reused;
* :mod:`~rnn_course.grading.grade` — the whole run, engines (local threads or Dask) and report;
* :mod:`~rnn_course.grading.doctor` — what this machine can enforce.

Instructor-side code: it reads ``solutions/`` at run time and holds no answer.
"""
