"""Grade a class: intake, merge, execute in parallel, record serially, report.

Example:
    report = grade_class(Path("build/course"), Path("exports/"), workers=2)
    print(report.format())

Execution runs in ``workers`` parallel sandboxes (threads that each drive one kernel process,
or Dask workers: ``engine="dask"``); only this process writes the gradebook and the result
files, one submission at a time, as results arrive. Re-grading is idempotent: a submission whose
bytes, template and limits are unchanged is not executed again (``force=True`` does), and
recording the same result twice leaves the gradebook as it was.
"""

from __future__ import annotations

import collections
import concurrent.futures
import dataclasses
import hashlib
import json
import os
import shutil
import sys
import tempfile
import time
import traceback
from pathlib import Path

from rnn_course.grading import intake, record
from rnn_course.grading.execute import Limits, execute
from rnn_course.grading.merge import Template, merge

GRADER_VERSION = "1"


def allowed_roots() -> list[Path]:
    """Folders the sandbox may read even when they lie under a denied one."""
    import rnn_course

    roots = {Path(rnn_course.__file__).resolve().parent, Path(sys.prefix).resolve(),
             Path(sys.base_prefix).resolve()}
    return sorted(roots)


def grade_job(job: dict) -> dict:
    """Execute one merged notebook (runs on a worker; plain data in, plain data out)."""
    try:
        execution = execute(
            job["notebook"], workdir=Path(job["workdir"]), deny_roots=job["deny_roots"],
            allow_roots=job["allow_roots"], limits=Limits(**job["limits"]),
            submission_bytes=job.get("submission_bytes"), imports=job.get("imports", ""),
        )
        return execution.to_json()
    except Exception as exc:  # a bug of ours must not stop the batch
        return {"notebook": None, "verdicts": {}, "status": "grader-error", "seconds": 0.0,
                "events": [f"{exc.__class__.__name__}: {exc}", traceback.format_exc()[-2000:]],
                "sandbox": {}}


@dataclasses.dataclass
class Report:
    """Results of one grading run, per student and per failure kind."""

    results: list          # dicts: student, chapter, status, score, max_score, findings, seconds, cached
    seconds: float
    workers: int
    engine: str

    def by_status(self) -> dict:
        counts = collections.Counter(r["status"] for r in self.results)
        for r in self.results:
            for f in r.get("findings", []):
                counts["finding: " + f.split(":")[0]] += 1
        return dict(sorted(counts.items()))

    def format(self) -> str:
        lines = [f"{'student':<28}{'chapter':<26}{'points':>12}  status"]
        for r in sorted(self.results, key=lambda r: (r["student"], r["chapter"] or "")):
            points = f"{r['score']:g} / {r['max_score']:g}" if r.get("max_score") else "-"
            extra = "; ".join(r.get("findings", []))[:120]
            lines.append(f"{r['student']:<28}{(r['chapter'] or '?'):<26}{points:>12}  {r['status']}"
                         + (" (cached)" if r.get("cached") else "") + (f" — {extra}" if extra else ""))
        lines.append("")
        lines.append("by status: " + ", ".join(f"{k} {v}" for k, v in self.by_status().items()))
        executed = [r["seconds"] for r in self.results if not r.get("cached") and r.get("seconds")]
        lines.append(f"{len(self.results)} submissions, {len(executed)} executed, in {self.seconds:.1f} s "
                     f"with {self.workers} {self.engine} worker(s)")
        return "\n".join(lines)


