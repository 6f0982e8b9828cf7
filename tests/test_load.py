"""Loading into a real PostgreSQL: idempotent, exact duplicates collapsed, URLs mapped."""

from __future__ import annotations

import multiprocessing
from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from ingest import load, rawstore
from ingest.dedup import band_keys, content_hash, word_count
from ingest.models import Article

SEEN = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)


def art(n: int, *, url: str | None = None, text: str | None = None, source: str = "s",
        extra_urls: list[tuple[str, str]] | None = None) -> Article:
    body = text or f"Body of article number {n}. " * 20
    canonical = url or f"https://ex.org/{n}"
    return Article(
        source=source, url=canonical,
        urls=[(f"https://agg.example/r?u={n}", "feed_link"), (canonical, "canonical"),
              *(extra_urls or [])],
        title=f"T{n}", author="A", published_at=SEEN, language="en", site_name="Ex",
        text=body, word_count=word_count(body), content_hash=content_hash(body), fetched_at=SEEN,
    )


def counts(conn: psycopg.Connection[Any]) -> tuple[int, int]:
    a = conn.execute("SELECT count(*) FROM news.articles").fetchone()
    u = conn.execute("SELECT count(*) FROM news.article_urls").fetchone()
    return (a[0] if a else 0, u[0] if u else 0)


def test_load_twice_gives_the_same_rows(conn: psycopg.Connection[Any]) -> None:
    batch = [art(1), art(2), art(3)]
    first = load.load_articles(conn, "r1", batch)
    assert (first.new, first.seen_before) == (3, 0)
    before = conn.execute("SELECT * FROM news.articles ORDER BY article_id").fetchall()
    second = load.load_articles(conn, "r1", [art(1), art(2), art(3)])
    assert (second.new, second.seen_before) == (0, 3)
    after = conn.execute("SELECT * FROM news.articles ORDER BY article_id").fetchall()
    assert before == after
    assert counts(conn) == (3, 6)
    row = conn.execute("SELECT story_id = article_id, first_run_id FROM news.articles LIMIT 1")
    assert row.fetchone() == (True, "r1")


def test_same_text_on_the_same_site_is_the_same_article(conn: psycopg.Connection[Any]) -> None:
    load.load_articles(conn, "r1", [art(1)])
    copy = art(1, url="https://www.ex.org/print/1", source="print")
    copy.urls = [("https://www.ex.org/print/1", "canonical")]
    result = load.load_articles(conn, "r2", [copy])
    assert (result.new, result.seen_before) == (0, 1)
    assert counts(conn) == (1, 3)  # one document, met under one more URL
    ids = conn.execute("SELECT DISTINCT article_id FROM news.article_urls").fetchall()
    assert len(ids) == 1


def test_same_text_on_another_site_is_its_own_article(conn: psycopg.Connection[Any]) -> None:
    """A wire site's verbatim copy is another publisher's document (in the same story):
    not a URL of the original."""
    load.load_articles(conn, "r1", [art(1)])
    copy = art(1, url="https://mirror.example/copy", source="mirror")
    copy.urls = [("https://mirror.example/copy", "canonical")]
    result = load.load_articles(conn, "r2", [copy])
    assert (result.new, result.seen_before) == (1, 0)
    rows = conn.execute("SELECT a.source, a.site, u.source FROM news.articles a "
                        "JOIN news.article_urls u USING (article_id) WHERE u.kind = 'canonical' "
                        "ORDER BY 1").fetchall()
    assert rows == [("mirror", "mirror.example", "mirror"), ("s", "ex.org", "s")]
    again = load.load_articles(conn, "r3", [copy])  # idempotent
    assert (again.new, again.seen_before) == (0, 1)


@pytest.mark.parametrize(("url", "expected"), [
    ("https://www.koreatimes.co.kr/www/nation/2024/07/113_1.html", "koreatimes.co.kr"),
    ("https://feeds.ard.de/tagesschau", "ard.de"), ("https://www.ard.de/", "ard.de"),
    ("https://www.nrk.no/nyheter/", "nrk.no"), ("https://news.bbc.co.uk/a", "bbc.co.uk"),
    ("https://someone.github.io/post", "someone.github.io"),
    ("https://EXAMPLE.org./x?y=1#z", "example.org"), ("http://127.0.0.1:8080/a/1.html", "127.0.0.1"),
    ("http://[::1]:9/x", "::1"), ("https://localhost/x", "localhost"),
])
def test_a_site_is_a_registrable_domain(url: str, expected: str) -> None:
    """By the public suffix list, not a guess (feeds.ard.de and www.ard.de are one site)."""
    from ingest.resolve import site

    assert site(url) == expected


def test_an_alias_url_matches_even_with_new_text(conn: psycopg.Connection[Any]) -> None:
    load.load_articles(conn, "r1", [art(1)])
    # The same feed link, the page now reads differently: still the same document.
    changed = art(1, text="Completely rewritten body. " * 30)
    result = load.load_articles(conn, "r2", [changed])
    assert result.seen_before == 1
    assert counts(conn)[0] == 1
    last = conn.execute("SELECT last_run_id FROM news.articles").fetchone()
    assert last == ("r2",)


