"""Validate batches of records with a Great Expectations Core 1.x suite.

The suite is code (:func:`build_suite`), its thresholds are data
(``rules/quality.yml``, per-source ``min_words`` and ``language``). Failing rows
do not stop good rows: each expectation's ``unexpected_index_list`` names the
rows it rejects, and each rejected row becomes a :class:`Rejection` with
``stage='validate'``, ``reason`` = the expectation's short name (its
``meta.reason``) and ``detail`` = the offending values. The raw record travels
in the rejection's payload so that it can be validated again.

Great Expectations is imported inside the functions: it costs seconds to
import and DAG files must parse fast.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ingest.config import Settings, SourceConfig
from ingest.datadocs import make_offline
from ingest.models import Article, Rejection
from ingest.resolve import site

if TYPE_CHECKING:
    import great_expectations as gx
    import pandas as pd

SUITE_NAME = "news_articles"
DOCS_SITE = "news_ingest"
_MOJIBAKE = re.compile(
    "\ufffd"  # replacement character
    "|[ÃÂ][\u0080-\u00bf]"  # UTF-8 read as Latin-1 / cp1252: Ã©, Â
    "|â€[\u0080-\u00bf™œ\u009d¦“”˜]?"  # â€™ â€œ
    # CJK bytes read as Latin-1: runs of Latin-1 supplement characters, but not of
    # no-break spaces (pages indent with them)
    "|[\u0080-\u009f\u00a1-\u00ff]{4,}"
)


@dataclass(frozen=True, slots=True)
class SourceRules:
    min_words: int
    languages: tuple[str, ...] | None = None
    page_types: tuple[str, ...] | None = ("article",)  # None: any kind of page


def rules_for(source: SourceConfig, settings: Settings) -> SourceRules:
    min_words = source.min_words if source.min_words is not None else settings.min_words
    languages = tuple(lang.lower() for lang in source.language) if source.language else None
    page_types = None if source.expect == "any" else tuple(sorted(source.expect))
    return SourceRules(min_words=min_words, languages=languages, page_types=page_types)


@cache
def quality_rules() -> dict[str, Any]:
    text = resources.files("ingest").joinpath("rules/quality.yml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def mojibake_ratio(text: str, sample: int = 5000) -> float:
    """Share of characters inside mis-decoded sequences (of the first ``sample``)."""
    text = text[:sample]
    if not text or text.isascii():
        return 0.0
    bad = 0
    for match in _MOJIBAKE.finditer(text):
        found = match.group(0)
        if len(found) >= 4 and len(set(found)) == 1:
            continue  # one character repeated, "····" or "¯¯¯¯": a divider, not mojibake
        bad += len(found)
    return bad / len(text)


@cache
def _stub_keywords() -> tuple[str, ...]:
    return tuple(k.lower() for k in quality_rules()["stub_keywords"])


def stub_candidate(text: str) -> str:
    """The head of a text worth matching against the stub patterns, or "" when none of
    their keywords occurs in it (most texts: the regexes then cost nothing)."""
    head = text[:600]
    lowered = head.lower()
    return head if any(k in lowered for k in _stub_keywords()) else ""


def warm_up() -> None:
    """Import Great Expectations ahead of the first batch (it takes seconds)."""
    import great_expectations  # noqa: F401
    import pandas  # noqa: F401


def build_suite(rules: dict[str, SourceRules], now: datetime) -> gx.ExpectationSuite:
    """The suite for one batch. ``now`` bounds publication dates (plus tolerance)."""
    import great_expectations as gx
    import great_expectations.expectations as gxe

    q = quality_rules()
    suite = gx.ExpectationSuite(name=SUITE_NAME)

    def add(expectation: Any, reason: str, note: str) -> None:
        expectation.meta = {"reason": reason, "notes": note}
        suite.add_expectation(expectation)

    for column in ("url", "source", "title", "text"):
        add(gxe.ExpectColumnValuesToNotBeNull(column=column), f"{column}_missing",
            f"every record has a {column}")
    add(gxe.ExpectColumnValuesToMatchRegex(column="url", regex=r"^https?://[^\s/?#]+"),
        "url_not_http", "url is an absolute http(s) URL")
    lo, hi = q["title_length"]
    add(gxe.ExpectColumnValueLengthsToBeBetween(column="title", min_value=lo, max_value=hi),
        "title_length", f"title has {lo} to {hi} characters")
    earliest = datetime.fromisoformat(q["earliest_date"]).replace(tzinfo=UTC)
    latest = now + timedelta(hours=q["future_tolerance_hours"])
    add(gxe.ExpectColumnValuesToBeBetween(
            column="published_at", min_value=earliest, max_value=latest),
        "published_out_of_range",
        f"published_at is after {earliest:%Y-%m-%d} and at most "
        f"{q['future_tolerance_hours']} h in the future")
    # Per-source rules: one expectation per distinct value, with a row condition naming
    # the sources that share it. Not one per source: each expectation costs every batch
    # about 10 ms, whichever sources it holds (100 sources that each named a language
    # took a batch from 0.27 s to 3.7 s).
    for min_words, names, sources in _shared(rules, lambda r: r.min_words):
        add(gxe.ExpectColumnValuesToBeBetween(
                column="word_count", min_value=min_words, row_condition=sources,
                condition_parser="pandas"),
            "too_short", f"text has at least {min_words} words ({names})")
    for languages, names, sources in _shared(rules, lambda r: r.languages or None):
        add(gxe.ExpectColumnValuesToBeInSet(
                column="language", value_set=list(languages), row_condition=sources,
                condition_parser="pandas"),
            "language_unexpected", f"the text is in {', '.join(languages)} ({names})")
    for kinds, names, sources in _shared(rules, lambda r: r.page_types):
        add(gxe.ExpectColumnValuesToBeInSet(
                column="page_type", value_set=list(kinds), row_condition=sources,
                condition_parser="pandas"),
            "not_an_article", f"the page is {' or '.join(kinds)} ({names})")
    add(gxe.ExpectColumnValuesToBeUnique(column="url"), "duplicate_url",
        "url is unique within the batch")
    add(gxe.ExpectColumnValuesToBeUnique(column="content_key"), "duplicate_text",
        "the text is unique within the batch on its site (a re-post elsewhere is not a "
        "duplicate)")
    add(gxe.ExpectColumnValuesToBeBetween(
            column="mojibake_ratio", max_value=q["max_mojibake_ratio"]),
        "mojibake", "few characters look mis-decoded")
    patterns = [f"(?i){p['pattern']}" for p in q["stub_patterns"]]
    add(gxe.ExpectColumnValuesToNotMatchRegexList(column="text_head", regex_list=patterns),
        "stub_page", "text is not a cookie wall, paywall, error page or JavaScript notice")
    return suite


def _shared(
    rules: dict[str, SourceRules], rule: Callable[[SourceRules], Any]
) -> list[tuple[Any, str, str]]:
    """Each distinct value of a per-source rule (None: the source has none), with the
    names of the sources that share it and the row condition that selects them."""
    by_value: dict[Any, list[str]] = defaultdict(list)
    for name, source_rules in sorted(rules.items()):
        if (value := rule(source_rules)) is not None:
            by_value[value].append(name)
    return [(value, ", ".join(names), f"source in {names!r}")
            for value, names in sorted(by_value.items())]


def to_frame(articles: Sequence[Article]) -> pd.DataFrame:
    import pandas as pd

    frame = pd.DataFrame(
        {
            "url": [a.url for a in articles],
            "source": [a.source for a in articles],
            "title": [a.title for a in articles],
            "text": [a.text or None for a in articles],
            "text_head": [stub_candidate(a.text or "") for a in articles],
            "word_count": [a.word_count for a in articles],
            "published_at": pd.to_datetime([a.published_at for a in articles], utc=True),
            "language": [a.language for a in articles],
            "page_type": [a.page_type for a in articles],
            "content_key": [f"{site(a.url)} {a.content_hash}" for a in articles],
            "mojibake_ratio": [mojibake_ratio(a.text or "") for a in articles],
        }
    )
    return frame.reset_index(drop=True)


def validate_records(
    articles: Sequence[Article],
    rules: dict[str, SourceRules],
    *,
    now: datetime | None = None,
    run_id: str | None = None,
    quality_dir: Path | None = None,
) -> tuple[list[Article], list[Rejection]]:
    """Split a batch into valid records and rejections (one per failing row and reason).

    With ``quality_dir``, the validation result is kept there (``results/``), under
    the run's name, for :func:`build_docs`.
    """
    if not articles:
        return [], []
    import great_expectations as gx
    from great_expectations.core.run_identifier import RunIdentifier

    now = now or datetime.now(UTC)
    context = _context(quality_dir)
    suite = context.suites.add(build_suite(rules, now))
    batch = (
        context.data_sources.add_pandas("records")
        .add_dataframe_asset("articles")
        .add_batch_definition_whole_dataframe("batch")
    )
    definition = context.validation_definitions.add(
        gx.ValidationDefinition(name="articles", data=batch, suite=suite)
    )
    frame = to_frame(articles)
    if quality_dir is None:
        result = definition.run(batch_parameters={"dataframe": frame}, result_format="COMPLETE")
    else:
        checkpoint = context.checkpoints.add(gx.Checkpoint(
            name="articles", validation_definitions=[definition], actions=[],
            result_format={"result_format": "COMPLETE"},
        ))
        outcome = checkpoint.run(
            batch_parameters={"dataframe": frame},
            run_id=RunIdentifier(run_name=run_folder(run_id or "adhoc"), run_time=now),
        )
        result = next(iter(outcome.run_results.values()))
    failures = failures_by_row(result)
    for row, found in failures.items():
        if "not_an_article" in found:  # the kind and the signals that tell it
            found["not_an_article"] = articles[row].page_type_evidence or articles[row].page_type
    valid = [a for i, a in enumerate(articles) if i not in failures]
    rejections = [
        Rejection(
            source=articles[i].source,
            stage="validate",
            reason=reason,
            detail=detail,
            url=articles[i].url,
            payload=articles[i].as_payload(),
        )
        for i, found in sorted(failures.items())
        for reason, detail in found.items()
    ]
    return valid, rejections


def run_folder(run_id: str) -> str:
    """A run id as a folder name (Airflow's contain ':' and '+')."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id).strip("_") or "run"


def build_docs(quality_dir: Path, run_id: str | None = None, keep_runs: int = 100) -> Path:
    """Build the Data Docs site under ``quality_dir/docs`` from the stored results,
    keeping the newest ``keep_runs`` runs; write ``latest.html`` for ``run_id``.
    Only results without a page yet are rendered (each run adds its own; rendering
    every kept run again would cost each run more than its validation), then the
    index. Returns the site's index.html. Safe to call from parallel tasks (file lock)."""
    import fcntl

    quality_dir.mkdir(parents=True, exist_ok=True)
    docs = quality_dir / "docs"
    with (quality_dir / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        _prune(quality_dir, keep_runs)
        context = _context(quality_dir)
        unrendered = [
            key for key in context.validation_results_store.list_keys()
            if not _page(docs, key).exists()
        ]
        context.build_data_docs(resource_identifiers=unrendered or None)
        if run_id is not None:
            _write_latest(docs, run_folder(run_id))
        make_offline(docs)  # the CDN files the pages load -> vendored copies
    return docs / "index.html"


def _page(docs: Path, key: Any) -> Path:
    """Where the site keeps a validation result's page: validations/suite/run/time/batch.html."""
    *folders, batch = map(str, key.to_tuple())
    return docs.joinpath("validations", *folders, f"{batch}.html")


def _prune(quality_dir: Path, keep_runs: int) -> None:
    import shutil

    results = quality_dir / "results" / SUITE_NAME
    if not results.is_dir():
        return
    runs = sorted(results.iterdir(), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in runs[keep_runs:]:
        shutil.rmtree(old, ignore_errors=True)
        shutil.rmtree(quality_dir / "docs" / "validations" / SUITE_NAME / old.name,
                      ignore_errors=True)


def _write_latest(docs: Path, folder: str) -> None:
    import html

    pages = sorted((docs / "validations" / SUITE_NAME / folder).glob("*/*.html"))
    links = "\n".join(
        f'<li><a href="{html.escape(str(p.relative_to(docs)))}">'
        f"{html.escape(p.parent.name)}</a></li>"
        for p in pages
    )
    (docs / "latest.html").write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'><title>Latest validation</title>"
        "</head><body><h1>Latest run: " + html.escape(folder) + "</h1>"
        f"<p>{len(pages)} validated batch(es).</p><ul>{links}</ul>"
        '<p><a href="index.html">All runs</a></p></body></html>',
        encoding="utf-8",
    )


def failures_by_row(result: Any) -> dict[int, dict[str, str]]:
    """{row: {reason: detail}} from a suite result. An expectation that errored
    (rather than failed) raises: it must not silently pass every row."""
    failures: dict[int, dict[str, str]] = defaultdict(dict)
    for res in result.results:
        if res.success:
            continue
        config = res.expectation_config
        error = _raised(res)
        if error:
            raise RuntimeError(f"expectation {config.type} errored: {error}")
        reason = (config.meta or {}).get("reason", config.type)
        rows = res.result.get("unexpected_index_list")
        values = res.result.get("unexpected_list") or []
        if rows is None:
            raise RuntimeError(f"expectation {config.type} gave no unexpected_index_list")
        column = config.kwargs.get("column")
        for row, value in zip(rows, values or [None] * len(rows), strict=False):
            index = int(row[next(iter(row))] if isinstance(row, dict) else row)
            failures[index][reason] = f"{config.type}({column}): {_short(value)}"
    return dict(failures)


def _raised(res: Any) -> str | None:
    info = res.exception_info or {}
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    for value in info.values():
        if isinstance(value, dict) and value.get("raised_exception"):
            return str(value.get("exception_message"))
    return None


def _short(value: Any) -> str:
    text = repr(value.isoformat() if hasattr(value, "isoformat") else value)
    return text if len(text) <= 200 else text[:197] + "..."


def _context(quality_dir: Path | None = None) -> Any:
    """An in-memory context with progress bars off (cheap to set up); with
    ``quality_dir``, validation results and the Data Docs site live on disk."""
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        InMemoryStoreBackendDefaults,
        ProgressBarsConfig,
    )

    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(init_temp_docs_sites=False),
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
        analytics_enabled=False,
    )
    if quality_dir is not None:
        # On disk, or the docs index would forget earlier runs.
        config.stores[config.validation_results_store_name]["store_backend"] = {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str((quality_dir / "results").resolve()),
        }
        config.data_docs_sites = {
            DOCS_SITE: {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str((quality_dir / "docs").resolve()),
                },
                "site_index_builder": {
                    "class_name": "DefaultSiteIndexBuilder",
                    "validation_results_limit": 500,
                },
            }
        }
    return gx.get_context(mode="ephemeral", project_config=config)


