"""The figures behind the Airflow page (ingest.report), on a real warehouse."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import psycopg
import yaml

from ingest import report, runs
from ingest.config import parse_config
from ingest.demo.site import sources_yaml
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
    assert reasons == {("fetch", "http_404"): 1, ("fetch", "not_html"): 1}
    assert report.rejected_page_types(conn) == []

    runs.start_run(conn, "killed", "cli", datetime.now(UTC))
    runs.close_abandoned(conn)
    recent = report.recent_runs(conn, 5)
    assert [(r["run_id"], r["status"]) for r in recent][:2] == [
        ("killed", "aborted"), ("pass-1", "success")]
    assert recent[1]["articles_new"] == 8 and recent[1]["rejections"] == 2
