"""Near-duplicate detection, measured through the real load path.

    .venv/bin/python bench/dedup.py

Two sets, both loaded with ingest.load.load_batch into a fresh embedded
PostgreSQL, then read back from news.articles.story_id:

* constructed re-posts: each of the 181 scrapinghub_aeb articles (true text) and
  seven copies of it made the ways other sites re-post: an aggregator's wrapper
  (seed 000's "Source link / Author / Publish date / Copyright / Exit mobile
  version" lines), a re-poster's (seed 004's glued " date 2023-06-27 ", credit,
  hashtags), re-flowed paragraphs and typography, small edits (words changed,
  a paragraph dropped, an "Also read" line, another title), the first 80% and
  the first 60%, and trafilatura's extraction of the real page. Recall: copies
  that share their original's story. False merges: different articles that
  share a story (16,290 pairs).
* SemEval 2022 task 8 (human-labelled pairs of real articles): pairs labelled
  same story / different story, with their verdicts.

Targets: no false merge of different stories; recall >= 95% on the re-posts.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ingest import db
from ingest.dedup import band_keys, content_hash, word_count
from ingest.load import load_batch
from ingest.models import Article

CORPUS = ROOT.parent / "shared" / "corpus"
WORDS = ("market", "report", "growth", "policy", "official", "agency", "region", "sector")


def wrap_aggregator(text: str, rng: random.Random) -> str:
    title = text.split("\n", 1)[0][:80]
    return (f"{title}\n\n{title}\n\n{text}\n\nSource link : http://www.bing.com/news/apiclick."
            f"aspx?ref=FexRss&aid=&tid={rng.getrandbits(64):x}&url=https%3a%2f%2fexample.com"
            "\n\nAuthor :\n\nPublish date : 2024-09-23 22:57:00\n\nCopyright for syndicated "
            "content belongs to the linked Source.\n\nExit mobile version")


def wrap_reposter(text: str, rng: random.Random) -> str:
    day = f"2023-0{rng.randint(1, 9)}-{rng.randint(10, 28)}"
    return (f" date {day} {text}\n\n///nCa, {day} (based on postings by The Daily)\n\n"
            "#Korea, #Central_Asia, #Economy")


def reflow(text: str, rng: random.Random) -> str:
    sentences = re.split(r"(?<=[.!?])\s+", text.replace("\n", " "))
    out, paragraph = [], []
    for sentence in sentences:
        paragraph.append(sentence.replace("'", "’").replace('"', "“"))
        if rng.random() < 0.3:
            out.append(" ".join(paragraph))
            paragraph = []
    out.append(" ".join(paragraph))
    return "\n\n".join(out)


def edit(text: str, rng: random.Random) -> str:
    paragraphs = [p for p in text.split("\n") if p.strip()]
    if len(paragraphs) > 3:
        paragraphs.pop(rng.randrange(1, len(paragraphs)))
    edited = []
    for p in paragraphs:
        words = p.split()
        for _ in range(rng.randint(1, 3)):
            if words:
                words[rng.randrange(len(words))] = rng.choice(WORDS)
        edited.append(" ".join(words))
    edited.insert(min(2, len(edited)), "Also read: the week's other business stories.")
    return "A different headline for the same story\n\n" + "\n\n".join(edited)


def cut(share: float):
    def truncate(text: str, rng: random.Random) -> str:
        words = text.split(" ")
        return " ".join(words[: max(1, int(len(words) * share))]) + " ..."
    return truncate


def article(n: int, source: str, text: str, when: datetime) -> Article:
    url = f"https://{source}.example/{n}"
    return Article(source=source, url=url, urls=[(url, "canonical")],
                   title=f"T{n}", author=None, published_at=None, language="en",
                   site_name=None, text=text, word_count=word_count(text),
                   content_hash=content_hash(text), bands=band_keys(text), fetched_at=when)


def constructed(dsn: str) -> None:
    import trafilatura

    rows = [json.loads(line) for line in
            (CORPUS / "scrapinghub_aeb" / "ground_truth.jsonl").open(encoding="utf-8")]
    rng = random.Random(7)
    makers = {"aggregator": wrap_aggregator, "reposter": wrap_reposter, "reflow": reflow,
              "edit": edit, "first80": cut(0.8), "first60": cut(0.6)}
    started = datetime(2026, 11, 1, tzinfo=UTC)
    originals, copies = [], []
    for n, row in enumerate(rows):
        originals.append(article(n, "original", row["text"], started + timedelta(minutes=n)))
        for kind, make in makers.items():
            copies.append((n, kind, article(n, kind, make(row["text"], rng),
                                            started + timedelta(days=1, minutes=n))))
        html = (CORPUS / "scrapinghub_aeb" / row["html_path"]).read_bytes()
        extracted = trafilatura.extract(html, include_comments=False) or ""
        copies.append((n, "extracted", article(n, "extracted", extracted,
                                               started + timedelta(days=1, minutes=n))))
    clock = time.perf_counter()
    with db.connect(dsn, autocommit=True) as conn:
        for start in range(0, len(originals), 200):
            load_batch(conn, "originals", originals[start:start + 200])
        for start in range(0, len(copies), 200):
            load_batch(conn, "copies", [a for _, _, a in copies[start:start + 200]])
        story = dict(conn.execute(  # exact copies are one document under several URLs
            "SELECT u.url, a.story_id FROM news.article_urls u JOIN news.articles a USING "
            "(article_id)").fetchall())
    took = time.perf_counter() - clock
    found: dict[str, list[bool]] = {}
    for n, kind, copy in copies:
        same = story.get(copy.url) == story.get(originals[n].url)
        found.setdefault(kind, []).append(same)
    recall = sum(sum(v) for v in found.values()) / sum(len(v) for v in found.values())
    original_stories = [story[o.url] for o in originals]
    merged = sum(1 for a, b in itertools.combinations(original_stories, 2) if a == b)
    pairs = len(originals) * (len(originals) - 1) // 2
    print(f"constructed re-posts of {len(originals)} scrapinghub_aeb articles "
          f"({len(originals) + len(copies)} documents loaded in {took:.1f} s):")
    for kind, hits in found.items():
        print(f"  {kind:<11} recall {sum(hits) / len(hits):6.1%}  ({sum(hits)}/{len(hits)})")
    print(f"  overall     recall {recall:6.1%}  (target >= 95%)")
    print(f"  false merges of different stories: {merged} of {pairs:,} pairs (target 0)")


def semeval(dsn: str) -> None:
    folder = CORPUS / "news_dedup" / "semeval2022_task8"
    texts = {}
    for line in (folder / "articles.jsonl").open(encoding="utf-8"):
        row = json.loads(line)
        texts[row["id"]] = row.get("text") or ""
    when = datetime(2026, 11, 1, tzinfo=UTC)
    docs = {i: article(n, f"semeval{n}", t, when + timedelta(minutes=n))
            for n, (i, t) in enumerate(sorted(texts.items()))}
    with db.connect(dsn, autocommit=True) as conn:
        conn.execute("TRUNCATE news.articles CASCADE")
        load_batch(conn, "semeval", list(docs.values()))
        story = dict(conn.execute(
            "SELECT u.url, a.story_id FROM news.article_urls u JOIN news.articles a USING "
            "(article_id)").fetchall())
    same_merged = same = diff_merged = diff = 0
    labelled_same = set()
    for name in ("pairs_labeled.jsonl", "pairs_derived.jsonl"):
        for line in (folder / name).open(encoding="utf-8"):
            pair = json.loads(line)
            a, b = docs.get(pair["a"]), docs.get(pair["b"])
            if a is None or b is None:
                continue
            merged = story.get(a.url) == story.get(b.url)
            if pair.get("same_story"):
                labelled_same.add(frozenset((pair["a"], pair["b"])))
                same += 1
                same_merged += merged
            elif pair.get("different_story"):
                diff += 1
                diff_merged += merged
    others = [pair for pair in itertools.combinations(sorted(docs), 2)
              if frozenset(pair) not in labelled_same]
    other_merged = sum(story[docs[a].url] == story[docs[b].url] for a, b in others)
    print(f"SemEval 2022 task 8 ({len(docs)} articles): same-story pairs merged "
          f"{same_merged}/{same} (re-posts only are merged: independently written coverage of "
          f"an event is not a copy); different-story pairs merged {diff_merged}/{diff}; all "
          f"other pairs merged {other_merged}/{len(others)} (target 0)")


def main() -> None:
    if not (CORPUS / "scrapinghub_aeb").is_dir():
        sys.exit(f"no corpus under {CORPUS}")
    with tempfile.TemporaryDirectory(prefix="news-bench-") as home:
        dsn = db.embedded_dsn(Path(home))
        with db.connect(dsn, autocommit=True) as conn:
            db.migrate(conn)
        constructed(dsn)
        semeval(dsn)


if __name__ == "__main__":
    main()
