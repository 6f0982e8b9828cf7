"""ingest.pagetype: each signal on small made-up pages, the verdict, and the corpus figures.

Each signal test holds a page with the signal beside one without it: without its rule the
two read alike and the test fails. The corpus test runs bench/pagetype.py over wcxb_dev,
scrapinghub_aeb and mozilla_readability's real pages (skipped without ../shared/corpus).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from lxml import etree
from trafilatura.utils import load_html

from ingest import pagetype
from ingest.pagetype import KINDS, PageVerdict, classify, judge, signals

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "corpus"
URL = "https://news.example.org/world/2024/05/01/city-council-approves-new-budget"
PROSE = ("The council met on Tuesday evening and debated the proposal for more than three "
         "hours before a narrow majority approved it, officials said afterwards. ")


def tree(body: str = "", head: str = "") -> Any:
    html = f"<!DOCTYPE html><html><head>{head}</head><body>{body}</body></html>"
    return load_html(html)


def read(body: str = "", head: str = "", url: str = URL, text: str = PROSE,
         title: str | None = "Council approves the new budget",
         author: str | None = None) -> dict[str, float]:
    return signals(tree(body, head), url, text, title=title, author=author)


def count(value: float) -> int:
    """A count signal (log1p) back as a count."""
    return round(2.718281828459045 ** value - 1)


# --- what the page declares ------------------------------------------------------------


def test_og_type() -> None:
    assert read(head='<meta property="og:type" content="article">')["og_article"] == 1
    assert read(head='<meta property="og:type" content="website">')["og_article"] == 0
    assert read(head='<meta property="og:type" content="product">')["og_product"] == 1


def test_article_published_time() -> None:
    meta = '<meta property="article:published_time" content="2024-05-01T10:00:00Z">'
    assert read(head=meta)["published_meta"] == 1
    assert read()["published_meta"] == 0


def test_json_ld_types_at_any_depth() -> None:
    graph = ('<script type="application/ld+json">{"@context": "https://schema.org", '
             '"@graph": [{"@type": "WebSite"}, {"@type": ["Product"], "offers": '
             '{"@type": "Offer"}}]}</script>')
    assert read(head=graph)["ld_product"] == 1
    assert read(head=graph)["ld_article"] == 0
    news = '<script type="application/ld+json">{"@type": "NewsArticle"}</script>'
    assert read(body=news)["ld_article"] == 1  # in <body> too
    assert read()["ld_product"] == read()["ld_article"] == 0


def test_a_forum_posting_is_no_article() -> None:
    """Types ending in "posting" are articles (BlogPosting), except a forum's."""
    post = '<script type="application/ld+json">{"@type": "DiscussionForumPosting"}</script>'
    blog = '<script type="application/ld+json">{"@type": "BlogPosting"}</script>'
    assert read(head=post)["ld_forum"] == 1
    assert read(head=post)["ld_article"] == 0
    assert read(head=blog)["ld_article"] == 1


def test_microdata_type_of_the_headline_item() -> None:
    item = ('<div itemscope itemtype="https://schema.org/NewsArticle"><h1>Budget</h1>'
            f"<p>{PROSE}</p></div>")
    aside = ('<h1>Budget</h1><div itemscope itemtype="https://schema.org/NewsArticle">'
             "<a href='/other'>Another story</a></div>")
    assert read(body=item)["ld_article"] == 1
    assert read(body=aside)["ld_article"] == 0  # a teaser's type is not the page's


# --- the URL's shape -----------------------------------------------------------------


def test_url_shape() -> None:
    found = read(url="https://example.org/2024/05/01/city-council-approves-new-budget")
    assert found["slug_words"] == 5
    assert found["url_date"] == 1
    bare = read(url="https://example.org/products/")
    assert bare["slug_words"] == 1
    assert bare["url_date"] == 0
    assert read(url="https://example.org/")["url_home"] == 1
    assert read(url="https://example.org/news/story")["url_home"] == 0


