"""Shared fixtures: the repository root and the chapters."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

# Before any test imports TensorFlow (the package sets these too; being explicit costs nothing).
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def repo() -> Path:
    return REPO


def chapter_names() -> list[str]:
    from rnn_course.course import chapters

    return chapters(REPO)
