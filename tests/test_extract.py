"""Extraction: decoding, text and metadata from real HTML (the demo site's pages)."""

from __future__ import annotations

import codecs
import random
import re
from datetime import UTC, datetime

import pytest

from conftest import CORPUS
from ingest.demo.site import content, render_article
from ingest.errors import ExtractError
from ingest.extract import ExtractJob, _not_prose, decode_html, extract_items, extract_page
from ingest.validate import mojibake_ratio, quality_rules


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


# --- hostile input (found by tests/test_fuzz.py, or reported) -------------------------

ARTICLE = ("<html><head><title>Harbour reopens</title>{meta}</head><body><article>"
           "<h1>Harbour reopens</h1>"
           + "<p>The harbour authority reopened the northern quay on Monday after three weeks"
             " of repairs to its cranes and its fender system, the port said.</p>" * 12
           + "<p>{garbage}</p></article></body></html>")


def _page(meta: str = "", garbage: str = "") -> bytes:
    return ARTICLE.format(meta=meta, garbage=garbage).encode("ascii")


@pytest.mark.parametrize(("declared", "meta"), [
    ("undefined", ""), ("punycode", ""), ("utf\x00-8", ""), ("é", ""),
    (None, '<meta charset="undefined">'), (None, '<meta charset="punycode">'),
])
def test_an_unusable_charset_label_is_ignored(declared: str | None, meta: str) -> None:
    body = GERMAN.replace(b"<p>", b"<p>" + meta.encode(), 1)  # not UTF-8: labels matter
    text, codec = decode_html(body, declared)
    assert (text.replace(meta, ""), codec) == decode_html(GERMAN, None)


def test_a_meta_utf16_is_not_believed() -> None:
    """WHATWG: a page whose <meta> could be read as ASCII is not UTF-16."""
    body = GERMAN.replace(b"<p>", b'<p><meta charset="utf-16">', 1)
    body += b" " * (len(body) % 2)  # even: it would decode as UTF-16
    text, codec = decode_html(body)
    assert "Brücke über die Straße" in text and not codec.startswith("utf-16")


def test_a_utf16_bom_before_8bit_markup_is_ignored() -> None:
    text, codec = decode_html(codecs.BOM_UTF16_BE + _page())
    assert "harbour authority" in text and not codec.startswith("utf-16")
    utf16 = "<html><body><p>Grüße</p></body></html>".encode("utf-16")
    assert decode_html(utf16) == ("<html><body><p>Grüße</p></body></html>", "utf-16-le")


_RNG = random.Random(15)
GARBAGE = bytes(_RNG.randrange(128, 256) for _ in range(120))
GERMAN = ("<html><body><p>" + "Die Stadtwerke öffnen die Brücke über die Straße am Montag. " * 10
          + "</p></body></html>").encode("cp1252")


@pytest.mark.parametrize("meta", ["", '<meta charset="utf-8">'])
def test_garbage_bytes_are_flagged_not_loaded(meta: str) -> None:
    """Invalid UTF-8 bytes in a page: charset-normalizer would read them as letters of
    some code page ("ÿț…"); they are left as replacement characters, and validation's
    mojibake measure rejects the text."""
    body = _page(meta).replace(b"<p></p>", b"<p>" + GARBAGE + b"</p>")
    text, codec = decode_html(body)
    assert codec == "utf-8" and text.count("\ufffd") >= 40
    out = extract_page(ExtractJob(source="s", url="http://127.0.0.1:1/h.html", body=body))
    assert mojibake_ratio(out.text) > quality_rules()["max_mojibake_ratio"]


def test_a_page_in_a_single_byte_charset_without_a_declaration_still_decodes() -> None:
    text, codec = decode_html(GERMAN)
    assert "Brücke über die Straße" in text and codec != "utf-8"


@pytest.mark.skipif(not (CORPUS / "trafilatura_eval").is_dir(), reason="../shared/corpus absent")
def test_corpus_pages_that_are_not_utf8_keep_their_charset() -> None:
    """The garbage rule must not send a real page in another charset to UTF-8's
    replacement characters (27 such pages in trafilatura_eval)."""
    import json

    checked = 0
    with (CORPUS / "trafilatura_eval" / "ground_truth.jsonl").open(encoding="utf-8") as fh:
        for row in map(json.loads, fh):
            body = (CORPUS / "trafilatura_eval" / row["html_path"]).read_bytes()
            try:
                body.decode("utf-8")
                continue
            except UnicodeDecodeError:
                checked += 1
            text, _ = decode_html(body, row.get("declared_charset"))
            assert text.count("\ufffd") <= 5, row["id"]
    assert checked >= 20


