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
    print(summary_text(counts, summary, seconds))


def summary_text(counts: Sequence[Any], summary: dict[str, Any], seconds: float) -> str:
    """What :func:`print_summary` prints, as text: the per-source table (with totals),
    the rejection reasons, and the run's line."""
    rows = [[str(getattr(c, key)) for _, key in SUMMARY_COLUMNS] for c in counts]
    totals = ["total"] + [str(sum(getattr(c, key) for c in counts))
                          for _, key in SUMMARY_COLUMNS[1:]]
    lines = [table([head for head, _ in SUMMARY_COLUMNS], [*rows, totals], footer=True)]
    reasons: dict[str, int] = {}
    for c in counts:
        for reason, n in c.reasons.items():
            reasons[reason] = reasons.get(reason, 0) + n
    if reasons:
        lines.append("rejections: " + ", ".join(f"{r}={n}" for r, n in sorted(reasons.items())))
    lines.append(f"run {summary.get('run_id')}: {summary.get('status')} in {seconds:.1f} s")
    return "\n".join(lines)


def source_status(counts: Any) -> str:
    """One source's outcome in a word or two: ``ok``, ``not modified``, ``backoff``,
    ``failed (REASON)`` when its feed (or list, sitemap) could not be read,
    ``quality gate failed``; ``not read`` when the pass never got to it."""
    feed = counts.feed_status
    if counts.gate == "failed":
        return "quality gate failed"
    if feed is None:
        return "not read"
    if feed in ("ok", "backoff"):
        return str(feed)
    if feed == "not_modified":
        return "not modified"
    return f"failed ({feed})"


def source_line(counts: Any) -> str:
    """One line on how a source did: status, new/known/rejected counts, and the reasons
    (the quality gate's message too when it failed)."""
    line = (f"{counts.source}: {source_status(counts)}; {counts.entries_seen} entries, "
            f"{counts.articles_new} new, {counts.articles_seen_before} known, "
            f"{counts.rejections} rejected")
    if counts.reasons:
        line += " (" + ", ".join(f"{r}={n}" for r, n in sorted(counts.reasons.items())) + ")"
    if counts.gate == "failed" and counts.gate_message:
        line += f": {counts.gate_message}"
    return line


class LogProgress:
    """A pipeline ``progress`` callback for logs (an Airflow task's): one line when a
    source has listed its entries, one when every entry of it has been dealt with.
    Its :meth:`report` logs each source's line and the summary table once the counts
    are final."""

    def __init__(self, logger: Any = None) -> None:
        self.log = logger if logger is not None else log
        self.entries: dict[str, int] = {}
        self.done: dict[str, int] = {}
        self.finished: set[str] = set()

    def __call__(self, event: str, source: str, n: int) -> None:
        if event == "entries":
            self.entries[source] = self.entries.get(source, 0) + n
            if n:
                self.log.info("%s: %d entries listed", source, n)
            else:  # not modified, failed, backing off: its line at the end says which
                self.log.info("%s: nothing listed", source)
        elif event == "item":
            done = self.done[source] = self.done.get(source, 0) + n
            total = self.entries.get(source, 0)
            if total and done >= total and source not in self.finished:
                self.finished.add(source)
                self.log.info("%s: all %d entries dealt with", source, total)

    def report(self, counts: Sequence[Any], summary: dict[str, Any], seconds: float) -> None:
        """Each source's line (at WARNING when it failed: its feed could not be read, or
        its quality gate failed), then the summary table, line by line so that the
        columns stay aligned in a log viewer."""
        for c in counts:
            failed = c.gate == "failed" or source_status(c).startswith("failed")
            (self.log.warning if failed else self.log.info)("%s", source_line(c))
        for line in summary_text(counts, summary, seconds).splitlines():
            self.log.info("%s", line)


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
        archives = conn.execute(
            "SELECT path, done, next_offset, size, records, pages, loaded, errors, updated_at "
            "FROM news.warc_files WHERE source = %s ORDER BY path", (source.name,)).fetchall()
        backfills = conn.execute(
            "SELECT since, until, steps, articles, rejected, cardinality(done), cursor, "
            "finished_at FROM news.backfills WHERE source = %s ORDER BY started_at",
            (source.name,)).fetchall()
    if state is None and not archives:
        print("not read yet")
    elif state is None:
        pass  # an archive source: its files say how far it got
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
    if archives:
        print(table(["file", "state", "records", "pages", "loaded", "errors", "read"], [
            [path, "imported" if done else f"at byte {offset:,} of {size:,}", records, pages,
             loaded, errors, f"{at:%Y-%m-%d %H:%M}"]
            for path, done, offset, size, records, pages, loaded, errors, at in archives]))
    for since, until, steps, articles, rejected, done, cursor, finished in backfills:
        state_text = "finished" if finished else "unfinished" + (f", next {cursor}" if cursor
                                                                  else "")
        print(f"backfill {since}..{until}: {steps} step(s), {articles} new article(s), "
              f"{rejected} rejection(s), {done} sitemap(s) read: {state_text}")


def _is_number(value: Any) -> bool:
    return value is None or str(value).replace(".", "", 1).isdigit()
