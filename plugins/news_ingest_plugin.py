"""Airflow plugin: news-ingest's pages inside the Airflow UI.

A FastAPI app mounted at ``/news`` on the API server, every route behind
Airflow's own authentication (the UI's session cookie or a bearer token):

* ``/news/``: the "News ingest" page: per-source freshness (last success, last
  new item, failing or not), articles per day over the last four weeks, rejection
  reasons of the last week, the pages kept out as not news articles by type, recent
  runs (an aborted one shown as such), and a link to the latest Data Docs;
* ``/news/docs/...``: the Great Expectations Data Docs of the validation runs
  (``$NEWS_INGEST_HOME/quality/docs``), shown in the UI as "Data Docs".
"""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.plugins_manager import AirflowPlugin

_esc = html.escape


def docs_dir() -> Path:
    from ingest.config import Environment

    return (Environment().quality_dir / "docs").resolve()


def ui_dsn() -> str:
    """The warehouse as the API server sees it: the ``news_warehouse`` connection,
    else the environment's DSN (or the embedded PostgreSQL)."""
    from airflow.exceptions import AirflowNotFoundException
    from airflow.models.connection import Connection

    from ingest import db
    from ingest.config import Environment

    try:
        conn = Connection.get_connection_from_secrets("news_warehouse")
    except AirflowNotFoundException:
        env = Environment()
        return db.resolve_dsn(None, env.dsn, env.home)
    return db.dsn_from_airflow_connection(
        conn.host, conn.login, conn.password, conn.schema, conn.port, conn.extra_dejson
    )


def page_data(dsn: str) -> dict[str, Any]:
    from ingest import db, report

    with db.connect(dsn, autocommit=True) as conn:
        return {
            "freshness": report.freshness(conn),
            "per_day": report.items_per_day(conn, 28),
            "reasons": report.rejection_reasons(conn, 7),
            "page_types": report.rejected_page_types(conn, 7),
            "runs": report.recent_runs(conn, 8),
        }


def create_app() -> Any:
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi import Depends, FastAPI, HTTPException
    from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse

    app = FastAPI(title="news-ingest", dependencies=[Depends(get_user)])

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        try:
            data = page_data(ui_dsn())
        except Exception as exc:  # the page says what is wrong instead of a bare 500
            return HTMLResponse(render_error(exc), status_code=503)
        latest = (docs_dir() / "latest.html").is_file()
        return HTMLResponse(render_page(data, latest))

    @app.get("/docs/", include_in_schema=False)
    def docs_index() -> RedirectResponse:
        return RedirectResponse("index.html")

    @app.get("/docs/{path:path}", include_in_schema=False)
    def docs(path: str) -> FileResponse:
        root = docs_dir()
        target = (root / path).resolve()
        if not target.is_relative_to(root) or not target.is_file():
            raise HTTPException(404, "no such page in the Data Docs (has a pass validated yet?)")
        return FileResponse(target)

    return app


