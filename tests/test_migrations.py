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
