"""The page's time zone, when its source names none: the zone its dates are read in
(:mod:`ingest.metadata.dates`).

CMSs write UTC timestamps, while the day a page shows (and its readers') is the
publisher's. The zone of the host's country (``.de``, ``.com.ar``) or of the page's
language where its speakers share one (``de``, ``ja``; not ``en`` or ``es``), unless the
page declares an offset that zone never has; else the offset the page declares on a
timestamp (``<meta>``, JSON-LD, ``<time>``, or a script restating one of its UTC
timestamps in local time); else UTC.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from ingest.metadata.dates import _ISO, _from_match, _timestamp
from ingest.metadata.page import _Page
from ingest.metadata.rules import metadata_rules
from ingest.metadata.xpaths import SCRIPT_TEXTS


def _page_zone(page: _Page) -> tzinfo:
    """The zone of a page whose source names none. CMSs write UTC timestamps, while
    the day a page shows (and its readers') is the publisher's: the zone of the
    host's country (``.de``, ``.com.ar``) or of the page's language (``de``, spoken
    in one zone), unless the page declares an offset that zone never has; else the
    first non-UTC offset the page declares on a timestamp, or with which a script
    restates one of its UTC timestamps; else UTC."""
    declared = _declared_offset(page.timestamps)
    country = _country_zone(page.url) or _language_zone(page)
    if country is not None and (declared is None or _has_offset(country, declared)):
        return country
    if declared is None:
        declared = _restated_offset(page)
    return declared.tzinfo if declared is not None and declared.tzinfo is not None else UTC


def _has_offset(zone: tzinfo, declared: datetime) -> bool:
    """Whether ``zone`` has ``declared``'s offset in its summer or winter of that year
    (CMSs set to a fixed offset write summer time all year)."""
    offsets = {datetime(declared.year, month, 1, tzinfo=zone).utcoffset() for month in (1, 7)}
    return declared.utcoffset() in offsets


def _restated_offset(page: _Page) -> datetime | None:
    """A timestamp in a script that is, in a local offset, the instant of a UTC
    timestamp in the page's declarations (``"date":"2020-02-24T21:25:54-05:00"`` for
    ``article:published_time`` ``2020-02-25T02:25:54Z``). Only a restatement counts:
    scripts also carry ad servers' clocks and libraries' build times."""
    utc = {t for t in map(_timestamp, page.timestamps) if t and not t.utcoffset()}
    if not utc:
        return None
    scripts = page.tree.xpath(SCRIPT_TEXTS)
    return _declared_offset(map(str, scripts), among=utc)


def _declared_offset(values: Iterable[str], among: set[datetime] | None = None) -> datetime | None:
    """The first timestamp with a UTC offset other than zero in ``values`` (one of the
    instants ``among``, when given)."""
    for value in values:
        for match in _ISO.finditer(value):
            offset = match["tz"]
            if not offset or offset.upper() in {"Z", "UTC", "GMT"} or not offset[1:].strip("0:"):
                continue
            found = _from_match(match, UTC)
            if found is not None and (among is None or found in among):
                return found
    return None


def _country_zone(url: str) -> tzinfo | None:
    """The zone of the country whose top-level domain the host is in; for a country
    with several, the zone most of its people live in. Generic and vanity domains
    (``.com``, ``.io``, ``.tv``) say nothing."""
    host = (urlsplit(url).hostname or "").rstrip(".")
    name = _COUNTRY_ZONES.get(host.rsplit(".", 1)[-1])
    return ZoneInfo(name) if name else None


def _language_zone(page: _Page) -> tzinfo | None:
    """The zone of the page's language (``<html lang>``, else ``og:locale``) when its
    speakers live in one zone: German, Dutch, Japanese; not English, Spanish,
    French, Portuguese or Arabic, nor a region (``en-US``, ``es-ES`` are CMSs'
    defaults, not the publisher's country)."""
    value = page.tree.get("lang") or page.meta_first("og:locale") or ""
    name = _LANGUAGE_ZONES.get(value.replace("_", "-").partition("-")[0].strip().lower())
    return ZoneInfo(name) if name else None


# rules/metadata.yml: the zones of languages and of countries' top-level domains
_LANGUAGE_ZONES = metadata_rules().zones.language_zones
_COUNTRY_ZONES = metadata_rules().zones.country_zones
