"""Golden pages: pages we may ship (the demo site's, written for this project, and
pages written for the tests), stored gzipped under ``tests/golden/`` with the record
extraction must give for each, so that extraction is tested even without
``../shared/``.

After an intended change of what extraction gives, write the expected records again
and review the diff::

    NEWS_INGEST_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/test_golden.py
"""

from __future__ import annotations

import gzip
import json
import os
from pathlib import Path
from typing import Any

import pytest

from ingest.errors import ExtractError
from ingest.extract import ExtractJob, extract_items

GOLDEN = Path(__file__).resolve().parent / "golden"
PAGES = sorted(GOLDEN.glob("*.html.gz"))
FIELDS = ("title", "author", "published_at", "date_source", "language", "site_name",
          "page_type", "word_count", "text")


def record(page: Path) -> dict[str, Any]:
    meta = json.loads(page.with_name(page.name.removesuffix(".html.gz") + ".url.json").read_text())
    job = ExtractJob(source="golden", url=meta["url"], body=gzip.decompress(page.read_bytes()),
                     timezone=meta.get("timezone"))
    try:
        found = extract_items(job)
    except ExtractError as exc:
        return {"rejected": exc.reason}
    got = found[0]
    values = {name: getattr(got, name) for name in FIELDS}
    values["published_at"] = got.published_at.isoformat() if got.published_at else None
    return values


def test_there_are_golden_pages() -> None:
    assert len(PAGES) >= 8


@pytest.mark.parametrize("page", PAGES, ids=[p.name.removesuffix(".html.gz") for p in PAGES])
def test_a_golden_page_gives_its_record(page: Path) -> None:
    expected = page.with_name(page.name.removesuffix(".html.gz") + ".expected.json")
    got = record(page)
    if os.environ.get("NEWS_INGEST_UPDATE_GOLDEN"):
        expected.write_text(json.dumps(got, ensure_ascii=False, indent=1) + "\n")
    assert got == json.loads(expected.read_text())
