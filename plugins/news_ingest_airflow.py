"""Airflow glue shared by the news-ingest DAGs, the UI plugin and the triggerer.

It lives in ``plugins/`` because the triggerer must be able to import the
trigger (from ``dags/`` it cannot), and because the DAG files stay wiring only.
Nothing heavy is imported at module level: DAG files import this on every parse.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

from airflow.sdk import Asset
from airflow.triggers.base import BaseEventTrigger, TriggerEvent

log = logging.getLogger(__name__)

WAREHOUSE_CONN_ID = "news_warehouse"
#: Emitted when a run loaded articles; news_daily_digest is scheduled on it.
ARTICLES = Asset(name="news_articles", uri="postgres://warehouse:5432/news/news/articles")


def warehouse_dsn() -> str:
    """The ``news_warehouse`` connection as a libpq DSN; without one, the
    environment's (NEWS_INGEST_DSN, else the embedded PostgreSQL)."""
    from airflow.sdk import Connection
    from airflow.sdk.exceptions import AirflowNotFoundException

    from ingest import db
    from ingest.config import Environment

    try:
        conn = Connection.get(WAREHOUSE_CONN_ID)
    except AirflowNotFoundException:
        env = Environment()
        return db.resolve_dsn(None, env.dsn, env.home)
    return db.dsn_from_airflow_connection(
        conn.host, conn.login, conn.password, conn.schema, conn.port, conn.extra_dejson
    )


def record_failure(context: dict[str, Any]) -> None:
    """on_failure_callback: the run's row in news.runs says which task failed and why."""
    from ingest import runs

    ti = context["ti"]
    params = context.get("params") or {}
    run_key = params.get("run_key") or context["run_id"]
    try:  # the key plan chose (it derives it from the date for the daily refresh)
        batches = ti.xcom_pull(task_ids="plan")
        if batches:
            run_key = batches[0]["run_key"]
    except Exception:
        pass
    message = f"task {ti.task_id}[{ti.map_index}] failed: {context.get('exception')!r}"
    try:
        runs.end_run(warehouse_dsn(), run_key, "failed", message[:1000])
    except Exception as exc:  # the callback must not hide the task's own error
        log.warning("could not record the failure in news.runs: %s", exc)


class NewFeedEntriesTrigger(BaseEventTrigger):
    """Fires when a feed of the sources file lists entries not seen before.

    Runs in the triggerer: polls each feed at its ``poll_interval`` (settings or
    per source) with conditional GET, and yields one event per poll that found
    something, with the sources to ingest as payload. It never returns, and never
    raises: a failure is logged and retried after a pause.
    """

    def __init__(self, config_path: str | None = None, tick: float = 5.0) -> None:
        super().__init__()
        self.config_path = config_path
        self.tick = tick

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return (
            "news_ingest_airflow.NewFeedEntriesTrigger",
            {"config_path": self.config_path, "tick": self.tick},
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        # Every trigger of the triggerer shares its event loop: nothing slow may run on
        # it. Importing the watcher (httpx, feedparser, lxml: about half a second, which
        # the triggerer reported as its loop "blocked") and building it happen in a
        # thread; the watcher builds its HTTP client in a thread too.
        watcher: Any = None
        pause = self.tick
        try:
            while True:
                try:
                    if watcher is None:
                        watcher = await asyncio.to_thread(_new_watcher, self.config_path)
                    changes = await watcher.poll()
                    pause = self.tick
                    if changes:
                        yield TriggerEvent({
                            "sources": sorted(c.source for c in changes),
                            "new_links": sum(c.new_links for c in changes),
                            "at": datetime.now(UTC).isoformat(),
                        })
                except Exception as exc:  # keep watching; the next poll may succeed
                    log.warning("feed watcher failed, retrying in %.0f s: %s", pause, exc)
                    pause = min(pause * 2, 300.0)
                await asyncio.sleep(pause)
        finally:  # cancelled (the asset's DAG paused, the triggerer stopping)
            if watcher is not None:
                with contextlib.suppress(Exception):
                    await watcher.aclose()


def _new_watcher(path: str | None) -> Any:
    """A FeedWatcher on the sources file (run in a thread: the import is the slow part)."""
    from ingest.sources import config_path
    from ingest.watch import FeedWatcher

    return FeedWatcher(config_path(path))