def test_url_segment_that_names_a_kind() -> None:
    assert read(url="https://example.org/threads/help-with-my-router.123/")["url_forum"] == 1
    assert read(url="https://example.org/docs/install")["url_documentation"] == 1
    assert read(url="https://example.org/blog/why-we-moved")["url_article"] == 1
    assert read(url="https://example.org/viewtopic.php?t=5")["url_forum"] == 1  # the only one
    # the last segment is the page's own name, not a section: a story about forums
    assert read(url="https://example.org/news/forums")["url_forum"] == 0


def test_the_declared_canonical_url_gives_the_shape() -> None:
    canonical = '<link rel="canonical" href="https://example.org/2024/05/01/budget-vote-tonight">'
    found = read(head=canonical, url="http://127.0.0.1:8080/page.html")
    assert found["slug_words"] == 3
    assert found["url_date"] == 1
    # a template's canonical to the home page says nothing of a deeper page
    home = '<link rel="canonical" href="https://example.org/">'
    assert read(head=home, url=URL)["slug_words"] == read(url=URL)["slug_words"]


# --- date, headline, author -------------------------------------------------------------


def test_date_by_the_headline() -> None:
    after = f"<h1>Budget</h1><p class='byline'>By Jane Roe, March 3, 2024</p><p>{PROSE}</p>"
    kicker = f"<p>03.05.2024 | Politics</p><h1>Budget</h1><p>{PROSE}</p>"
    relative = f"<h1>Budget</h1><span>3 hours ago</span><p>{PROSE}</p>"
    assert read(body=after)["head_date"] == 1
    assert read(body=kicker)["head_date"] == 1
    assert read(body=relative)["head_date"] == 1
    assert read(body=f"<h1>Budget</h1><p>{PROSE}</p>")["head_date"] == 0


def test_a_date_far_from_the_headline_or_not_shown_is_not_by_it() -> None:
    far = "<h1>Budget</h1>" + f"<p>{PROSE}</p>" * 30 + "<p>Posted March 3, 2024</p>"
    script = "<h1>Budget</h1><script>var published = 'March 3, 2024';</script><p>Text</p>"
    long_way = "<h1>Budget</h1>" + f"<p>{PROSE * 2}</p>" * 3 + "<p>Posted March 3, 2024</p>"
    assert read(body=far)["head_date"] == 0
    assert read(body=long_way)["head_date"] == 0  # few text nodes, but far in characters
    assert read(body=script)["head_date"] == 0
    assert read(body="<p>March 3, 2024</p>")["head_date"] == 0  # no headline


def test_author_and_headline_length() -> None:
    assert read(author="Jane Roe")["author"] == 1
    assert read(author=None)["author"] == 0
    assert count(read(title="Council approves the new budget")["title_words"]) == 5
    # no spaces in Chinese: a character counts as half a word
    assert count(read(title="海外留学生看两会出国前后关注点大不同")["title_words"]) == 9


# --- the text -----------------------------------------------------------------------


def test_text_in_long_paragraphs() -> None:
    prose = read(text="\n".join([PROSE * 2] * 5))
    menu = read(text="\n".join(["Home", "About us", "Our services", "Contact"] * 20))
    assert prose["long_share"] == 1
    assert menu["long_share"] == 0
    assert prose["sentences"] == 1
    assert menu["sentences"] == 0
    assert prose["text_chars"] > menu["text_chars"]


def test_prices_in_the_text() -> None:
    assert count(read(text="Now $19.99, was $24.99. In Europe 18,50 € or €20.")["prices"]) == 4
    assert read(text=PROSE + " It costs 20 dollars.")["prices"] == 0


def test_paragraphs_in_one_block() -> None:
    one = "<article><div>" + f"<p>{PROSE}</p>" * 6 + "</div></article>"
    spread = "".join(f"<section><div><h2>Part</h2><p>{PROSE}</p></div></section>"
                     for _ in range(6))
    wrapped = "<article>" + f"<div class='block'><p>{PROSE}</p></div>" * 6 + "</article>"
    assert read(body=one)["paragraph_focus"] == 1
    assert read(body=wrapped)["paragraph_focus"] == 1  # a CMS's block around each paragraph
    assert read(body=spread)["paragraph_focus"] < 0.5
    assert count(read(body=one)["long_paragraphs"]) == 0  # 160 characters each
    assert count(read(body=f"<p>{PROSE * 2}</p>")["long_paragraphs"]) == 1


