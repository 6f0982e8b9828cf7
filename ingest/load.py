"""Load records into the warehouse, idempotently.

A batch is one transaction: COPY into temporary staging tables, match every
record against what is stored (any of its URLs in ``news.article_urls``, its
canonical URL, or its content hash), insert the new ones with
``INSERT ... ON CONFLICT DO NOTHING``, move ``last_seen_at`` of the others, then
map all their URLs. Loads take a transaction-scoped advisory lock, so two runs
overlapping in time (two DAG runs, or the CLI beside Airflow) serialise their
batches instead of racing on the same document.

The batch also queues its new and changed articles' derived data (near-duplicate
keys, stories, search entries: :mod:`ingest.derive`), in the same transaction, so
that a kill right after the commit cannot leave them unsearchable.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from ingest import derive
from ingest.db import LOAD_LOCK
from ingest.dedup import band_keys, collapse_batch
from ingest.models import Article

# RawPage is also named here for batches spooled by earlier versions (pickled as
# ingest.load.RawPage).
from ingest.rawstore import RawPage as RawPage
from ingest.rawstore import RawStore
from ingest.resolve import site

log = logging.getLogger(__name__)


@dataclass(slots=True)
class LoadResult:
    new: int = 0
    seen_before: int = 0
    urls_added: int = 0
    new_by_source: dict[str, int] = field(default_factory=dict)
    seen_by_source: dict[str, int] = field(default_factory=dict)
    fresh: list[tuple[int, Article]] = field(default_factory=list)  # new or changed
    changed_by_source: dict[str, int] = field(default_factory=dict)  # new versions
    near_by_source: dict[str, int] = field(default_factory=dict)  # joined an earlier story
    indexed: int = 0

    def merge(self, other: LoadResult) -> None:
        """Add the outcome of another part of the same batch."""
        self.new += other.new
        self.seen_before += other.seen_before
        self.urls_added += other.urls_added
        self.fresh += other.fresh
        self.indexed += other.indexed
        for mine, theirs in ((self.new_by_source, other.new_by_source),
                             (self.seen_by_source, other.seen_by_source),
                             (self.changed_by_source, other.changed_by_source),
                             (self.near_by_source, other.near_by_source)):
            for source, n in theirs.items():
                mine[source] = mine.get(source, 0) + n


# The columns of news.articles a new record is COPied into, with their types (the
# COPY is binary), in the order _insert_new writes them.
_ARTICLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("article_id", "int8"), ("story_id", "int8"), ("url", "text"), ("source", "text"),
    ("title", "text"), ("author", "text"), ("published_at", "timestamptz"),
    ("date_source", "text"), ("language", "text"), ("site_name", "text"), ("text", "text"),
    ("word_count", "int4"), ("content_hash", "text"), ("raw_sha256", "text"),
    ("extractor", "text"), ("first_seen_at", "timestamptz"), ("last_seen_at", "timestamptz"),
    ("first_run_id", "text"), ("last_run_id", "text"), ("direct", "bool"),
    ("modified_at", "timestamptz"), ("feed_title", "text"), ("feed_published_at", "timestamptz"),
    ("feed_author", "text"), ("removed", "jsonb"), ("extracted_at", "timestamptz"),
    ("feed_date_kind", "text"), ("page_type", "text"), ("site", "text"), ("via", "text"),
    ("found_in", "text"),
)


def load_articles(
    conn: psycopg.Connection[Any],
    run_id: str,
    articles: Sequence[Article],
    raw_pages: Iterable[RawPage] = (),
    store: RawStore | None = None,
) -> LoadResult:
    """Load one batch in one transaction.

    Keys first: the batch's URLs and hashes are staged and matched against the
    warehouse; only then do the new records' texts travel, once, by COPY straight
    into news.articles. Running the same batch twice changes nothing but
    ``last_seen_at``. A record met under a known URL with other content becomes a
    new version of that article. ``result.fresh`` lists the (article_id, record)
    pairs that are new or changed; they are queued for :func:`ingest.derive.drain`
    (:func:`load_batch` drains them at once)."""
    result = LoadResult()
    articles, _ = collapse_batch(articles)  # one document once, even if given twice
    # The bodies go to their store (WARC files: written and flushed) before the rows
    # that point at them are committed.
    raw_rows = (store.rows(conn, list(raw_pages)) if store is not None
                else list({p.sha256: p for p in raw_pages}.values()))
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (LOAD_LOCK,))
        # The batch's commit does not wait for its WAL to reach the disk (about a
        # tenth of the load's time). WAL is flushed in order, so the next normal
        # commit (the feeds' validators, saved only after every batch is loaded; the
        # run's counts) makes every batch before it durable: a crash can lose only
        # batches whose feeds will not answer 304 next time, and the next run
        # loads them again.
        conn.execute("SET LOCAL synchronous_commit = off")
        _store_raw_pages(conn, raw_rows)
        if not articles:
            return result
        _stage(conn, articles)
        matched = _match(conn)
        new_rns = [rn for rn in range(len(articles)) if rn not in matched]
        ids = _insert_new(conn, run_id, [articles[rn] for rn in new_rns])
        changed = _new_versions(conn, run_id, articles, matched)
        with conn.cursor() as cur, cur.copy("COPY stage_ids FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(("int4", "int8", "bool", "bool"))
            for rn, article_id in zip(new_rns, ids, strict=True):
                copy.write_row((rn, article_id, True, False))
            for rn, (article_id, _, _) in matched.items():
                copy.write_row((rn, article_id, False, rn in changed))
        derive.enqueue(conn, [*ids, *(matched[rn][0] for rn in sorted(changed))],
                       datetime.now(UTC))
        # Whatever URL failed before and loads now is no longer failing.
        conn.execute(
            """DELETE FROM news.url_failures f
               WHERE f.url IN (SELECT url FROM stage_urls UNION SELECT url FROM stage_keys)"""
        )
        conn.execute(
            """UPDATE news.articles a
               SET last_seen_at = greatest(a.last_seen_at, s.seen_at), last_run_id = %s,
                   source = CASE WHEN s.direct AND NOT a.direct THEN s.source ELSE a.source END,
                   direct = a.direct OR s.direct
               FROM stage_keys s JOIN stage_ids i USING (rn)
               WHERE i.article_id = a.article_id AND NOT i.is_new""",
            (run_id,),
        )
        added = _map_new_urls(conn, [articles[rn] for rn in new_rns], ids)
        if matched:
            added += conn.execute(
                """INSERT INTO news.article_urls (url, kind, article_id, source, first_seen_at)
                   SELECT u.url, u.kind, i.article_id, coalesce(u.source, s.source), s.seen_at
                   FROM stage_urls u JOIN stage_keys s USING (rn) JOIN stage_ids i USING (rn)
                   WHERE NOT i.is_new
                   ON CONFLICT (url, kind) DO NOTHING"""
            ).rowcount
    for rn, article_id in zip(new_rns, ids, strict=True):
        a = articles[rn]
        result.new_by_source[a.source] = result.new_by_source.get(a.source, 0) + 1
        result.fresh.append((article_id, a))
    for rn, (article_id, _, _) in matched.items():
        a = articles[rn]
        result.seen_by_source[a.source] = result.seen_by_source.get(a.source, 0) + 1
        if rn in changed:
            result.changed_by_source[a.source] = result.changed_by_source.get(a.source, 0) + 1
            result.fresh.append((article_id, a))
    result.new, result.seen_before = len(new_rns), len(matched)
    result.urls_added = max(added, 0)
    return result


def load_what_fits(
    conn: psycopg.Connection[Any],
    run_id: str,
    articles: Sequence[Article],
    raw_pages: Sequence[RawPage] = (),
    *,
    connection_lost: Callable[[], bool],
    store: RawStore | None = None,
) -> tuple[LoadResult, list[tuple[Article, str]]]:
    """:func:`load_articles`; should the database refuse the batch for what one of its
    records holds (a value it cannot store), the raw pages and then each half of the
    records are loaded apart, down to the records it refuses, which come back with
    the database's reason. A lost connection is raised as it is."""
    try:
        return load_articles(conn, run_id, articles, raw_pages, store), []
    except psycopg.Error as exc:
        if connection_lost():
            raise
        if len(articles) + len(raw_pages) == 1:
            if raw_pages:
                log.warning("raw page %s refused by the warehouse: %s", raw_pages[0].url, exc)
                return LoadResult(), []
            return LoadResult(), [(articles[0], f"{type(exc).__name__}: {_first_line(exc)}")]
        log.warning("the warehouse refused a batch (%s): loading it in parts", _first_line(exc))
    if raw_pages:  # the records point at their raw pages: those first
        half = len(raw_pages) // 2
        parts = ([([], raw_pages), (articles, [])] if articles
                 else [([], raw_pages[:half]), ([], raw_pages[half:])])
    else:
        half = len(articles) // 2
        parts = [(articles[:half], []), (articles[half:], [])]
    total = LoadResult()
    refused: list[tuple[Article, str]] = []
    for some, pages in parts:
        part, part_refused = load_what_fits(conn, run_id, some, pages,
                                            connection_lost=connection_lost, store=store)
        total.merge(part)
        refused += part_refused
    return total, refused