def test_url_rows_must_name_an_article_and_go_with_it(conn: psycopg.Connection[Any]) -> None:
    """The per-statement integrity that replaced the per-row foreign key (007)."""
    load.load_articles(conn, "r1", [art(1), art(2)])
    with pytest.raises(psycopg.errors.ForeignKeyViolation), conn.transaction():
        conn.execute("""INSERT INTO news.article_urls (url, kind, article_id, source, first_seen_at)
                        VALUES ('https://nowhere.example/', 'final', 987654, 's', now())""")
    with pytest.raises(psycopg.errors.ForeignKeyViolation), conn.transaction():
        conn.execute("UPDATE news.article_urls SET article_id = article_id + 1000")
    gone = conn.execute("SELECT article_id FROM news.articles WHERE url = 'https://ex.org/1'")
    row = gone.fetchone()
    assert row
    with conn.transaction():
        conn.execute("DELETE FROM news.articles WHERE article_id = %s", row)
    left = conn.execute("SELECT DISTINCT article_id FROM news.article_urls").fetchall()
    assert len(left) == 1 and left[0] != row
    assert counts(conn) == (1, 2)


def test_ids_are_drawn_in_one_range_per_batch(conn: psycopg.Connection[Any]) -> None:
    first = load.load_articles(conn, "r1", [art(n) for n in range(5)])
    second = load.load_articles(conn, "r2", [art(n) for n in range(3, 9)])
    ids = [aid for aid, _ in first.fresh] + [aid for aid, _ in second.fresh]
    assert len(ids) == len(set(ids)) == 9
    assert sorted(aid for aid, _ in second.fresh) == list(range(max(ids) - 3, max(ids) + 1))
    assert second.seen_before == 2


def test_a_url_two_new_records_share_goes_to_the_first(conn: psycopg.Connection[Any]) -> None:
    """New records' URLs are COPied without a conflict check: one listed twice in the
    batch (a wrapper two different documents came through) is mapped once."""
    wrapper = ("https://agg.example/wrapper", "feed_link")
    first, second = art(1, extra_urls=[wrapper]), art(2, extra_urls=[wrapper])
    result = load.load_articles(conn, "r1", [first, second])
    assert result.new == 2 and result.urls_added == 5
    owner = conn.execute("SELECT a.url FROM news.article_urls u JOIN news.articles a "
                         "USING (article_id) WHERE u.url = %s", (wrapper[0],)).fetchall()
    assert owner == [("https://ex.org/1",)]
    # a known article met under a new URL still gains it, and only once
    again = load.load_articles(conn, "r2", [art(2, extra_urls=[("https://ex.org/2?amp", "final")])])
    assert (again.new, again.urls_added) == (0, 1)
    assert counts(conn) == (2, 6)


def test_raw_pages_are_content_addressed(conn: psycopg.Connection[Any]) -> None:
    raw = rawstore.RawPage("ab" * 32, b"zlib", 4, "text/html", "utf-8", "https://ex.org/1", SEEN)
    load.load_articles(conn, "r1", [], [raw, raw])
    load.load_articles(conn, "r2", [], [raw])
    assert conn.execute("SELECT count(*) FROM news.raw_pages").fetchone() == (1,)


def _load_in_process(dsn: str, run_id: str, start: int, barrier: Any) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        barrier.wait()
        for i in range(start, start + 40):
            # Overlapping ranges: each process meets half of the other's documents.
            load.load_articles(conn, run_id, [art(i), art(i + 1)])


def test_two_concurrent_loaders_never_duplicate(dsn: str, conn: psycopg.Connection[Any]) -> None:
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_load_in_process, args=(dsn, f"r{k}", k * 20, barrier))
             for k in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
        assert p.exitcode == 0
    n, _ = counts(conn)
    assert n == 61  # articles 0..60, each exactly once
    dupes = conn.execute(
        "SELECT count(*) FROM (SELECT url FROM news.article_urls GROUP BY url, kind "
        "HAVING count(DISTINCT article_id) > 1) d").fetchone()
    assert dupes == (0,)


def test_an_edited_article_keeps_only_its_new_texts_near_duplicate_keys(
    conn: psycopg.Connection[Any],
) -> None:
    def keyed(text: str) -> Article:
        a = art(1, text=text)
        a.bands = band_keys(text)
        return a

    def keys() -> set[int]:
        return {row[0] for row in conn.execute(
            "SELECT band_hash FROM news.minhash_bands WHERE article_id = "
            "(SELECT article_id FROM news.articles)")}

    first = " ".join(f"The council met on day {n} and voted on the harbour budget." for n in range(40))
    edited = " ".join(f"A storm closed the airport for {n} hours on the coast." for n in range(40))
    load.load_batch(conn, "r1", [keyed(first)])
    assert keys() == set(band_keys(first) or ())
    result = load.load_batch(conn, "r2", [keyed(edited)])
    assert result.changed_by_source == {"s": 1}
    assert keys() == set(band_keys(edited) or ())


def test_a_record_the_database_refuses_is_returned_and_the_rest_loaded(
    conn: psycopg.Connection[Any],
) -> None:
    """A value PostgreSQL cannot store (a NUL character in text) in one record of a
    batch: the others load, that one comes back with the database's reason."""
    batch = [art(n) for n in range(6)]
    batch[3].feed_title = "bad\x00title"
    raw = rawstore.RawPage("cd" * 32, b"zlib", 4, "text/html", "utf-8", "https://ex.org/1", SEEN)
    result, refused = load.load_what_fits(conn, "r1", batch, [raw],
                                          connection_lost=lambda: conn.broken)
    assert result.new == 5 and [a.url for a, _ in refused] == [batch[3].url]
    assert "0x00" in refused[0][1] or "NUL" in refused[0][1]
    assert counts(conn)[0] == 5
    assert conn.execute("SELECT count(*) FROM news.raw_pages").fetchone() == (1,)
    assert conn.execute("SELECT count(*) FROM news.derive_queue").fetchone() == (5,)