# --- the page's furniture -------------------------------------------------------------


def test_share_of_text_in_links() -> None:
    links = "<ul>" + "".join(f"<li><a href='/s/{i}'>Story number {i}</a></li>"
                             for i in range(20)) + "</ul>"
    assert read(body=links)["link_share"] > 0.9
    assert read(body=f"<p>{PROSE}</p><a href='/more'>More</a>")["link_share"] < 0.1


def test_scripts_are_not_text() -> None:
    script = "<script>" + "var x = 1;" * 500 + "</script>"
    plain = read(body="<a href='/a'>Read more</a><p>Short text here.</p>")
    with_script = read(body=f"<a href='/a'>Read more</a><p>Short text here.</p>{script}")
    assert with_script["link_share"] == plain["link_share"]


def test_code() -> None:
    assert count(read(body="<pre><code>ls -l</code></pre><p>Use <code>ls</code></p>")[
        "code_blocks"]) == 3
    assert read(body=f"<p>{PROSE}</p>")["code_blocks"] == 0


def test_anchored_and_linked_headings() -> None:
    body = ("<h1><a href='/'>Example Docs</a></h1>"  # a headline is not an item's title
            "<h2 id='install'>Install <a href='#install'>¶</a></h2>"
            "<h2><a href='/news/other-story'>Other story</a></h2>"
            "<h3><a href='/news/third-story'>Third story</a></h3>"
            "<h2>Plain heading</h2>")
    found = read(body=body)
    assert count(found["anchored_headings"]) == 1
    assert count(found["linked_headings"]) == 2
    assert read(body="<h2>Plain heading</h2>")["linked_headings"] == 0


def test_links_to_user_profiles() -> None:
    posts = "".join(f"<div class='post'><a href='/members/user{i}.{i}/'>user{i}</a>"
                    f"<a href='/members/user{i}.{i}/'>avatar</a><p>Reply {i}</p></div>"
                    for i in range(5))
    assert count(read(body=posts)["profile_links"]) == 5  # distinct people
    assert read(body="<a href='/author/jane-roe'>Jane Roe</a>")["profile_links"] == 0


def test_time_elements() -> None:
    times = "".join(f"<time datetime='2024-05-0{i}'>May {i}</time>" for i in range(1, 5))
    assert count(read(body=times)["times"]) == 4
    assert read()["times"] == 0


def test_shopping_cart_controls() -> None:
    cart = "<form><button class='btn add-to-cart'>Add to cart</button></form>"
    assert count(read(body=cart)["cart"]) == 1
    assert read(body="<button class='btn share'>Share</button>")["cart"] == 0


def test_counts_are_capped() -> None:
    """A page with thousands of one thing weighs like one with a hundred."""
    many = "".join(f"<a href='/users/u{i}'>u{i}</a>" for i in range(3000))
    hundred = "".join(f"<a href='/users/u{i}'>u{i}</a>" for i in range(100))
    assert read(body=many)["profile_links"] == read(body=hundred)["profile_links"]


# --- the verdict -------------------------------------------------------------------------


def toy_model(threshold: float = 0.5, confidence: float = 0.4) -> dict[str, Any]:
    """Two signals: a date by the headline argues for an article, code for documentation."""
    def feature(article: float, documentation: float, forum: float) -> dict[str, Any]:
        return {"mean": 0.0, "scale": 1.0, "article": article,
                "kinds": {"documentation": documentation, "forum": forum}}
    return {"intercept": 0.0, "threshold": threshold, "kind_confidence": confidence,
            "kind_intercepts": {"documentation": 0.0, "forum": 0.0},
            "features": {"head_date": feature(2.0, 0.0, 0.0),
                         "code_blocks": feature(-1.0, 2.0, -2.0)}}


