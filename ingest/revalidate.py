"""Validate quarantined records again with today's suite and thresholds (after raising
a source's limits, or changing what kinds of page it ``expect``\\s), and load those
that pass now, in a run of their own (``news-ingest revalidate``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ingest import db, load, rejections, runs, validate
from ingest.config import Config
from ingest.dedup import collapse_batch
from ingest.models import Article


@dataclass
class RevalidateResult:
    run_id: str
    checked: int
    loaded: int
    still_rejected: dict[str, int]


def revalidate(
    config: Config,
    dsn: str,
    *,
    run_id: str | None = None,
    source: str | None = None,
    reason: str | None = None,
    from_run: str | None = None,
) -> RevalidateResult:
    """Validate the records quarantined (by ``from_run``, of ``source``, for
    ``reason``) again; load those that pass, marking their rejection resolved."""
    run_id = run_id or runs.new_run_id("revalidate")
    with runs.RunGuard(dsn, run_id):
        runs.begin_run(dsn, run_id, "revalidate", config.settings)
        with db.connect(dsn, autocommit=True) as conn:
            rows = rejections.quarantined(conn, from_run, source, reason)
            articles = [Article.from_payload(payload) for _, payload in rows]
            settings = config.settings
            rules = {
                name: validate.rules_for(config.source(name), settings)
                if any(s.name == name for s in config.sources)
                else validate.SourceRules(settings.min_words)
                for name in {a.source for a in articles}
            }
            distinct, _ = collapse_batch(articles)
            valid, invalid = validate.validate_records(distinct, rules)
            load.load_batch(conn, run_id, valid,
                            story_window=timedelta(days=settings.story_window_days))
            rejections.resolve_rejections(conn, [a.url for a in valid], run_id)
            rejections.record_rejections(conn, run_id, invalid)
        still: dict[str, int] = {}
        for rejection in invalid:
            still[rejection.reason] = still.get(rejection.reason, 0) + 1
        runs.end_run(dsn, run_id)
    return RevalidateResult(run_id, len(articles), len(valid), still)
