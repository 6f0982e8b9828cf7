"""What the warehouse derives from a loaded article: its near-duplicate keys and
story (``news.minhash_bands``, ``story_id``) and its search entry
(``news.article_search``), written through a durable queue.

The load queues each new or changed article (``news.derive_queue``) in its own
transaction; :func:`drain` then links the queued articles into stories (one
transaction under the load lock, which also marks them linked) and indexes them
for search (one transaction per chunk, which also takes them off the queue). A
kill between any two of these steps leaves queue rows behind, and the next drain
(at the start of every pass, and ``news-ingest db repair``) finishes them in load
order, so the warehouse ends exactly as if nothing had happened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import psycopg

from ingest import failpoints
from ingest.db import LOAD_LOCK
from ingest.dedup import band_keys
from ingest.models import Article
from ingest.stories import Fresh, ensure_story_index, link_fresh

_INDEX_CHUNK = 1000


@dataclass(slots=True)
class Drained:
    linked: int = 0
    indexed: int = 0
    rebuilt: int = 0  # articles indexed again after a crash emptied the band table
    near_by_source: dict[str, int] = field(default_factory=dict)


def enqueue(conn: psycopg.Connection[Any], article_ids: Sequence[int], at: datetime) -> None:
    """Queue these articles' derived data; call it inside the transaction that loads
    or changes them. A queued article that changes again is linked again."""
    if not article_ids:
        return
    conn.execute(
        """INSERT INTO news.derive_queue (article_id, linked, queued_at)
           SELECT unnest(%s::bigint[]), false, %s
           ON CONFLICT (article_id) DO UPDATE SET linked = false""",
        (list(article_ids), at),
    )


def drain(
    conn: psycopg.Connection[Any],
    window: timedelta,
    fresh: Sequence[tuple[int, Article]] = (),
    only: Sequence[int] | None = None,
) -> Drained:
    """Write the derived data of the queued articles (of ``only`` these, when given):
    :func:`link_queued`, then :func:`index_linked`."""
    result = link_queued(conn, window, fresh, only)
    failpoints.reach("derive.linked")
    result.indexed = index_linked(conn, only)
    return result


def link_queued(
    conn: psycopg.Connection[Any],
    window: timedelta,
    fresh: Sequence[tuple[int, Article]] = (),
    only: Sequence[int] | None = None,
) -> Drained:
    """Band keys and stories of the queued articles not linked yet, in one transaction
    under the load lock that also marks them linked. ``fresh`` are records just loaded,
    whose band keys are known already; the others' come from their stored text."""
    result = Drained()
    records = dict(fresh)
    # A crash of the server (the pass reconnected) may have emptied the band table.
    result.rebuilt = ensure_story_index(conn, window)
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOAD_LOCK,))
        # Read under the lock: a drain beside this one has finished linking, or not begun.
        rows = conn.execute(
            """SELECT q.article_id, a.text, a.source, coalesce(a.updated_at, a.first_seen_at)
               FROM news.derive_queue q JOIN news.articles a USING (article_id)
               WHERE NOT q.linked AND (%s::bigint[] IS NULL OR q.article_id = ANY(%s))
               ORDER BY q.article_id""",
            (_ids(only), _ids(only)),
        ).fetchall()
        items = []
        for article_id, text, source, seen_at in rows:
            record = records.get(article_id)
            if record is not None:
                items.append(Fresh(article_id, record.bands or (), record.fetched_at,
                                   record.text, record.source))
            else:
                items.append(Fresh(article_id, band_keys(text) or (), seen_at, text, source))
        result.near_by_source = link_fresh(conn, items, window)
        result.linked = len(items)
        conn.execute(
            "UPDATE news.derive_queue SET linked = true WHERE article_id = ANY(%s)",
            ([item.article_id for item in items],),
        )
        # Articles gone since they were queued (deleted by hand) have nothing to derive.
        conn.execute("DELETE FROM news.derive_queue q WHERE NOT EXISTS "
                     "(SELECT 1 FROM news.articles a WHERE a.article_id = q.article_id)")
    return result


def index_linked(conn: psycopg.Connection[Any], only: Sequence[int] | None = None) -> int:
    """Search entries of the linked articles; each chunk of them leaves the queue in
    the transaction that indexes it. Returns the entries written."""
    indexed = 0
    linked = [row[0] for row in conn.execute(
        """SELECT article_id FROM news.derive_queue
           WHERE linked AND (%s::bigint[] IS NULL OR article_id = ANY(%s))
           ORDER BY article_id""",
        (_ids(only), _ids(only)),
    )]
    for start in range(0, len(linked), _INDEX_CHUNK):
        chunk = linked[start:start + _INDEX_CHUNK]
        with conn.transaction():
            row = conn.execute("SELECT news.index_search(%s)", (chunk,)).fetchone()
            indexed += row[0] if row else 0
            conn.execute(
                "DELETE FROM news.derive_queue WHERE article_id = ANY(%s) AND linked", (chunk,)
            )
    return indexed


def pending(conn: psycopg.Connection[Any]) -> int:
    row = conn.execute("SELECT count(*) FROM news.derive_queue").fetchone()
    return int(row[0]) if row else 0


def _ids(only: Sequence[int] | None) -> list[int] | None:
    return None if only is None else list(only)
