"""Extraction quality on the real corpora of ../shared/corpus: ours is never worse than
trafilatura alone.

One run of ``bench/extraction.py --corpora CORPORA --limit LIMIT --json`` (both extractors on
the same pages, in the same run, in a process pool) feeds every test here. The subset: the
first LIMIT (300) pages of trafilatura_eval, and all of scrapinghub_aeb (181) and of
mozilla_readability's real pages (76), since LIMIT is above those: 557 pages, about 50 s of
CPU, under 40 s on two idle cores (wcxb_dev is left to the bench: its first 300 pages would
add about 60%). The relative floors compare with trafilatura's defaults measured in that same
run; the absolute floors were set a few points below what this same subset measured (see each
constant), so they hold for the subset, not for the whole corpus.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ingest.evaluate import CORPORA

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
LIMIT = 300

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not all((CORPUS / c).is_dir() for c in CORPORA),
                       reason="../shared/corpus absent"),
]

# Absolute floors, a few points below what this subset measured with extract_page on
# 2026-11-23 (measured value in the comment; trafilatura's defaults beside it).
AEB_TEXT_F1 = 0.95  # 0.9648 (0.9582)
SNIPPET_F1 = 0.93  # 0.9515 (0.9464)
MOZILLA_TEXT_F1 = 0.92  # 0.9446 (0.9444)
TRAF_TITLES = 0.91  # 0.9358 of 218 (0.6376)
TRAF_DATES = 0.91  # 0.9389 of 180 (0.9167); 0.9167 before each page's zone was inferred
TRAF_AUTHORS = 0.72  # 0.7429 of 140 (0.6214)
# Readability's expected titles are its document titles, site names included
# ("How to Build a Terrarium | eHow"), which ours strip on purpose: below trafilatura's
# here, by design.
MOZILLA_TITLES = 0.60  # 0.6447 of 76 (0.7763)
MOZILLA_BYLINES = 0.78  # 0.8136 of 59 (0.5932)


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp("extraction") / "figures.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "extraction.py"), "--corpus", str(CORPUS),
         "--corpora", ",".join(CORPORA), "--limit", str(LIMIT), "--json", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )
    print(run.stdout)
    assert run.returncode == 0, run.stderr[-3000:]
    corpora: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))["corpora"]
    return corpora


def metric(figures: dict[str, Any], corpus: str, name: str) -> tuple[float, float]:
    sides = figures[corpus]["metrics"][name]
    return sides["ours"], sides["defaults"]


def test_aeb_text_not_below_trafilatura(figures: dict[str, Any]) -> None:
    assert figures["scrapinghub_aeb"]["counts"]["pages"] == 181
    ours, defaults = metric(figures, "scrapinghub_aeb", "text F1")
    assert ours >= defaults, f"AEB text F1 {ours:.4f} below trafilatura defaults {defaults:.4f}"
    assert ours >= AEB_TEXT_F1


def test_snippets_not_below_trafilatura(figures: dict[str, Any]) -> None:
    ours, defaults = metric(figures, "trafilatura_eval", "snippet F1")
    assert ours >= defaults, f"snippet F1 {ours:.4f} below trafilatura defaults {defaults:.4f}"
    assert ours >= SNIPPET_F1


def test_mozilla_text_not_below_trafilatura(figures: dict[str, Any]) -> None:
    assert figures["mozilla_readability"]["counts"]["pages"] == 76
    ours, defaults = metric(figures, "mozilla_readability", "text F1")
    assert ours >= defaults, f"text F1 {ours:.4f} below trafilatura defaults {defaults:.4f}"
    assert ours >= MOZILLA_TEXT_F1


@pytest.mark.parametrize(("corpus", "name", "floor"), [
    ("trafilatura_eval", "titles", TRAF_TITLES),
    ("trafilatura_eval", "dates (day)", TRAF_DATES),
    ("trafilatura_eval", "authors", TRAF_AUTHORS),
    ("mozilla_readability", "titles", MOZILLA_TITLES),
    ("mozilla_readability", "bylines", MOZILLA_BYLINES),
])
def test_metadata_floors(figures: dict[str, Any], corpus: str, name: str, floor: float) -> None:
    ours, defaults = metric(figures, corpus, name)
    assert ours >= floor, f"{corpus} {name}: {ours:.4f} (trafilatura defaults {defaults:.4f})"
    if (corpus, name) != ("mozilla_readability", "titles"):  # see MOZILLA_TITLES
        assert ours >= defaults, f"{corpus} {name}: {ours:.4f} below trafilatura {defaults:.4f}"