def test_judge_weighs_the_signals_against_the_threshold() -> None:
    article = judge({"head_date": 1.0, "code_blocks": 0.0}, model=toy_model())
    assert article.kind == "article"
    assert article.is_article
    assert article.score == pytest.approx(1 / (1 + 2.718281828459045 ** -2))
    assert "a date by the headline" in article.evidence
    docs = judge({"head_date": 0.0, "code_blocks": 3.0}, model=toy_model())
    assert docs.kind == "documentation"
    assert not docs.is_article
    assert docs.evidence == "19 code elements"
    assert docs.detail.startswith("documentation (article score 0.05): 19 code elements")
    # the same page is an article when the threshold is lower than its score
    assert judge({"head_date": 0.0, "code_blocks": 3.0},
                 model=toy_model(threshold=0.04)).is_article


def test_a_kind_not_likely_enough_is_other() -> None:
    found = {"head_date": 0.0, "code_blocks": 0.01}  # documentation and forum nearly even
    assert judge(found, model=toy_model(confidence=0.6)).kind == "other"
    assert judge(found, model=toy_model(confidence=0.0)).kind == "documentation"


def test_evidence_quotes_what_the_page_declares() -> None:
    model = toy_model()
    model["features"]["ld_product"] = {"mean": 0.0, "scale": 1.0, "article": -3.0,
                                       "kinds": {"documentation": 0.0, "forum": 0.0}}
    model["features"]["url_forum"] = dict(model["features"]["ld_product"])
    verdict = judge({"ld_product": 1.0, "url_forum": 1.0},
                    {"ld_product": "Product", "url_forum": "threads"}, model=model)
    assert verdict.evidence == "schema.org Product; URL segment /threads/"


def test_classify_reads_the_tree_and_leaves_it_as_it_was() -> None:
    page = tree(f"<h1>Budget</h1><p>March 3, 2024</p><p>{PROSE}</p><script>x()</script>",
                '<meta property="og:type" content="article">')
    before = etree.tostring(page)
    verdict = classify(page, URL, PROSE, title="Budget", published_at=None, author=None)
    assert isinstance(verdict, PageVerdict)
    assert etree.tostring(page) == before


NEWS = f"""
<html><head><title>City council approves new budget | Example News</title>
<meta property="og:type" content="article">
<meta property="article:published_time" content="2024-05-01T10:00:00Z">
<link rel="canonical" href="{URL}">
<script type="application/ld+json">{{"@type": "NewsArticle", "headline": "City council
 approves new budget", "datePublished": "2024-05-01"}}</script></head>
<body><nav><a href="/">Home</a><a href="/world">World</a><a href="/sport">Sport</a></nav>
<article><h1>City council approves new budget after a long debate</h1>
<p class="byline">By Jane Roe, May 1, 2024</p>
<div class="body">{"".join(f"<p>{PROSE * 2}</p>" for _ in range(8))}</div></article>
<footer><a href="/about">About</a><a href="/contact">Contact</a></footer></body></html>
"""

PRODUCT = """
<html><head><meta property="og:type" content="product">
<script type="application/ld+json">{"@type": "Product", "name": "Blue Kettle",
 "offers": {"@type": "Offer", "price": "29.99"}}</script></head>
<body><nav><a href="/">Shop</a><a href="/kitchen">Kitchen</a></nav>
<h1>Blue Kettle</h1><p class="price">$29.99</p>
<form><input name="qty" value="1"><button class="add-to-cart">Add to cart</button></form>
<h2>Description</h2><p>A kettle. 1.7 litres, boils fast.</p>
<h2>Reviews</h2><p>Great kettle!</p></body></html>
"""

THREAD = "<html><head></head><body><h1>Router keeps dropping the connection?</h1>" + "".join(
    f"<div class='message'><a href='/members/user{i}.{i}/'>user{i}</a>"
    f"<time datetime='2024-05-0{i}'>May {i}, 2024</time>"
    f"<p>Have you tried another channel? It helped me.</p></div>" for i in range(1, 9)
) + "</body></html>"


def test_a_news_article_is_an_article() -> None:
    verdict = classify(load_html(NEWS), URL, "\n".join([PROSE * 2] * 8),
                       title="City council approves new budget after a long debate",
                       author="Jane Roe")
    assert verdict.kind == "article", verdict


def test_a_product_page_is_a_product() -> None:
    verdict = classify(load_html(PRODUCT), "https://shop.example/products/blue-kettle",
                       "$29.99\nDescription\nA kettle. 1.7 litres, boils fast.\nReviews\n"
                       "Great kettle!", title="Blue Kettle", author=None)
    assert verdict.kind == "product", verdict
    assert "Product" in verdict.evidence


