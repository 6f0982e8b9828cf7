"""
### news_import_warc

Imports local web archives (WARC and ARC files, gzipped or not): each HTML
response record (status 200) becomes a page, as if fetched at its `WARC-Date`,
and goes the way of every fetched page (extraction, page type, validation,
de-duplication, load). Nothing is downloaded.

Params: `files` (a path or glob, or a list of them; `**` allowed), `source` (import
as this source: a `warc` source's own files when `files` is empty), `since` and
`until` (YYYY-MM-DD: only records whose `WARC-Date` falls on those days), `config`
(sources file; without one and without `source`, each file is imported as
`warc-<its name>` with the built-in settings).

**files** expands the patterns; **import_file** is mapped over the files, each
task labelled with its file's name and run in the pool `$NEWS_INGEST_IMPORT_POOL`
(default `default_pool`), each a run of its own in `news.runs`. An import is
resumable (`news.warc_files`): a retried task goes on after the last batch it
stored, a file imported in full is not read again, and a page whose URL is stored
is not extracted again. Damaged parts of a file are rejections (`not_warc`,
`warc_corrupt`, `warc_truncated`), not task failures. Emits `news_articles`.
"""

from __future__ import annotations

import datetime as dt
import os
from typing import Any

from airflow.sdk import Param, dag, get_current_context, task
from news_ingest_airflow import ARTICLES, record_failure, warehouse_dsn

IMPORT_POOL = os.environ.get("NEWS_INGEST_IMPORT_POOL", "default_pool")


def _config(params: Any) -> Any:
    """The sources file; none needed for files imported under their own name."""
    from ingest import sources
    from ingest.errors import ConfigError

    try:
        return sources.load(params.get("config"))[1]
    except ConfigError:
        if params.get("config") or params.get("source"):
            raise
        return None


@dag(
    schedule=None,
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
    catchup=False,
    doc_md=__doc__,
    tags=["news", "maintenance", "archives"],
    params={
        "files": Param(None, type=["null", "string", "array"],
                       description="WARC/ARC paths or globs (local files only)"),
        "source": Param(None, type=["null", "string"],
                        description="import as this source (a warc source: its own files)"),
        "since": Param(None, type=["null", "string"], format="date",
                       description="first WARC-Date day, YYYY-MM-DD"),
        "until": Param(None, type=["null", "string"], format="date",
                       description="last WARC-Date day, YYYY-MM-DD"),
        "config": Param(None, type=["null", "string"], description="sources file path"),
    },
    default_args={
        "retries": 2,  # an import goes on where it stopped
        "retry_delay": dt.timedelta(minutes=1),
        "on_failure_callback": record_failure,
    },
)
def news_import_warc() -> None:
    @task(pool="default_pool")
    def files(params: Any = None) -> list[str]:
        from ingest import archives

        patterns = params.get("files")
        patterns = [patterns] if isinstance(patterns, str) else list(patterns or [])
        if not patterns:
            config = _config(params) if params.get("source") else None
            source = config.source(params["source"]) if config is not None else None
            if source is None or source.warc is None:
                raise ValueError("news_import_warc needs the param files (paths or globs), "
                                 "or source naming a warc source")
            patterns = source.warc
        found = archives.expand(patterns)
        if not found:
            raise ValueError(f"no file matches {patterns}")
        return [str(path) for path in found]

    @task(map_index_template="{{ file_name }}", pool=IMPORT_POOL, outlets=[ARTICLES],
          execution_timeout=dt.timedelta(hours=12))
    def import_file(path: str, params: Any = None, run_id: Any = None,
                    outlet_events: Any = None) -> dict[str, Any]:
        from pathlib import Path

        from airflow.sdk.exceptions import AirflowFailException

        from ingest.errors import QualityGateError
        from ingest.import_warc import import_warc

        context: Any = get_current_context()
        context["file_name"] = Path(path).name[:200]
        since, until = params.get("since"), params.get("until")
        try:
            result = import_warc(
                _config(params), warehouse_dsn(), [path], source=params.get("source"),
                since=dt.date.fromisoformat(since) if since else None,
                until=dt.date.fromisoformat(until) if until else None,
                run_id=f"{run_id}-{context['ti'].map_index}", trigger="airflow")
        except QualityGateError as exc:  # good rows are loaded; retrying would not help
            raise AirflowFailException(str(exc)) from exc
        state = next(iter(result.files), None)
        summary = {
            "run_id": result.run_id, "source": result.source, "file": path,
            "articles_new": result.counts.articles_new,
            "rejections": result.counts.reasons,
            "records": state.records if state else 0, "pages": state.pages if state else 0,
            "skipped": state.skipped if state else {}, "done": bool(state and state.done),
        }
        outlet_events[ARTICLES].extra = summary
        return summary

    import_file.expand(path=files())


news_import_warc()
