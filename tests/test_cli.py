"""The news-ingest command, as a user runs it (a real subprocess)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

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
