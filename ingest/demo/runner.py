"""``news-ingest demo``: the whole product on one machine, offline.

Starts the embedded PostgreSQL, serves the demo news site on 127.0.0.1, writes
a sources file for it, migrates the warehouse and runs the ``news_ingest`` DAG
once through Airflow (``airflow dags test`` against a migrated SQLite metadata
database under ``$NEWS_INGEST_HOME/airflow``), then prints what landed.

Airflow runs in child processes (``ingest`` never imports Airflow). The run key
is fixed (``demo``), so running the demo again updates the same run's rows and
adds none.

The Airflow run is a manual one whose logical date is the moment the demo
started, to the microsecond (never zero): not a time the ``@daily`` schedule
(midnight UTC) can ever take. With the day's date, as before, the scheduler of
``make airflow`` found "its" run taken ("run already exists; skipping dagrun
creation") and the day's scheduled ingestion never ran. The run carries the note
``news-ingest demo ...`` in the UI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg

from ingest import db
from ingest.config import Environment, load_config
from ingest.console import table
from ingest.demo.site import DemoSite, sources_yaml
from ingest.errors import IngestError
from ingest.standalone import PROJECT, airflow_env, run_airflow

DEFAULT_PORT = 8765
RUN_KEY = "demo"
DEMO_NOTE = "news-ingest demo (`make demo`): a manual run, not the daily schedule's"

#: Run in a child with Airflow's environment: the note on the demo's DAG run.
_NOTE_SCRIPT = """
import sys
from datetime import datetime

from sqlalchemy import select

from airflow.models.dagrun import DagRun
from airflow.utils.session import create_session

dag_id, logical, note = sys.argv[1], datetime.fromisoformat(sys.argv[2]), sys.argv[3]
with create_session() as session:
    run = session.scalar(select(DagRun).where(DagRun.dag_id == dag_id,
                                              DagRun.logical_date == logical))
    if run is None:
        sys.exit(f"no run of {dag_id} at {logical}")
    run.note = note
    print(f"{run.run_id}: note set")
"""

SAMPLE_QUERY = """\
SELECT source, via, count(*) AS articles, sum(word_count) AS words,
       max(published_at)::date AS latest
FROM news.articles
GROUP BY source, via
ORDER BY articles DESC, source"""

URLS_QUERY = """\
SELECT u.kind, left(u.url, 90) AS url
FROM news.article_urls u
WHERE u.article_id = (SELECT article_id FROM news.article_urls
                      WHERE url LIKE '%/news/apiclick.aspx%' ORDER BY url LIMIT 1)
ORDER BY u.kind, u.url"""


def run_demo(env: Environment, *, port: int | None = None, use_airflow: bool = True) -> int:
    home = env.home.expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    print(f"news-ingest demo: data under {home}")
    dsn = db.embedded_dsn(home)
    print(f"  warehouse: embedded PostgreSQL ({db.redact(dsn)})")
    with DemoSite(port or int(os.environ.get("NEWS_INGEST_DEMO_PORT", DEFAULT_PORT))) as site:
        config = home / "demo" / "sources.yml"
        config.parent.mkdir(exist_ok=True)
        config.write_text(sources_yaml(site.base), encoding="utf-8")
        kinds = ", ".join(f"{s.name} ({s.kind})" for s in load_config(config).sources)
        print(f"  demo news site: {site.base}/ with sources {kinds}")
        with db.connect(dsn, autocommit=True) as conn:
            applied = db.migrate(conn)
        print(f"  migrations applied now: {', '.join(applied) or 'none (up to date)'}")
        if use_airflow:
            _run_dag(home, dsn, config)
        else:
            from ingest.pipeline import run_pass

            run_pass(load_config(config), dsn, trigger="demo", run_id=RUN_KEY)
    with db.connect(dsn, autocommit=True) as conn:
        _report(conn)
    print(f"\ndone in {time.monotonic() - started:.1f} s. Query it yourself with psql:")
    print("  .venv/bin/news-ingest db shell")
    return 0


def _run_dag(home: Path, dsn: str, config: Path) -> None:
    env = airflow_env(home, dsn, config)
    (home / "airflow").mkdir(exist_ok=True)
    log_path = home / "airflow" / "demo.log"
    marker = home / "airflow" / ".migrated"
    if not marker.exists():
        print("  airflow: migrating its metadata database (first run only) ...")
        run_airflow(["db", "migrate"], env, log_path)
        marker.write_text(datetime.now(UTC).isoformat())
    print(f"  airflow: dags test news_ingest (log: {log_path}) ...")
    logical = demo_logical_date()
    run_airflow(
        ["dags", "test", "news_ingest", logical.isoformat(), "-c",
         json.dumps({"run_key": RUN_KEY})],
        env,
        log_path,
    )
    with log_path.open("a", encoding="utf-8") as log:
        log.write("\n$ (note on the demo's DAG run)\n")
        log.flush()
        # -P: not the working directory on sys.path (a file there could shadow a module)
        subprocess.run([sys.executable, "-P", "-c", _NOTE_SCRIPT, "news_ingest",
                        logical.isoformat(), DEMO_NOTE], env=env, stdout=log,
                       stderr=subprocess.STDOUT, cwd=PROJECT, check=False, timeout=300)


def demo_logical_date(now: datetime | None = None) -> datetime:
    """The demo run's logical date: now, with a microsecond that is never zero, so never
    an instant of a cron schedule (whole minutes): the scheduler's runs stay free."""
    now = now or datetime.now(UTC)
    return now if now.microsecond else now.replace(microsecond=1)


def _report(conn: psycopg.Connection[Any]) -> None:
    run = conn.execute(
        "SELECT run_id, status, sources, entries_seen, articles_fetched, articles_new, "
        "articles_seen_before, rejections, message FROM news.runs WHERE run_id = %s",
        (RUN_KEY,),
    ).fetchone()
    if run is None:
        raise IngestError("the demo run left no row in news.runs")
    print(
        f"\nrun {run[0]}: {run[1]}; {run[2]} sources, {run[3]} entries, {run[4]} pages fetched, "
        f"{run[5]} new articles, {run[6]} already stored, {run[7]} rejections"
        + (f" ({run[8]})" if run[8] else "")
    )
    per_source = conn.execute(
        "SELECT source, entries_seen, articles_fetched, articles_new, articles_seen_before, "
        "rejections FROM news.run_sources WHERE run_id = %s ORDER BY source",
        (RUN_KEY,),
    ).fetchall()
    print(table(["source", "entries", "fetched", "new", "known", "rejected"], per_source))
    reasons = conn.execute(
        "SELECT stage, reason, count(*) FROM news.rejections WHERE run_id = %s "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        (RUN_KEY,),
    ).fetchall()
    if reasons:
        print("\nrejections (news.rejections):")
        print(table(["stage", "reason", "count"], reasons))
    for title, query in (("a sample query", SAMPLE_QUERY),
                         ("every URL of an aggregator article (news.article_urls)", URLS_QUERY)):
        print(f"\n{title}:\n\n{query};\n")
        with conn.cursor() as cur:
            cur.execute(query)
            headers = [d.name for d in cur.description or []]
            print(table(headers, cur.fetchall()))
    total = conn.execute("SELECT count(*) FROM news.articles").fetchone()
    print(f"\nnews.articles holds {total[0] if total else 0} rows.")
