"""Import web archives: ``news-ingest import-warc`` and the ``news_import_warc`` DAG.

One run (``news.runs``) over one ``warc`` source (:mod:`ingest.archives`): a
configured one (``--source``; the files given, else its own), or, without
``--source``, a source named after the first file or pattern given
(``warc-<its name without extensions>``, e.g. ``warc-cc-news-20240101`` for
``CC-NEWS-20240101.warc.gz``) with the settings of the sources file if there is one.
Named files go through a configured source of any kind: its cleaning rules, page
types, languages and ``min_words`` apply, and its articles are its own.

The run is a pass (:func:`ingest.pipeline.ingest_sources`) with the dates as its
window: every page goes the way of a fetched one, and a page whose URL is stored is
not extracted again, so importing a file twice loads nothing the second time, and a
page fetched live and found in an archive is one article.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from pathlib import Path

from ingest import archives, db, origins, pipeline, runs
from ingest.config import Config, SourceConfig
from ingest.errors import ConfigError, QualityGateError, WarehouseError
from ingest.models import SourceCounts

_EXTENSIONS = re.compile(r"(\.(warc|arc|gz|wat|wet|open|tmp))+$", re.IGNORECASE)


@dataclass
class ImportResult:
    run_id: str
    source: str
    counts: SourceCounts
    files: list[archives.FileState] = field(default_factory=list)  # as news.warc_files has them
    matched: list[Path] = field(default_factory=list)  # the files the patterns named
    seconds: float = 0.0
    summary: dict[str, object] = field(default_factory=dict)


def default_name(patterns: Sequence[str]) -> str:
    """``warc-`` and the first file's (or pattern's) name without its extensions (or,
    for a name that is all wildcards, its folder's), as a source name."""
    parts = Path(archives.local_pattern(patterns[0])).parts if patterns else ()
    for part in reversed(parts):
        slug = re.sub(r"[^a-z0-9_-]+", "-", _EXTENSIONS.sub("", part).lower()).strip("-_")
        if slug:
            return f"warc-{slug}"[:64].rstrip("-_")
    return "warc"


def archive_source(config: Config | None, files: Sequence[str], name: str | None,
                   ) -> SourceConfig:
    """The source to import as (see the module docstring)."""
    if name is None:
        if not files:
            raise ConfigError("name the WARC/ARC files to import (or --source, a warc source)")
        return SourceConfig(name=default_name(files), warc=list(files))
    if config is None:
        raise ConfigError(f"--source {name}: no sources file (pass --config)")
    source = config.source(name)
    if not files:
        if source.warc is None:
            raise ConfigError(f"source {name!r} is a {source.kind} source: name the WARC/ARC "
                              "files to import as its pages")
        return source
    SourceConfig(name=name, warc=list(files))  # the paths checked as a source's would be
    return source.model_copy(update={
        "url": None, "sitemap": None, "site": None, "listing": None, "pages": 1,
        "warc": list(files)})


def window(since: date | None, until: date | None) -> origins.Window:
    """WARC-Dates from ``since`` to ``until``, both whole UTC days."""
    if since is not None and until is not None and until < since:
        raise ConfigError(f"--until {until} is before --since {since}")
    return origins.Window(
        since=datetime.combine(since, time.min, UTC) if since else None,
        until=datetime.combine(until, time.max, UTC) if until else None)


def import_warc(
    config: Config | None,
    dsn: str,
    files: Sequence[str] = (),
    *,
    source: str | None = None,
    since: date | None = None,
    until: date | None = None,
    run_id: str | None = None,
    trigger: str = "import-warc",
    progress: pipeline.ProgressFn | None = None,
) -> ImportResult:
    """Import the files (paths or globs) as one run. Raises :class:`ConfigError` when
    a pattern names an address or matches no file, :class:`QualityGateError` (after
    loading) as a pass does, its ``result`` this function's."""
    import time as clock

    started = clock.monotonic()
    chosen = archive_source(config, files, source)
    assert chosen.warc is not None
    for pattern in chosen.warc:
        if not archives.expand([pattern]):
            raise ConfigError(f"no file matches {pattern!r}")
    dates = window(since, until)
    config = config or Config(sources=[chosen])
    run_id = run_id or runs.new_run_id(trigger)
    with runs.RunGuard(dsn, run_id):
        runs.begin_run(dsn, run_id, trigger, config.settings)
        gate: QualityGateError | None = None
        try:
            try:
                step = pipeline.ingest_sources(config, [chosen], dsn, run_id, progress=progress,
                                               backfill=dates)
            except QualityGateError as exc:
                gate, step = exc, exc.result
        except BaseException as exc:
            with contextlib.suppress(WarehouseError):
                runs.end_run(dsn, run_id, "failed", f"{type(exc).__name__}: {exc}"[:1000])
            raise
        summary = runs.end_run(dsn, run_id, "failed" if gate else "success")
    matched = archives.expand(chosen.warc)
    with db.connect(dsn, autocommit=True) as conn:
        states = archives.states(conn, matched)
    result = ImportResult(run_id, chosen.name, step.counts[0], states, matched,
                          clock.monotonic() - started, summary)
    if gate is not None:
        gate.result = result
        raise gate
    return result
