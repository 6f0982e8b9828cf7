"""Extraction: decoding, text and metadata from real HTML (the demo site's pages)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from conftest import CORPUS
from ingest.demo.site import content, render_article
from ingest.errors import ExtractError
from ingest.extract import ExtractJob, decode_html, extract_page


def _demo(site: str, slug: str) -> dict:
    return next(a for a in content()["articles"] if a["site"] == site and a["slug"] == slug)


@pytest.mark.parametrize(
    ("body", "declared", "expected", "codec"),
    [
        ("Grüße aus Köln".encode(), None, "Grüße aus Köln", "utf-8"),
        ("Grüße aus Köln".encode("latin-1"), "iso-8859-1", "Grüße aus Köln", "cp1252"),
        # header says Latin-1, bytes are UTF-8: the bytes win
        ("Grüße aus Köln".encode(), "iso-8859-1", "Grüße aus Köln", "utf-8"),
        # no header, meta says euc-kr
        ('<meta charset="euc-kr"><p>한국 경제 협력</p>'.encode("euc-kr"), None,
         '<meta charset="euc-kr"><p>한국 경제 협력</p>', "cp949"),
        # header lies (utf-8), meta tells the truth
        ('<meta http-equiv="Content-Type" content="text/html; charset=windows-1252"><p>café</p>'
         .encode("cp1252"), "utf-8",
         '<meta http-equiv="Content-Type" content="text/html; charset=windows-1252"><p>café</p>',
         "cp1252"),
        ("\ufeffhello".encode("utf-8"), "latin-1", "hello", "utf-8"),
    ],
)
def test_decode_html(body: bytes, declared: str | None, expected: str, codec: str) -> None:
    text, used = decode_html(body, declared)
    assert text == expected
    assert used == codec


def test_decode_without_any_declaration_uses_detection() -> None:
    korean = ("<html><body><p>" + "한국과 리투아니아 기업인들이 첨단 산업 협력을 다짐했다. " * 20
              + "</p></body></html>").encode("euc-kr")
    text, _ = decode_html(korean, None)
    assert "리투아니아" in text


def test_extract_a_demo_article() -> None:
    article = _demo("koreadaily", "2026/11/korea-lithuania-business-dialogue")
    html = render_article("http://127.0.0.1:1", article)
    job = ExtractJob(source="s", url="http://127.0.0.1:1/a.html", body=html.encode(),
                     timezone="Asia/Seoul")
    out = extract_page(job)
    assert out.title == article["title"]
    assert out.author == article["author"]
    assert out.language == "en"
    assert "picosecond lasers" in out.text
    assert "subscribe" not in out.text
    assert out.word_count > 150
    assert out.published_at is not None
    # the page's full timestamp from its <meta>, shown in the source's zone
    assert out.published_at.isoformat() == "2026-11-20T09:30:00+09:00"
    assert out.date_source == "meta"
    assert len(out.content_hash) == 64


def test_page_metadata_date_wins_over_the_feed_and_the_feed_over_guesses() -> None:
    """The page's declared publication time is the most precise; the feed's date
    beats what can only be guessed from the page's text or its URL."""
    article = _demo("herald", "1021")
    when = datetime(2026, 11, 19, 1, 0, tzinfo=UTC)
    page = render_article("http://127.0.0.1:1", article)
    out = extract_page(ExtractJob(source="s", url="http://127.0.0.1:1/2026/11/02/h",
                                  feed_published_at=when, body=page.encode()))
    assert out.date_source == "meta"
    undeclared = re.sub(r'<meta property="article:published_time"[^>]*>|<time[^>]*>[^<]*</time>',
                        "", page)
    out = extract_page(ExtractJob(source="s", url="http://127.0.0.1:1/2026/11/02/h",
                                  feed_published_at=when, body=undeclared.encode()))
    assert out.published_at == when and out.date_source == "feed"
    out = extract_page(ExtractJob(source="s", url="http://127.0.0.1:1/2026/11/02/h",
                                  timezone="Asia/Seoul", body=undeclared.encode()))
    assert out.date_source in {"text", "htmldate", "url"}, out.date_source


def test_without_a_source_zone_the_pages_own_is_used() -> None:
    """A UTC timestamp on a German page is shown in German time: the day the page shows."""
    body = ('<html lang="de"><head><meta property="article:published_time" content="2021-11-04T23:00:00Z">'
            "</head><body><article><h1>Kommunalwahlen in der Stadt</h1>"
            + "<p>Die Wahl in der Stadt fand am Sonntag statt, und viele gingen hin.</p>" * 20
            + "</article></body></html>")
    out = extract_page(ExtractJob(source="s", url="https://www.example.de/wahl", body=body.encode()))
    assert out.published_at is not None
    assert out.published_at.isoformat() == "2021-11-05T00:00:00+01:00"
    out = extract_page(ExtractJob(source="s", url="https://www.example.de/wahl", body=body.encode(),
                                  timezone="Asia/Seoul"))
    assert out.published_at is not None
    assert out.published_at.isoformat() == "2021-11-05T08:00:00+09:00"


def test_empty_page_is_an_extract_error() -> None:
    with pytest.raises(ExtractError) as err:
        extract_page(ExtractJob(source="s", url="http://x/", body=b"<html><body></body></html>"))
    assert err.value.reason == "no_content"


@pytest.mark.skipif(not (CORPUS / "trafilatura_eval").is_dir(), reason="../shared/corpus absent")
def test_pages_with_wrong_declarations_decode_as_well_as_trafilatura() -> None:
    """trafilatura_eval pages that are not valid UTF-8, decoded with their declared
    charset as if the server had sent it: their must-have snippets survive."""
    import html
    import json

    from trafilatura.utils import decode_file

    ours = theirs = total = 0
    with (CORPUS / "trafilatura_eval" / "ground_truth.jsonl").open(encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    for row in rows:
        snippets = [s for s in row.get("with") or [] if not s.startswith("http")]
        if row.get("valid_utf8", True) or not snippets:
            continue
        body = (CORPUS / "trafilatura_eval" / row["html_path"]).read_bytes()
        total += 1
        text, _ = decode_html(body, row.get("declared_charset"))
        ours += all(s in html.unescape(text) for s in snippets)
        theirs += all(s in html.unescape(decode_file(body)) for s in snippets)
    assert total >= 20
    assert ours >= theirs and ours >= total - 3, (ours, theirs, total)


def test_a_source_can_do_without_a_global_cleaning_rule() -> None:
    body = " ".join(["The harbour authority reopened the northern quay on Monday after"
                     " three weeks of repairs to its cranes and its fender system."] * 4)
    html = (f"<html><head><title>Quay reopens</title></head><body><article><p>{body}</p>"
            f"<p>Read more: The harbour's history in pictures</p><p>{body.upper()}</p>"
            f"</article></body></html>").encode()
    job = ExtractJob(source="s", url="http://127.0.0.1:1/quay.html", body=html)
    assert extract_page(job).removed == {"read_also": 1}
    kept = extract_page(ExtractJob(source="s", url=job.url, body=html, clean_off=("read_also",)))
    assert kept.removed == {}
    assert "Read more: The harbour's history in pictures" in kept.text
