"""Incremental and polite passes: conditional GET, no re-downloads, back-off, robots."""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any

import psycopg
import yaml

from conftest import LoopbackServer
from ingest.config import parse_config
from ingest.demo.site import sources_yaml
from ingest.pipeline import run_pass

ARTICLE = ("<html><head><title>{t}</title></head><body><article><h1>{t}</h1>"
           + "".join(f"<p>{{t}} is the subject of paragraph {n}, which has enough words to count "
                     "as an article body for the validation rules of the pipeline.</p>"
                     for n in range(8))
           + "</article></body></html>")


def test_second_pass_downloads_no_feed_body_and_no_article(
    demo_site: Any, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    config = parse_config(yaml.safe_load(sources_yaml(demo_site.base)))
    first = run_pass(config, dsn)
    second = run_pass(config, dsn)
    assert {c.feed_status for c in second.counts} == {"not_modified"}
    assert second.fetch.by_status == {304: 5}
    assert second.fetch.bytes < 2000
    assert sum(c.articles_fetched for c in second.counts) == 0
    assert first.fetch.requests > 10
    health = conn.execute("SELECT count(*) FROM news.feed_health WHERE NOT failing").fetchone()
    assert health == (5,)


def test_a_failing_feed_backs_off_and_stays_visible(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    url = server.static("/feed.xml", "", status=500)
    config = parse_config({"settings": {"allow_private_hosts": ["127.0.0.1"],
                                        "failure_backoff": 3600},
                           "sources": [{"name": "flaky", "url": url}]})
    for _ in range(2):
        run_pass(config, dsn)
    requests_before = len(server.requests)
    third = run_pass(config, dsn)
    assert len(server.requests) == requests_before  # not polled while backing off
    assert third.counts[0].feed_status == "backoff"
    row = conn.execute("SELECT failing, consecutive_failures, last_status, next_fetch_at IS NOT NULL "
                       "FROM news.feed_health WHERE source = 'flaky'").fetchone()
    assert row == (True, 2, "http_500", True)
    reasons = [r[0] for r in conn.execute(
        "SELECT reason FROM news.rejections WHERE source = 'flaky' ORDER BY rejected_at")]
    assert reasons[-1] == "backoff"


def test_robots_disallowed_article_is_a_rejection(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    server.static("/robots.txt", "User-agent: *\nDisallow: /members/\n", content_type="text/plain")
    server.static("/members/a", ARTICLE.format(t="Members only"))
    server.static("/news/b", ARTICLE.format(t="Open news"))
    feed = ("<rss version='2.0'><channel><title>t</title>"
            f"<item><title>a</title><link>{server.base}/members/a</link></item>"
            f"<item><title>b</title><link>{server.base}/news/b</link></item></channel></rss>")
    url = server.static("/feed.xml", feed, content_type="application/rss+xml")
    config = parse_config({"settings": {"allow_private_hosts": ["127.0.0.1"], "min_words": 20},
                           "sources": [{"name": "club", "url": url}]})
    run_pass(config, dsn)
    assert conn.execute("SELECT reason, url FROM news.rejections").fetchall() == [
        ("robots", f"{server.base}/members/a")]
    assert conn.execute("SELECT title FROM news.articles").fetchall() == [("Open news",)]
    assert "/members/a" not in [p for _, p, _ in server.requests]
    assert conn.execute("SELECT count(*) FROM news.robots").fetchone() == (1,)


def test_transient_failures_make_the_next_pass_read_the_feed_again(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    calls = {"n": 0}

    def flaky(h: BaseHTTPRequestHandler) -> None:
        calls["n"] += 1
        body = ARTICLE.format(t="Flaky story").encode() if calls["n"] > 3 else b""
        h.send_response(200 if body else 503)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    server.route("/story", flaky)
    feed = ("<rss version='2.0'><channel><title>t</title>"
            f"<item><title>s</title><link>{server.base}/story</link></item></channel></rss>")
    url = server.static("/feed.xml", feed, content_type="application/rss+xml",
                        headers={"ETag": '"same"'})
    config = parse_config({"settings": {"allow_private_hosts": ["127.0.0.1"], "min_words": 20,
                                        "url_retry_backoff": 0},  # the story is due at once
                           "sources": [{"name": "s", "url": url}]})
    first = run_pass(config, dsn)
    assert first.counts[0].reasons == {"http_503": 1}
    second = run_pass(config, dsn)  # the feed is read again (no If-None-Match), the story retried
    assert second.counts[0].articles_new == 1
    feed_requests = [hdrs for _, path, hdrs in server.requests if path == "/feed.xml"]
    assert "If-None-Match" not in feed_requests[1]
    third = run_pass(config, dsn)
    assert third.counts[0].feed_status == "ok"  # the test server ignores If-None-Match
    feed_requests = [hdrs for _, path, hdrs in server.requests if path == "/feed.xml"]
    assert feed_requests[2].get("If-None-Match") == '"same"'


def test_failing_urls_wait_for_their_next_try_and_404s_are_given_up(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    server.static("/ok", ARTICLE.format(t="A fine story"))
    server.static("/busy", "", status=503)
    feed = ("<rss version='2.0'><channel><title>t</title>"
            + "".join(f"<item><title>{p}</title><link>{server.base}/{p}</link></item>"
                      for p in ("ok", "busy", "gone"))
            + "</channel></rss>")
    url = server.static("/feed.xml", feed, content_type="application/rss+xml",
                        headers={"ETag": '"same"'})
    config = parse_config({"settings": {"allow_private_hosts": ["127.0.0.1"], "min_words": 20},
                           "sources": [{"name": "s", "url": url}]})
    first = run_pass(config, dsn)
    assert first.counts[0].reasons == {"http_503": 1, "http_404": 1}

    def asked(path: str) -> int:
        return sum(1 for _, p, _ in server.requests if p == path)

    busy, gone = asked("/busy"), asked("/gone")
    second = run_pass(config, dsn)  # at once: neither failing URL is asked again
    assert (asked("/busy"), asked("/gone")) == (busy, gone)
    assert second.counts[0].articles_skipped == 2 and second.counts[0].rejections == 0
    assert second.summary["articles_skipped"] == 2
    # the feed is read in full (no 304): the busy page is due again later
    assert "If-None-Match" not in [h for _, p, h in server.requests if p == "/feed.xml"][1]
    rows = dict(conn.execute("SELECT url, given_up FROM news.failing_urls").fetchall())
    assert rows == {f"{server.base}/busy": False, f"{server.base}/gone": True}
    conn.execute("UPDATE news.url_failures SET next_try_at = now() - interval '1 second' "
                 "WHERE NOT (next_try_at IS NULL)")
    server.static("/busy", ARTICLE.format(t="Busy no more"))
    third = run_pass(config, dsn)  # the busy page is due: asked, loaded, forgotten
    assert (asked("/busy"), asked("/gone")) == (busy + 1, gone)
    assert third.counts[0].articles_new == 1
    assert dict(conn.execute("SELECT url, given_up FROM news.failing_urls").fetchall()) == {
        f"{server.base}/gone": True}


def test_wrong_and_missing_charsets_come_out_clean(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any]
) -> None:
    korean = ("<html><head><title>한국 경제</title></head><body><article><h1>한국과 리투아니아</h1>"
              + "".join(f"<p>{n}. 한국과 리투아니아 기업인들이 바이오와 에너지 등 첨단 산업 분야에서 "
                        "협력하기로 다짐했다. 양국 상공회의소가 주최한 대화에는 많은 기업이 참석했다.</p>"
                        for n in range(10))
              + "</article></body></html>")
    german = ("<html><head><meta charset='iso-8859-1'><title>Grüße</title></head><body><article>"
              "<h1>Wirtschaftsgespräche in Köln</h1>"
              + "".join(f"<p>{n}. Die Gespräche über die Zusammenarbeit der Unternehmen waren "
                        "äußerst erfolgreich, sagte der Geschäftsführer nach dem Treffen in Köln.</p>"
                        for n in range(10))
              + "</article></body></html>")
    server.static("/ko", korean.encode("euc-kr"), content_type="text/html")  # no charset at all
    server.static("/de", german.encode("latin-1"), content_type="text/html; charset=utf-8")  # lies
    feed = ("<rss version='2.0'><channel><title>t</title>"
            f"<item><title>ko</title><link>{server.base}/ko</link></item>"
            f"<item><title>de</title><link>{server.base}/de</link></item></channel></rss>")
    url = server.static("/feed.xml", feed, content_type="application/rss+xml")
    config = parse_config({"settings": {"allow_private_hosts": ["127.0.0.1"], "min_words": 20},
                           "sources": [{"name": "mixed", "url": url}]})
    run_pass(config, dsn)
    texts = dict(conn.execute("SELECT language, text FROM news.articles").fetchall())
    assert "리투아니아 기업인들이" in texts["ko"]
    assert "Geschäftsführer" in texts["de"] and "Ã" not in texts["de"]
