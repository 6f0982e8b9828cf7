"""The figures behind the Airflow page (ingest.report), on a real warehouse."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import psycopg
import pytest
import yaml

from conftest import LoopbackServer
from ingest import report, runs
from ingest.config import parse_config
from ingest.demo.site import sources_yaml
from ingest.errors import QualityGateError
from ingest.pipeline import run_pass


def test_the_pages_figures_after_a_pass(demo_site: Any, dsn: str,
                                        conn: psycopg.Connection[Any]) -> None:
    config = parse_config(yaml.safe_load(sources_yaml(demo_site.base)))
    run_pass(config, dsn, run_id="pass-1")
    fresh = {row["source"]: row for row in report.freshness(conn)}
    assert set(fresh) == {s.name for s in config.sources}
    assert all(not row["failing"] and row["last_success_at"] for row in fresh.values())
    assert sum(row["articles"] or 0 for row in fresh.values()) == 8

    days = report.items_per_day(conn, 28, today=date.today())
    assert len(days) == 28 and days[-1]["day"] == date.today()
    assert sum(d["articles"] for d in days) == 8  # first seen today, every one

    reasons = {(r["stage"], r["reason"]): r["rejections"] for r in report.rejection_reasons(conn)}
    # (the ministry's PDF is no longer fetched: its source is a list page now, whose
    # links to files are left out)
    assert reasons == {("fetch", "http_404"): 1}
    assert report.rejected_page_types(conn) == []

    runs.start_run(conn, "killed", "cli", datetime.now(UTC))
    runs.close_abandoned(conn)
    recent = report.recent_runs(conn, 5)
    assert [(r["run_id"], r["status"]) for r in recent][:2] == [
        ("killed", "aborted"), ("pass-1", "success")]
    assert recent[1]["articles_new"] == 8 and recent[1]["rejections"] == 1


# --- what went wrong, where (issue 19.4) ----------------------------------------------


def article_page(title: str) -> str:
    paragraphs = "".join(
        f"<p>{title} is reported here in paragraph {i}, with details on the talks between the "
        "two ministers, the agreement on supply chains, and what comes next for the region.</p>"
        for i in range(8))
    return (f"<html lang='en'><head><title>{title}</title></head><body><article><h1>{title}"
            f"</h1>{paragraphs}</article></body></html>")


def short_page(title: str) -> str:
    """A news article, but under settings.min_words: a too_short rejection."""
    paragraphs = "".join(f"<p>{title} was reported briefly by the ministry in paragraph {i}.</p>"
                         for i in range(3))
    return (f"<html lang='en'><head><title>{title}</title></head><body><article><h1>{title}"
            f"</h1>{paragraphs}</article></body></html>")


def feed(server: LoopbackServer, path: str, links: list[str]) -> str:
    items = "".join(f"<item><title>{p}</title><link>{server.base}{p}</link></item>" for p in links)
    return server.static(path, f"<rss version='2.0'><channel><title>{path}</title>{items}"
                         "</channel></rss>", content_type="application/rss+xml")


SETTINGS = {"allow_private_hosts": ["127.0.0.1"], "per_host_delay": 0, "min_words": 50}


def test_an_aggregator_counts_what_it_brought_in(demo_site: Any, dsn: str,
                                                 conn: psycopg.Connection[Any]) -> None:
    """The aggregator's pass comes first: its links are loaded, then its publishers'
    feeds list the same articles, which are stored under them (news.articles.source)."""
    config = parse_config(yaml.safe_load(sources_yaml(demo_site.base)))
    run_pass(config, dsn, run_id="aggregator", source_names=["bing-korea-lithuania"])
    run_pass(config, dsn, run_id="everyone")
    by = {row["source"]: row for row in report.sources(conn)}
    assert set(by) == {s.name for s in config.sources}
    bing = by["bing-korea-lithuania"]
    # stored under their publishers, but brought in by the aggregator's links
    assert (bing["articles"], bing["linked"], bing["brought_in"]) == (0, 3, 3)
    first_seen = dict(conn.execute(
        "SELECT source, max(first_seen_at) FROM news.articles WHERE first_run_id = %s "
        "GROUP BY 1", ("aggregator",)))
    assert bing["last_new_at"] == max(first_seen.values())
    assert bing["last_run_id"] == "everyone" and bing["last_gate"] == "skipped"
    # the legacy freshness view shows the aggregator empty-handed: what the page used
    legacy = {row["source"]: row for row in report.freshness(conn)}
    assert legacy["bing-korea-lithuania"]["articles"] is None
    # a publisher whose only article the aggregator brought in first: stored under it,
    # but no new article of its own
    careview = by["central-asia-review"]
    assert (careview["articles"], careview["brought_in"], careview["last_new_at"]) == (1, 0, None)
    assert sum(row["articles"] for row in by.values()) == 8
    assert sum(row["brought_in"] for row in by.values()) == 8  # each article once


def test_last_new_article_moves_only_when_a_pass_loaded_one(
        server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]) -> None:
    server.static("/a/1", article_page("First story"))
    url = feed(server, "/wire.xml", ["/a/1"])
    config = parse_config({"settings": SETTINGS, "sources": [{"name": "wire", "url": url}]})
    run_pass(config, dsn, run_id="one")
    before = report.sources(conn)[0]
    assert before["articles"] == 1 and before["last_new_at"] is not None
    # the feed lists a new entry whose page is gone: nothing new is loaded
    feed(server, "/wire.xml", ["/a/2-gone", "/a/1"])
    run_pass(config, dsn, run_id="two")
    after = report.sources(conn)[0]
    assert after["feed_new_entry_at"] > before["feed_new_entry_at"]  # the feed state moved
    assert after["last_new_at"] == before["last_new_at"]  # the page's figure did not
    assert (after["last_run_id"], after["last_new"], after["last_rejections"]) == ("two", 0, 1)
    # a pass that loads a new article moves it
    server.static("/a/3", article_page("Third story"))
    feed(server, "/wire.xml", ["/a/3", "/a/2-gone", "/a/1"])
    run_pass(config, dsn, run_id="three")
    assert report.sources(conn)[0]["last_new_at"] > before["last_new_at"]


def test_quality_gates_per_source_and_run(server: LoopbackServer, dsn: str,
                                          conn: psycopg.Connection[Any]) -> None:
    for n in range(3):
        server.static(f"/fine/{n}", article_page(f"Fine story {n}"))
        server.static(f"/thin/{n}", short_page(f"Thin {n}"))
    server.static("/thin/ok", article_page("The one good thin story"))
    server.static("/few/0", article_page("A lone story"))
    sources = [
        {"name": "fine", "url": feed(server, "/fine.xml", [f"/fine/{n}" for n in range(3)])},
        {"name": "thin", "url": feed(server, "/thin.xml",
                                     ["/thin/ok", *(f"/thin/{n}" for n in range(3))])},
        {"name": "few", "url": feed(server, "/few.xml", ["/few/0"])},
        {"name": "empty", "url": feed(server, "/empty.xml", [])},
    ]
    config = parse_config({"settings": SETTINGS, "sources": sources})
    with pytest.raises(QualityGateError):
        run_pass(config, dsn, run_id="gated")
    run_pass(config, dsn, run_id="quiet", source_names=["fine", "few", "empty"])
    gates = {(g["run_id"], g["source"]): g for g in report.quality_gates(conn, ["gated", "quiet"])}
    assert {k: g["gate"] for k, g in gates.items()} == {
        ("gated", "fine"): "passed", ("gated", "thin"): "failed",
        ("gated", "few"): "skipped", ("gated", "empty"): "skipped",
        ("quiet", "fine"): "skipped", ("quiet", "few"): "skipped",
        ("quiet", "empty"): "skipped"}
    thin = gates["gated", "thin"]
    assert thin["judged"] and thin["reasons"] == {"too_short": 3}
    assert "3 of 4 records rejected" in thin["gate_message"]
    assert (thin["rows_validated"], thin["rows_passed"], thin["rows_rejected"]) == (4, 1, 3)
    few = gates["gated", "few"]
    assert few["judged"] and few["rows_validated"] == 1  # too few to judge
    assert not gates["gated", "empty"]["judged"]  # nothing reached validation
    assert not gates["quiet", "fine"]["judged"]  # nothing new: nothing validated
    assert report.quality_gates(conn, []) == []
    by = {row["source"]: row for row in report.sources(conn)}
    assert by["thin"]["last_gate"] == "failed" and "too_short" in by["thin"]["last_gate_message"]


def test_rejections_by_day_stage_and_reason(server: LoopbackServer, dsn: str,
                                            conn: psycopg.Connection[Any]) -> None:
    server.static("/r/ok", article_page("A fine story"))
    server.static("/r/thin", short_page("Thin"))
    url = feed(server, "/r.xml", ["/r/ok", "/r/thin", "/r/gone"])
    config = parse_config({"settings": SETTINGS, "sources": [{"name": "r", "url": url}]})
    run_pass(config, dsn, run_id="pass-1")
    today = datetime.now(UTC).date()
    rows = report.rejections_by_day(conn, 14, today=today)
    assert [(r["day"], r["stage"], r["reason"], r["rejections"]) for r in rows] == [
        (today, "fetch", "http_404", 1), (today, "validate", "too_short", 1)]
    # an older rejection falls on its own day, one past the window on none
    conn.execute("UPDATE news.rejections SET rejected_at = rejected_at - interval '3 days' "
                 "WHERE reason = 'too_short'")
    rows = report.rejections_by_day(conn, 14, today=today)
    assert [(r["day"], r["reason"]) for r in rows] == [
        (today - timedelta(days=3), "too_short"), (today, "http_404")]
    assert [r["reason"] for r in report.rejections_by_day(conn, 3, today=today)] == ["http_404"]
    # a rejection loaded by a revalidation since is no longer counted
    conn.execute("UPDATE news.rejections SET resolved_by = 'revalidate-x' "
                 "WHERE reason = 'http_404'")
    assert [r["reason"] for r in report.rejections_by_day(conn, 14, today=today)] == ["too_short"]


def test_runs_are_named_by_their_dag(dsn: str, conn: psycopg.Connection[Any]) -> None:
    """How a warehouse run id leads to the Airflow DAG run that wrote it."""
    day = datetime(2026, 3, 4, 0, 0, tzinfo=UTC)
    # the keys dags/news_ingest.py's plan derives
    assert report.dag_run_key("news_ingest", "manual__x", None, day) == "manual__x"
    assert report.dag_run_key("news_ingest", "manual__x", {"run_key": "demo"}, day) == "demo"
    assert report.dag_run_key("news_ingest_daily", "scheduled__x", {}, day) == \
        "news_ingest_daily-2026-03-04"
    assert report.dag_run_key("news_ingest_daily", "manual__x", {}, None) == "manual__x"
    assert report.dag_run_key("news_ingest_stream", "asset_triggered__x", {}, day) == \
        "asset_triggered__x"
    assert report.dag_run_key("news_backfill", "manual__x", {}, day) is None
    # the task return values that name the run
    assert report.xcom_run_key("plan", [{"run_key": "k", "sources": ["a"]}]) == "k"
    assert report.xcom_run_key("plan", []) is None
    assert report.xcom_run_key("finish", {"run_id": "k", "articles_new": 1}) == "k"
    assert report.xcom_run_key("reextract", {"run_id": "reextract-1"}) == "reextract-1"
    assert report.xcom_run_key("finish", {}) is None
    # from the run id alone
    assert report.airflow_origin("scheduled__2026-03-04T00:00:00+00:00", "airflow") == (
        "news_ingest", "scheduled__2026-03-04T00:00:00+00:00")
    assert report.airflow_origin("asset_triggered__2026-03-04T00:00:00+00:00", "airflow")[0] \
        == "news_ingest_stream"
    assert report.airflow_origin("news_ingest_daily-2026-03-04", "airflow") == (
        "news_ingest_daily", None)
    assert report.airflow_origin("manual__2026-03-04T00:00:00+00:00", "airflow") == (
        None, "manual__2026-03-04T00:00:00+00:00")
    assert report.airflow_origin(runs.new_run_id("airflow"), "airflow") == ("news_backfill", None)
    for trigger in ("cli", "backfill", "reextract", "revalidate", "demo"):
        assert report.airflow_origin(runs.new_run_id(trigger), trigger) == (None, None)
        assert trigger in report.TRIGGER_LABELS
    # recent runs carry what the page needs to tell them apart
    runs.start_run(conn, "manual__2026-03-04T00:00:00+00:00", "airflow", datetime.now(UTC))
    row = report.recent_runs(conn, 1)[0]
    assert (row["trigger"], row["status"], row["sources"]) == ("airflow", "running", 0)