def _first_line(exc: BaseException) -> str:
    text = " ".join(str(exc).split("\n", 1)[0].split())
    return text[:400] or type(exc).__name__


def load_batch(
    conn: psycopg.Connection[Any],
    run_id: str,
    articles: Sequence[Article],
    raw_pages: Iterable[RawPage] = (),
    *,
    story_window: timedelta = timedelta(days=30),
    store: RawStore | None = None,
) -> LoadResult:
    """The whole load stage for one batch: load, link near-duplicates into stories
    (among the articles first seen within ``story_window``), index for search."""
    result = load_articles(conn, run_id, articles, raw_pages, store)
    drained = derive.drain(conn, story_window, result.fresh,
                           only=[article_id for article_id, _ in result.fresh])
    result.near_by_source = drained.near_by_source
    result.indexed = drained.indexed
    return result


def _stage(conn: psycopg.Connection[Any], articles: Sequence[Article]) -> None:
    """The batch's keys (not its texts) in temporary tables."""
    conn.execute(
        """CREATE TEMP TABLE stage_keys (
               rn integer, url text, content_hash text, source text,
               seen_at timestamptz, direct boolean, site text
           ) ON COMMIT DROP"""
    )
    conn.execute("CREATE TEMP TABLE stage_urls (rn integer, url text, kind text, source text) "
                 "ON COMMIT DROP")
    conn.execute(
        "CREATE TEMP TABLE stage_ids (rn integer, article_id bigint, is_new boolean, "
        "changed boolean) ON COMMIT DROP"
    )
    with conn.cursor() as cur:
        with cur.copy("COPY stage_keys FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(("int4", "text", "text", "text", "timestamptz", "bool", "text"))
            for rn, a in enumerate(articles):
                copy.write_row((rn, a.url, a.content_hash, a.source, a.fetched_at, a.direct,
                                site(a.url)))
        with cur.copy("COPY stage_urls FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(("int4", "text", "text", "text"))
            for rn, a in enumerate(articles):
                others = a.url_sources or {}
                for url, kind in a.urls:
                    copy.write_row((rn, url, kind, others.get(url)))


def _match(conn: psycopg.Connection[Any]) -> dict[int, tuple[int, str, str]]:
    """{batch position: (article_id, 'url' or 'text', its stored content hash)} for
    the staged records already stored: one of their URLs already mapped, else their
    canonical URL, else the same text.

    Every lookup is a scalar subquery, so each key costs one index probe whatever
    the planner guesses of the staged batch (it has no statistics on temporary
    tables, and a join could tempt it into reading a whole stored table)."""
    rows = conn.execute(
        """WITH hits AS (
               SELECT su.rn, min((SELECT au.article_id FROM news.article_urls au
                                  WHERE au.url = su.url ORDER BY au.kind LIMIT 1)) AS article_id
               FROM stage_urls su GROUP BY su.rn
           ), by_url AS (
               SELECT k.rn, k.content_hash, k.site,
                      coalesce(h.article_id, (SELECT a.article_id FROM news.articles a
                                              WHERE a.url = k.url)) AS article_id
               FROM stage_keys k LEFT JOIN hits h USING (rn)
           ), matched AS (
               SELECT b.rn, b.article_id IS NOT NULL AS by_url,
                      coalesce(b.article_id, (SELECT a.article_id FROM news.articles a
                                              WHERE a.content_hash = b.content_hash
                                                AND a.site = b.site)) AS article_id
               FROM by_url b
           )
           SELECT m.rn, m.article_id, CASE WHEN m.by_url THEN 'url' ELSE 'text' END,
                  (SELECT a.content_hash FROM news.articles a WHERE a.article_id = m.article_id)
           FROM matched m WHERE m.article_id IS NOT NULL"""
    )
    return {rn: (article_id, by, old_hash) for rn, article_id, by, old_hash in rows}


def _insert_new(
    conn: psycopg.Connection[Any], run_id: str, fresh: Sequence[Article]
) -> list[int]:
    """COPY the new records straight into news.articles, with ids drawn beforehand
    (each is its own story until link_stories says otherwise)."""
    if not fresh:
        return []
    # One call draws the whole range: only this function inserts articles, under
    # the load lock, so nothing else advances the sequence in between.
    row = conn.execute(
        "SELECT setval(s, nextval(s) + %s - 1) "
        "FROM pg_get_serial_sequence('news.articles', 'article_id') AS s", (len(fresh),)
    ).fetchone()
    last = row[0] if row else 0
    ids = list(range(last - len(fresh) + 1, last + 1))
    with conn.cursor() as cur, cur.copy(
        f"COPY news.articles ({', '.join(name for name, _ in _ARTICLE_COLUMNS)}) "
        "FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types([kind for _, kind in _ARTICLE_COLUMNS])
        for article_id, a in zip(ids, fresh, strict=True):
            copy.write_row((
                article_id, article_id, a.url, a.source, a.title, a.author, a.published_at,
                a.date_source, a.language, a.site_name, a.text, a.word_count, a.content_hash,
                a.raw_sha256, a.extractor, a.fetched_at, a.fetched_at, run_id, run_id,
                a.direct, a.modified_at, a.feed_title, a.feed_published_at, a.feed_author,
                Jsonb(a.removed) if a.removed else None, a.fetched_at, a.feed_date_kind,
                a.page_type, site(a.url), a.via, a.found_in,
            ))
    return ids


def _map_new_urls(
    conn: psycopg.Connection[Any], fresh: Sequence[Article], ids: Sequence[int]
) -> int:
    """COPY the URLs of the records just inserted straight into news.article_urls.

    None of them is mapped yet (any mapped URL would have matched its record to a
    stored article, and the load lock keeps other loads out), so no conflict check
    is needed; a URL listed twice in the batch goes to the first record listing it."""
    seen: set[tuple[str, str]] = set()
    with conn.cursor() as cur, cur.copy(
        "COPY news.article_urls (url, kind, article_id, source, first_seen_at) "
        "FROM STDIN (FORMAT BINARY)"
    ) as copy:
        copy.set_types(("text", "text", "int8", "text", "timestamptz"))
        for article_id, a in zip(ids, fresh, strict=True):
            others = a.url_sources or {}
            for pair in a.urls:
                if pair not in seen:
                    seen.add(pair)
                    copy.write_row((*pair, article_id, others.get(pair[0], a.source),
                                    a.fetched_at))
    return len(seen)


def _new_versions(
    conn: psycopg.Connection[Any],
    run_id: str,
    articles: Sequence[Article],
    matched: dict[int, tuple[int, str, str]],
) -> set[int]:
    """Known URL, other content: keep the old content in news.article_versions and make
    the new one current. (Not when the new content is another article's: that is a
    duplicate, not an edit.) Returns the rows (batch positions) that changed."""
    candidates: dict[int, int] = {}
    for rn, (article_id, by, old_hash) in matched.items():
        if by == "url" and articles[rn].content_hash != old_hash and article_id not in candidates:
            candidates[article_id] = rn
    if not candidates:
        return set()
    # another article of the same site has that text already
    taken = {
        row[0] for row in conn.execute(
            """SELECT x.article_id FROM unnest(%s::bigint[], %s::text[]) AS x (article_id, hash)
               JOIN news.articles own ON own.article_id = x.article_id
               WHERE EXISTS (SELECT 1 FROM news.articles a WHERE a.content_hash = x.hash
                             AND a.site = own.site AND a.article_id <> x.article_id)""",
            (list(candidates), [articles[rn].content_hash for rn in candidates.values()]))
    }
    changed = {aid: rn for aid, rn in candidates.items() if aid not in taken}
    if not changed:
        return set()
    conn.execute(
        """CREATE TEMP TABLE stage_changed (article_id bigint, title text, author text,
               published_at timestamptz, text text, word_count integer, content_hash text,
               raw_sha256 text, extractor text, language text, seen_at timestamptz,
               date_source text, site_name text, modified_at timestamptz, removed jsonb,
               page_type text)
           ON COMMIT DROP"""
    )
    with conn.cursor() as cur, cur.copy("COPY stage_changed FROM STDIN") as copy:
        for aid, rn in changed.items():
            a = articles[rn]
            copy.write_row((aid, a.title, a.author, a.published_at, a.text, a.word_count,
                            a.content_hash, a.raw_sha256, a.extractor, a.language, a.fetched_at,
                            a.date_source, a.site_name, a.modified_at,
                            Jsonb(a.removed) if a.removed else None, a.page_type))
    conn.execute(
        """INSERT INTO news.article_versions (article_id, version, title, author, published_at,
               text, word_count, content_hash, valid_from, valid_to, superseded_by_run, changes)
           SELECT a.article_id, a.version, a.title, a.author, a.published_at, a.text,
                  a.word_count, a.content_hash, coalesce(a.updated_at, a.first_seen_at),
                  s.seen_at, %s,
                  jsonb_build_object(
                      'title', a.title IS DISTINCT FROM s.title,
                      'author', a.author IS DISTINCT FROM s.author,
                      'published_at', a.published_at IS DISTINCT FROM s.published_at,
                      'text', true,
                      'words_before', a.word_count, 'words_after', s.word_count)
           FROM stage_changed s JOIN news.articles a USING (article_id)
           ON CONFLICT (article_id, version) DO NOTHING""",
        (run_id,),
    )
    forget_bands(conn, list(changed))
    conn.execute(
        """UPDATE news.articles a
           SET title = s.title, author = s.author,
               published_at = coalesce(a.published_at, s.published_at),
               date_source = CASE WHEN a.published_at IS NULL THEN s.date_source
                                  ELSE a.date_source END,
               text = s.text, word_count = s.word_count, content_hash = s.content_hash,
               raw_sha256 = s.raw_sha256, extractor = s.extractor, language = s.language,
               site_name = coalesce(s.site_name, a.site_name), modified_at = s.modified_at,
               removed = s.removed, extracted_at = s.seen_at, page_type = s.page_type,
               version = a.version + 1, updated_at = s.seen_at
           FROM stage_changed s WHERE s.article_id = a.article_id"""
    )
    return set(changed.values())


def replace_version(
    conn: psycopg.Connection[Any],
    article_id: int,
    record: Article,
    *,
    run_id: str,
    at: datetime,
    text_changed: bool,
) -> None:
    """Make ``record`` the article's current record, derived again from its raw page
    (``news-ingest reextract``). A new text keeps the previous version in
    ``news.article_versions`` (``changes.reextracted``), drops its near-duplicate keys
    (the caller queues the new ones) and counts a version; new metadata alone does not.
    ``at`` is the run's time, so that running it again writes the same rows."""
    if text_changed:
        conn.execute(
            """INSERT INTO news.article_versions (article_id, version, title, author,
                   published_at, text, word_count, content_hash, valid_from, valid_to,
                   superseded_by_run, changes)
               SELECT article_id, version, title, author, published_at, text, word_count,
                      content_hash, coalesce(updated_at, first_seen_at), %s, %s,
                      jsonb_build_object('reextracted', true, 'extractor_before', extractor)
               FROM news.articles WHERE article_id = %s
               ON CONFLICT (article_id, version) DO NOTHING""",
            (at, run_id, article_id),
        )
        forget_bands(conn, [article_id])
    conn.execute(
        """UPDATE news.articles
           SET title = %s, author = %s, published_at = %s, date_source = %s,
               modified_at = %s, language = %s, site_name = %s, text = %s, word_count = %s,
               content_hash = %s, extractor = %s, removed = %s, extracted_at = %s,
               page_type = %s, feed_title = coalesce(feed_title, %s),
               feed_published_at = coalesce(feed_published_at, %s),
               feed_author = coalesce(feed_author, %s),
               version = version + %s, updated_at = CASE WHEN %s THEN %s ELSE updated_at END
           WHERE article_id = %s""",
        (record.title, record.author, record.published_at, record.date_source,
         record.modified_at, record.language, record.site_name, record.text,
         record.word_count, record.content_hash, record.extractor,
         Jsonb(record.removed) if record.removed else None, at, record.page_type,
         record.feed_title, record.feed_published_at, record.feed_author, int(text_changed),
         text_changed, at, article_id),
    )


def forget_bands(conn: psycopg.Connection[Any], article_ids: Sequence[int]) -> int:
    """Take the near-duplicate keys of these articles' current texts out of
    news.minhash_bands; call it before their texts change (the new text's keys are
    added by link_stories). The old keys are computed again and deleted through the
    key index: the table has no index on article_id, and edits are few."""
    if not article_ids:
        return 0
    pairs = [(aid, key) for aid, text in conn.execute(
                 "SELECT article_id, text FROM news.articles WHERE article_id = ANY(%s)",
                 (list(article_ids),))
             for key in band_keys(text or "") or ()]
    if not pairs:
        return 0
    return conn.execute(
        """DELETE FROM news.minhash_bands m
           USING unnest(%s::bigint[], %s::bigint[]) AS old (article_id, band_hash)
           WHERE m.band_hash = old.band_hash AND m.article_id = old.article_id""",
        ([aid for aid, _ in pairs], [key for _, key in pairs]),
    ).rowcount




def known_urls(
    conn: psycopg.Connection[Any], urls: Iterable[str]
) -> dict[str, tuple[int, datetime, datetime]]:
    """{url: (article_id, first_seen_at, extracted_at)} for those of ``urls`` already
    mapped to an article."""
    wanted = list(dict.fromkeys(urls))
    if not wanted:
        return {}
    rows = conn.execute(
        """SELECT DISTINCT ON (u.url) u.url, u.article_id, a.first_seen_at,
                  coalesce(a.extracted_at, a.first_seen_at)
           FROM news.article_urls u JOIN news.articles a USING (article_id)
           WHERE u.url = ANY(%s) ORDER BY u.url, u.article_id""",
        (wanted,),
    ).fetchall()
    return {url: (article_id, first_seen, extracted) for url, article_id, first_seen, extracted
            in rows}


def touch_known(
    conn: psycopg.Connection[Any],
    run_id: str,
    source: str,
    sightings: Sequence[tuple[int, bool, list[tuple[str, str]]]],
    seen_at: datetime,
) -> None:
    """Articles met again without downloading them: move ``last_seen_at``, map the
    URLs they were met under this time (e.g. a new aggregator wrapper), and credit
    the publisher's own feed when the article was first met through an aggregator.
    ``sightings`` holds (article_id, met directly, [(url, kind)])."""
    if not sightings:
        return
    with conn.transaction(), conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(%s)", (LOAD_LOCK,))
        cur.executemany(
            """UPDATE news.articles
               SET last_seen_at = greatest(last_seen_at, %(seen)s), last_run_id = %(run)s,
                   source = CASE WHEN %(direct)s AND NOT direct THEN %(source)s ELSE source END,
                   direct = direct OR %(direct)s
               WHERE article_id = %(id)s""",
            [
                {"seen": seen_at, "run": run_id, "direct": direct, "source": source, "id": aid}
                for aid, direct, _ in sightings
            ],
        )
        cur.executemany(
            """INSERT INTO news.article_urls (url, kind, article_id, source, first_seen_at)
               VALUES (%s, %s, %s, %s, %s) ON CONFLICT (url, kind) DO NOTHING""",
            [
                (url, kind, article_id, source, seen_at)
                for article_id, _, pairs in sightings
                for url, kind in pairs
            ],
        )


def _store_raw_pages(conn: psycopg.Connection[Any], rows: Sequence[RawPage]) -> None:
    if not rows:
        return
    conn.execute(
        """CREATE TEMP TABLE stage_raw (sha256 text, body_zlib bytea, size integer,
               content_type text, encoding text, first_url text, first_fetched_at timestamptz,
               warc_file text, warc_offset bigint, warc_length bigint)
           ON COMMIT DROP"""
    )
    with conn.cursor() as cur, cur.copy("COPY stage_raw FROM STDIN (FORMAT BINARY)") as copy:
        # binary: the compressed bodies travel as they are, not hex-escaped to twice their size
        copy.set_types(("text", "bytea", "int4", "text", "text", "text", "timestamptz",
                        "text", "int8", "int8"))
        for p in rows:
            warc_file, offset, length = p.warc or (None, None, None)
            copy.write_row((p.sha256, p.body_zlib, p.size, p.content_type, p.encoding, p.url,
                            p.fetched_at, warc_file, offset, length))
    conn.execute(
        """INSERT INTO news.raw_pages (sha256, body_zlib, size, content_type, encoding,
               first_url, first_fetched_at, warc_file, warc_offset, warc_length)
           SELECT * FROM stage_raw
           ON CONFLICT (sha256) DO NOTHING"""
    )