class Progress:
    """A one-line progress bar with ETA on a terminal, one line per submission otherwise."""

    def __init__(self, total: int, stream=None):
        self.total, self.done, self.started = total, 0, time.monotonic()
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()

    def step(self, text: str) -> None:
        self.done += 1
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.done * (self.total - self.done)
        width = 24
        filled = int(width * self.done / max(self.total, 1))
        bar = "#" * filled + "." * (width - filled)
        line = f"[{bar}] {self.done}/{self.total} elapsed {elapsed:5.0f} s  ETA {eta:5.0f} s  {text}"
        if self.tty:
            self.stream.write("\r" + line[:160].ljust(160))
            if self.done == self.total:
                self.stream.write("\n")
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def _run(jobs: list, workers: int, engine: str, scheduler: str | None):
    """Yield (key, result) as jobs finish, on the chosen engine."""
    if engine == "local":
        with concurrent.futures.ThreadPoolExecutor(max_workers=workers) as pool:
            futures = {pool.submit(grade_job, job): key for key, job in jobs}
            for future in concurrent.futures.as_completed(futures):
                yield futures[future], future.result()
        return
    if engine != "dask":
        raise ValueError(f"engine must be 'local' or 'dask'; received: {engine!r}")
    from distributed import Client, LocalCluster, as_completed

    cluster = None
    if scheduler:
        client = Client(scheduler)
    else:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None, silence_logs=40)
        client = Client(cluster)
    try:
        futures = {client.submit(grade_job, job, key=f"grade-{key[0]}-{key[1]}", pure=False): key
                   for key, job in jobs}
        for future in as_completed(list(futures)):
            try:
                result = future.result()
            except Exception as exc:  # a worker lost: the job's result is an error, the batch goes on
                result = {"notebook": None, "verdicts": {}, "status": "grader-error", "seconds": 0.0,
                          "events": [f"{exc.__class__.__name__}: {exc}"], "sandbox": {}}
            yield futures[future], result
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def grade_class(course_root: Path, submissions: Path, *, workers: int | None = None,
                chapter: str | None = None, engine: str = "local", scheduler: str | None = None,
                limits: Limits | None = None, force: bool = False, progress: bool = True,
                workdir: Path | None = None) -> Report:
    """Grade every submission under ``submissions`` into the course at ``course_root``."""
    from rnn_course.course import Course, chapters as list_chapters

    started = time.monotonic()
    course = Course(course_root)
    names = list_chapters(course.root)
    if chapter and chapter not in names:
        raise ValueError(f"chapter must be one of {names}; received: {chapter!r}")
    workers = workers or os.cpu_count() or 1
    if workers < 1:
        raise ValueError(f"workers must be >= 1; received: {workers}")
    limits = limits or Limits()
    templates = {c: Template.from_source(c, course.source(c)) for c in names}
    found = intake.discover(Path(submissions), names, chapter)

    results = []
    needed = set()
    for sub in found:
        target = sub.chapter or _guess(sub, templates)
        if target is None:
            results.append(_unreadable(sub, "not a notebook of any chapter" if sub.problem is None else sub.problem))
            continue
        needed.add(target)
        sub.chapter = target
    _ensure_in_gradebook(course, sorted(needed))

    # Scratch folders live in a short temporary path: Unix socket paths are limited to ~100 bytes.
    base = Path(tempfile.mkdtemp(prefix="rcg-", dir=workdir))
    limits_json = dataclasses.asdict(limits)
    fingerprint_extra = json.dumps(limits_json, sort_keys=True) + GRADER_VERSION
    sandbox_paths = {"workdir": str(base), "deny_roots": _deny_roots(course, base),
                     "allow_roots": [str(p) for p in allowed_roots()], "limits": limits_json}
    # key -> (submission, merged or None, fingerprint, previous result when it can be reused)
    pending = {}
    jobs = []
    for sub in found:
        if sub.chapter is None:
            continue
        key = (sub.student, sub.chapter)
        template = templates[sub.chapter]
        if sub.data is None:
            pending[key] = (sub, None, None, None)
            continue
        others = {c: t for c, t in templates.items() if c != sub.chapter}
        merged = merge(template, sub.data, others)
        fingerprint = hashlib.sha256(
            (merged.digest + template.digest + fingerprint_extra).encode()).hexdigest()
        if not merged.readable or any(f.kind == "wrong-chapter" for f in merged.findings):
            pending[key] = (sub, merged, fingerprint, None)
            continue
        previous = record.load_result(course.root, sub.chapter, sub.student)
        if previous and previous.get("fingerprint") == fingerprint and not force:
            pending[key] = (sub, merged, fingerprint, previous)
            continue
        pending[key] = (sub, merged, fingerprint, None)
        jobs.append((key, {**sandbox_paths, "notebook": dict(merged.notebook),
                           "submission_bytes": sub.data, "imports": template.imports}))

    bar = Progress(len(pending)) if progress else None

    def finish(key, execution):
        sub, merged, fingerprint, previous = pending[key]
        if previous is not None:
            result, notebook = {**previous, "cached": True}, _graded_notebook(course, sub)
        else:
            result = _result(sub, merged, fingerprint, execution)
            notebook = execution.get("notebook") if execution else None
        stored = record.record(course.root, course.gradebook_url, templates[sub.chapter], sub.student,
                               result, notebook, sub.timestamp)
        results.append(stored)
        if bar:
            bar.step(f"{sub.student} {sub.chapter} {stored['score']:g}/{stored['max_score']:g} {stored['status']}"
                     + (" (cached)" if previous is not None else ""))

    executing = {key for key, _ in jobs}
    for key in pending:
        if key not in executing:  # cached, unreadable or of another chapter: nothing to run
            finish(key, None)
    try:
        for key, execution in _run(jobs, workers, engine, scheduler):
            finish(key, execution)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return Report(results, time.monotonic() - started, workers, engine)


