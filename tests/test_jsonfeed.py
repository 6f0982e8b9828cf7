"""JSON Feed 1.0 and 1.1: what is read of a feed, and that nothing but ParseError escapes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.errors import ParseError
from ingest.jsonfeed import looks_like_json_feed, parse_json_feed

FEED_10 = """{
    "version": "https://jsonfeed.org/version/1",
    "title": "The Harbour Gazette",
    "home_page_url": "https://gazette.example/",
    "feed_url": "https://gazette.example/feed.json",
    "author": {"name": "Desk"},
    "items": [
        {
            "id": "2",
            "url": "https://gazette.example/2024/ferries",
            "title": "Ferries  return\\n to the harbour",
            "content_html": "<p>The <b>ferries</b> are back &amp; busy.</p><script>x()</script>",
            "date_published": "2024-05-01T09:30:00-04:00",
            "author": {"name": "Ann Reporter", "url": "https://gazette.example/ann"}
        },
        {
            "id": 1,
            "url": "/2024/tides",
            "content_text": "Tides are high this week.",
            "date_modified": "2024-04-30T12:00:00Z"
        }
    ]
}"""

FEED_11 = """\ufeff{
    "version": "https://jsonfeed.org/version/1.1",
    "title": "Example 1.1",
    "feed_url": "https://one.example/feeds/main.json",
    "authors": [{"name": "Feed Author"}],
    "items": [
        {
            "id": "https://one.example/a",
            "external_url": "https://elsewhere.example/story",
            "title": "Linked elsewhere",
            "summary": "A short summary.",
            "content_text": "Not the summary.",
            "date_published": "2024-01-02T03:04:05.123456+01:00",
            "authors": [{"name": "B. One"}, {"name": "C. Two"}, {"url": "https://x"}]
        },
        {
            "id": "https://one.example/b",
            "title": "Only an id"
        },
        {
            "id": "c",
            "url": "relative/c.html",
            "title": "Feed authors apply"
        }
    ]
}"""


def parse(body: str | bytes, **kwargs: Any) -> Any:
    data = body.encode("utf-8") if isinstance(body, str) else body
    return parse_json_feed(data, source="s", url=kwargs.pop("url", "https://feed.example/f.json"),
                           **kwargs)


def feed_with(*items: Any, **top: Any) -> str:
    return json.dumps({"version": "https://jsonfeed.org/version/1.1", **top, "items": list(items)})


def test_version_1_0() -> None:
    feed = parse(FEED_10)
    assert feed.version == "json1" and feed.title == "The Harbour Gazette"
    assert feed.problems == []
    first, second = feed.entries
    assert first.link == "https://gazette.example/2024/ferries"
    assert first.title == "Ferries return to the harbour"
    assert first.published_at == datetime(2024, 5, 1, 13, 30, tzinfo=UTC)
    assert first.published_at.tzinfo is UTC and not first.updated_only
    assert first.guid == "2" and first.author == "Ann Reporter" and first.source == "s"
    assert first.summary == "The ferries are back & busy."
    # relative URL against home_page_url; a numeric id coerced; date_modified alone
    assert second.link == "https://gazette.example/2024/tides"
    assert second.guid == "1" and second.title is None
    assert second.published_at == datetime(2024, 4, 30, 12, 0, tzinfo=UTC)
    assert second.updated_only
    assert second.summary == "Tides are high this week."
    assert second.author == "Desk"  # the feed's author


def test_version_1_1() -> None:
    feed = parse(FEED_11)
    assert feed.version == "json11" and feed.problems == []
    first, second, third = feed.entries
    assert first.link == "https://elsewhere.example/story"
    assert first.summary == "A short summary."
    assert first.author == "B. One, C. Two"
    assert first.published_at == datetime(2024, 1, 2, 2, 4, 5, 123456, tzinfo=UTC)
    assert second.link == "https://one.example/b"  # the id is a URL: it is the link
    assert second.published_at is None and not second.updated_only
    assert third.link == "https://one.example/feeds/relative/c.html"  # against feed_url
    assert third.author == "Feed Author"


def test_relative_links_resolve_against_the_fetched_url_without_home_page() -> None:
    feed = parse(feed_with({"id": "x", "url": "/a"}), url="https://fetched.example/f/feed.json")
    assert [e.link for e in feed.entries] == ["https://fetched.example/a"]


def test_max_items() -> None:
    feed = parse(feed_with(*({"url": f"https://e.example/{n}"} for n in range(10))), max_items=3)
    assert [e.link for e in feed.entries] == [f"https://e.example/{n}" for n in range(3)]


def test_wrong_types_skip_the_field_or_the_item() -> None:
    feed = parse(feed_with(
        "a string item",
        7,
        {"url": "https://e.example/1", "title": ["a", "list"], "date_published": 1714550000,
         "date_modified": "2024-05-01T00:00:00Z", "summary": {"x": 1}, "content_text": "Text.",
         "authors": "Ann", "author": {"name": "Fallback"}, "id": {"no": "pe"}},
        {"url": 12, "external_url": "https://e.example/2", "date_published": "yesterday",
         "authors": [{"name": ["x"]}, "Bob", {"name": "Real"}]},
        {"url": ["nope"], "title": "No link at all"},
        {"url": "mailto:someone@example.org"},
        title=["not", "a", "title"],
    ))
    first, second = feed.entries
    assert first.link == "https://e.example/1" and first.title is None and first.guid is None
    assert first.published_at == datetime(2024, 5, 1, tzinfo=UTC) and first.updated_only
    assert first.summary == "Text." and first.author == "Fallback"
    assert second.link == "https://e.example/2" and second.published_at is None
    assert second.author == "Real"
    assert feed.title is None
    text = "\n".join(feed.problems)
    for expected in ("item 0 is a string", "item 1 is a number", "item 2: title is a list",
                     "item 2: date_published is a number", "item 2: summary is a object",
                     "item 2: authors is a string", "item 2: id is a object",
                     "item 3: url is a number", "item 3: date_published 'yesterday'",
                     "item 3: authors[0]: name is a list", "item 3: authors[1] is a string",
                     "entry without a link: 'No link at all'", "feed: title is a list"):
        assert expected in text, expected


def test_missing_or_unknown_version_is_a_problem_not_a_failure() -> None:
    feed = parse(json.dumps({"items": [{"url": "https://e.example/1"}]}))
    assert feed.version == "json" and feed.problems == ["no JSON Feed version"]
    feed = parse(json.dumps({"version": "https://example.org/version/1",
                             "items": [{"url": "https://e.example/1"}]}))
    assert feed.version == "json" and "unknown JSON Feed version" in feed.problems[0]
    assert len(feed.entries) == 1
    later = parse(feed_with({"url": "https://e.example/1"}, version="https://jsonfeed.org/version/1.2"))
    assert later.version == "json12" and later.problems == []


@pytest.mark.parametrize("body", [
    b"", b"   ", b"{", b"not json", b"[1, 2]", b'"items"', b"\xff\xfe\x00garbage",
    b'{"version": "https://jsonfeed.org/version/1.1"}',
    b'{"version": "https://jsonfeed.org/version/1.1", "items": {"0": {}}}',
    b'{"items": null}', b"[" * 100_000, b"1" * 10_000,
])
def test_not_a_feed(body: bytes) -> None:
    with pytest.raises(ParseError) as err:
        parse(body)
    assert err.value.reason == "not_a_feed"


def test_unstorable_characters_are_removed() -> None:
    body = ('{"version": "https://jsonfeed.org/version/1", "title": "T\\u0000itle\\ud800",'
            ' "items": [{"id": "\\udfff1", "url": "https://e.example/\\u0000a",'
            ' "title": "A\\u0000B", "summary": "S\\ud83d", "author": {"name": "N\\u0000"}}]}')
    feed = parse(body)
    entry = feed.entries[0]
    assert feed.title == "Title"
    assert (entry.link, entry.title, entry.summary, entry.author, entry.guid) == (
        "https://e.example/a", "AB", "S", "N", "1")


def test_dates() -> None:
    cases = {
        "2024-05-01T09:30:00Z": datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
        "2024-05-01t09:30:00z": datetime(2024, 5, 1, 9, 30, tzinfo=UTC),
        "2024-05-01T09:30:00.5+02:00": datetime(2024, 5, 1, 7, 30, 0, 500000, tzinfo=UTC),
        "2024-05-01T09:30:00": datetime(2024, 5, 1, 9, 30, tzinfo=UTC),  # no offset: UTC
        "Wed, 01 May 2024 09:30:00 GMT": datetime(2024, 5, 1, 9, 30, tzinfo=UTC),  # RFC 822
        "0001-01-01T00:00:00+01:00": None,  # before year 1 in UTC
        "2024-13-01T00:00:00Z": None,
        "": None,
    }
    for text, expected in cases.items():
        feed = parse(feed_with({"url": "https://e.example/1", "date_published": text}))
        assert feed.entries[0].published_at == expected, text
        assert bool(feed.problems) == (expected is None), text


def test_summary_from_long_content_is_cut() -> None:
    feed = parse(feed_with({"url": "https://e.example/1", "content_text": "word " * 1000}))
    summary = feed.entries[0].summary
    assert summary is not None and len(summary) <= 1001 and summary.endswith("word…")


def test_problems_are_bounded() -> None:
    feed = parse(feed_with(*["x"] * 500))
    assert feed.entries == [] and len(feed.problems) == 51
    assert feed.problems[-1] == "450 more problem(s)"


def test_looks_like_json_feed() -> None:
    assert looks_like_json_feed(FEED_10.encode())
    assert looks_like_json_feed(FEED_11.encode("utf-8"))  # after a BOM
    assert looks_like_json_feed(b' \n{"version":"https:\\/\\/jsonfeed.org\\/version\\/1"}')
    assert looks_like_json_feed(b"", "application/feed+json; charset=utf-8")
    assert not looks_like_json_feed(b"<rss version='2.0'/>")
    assert not looks_like_json_feed(b'{"version": "1.0", "items": []}')
    assert not looks_like_json_feed(b'["https://jsonfeed.org/version/1"]')
    late = b'{"padding": "' + b"x" * 5000 + b'", "version": "https://jsonfeed.org/version/1"}'
    assert not looks_like_json_feed(late)
    assert not looks_like_json_feed(b"{}", "application/json")


# --- fuzzing: mutated JSON Feed bytes never raise anything but ParseError ---------------

SEEDS = [FEED_10.encode("utf-8"), FEED_11.encode("utf-8")]
NASTY = [b"\x00", b"\\u0000", b"\\ud800", b"[[[[[[", b"]]", b"}", b"{", b'"', b"\\",
         b"null", b"1e999", b"-0", b"NaN", b"Infinity", b"9" * 5000, b"\xff\xfe", b"\xc3",
         b'"items": 1', b'"date_published": 3', b'"title": []', b'"url": {}',
         b'"authors": [1, null]', b'"author": "x"', b'"0001-01-01T00:00:00+14:00"',
         b'"9999-12-31T23:59:59-14:00"', b'"http://[::1"', b'"http://x:99999/"']


@st.composite
def mutated(draw: st.DrawFn) -> bytes:
    data = bytearray(draw(st.sampled_from(SEEDS)))
    for _ in range(draw(st.integers(1, 6))):
        at = draw(st.integers(0, len(data)))
        action = draw(st.sampled_from(["flip", "insert", "delete", "truncate"]))
        if action == "flip" and at < len(data):
            data[at] = draw(st.integers(0, 255))
        elif action == "insert":
            data[at:at] = draw(st.sampled_from(NASTY) | st.binary(max_size=8))
        elif action == "delete":
            del data[at:at + draw(st.integers(1, 40))]
        else:
            del data[at:]
    return bytes(data)


def _json_values() -> st.SearchStrategy[Any]:
    scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30)
    return st.recursive(scalars, lambda inner: st.lists(inner, max_size=4)
                        | st.dictionaries(st.text(max_size=8), inner, max_size=4), max_leaves=12)


KEYS = ["id", "url", "external_url", "title", "summary", "content_text", "content_html",
        "date_published", "date_modified", "author", "authors", "name"]


@st.composite
def typed_wrong(draw: st.DrawFn) -> bytes:
    """A well-formed JSON document of feed shape whose fields hold any JSON value."""
    item = st.dictionaries(st.sampled_from(KEYS), _json_values(), max_size=8) | _json_values()
    top = draw(st.dictionaries(st.sampled_from([*KEYS, "home_page_url", "feed_url", "version"]),
                               _json_values(), max_size=5))
    top["items"] = draw(st.lists(item, max_size=5))
    return json.dumps(top).encode("utf-8")


def _check(body: bytes) -> None:
    try:
        feed = parse_json_feed(body, source="s", url="https://feed.example/f.json", max_items=50)
    except ParseError as exc:
        assert exc.reason == "not_a_feed"
        return
    for entry in feed.entries:
        assert entry.link.startswith(("http://", "https://"))
        for value in (entry.link, entry.title, entry.summary, entry.author, entry.guid):
            if value is not None:
                assert "\x00" not in value
                value.encode("utf-8")  # a lone surrogate raises here
        assert entry.published_at is None or entry.published_at.tzinfo is UTC
    for line in feed.problems:
        line.encode("utf-8")


FUZZ = settings(max_examples=400, deadline=None, database=None, derandomize=True,
                suppress_health_check=list(HealthCheck))


@FUZZ
@given(mutated())
def test_fuzz_mutated_bytes(body: bytes) -> None:
    _check(body)


@settings(FUZZ, max_examples=200)
@given(typed_wrong())
def test_fuzz_any_value_anywhere(body: bytes) -> None:
    _check(body)
