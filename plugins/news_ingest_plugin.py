"""Airflow plugin: news-ingest's pages inside the Airflow UI.

A FastAPI app mounted at ``/news`` on the API server, every route behind
Airflow's own authentication (the UI's session cookie or a bearer token):

* ``/news/docs/...``: the Great Expectations Data Docs of the validation runs
  (``$NEWS_INGEST_HOME/quality/docs``), shown in the UI as "Data Docs".
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from airflow.plugins_manager import AirflowPlugin


def docs_dir() -> Path:
    from ingest.config import Environment

    return (Environment().home / "quality" / "docs").resolve()


def create_app() -> Any:
    from airflow.api_fastapi.core_api.security import get_user
    from fastapi import Depends, FastAPI, HTTPException
    from fastapi.responses import FileResponse, RedirectResponse

    app = FastAPI(title="news-ingest", dependencies=[Depends(get_user)])

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


class NewsIngestPlugin(AirflowPlugin):
    name = "news_ingest"
    fastapi_apps = [{"app": create_app(), "url_prefix": "/news", "name": "news-ingest"}]
    external_views = [
        {
            "name": "Data Docs",
            "href": "/news/docs/index.html",
            "url_route": "news-data-docs",
            "category": "browse",
            "destination": "nav",
        },
    ]
