"""news-ingest reextract: records derived again from news.raw_pages, with no fetching."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import psycopg
import yaml

from conftest import ROOT, LoopbackServer, long_article
from ingest.config import parse_config
from ingest.demo.site import DemoSite, sources_yaml
from ingest.pipeline import run_pass
from ingest.reextract import reextract


def _config(base: str) -> Any:
    return parse_config(yaml.safe_load(sources_yaml(base)))


def test_reextract_repairs_records_without_fetching(dsn: str, conn: psycopg.Connection[Any]) -> None:
    with DemoSite() as site:
        config = _config(site.base)
        run_pass(config, dsn)
    # The site is gone: whatever follows can only read news.raw_pages.
    stored = conn.execute(
        "SELECT article_id, title, text, content_hash, published_at, date_source "
        "FROM news.articles ORDER BY article_id").fetchall()
    assert len(stored) >= 5
    first, second = stored[0], stored[1]
    # What an older extractor could have left: a wrong title, a wrong date, dirt in the
    # text (and so another content hash), an old version string.
    conn.execute(
        "UPDATE news.articles SET title = 'Home | Site', published_at = NULL, date_source = NULL, "
        "extractor = 'trafilatura/0.1 news-ingest/0.0' WHERE article_id = %s", (first[0],))
    conn.execute(
        "UPDATE news.articles SET text = text || E'\\nMOST POPULAR\\nExit mobile version', "
        "content_hash = md5(text) WHERE article_id = %s", (second[0],))

    result = reextract(config, dsn)
    assert result.pages == len(stored) and result.records == len(stored)
    assert result.changed_text == 1 and result.changed_metadata == 1, result
    assert result.unchanged == len(stored) - 2 and not result.rejected
    after = conn.execute(
        "SELECT article_id, title, text, content_hash, published_at, date_source "
        "FROM news.articles ORDER BY article_id").fetchall()
    assert after == stored  # every record exactly as a pass derives it
    version = conn.execute(
        "SELECT changes->>'reextracted', text LIKE '%%MOST POPULAR%%' FROM news.article_versions "
        "WHERE article_id = %s", (second[0],)).fetchone()
    assert version == ("true", True)
    assert conn.execute(
        "SELECT count(*) FROM news.runs WHERE trigger = 'reextract'").fetchone() == (1,)

    again = reextract(config, dsn)  # idempotent
    assert again.unchanged == len(stored) and again.changed_text == again.changed_metadata == 0


def test_reextract_filters_by_source_and_date(dsn: str) -> None:
    with DemoSite() as site:
        config = _config(site.base)
        run_pass(config, dsn)
    from datetime import UTC, datetime, timedelta

    with psycopg.connect(dsn) as conn:
        herald = conn.execute(
            "SELECT count(*) FROM news.articles WHERE source = 'seoul-herald'").fetchone()
    assert herald and herald[0] > 0
    only = reextract(config, dsn, source="seoul-herald")
    assert only.records == herald[0]
    future = reextract(config, dsn, since=datetime.now(UTC) + timedelta(days=1))
    assert future.records == 0


def test_a_page_over_the_extraction_time_leaves_its_article_as_it_was(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    """A page that needs seconds to extract, against a limit of half a second (a page
    of milliseconds could beat a tiny limit on a busy machine: that made this flaky)."""
    page = server.static("/long", long_article())
    feed = server.static("/feed.xml", "<rss version='2.0'><channel><title>t</title><item>"
                         f"<title>long</title><link>{page}</link></item></channel></rss>",
                         content_type="application/rss+xml")
    config = parse_config({"settings": {"allow_private_hosts": ["127.0.0.1"]},
                           "sources": [{"name": "long", "url": feed}]})
    run_pass(config, dsn)
    before = conn.execute("SELECT article_id, text FROM news.articles ORDER BY 1").fetchall()
    assert len(before) == 1
    slow = config.model_copy(update={
        "settings": config.settings.model_copy(update={"extract_timeout": 0.5})})
    result = reextract(slow, dsn)
    assert result.rejected == {"extract_timeout": 1} and result.pages == 1
    assert conn.execute("SELECT article_id, text FROM news.articles ORDER BY 1").fetchall() == before


def test_reextract_command(dsn: str, tmp_path: Any) -> None:
    with DemoSite() as site:
        config_file = tmp_path / "sources.yml"
        config_file.write_text(sources_yaml(site.base))
        run_pass(_config(site.base), dsn)
    result = subprocess.run(
        [sys.executable, "-m", "ingest.cli", "reextract", "--config", str(config_file),
         "--dsn", dsn, "--since", "1"],
        capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode == 0, result.stderr
    assert "re-derived" in result.stdout and "0 with new text" in result.stdout
