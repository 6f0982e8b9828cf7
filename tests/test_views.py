"""The relations consumers read: search, the dashboard views, the documented example
queries, and the indexes behind time-range queries; on a real warehouse."""

from __future__ import annotations

import re
from typing import Any

import psycopg
import yaml

from conftest import ROOT
from ingest.config import parse_config
from ingest.demo.site import sources_yaml
from ingest.pipeline import run_pass


def demo_pass(site: Any, dsn: str, **kwargs: Any) -> Any:
    return run_pass(parse_config(yaml.safe_load(sources_yaml(site.base))), dsn, **kwargs)


def test_search_ranks_the_relevant_article_first(demo_site: Any, dsn: str,
                                                 conn: psycopg.Connection[Any]) -> None:
    demo_pass(demo_site, dsn)
    hits = conn.execute("SELECT title, rank, snippet FROM news.search('picosecond lasers')"
                        ).fetchall()
    assert hits and "Lithuanian" in hits[0][0]
    assert "<b>" in hits[0][2]
    batteries = conn.execute("SELECT title FROM news.search('battery factories Poland', 3)"
                             ).fetchall()
    assert batteries[0][0].startswith("Battery makers")
    assert conn.execute("SELECT count(*) FROM news.search('xylophone')").fetchone() == (0,)


def test_examples_sql_runs(demo_site: Any, dsn: str, conn: psycopg.Connection[Any]) -> None:
    """Every query of sql/examples.sql runs on a loaded warehouse and returns rows."""
    demo_pass(demo_site, dsn)
    conn.execute("SELECT news.build_daily_digest(current_date)")
    text = (ROOT / "sql" / "examples.sql").read_text()
    queries = [q.strip() for q in re.split(r";\s*\n", text) if q.strip() and
               not all(line.startswith("--") for line in q.strip().splitlines())]
    assert len(queries) >= 8
    for query in queries:
        rows = conn.execute(query).fetchall()
        assert rows, f"no rows from:\n{query}"


def test_views_for_dashboards(demo_site: Any, dsn: str, conn: psycopg.Connection[Any]) -> None:
    demo_pass(demo_site, dsn)
    days = conn.execute("SELECT source, articles FROM news.daily_source_counts ORDER BY 1").fetchall()
    assert sum(n for _, n in days) == 8
    fresh = dict(conn.execute("SELECT source, failing FROM news.source_freshness").fetchall())
    assert set(fresh) == {"korea-daily-post", "seoul-herald", "trade-ministry",
                          "central-asia-review", "bing-korea-lithuania"}
    assert not any(fresh.values())


def test_explain_uses_indexes_for_time_ranges(conn: psycopg.Connection[Any]) -> None:
    conn.execute("SET enable_seqscan = off")
    plan = "\n".join(r[0] for r in conn.execute(
        "EXPLAIN SELECT * FROM news.articles WHERE published_at >= now() - interval '1 day'"))
    assert "articles_published_at" in plan
    plan = "\n".join(r[0] for r in conn.execute(
        "EXPLAIN SELECT * FROM news.articles WHERE first_seen_at >= now() - interval '1 day'"))
    assert "articles_first_seen_at" in plan
