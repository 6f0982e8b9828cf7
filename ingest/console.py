"""What a person reads on a terminal: a pass's progress and its summary, tables.

Used by the CLI, the demo and the Airflow task logs alike; rich renders the tables
(plain text when the output is not a terminal).
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from typing import Any

log = logging.getLogger("news-ingest")

#: The summary's columns: heading, SourceCounts field.
SUMMARY_COLUMNS = (
    ("source", "source"), ("entries", "entries_seen"), ("fetched", "articles_fetched"),
    ("extracted", "articles_extracted"), ("valid", "articles_valid"), ("new", "articles_new"),
    ("known", "articles_seen_before"), ("waiting", "articles_skipped"),
    ("rejected", "rejections"),
)


class Progress:
    """A progress bar on a terminal, plain log lines otherwise."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self._bar: Any = None
        self._task: Any = None
        self._total = 0
        self._done = 0

    def __enter__(self) -> Progress:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, TextColumn, TimeElapsedColumn
            from rich.progress import Progress as Bar

            self._bar = Bar(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                            TimeElapsedColumn(), transient=True)
            self._bar.__enter__()
            self._task = self._bar.add_task("articles", total=0)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.__exit__(None, None, None)

    def update(self, event: str, source: str, n: int) -> None:
        if event == "entries":
            self._total += n
            if self._bar is not None:
                self._bar.update(self._task, total=self._total)
            else:
                log.info("%s: %d entries", source, n)
        elif event == "item":
            self._done += n
            if self._bar is not None:
                self._bar.update(self._task, completed=self._done)
            elif self._done % 50 < n or self._done == self._total:
                log.info("%d/%d articles processed", self._done, self._total)


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], footer: bool = False) -> str:
    """A table as text: the first column left-aligned, numbers right-aligned, the last
    row set apart as totals with ``footer``."""
    from rich import box
    from rich.console import Console
    from rich.table import Table

    numeric = [i > 0 and all(_is_number(r[i]) for r in rows) for i in range(len(headers))]
    grid = Table(box=box.SIMPLE_HEAD, show_footer=False, pad_edge=False, show_edge=False)
    for name, right in zip(headers, numeric, strict=True):
        grid.add_column(str(name), justify="right" if right else "left", no_wrap=True)
    for n, row in enumerate(rows):
        grid.add_row(*("" if v is None else str(v) for v in row),
                     end_section=footer and n == len(rows) - 2)
    widths = [max(len(str(h)), *(len("" if r[i] is None else str(r[i])) for r in rows))
              for i, h in enumerate(headers)] if rows else [len(str(h)) for h in headers]
    # wide enough for every cell: a table is for reading, not for cutting
    console = Console(width=sum(widths) + 3 * len(widths) + 4, record=True,
                      color_system=None, file=io.StringIO())
    console.print(grid)
    return "\n".join(line.rstrip() for line in console.export_text().splitlines()).strip("\n")


def print_summary(counts: Sequence[Any], summary: dict[str, Any], seconds: float) -> None:
    """The per-source table and the run's totals, on stdout."""
    rows = [[str(getattr(c, key)) for _, key in SUMMARY_COLUMNS] for c in counts]
    totals = ["total"] + [str(sum(getattr(c, key) for c in counts))
                          for _, key in SUMMARY_COLUMNS[1:]]
    print(table([head for head, _ in SUMMARY_COLUMNS], [*rows, totals], footer=True))
    reasons: dict[str, int] = {}
    for c in counts:
        for reason, n in c.reasons.items():
            reasons[reason] = reasons.get(reason, 0) + n
    if reasons:
        print("rejections: " + ", ".join(f"{r}={n}" for r, n in sorted(reasons.items())))
    print(f"run {summary.get('run_id')}: {summary.get('status')} in {seconds:.1f} s")


def print_source(source: Any, dsn: str) -> None:
    """One source (``news-ingest sources show``): its kind and address, its state, the
    documents it reads, what discovery found and its backfills."""
    from ingest import db

    print(f"{source.name}: {source.kind} {source.address}"
          + (f" (links: {source.links})" if source.links else "")
          + (f", {source.pages} page(s) a pass" if source.kind == "listing" else ""))
    with db.connect(dsn, autocommit=True) as conn:
        db.migrate(conn)
        state = conn.execute(
            "SELECT last_status, last_fetch_at, consecutive_failures, "
            "next_fetch_at, entries_last, last_error FROM news.feed_state WHERE source = %s",
            (source.name,)).fetchone()
        found = conn.execute(
            "SELECT found, discovered_at FROM news.site_discovery WHERE source = %s",
            (source.name,)).fetchone()
        documents = conn.execute(
            "SELECT kind, url, status, lastmod, fetched_at FROM news.source_documents "
            "WHERE source = %s ORDER BY kind, lastmod DESC NULLS LAST, url",
            (source.name,)).fetchall()
        backfills = conn.execute(
            "SELECT since, until, steps, articles, rejected, cardinality(done), cursor, "
            "finished_at FROM news.backfills WHERE source = %s ORDER BY started_at",
            (source.name,)).fetchall()
    if state is None:
        print("not read yet")
    else:
        status, fetched, failures, wait, entries, error = state
        print(f"last read {fetched:%Y-%m-%d %H:%M} UTC: {status}" if fetched else "not read yet")
        if entries is not None:
            print(f"entries listed last time: {entries}")
        if failures:
            print(f"{failures} failure(s) in a row, next try {wait or 'next pass'}: {error}")
    if found is not None:
        data, at = found
        print(f"discovered {at:%Y-%m-%d %H:%M} UTC:")
        for kind in ("feeds", "sitemaps"):
            for url in data.get(kind) or []:
                print(f"  {kind[:-1]}: {url}")
        for problem in data.get("problems") or []:
            print(f"  problem: {problem}")
    if documents:
        print(table(["kind", "document", "status", "lastmod", "read"], [
            [kind, url, status or "", f"{lastmod:%Y-%m-%d}" if lastmod else "",
             f"{at:%Y-%m-%d %H:%M}" if at else ""]
            for kind, url, status, lastmod, at in documents]))
    for since, until, steps, articles, rejected, done, cursor, finished in backfills:
        state_text = "finished" if finished else "unfinished" + (f", next {cursor}" if cursor
                                                                  else "")
        print(f"backfill {since}..{until}: {steps} step(s), {articles} new article(s), "
              f"{rejected} rejection(s), {done} sitemap(s) read: {state_text}")


def _is_number(value: Any) -> bool:
    return value is None or str(value).replace(".", "", 1).isdigit()
