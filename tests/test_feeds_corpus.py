"""Every feed of ../shared/corpus/feeds (feedparser's suite and real captures) either
parses or becomes a rejection; none crashes a run."""

from __future__ import annotations

import json
from typing import Any

import psycopg
import pytest

from conftest import CORPUS, LoopbackServer
from ingest.config import parse_config
from ingest.errors import ParseError
from ingest.parse import parse_feed
from ingest.pipeline import run_pass

FEEDS = CORPUS / "feeds"
pytestmark = pytest.mark.skipif(not FEEDS.is_dir(), reason="../shared/corpus/feeds absent")


def cases() -> list[dict[str, Any]]:
    rows = []
    for name in ("feedparser_tests.jsonl", "realworld.jsonl"):
        with (FEEDS / name).open(encoding="utf-8") as fh:
            rows += [json.loads(line) for line in fh]
    return [r for r in rows if (FEEDS / r["path"]).is_file()]


def content_type(case: dict[str, Any]) -> str | None:
    headers = {k.lower(): v for k, v in (case.get("http_headers") or {}).items()}
    return headers.get("content-type")


def test_every_feed_parses_or_is_rejected() -> None:
    outcomes = {"parsed": 0, "rejected": 0}
    for case in cases():
        body = (FEEDS / case["path"]).read_bytes()
        try:
            parse_feed(body, source="s", url="http://127.0.0.1/feed", content_type=content_type(case))
            outcomes["parsed"] += 1
        except ParseError as exc:
            assert exc.reason in {"not_a_feed", "empty_feed"}
            outcomes["rejected"] += 1
    assert outcomes["parsed"] > 1500, outcomes


def test_real_world_feeds_yield_their_items() -> None:
    checked = good = 0
    for case in cases():
        if not case["id"].count("/") or case.get("n_items_xml") in (None, 0):
            continue
        if not case.get("well_formed_xml"):
            continue
        checked += 1
        feed = parse_feed((FEEDS / case["path"]).read_bytes(), source="s",
                          url="http://127.0.0.1/feed", max_items=10_000)
        # items without an http(s) link (urn: ids, RSS 0.9x without <link>) are reported
        good += len(feed.entries) > 0 or any("without a link" in p for p in feed.problems)
    assert checked > 50
    assert good / checked >= 0.95, (good, checked)


@pytest.mark.slow
def test_a_run_over_all_of_them(server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]) -> None:
    sources = []
    for n, case in enumerate(cases()):
        path = f"/feeds/{n}"
        headers = {k: v for k, v in (case.get("http_headers") or {}).items()
                   if k.lower() != "content-type"}
        server.static(path, (FEEDS / case["path"]).read_bytes(),
                      content_type=content_type(case) or "application/xml", headers=headers)
        sources.append({"name": f"feed-{n}", "url": server.base + path})
    config = parse_config({
        "settings": {"allow_private_hosts": ["127.0.0.1"], "only_hosts": ["127.0.0.1"],
                     "max_items_per_feed": 3, "per_host_delay": 0, "per_host_concurrency": 32,
                     "concurrency": 32},
        "sources": sources,
    })
    result = run_pass(config, dsn)
    assert result.summary["status"] == "success"
    assert result.summary["sources"] == len(sources)
    statuses: dict[str | None, int] = {}
    for c in result.counts:
        statuses[c.feed_status] = statuses.get(c.feed_status, 0) + 1
    assert set(statuses) <= {"ok", "not_a_feed", "empty_feed"}, statuses
    # Links to other hosts became rejections, not requests; relative links resolved
    # against the feed's URL reached our server (404, or a feed that is not HTML).
    reasons = dict(conn.execute("SELECT reason, count(*) FROM news.rejections GROUP BY 1").fetchall())
    assert reasons.get("host_not_allowed", 0) > 100
    assert set(reasons) <= {"host_not_allowed", "not_a_feed", "empty_feed", "feed_malformed",
                            "http_404", "not_html", "no_content", "too_short", "bad_scheme",
                            "feed_truncated"}, reasons