def test_a_page_of_one_repeated_token_is_no_content() -> None:
    """Nested <div>s of "x" lines were loaded as an article (2,000 words)."""
    body = ("<html><head><title>Breaking</title></head><body>" + "<div>" * 100
            + "x<br>\n" * 2000 + "</div>" * 100 + "</body></html>").encode()
    with pytest.raises(ExtractError) as err:
        extract_page(ExtractJob(source="s", url="http://127.0.0.1:1/x.html", body=body))
    assert err.value.reason == "no_content" and "repeated token" in err.value.detail


def test_a_page_without_prose_is_no_content() -> None:
    rows = "".join(f"<tr><td>{i}</td><td>{i * 7 % 13}.{i % 10}</td><td>|</td><td>--</td></tr>"
                   for i in range(200))
    body = f"<html><body><article><table>{rows}</table></article></body></html>".encode()
    with pytest.raises(ExtractError) as err:
        extract_page(ExtractJob(source="s", url="http://127.0.0.1:1/t.html", body=body))
    assert err.value.reason == "no_content" and "no prose" in err.value.detail


@pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus absent")
def test_the_prose_rule_fires_on_no_true_text_of_the_corpora() -> None:
    import json

    judged = 0
    for corpus in ("scrapinghub_aeb", "mozilla_readability", "trafilatura_eval", "wcxb_dev"):
        with (CORPUS / corpus / "ground_truth.jsonl").open(encoding="utf-8") as fh:
            for row in map(json.loads, fh):
                text = row.get("text") or ""
                judged += len(text.split()) >= 20
                assert _not_prose(text) is None, (corpus, row["id"], _not_prose(text))
    assert judged > 1200


def test_a_feed_title_with_a_nul_never_reaches_the_record() -> None:
    out = extract_page(ExtractJob(source="s", url="http://127.0.0.1:1/h.html",
                                  body=_page().replace(b"Harbour reopens", b""),
                                  feed_title="Harbour\x00 reopens\ud800"))
    assert out.title is not None and "\x00" not in out.title
    out.title.encode("utf-8")


@pytest.mark.parametrize("body", [b"<svg><meta><A>", b"<svg>=!DOCTYPE html"])
def test_a_date_guess_that_raises_on_odd_markup_is_no_date(body: bytes) -> None:
    """htmldate's cleaning asserts when the <svg> root itself is to be dropped: the page
    then has no guessed date, and is judged like any other (here: nothing, or a stub)."""
    from htmldate import find_date
    from lxml import html

    with pytest.raises(AssertionError):
        find_date(html.fromstring(body), extensive_search=True)
    try:
        records = extract_items(ExtractJob(source="s", url="http://127.0.0.1:1/odd.html",
                                           body=body))
    except ExtractError as err:
        assert err.reason == "no_content"
    else:
        assert [r.published_at for r in records] == [None] and records[0].word_count < 5


def test_a_warmed_up_worker_loads_nothing_more_for_its_first_page() -> None:
    """What the forkserver's warm-up leaves to the first page of each worker is paid
    by every worker: then it imports no module. dateparser's locales
    are not warmed up (1.9 s that few pages need): the first page that needs them
    loads them."""
    import subprocess
    import sys

    page = next((CORPUS / "scrapinghub_aeb" / "html").glob("*.html"))
    code = f"""
import sys
from pathlib import Path
from ingest import extract
extract.warm_up()
assert "dateparser" not in sys.modules, "dateparser warmed up"
before = set(sys.modules)
body = Path({str(page)!r}).read_bytes()
extract.extract_items(extract.ExtractJob(source="s", url="https://example.org/a/1", body=body))
print(sorted(m for m in set(sys.modules) - before if m != "dateparser" and
             not m.startswith(("dateparser.", "dateparser_", "regex", "tzlocal"))))
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
