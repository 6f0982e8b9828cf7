"""Stories in the warehouse: the near-duplicate stage's reads and writes.

Every article's MinHash band keys (ingest.dedup.band_keys, computed where the text
was extracted) are rows of ``news.minhash_bands``. Two articles that share a band
key are candidates; a candidate pair is a near-duplicate when the containment of
their 5-word shingles reaches ``dedup.CONTAINMENT`` on the texts (band keys alone
would merge different stories now and then). Near-duplicates form a story: its
``story_id`` is the ``article_id`` of its earliest published document.

* :func:`link_stories` runs after each load batch, for its new articles, against
  everything first seen within the window (one join, by index);
* :func:`rebuild_stories` is the whole pass at once: band keys on every core,
  bulk load, one self-join, verification, story assignment; after changing the
  thresholds, or when a crash emptied the (unlogged) band table
  (:func:`ensure_story_index`).
"""

from __future__ import annotations

import tempfile
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Executor, Future
from datetime import datetime, timedelta
from typing import IO, Any, NamedTuple

import psycopg

from ingest.db import LOAD_LOCK
from ingest.dedup import CONTAINMENT, band_keys, containment, shingles
from ingest.models import Article


class Fresh(NamedTuple):
    """A new or changed article, as the near-duplicate stage needs it."""

    article_id: int
    bands: Sequence[int]
    seen_at: datetime | None
    text: str
    source: str


def link_stories(
    conn: psycopg.Connection[Any], fresh: Sequence[tuple[int, Article]], window: timedelta
) -> dict[str, int]:
    """Index the band keys of new (or changed) articles and join each new one to the
    story of the earliest document it near-duplicates, in one transaction. Returns,
    per source, how many joined another document's story."""
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOAD_LOCK,))
        return link_fresh(conn, [
            Fresh(aid, a.bands or (), a.fetched_at, a.text, a.source) for aid, a in fresh
        ], window)


def link_fresh(
    conn: psycopg.Connection[Any], fresh: Sequence[Fresh], window: timedelta
) -> dict[str, int]:
    """:func:`link_stories`'s work, inside the caller's transaction, which holds the
    load lock (ingest.derive marks its queue in the same transaction)."""
    keyed = [f for f in fresh if f.bands]
    if not keyed:
        return {}
    conn.execute("CREATE TEMP TABLE fresh_bands (article_id bigint, band_hash bigint, "
                 "seen_at timestamptz) ON COMMIT DROP")
    with conn.cursor() as cur, cur.copy(
        "COPY fresh_bands (article_id, band_hash, seen_at) FROM STDIN"
    ) as copy:
        copy.write(_band_lines((f.article_id, f.bands, f.seen_at) for f in keyed))
    pairs = conn.execute(
        """SELECT DISTINCT f.article_id, m.article_id
           FROM fresh_bands f JOIN news.minhash_bands m ON m.band_hash = f.band_hash
           WHERE m.article_id <> f.article_id AND m.first_seen_at >= f.seen_at - %s
           UNION
           SELECT f.article_id, g.article_id
           FROM fresh_bands f JOIN fresh_bands g
             ON g.band_hash = f.band_hash AND g.article_id < f.article_id""",
        (window,),
    ).fetchall()
    conn.execute(  # in key order: the index is then written page after page
        """INSERT INTO news.minhash_bands (band_hash, article_id, first_seen_at)
           SELECT band_hash, article_id, seen_at FROM fresh_bands ORDER BY band_hash"""
    )
    conn.execute("DROP TABLE fresh_bands")
    if not pairs:
        return {}
    texts = {f.article_id: f.text for f in keyed}
    known = _articles(conn, {x for pair in pairs for x in pair}, skip_text=set(texts))
    texts.update({aid: row[2] for aid, row in known.items() if row[2] is not None})
    sources = {f.article_id: f.source for f in keyed}
    joined: dict[str, int] = {}
    for members in _components(pairs, _verifier(texts)):
        for aid in _assign(conn, members, known):
            if aid in sources:
                joined[sources[aid]] = joined.get(sources[aid], 0) + 1
    return joined


def rebuild_stories(
    conn: psycopg.Connection[Any], window: timedelta, workers: int | None = None
) -> tuple[int, int]:
    """The near-duplicate pass over every article first seen within ``window``, from
    scratch. Returns (articles indexed, articles that share their story with another)."""
    from ingest.pool import ProcessPool

    pool = ProcessPool(workers)
    try:
        executor = pool.start()
        with conn.transaction():
            conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOAD_LOCK,))
            conn.execute("SET LOCAL work_mem = '256MB'")
            conn.execute("TRUNCATE news.minhash_bands")
            # Queued articles of the window get their keys and story here, not again later.
            conn.execute(
                """UPDATE news.derive_queue q SET linked = true FROM news.articles a
                   WHERE a.article_id = q.article_id AND a.first_seen_at >= now() - %s""",
                (window,),
            )
            conn.execute("DROP INDEX IF EXISTS news.minhash_bands_hash")
            with tempfile.TemporaryFile("w+", encoding="ascii") as spool:
                indexed = _spool_bands(conn, window, executor, pool.workers, spool)
                spool.seek(0)
                with conn.cursor() as write, write.copy(
                    "COPY news.minhash_bands (article_id, band_hash, first_seen_at) FROM STDIN"
                ) as copy:
                    while block := spool.read(1 << 20):
                        copy.write(block)
            conn.execute("CREATE INDEX minhash_bands_hash ON news.minhash_bands (band_hash)")
            pairs = conn.execute(
                """SELECT DISTINCT a.article_id, b.article_id
                   FROM news.minhash_bands a JOIN news.minhash_bands b USING (band_hash)
                   WHERE a.article_id < b.article_id"""
            ).fetchall()
            conn.execute(
                """UPDATE news.articles SET story_id = article_id
                   WHERE first_seen_at >= now() - %s AND story_id <> article_id""",
                (window,),
            )
            known = _articles(conn, {x for pair in pairs for x in pair})
            texts = {aid: row[2] for aid, row in known.items() if row[2] is not None}
            linked = 0
            for members in _components(pairs, _verifier(texts)):
                _assign(conn, members, known)
                linked += len(members)
            _mark_complete(conn)
        return indexed, linked
    finally:
        pool.close()


