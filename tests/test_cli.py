"""The news-ingest command, as a user runs it (a real subprocess)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from conftest import ROOT
from ingest.demo.site import sources_yaml

CLI = [sys.executable, "-m", "ingest.cli"]


def run(*args: str, env: dict[str, str] | None = None, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, *args], capture_output=True, text=True, cwd=cwd, timeout=300,
                          env={**os.environ, **(env or {})})


def test_invalid_config_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "sources.yml"
    config.write_text("sources:\n  - name: kt\n    url: not-a-url\n")
    result = run("run", "--config", str(config), "--dsn", "postgresql://nobody@127.0.0.1:1/x")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "source 'kt' (sources[0]): key 'url'" in lines[0]


def test_unreachable_warehouse_is_one_clear_line(tmp_path: Path) -> None:
    config = tmp_path / "sources.yml"
    config.write_text("sources:\n  - name: kt\n    url: https://example.org/rss.xml\n")
    result = run("run", "--config", str(config), "--dsn", "postgresql://nobody:pw@127.0.0.1:1/x")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "cannot connect to the warehouse" in lines[0]
    assert "pw" not in lines[0]


def test_missing_config_argument(tmp_path: Path) -> None:
    result = run("run", "--dsn", "postgresql://x@127.0.0.1:1/x", env={"NEWS_INGEST_CONFIG": ""},
                 cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "news-ingest: error: sources file sources.yml not found "
        "(pass --config or set NEWS_INGEST_CONFIG)")


def test_run_against_the_demo_site(demo_site: Any, dsn: str, tmp_path: Path) -> None:
    config = tmp_path / "sources.yml"
    config.write_text(sources_yaml(demo_site.base))
    result = run("run", "--config", str(config), env={"NEWS_INGEST_DSN": dsn})
    assert result.returncode == 0, result.stderr
    table = result.stdout
    assert "source" in table and "total" in table and "korea-daily-post" in table
    assert "rejections: http_404=1\n" in table
    assert ": success in" in table
    # not a terminal: plain log lines, no progress bar
    assert "entries" in result.stderr

    # The full near-duplicate pass finds the stories the incremental one found.
    import psycopg

    query = "SELECT article_id, story_id FROM news.articles ORDER BY article_id"
    with psycopg.connect(dsn) as conn:
        incremental = conn.execute(query).fetchall()
    rebuilt = run("db", "rebuild-stories", "--dsn", dsn)
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert f"indexed {len(incremental)} article(s); 2 share a story" in rebuilt.stdout
    with psycopg.connect(dsn) as conn:
        assert conn.execute(query).fetchall() == incremental


def test_db_migrate_is_idempotent(dsn: str) -> None:
    first = run("db", "migrate", "--dsn", dsn)
    assert first.returncode == 0 and "applied 0 migration(s)" in first.stdout  # template is migrated


def test_db_shell_runs_sql(dsn: str) -> None:
    result = run("db", "shell", "--dsn", dsn, "-c", "SELECT count(*) FROM news.articles")
    assert result.returncode == 0 and "0" in result.stdout


def test_tables_keep_every_cell_whole_and_numbers_right() -> None:
    from ingest.console import table

    url = "http://127.0.0.1:8765/news/apiclick.aspx?ref=FexRss&tid=" + "x" * 120
    text = table(["kind", "url", "n"], [["feed_link", url, 3], ["canonical", "http://a/", 12]])
    lines = text.splitlines()
    assert url in text and "…" not in text
    assert lines[2].endswith(" 3") and lines[3].endswith("12")  # right-aligned numbers


@pytest.mark.slow
def test_airflow_command_keeps_the_dags_paused_when_asked(tmp_path: Path) -> None:
    """`make airflow PAUSED=1`: Airflow up on loopback, every DAG listed as paused; a
    SIGTERM stops it all (exit 0, nothing left listening)."""
    import queue
    import signal
    import socket
    import threading

    from ingest.standalone import free_port

    port, log_port, demo_port = free_port(), free_port(), free_port()
    env = {**os.environ, "NEWS_INGEST_HOME": str(tmp_path / "home"),
           "NEWS_INGEST_AIRFLOW_PAUSED": "1", "NEWS_INGEST_AIRFLOW_LOG_PORT": str(log_port),
           "NEWS_INGEST_DEMO_PORT": str(demo_port)}
    proc = subprocess.Popen([*CLI, "airflow", "--port", str(port)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, cwd=tmp_path, env=env)
    lines: queue.Queue[str] = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout or []],
                     daemon=True).start()
    out: list[str] = []
    try:
        deadline = time.monotonic() + 300
        while not any("Ctrl-C stops" in line for line in out):
            assert time.monotonic() < deadline and proc.poll() is None, "".join(out)
            with contextlib.suppress(queue.Empty):
                out.append(lines.get(timeout=1))
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=90)
    text = "".join(out)
    assert code == 0, text
    assert "DAGs kept paused" in text
    listed = [line.split()[:2] for line in out if line.startswith("    ") and "news_" in line]
    assert {name for _, name in listed} >= {
        "news_backfill", "news_daily_digest", "news_ingest", "news_ingest_daily",
        "news_ingest_stream", "news_reextract"}, text
    assert {state for state, _ in listed} == {"paused"}
    for p in (port, log_port, demo_port):  # everything stopped
        with socket.socket() as s:
            assert s.connect_ex(("127.0.0.1", p)) != 0
