"""The "News ingest" page in a real headless Chromium, inside the real Airflow 3 UI.

How it is served: Airflow's own API server application
(``airflow.api_fastapi.app.create_app()``: the UI, the REST API, and the plugins of
``plugins/``, this project's among them) runs under uvicorn on 127.0.0.1 in this
process, on the test session's throw-away metadata database (SQLite, migrated by the
``airflow_db`` fixture). Authentication is NOT bypassed: the browser carries a JWT
issued by Airflow's simple auth manager as the ``_token`` cookie, as after a login
(the same token tests/test_quality_gates.py uses). Chromium is Debian's, driven by
playwright, as in tests/test_airflow_live.py.

What is in the warehouse, all made by the real pipeline on the demo site and a
loopback site: a CLI pass of the aggregator alone; a real ``news_ingest`` DAG run
(``dag.test()``) over every source, in which one source's quality gate fails (the
DAG run fails); a CLI backfill; a CLI run whose process died (aborted).

The page must show the gates, the rejection chart's SVG bars, runs named by their
DAG and linked to ``/dags/<dag_id>/runs/<run_id>`` (the link is followed: the Airflow
UI opens that run), the aggregator's counts, the sources' kinds, and a menu label
that fits the navigation. Any console error, page error or request outside
127.0.0.1 fails the test. Screenshots go to ``$NEWS_INGEST_ARTIFACTS`` (default: the
test's tmp_path); their paths are printed.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import psycopg
import pytest

from conftest import ROOT, LoopbackServer
from ingest.standalone import free_port

THIN = "<p>{title} was reported briefly by the ministry in paragraph {n}.</p>"


def article(title: str, paragraphs: str) -> str:
    return (f"<html lang='en'><head><title>{title}</title></head><body><article><h1>{title}"
            f"</h1>{paragraphs}</article></body></html>")


def thin_site(server: LoopbackServer) -> str:
    """A feed of one good article and three too short ones: its gate fails."""
    good = "".join(f"<p>The one good story is told in paragraph {i}, with details on the talks "
                   "between the two ministers and what comes next for the region.</p>"
                   for i in range(8))
    server.static("/thin/ok", article("The one good story", good))
    for n in range(3):
        server.static(f"/thin/{n}", article(f"Thin {n}", "".join(
            THIN.format(title=f"Thin {n}", n=i) for i in range(3))))
    items = "".join(f"<item><title>{p}</title><link>{server.base}{p}</link></item>"
                    for p in ["/thin/ok", "/thin/0", "/thin/1", "/thin/2"])
    return server.static("/thin.xml", f"<rss version='2.0'><channel><title>thin</title>{items}"
                         "</channel></rss>", content_type="application/rss+xml")


@dataclass
class Served:
    base: str
    token: str
    dsn: str
    dag_run_id: str
    artifacts: Path


@pytest.fixture(scope="module")
def served(airflow_db: None, new_warehouse: Any,
           tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    import uvicorn
    import yaml

    from ingest import runs
    from ingest.backfill import backfill
    from ingest.config import parse_config
    from ingest.demo.site import DemoSite, sources_yaml
    from ingest.pipeline import run_pass

    home = tmp_path_factory.mktemp("news-page")
    artifacts = Path(os.environ.get("NEWS_INGEST_ARTIFACTS") or home)
    dsn = new_warehouse()
    info = psycopg.conninfo.conninfo_to_dict(dsn)
    server = LoopbackServer()
    with DemoSite() as site, pytest.MonkeyPatch.context() as env:
        spec = yaml.safe_load(sources_yaml(site.base))
        spec["sources"].append({"name": "thin", "url": thin_site(server)})
        config_path = home / "sources.yml"
        config_path.write_text(yaml.safe_dump(spec))
        config = parse_config(spec)
        env.setenv("NEWS_INGEST_CONFIG", str(config_path))  # the page shows the kinds
        # The API app signs its tokens with these; `airflow api-server` would generate
        # them into airflow.cfg, an app made in-process needs them given.
        env.setenv("AIRFLOW__API_AUTH__JWT_SECRET", secrets.token_hex(32))
        env.setenv("AIRFLOW__API__SECRET_KEY", secrets.token_hex(32))
        env.setenv("AIRFLOW_CONN_NEWS_WAREHOUSE", json.dumps(
            {"conn_type": "postgres", "host": info["host"],
             "login": info.get("user", "postgres"), "schema": info["dbname"]}))

        # 1. the aggregator alone, from the CLI: its links bring the articles in
        run_pass(config, dsn, source_names=["bing-korea-lithuania"])
        # 2. a real DAG run over every source: the publishers' feeds list the same
        #    articles (stored under them); thin's gate fails, and so does the run
        from airflow.dag_processing.dagbag import DagBag

        dag = DagBag(dag_folder=str(ROOT / "dags"), safe_mode=False).dags["news_ingest"]
        for task in dag.tasks:
            task.retries = 0
        dag_run = dag.test(run_conf={"config": str(config_path)})
        assert dag_run.state == "failed"
        # 3. a backfill and 4. a run whose process died, both from the CLI
        backfill(config, dsn, "trade-ministry", date(2026, 1, 1))
        with psycopg.connect(dsn, autocommit=True) as conn:
            runs.start_run(conn, runs.new_run_id("cli"), "cli", datetime.now(UTC))
            assert len(runs.close_abandoned(conn)) == 1

        from airflow.api_fastapi.app import create_app, get_auth_manager
        from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

        port = free_port()
        api = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                            log_level="warning"))
        thread = threading.Thread(target=api.run, daemon=True)
        thread.start()
        deadline = time.time() + 60
        while not api.started and thread.is_alive() and time.time() < deadline:
            time.sleep(0.1)
        assert api.started, "the Airflow API server did not start"
        token = get_auth_manager().generate_jwt(SimpleAuthManagerUser(username="admin",
                                                                      role="ADMIN"))
        try:
            yield Served(f"http://127.0.0.1:{port}", token, dsn, dag_run.run_id, artifacts)
        finally:
            api.should_exit = True
            thread.join(timeout=15)
            server.close()


@pytest.fixture
def browser() -> Iterator[Any]:
    chromium = shutil.which("chromium")
    if chromium is None:
        pytest.skip("Debian's chromium is not installed (make test installs it when it may)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(
            executable_path=chromium, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update",
                  "--disable-sync"])
        yield launched
        launched.close()


class Watch:
    """Console errors, uncaught page errors, and requests that leave 127.0.0.1."""

    def __init__(self, context: Any) -> None:
        self.errors: list[str] = []
        self.outside: list[str] = []
        context.on("request", self._request)

    def page(self, page: Any) -> Any:
        page.on("console", lambda m: m.type == "error" and self.errors.append(
            f"console: {m.text} ({m.location.get('url')})"))
        page.on("pageerror", lambda e: self.errors.append(f"page error: {e}"))
        return page

    def _request(self, request: Any) -> None:
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about") or parts.hostname == "127.0.0.1":
            return
        self.outside.append(request.url)

    def check(self) -> None:
        assert self.outside == [], f"requests outside 127.0.0.1: {self.outside}"
        assert self.errors == [], "\n".join(self.errors)


@pytest.mark.slow
def test_the_page_says_what_went_wrong_where(served: Served, browser: Any) -> None:
    context = browser.new_context(viewport={"width": 1500, "height": 1100})
    context.add_cookies([{"name": "_token", "value": served.token, "url": served.base + "/"}])
    watch = Watch(context)
    page = watch.page(context.new_page())
    page.goto(served.base + "/plugin/news-ingest", wait_until="networkidle")
    frame = page.frame_locator("iframe").first
    shot = served.artifacts / "news_page_in_airflow.png"
    try:
        frame.locator("#freshness").wait_for(timeout=30_000)
    finally:
        page.screenshot(path=str(shot), full_page=True)
        print(f"\nscreenshot: {shot}")

    # The menu: a short label that the 56 px navigation button shows whole, with its icon.
    nav = page.locator('nav a[href$="/plugin/news-ingest"], a[href$="/plugin/news-ingest"]').first
    assert nav.get_attribute("aria-label") == "News"
    fits = nav.evaluate("""a => {
        const label = [...a.querySelectorAll('*')].find(
            e => e.children.length === 0 && e.textContent.trim() === 'News');
        const whole = label.scrollWidth <= label.clientWidth;
        const before = label.textContent;
        label.textContent = 'News ingest';  // the old label, to show the check can fail
        const old = label.scrollWidth <= label.clientWidth;
        label.textContent = before;
        return [whole, old, label.clientWidth];
    }""")
    assert fits[0] is True and fits[1] is False, fits
    assert nav.locator("img").evaluate("i => i.complete && i.naturalWidth > 0")

    # Needs attention: the failed gate and the failed and aborted runs, each where.
    attention = frame.locator("#attention").inner_text()
    assert "quality gate failed for thin in its last run" in attention and "too_short" in attention
    assert f"DAG news_ingest {served.dag_run_id} failed" in attention
    assert "aborted: the process working on the run stopped" in attention

    # Sources: kinds from the sources file; the aggregator counted by what it brought in.
    kinds = {name: frame.locator(f'tr.source[data-source="{name}"] td.kind').inner_text()
             for name in ("korea-daily-post", "seoul-herald", "trade-ministry", "thin")}
    assert kinds == {"korea-daily-post": "feed", "seoul-herald": "sitemap",
                     "trade-ministry": "listing", "thin": "feed"}
    bing = frame.locator('tr.source[data-source="bing-korea-lithuania"]')
    assert bing.locator("td.articles").inner_text() == "0"
    assert bing.locator("td.linked").inner_text().startswith("3 under their publishers")
    assert bing.locator("td.last-new").inner_text().endswith("UTC")  # not "never"

    # Quality gates per source and run: passed, failed with its reasons, skipped.
    gates = frame.locator("#gates td.gate[data-gate]")
    verdicts = {gates.nth(i).get_attribute("data-gate") for i in range(gates.count())}
    assert verdicts == {"passed", "failed", "skipped"}
    failed = frame.locator(f'#gates td[data-gate="failed"][data-run="{served.dag_run_id}"]')
    assert failed.count() == 1 and failed.get_attribute("data-source") == "thin"
    assert "3 of 4 records rejected" in (failed.get_attribute("title") or "")
    assert "too_short=3" in frame.locator("#gate-failures").inner_text()

    # Rejections: the chart's bars per day and stage, then by reason.
    segments = frame.locator("#rejections-chart rect.seg")
    stages = {segments.nth(i).get_attribute("data-stage") for i in range(segments.count())}
    assert stages == {"fetch", "validate"}
    assert all(float(segments.nth(i).get_attribute("height") or 0) > 0
               for i in range(segments.count()))
    reasons = frame.locator("#reasons").inner_text()
    assert "http_404" in reasons and "too_short" in reasons
    assert frame.locator("#reasons rect.bar").count() >= 2
    assert frame.locator("#per-day rect.bar").count() == 28

    # Runs: the DAG run named by its DAG and linked to its Airflow run; the CLI ones
    # shown as such; the aborted one as aborted.
    dag_row = frame.locator(f'tr.run[data-run-id="{served.dag_run_id}"]')
    assert dag_row.get_attribute("data-dag") == "news_ingest"
    assert dag_row.get_attribute("data-status") == "failed"
    link = dag_row.locator("a.airflow-run")
    href = f"/dags/news_ingest/runs/{quote(served.dag_run_id, safe='')}"
    assert link.get_attribute("href") == href and link.get_attribute("target") == "_top"
    origins = [t.strip() for t in frame.locator("#runs tr.run .origin").all_inner_texts()]
    assert sorted(origins) == ["CLI pass", "CLI pass", "DAG news_ingest", "backfill (CLI)"]
    aborted = frame.locator('tr.run[data-status="aborted"]')
    assert aborted.count() == 1 and "CLI pass" in aborted.inner_text()

    # The standalone page, whole, for the record.
    alone = watch.page(context.new_page())
    alone.goto(served.base + "/news/", wait_until="networkidle")
    whole = served.artifacts / "news_page.png"
    alone.screenshot(path=str(whole), full_page=True)
    print(f"screenshot: {whole}")
    alone.close()

    # Following the link opens that DAG run in the Airflow UI.
    link.click()
    page.wait_for_url(f"**{href}", timeout=30_000)
    page.get_by_text(served.dag_run_id).first.wait_for(timeout=30_000)
    run_shot = served.artifacts / "news_page_run_link.png"
    page.screenshot(path=str(run_shot))
    print(f"screenshot: {run_shot}")
    watch.check()
    context.close()
    assert shot.stat().st_size > 10_000 and whole.stat().st_size > 10_000


def test_runs_are_linked_from_their_ids_without_airflows_database(
        dsn: str, conn: psycopg.Connection[Any]) -> None:
    """Rendered outside the API server (no metadata database to ask), a run is still
    named and linked as far as its id tells: a scheduled run of news_ingest, a date of
    the daily refresh (its DAG's runs), a manual run (Airflow, DAG unknown)."""
    import sys

    sys.path.insert(0, str(ROOT / "plugins"))
    from news_ingest_plugin import page_data, render_page

    from ingest import runs

    now = datetime.now(UTC)
    scheduled = "scheduled__2026-03-04T00:00:00+00:00"
    for run_id in (scheduled, "news_ingest_daily-2026-03-04",
                   "manual__2026-03-04T10:00:00+00:00"):
        runs.start_run(conn, run_id, "airflow", now)
    data = page_data(dsn, airflow=False)
    by_id = {r["run_id"]: r for r in data["runs"]}
    assert by_id[scheduled]["href"] == (
        "/dags/news_ingest/runs/scheduled__2026-03-04T00%3A00%3A00%2B00%3A00")
    assert by_id["news_ingest_daily-2026-03-04"]["href"] == "/dags/news_ingest_daily/runs"
    manual = by_id["manual__2026-03-04T10:00:00+00:00"]
    assert manual["href"] is None and manual["origin"] == "Airflow, DAG unknown"
    html = render_page(data, latest_docs=False)
    assert 'class="airflow-run" data-airflow target="_top" href="/dags/news_ingest/runs/' in html
    assert "(the DAG's runs)" in html