def _spool_bands(
    conn: psycopg.Connection[Any], window: timedelta, executor: Executor, workers: int,
    spool: IO[str],
) -> int:
    """Band keys of the window's articles, computed on every core, as COPY lines in
    ``spool``. A server-side cursor reads 2,000 texts at a time and at most two chunks
    per worker are in flight, so memory stays flat; the COPY comes after, because a
    COPY in progress holds the connection the cursor reads from."""
    indexed = 0
    in_flight: deque[Future[tuple[str, int]]] = deque()
    with conn.cursor(name="story_pass") as read:
        read.execute("SELECT article_id, first_seen_at, text FROM news.articles "
                     "WHERE first_seen_at >= now() - %s", (window,))
        while rows := read.fetchmany(2000):
            in_flight.append(executor.submit(_band_chunk, rows))
            while len(in_flight) >= 2 * workers:
                indexed += _drain(in_flight.popleft(), spool)
    while in_flight:
        indexed += _drain(in_flight.popleft(), spool)
    return indexed


def _drain(future: Future[tuple[str, int]], spool: IO[str]) -> int:
    lines, n = future.result()
    spool.write(lines)
    return n


def ensure_story_index(conn: psycopg.Connection[Any], window: timedelta) -> int:
    """Rebuild the stories when news.minhash_bands lost its rows: PostgreSQL empties
    unlogged tables in its recovery from a crash, maybe in the middle of a pass that
    then goes on loading. Its sentinel row (article 0, written with every full build)
    tells: gone, the index is incomplete, even if rows were added since. Returns the
    number of articles indexed again, 0 when nothing was missing."""
    intact = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM news.minhash_bands WHERE band_hash = 0 AND article_id = 0)"
    ).fetchone()
    if intact and intact[0]:
        return 0
    return rebuild_stories(conn, window)[0]


def _mark_complete(conn: psycopg.Connection[Any]) -> None:
    """The sentinel of a complete index: outside every window, so never a candidate."""
    conn.execute("INSERT INTO news.minhash_bands (band_hash, article_id, first_seen_at) "
                 "VALUES (0, 0, '-infinity')")


def _band_chunk(rows: list[tuple[int, datetime, str]]) -> tuple[str, int]:
    """In a worker: COPY lines of the band keys of (article_id, first_seen_at, text) rows."""
    return _band_lines((aid, band_keys(text) or (), seen) for aid, seen, text in rows), len(rows)


def _band_lines(rows: Iterable[tuple[int, Iterable[int], datetime | None]]) -> str:
    """COPY text for (article_id, band_hash, first_seen_at) rows: 42 rows an article
    add up, and one formatted string is much faster than a write_row per row."""
    return "".join(
        f"{aid}\t{key}\t{seen.isoformat() if seen else chr(92) + 'N'}\n"
        for aid, keys, seen in rows
        for key in keys
    )


def _articles(
    conn: psycopg.Connection[Any], ids: set[int], skip_text: set[int] | None = None
) -> dict[int, tuple[int, datetime, str | None]]:
    """{article_id: (story_id, when, text)} (text None for ``skip_text``); ``when`` is
    the publication time, else the first sight: what makes a document the original."""
    return {
        aid: (story_id, when, text)
        for aid, story_id, when, text in conn.execute(
            "SELECT article_id, story_id, least(published_at, first_seen_at), "
            "CASE WHEN article_id = ANY(%s) THEN NULL ELSE text END "
            "FROM news.articles WHERE article_id = ANY(%s)",
            (sorted(skip_text or ()), sorted(ids)),
        )
    }


def _verifier(texts: dict[int, str]) -> Callable[[int, int], bool]:
    sets: dict[int, Any] = {}

    def shingle_set(aid: int) -> Any:
        if aid not in sets:
            sets[aid] = shingles(texts.get(aid) or "")
        return sets[aid]

    def verify(a: int, b: int) -> bool:
        if a not in texts or b not in texts:
            return False  # deleted since its bands were written
        return containment(shingle_set(a), shingle_set(b)) >= CONTAINMENT

    return verify


def _components(
    pairs: Iterable[tuple[int, int]], verify: Callable[[int, int], bool]
) -> list[list[int]]:
    """Groups of articles connected by verified near-duplicate pairs (union-find)."""
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for a, b in pairs:
        if find(a) != find(b) and verify(a, b):
            parent[find(a)] = find(b)
    groups: dict[int, list[int]] = {}
    for aid in list(parent):
        groups.setdefault(find(aid), []).append(aid)
    return [members for members in groups.values() if len(members) > 1]


def _assign(
    conn: psycopg.Connection[Any],
    members: list[int],
    known: dict[int, tuple[int, datetime, str | None]],
) -> list[int]:
    """Give the group the story of its earliest document, the earliest published (a
    re-post seen first still joins the original's story), merging the stories its
    members had. Returns the members whose story changed."""
    first = min(members, key=lambda aid: (known[aid][1], aid))
    target = known[first][0]
    merged = sorted({known[aid][0] for aid in members} - {target})
    if merged:
        conn.execute(
            "UPDATE news.articles SET story_id = %s WHERE story_id = ANY(%s)", (target, merged)
        )
    return [aid for aid in members if known[aid][0] != target]