def test_a_forum_thread_is_a_forum() -> None:
    verdict = classify(load_html(THREAD),
                       "https://forum.example/threads/router-keeps-dropping.123/",
                       "\n".join(["Have you tried another channel? It helped me."] * 8),
                       title="Router keeps dropping the connection?", author="user1")
    assert verdict.kind == "forum", verdict
    assert "/threads/" in verdict.evidence


def test_the_model_reads_every_signal_and_only_them() -> None:
    model = pagetype._model()
    assert set(model["features"]) == set(read())
    assert 0 < model["threshold"] < 0.5
    assert set(model["kind_intercepts"]) <= set(KINDS) - {"article", "other"}


# --- the corpora ---------------------------------------------------------------------------

# What the corpus run measured with this model (bench/pagetype.py, 2026-12-05); the floors
# sit a little below, the ceilings at the targets. The target for pages that are not
# articles, 95% kept out, is far above what these signals reach at this loss of articles
# (see bench/pagetype.py's trade-off table): the floors guard what is reached.
KEPT_OUT_EVEN = 0.47  # measured 0.51 of 203 pages that are not articles
KEPT_OUT_ODD = 0.39  # measured 0.43 of 201
ARTICLES_LOST = 0.02  # combined, any cause: the target; measured 1.3% and 1.0%
CLASSIFIER_LOST = 0.01  # the classifier's own share; measured 1 (0.3%) and 0


@pytest.fixture(scope="module")
def figures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """One run of bench/pagetype.py over the corpora with page types or real articles.
    Extraction is cached (bench/results/pagetype-extraction.json): about 15 s with the
    cache, 90 s without it (the first run after a change to the extraction code)."""
    out = tmp_path_factory.mktemp("pagetype") / "figures.json"
    run = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "pagetype.py"), "--corpus", str(CORPUS),
         "--corpora", "wcxb_dev,scrapinghub_aeb,mozilla_readability", "--timing", "0",
         "--json", str(out)],
        capture_output=True, text=True, timeout=600, check=False,
    )
    print(run.stdout)
    assert run.returncode == 0, run.stderr[-3000:]
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))["figures"]
    return data


corpus = pytest.mark.skipif(
    not all((CORPUS / c).is_dir() for c in ("wcxb_dev", "scrapinghub_aeb",
                                            "mozilla_readability")),
    reason="../shared/corpus absent")


def _share(by_type: dict[str, dict[str, int]], kinds: list[str], key: str) -> float:
    pages = sum(by_type[k]["pages"] for k in kinds)
    return sum(by_type[k].get(key, 0) for k in kinds) / pages


@corpus
@pytest.mark.parametrize(("half", "floor"), [("even", KEPT_OUT_EVEN), ("odd", KEPT_OUT_ODD)])
def test_wcxb_dev(figures: dict[str, Any], half: str, floor: float) -> None:
    by_type = figures[f"wcxb_dev ({half} rows)"]
    others = [k for k in by_type if k != "article"]
    assert set(others) == {"listing", "forum", "product", "documentation", "service",
                           "collection"}
    assert 1 - _share(by_type, others, "loaded") >= floor
    articles = by_type["article"]
    assert 1 - articles["loaded"] / articles["pages"] <= ARTICLES_LOST
    assert articles.get("not_an_article", 0) / articles["pages"] <= CLASSIFIER_LOST


@corpus
def test_no_article_of_the_article_benchmark_is_lost(figures: dict[str, Any]) -> None:
    articles = figures["scrapinghub_aeb"]["article"]
    assert articles["pages"] == 181
    assert articles.get("not_an_article", 0) == 0


@corpus
def test_no_real_page_of_mozilla_readability_is_lost(figures: dict[str, Any]) -> None:
    """The closest call: Mercurial's documentation of a command (46 code elements, 15
    anchored headings) scores 0.089, over the threshold 0.075."""
    articles = figures["mozilla_readability"]["article"]
    assert articles["pages"] == 76
    assert articles.get("not_an_article", 0) == 0
