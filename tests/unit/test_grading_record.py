"""The grader's stored results (no kernel, no gradebook): rnn_course.grading.results and record."""

from __future__ import annotations

import json
import os
import stat

import pytest

from rnn_course.grading import record, results

CHAPTER = "01_rnn_forward"
RESULT = {"student": "alice", "chapter": CHAPTER, "status": "ok", "findings": [], "score": 7.0,
          "max_score": 10.0, "verdicts": {"test_a": {"passed": True}}, "fingerprint": "f" * 64,
          "seconds": 1.25, "nan": float("nan"), "pair": (1, 2)}
NOTEBOOK = b'{"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}'


def test_key_made_once_private_and_atomic(tmp_path):
    key = results.grader_key(tmp_path)
    path = results.key_path(tmp_path)
    assert len(key) == results.KEY_BYTES and path.read_bytes() == key
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert results.grader_key(tmp_path) == key, "the key is made on first use only"
    assert [p.name for p in path.parent.iterdir()] == ["grader.key"], "no temporary file left"


@pytest.mark.parametrize("spoil", ["loose-mode", "short", "symlink"])
def test_untrusted_key_is_replaced(tmp_path, spoil):
    key = results.grader_key(tmp_path)
    path = results.key_path(tmp_path)
    if spoil == "loose-mode":
        path.chmod(0o644)
    elif spoil == "short":
        path.write_bytes(b"x" * 5)
    else:
        (tmp_path / "elsewhere").write_bytes(key)
        (tmp_path / "elsewhere").chmod(0o600)
        path.unlink()
        path.symlink_to(tmp_path / "elsewhere")
    new = results.grader_key(tmp_path)
    assert new != key and not path.is_symlink() and stat.S_IMODE(path.stat().st_mode) == 0o600


def test_store_and_load_round_trip(tmp_path):
    body = results.store(tmp_path, CHAPTER, "alice", RESULT, NOTEBOOK)
    stored = results.load(tmp_path, CHAPTER, "alice")
    assert stored.verified and stored.notebook == NOTEBOOK
    assert stored.result == body and stored.result["pair"] == [1, 2]
    assert results.notebook_path(tmp_path, CHAPTER, "alice").read_bytes() == NOTEBOOK
    assert "mac" in json.loads(results.result_path(tmp_path, CHAPTER, "alice").read_text())
    assert results.load(tmp_path, CHAPTER, "bob") == results.Stored(None, None, None), "nothing stored"
    leftovers = [p for p in tmp_path.rglob("*.tmp")]
    assert leftovers == [], "atomic writes leave no temporary files"


def _edit_result(tmp_path, edit):
    path = results.result_path(tmp_path, CHAPTER, "alice")
    data = json.loads(path.read_text())
    edit(data)
    path.write_text(json.dumps(data))


@pytest.mark.parametrize("tamper, says", [
    (lambda t: _edit_result(t, lambda d: d.update(score=10.0)), "stored result was edited"),
    (lambda t: _edit_result(t, lambda d: d["verdicts"].update(test_b={"passed": True})), "stored result was edited"),
    (lambda t: _edit_result(t, lambda d: d.pop("mac")), "no MAC"),
    (lambda t: results.result_path(t, CHAPTER, "alice").write_text("{not json"), "not valid JSON"),
    (lambda t: results.result_path(t, CHAPTER, "alice").write_text("[1]"), "not a JSON object"),
    (lambda t: results.notebook_path(t, CHAPTER, "alice").write_bytes(NOTEBOOK + b" "), "graded notebook changed"),
    (lambda t: results.notebook_path(t, CHAPTER, "alice").unlink(), "graded notebook unreadable"),
    (lambda t: results.key_path(t).unlink(), "grader key changed"),
], ids=["score", "verdicts", "no-mac", "not-json", "not-object", "notebook", "no-notebook", "new-key"])
def test_tampering_fails_verification(tmp_path, tamper, says):
    results.store(tmp_path, CHAPTER, "alice", RESULT, NOTEBOOK)
    tamper(tmp_path)
    stored = results.load(tmp_path, CHAPTER, "alice")
    assert not stored.verified and says in stored.problem


def test_result_bound_to_its_student_and_chapter(tmp_path):
    """Another student's valid files copied over this one's do not verify."""
    results.store(tmp_path, CHAPTER, "alice", RESULT, NOTEBOOK)
    for source, target in ((results.result_path, results.result_path), (results.notebook_path, results.notebook_path)):
        dst = target(tmp_path, CHAPTER, "mallory")
        dst.parent.mkdir(parents=True, exist_ok=True)
        dst.write_bytes(source(tmp_path, CHAPTER, "alice").read_bytes())
    assert not results.load(tmp_path, CHAPTER, "mallory").verified


def test_write_atomic_cleans_up_on_failure(tmp_path):
    target = tmp_path / "f.json"
    results.write_atomic(target, b"old")
    with pytest.raises(TypeError):
        results.write_atomic(target, "not bytes")
    assert target.read_bytes() == b"old" and sorted(os.listdir(tmp_path)) == ["f.json"]


def test_mac_rejects_a_bad_key():
    with pytest.raises(ValueError, match="key must be 32 bytes"):
        results.mac(b"short", CHAPTER, "alice", {}, "0" * 64)


def test_id_collision_flags_for_the_formgrader():
    assert "id-collision" in record.SEVERE
