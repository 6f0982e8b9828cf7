"""The page's time zone (ingest.metadata.zones): inferred when the source names none."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from .pages import SEOUL, URL, meta, page, run

BUENOS_AIRES = ZoneInfo("America/Argentina/Buenos_Aires")
UTC_STAMP = meta("article:published_time", "2022-05-04T00:53:29Z")


@pytest.mark.parametrize(
    ("url", "lang", "extra", "expected"),
    [
        # the host's country
        ("https://www.diario.com.ar/politica/jugada", "", "", BUENOS_AIRES),
        ("https://www.zeitung.de/politik/a", "", "", ZoneInfo("Europe/Berlin")),
        # the page's language, when its speakers live in one zone
        (URL, "de-DE", "", ZoneInfo("Europe/Berlin")),
        # not en-US, es-ES and the like: CMSs' defaults, spoken across the world
        (URL, "en-US", "", UTC),
        (URL, "es", "", UTC),
        # an offset the page declares elsewhere, when no country or language says more
        (URL, "", '<time datetime="2022-05-03T21:53:29-04:00">3 May</time>', "-04:00"),
        # the country's zone when the declared offset is one of its own (summer time)
        ("https://www.zeitung.de/a", "", meta("article:modified_time", "2022-01-05T10:00:00+02:00"),
         ZoneInfo("Europe/Berlin")),
        # a declared offset the country never has is the page's
        ("https://www.zeitung.de/a", "", meta("article:modified_time", "2022-05-05T10:00:00-05:00"),
         "-05:00"),
        # a script that restates the published instant in local time
        (URL, "", '<script>var page = {"date": "2022-05-03T20:53:29-04:00"};</script>', "-04:00"),
        # a script's other clocks are not the publisher's
        (URL, "", '<script>var ad = {"built": "2021-03-01T10:00:00-08:00"};</script>', UTC),
    ],
)
def test_without_a_source_zone_the_page_zone_is_inferred(
    url: str, lang: str, extra: str, expected: Any
) -> None:
    html = page(UTC_STAMP, extra)
    if lang:
        html = html.replace("<html>", f'<html lang="{lang}">')
    out = run(html, url=url, zone=None)
    assert out.published_at is not None and out.zone is not None
    # the same instant, shown in the page's zone
    assert out.published_at == datetime(2022, 5, 4, 0, 53, 29, tzinfo=UTC)
    if isinstance(expected, str):
        assert out.published_at.isoformat().endswith(expected)
    else:
        assert out.zone == expected and out.published_at.tzinfo == expected


def test_the_source_zone_wins_and_naive_dates_are_read_in_the_page_zone() -> None:
    url = "https://www.diario.com.ar/politica/jugada"
    out = run(page(UTC_STAMP), url=url)
    assert out.zone == SEOUL and out.published_at == datetime(2022, 5, 4, 9, 53, 29, tzinfo=SEOUL)
    out = run(page(meta("article:published_time", "2022-05-03 21:53")), url=url, zone=None)
    assert out.published_at == datetime(2022, 5, 3, 21, 53, tzinfo=BUENOS_AIRES)


def test_utc_midnight_is_a_day() -> None:
    """CMSs that keep only the day write it as UTC midnight: it stays that day
    west of Greenwich too."""
    out = run(page(meta("article:published_time", "2022-05-04T00:00:00Z")),
              url="https://www.diario.com.ar/a", zone=None)
    assert out.published_at == datetime(2022, 5, 4, tzinfo=BUENOS_AIRES)
