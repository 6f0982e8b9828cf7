"""What an Airflow ingest task writes to its log (ingest.console): a line when a
source has listed its entries and when they are all dealt with, then a line per source
(status, new/known/rejected, reasons) and the CLI's summary table."""

from __future__ import annotations

import logging

import pytest

from ingest.console import LogProgress, print_summary, source_line, summary_text
from ingest.models import SourceCounts


def counts() -> list[SourceCounts]:
    ok = SourceCounts("korea-daily-post", entries_seen=4, articles_fetched=3, articles_new=2,
                      articles_seen_before=1, feed_status="ok")
    ok.reject("http_404")
    quiet = SourceCounts("seoul-herald", feed_status="not_modified")
    broken = SourceCounts("broken-feed", feed_status="http_404")
    broken.reject("http_404")
    gated = SourceCounts("thin-source", entries_seen=3, articles_fetched=3, feed_status="ok",
                         gate="failed", gate_message="thin-source: 3 of 3 records rejected")
    gated.reject("too_short", 3)
    return [ok, quiet, broken, gated]


def test_summary_text_is_what_the_cli_prints(capsys: pytest.CaptureFixture[str]) -> None:
    summary = {"run_id": "r1", "status": "success"}
    print_summary(counts(), summary, 1.25)
    text = summary_text(counts(), summary, 1.25)
    assert capsys.readouterr().out == text + "\n"
    lines = text.splitlines()
    assert lines[0].split()[:3] == ["source", "entries", "fetched"]
    assert any(line.split()[:2] == ["total", "7"] for line in lines)
    assert "rejections: http_404=2, too_short=3" in lines
    assert lines[-1] == "run r1: success in 1.2 s"


def test_source_lines_name_the_source_its_status_and_reasons() -> None:
    ok, quiet, broken, gated = (source_line(c) for c in counts())
    assert ok == "korea-daily-post: ok; 4 entries, 2 new, 1 known, 1 rejected (http_404=1)"
    assert quiet == "seoul-herald: not modified; 0 entries, 0 new, 0 known, 0 rejected"
    assert broken == "broken-feed: failed (http_404); 0 entries, 0 new, 0 known, 1 rejected " \
                     "(http_404=1)"
    assert gated == ("thin-source: quality gate failed; 3 entries, 0 new, 0 known, 3 rejected "
                     "(too_short=3): thin-source: 3 of 3 records rejected")


def test_log_progress_as_sources_finish_and_the_report(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.task")
    progress = LogProgress(logger)
    with caplog.at_level(logging.INFO, logger="test.task"):
        progress("entries", "korea-daily-post", 4)
        progress("entries", "seoul-herald", 0)
        progress("item", "korea-daily-post", 1)  # the known one
        progress("item", "korea-daily-post", 1)
        progress("item", "korea-daily-post", 1)
        done_before = [r.getMessage() for r in caplog.records]
        progress("item", "korea-daily-post", 1)
        progress.report(counts(), {"run_id": "r1", "status": "batch done"}, 2.0)
    messages = [r.getMessage() for r in caplog.records]
    assert done_before == ["korea-daily-post: 4 entries listed", "seoul-herald: nothing listed"]
    assert messages[2] == "korea-daily-post: all 4 entries dealt with"
    levels = {r.getMessage().split(":")[0]: r.levelno for r in caplog.records[3:7]}
    assert levels == {"korea-daily-post": logging.INFO, "seoul-herald": logging.INFO,
                      "broken-feed": logging.WARNING, "thin-source": logging.WARNING}
    assert messages[7:] == summary_text(counts(), {"run_id": "r1", "status": "batch done"},
                                        2.0).splitlines()

