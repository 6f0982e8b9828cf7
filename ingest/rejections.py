"""Rejections (``news.rejections``) and the article URLs that keep failing
(``news.url_failures``, read as ``news.failing_urls``).

A rejection says why one item is not an article, once per run. A feed entry whose
article failed is also remembered by its URL, so that later passes do not pay for
it again at once: a reason that may pass (a timeout, a 5xx, a page too short
today) is tried again after a delay that doubles with each failure (from
``settings.url_retry_backoff``, at most a week); a reason that does not pass by
itself (404, 410, not HTML, disallowed by robots.txt, ...) is not tried again
until its row is deleted. Loading the article deletes the row.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ingest.models import Rejection

#: Reasons that do not pass by themselves: the URL is given up.
GIVE_UP = frozenset({
    "http_404", "http_410", "not_html", "robots", "bad_scheme", "bad_url",
    "private_address", "host_not_allowed",
})
MAX_URL_WAIT = timedelta(days=7)


def clip_url(url: str | None, limit: int = 2048) -> str | None:
    """A URL short enough for an index entry: a rejected link may be any length."""
    if url is None or len(url) <= limit // 4:
        return url
    return url.encode("utf-8", "surrogatepass")[:limit].decode("utf-8", "ignore")


def storable(value: Any) -> Any:
    """``value`` without NUL characters, which PostgreSQL's text and jsonb refuse (a
    rejected record may hold anything its page or feed held)."""
    if isinstance(value, str):
        return value.replace("\x00", "") if "\x00" in value else value
    if isinstance(value, dict):
        return {storable(k): storable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [storable(v) for v in value]
    return value


def record_rejections(
    conn: psycopg.Connection[Any], run_id: str, rejections: Iterable[Rejection]
) -> int:
    """Upsert rejections: a re-run of the same run updates, never duplicates."""
    rows = [
        (run_id, r.source, storable(clip_url(r.url)), r.stage, r.reason,
         storable(r.detail[:4000]), Jsonb(storable(r.payload)) if r.payload is not None else None)
        for r in rejections
    ]
    if not rows:
        return 0
    with conn.transaction(), conn.cursor() as cur:
        cur.executemany(
            """INSERT INTO news.rejections (run_id, source, url, stage, reason, detail, payload)
               VALUES (%s, %s, %s, %s, %s, %s, %s)
               ON CONFLICT (run_id, source, stage, reason, coalesce(url, ''))
               DO UPDATE SET detail = EXCLUDED.detail, payload = EXCLUDED.payload,
                             rejected_at = now()""",
            rows,
        )
    return len(rows)


def quarantined(
    conn: psycopg.Connection[Any],
    run_id: str | None = None,
    source: str | None = None,
    reason: str | None = None,
) -> list[tuple[int, dict[str, Any]]]:
    """(rejection_id, payload) of validation rejections not resolved yet, newest
    rejection per URL."""
    rows = conn.execute(
        """SELECT DISTINCT ON (url) rejection_id, payload FROM news.rejections
           WHERE stage = 'validate' AND resolved_by IS NULL AND payload IS NOT NULL
             AND (%(run)s::text IS NULL OR run_id = %(run)s)
             AND (%(source)s::text IS NULL OR source = %(source)s)
             AND (%(reason)s::text IS NULL OR reason = %(reason)s)
           ORDER BY url, rejected_at DESC""",
        {"run": run_id, "source": source, "reason": reason},
    ).fetchall()
    return [(rid, payload) for rid, payload in rows]


def resolve_rejections(conn: psycopg.Connection[Any], urls: Iterable[str], run_id: str) -> int:
    """Mark the validation rejections of these URLs as loaded by ``run_id``."""
    with conn.transaction():
        cur = conn.execute(
            """UPDATE news.rejections SET resolved_by = %s
               WHERE stage = 'validate' AND resolved_by IS NULL AND url = ANY(%s)""",
            (run_id, list(urls)),
        )
    return cur.rowcount


def next_try(reason: str, failures: int, now: datetime, base: float) -> datetime | None:
    """When a URL that failed ``failures`` times in a row for ``reason`` may be tried
    again; None: never (the reason does not pass by itself)."""
    if reason in GIVE_UP:
        return None
    wait = min(timedelta(seconds=base * 2 ** min(failures - 1, 30)), MAX_URL_WAIT)
    return now + wait


def record_url_failures(
    conn: psycopg.Connection[Any],
    run_id: str,
    failures: Sequence[tuple[str, Rejection]],
    now: datetime,
    base: float,
) -> int:
    """Remember (url, rejection) pairs: one more failure in a row for each URL (not
    twice within one run), and when it may be tried again."""
    latest = {clip_url(url) or url: rejection for url, rejection in failures}
    if not latest:
        return 0
    with conn.transaction():
        before = {
            url: (n, last_run) for url, n, last_run in conn.execute(
                "SELECT url, failures, last_run_id FROM news.url_failures WHERE url = ANY(%s) "
                "FOR UPDATE", (list(latest),))
        }
        rows = []
        for url, r in latest.items():
            n, last_run = before.get(url, (0, None))
            n = n if last_run == run_id else n + 1
            rows.append((storable(url), r.source, r.stage, r.reason, storable(r.detail[:1000]),
                         n, now, now,
                         next_try(r.reason, n, now, base), run_id))
        with conn.cursor() as cur:
            cur.executemany(
                """INSERT INTO news.url_failures (url, source, stage, reason, detail, failures,
                       first_failed_at, last_failed_at, next_try_at, last_run_id)
                   VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)
                   ON CONFLICT (url) DO UPDATE SET
                       source = EXCLUDED.source, stage = EXCLUDED.stage,
                       reason = EXCLUDED.reason, detail = EXCLUDED.detail,
                       failures = EXCLUDED.failures, last_failed_at = EXCLUDED.last_failed_at,
                       next_try_at = EXCLUDED.next_try_at, last_run_id = EXCLUDED.last_run_id""",
                rows,
            )
    return len(rows)


def waiting_urls(
    conn: psycopg.Connection[Any], urls: Iterable[str], now: datetime, *, given_up_only: bool
) -> dict[str, tuple[str, datetime | None]]:
    """{url: (reason, next_try_at)} of those ``urls`` that must not be fetched now:
    given up, or (unless ``given_up_only``) waiting for their next try."""
    wanted = list(dict.fromkeys(urls))
    if not wanted:
        return {}
    rows = conn.execute(
        """SELECT url, reason, next_try_at FROM news.url_failures
           WHERE url = ANY(%s) AND (next_try_at IS NULL OR (NOT %s AND next_try_at > %s))""",
        (wanted, given_up_only, now),
    ).fetchall()
    return {url: (reason, when) for url, reason, when in rows}


def forget_url_failures(conn: psycopg.Connection[Any], urls: Iterable[str]) -> int:
    """These URLs are fine now (their article is stored)."""
    wanted = list(dict.fromkeys(urls))
    if not wanted:
        return 0
    return conn.execute("DELETE FROM news.url_failures WHERE url = ANY(%s)", (wanted,)).rowcount
