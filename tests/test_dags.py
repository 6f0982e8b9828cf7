"""DAG integrity, and a real Airflow run of news_ingest into a test warehouse."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from conftest import ROOT

DAGS = ROOT / "dags"
HEAVY = ("trafilatura", "great_expectations", "pandas", "httpx", "psycopg", "feedparser")


def test_dag_file_imports_fast_and_light() -> None:
    """What the DAG processor pays per parse: the file itself, airflow.sdk already loaded."""
    code = f"""
import sys, time
import airflow.sdk
before = set(sys.modules)
started = time.perf_counter()
import runpy
runpy.run_path({str(DAGS / "news_ingest.py")!r})
elapsed = time.perf_counter() - started
heavy = sorted(m for m in set(sys.modules) - before if m.split('.')[0] in {HEAVY!r})
print(elapsed, ",".join(heavy))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ}).stdout.strip().splitlines()[-1]
    elapsed, heavy = out.split(" ", 1) if " " in out else (out, "")
    assert float(elapsed) < 2.0
    assert heavy == "", f"the DAG file imports heavy modules at parse time: {heavy}"


@pytest.fixture(scope="module")
def bag() -> Any:
    from airflow.dag_processing.dagbag import DagBag

    return DagBag(dag_folder=str(DAGS), safe_mode=False)


def test_no_import_errors(bag: Any) -> None:
    assert bag.import_errors == {}
    assert {"news_ingest", "news_ingest_daily", "news_ingest_stream", "news_daily_digest",
            "news_reextract", "news_backfill"} <= set(bag.dags)


def test_news_ingest_structure(bag: Any) -> None:
    dag = bag.dags["news_ingest"]
    assert dag.catchup is False
    assert dag.tags and "news" in dag.tags
    assert dag.doc_md and "news_warehouse" in dag.doc_md
    assert set(dag.task_dict) == {"plan", "ingest", "finish"}
    ingest = dag.task_dict["ingest"]
    assert ingest.map_index_template
    assert ingest.retries >= 1 and ingest.retry_exponential_backoff
    assert ingest.execution_timeout is not None
    assert dag.task_dict["finish"].outlets
    assert dag.schedule == "@daily"


@pytest.mark.slow
def test_dag_test_run_loads_rows(
    bag: Any, airflow_db: None, dsn: str, demo_site: Any, tmp_path: Path
) -> None:
    """A real dag.test(): plan, mapped ingest tasks and finish, through Airflow's runner."""
    from ingest.demo.site import sources_yaml

    config = tmp_path / "sources.yml"
    config.write_text(sources_yaml(demo_site.base))

    info = psycopg.conninfo.conninfo_to_dict(dsn)
    os.environ["AIRFLOW_CONN_NEWS_WAREHOUSE"] = json.dumps(
        {"conn_type": "postgres", "host": info["host"], "login": info.get("user", "postgres"),
         "schema": info["dbname"]})
    try:
        dag = bag.dags["news_ingest"]
        for task in dag.tasks:
            task.retries = 0
        run = dag.test(run_conf={"config": str(config), "run_key": "dag-test"})
        # The maintenance DAG re-derives the records from the stored pages: nothing changes.
        again = bag.dags["news_reextract"].test(run_conf={"config": str(config)})
        # A backfill of the list-page source: its one page is stored already.
        back = bag.dags["news_backfill"].test(run_conf={
            "config": str(config), "source": "trade-ministry", "since": "2026-01-01"})
    finally:
        del os.environ["AIRFLOW_CONN_NEWS_WAREHOUSE"]
    assert run.state == "success" and again.state == "success" and back.state == "success"
    with psycopg.connect(dsn) as conn:
        status = conn.execute(
            "SELECT status, sources, articles_new FROM news.runs WHERE run_id = 'dag-test'"
        ).fetchone()
        articles = conn.execute("SELECT count(*) FROM news.articles").fetchone()
    assert status == ("success", len(yaml.safe_load(config.read_text())["sources"]), 8)
    assert articles == (8,)
    with psycopg.connect(dsn) as conn:
        reextracted = conn.execute(
            "SELECT status, articles_new FROM news.runs WHERE trigger = 'reextract'").fetchone()
    assert reextracted == ("success", 0)
    with psycopg.connect(dsn) as conn:
        backfilled = conn.execute("SELECT source, steps, articles, finished_at IS NOT NULL "
                                  "FROM news.backfills").fetchone()
    assert backfilled == ("trade-ministry", 1, 0, True)


@pytest.mark.slow
def test_a_quality_gate_turns_the_task_red(
    bag: Any, airflow_db: None, dsn: str, demo_site: Any, server: Any, tmp_path: Path
) -> None:
    """A source whose records are mostly rejected fails its ingest task (no retry),
    while the other sources' rows load and the run's row says why."""
    from ingest.demo.site import sources_yaml

    stub = "<html><body><article><p>Subscribe to continue reading this story.</p></article></body></html>"
    for n in range(3):
        server.static(f"/s{n}", stub)
    items = "".join(f"<item><title>s{n}</title><link>{server.base}/s{n}</link></item>" for n in range(3))
    feed = server.static("/thin.xml", f"<rss version='2.0'><channel><title>t</title>{items}</channel></rss>",
                         content_type="application/rss+xml")
    config = tmp_path / "sources.yml"
    # on another host name, so that it gets a task of its own (tasks group sources by site)
    thin = feed.replace("127.0.0.1", "localhost")
    config.write_text(
        sources_yaml(demo_site.base).replace('["127.0.0.1"]', '["127.0.0.1", "localhost"]')
        + f"  - name: thin-source\n    url: {thin}\n")
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    os.environ["AIRFLOW_CONN_NEWS_WAREHOUSE"] = json.dumps(
        {"conn_type": "postgres", "host": info["host"], "login": "postgres", "schema": info["dbname"]})
    try:
        dag = bag.dags["news_ingest"]
        run = dag.test(run_conf={"config": str(config), "run_key": "gate-test"})
    finally:
        del os.environ["AIRFLOW_CONN_NEWS_WAREHOUSE"]
    assert run.state == "failed"
    states = {(ti.task_id, ti.rendered_map_index): ti.state for ti in run.get_task_instances()}
    assert states[("ingest", "thin-source")] == "failed"
    demo_task = next(k for k in states if k[0] == "ingest" and "seoul-herald" in (k[1] or ""))
    assert states[demo_task] == "success"
    assert states[("finish", None)] == "failed"  # after closing the run: the DAG run is red
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT status, message FROM news.runs WHERE run_id = 'gate-test'").fetchone()
        articles = conn.execute("SELECT count(*) FROM news.articles").fetchone()
        gate = conn.execute("SELECT gate FROM news.quality WHERE source = 'thin-source'").fetchone()
    assert row is not None and row[0] == "failed"
    assert "thin-source: 3 of 3 records rejected" in row[1]
    assert articles == (8,)
    assert gate == ("failed",)
