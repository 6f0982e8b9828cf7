"""Airflow plugin: news-ingest's pages inside the Airflow UI.

A FastAPI app mounted at ``/news`` on the API server, every route behind
Airflow's own authentication (the UI's session cookie or a bearer token):

* ``/news/``: the "News ingest" page (menu label "News"), which says what went
  wrong, where: what needs attention (failing sources, failed quality gates, failed
  or aborted runs); per source its kind, health, what it brought in (an
  aggregator's links loaded under their publishers included) and its last new
  article; the quality gates of the recent runs per source (passed, failed with
  the reasons, skipped); rejections per day by stage and by reason (inline SVG
  charts, nothing loaded from elsewhere); the pages kept out as not news articles
  by type; articles per day; and the recent runs, each named by its DAG and linked
  to its run in the Airflow UI (``/dags/<dag_id>/runs/<run_id>``), CLI, backfill
  and re-extraction runs shown as such;
* ``/news/docs/...``: the Great Expectations Data Docs of the validation runs
  (``$NEWS_INGEST_HOME/quality/docs``), shown in the UI as "Data Docs";
* ``/news/icon.svg``: the menu icon.

Which Airflow DAG run wrote a warehouse run is not stored in the warehouse
(``news.runs`` has the run id and the trigger): the page asks Airflow's metadata
database (:func:`airflow_runs`), and falls back on what the run id alone tells
(:func:`ingest.report.airflow_origin`).
"""

from __future__ import annotations

import html
import logging
from collections import defaultdict
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from airflow.plugins_manager import AirflowPlugin

log = logging.getLogger(__name__)
_esc = html.escape

#: The menu label. The Airflow 3 navigation is a column of 56 px wide buttons whose
#: label is one line of 2xs text cut with an ellipsis (the built-in ones are "Home",
#: "Dags", "Assets", "Browse", "Admin"): a longer name shows as "News ing...".
MENU_LABEL = "News"
RUNS_SHOWN = 8
REJECTION_DAYS = 14
STAGES = ("fetch", "parse", "extract", "validate", "load")
STAGE_COLOURS = {"fetch": "#e53e3e", "parse": "#dd6b20", "extract": "#b7791f",
                 "validate": "#805ad5", "load": "#3182ce"}


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


def ui_root() -> str:
    """The path the Airflow UI is served under (``[api] base_url``), without the
    trailing slash: '' at the root."""
    try:
        from airflow.api_fastapi.app import API_ROOT_PATH
    except Exception:
        return ""
    return str(API_ROOT_PATH).rstrip("/")


def source_kinds() -> dict[str, str]:
    """Source name -> feed, sitemap, site or listing, from the sources file
    (``$NEWS_INGEST_CONFIG``) when the API server can read it; else nothing (the
    warehouse does not keep the kind)."""
    try:
        from ingest import sources

        _, config = sources.load(None)
    except Exception as exc:
        log.debug("no sources file for the page's kinds: %s", exc)
        return {}
    return {s.name: s.kind for s in config.sources}