def _graded_notebook(course, sub):
    """The notebook graded before (without the grader's note, which ``record`` writes again)."""
    import nbformat

    path = course.root / "autograded" / sub.student / sub.chapter / f"{sub.chapter}.ipynb"
    if not path.is_file():
        return None
    notebook = nbformat.read(str(path), as_version=4)
    if notebook.cells and notebook.cells[0].get("id") == "rnn-course-grader-note":
        notebook.cells.pop(0)
    return notebook


def _result(sub, merged, fingerprint, execution) -> dict:
    findings = [str(f) for f in merged.findings] if merged is not None else []
    if sub.data is None or merged is None:
        status = "unreadable"
        findings = findings or [f"unreadable: {sub.problem}"]
    elif not merged.readable:
        status = "unreadable"
    elif any(f.kind == "wrong-chapter" for f in merged.findings):
        status = "wrong-chapter"
    else:
        status = execution["status"] if execution else "grader-error"
    return {
        "student": sub.student, "chapter": sub.chapter, "origin": sub.origin, "status": status,
        "findings": findings, "answered": merged.answered if merged is not None else [],
        "verdicts": execution.get("verdicts", {}) if execution else {},
        "events": execution.get("events", []) if execution else [],
        "sandbox": execution.get("sandbox", {}) if execution else {},
        "seconds": execution.get("seconds", 0.0) if execution else 0.0,
        "fingerprint": fingerprint, "cached": False,
    }


def _unreadable(sub, why: str) -> dict:
    return {"student": sub.student, "chapter": sub.chapter, "origin": sub.origin, "status": "unreadable",
            "findings": [f"unreadable: {why}"], "score": 0.0, "max_score": 0.0, "seconds": 0.0}


def _guess(sub, templates: dict) -> str | None:
    """The chapter a notebook of unknown name belongs to: most answer cells in common."""
    if sub.data is None:
        return None
    from rnn_course.grading.merge import read_submission
    from rnn_course.samples import nbgrader_meta

    notebook, _ = read_submission(sub.data)
    if notebook is None:
        return None
    ids = {nbgrader_meta(c).get("grade_id") for c in notebook.cells if isinstance(c, dict)}
    best = max(templates.values(), key=lambda t: len(ids & set(t.answers)), default=None)
    return best.chapter if best is not None and ids & set(best.answers) else None


def _deny_roots(course, base: Path) -> list[str]:
    from rnn_course.course import repo_root

    roots = {course.root.resolve(), base.resolve()}
    try:
        roots.add(repo_root().resolve())
    except FileNotFoundError:
        pass
    return sorted(str(r) for r in roots)


def _ensure_in_gradebook(course, chapters: list[str]) -> None:
    """nbgrader must know an assignment before grades are stored: generate it if it does not."""
    from nbgrader.api import Gradebook, MissingEntry

    missing = []
    with Gradebook(course.gradebook_url) as gb:
        for chapter in chapters:
            try:
                gb.find_assignment(chapter)
            except MissingEntry:
                missing.append(chapter)
    for chapter in missing:
        course.generate(chapter)