# --- batch-level quality gates ------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GateRules:
    max_rejected_share: float = 0.5
    min_rows: int = 3
    silent_runs: int = 7


def gate_rules_for(source: SourceConfig, settings: Settings) -> GateRules:
    share = source.gate_max_rejected_share
    silent = source.gate_silent_runs
    if silent is None and source.kind == "warc":
        silent = 0  # archives run dry once their files are imported: not a failure
    return GateRules(
        max_rejected_share=settings.gate_max_rejected_share if share is None else share,
        min_rows=settings.gate_min_rows,
        silent_runs=settings.gate_silent_runs if silent is None else silent,
    )


def check_gate(
    source: str,
    validated: int,
    rejected: int,
    reasons: dict[str, int],
    new_now: int,
    history: Sequence[int],
    rules: GateRules,
) -> tuple[str, str | None]:
    """('passed' | 'failed' | 'skipped', message) for one source in one run.

    ``history`` holds the new-article counts of the source's earlier runs, newest
    first. It fails when more than ``max_rejected_share`` of at least ``min_rows``
    validated records were rejected, or when the source used to yield articles and
    has yielded none for ``silent_runs`` runs in a row (this one included).
    """
    problems = []
    if validated >= rules.min_rows and rejected / validated > rules.max_rejected_share:
        top = ", ".join(f"{r}={n}" for r, n in sorted(reasons.items(), key=lambda x: -x[1]))
        problems.append(
            f"{rejected} of {validated} records rejected ({rejected / validated:.0%} > "
            f"{rules.max_rejected_share:.0%}): {top}"
        )
    if rules.silent_runs > 0:
        window = [new_now, *history[: rules.silent_runs - 1]]
        older = history[rules.silent_runs - 1 :]
        if len(window) == rules.silent_runs and not any(window) and any(older):
            problems.append(
                f"no new article in the last {rules.silent_runs} runs (it used to yield some)"
            )
    if problems:
        return "failed", f"{source}: " + "; ".join(problems)
    return ("skipped" if validated < rules.min_rows else "passed"), None
