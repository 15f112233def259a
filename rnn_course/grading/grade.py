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

from rnn_course.grading import intake, record, results, trailing
from rnn_course.grading.execute import Limits, execute, thread_environment
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
        notebook, rest = trailing.split(job["notebook"]) if job.get("scores_only") else (job["notebook"], [])
        execution = execute(
            notebook, workdir=Path(job["workdir"]), deny_roots=job["deny_roots"],
            allow_roots=job["allow_roots"], limits=Limits(**job["limits"]),
            submission_bytes=job.get("submission_bytes"), imports=job.get("imports", ""),
        ).to_json()
        if rest:
            execution["notebook"], execution["sandbox"]["not_run"] = trailing.rejoin(execution["notebook"], rest)
        return execution
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
            extra = _printable("; ".join(r.get("findings", [])))[:120]
            lines.append(f"{r['student']:<28}{(r['chapter'] or '?'):<26}{points:>12}  {r['status']}"
                         + (" (cached)" if r.get("cached") else "") + (f" — {extra}" if extra else ""))
        collisions = [r for r in self.results if r["status"] == "id-collision"]
        if collisions:
            lines.append("")
            lines.append("not graded, two submissions give the same student id:")
            lines.extend(f"  {r['student']}: {_printable(r.get('origin', '?'))}" for r in sorted(collisions, key=lambda r: r.get("origin", "")))
        lines.append("")
        lines.append("by status: " + ", ".join(f"{k} {v}" for k, v in self.by_status().items()))
        executed = [r["seconds"] for r in self.results if not r.get("cached") and r.get("seconds")]
        lines.append(f"{len(self.results)} submissions, {len(executed)} executed, in {self.seconds:.1f} s "
                     f"with {self.workers} {self.engine} worker(s)")
        return "\n".join(lines)


