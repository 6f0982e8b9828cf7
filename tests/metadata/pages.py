"""Small hand-written pages, and the call that reads them, for the metadata tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from lxml.html import HtmlElement

from ingest.metadata import PageMetadata, page_metadata

SEOUL = ZoneInfo("Asia/Seoul")
NOW = datetime(2024, 7, 10, 12, 0, tzinfo=UTC)
URL = "https://news.example.com/economy/story-1234"


def page(head: str = "", body: str = "") -> str:
    return f"<!DOCTYPE html><html><head>{head}</head><body>{body}<p>Text.</p></body></html>"


def meta(name: str, content: str, attr: str = "property") -> str:
    return f'<meta {attr}="{name}" content="{content}">'


def jsonld(data: object) -> str:
    return f'<script type="application/ld+json">{json.dumps(data)}</script>'


def run(html: str | HtmlElement, url: str = URL, **kwargs: Any) -> PageMetadata:
    kwargs.setdefault("zone", SEOUL)
    kwargs.setdefault("now", NOW)
    kwargs.setdefault("fallback", {"date": None})  # htmldate ran and found nothing
    return page_metadata(html, url, **kwargs)
