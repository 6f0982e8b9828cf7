"""Validation with the Great Expectations suite: bad rows rejected with reasons, good rows kept."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from conftest import CORPUS
from ingest.dedup import content_hash, word_count
from ingest.models import Article
from ingest.validate import (
    SourceRules,
    build_docs,
    mojibake_ratio,
    quality_rules,
    validate_records,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
BODY = " ".join(f"Korea and Lithuania agreed on cooperation number {i}." for i in range(30))


def art(n: int, **changes: object) -> Article:
    text = f"{BODY} Article {n}."
    base = Article(
        source="news", url=f"https://ex.org/{n}", urls=[], title=f"Title {n}", author=None,
        published_at=NOW - timedelta(days=1), language="en", site_name=None, text=text,
        word_count=word_count(text), content_hash=content_hash(text),
    )
    article = replace(base, **changes)  # type: ignore[arg-type]
    if "text" in changes:
        article.word_count = word_count(article.text)
        article.content_hash = content_hash(article.text)
    return article


RULES = {"news": SourceRules(min_words=80, languages=("en",)), "wire": SourceRules(min_words=20)}


@pytest.mark.parametrize(
    ("bad", "reason"),
    [
        (art(1, title=None), "title_missing"),
        (art(2, title=""), "title_length"),
        (art(3, title="x" * 401), "title_length"),
        (art(4, url="ftp://ex.org/4"), "url_not_http"),
        (art(5, text="Too short to be an article."), "too_short"),
        (art(6, published_at=datetime(1985, 1, 1, tzinfo=UTC)), "published_out_of_range"),
        (art(7, published_at=NOW + timedelta(days=3)), "published_out_of_range"),
        (art(8, language="de"), "language_unexpected"),
        (art(9, text="Please enable JavaScript to view this page. " + BODY), "stub_page"),
        (art(10, text="We use cookies to improve your experience. " + BODY), "stub_page"),
        (art(11, text=BODY.replace("a", "Ã©")), "mojibake"),
        (art(12, text="Page not found. " + BODY), "stub_page"),
    ],
)
def test_each_kind_of_bad_row(bad: Article, reason: str) -> None:
    good = [art(100), art(101)]
    valid, rejected = validate_records([good[0], bad, good[1]], RULES, now=NOW)
    assert valid == good
    assert [r.reason for r in rejected] == [reason]
    rejection = rejected[0]
    assert rejection.stage == "validate"
    assert rejection.url == bad.url
    assert rejection.payload is not None and rejection.payload["url"] == bad.url
    assert rejection.detail  # names the expectation and the offending value


def test_several_reasons_for_one_row_and_null_date_is_fine() -> None:
    bad = art(1, title=None, language="ko", text="short")
    ok = art(2, published_at=None)
    valid, rejected = validate_records([bad, ok], RULES, now=NOW)
    assert valid == [ok]
    assert {r.reason for r in rejected} == {"title_missing", "too_short", "language_unexpected"}


def test_thresholds_are_per_source() -> None:
    short = "A wire item with about twenty five words " * 3
    wire = art(1, source="wire", text=short + "one")
    news = art(2, source="news", text=short + "two")
    valid, rejected = validate_records([wire, news], RULES, now=NOW)
    assert valid == [wire]
    assert [(r.url, r.reason) for r in rejected] == [(news.url, "too_short")]


def test_many_sources_cost_one_expectation_per_language_set() -> None:
    """A suite's cost grows with its expectations, paid by every batch: sources that
    declare the same languages share one (60 sources, two sets, two expectations)."""
    from ingest.validate import build_suite

    rules = {f"en{i}": SourceRules(min_words=20, languages=("en",)) for i in range(50)}
    rules |= {f"ko{i}": SourceRules(min_words=20, languages=("ko",)) for i in range(10)}
    suite = build_suite(rules, NOW)
    languages = [e for e in suite.expectations if getattr(e, "column", None) == "language"]
    assert len(languages) == 2
    good = [art(1, source="en3"), art(2, source="ko7", language="ko")]
    bad = [art(3, source="en4", language="ko"), art(4, source="ko1")]
    valid, rejected = validate_records(good + bad, rules, now=NOW)
    assert valid == good
    assert sorted((r.url, r.reason) for r in rejected) == sorted(
        (a.url, "language_unexpected") for a in bad)


def test_duplicates_in_a_batch_are_flagged() -> None:
    a, b = art(1), art(1, url="https://ex.org/other")
    _, rejected = validate_records([a, b], RULES, now=NOW)
    assert {r.reason for r in rejected} == {"duplicate_text"}


def test_mojibake_ratio() -> None:
    assert mojibake_ratio("Grüße aus Köln, façade, naïve") == 0
    assert mojibake_ratio("GrÃ¼ÃŸe aus KÃ¶ln") > 0.1
    assert mojibake_ratio("ÇÑ±¹°ú ¸®Åõ¾Æ´Ï¾Æ") > 0.5  # Korean read as Latin-1
    assert mojibake_ratio("x\ufffdy") > 0


def test_empty_batch() -> None:
    assert validate_records([], RULES) == ([], [])


STUB_PHRASES = [
    "Please enable JavaScript to view", "JavaScript is disabled in your browser",
    "This site requires JavaScript", "We use cookies to improve", "This website uses cookies",
    "Accept all cookies", "Cookie settings", "Manage your consent",
    "Subscribe now to continue reading", "This article is only available to members",
    "The content is reserved for subscribers", "Already a subscriber? Log in",
    "Sign in to continue", "Create a free account to read", "404 error", "Page not found",
    "The page you were looking for could not be found", "This page doesn't exist",
    "Access denied", "You don't have permission to access", "Verify you are a human",
    "Are you a robot?", "Checking your browser before accessing",
]


@pytest.mark.parametrize("phrase", STUB_PHRASES)
def test_stub_phrases_are_caught_through_the_keyword_prefilter(phrase: str) -> None:
    """The keyword prefilter must never hide a pattern's match."""
    text = phrase + ". " + BODY
    valid, rejected = validate_records([art(1, text=text)], RULES, now=NOW)
    assert valid == [] and [r.reason for r in rejected] == ["stub_page"]


