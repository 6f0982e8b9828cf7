"""Migrations: idempotent, and the consumer contract is documented in the database."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from ingest import db

CONTRACT = {
    "articles": ["article_id", "url", "source", "title", "author", "published_at", "language",
                 "text", "word_count", "content_hash", "story_id", "first_seen_at", "last_seen_at"],
    "article_urls": ["url", "article_id"],
    "rejections": ["url", "source", "stage", "reason", "detail", "run_id", "rejected_at"],
    "runs": ["run_id", "started_at", "finished_at", "feeds_fetched", "entries_seen",
             "articles_fetched", "articles_extracted", "articles_valid", "articles_new",
             "rejections"],
}


def test_migrate_is_idempotent(conn: psycopg.Connection[Any]) -> None:
    assert db.migrate(conn) == []
    applied = conn.execute("SELECT count(*) FROM news.schema_migrations").fetchone()
    assert applied == (len(db.migrations()),)


@pytest.mark.parametrize("relation", sorted(CONTRACT))
def test_contract_columns_exist_and_are_commented(
    conn: psycopg.Connection[Any], relation: str
) -> None:
    rows = conn.execute(
        """SELECT a.attname, col_description(c.oid, a.attnum), obj_description(c.oid)
           FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
           JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
           WHERE n.nspname = 'news' AND c.relname = %s""",
        (relation,),
    ).fetchall()
    columns = {name: comment for name, comment, _ in rows}
    assert rows and rows[0][2], f"news.{relation} has no COMMENT"
    for column in CONTRACT[relation]:
        assert column in columns, f"news.{relation}.{column} is missing"
    undocumented = [c for c in CONTRACT[relation] if not columns[c]]
    if relation != "runs":  # counts of a view are described by the table it sums
        assert undocumented == []


def test_migration_files_are_numbered_without_gaps() -> None:
    versions = [m.version for m in db.migrations()]
    assert versions == list(range(1, len(versions) + 1))


def test_redact_hides_passwords() -> None:
    assert "secret" not in db.redact("postgresql://u:secret@h:5432/db")
    assert "secret" not in db.redact("host=h password=secret dbname=x")


@pytest.mark.parametrize(("memory_gb", "expected"), [(0.5, "128MB"), (4, "512MB"), (64, "1024MB")])
def test_the_embedded_buffer_cache_follows_the_machine(memory_gb: float, expected: str) -> None:
    assert db.embedded_shared_buffers(int(memory_gb * 2**30)) == expected


def test_the_embedded_server_starts_tuned_and_stops_with_its_process(tmp_path: Any) -> None:
    """A new embedded warehouse gets its buffer cache by one restart; the process that
    started it still stops it when it exits (the wheel must know the new postmaster)."""
    import subprocess
    import sys
    import time

    script = (
        "import sys; from pathlib import Path; from ingest import db\n"
        "dsn = db.embedded_dsn(Path(sys.argv[1]))\n"
        "with db.connect(dsn) as c:\n"
        "    print(c.execute('SHOW shared_buffers').fetchone()[0])\n"
    )
    out = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True,
                         text=True, timeout=120, check=True).stdout.split()
    size = db.embedded_shared_buffers()
    assert out[0] == (f"{int(size[:-2]) // 1024}GB" if size == "1024MB" else size)
    pid_file = tmp_path / "pg" / "postmaster.pid"
    for _ in range(50):
        if not pid_file.exists():
            break
        time.sleep(0.1)
    assert not pid_file.exists(), "the embedded server outlived the process that started it"


def test_009_moves_merged_copies_of_other_sites_to_articles_of_their_own(
    pg_server: Any, tmp_path: Any
) -> None:
    """A warehouse from before 009 kept a wire site's verbatim copy as URLs of the
    original; the migration makes it its own article, re-running it changes nothing,
    and the next drain puts it in the original's story."""
    import shutil
    import uuid
    from datetime import UTC, datetime, timedelta

    from ingest import derive, upgrade
    from ingest.dedup import band_keys, content_hash, word_count

    old = tmp_path / "sql"
    old.mkdir()
    for migration in db.migrations():
        if migration.version <= 8:
            shutil.copy(migration.path, old)
    name = f"m_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(pg_server.get_uri("postgres"), autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    t0 = datetime(2026, 11, 1, 8, tzinfo=UTC)
    text = "The harbour council approved the new ferry timetable on Monday evening. " * 12
    with db.connect(pg_server.get_uri(name), autocommit=True) as conn:
        db.migrate(conn, old)
        row = conn.execute(
            """INSERT INTO news.articles (url, source, title, text, word_count, content_hash,
                   first_seen_at, last_seen_at, first_run_id, last_run_id, direct)
               VALUES ('https://www.ex.org/ferry', 'ex', 'Ferry', %s, %s, %s, %s, %s,
                       'r1', 'r3', true) RETURNING article_id""",
            (text, word_count(text), content_hash(text), t0, t0 + timedelta(hours=2))).fetchone()
        assert row is not None
        original = row[0]
        sightings = [  # (url, kind, source, seen)
            ("https://www.ex.org/ferry", "feed_link", "ex", t0),
            ("https://www.ex.org/ferry", "final", "ex", t0),
            ("https://www.ex.org/ferry", "canonical", "ex", t0),
            ("https://wire.example/item/9", "feed_link", "wire", t0 + timedelta(hours=1)),
            ("https://wire.example/2026/ferry", "final", "wire", t0 + timedelta(hours=1)),
            ("https://wire.example/2026/ferry", "canonical", "wire", t0 + timedelta(hours=1)),
            ("https://www.bing.com/news/apiclick.aspx?url=x", "feed_link", "bing",
             t0 + timedelta(hours=2)),
            ("https://www.ex.org/ferry", "redirect", "bing", t0 + timedelta(hours=2)),
        ]
        for url, kind, source, seen in sightings:
            conn.execute("INSERT INTO news.article_urls VALUES (%s, %s, %s, %s, %s)",
                         (url, kind, original, source, seen))
        conn.execute("DELETE FROM news.derive_queue")
        db.migrate(conn)
        assert upgrade.run_pending(conn) == {"009_sites_and_copies": 2}  # 1 site, 1 copy
        assert upgrade.run_pending(conn) == {}  # once only
        rows = conn.execute("SELECT article_id, url, source, site, direct, story_id, first_seen_at "
                            "FROM news.articles ORDER BY article_id").fetchall()
        assert [r[1:5] for r in rows] == [
            ("https://www.ex.org/ferry", "ex", "ex.org", True),
            ("https://wire.example/2026/ferry", "wire", "wire.example", True)]  # its own feed
        copy_id = rows[1][0]
        moved = conn.execute("SELECT url, kind FROM news.article_urls WHERE article_id = %s "
                             "ORDER BY kind", (copy_id,)).fetchall()
        assert moved == [("https://wire.example/2026/ferry", "canonical"),
                         ("https://wire.example/item/9", "feed_link"),
                         ("https://wire.example/2026/ferry", "final")]
        assert conn.execute("SELECT count(*) FROM news.article_urls WHERE article_id = %s",
                            (original,)).fetchone() == (5,)  # its own and the aggregator's
        assert db.migrate(conn) == []  # once only
        derive.drain(conn, timedelta(days=3650))
        stories = conn.execute("SELECT copies, sources FROM news.stories").fetchall()
        assert stories == [(2, ["ex", "wire"])]
        assert derive.pending(conn) == 0 and band_keys(text)
    with psycopg.connect(pg_server.get_uri("postgres"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE {name} WITH (FORCE)")