def _printable(text: str) -> str:
    """Text safe for a terminal: control characters (from file names in zips) escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in str(text))


class Progress:
    """Progress of a grading run: rich's live bar with the elapsed time and an ETA on a terminal,
    one plain line per submission otherwise (a log, CI, a pipe).

    ``force_terminal`` is for tests (rich renders the bar into any stream then).
    """

    def __init__(self, total: int, stream=None, force_terminal: bool | None = None):
        from rich.console import Console

        self.total, self.done, self.started = total, 0, time.monotonic()
        self.stream = stream or sys.stderr
        self.console = Console(file=self.stream, force_terminal=force_terminal, highlight=False)
        self.bar = None
        if self.console.is_terminal:
            from rich import progress as rp

            self.bar = rp.Progress(rp.BarColumn(), rp.MofNCompleteColumn(), rp.TextColumn("elapsed"),
                                   rp.TimeElapsedColumn(), rp.TextColumn("ETA"), rp.TimeRemainingColumn(),
                                   rp.TextColumn("{task.description}"), console=self.console,
                                   transient=False)
            self.task = self.bar.add_task("", total=total)
            self.bar.start()

    def step(self, text: str) -> None:
        self.done += 1
        if self.bar is not None:
            self.bar.update(self.task, advance=1, description=text)
            if self.done >= self.total:
                self.bar.stop()
            return
        elapsed = time.monotonic() - self.started
        eta = elapsed / self.done * (self.total - self.done)
        self.stream.write(f"{self.done}/{self.total} elapsed {elapsed:5.0f} s  ETA {eta:5.0f} s  {text}\n")
        self.stream.flush()

    def close(self) -> None:
        if self.bar is not None and self.done < self.total:
            self.bar.stop()


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
                workdir: Path | None = None, scores_only: bool = False) -> Report:
    """Grade every submission under ``submissions`` into the course at ``course_root``.

    Whatever a submission holds, it ends as one row of the report (a status and findings) and
    the batch goes on; the scratch folder is removed on every path.

    Args:
        course_root: the nbgrader course directory.
        submissions: nbgrader's ``submitted/`` layout or a folder of zips (see :mod:`intake`).
        workers: parallel sandboxes (default: one per CPU).
        chapter: grade only this chapter.
        engine: "local" (threads) or "dask".
        scheduler: a Dask scheduler's address (default: a local cluster).
        limits: the sandbox's limits.
        force: execute even when a verified stored result could be reused.
        progress: print a progress line per submission.
        workdir: where the scratch folder goes (default: the system's temporary folder).
        scores_only: execute each notebook only up to its last graded code cell; the cells
            after it are kept, marked as not run (see :mod:`trailing`). The score is the same.

    Returns:
        Report.
    """
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
    thread_environment(limits.threads)  # a ValueError now, not one per student later
    templates = {c: Template.from_source(c, course.source(c)) for c in names}
    found = intake.discover(Path(submissions), names, chapter)
    rows: list = []
    bar = None

    # Scratch folders live in a short temporary path: Unix socket paths are limited to ~100 bytes.
    base = Path(tempfile.mkdtemp(prefix="rcg-", dir=workdir))
    try:
        mac_key = results.grader_key(course.root)
        subs = intake.one_per_chapter(_assign_chapters(found, templates, chapter, rows))
        _ensure_in_gradebook(course, sorted({s.chapter for s in subs}))
        limits_json = dataclasses.asdict(limits)
        fingerprint_extra = json.dumps(limits_json, sort_keys=True) + GRADER_VERSION + (" scores-only" if scores_only else "")
        sandbox_paths = {"workdir": str(base), "deny_roots": _deny_roots(course, base),
                         "allow_roots": [str(p) for p in allowed_roots()], "limits": limits_json,
                         "scores_only": scores_only}
        pending: dict = {}   # (student, chapter) -> _Pending
        jobs = []
        for sub in subs:
            try:
                item = _prepare(sub, course, templates, mac_key, fingerprint_extra, force, pending)
            except Exception as exc:  # a bug of ours, or a case not foreseen: this student's status
                rows.append(_failed(sub, exc))
                continue
            pending[(sub.student, sub.chapter)] = item
            if item.runs:
                jobs.append(((sub.student, sub.chapter),
                             {**sandbox_paths, "notebook": dict(item.merged.notebook),
                              "submission_bytes": sub.data, "imports": templates[sub.chapter].imports}))

        bar = Progress(len(pending)) if progress else None

        def finish(key, execution):
            item = pending[key]
            sub = item.sub
            try:
                if item.stored is not None:
                    findings = [f for f in item.stored.result.get("findings", []) if not f.startswith("cache-invalid:")]
                    result = {**item.stored.result, "findings": findings, "cached": True}
                    notebook = _graded_notebook(item.stored.notebook)
                else:
                    result = _result(sub, item.merged, item.fingerprint, execution, item.notes)
                    notebook = execution.get("notebook") if execution else None
                stored = record.record(course.root, course.gradebook_url, templates[sub.chapter], sub.student,
                                       result, notebook, sub.timestamp, sub.secret)
            except Exception as exc:  # the gradebook or a file could not be written: say so, go on
                stored = _failed(sub, exc)
            rows.append(stored)
            if bar:
                bar.step(f"{sub.student} {sub.chapter} {stored['score']:g}/{stored['max_score']:g} {stored['status']}"
                         + (" (cached)" if item.stored is not None else ""))

        for key in pending:
            if not pending[key].runs:  # cached, unreadable or of another chapter: nothing to run
                finish(key, None)
        for key, execution in _run(jobs, workers, engine, scheduler):
            finish(key, execution)
    finally:
        if bar is not None:
            bar.close()
        shutil.rmtree(base, ignore_errors=True)
    return Report(rows, time.monotonic() - started, workers, engine)


@dataclasses.dataclass
class _Pending:
    """One submission on its way to the gradebook."""

    sub: intake.Submission
    merged: object          # Merged, or None when the file could not be read
    fingerprint: str | None
    stored: object = None   # results.Stored to reuse instead of executing
    notes: list = dataclasses.field(default_factory=list)   # findings of this run (cache-invalid)
    runs: bool = False      # whether it is executed


def _assign_chapters(found: list, templates: dict, only: str | None, rows: list) -> list:
    """Submissions with a chapter (guessed where unknown); rows for those that have none."""
    ready = []
    for sub in found:
        try:
            if sub.status:
                rows.append(_row(sub, sub.status, [f"{sub.status}: {sub.problem}"] + sub.findings))
                continue
            target = sub.chapter or _guess(sub, templates)
            if target is None:
                rows.append(_unreadable(sub, "not a notebook of any chapter" if sub.problem is None else sub.problem))
                continue
            if only and target != only:
                continue
            sub.chapter = target
            ready.append(sub)
        except Exception as exc:
            rows.append(_failed(sub, exc))
    return ready


def _prepare(sub, course, templates: dict, key: bytes, fingerprint_extra: str, force: bool,
             pending: dict) -> _Pending:
    """Merge one submission and decide whether it runs, is reused or is recorded as it is."""
    if (sub.student, sub.chapter) in pending:  # intake gives one per student and chapter; never trust it blindly
        raise RuntimeError(f"a second notebook for {sub.student} {sub.chapter}: {sub.origin}")
    template = templates[sub.chapter]
    if sub.data is None:
        return _Pending(sub, None, None)
    others = {c: t for c, t in templates.items() if c != sub.chapter}
    merged = merge(template, sub.data, others)
    fingerprint = hashlib.sha256(
        (merged.digest + template.digest + fingerprint_extra + json.dumps(sub.findings)).encode()).hexdigest()
    if not merged.readable or any(f.kind == "wrong-chapter" for f in merged.findings):
        return _Pending(sub, merged, fingerprint)
    notes = []
    if not force:
        stored = results.load(course.root, sub.chapter, sub.student, key)
        if stored.verified and stored.result.get("fingerprint") == fingerprint:
            return _Pending(sub, merged, fingerprint, stored=stored)
        if stored.problem:
            notes.append(f"cache-invalid: {stored.problem}; executed again")
    return _Pending(sub, merged, fingerprint, notes=notes, runs=True)


def _graded_notebook(data: bytes):
    """The notebook graded before, from its verified bytes (without the grader's note, which ``record`` writes again)."""
    import nbformat

    notebook = nbformat.reads(data.decode("utf-8"), as_version=4)
    if notebook.cells and notebook.cells[0].get("id") == record.NOTE_ID:
        notebook.cells.pop(0)
    return notebook


def _result(sub, merged, fingerprint, execution, notes=()) -> dict:
    findings = sub.findings + ([str(f) for f in merged.findings] if merged is not None else []) + list(notes)
    if sub.data is None or merged is None:
        status = "unreadable"
        findings = findings + [f"unreadable: {sub.problem}"]
    elif not merged.readable:
        status = "unreadable"
    elif any(f.kind == "wrong-chapter" for f in merged.findings):
        status = "wrong-chapter"
    else:
        status = execution["status"] if execution else "grader-error"
    isolation = (execution or {}).get("sandbox", {}).get("isolation", "")
    if isolation.startswith("none"):
        findings = [f"no-isolation: graded with the in-kernel guard only, {isolation}"] + findings
    return {
        "student": sub.student, "chapter": sub.chapter, "origin": sub.origin, "status": status,
        "findings": findings, "answered": merged.answered if merged is not None else [],
        "verdicts": execution.get("verdicts", {}) if execution else {},
        "events": execution.get("events", []) if execution else [],
        "sandbox": execution.get("sandbox", {}) if execution else {},
        "seconds": execution.get("seconds", 0.0) if execution else 0.0,
        "fingerprint": fingerprint, "cached": False,
    }


def _row(sub, status: str, findings: list) -> dict:
    """A report row for a submission that is not recorded in the gradebook."""
    return {"student": sub.student, "chapter": sub.chapter, "origin": sub.origin, "status": status,
            "findings": findings, "score": 0.0, "max_score": 0.0, "seconds": 0.0}


def _unreadable(sub, why: str) -> dict:
    return _row(sub, "unreadable", [f"unreadable: {why}"] + sub.findings)


def _failed(sub, exc: BaseException) -> dict:
    """The row of a submission the grader failed on (with the traceback, for whoever fixes it)."""
    row = _row(sub, "grader-error", [f"grader-error: {exc.__class__.__name__}: {exc}"[:300]])
    row["events"] = [traceback.format_exc()[-2000:]]
    return row


def _guess(sub, templates: dict) -> str | None:
    """The chapter a notebook of unknown name belongs to: most answer cells in common."""
    if sub.data is None:
        return None
    from rnn_course.grading.parse import read_submission

    try:
        submitted, _ = read_submission(sub.data)
    except (RecursionError, MemoryError):
        return None
    if submitted is None:
        return None
    ids = {c.grade_id for c in submitted.cells if c.grade_id is not None}
    best = max(sorted(templates.values(), key=lambda t: t.chapter),
               key=lambda t: len(ids & set(t.answers)), default=None)
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
    course.check_gradebook()
    with Gradebook(course.gradebook_url) as gb:
        for chapter in chapters:
            try:
                gb.find_assignment(chapter)
            except MissingEntry:
                missing.append(chapter)
    for chapter in missing:
        course.generate(chapter)