def test_data_docs_render_each_result_once(tmp_path: Any) -> None:
    """Each run renders its own results' pages and the index, not every kept run's
    again; a result left without a page (a run that stopped before its docs) gets one."""
    validate_records([art(1)], RULES, run_id="run-1", quality_dir=tmp_path)
    index = build_docs(tmp_path, "run-1")
    first = next((tmp_path / "docs" / "validations").rglob("*.html"))
    assert "run-1" in first.parts
    rendered_at = first.stat().st_mtime_ns
    validate_records([art(2)], RULES, run_id="run-2", quality_dir=tmp_path)
    build_docs(tmp_path, "run-2")
    pages = sorted((tmp_path / "docs" / "validations").rglob("*.html"))
    assert len(pages) == 2 and first.stat().st_mtime_ns == rendered_at
    assert "run-1" in index.read_text() and "run-2" in index.read_text()
    first.unlink()
    build_docs(tmp_path, "run-2")
    assert first.exists()


@pytest.mark.parametrize("legit", [
    "Seoul\xa0\xa0\xa0\xa0\xa0\xa0\xa0\xa0(Yonhap) The ministry said on Monday",  # NBSP indentation
    "Kapitel 1 " + "·" * 12 + " Seite 4",  # a dotted leader
    "Results\n" + "¯" * 30 + "\nThe team won",  # an underline
])
def test_runs_of_one_legitimate_character_are_not_mojibake(legit: str) -> None:
    """A real article was rejected for its runs of no-break spaces."""
    assert mojibake_ratio(legit) == 0
    valid, rejected = validate_records([art(1, text=(legit + " ") * 3 + BODY)], RULES, now=NOW)
    assert [r.reason for r in rejected] == [] and len(valid) == 1


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus absent")
def test_no_true_text_of_the_corpora_is_mojibake() -> None:
    import json

    threshold = quality_rules()["max_mojibake_ratio"]
    over = []
    for corpus in ("scrapinghub_aeb", "mozilla_readability", "trafilatura_eval", "wcxb_dev"):
        with (CORPUS / corpus / "ground_truth.jsonl").open(encoding="utf-8") as fh:
            over += [(corpus, row["id"]) for row in map(json.loads, fh)
                     if mojibake_ratio(row.get("text") or "") > threshold]
    assert over == []
