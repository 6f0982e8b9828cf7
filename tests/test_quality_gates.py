"""Validation in the pipeline: quarantine with reasons, quality gates, Data Docs, revalidation."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import ROOT, LoopbackServer
from ingest.config import parse_config
from ingest.errors import QualityGateError
from ingest.pipeline import run_pass
from ingest.revalidate import revalidate
from ingest.validate import GateRules, check_gate

WORDS = ["trade", "minister", "agreement", "export", "battery", "summit", "investment", "market", "energy", "partner", "company", "region", "forum", "technology", "research", "council", "industry", "plan"]


GERMAN = ("<html><head><title>Handel</title></head><body><article><h1>Handel</h1>" + "".join(
    "<p>Die Regierung und die Unternehmen des Landes haben am Montag ein neues Abkommen über "
    f"den Handel mit Batterien und Halbleitern unterzeichnet, berichtete die Zeitung {n}.</p>"
    for n in range(8)) + "</article></body></html>")


def page(title: str, words: int, *, lead: str = "", lang: str = "en", date: str | None = None) -> str:
    body = " ".join(WORDS[(i * 7) % len(WORDS)] for i in range(words))
    paragraphs = "".join(f"<p>{lead if n == 0 else ''}{body[n * 10:]} {n}.</p>" for n in range(3))
    meta = f'<meta property="article:published_time" content="{date}">' if date else ""
    return (f'<html lang="{lang}"><head><title>{title}</title>{meta}</head><body><article>'
            f"<h1>{title}</h1>{paragraphs}</article></body></html>")


def site(server: LoopbackServer, pages: dict[str, str], dates: dict[str, str] | None = None) -> str:
    for path, html in pages.items():
        server.static(path, html)
    items = "".join(
        f"<item><title>{p}</title><link>{server.base}{p}</link>"
        + (f"<pubDate>{(dates or {})[p]}</pubDate>" if p in (dates or {}) else "") + "</item>"
        for p in pages)
    return server.static("/feed.xml", f"<rss version='2.0'><channel><title>t</title>{items}"
                         "</channel></rss>", content_type="application/rss+xml")


def test_bad_rows_are_quarantined_with_reasons_and_good_rows_load(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    future = format_datetime(datetime.now(UTC) + timedelta(days=30))
    url = site(server, {
        "/good-1": page("Good one", 120), "/good-2": page("Good two", 130),
        "/good-3": page("Good three", 140), "/good-4": page("Good four", 150),
        "/short": page("Short", 12),
        "/wall": page("Wall", 120, lead="Please enable JavaScript to continue. "),
        "/future": page("From the future", 125),
        "/german": GERMAN,
    }, dates={"/future": future})
    config = parse_config({"settings": {"allow_private_hosts": ["127.0.0.1"]},
                           "sources": [{"name": "mixed", "url": url, "language": "en"}]})
    result = run_pass(config, dsn, quality_dir=tmp_path)
    reasons = dict(conn.execute(
        "SELECT substring(url from '[^/]+$'), reason FROM news.rejections WHERE stage = 'validate'"))
    assert reasons == {"short": "too_short", "wall": "stub_page", "german": "language_unexpected"}
    titles = sorted(r[0] for r in conn.execute("SELECT title FROM news.articles"))
    assert titles == ["From the future", "Good four", "Good one", "Good three", "Good two"]
    # A date 30 days ahead is garbage: never stored; the record keeps its other evidence.
    assert conn.execute("SELECT published_at FROM news.articles WHERE title = 'From the future'"
                        ).fetchone() == (None,)
    payload = conn.execute("SELECT payload->>'title', payload->>'text' IS NOT NULL FROM news.rejections "
                           "WHERE reason = 'too_short'").fetchone()
    assert payload == ("Short", True)
    quality = conn.execute("SELECT rows_validated, rows_passed, rows_rejected, reasons, gate "
                           "FROM news.quality WHERE source = 'mixed'").fetchone()
    assert quality == (8, 5, 3, {"too_short": 1, "stub_page": 1, "language_unexpected": 1},
                       "passed")
    # Data Docs: the run is in the index, and latest.html points at its pages
    assert result.docs == tmp_path / "docs" / "index.html"
    index = result.docs.read_text()
    assert result.run_id.replace(":", "_") in index or result.run_id in index
    latest = (tmp_path / "docs" / "latest.html").read_text()
    assert "validations/news_articles/" in latest


def test_a_gate_fails_the_run_after_loading_the_good_rows(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    url = site(server, {"/ok": page("Fine", 120), "/s1": page("S1", 10), "/s2": page("S2", 11),
                        "/s3": page("S3", 12)})
    config = parse_config({"settings": {"allow_private_hosts": ["127.0.0.1"]},
                           "sources": [{"name": "thin", "url": url}]})
    with pytest.raises(QualityGateError) as err:
        run_pass(config, dsn, run_id="gated", quality_dir=tmp_path)
    assert "thin: 3 of 4 records rejected (75% > 50%): too_short=3" in str(err.value)
    assert conn.execute("SELECT title FROM news.articles").fetchall() == [("Fine",)]
    run = conn.execute("SELECT status, message FROM news.runs WHERE run_id = 'gated'").fetchone()
    assert run is not None and run[0] == "failed" and "thin: 3 of 4" in run[1]
    assert conn.execute("SELECT gate FROM news.quality").fetchone() == ("failed",)


def test_cli_exit_code_for_a_failed_gate(server: LoopbackServer, dsn: str, tmp_path: Path) -> None:
    url = site(server, {"/s1": page("S1", 10), "/s2": page("S2", 11), "/s3": page("S3", 12)})
    config = tmp_path / "sources.yml"
    config.write_text(f"settings:\n  allow_private_hosts: ['127.0.0.1']\n"
                      f"sources:\n  - name: thin\n    url: {url}\n")
    result = subprocess.run([sys.executable, "-m", "ingest.cli", "run", "--config", str(config),
                             "--dsn", dsn], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 3
    assert "quality gate failed for 1 source(s): thin: 3 of 3 records rejected" in result.stderr
    assert "total" in result.stdout  # the summary table is still printed


@pytest.mark.parametrize(
    ("validated", "rejected", "new_now", "history", "expected"),
    [
        (10, 5, 5, [], "passed"),  # exactly 50% is not above it
        (10, 6, 4, [], "failed"),
        (2, 2, 0, [], "skipped"),  # too few to judge
        (0, 0, 0, [0, 0, 0, 0, 0, 0, 3], "failed"),  # silent for 7 runs, used to yield
        (0, 0, 0, [0, 0, 0, 0, 0, 3], "skipped"),  # silent for 6 runs only
        (0, 0, 0, [0, 0, 0, 0, 0, 0, 0], "skipped"),  # never yielded: nothing to miss
    ],
)
def test_check_gate(validated: int, rejected: int, new_now: int, history: list[int],
                    expected: str) -> None:
    status, message = check_gate("s", validated, rejected, {"too_short": rejected}, new_now,
                                 history, GateRules())
    assert status == expected
    assert (message is not None) == (expected == "failed")


def test_revalidate_loads_what_now_passes(
    server: LoopbackServer, dsn: str, conn: psycopg.Connection[Any], tmp_path: Path
) -> None:
    url = site(server, {"/brief": page("A brief", 12), "/ok": page("Fine", 120)})
    strict = parse_config({"settings": {"allow_private_hosts": ["127.0.0.1"]},
                           "sources": [{"name": "wire", "url": url}]})
    run_pass(strict, dsn, quality_dir=tmp_path)
    assert conn.execute("SELECT count(*) FROM news.articles").fetchone() == (1,)
    lenient = parse_config({"settings": {"allow_private_hosts": ["127.0.0.1"]},
                            "sources": [{"name": "wire", "url": url, "min_words": 30}]})
    result = revalidate(lenient, dsn, source="wire")
    assert (result.checked, result.loaded, result.still_rejected) == (1, 1, {})
    assert conn.execute("SELECT count(*) FROM news.articles").fetchone() == (2,)
    resolved = conn.execute("SELECT resolved_by FROM news.rejections").fetchone()
    assert resolved == (result.run_id,)
    again = revalidate(lenient, dsn, source="wire")
    assert again.checked == 0


def test_data_docs_are_reachable_from_the_airflow_ui(airflow_db: None) -> None:
    """The plugin's pages are served by Airflow's API server, behind its login."""
    import os

    docs = Path(os.environ["NEWS_INGEST_HOME"]) / "quality" / "docs"
    docs.mkdir(parents=True, exist_ok=True)
    (docs / "index.html").write_text("<html>validation results</html>")
    from airflow.api_fastapi.app import create_app, get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser
    from fastapi.testclient import TestClient

    client = TestClient(create_app())
    assert client.get("/news/docs/index.html").status_code == 401
    token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="admin", role="ADMIN"))
    page = client.get("/news/docs/index.html", cookies={"_token": token})
    assert page.status_code == 200 and "validation results" in page.text
    traversal = client.get("/news/docs/%2e%2e/%2e%2e/%2e%2e/etc/passwd", cookies={"_token": token})
    assert traversal.status_code == 404 and "root:" not in traversal.text
    views = client.get("/api/v2/plugins", headers={"Authorization": f"Bearer {token}"}).json()
    names = [v["name"] for p in views["plugins"] for v in p["external_views"]]
    assert "Data Docs" in names
