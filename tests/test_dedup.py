"""Exact duplicates: normalised text and in-batch collapse."""

from __future__ import annotations

from ingest.dedup import collapse_batch, content_hash, normalise_text, word_count
from ingest.models import Article


def art(url: str, text: str, source: str = "s") -> Article:
    return Article(source=source, url=url, urls=[(url, "canonical")], title="t", author=None,
                   published_at=None, language="en", site_name=None, text=text,
                   word_count=word_count(text), content_hash=content_hash(text))


def test_typography_does_not_change_the_hash() -> None:
    a = "Korea’s “sales diplomacy” — in\u00a0Vilnius.\n\nSecond paragraph."
    b = "KOREA'S \"sales diplomacy\" - in Vilnius. Second   paragraph"
    assert normalise_text(a) == normalise_text(b)
    assert content_hash(a) == content_hash(b)
    assert content_hash(a) != content_hash(a + " More.")


def test_word_count_counts_words_not_punctuation() -> None:
    assert word_count("Hello, world — it's 2024!") == 5


def test_collapse_by_url_and_by_text_within_a_site() -> None:
    first = art("https://a.org/1", "same words here")
    same_url = art("https://a.org/1", "other words")
    same_text = art("https://www.a.org/print/1", "Same words, here!", source="print")
    elsewhere = art("https://b.org/copy", "Same words, here!", source="other")
    different = art("https://c.org/x", "something else entirely")
    kept, merged = collapse_batch([first, same_url, same_text, elsewhere, different])
    # the copy on another site is another publisher's document
    assert kept == [first, elsewhere, different]
    assert [(m.url, t.url) for m, t in merged] == [
        ("https://a.org/1", "https://a.org/1"), ("https://www.a.org/print/1", "https://a.org/1")]
    assert ("https://www.a.org/print/1", "canonical") in first.urls
    assert ("https://b.org/copy", "canonical") not in first.urls
