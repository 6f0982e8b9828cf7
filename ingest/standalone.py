"""Airflow standalone with this project's DAGs, on one machine: what ``make airflow``
runs, and what the demo and the live tests start Airflow with.

Airflow runs in child processes (``ingest`` never imports Airflow): their environment
(:func:`airflow_env`) points them at this project's DAGs and plugins and at the
warehouse (the ``news_warehouse`` connection), and :func:`stop_group` stops one with
everything it started.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import psycopg

from ingest import db
from ingest.config import Environment
from ingest.demo.site import DemoSite, sources_yaml
from ingest.errors import IngestError

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_DEMO_PORT = 8765


def airflow_env(home: Path, dsn: str, config: Path) -> dict[str, str]:
    """Environment for an Airflow child process that runs this project's DAGs."""
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    conn = {
        "conn_type": "postgres",
        "host": info.get("host"),
        "port": int(str(info["port"])) if info.get("port") else None,
        "login": info.get("user"),
        "password": info.get("password") or None,
        "schema": info.get("dbname"),
    }
    env = dict(os.environ)
    env.update(
        {
            "AIRFLOW_HOME": str(home / "airflow"),
            "AIRFLOW__CORE__DAGS_FOLDER": str(PROJECT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(PROJECT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
            "AIRFLOW_CONN_NEWS_WAREHOUSE": json.dumps({k: v for k, v in conn.items() if v}),
            "NEWS_INGEST_CONFIG": str(config),
            "NEWS_INGEST_HOME": str(home),
            "NEWS_INGEST_POOL": "news_ingest",
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
        }
    )
    return env


def run_airflow(args: list[str], env: dict[str, str], log_path: Path) -> None:
    """Run an ``airflow`` command, its output to a log file; raise with the tail on failure."""
    airflow = Path(sys.executable).parent / "airflow"
    with log_path.open("a", encoding="utf-8") as log:
        log.write(f"\n$ airflow {' '.join(args)}\n")
        log.flush()
        proc = subprocess.run([str(airflow), *args], env=env, stdout=log, stderr=subprocess.STDOUT,
                              cwd=PROJECT, check=False)
    if proc.returncode != 0:
        tail = log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-40:]
        raise IngestError(
            f"airflow {args[0]} {args[1] if len(args) > 1 else ''} failed "
            f"(exit {proc.returncode}); last lines of {log_path}:\n" + "\n".join(tail)
        )


def standalone_env(home: Path, dsn: str, config: Path, port: int) -> dict[str, str]:
    """Environment for ``airflow standalone`` on 127.0.0.1:``port``, sized for a small
    machine (a few tasks at once, not Airflow's default 32)."""
    env = airflow_env(home, dsn, config)
    env.update({
        "AIRFLOW__API__HOST": "127.0.0.1",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__BASE_URL": f"http://127.0.0.1:{port}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{port}/execution/",
        "AIRFLOW__CORE__PARALLELISM": "4",
        "AIRFLOW__CORE__MAX_ACTIVE_TASKS_PER_DAG": "4",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
        "AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC": "2",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
    })
    return env


def start_standalone(env: dict[str, str], log_path: Path) -> subprocess.Popen[Any]:
    """Migrate, create the ``news_ingest`` pool, start ``airflow standalone`` in its own
    session (stop it with :func:`stop_group`); output goes to ``log_path``."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    run_airflow(["db", "migrate"], env, log_path)
    run_airflow(["pools", "set", "news_ingest", "4", "news-ingest ingest tasks"], env, log_path)
    airflow = Path(sys.executable).parent / "airflow"
    with log_path.open("a", encoding="utf-8") as log:
        return subprocess.Popen([str(airflow), "standalone"], env=env, stdout=log,
                                stderr=subprocess.STDOUT, cwd=PROJECT, start_new_session=True)


def run_standalone(env: Environment, *, port: int = 8080, demo_port: int | None = None) -> int:
    """``make airflow``: Airflow standalone on 127.0.0.1 with this project's DAGs, the
    warehouse connection on the embedded PostgreSQL, and (unless a sources file is
    given) the demo site to ingest from. Stops everything on Ctrl-C."""
    import signal

    home = env.home.expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    dsn = db.embedded_dsn(home)
    with db.connect(dsn, autocommit=True) as conn:
        db.migrate(conn)
    demo_port = demo_port or int(os.environ.get("NEWS_INGEST_DEMO_PORT", DEFAULT_DEMO_PORT))
    with DemoSite(demo_port) as site:
        config = env.config.resolve() if env.config else None
        if config is None and Path("sources.yml").is_file():
            config = Path("sources.yml").resolve()
        if config is None:
            config = home / "demo" / "sources.yml"
            config.parent.mkdir(exist_ok=True)
            config.write_text(sources_yaml(site.base), encoding="utf-8")
        airflow_home = home / "airflow"
        log_path = airflow_home / "standalone.log"
        child_env = standalone_env(home, dsn, config, port)
        print(f"news-ingest: Airflow on http://127.0.0.1:{port}/ (log: {log_path})")
        print(f"  sources: {config}")
        print(f"  warehouse: embedded PostgreSQL ({db.redact(dsn)}), connection news_warehouse")
        proc = start_standalone(child_env, log_path)
        passwords = airflow_home / "simple_auth_manager_passwords.json.generated"

        def stop(signum: int, frame: object) -> None:
            raise KeyboardInterrupt

        signal.signal(signal.SIGTERM, stop)  # a plain kill stops Airflow's children too
        try:
            for _ in range(120):
                if passwords.is_file() or proc.poll() is not None:
                    break
                time.sleep(1)
            if passwords.is_file():
                print(f"  login: admin (password in {passwords})")
            print("  Ctrl-C stops Airflow, the demo site and the embedded PostgreSQL.")
            return proc.wait()
        except KeyboardInterrupt:
            print("\nstopping Airflow ...")
            stop_group(proc)
            return 0


def stop_group(proc: subprocess.Popen[Any], timeout: float = 30) -> None:
    """Stop a child started with its own session, and everything it started."""
    import signal

    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        pass
    except ProcessLookupError:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)  # stragglers of the group (log servers, ...)
    proc.wait()
