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
    assert "news_ingest" in bag.dags


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
def test_dag_test_run_loads_rows(bag: Any, dsn: str, demo_site: Any, tmp_path: Path) -> None:
    """A real dag.test(): plan, mapped ingest tasks and finish, through Airflow's runner."""
    from ingest.demo.site import sources_yaml

    config = tmp_path / "sources.yml"
    config.write_text(sources_yaml(demo_site.base))
    env = {**os.environ}
    migrate = subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
                             env=env, capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-2000:]

    info = psycopg.conninfo.conninfo_to_dict(dsn)
    os.environ["AIRFLOW_CONN_NEWS_WAREHOUSE"] = json.dumps(
        {"conn_type": "postgres", "host": info["host"], "login": info.get("user", "postgres"),
         "schema": info["dbname"]})
    try:
        dag = bag.dags["news_ingest"]
        for task in dag.tasks:
            task.retries = 0
        run = dag.test(run_conf={"config": str(config), "run_key": "dag-test"})
    finally:
        del os.environ["AIRFLOW_CONN_NEWS_WAREHOUSE"]
    assert run.state == "success"
    with psycopg.connect(dsn) as conn:
        status = conn.execute(
            "SELECT status, sources, articles_new FROM news.runs WHERE run_id = 'dag-test'"
        ).fetchone()
        articles = conn.execute("SELECT count(*) FROM news.articles").fetchone()
    assert status == ("success", len(yaml.safe_load(config.read_text())["sources"]), 8)
    assert articles == (8,)
