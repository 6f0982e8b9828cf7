"""The production shape for real: CeleryExecutor with a Redis broker on 127.0.0.1.

Docker cannot run here, so docker-compose.yml is checked for its structure only
(test_compose.py); this test proves the executor itself. It starts the API server,
the scheduler, the dag-processor and a Celery worker against the Redis this
machine provides (skipped, saying so, when there is none), with Airflow's metadata
in PostgreSQL (the embedded one), and runs news_ingest to success through them.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import ROOT
from ingest.standalone import REDIS, free_port, redis_available

pytestmark = pytest.mark.slow


@pytest.mark.skipif(not redis_available(), reason="no Redis on 127.0.0.1:6379 (this test "
                    "needs a real broker; the machine that runs CI provides one)")
def test_news_ingest_runs_on_celery_workers(
    pg_server: Any, dsn: str, demo_site: Any, tmp_path: Path
) -> None:
    from ingest.demo.site import sources_yaml
    from ingest.standalone import airflow_env, run_airflow, stop_group

    meta = f"airflow_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.get_uri("postgres"), autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {meta}")
    socket_dir = psycopg.conninfo.conninfo_to_dict(dsn)["host"]
    sqlalchemy = f"postgresql+psycopg2://postgres@/{meta}?host={socket_dir}"
    config = tmp_path / "sources.yml"
    config.write_text(sources_yaml(demo_site.base))
    port = free_port()
    queue = f"news-{uuid.uuid4().hex[:6]}"
    env = airflow_env(tmp_path, dsn, config)
    env.update({
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": sqlalchemy,
        "AIRFLOW__CELERY__BROKER_URL": f"redis://{REDIS[0]}:{REDIS[1]}/14",
        "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://postgres@/{meta}?host={socket_dir}",
        "AIRFLOW__CELERY__WORKER_CONCURRENCY": "2",
        "AIRFLOW__OPERATORS__DEFAULT_QUEUE": queue,  # a queue of our own on the shared broker
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    })
    log = tmp_path / "airflow.log"
    run_airflow(["db", "migrate"], env, log)
    run_airflow(["pools", "set", "news_ingest", "4", "news-ingest ingest tasks"], env, log)
    airflow = str(Path(sys.executable).parent / "airflow")
    procs = []
    try:
        for name, command in (
            ("api-server", ["api-server"]), ("scheduler", ["scheduler"]),
            ("dag-processor", ["dag-processor"]),
            ("worker", ["celery", "worker", "--concurrency", "2", "--queues", queue]),
        ):
            with (tmp_path / f"{name}.log").open("w") as out:
                procs.append(subprocess.Popen([airflow, *command], env=env, stdout=out,
                                              stderr=subprocess.STDOUT, cwd=ROOT,
                                              start_new_session=True))
        with psycopg.connect(pg_server.get_uri(meta), autocommit=True) as conn:
            wait(lambda: conn.execute(
                "SELECT 1 FROM dag WHERE dag_id = 'news_ingest'").fetchone(), 180, tmp_path)
            run_airflow(["dags", "unpause", "news_ingest"], env, log)
            run_airflow(["dags", "trigger", "news_ingest", "--run-id", "celery-run",
                         "--conf", '{"run_key": "celery-run"}'], env, log)
            state = wait(lambda: (lambda row: row and row[0] in ("success", "failed") and row)(
                conn.execute("SELECT state FROM dag_run WHERE run_id = 'celery-run'").fetchone()),
                420, tmp_path)
            tasks = conn.execute(
                "SELECT task_id, state, external_executor_id FROM task_instance "
                "WHERE run_id = 'celery-run'").fetchall()
        assert state[0] == "success", tasks
        # every task went through Celery: each has the id of its Celery task
        assert tasks and all(t[1] == "success" and t[2] for t in tasks), tasks
        with psycopg.connect(dsn) as conn:
            run = conn.execute("SELECT status FROM news.runs WHERE run_id = 'celery-run'").fetchone()
            articles = conn.execute("SELECT count(*) FROM news.articles").fetchone()
        assert run == ("success",)
        # unpausing also ran the latest scheduled interval first: together, every demo story
        assert articles == (8,)
        worker_log = (tmp_path / "worker.log").read_text(errors="replace")
        assert "Executing workload in Celery" in worker_log and "task_id='ingest'" in worker_log
    finally:
        for proc in procs:
            stop_group(proc, timeout=20)


def wait(check: Any, timeout: float, logs: Path) -> Any:
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(2)
    tails = "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-2500:]}"
                      for p in sorted(logs.glob("*.log")))
    raise AssertionError(f"timed out after {timeout} s\n{tails}")


def test_compose_scales_workers_and_routes_ingest_to_them() -> None:
    """What `docker compose up --scale airflow-worker=N` relies on: workers without a
    fixed container name or host port, on the same broker as the scheduler."""
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    worker = compose["services"]["airflow-worker"]
    assert "container_name" not in worker and "ports" not in worker
    assert "celery worker" in worker["command"]
    common = compose["x-airflow-common"]["environment"]
    assert common["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
    assert common["AIRFLOW__CELERY__BROKER_URL"].startswith("redis://")
    assert compose["services"]["flower"]["profiles"] == ["flower"]
    assert os.path.basename(str(compose["x-airflow-common"]["build"])) in (".", "")
