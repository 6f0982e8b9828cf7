"""Rejections and failing article URLs: upserts, back-off, given-up reasons."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from ingest import rejections
from ingest.models import Rejection
from ingest.rejections import record_rejections, record_url_failures, waiting_urls

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def test_rejections_upsert_per_run(conn: psycopg.Connection[Any]) -> None:
    rows = [Rejection("s", "fetch", "http_404", "HTTP 404", "https://ex.org/x"),
            Rejection("s", "parse", "not_a_feed", "html page", None)]
    record_rejections(conn, "r1", rows)
    record_rejections(conn, "r1", rows)
    assert conn.execute("SELECT count(*) FROM news.rejections").fetchone() == (2,)
    record_rejections(conn, "r2", rows)
    assert conn.execute("SELECT count(*) FROM news.rejections").fetchone() == (4,)


def test_a_transient_failure_waits_longer_each_time_and_a_404_for_ever() -> None:
    first = rejections.next_try("timeout", 1, NOW, 600)
    second = rejections.next_try("timeout", 2, NOW, 600)
    assert first == NOW + timedelta(seconds=600) and second == NOW + timedelta(seconds=1200)
    assert rejections.next_try("timeout", 40, NOW, 600) == NOW + rejections.MAX_URL_WAIT
    for reason in ("http_404", "http_410", "not_html", "robots"):
        assert rejections.next_try(reason, 1, NOW, 600) is None


def test_url_failures_count_once_per_run_and_say_when_to_try_again(
    conn: psycopg.Connection[Any],
) -> None:
    slow = Rejection("s", "fetch", "timeout", "no answer", "https://ex.org/slow")
    gone = Rejection("s", "fetch", "http_404", "HTTP 404", "https://ex.org/gone")
    pairs = [("https://ex.org/slow", slow), ("https://ex.org/gone", gone)]
    record_url_failures(conn, "r1", pairs, NOW, 600)
    record_url_failures(conn, "r1", pairs, NOW, 600)  # the same run again: no new failure
    record_url_failures(conn, "r2", pairs[:1], NOW, 600)
    rows = dict(conn.execute("SELECT url, failures FROM news.failing_urls").fetchall())
    assert rows == {"https://ex.org/slow": 2, "https://ex.org/gone": 1}
    urls = ["https://ex.org/slow", "https://ex.org/gone", "https://ex.org/fine"]
    assert set(waiting_urls(conn, urls, NOW, given_up_only=False)) == set(urls[:2])
    later = NOW + timedelta(seconds=1201)  # the slow page is due again; the 404 never is
    assert set(waiting_urls(conn, urls, later, given_up_only=False)) == {urls[1]}
    # a full refresh tries what may pass, never what is given up
    assert set(waiting_urls(conn, urls, NOW, given_up_only=True)) == {urls[1]}
    given_up = dict(conn.execute("SELECT url, given_up FROM news.failing_urls").fetchall())
    assert given_up == {"https://ex.org/slow": False, "https://ex.org/gone": True}