#: aborted: the run's process died; a later pass closed it (news.runs.message says when).
_STATUS_CLASS = {"success": "ok", "failed": "bad", "aborted": "bad", "running": "muted"}


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1a202c}
h1{font-size:1.5rem;margin:0 0 1rem} h2{font-size:1.1rem;margin:1.5rem 0 .5rem}
table{border-collapse:collapse;font-size:.9rem} td,th{padding:.3rem .6rem;text-align:left;
border-bottom:1px solid #e2e8f0} th{background:#f7fafc}
.bad{color:#c53030;font-weight:600} .ok{color:#2f855a;font-weight:600}
.num{text-align:right} .muted{color:#718096} a{color:#2b6cb0}
"""


def _chart(per_day: list[dict[str, Any]]) -> str:
    """Articles per day as an inline SVG bar chart (no script, no external asset)."""
    width, height, pad = 760, 180, 24
    top = max([row["articles"] for row in per_day] + [1])
    bar = (width - 2 * pad) / max(len(per_day), 1)
    parts = []
    for i, row in enumerate(per_day):
        h = (height - 2 * pad) * row["articles"] / top
        x, y = pad + i * bar, height - pad - h
        label = f"{row['day']:%Y-%m-%d}: {row['articles']} articles"
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{y:.1f}" width="{bar * 0.8:.1f}" '
                     f'height="{h:.1f}" fill="#4299e1"><title>{label}</title></rect>')
        if i % 7 == 0 or i == len(per_day) - 1:
            parts.append(f'<text x="{x:.1f}" y="{height - 6}" font-size="10">'
                         f"{row['day']:%m-%d}</text>")
    parts.append(f'<text x="{pad}" y="14" font-size="10">max {top}/day</text>')
    return (f'<svg id="per-day" width="{width}" height="{height}" role="img" '
            f'aria-label="articles per day">{"".join(parts)}</svg>')


def render_page(data: dict[str, Any], latest_docs: bool) -> str:
    rows = []
    for s in data["freshness"]:
        state = ('<span class="bad">failing</span>' if s["failing"]
                 else '<span class="ok">ok</span>')
        error = (f'<div class="muted">{_esc(s["last_error"] or "")[:160]}</div>'
                 if s["failing"] else "")
        rows.append(
            f'<tr class="source" data-source="{_esc(s["source"])}"><td>{_esc(s["source"])}</td>'
            f"<td>{state}{error}</td><td>{_when(s['last_success_at'])}</td>"
            f"<td>{_when(s['last_new_item_at'])}</td><td>{_when(s['last_article_at'])}</td>"
            f'<td class="num">{s["articles"] or 0}</td></tr>'
        )
    reasons = "".join(
        f'<tr class="reason"><td>{_esc(r["stage"])}</td><td>{_esc(r["reason"])}</td>'
        f'<td class="num">{r["rejections"]}</td><td class="num">{r["sources"]}</td></tr>'
        for r in data["reasons"]
    ) or '<tr><td colspan="4" class="muted">no rejections this week</td></tr>'
    kinds = "".join(
        f'<tr class="page-type" data-type="{_esc(r["page_type"])}"><td>{_esc(r["page_type"])}'
        f'</td><td class="num">{r["pages"]}</td><td class="num">{r["sources"]}</td></tr>'
        for r in data.get("page_types", [])
    ) or '<tr><td colspan="3" class="muted">none this week</td></tr>'
    runs = "".join(
        f'<tr class="run" data-status="{_esc(r["status"])}"><td>{_esc(r["run_id"])}</td>'
        f"<td>{_esc(r['trigger'])}</td><td>{_when(r['started_at'])}</td>"
        f'<td class="{_STATUS_CLASS.get(r["status"], "muted")}">{_esc(r["status"])}</td>'
        f'<td class="num">{r["articles_new"]}</td><td class="num">{r["rejections"]}</td>'
        f'<td class="muted">{_esc((r["message"] or "")[:200])}</td></tr>'
        for r in data["runs"]
    )
    docs = ('<a id="data-docs" href="docs/latest.html">latest Data Docs</a> '
            '(<a href="docs/index.html">all runs</a>)' if latest_docs
            else '<span class="muted">no Data Docs yet: they are built by the first pass '
                 "that validates anything</span>")
    failing = sum(1 for s in data["freshness"] if s["failing"])
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>News ingest</title>
<style>{_STYLE}</style></head><body>
<h1>News ingest</h1>
<p>{len(data["freshness"])} sources,
<span class="{"bad" if failing else "ok"}">{failing} failing</span>. Validation: {docs}.</p>
<h2>Sources</h2>
<table id="freshness"><tr><th>source</th><th>state</th><th>last success</th>
<th>last new item</th><th>last article</th><th>articles</th></tr>{"".join(rows)}</table>
<h2>Articles per day (last 4 weeks)</h2>{_chart(data["per_day"])}
<h2>Rejections by reason (last 7 days)</h2>
<table id="reasons"><tr><th>stage</th><th>reason</th><th>rejections</th><th>sources</th></tr>
{reasons}</table>
<h2>Kept out as not news articles (last 7 days)</h2>
<table id="page-types"><tr><th>page type</th><th>pages</th><th>sources</th></tr>{kinds}</table>
<h2>Recent runs</h2>
<table id="runs"><tr><th>run</th><th>trigger</th><th>started</th><th>status</th>
<th>new</th><th>rejected</th><th>message</th></tr>{runs}</table>
</body></html>"""


def render_error(exc: Exception) -> str:
    return ("<!DOCTYPE html><html><body><h1>News ingest</h1><p>The warehouse cannot be read: "
            f"{_esc(str(exc))[:500]}</p><p>Check the <code>news_warehouse</code> connection."
            "</p></body></html>")


class NewsIngestPlugin(AirflowPlugin):
    name = "news_ingest"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/news", "name": "news-ingest"}]
    external_views = [
        {
            "name": "News ingest",
            "href": "/news/",
            "url_route": "news-ingest",
            "nav_top_level": True,
            "destination": "nav",
        },
        {
            "name": "Data Docs",
            "href": "/news/docs/index.html",
            "url_route": "news-data-docs",
            "category": "browse",
            "destination": "nav",
        },
    ]
