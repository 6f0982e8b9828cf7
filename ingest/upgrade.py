"""The data steps of migrations that need the library's code, not SQL alone.

A numbered migration (``sql/``, run by :func:`ingest.db.migrate`) that must compute
something only Python knows (the public suffix list behind
:func:`ingest.resolve.site`) registers a step in ``news.data_steps``;
:func:`run_pending`, called by every pass's repair and by ``news-ingest db repair``,
runs the steps not done yet, under the load lock, and marks them done. Each step is
idempotent: a kill in the middle leaves it to be finished by the next call.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import psycopg

from ingest import derive
from ingest.db import LOAD_LOCK
from ingest.resolve import site

log = logging.getLogger(__name__)

_CHUNK = 5000


def run_pending(conn: psycopg.Connection[Any]) -> dict[str, int]:
    """Run the data steps not done yet; returns {step: rows it changed}."""
    done: dict[str, int] = {}
    for (name,) in conn.execute(
        "SELECT name FROM news.data_steps WHERE done_at IS NULL ORDER BY name"
    ).fetchall():
        step = STEPS.get(name)
        if step is None:
            continue  # a step of a newer version of the library: it runs it
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOAD_LOCK,))
            still = conn.execute("SELECT done_at IS NULL FROM news.data_steps WHERE name = %s",
                                 (name,)).fetchone()
            if not still or not still[0]:
                continue  # another process ran it meanwhile
            done[name] = step(conn)
            conn.execute("UPDATE news.data_steps SET done_at = now() WHERE name = %s", (name,))
        log.warning("data step %s: %d row(s) changed", name, done[name])
    return done


def _sites_and_copies(conn: psycopg.Connection[Any]) -> int:
    """009: every article's site; then each copy of another site, merged into an
    article while the text was unique across the warehouse, becomes an article of its
    own (the original's text and fields, its own URL, site, source and first sight),
    queued for its stories and search entry."""
    changed = 0
    while rows := conn.execute(
        "SELECT article_id, url FROM news.articles WHERE site IS NULL LIMIT %s", (_CHUNK,)
    ).fetchall():
        conn.execute(
            """UPDATE news.articles a SET site = s.site
               FROM unnest(%s::bigint[], %s::text[]) AS s (article_id, site)
               WHERE a.article_id = s.article_id""",
            ([aid for aid, _ in rows], [site(url) for _, url in rows]),
        )
        changed += len(rows)
    # A copy shows as a canonical URL of another site than its article's.
    copies: dict[tuple[int, str], list[tuple[datetime, str, str]]] = defaultdict(list)
    for aid, url, source, seen, own in conn.execute(
        """SELECT u.article_id, u.url, u.source, u.first_seen_at, a.site
           FROM news.article_urls u JOIN news.articles a USING (article_id)
           WHERE u.kind = 'canonical'"""
    ):
        if site(url) != own:
            copies[(aid, site(url))].append((seen, source, url))
    new_ids: list[int] = []
    for (aid, copy_site), sightings in sorted(copies.items()):
        sightings.sort()
        first_seen, source, canonical = sightings[0]
        sighted = {(s, t) for t, s, _ in sightings}  # (source, first_seen_at)
        urls = conn.execute(
            "SELECT url, kind, source, first_seen_at FROM news.article_urls WHERE article_id = %s",
            (aid,),
        ).fetchall()
        moving = [(url, kind) for url, kind, src, seen in urls
                  if (src, seen) in sighted and (site(url) == copy_site or kind == "feed_link")]
        direct = any(kind == "feed_link" and site(url) == copy_site for url, kind in moving)
        row = conn.execute(
            """INSERT INTO news.articles (
                   url, site, source, title, author, published_at, date_source, language,
                   site_name, text, word_count, content_hash, story_id, raw_sha256, extractor,
                   first_seen_at, last_seen_at, first_run_id, last_run_id, direct, modified_at,
                   feed_title, feed_published_at, feed_author, removed, extracted_at,
                   feed_date_kind, page_type)
               SELECT %s, %s, %s, title, author, published_at, date_source, language,
                      site_name, text, word_count, content_hash, story_id,
                      coalesce((SELECT r.sha256 FROM news.raw_pages r
                                WHERE r.first_url = ANY(%s) LIMIT 1), raw_sha256),
                      extractor, %s, %s, first_run_id, last_run_id, %s, modified_at,
                      feed_title, feed_published_at, feed_author, removed, extracted_at,
                      feed_date_kind, page_type
               FROM news.articles WHERE article_id = %s
               RETURNING article_id""",
            (canonical, copy_site, source, [url for url, _ in moving], first_seen, first_seen,
             direct, aid),
        ).fetchone()
        assert row is not None
        new_ids.append(row[0])
        conn.execute(
            """UPDATE news.article_urls u SET article_id = %s
               FROM unnest(%s::text[], %s::text[]) AS m (url, kind)
               WHERE u.url = m.url AND u.kind = m.kind AND u.article_id = %s""",
            (row[0], [url for url, _ in moving], [kind for _, kind in moving], aid),
        )
        changed += 1
    derive.enqueue(conn, new_ids, datetime.now(UTC))  # their stories and search entries
    return changed


STEPS: dict[str, Callable[[psycopg.Connection[Any]], int]] = {
    "009_sites_and_copies": _sites_and_copies,
}