def airflow_runs(runs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """Warehouse run id -> the Airflow DAG run that wrote it ({dag_id, run_id, state}),
    from Airflow's metadata database: a DAG run of a news DAG whose task returned the
    run's id (plan's ``run_key``, finish's, backfill's or reextract's ``run_id``), else
    whose id the plan task would derive (:func:`ingest.report.dag_run_key`). Several
    DAG runs of one warehouse run (a daily date run twice): the latest. Empty when
    the database cannot be read (the page then shows what the run ids tell)."""
    if not runs:
        return {}
    from ingest import report

    try:
        from airflow.models.dagrun import DagRun
        from airflow.models.xcom import XComModel
        from airflow.utils.session import create_session
        from sqlalchemy import func, or_, select

        wanted = {r["run_id"] for r in runs}
        since = min(r["started_at"] for r in runs) - timedelta(days=2)
        with create_session() as session:
            dag_runs = session.execute(
                select(DagRun.id, DagRun.dag_id, DagRun.run_id, DagRun.conf,
                       DagRun.logical_date, DagRun.start_date, DagRun.state)
                .where(DagRun.dag_id.in_(report.RUN_DAGS),
                       or_(DagRun.run_id.in_(wanted),
                           func.coalesce(DagRun.start_date, DagRun.queued_at,
                                         DagRun.run_after) >= since))
            ).all()
            by_pk = {row[0]: row for row in dag_runs}
            xcoms = [
                (x.dag_run_id, x.task_id, XComModel.deserialize_value(x))
                for x in session.scalars(
                    select(XComModel).where(
                        XComModel.dag_run_id.in_(list(by_pk)),
                        XComModel.key == "return_value",
                        XComModel.task_id.in_(report.RUN_KEY_TASKS),
                        XComModel.map_index == -1))
            ] if by_pk else []
    except Exception as exc:  # no metadata database here (a test, a CLI render): no links
        log.info("Airflow's DAG runs could not be read for the page: %s", exc)
        return {}
    candidates: dict[str, list[tuple[int, datetime, Any]]] = defaultdict(list)
    floor = datetime.min.replace(tzinfo=since.tzinfo)
    for pk, task_id, value in xcoms:
        key = report.xcom_run_key(task_id, value)
        if key is not None and key in wanted:
            row = by_pk[pk]
            candidates[key].append((2, row[5] or floor, row))
    for row in dag_runs:
        key = report.dag_run_key(row[1], row[2], row[3], row[4])
        if key is not None and key in wanted:
            candidates[key].append((1, row[5] or floor, row))
    found = {}
    for key, rows in candidates.items():
        _, _, row = max(rows, key=lambda c: (c[0], c[1]))
        found[key] = {"dag_id": row[1], "run_id": row[2], "state": str(row[6] or "")}
    return found


def run_links(runs: list[dict[str, Any]], known: dict[str, dict[str, Any]],
              root: str) -> None:
    """Give each run its DAG, its Airflow run and the link to it (in place)."""
    from ingest import report

    for r in runs:
        dag_run = known.get(r["run_id"])
        if dag_run:
            dag_id, airflow_id = dag_run["dag_id"], dag_run["run_id"]
        else:
            dag_id, airflow_id = report.airflow_origin(r["run_id"], r["trigger"])
        r["dag_id"], r["airflow_run_id"] = dag_id, airflow_id
        r["airflow_state"] = dag_run["state"] if dag_run else None
        if dag_id and airflow_id:
            r["href"] = f"{root}/dags/{quote(dag_id, safe='')}/runs/{quote(airflow_id, safe='')}"
        elif dag_id:
            r["href"] = f"{root}/dags/{quote(dag_id, safe='')}/runs"
        else:
            r["href"] = None
        if dag_id:
            r["origin"] = f"DAG {dag_id}"
        elif r["trigger"] == "airflow":
            r["origin"] = "Airflow, DAG unknown"
        else:
            r["origin"] = report.TRIGGER_LABELS.get(r["trigger"], r["trigger"])


def page_data(dsn: str, *, airflow: bool = True) -> dict[str, Any]:
    """Everything the page shows; ``airflow``: look the runs up in Airflow's database."""
    from ingest import db, report

    with db.connect(dsn, autocommit=True) as conn:
        runs = report.recent_runs(conn, RUNS_SHOWN)
        data: dict[str, Any] = {
            "sources": report.sources(conn),
            "per_day": report.items_per_day(conn, 28),
            "rejections_by_day": report.rejections_by_day(conn, REJECTION_DAYS),
            "reasons": report.rejection_reasons(conn, REJECTION_DAYS),
            "page_types": report.rejected_page_types(conn, REJECTION_DAYS),
            "runs": runs,
            "gates": report.quality_gates(conn, [r["run_id"] for r in runs]),
        }
    run_links(runs, airflow_runs(runs) if airflow else {}, ui_root())
    data["kinds"] = source_kinds()
    data["today"] = date.today()
    return data


#: A newspaper, drawn twice: a light halo under the line, so that it reads both on the
#: navigation's pale background and on its dark "current page" button (an <img> icon
#: cannot follow the button's text colour as the built-in icons do).
_ICON_PATHS = ('<path d="M4 4h13v15a1 1 0 0 0 1 1H5a1 1 0 0 1-1-1z"/>'
               '<path d="M17 8h3v11a1 1 0 0 1-2 0"/><path d="M7 8h7M7 12h7M7 16h4"/>')
_ICON = ('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" '
         'stroke-linecap="round" stroke-linejoin="round">'
         f'<g stroke="{{halo}}" stroke-width="4">{_ICON_PATHS}</g>'
         f'<g stroke="{{line}}" stroke-width="2">{_ICON_PATHS}</g></svg>')


def create_app() -> Any:
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi import Depends, FastAPI, HTTPException
    from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

    app = FastAPI(title="news-ingest", dependencies=[Depends(get_user)])

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page() -> HTMLResponse:
        try:
            data = page_data(ui_dsn())
        except Exception as exc:  # the page says what is wrong instead of a bare 500
            return HTMLResponse(render_error(exc), status_code=503)
        latest = (docs_dir() / "latest.html").is_file()
        return HTMLResponse(render_page(data, latest))

    @app.get("/icon.svg", include_in_schema=False)
    def icon(dark: bool = False) -> Response:
        line, halo = ("#e2e8f0", "#1a202c") if dark else ("#2d3748", "#ffffff")
        return Response(_ICON.format(line=line, halo=halo), media_type="image/svg+xml")

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


# --- rendering -------------------------------------------------------------------

#: aborted: the run's process died; a later pass closed it (news.runs.message says when).
_STATUS_CLASS = {"success": "ok", "failed": "bad", "aborted": "bad", "running": "muted"}
_GATE_CLASS = {"passed": "ok", "failed": "bad", "skipped": "muted"}


def _when(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC") if value else "never"


def _short(value: datetime | None) -> str:
    return value.strftime("%m-%d %H:%M") if value else "?"


_STYLE = """
body{font-family:system-ui,sans-serif;margin:1.5rem;color:#1a202c}
h1{font-size:1.5rem;margin:0 0 1rem} h2{font-size:1.1rem;margin:1.75rem 0 .5rem}
table{border-collapse:collapse;font-size:.9rem} td,th{padding:.3rem .6rem;text-align:left;
border-bottom:1px solid #e2e8f0;vertical-align:top} th{background:#f7fafc}
.bad{color:#c53030;font-weight:600} .ok{color:#2f855a;font-weight:600}
.num{text-align:right} .muted{color:#718096} a{color:#2b6cb0} .small{font-size:.8rem}
#attention li{margin:.2rem 0} td.gate{text-align:center}
.legend span{display:inline-block;margin-right:1rem;font-size:.85rem}
.legend i{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}
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


def _rejections_chart(rows: list[dict[str, Any]], today: date, days: int) -> str:
    """Rejections per day as stacked columns, one colour per stage; each segment's
    tooltip lists its reasons."""
    width, height, pad, left = 760, 200, 24, 36
    per: dict[tuple[date, str], list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        per[(row["day"], row["stage"])].append(row)
    day_list = [today - timedelta(days=days - 1 - i) for i in range(days)]
    totals = {d: sum(r["rejections"] for s in STAGES for r in per.get((d, s), []))
              for d in day_list}
    top = max([*totals.values(), 1])
    slot = (width - left - pad) / days
    scale = (height - 2 * pad) / top
    parts = [f'<text x="0" y="{pad + 4}" font-size="10">{top}</text>',
             f'<text x="0" y="{height - pad}" font-size="10">0</text>',
             f'<line x1="{left - 4}" x2="{width - pad}" y1="{height - pad}" '
             f'y2="{height - pad}" stroke="#a0aec0"/>']
    for i, d in enumerate(day_list):
        x, y = left + i * slot, float(height - pad)
        for stage in STAGES:
            reasons = per.get((d, stage), [])
            count = sum(r["rejections"] for r in reasons)
            if not count:
                continue
            h = count * scale
            y -= h
            detail = ", ".join(f"{r['reason']} {r['rejections']}" for r in reasons)
            parts.append(
                f'<rect class="seg" data-day="{d:%Y-%m-%d}" data-stage="{stage}" '
                f'data-count="{count}" x="{x:.1f}" y="{y:.1f}" width="{slot * 0.75:.1f}" '
                f'height="{h:.1f}" fill="{STAGE_COLOURS[stage]}"><title>{d:%Y-%m-%d} '
                f"{stage}: {count} ({_esc(detail)})</title></rect>")
        if totals[d]:
            parts.append(f'<text x="{x:.1f}" y="{y - 3:.1f}" font-size="10">{totals[d]}</text>')
        if i % 2 == (days - 1) % 2:
            parts.append(f'<text x="{x:.1f}" y="{height - 8}" font-size="10">{d:%m-%d}</text>')
    legend = "".join(f'<span><i style="background:{STAGE_COLOURS[s]}"></i>{s}</span>'
                     for s in STAGES)
    return (f'<svg id="rejections-chart" width="{width}" height="{height}" role="img" '
            f'aria-label="rejections per day by stage">{"".join(parts)}</svg>'
            f'<div class="legend">{legend}</div>')


def _hbar(value: int, top: int, colour: str) -> str:
    width = 160 * value / max(top, 1)
    return (f'<svg width="164" height="12" role="img" aria-label="{value}">'
            f'<rect class="bar" x="0" y="1" width="{width:.1f}" height="10" fill="{colour}"/>'
            "</svg>")


def _run_cell(r: dict[str, Any]) -> str:
    """A run named by its DAG (or its kind) and linked to its Airflow DAG run."""
    name = _esc(r["airflow_run_id"] or r["run_id"])
    if r.get("href") and r["airflow_run_id"]:
        title = f"open {r['dag_id']} / {r['airflow_run_id']} in Airflow"
        link = (f'<a class="airflow-run" data-airflow target="_top" href="{_esc(r["href"])}" '
                f'title="{_esc(title)}">{name}</a>')
    elif r.get("href"):
        link = (f'{name} <a class="airflow-dag" data-airflow target="_top" '
                f'href="{_esc(r["href"])}">'
                "(the DAG's runs)</a>")
    else:
        link = name
    notes = []
    if r["airflow_run_id"] and r["airflow_run_id"] != r["run_id"]:
        notes.append(f"warehouse run {_esc(r['run_id'])}")
    state = r.get("airflow_state")
    if state and state != r["status"]:
        notes.append(f"Airflow: {_esc(state)}")
    more = f'<div class="muted small">{"; ".join(notes)}</div>' if notes else ""
    return f'<td><div class="origin">{_esc(r["origin"])}</div>{link}{more}</td>'


def _gate_why(g: dict[str, Any]) -> str:
    if g["gate"] == "failed":
        message = g["gate_message"] or "failed"
        missing = [f"{k}={v}" for k, v in sorted(g["reasons"].items(), key=lambda kv: -kv[1])
                   if f"{k}={v}" not in message]
        return message + (f" (rejected: {', '.join(missing)})" if missing else "")
    if g["gate"] == "passed":
        return f"{g['rows_passed']} of {g['rows_validated']} records passed validation"
    if not g["judged"]:
        return "skipped: no record reached validation in this run"
    return f"skipped: {g['rows_validated']} record(s) validated, too few to judge"


def _gates(data: dict[str, Any]) -> tuple[str, str]:
    """The gate matrix (sources x recent runs) and the list of failed gates."""
    runs = data["runs"]
    by_cell = {(g["run_id"], g["source"]): g for g in data["gates"]}
    names = sorted({g["source"] for g in data["gates"]})
    if not names:
        return '<p class="muted">no run has dealt with a source yet</p>', ""
    head = "".join(
        f'<th class="small" title="{_esc(r["airflow_run_id"] or r["run_id"])}">'
        + (f'<a data-airflow target="_top" href="{_esc(r["href"])}">' if r.get("href") else "")
        + f'{_esc(r["dag_id"] or r["origin"])}<br>{_short(r["started_at"])}'
        + ("</a>" if r.get("href") else "") + "</th>" for r in runs)
    rows = []
    for name in names:
        cells = []
        for r in runs:
            g = by_cell.get((r["run_id"], name))
            if g is None:
                cells.append('<td class="gate muted">&middot;</td>')
                continue
            cells.append(
                f'<td class="gate {_GATE_CLASS[g["gate"]]}" data-gate="{g["gate"]}" '
                f'data-run="{_esc(r["run_id"])}" data-source="{_esc(name)}" '
                f'title="{_esc(_gate_why(g))}">{g["gate"]}</td>')
        rows.append(f'<tr class="gate-row" data-source="{_esc(name)}"><td>{_esc(name)}</td>'
                    f'{"".join(cells)}</tr>')
    matrix = (f'<table id="gates"><tr><th>source \\ run</th>{head}</tr>{"".join(rows)}</table>'
              '<p class="muted small">passed: validation held; failed: too many records '
              "rejected, or silent for too many runs; skipped: too few records to judge "
              "(hover a cell for the figures).</p>")
    run_by_id = {r["run_id"]: r for r in runs}
    failures = "".join(
        f'<li class="gate-failure" data-run="{_esc(g["run_id"])}" '
        f'data-source="{_esc(g["source"])}"><b>{_esc(g["source"])}</b> in '
        f'{_run_name(run_by_id[g["run_id"]])}: {_esc(_gate_why(g))}</li>'
        for g in data["gates"] if g["gate"] == "failed")
    return matrix, (f'<ul id="gate-failures">{failures}</ul>' if failures else "")


def _run_name(r: dict[str, Any]) -> str:
    name = _esc(f"{r['origin']} {r['airflow_run_id'] or r['run_id']}")
    if r.get("href"):
        return f'<a data-airflow target="_top" href="{_esc(r["href"])}">{name}</a>'
    return name


def _attention(data: dict[str, Any]) -> str:
    items = []
    for s in data["sources"]:
        if s["failing"]:
            items.append(
                f'<li class="bad">source <b>{_esc(s["source"])}</b> is failing '
                f'({s["consecutive_failures"]} attempt(s), {_esc(s["last_status"] or "")}): '
                f'{_esc((s["last_error"] or "")[:200])}</li>')
    run_by_id = {r["run_id"]: r for r in data["runs"]}
    for s in data["sources"]:
        if s["last_gate"] == "failed":
            run = run_by_id.get(s["last_run_id"])
            where = _run_name(run) if run else f"run {_esc(s['last_run_id'])}"
            gate = next((g for g in data["gates"] if g["run_id"] == s["last_run_id"]
                         and g["source"] == s["source"]), None)
            why = _gate_why(gate) if gate else (s["last_gate_message"] or "")
            items.append(f'<li class="bad">quality gate failed for <b>{_esc(s["source"])}</b> '
                         f"in its last run, {where}: {_esc(why)}</li>")
    for r in data["runs"]:
        if r["status"] in ("failed", "aborted"):
            message = (r["message"] or "").removeprefix(f"{r['status']}: ")
            items.append(f'<li class="bad">{_run_name(r)} {r["status"]}: '
                         f'{_esc(message[:200])}</li>')
    if not items:
        return '<ul id="attention"><li class="ok">nothing needs attention</li></ul>'
    return f'<ul id="attention">{"".join(items)}</ul>'


def _source_row(s: dict[str, Any], kinds: dict[str, str]) -> str:
    state = ('<span class="bad">failing</span>' if s["failing"]
             else '<span class="ok">ok</span>')
    error = (f'<div class="muted">{_esc(s["last_error"] or "")[:160]}</div>'
             if s["failing"] else "")
    kind = f'<td class="kind">{_esc(kinds.get(s["source"], "?"))}</td>' if kinds else ""
    linked = (f'{s["linked"]} <span class="muted small">under their publishers</span>'
              if s["linked"] else "0")
    first_elsewhere = (' <div class="muted small">its articles came first through other '
                       "sources</div>" if s["articles"] and not s["brought_in"] else "")
    if s["last_run_id"] is None:
        last = '<span class="muted">no run yet</span>'
    else:
        last = (f'{s["last_entries"]} listed, {s["last_new"]} new, {s["last_seen_before"]} '
                f'known, {s["last_rejections"]} rejected; gate '
                f'<span class="{_GATE_CLASS.get(s["last_gate"], "muted")}">'
                f'{_esc(s["last_gate"])}</span>')
    return (
        f'<tr class="source" data-source="{_esc(s["source"])}"><td>{_esc(s["source"])}</td>'
        f"{kind}<td>{state}{error}</td><td>{_when(s['last_success_at'])}</td>"
        f'<td class="last-new">{_when(s["last_new_at"])}{first_elsewhere}</td>'
        f'<td class="num articles">{s["articles"]}</td><td class="num linked">{linked}</td>'
        f'<td class="small">{last}</td></tr>'
    )


#: Links to the Airflow UI (``a[data-airflow]``). The UI shows this page in an iframe
#: sandboxed without ``allow-top-navigation`` (Airflow 3.3: "allow-scripts
#: allow-same-origin allow-forms allow-downloads"), so a ``target="_top"`` link is
#: refused there. Same origin, the page may use the UI's own history instead: push
#: the route and tell the UI's router (a popstate), as its back button would. Opened
#: on its own (``/news/``), the link works as it is.
_LINKS_SCRIPT = """
document.addEventListener("click", function (event) {
  var link = event.target.closest ? event.target.closest("a[data-airflow]") : null;
  if (!link || window.top === window || event.button !== 0 || event.ctrlKey ||
      event.metaKey || event.shiftKey) return;
  try {
    var ui = window.top, state = ui.history.state || {};
    ui.history.pushState({usr: null, key: Math.random().toString(36).slice(2, 10),
                          idx: (state.idx || 0) + 1}, "", link.getAttribute("href"));
    ui.dispatchEvent(new PopStateEvent("popstate", {state: ui.history.state}));
    event.preventDefault();
  } catch (error) {}  // not the UI's origin: the link does what it may
});
"""


def render_page(data: dict[str, Any], latest_docs: bool) -> str:
    kinds = data.get("kinds") or {}
    rows = "".join(_source_row(s, kinds) for s in data["sources"])
    top_reason = max([r["rejections"] for r in data["reasons"]] + [1])
    reasons = "".join(
        f'<tr class="reason" data-stage="{_esc(r["stage"])}" data-reason="{_esc(r["reason"])}">'
        f'<td>{_esc(r["stage"])}</td><td>{_esc(r["reason"])}</td>'
        f'<td class="num">{r["rejections"]}</td><td class="num">{r["sources"]}</td>'
        f'<td>{_hbar(r["rejections"], top_reason, STAGE_COLOURS.get(r["stage"], "#718096"))}'
        "</td></tr>"
        for r in data["reasons"]
    ) or f'<tr><td colspan="5" class="muted">no rejections in {REJECTION_DAYS} days</td></tr>'
    top_type = max([r["pages"] for r in data.get("page_types", [])] + [1])
    page_types = "".join(
        f'<tr class="page-type" data-type="{_esc(r["page_type"])}"><td>{_esc(r["page_type"])}'
        f'</td><td class="num">{r["pages"]}</td><td class="num">{r["sources"]}</td>'
        f'<td>{_hbar(r["pages"], top_type, "#718096")}</td></tr>'
        for r in data.get("page_types", [])
    ) or f'<tr><td colspan="4" class="muted">none in {REJECTION_DAYS} days</td></tr>'
    failed_gates: dict[str, int] = defaultdict(int)
    for g in data["gates"]:
        failed_gates[g["run_id"]] += g["gate"] == "failed"
    runs = "".join(
        f'<tr class="run" data-status="{_esc(r["status"])}" data-run-id="{_esc(r["run_id"])}"'
        f' data-dag="{_esc(r["dag_id"] or "")}" data-trigger="{_esc(r["trigger"])}">'
        f"{_run_cell(r)}<td>{_when(r['started_at'])}</td>"
        f'<td class="{_STATUS_CLASS.get(r["status"], "muted")}">{_esc(r["status"])}</td>'
        f'<td class="num">{r["sources"]}</td><td class="num">{r["articles_new"]}</td>'
        f'<td class="num">{r["rejections"]}</td>'
        f'<td class="num {"bad" if failed_gates[r["run_id"]] else ""}">'
        f'{failed_gates[r["run_id"]]}</td>'
        f'<td class="muted">{_esc((r["message"] or "")[:200])}</td></tr>'
        for r in data["runs"]
    )
    gates, gate_failures = _gates(data)
    docs = ('<a id="data-docs" href="docs/latest.html">latest Data Docs</a> '
            '(<a href="docs/index.html">all runs</a>)' if latest_docs
            else '<span class="muted">no Data Docs yet: they are built by the first pass '
                 "that validates anything</span>")
    failing = sum(1 for s in data["sources"] if s["failing"])
    kind_head = "<th>kind</th>" if kinds else ""
    chart = _rejections_chart(data.get("rejections_by_day", []),
                              data.get("today") or date.today(), REJECTION_DAYS)
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8"><title>News ingest</title>
<style>{_STYLE}</style><script>{_LINKS_SCRIPT}</script></head><body>
<h1>News ingest</h1>
<p>{len(data["sources"])} sources,
<span class="{"bad" if failing else "ok"}">{failing} failing</span>. Validation: {docs}.</p>
<h2>Needs attention</h2>{_attention(data)}
<h2>Sources</h2>
<table id="freshness"><tr><th>source</th>{kind_head}<th>state</th><th>last success</th>
<th title="when the latest article this source was first to bring in was loaded">last new
article</th><th title="stored under this source">articles</th>
<th title="articles stored under another source (their publisher) that this source's links
led to">via its links</th><th>last run</th></tr>{rows}</table>
<h2>Quality gates (last {len(data["runs"])} runs)</h2>{gates}{gate_failures}
<h2>Rejections per day by stage (last {REJECTION_DAYS} days)</h2>{chart}
<h2>Rejections by reason (last {REJECTION_DAYS} days)</h2>
<table id="reasons"><tr><th>stage</th><th>reason</th><th>rejections</th><th>sources</th>
<th></th></tr>{reasons}</table>
<h2>Kept out as not news articles, by page type (last {REJECTION_DAYS} days)</h2>
<table id="page-types"><tr><th>page type</th><th>pages</th><th>sources</th><th></th></tr>
{page_types}</table>
<h2>Articles per day (last 4 weeks)</h2>{_chart(data["per_day"])}
<h2>Recent runs</h2>
<table id="runs"><tr><th>run</th><th>started</th><th>status</th><th>sources</th>
<th>new</th><th>rejected</th><th>gates failed</th><th>message</th></tr>{runs}</table>
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
            "name": MENU_LABEL,
            "href": "/news/",
            "url_route": "news-ingest",
            "nav_top_level": True,
            "destination": "nav",
            "icon": "/news/icon.svg",
            "icon_dark_mode": "/news/icon.svg?dark=true",
        },
        {
            "name": "Data Docs",
            "href": "/news/docs/index.html",
            "url_route": "news-data-docs",
            "category": "browse",
            "destination": "nav",
        },
    ]
