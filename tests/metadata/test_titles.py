"""The title's rules (ingest.metadata.titles) on small hand-written pages."""

from __future__ import annotations

import pytest

from .pages import jsonld, meta, page, run


@pytest.mark.parametrize(
    ("title", "site_meta", "expected"),
    [
        ("Rates rise again | The Daily Ledger", meta("og:site_name", "The Daily Ledger"), "Rates rise again"),
        ("The Daily Ledger :: Rates rise again", meta("og:site_name", "The Daily Ledger"), "Rates rise again"),
        # the host names the site: news.example.com
        ("Rates rise again – Example", "", "Rates rise again"),
        # JSON-LD names the publisher
        ("Rates rise again » Ledger Online",
         jsonld({"@type": "NewsArticle", "publisher": {"@type": "Organization", "name": "Ledger Online"}}),
         "Rates rise again"),
    ],
)
def test_the_site_name_leaves_the_title(title: str, site_meta: str, expected: str) -> None:
    assert run(page(f"<title>{title}</title>{site_meta}")).title == expected


def test_the_heading_that_og_title_confirms_wins_over_other_headings() -> None:
    html = page(
        meta("og:title", "Exports climb for a fifth month") + "<title>Exports climb | Ledger</title>",
        "<h1>Latest news</h1><article><h1>Exports climb for a fifth month</h1></article>",
    )
    assert run(html).title == "Exports climb for a fifth month"


def test_a_kicker_set_apart_in_the_heading_is_left_out() -> None:
    html = page(
        meta("og:title", "Energy: Prices fall again"),
        '<h1><span class="kicker">Energy</span> Prices fall again</h1>',
    )
    assert run(html).title == "Prices fall again"


def test_a_kicker_the_heading_shows_with_a_colon_stays() -> None:
    html = page(
        meta("og:title", "Energy: Prices fall again"),
        '<h1><span class="kicker">Energy:</span> Prices fall again</h1>',
    )
    assert run(html).title == "Energy: Prices fall again"


def test_a_logo_heading_names_the_site() -> None:
    html = page(
        "<title>Ledger Blog | Why we moved to Postgres</title>",
        '<h1 class="site-title"><a href="https://news.example.com/">Ledger Blog</a></h1>',
    )
    assert run(html).title == "Why we moved to Postgres"


def test_entities_and_spacing_are_normalised() -> None:
    html = page(meta("og:title", "Tom &amp;amp; Jerry\n   return"), "<h1>Tom &amp; Jerry return</h1>")
    assert run(html).title == "Tom & Jerry return"


def test_the_feed_title_confirms_a_heading() -> None:
    html = page("<title>Home</title>", "<h2>Weather</h2><h1>Storm closes the port</h1><h1>Sport</h1>")
    assert run(html, feed_title="Storm closes the port").title == "Storm closes the port"


def test_the_only_h1_beats_an_seo_title_that_confirms_nothing() -> None:
    html = page(meta("og:title", "Best rates 2024 compared") + "<title>Rates | Ledger</title>",
                "<h1>Which savings account pays most?</h1><h2>Compare</h2>")
    assert run(html).title == "Which savings account pays most?"


def test_a_title_alone_loses_its_tail_but_not_a_colon() -> None:
    assert run(page("<title>Port reopens after the storm – Harbour Notes</title>")).title == (
        "Port reopens after the storm")
    assert run(page("<title>Port reopens: what it means</title>")).title == "Port reopens: what it means"


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        # the site's name has a separator of its own
        (meta("og:site_name", "AOC media - Analyse Critique")
         + meta("og:title", "Rates rise again | AOC media - Analyse Critique"), "", "Rates rise again"),
        # a heading that prints the document title, site and all
        (meta("og:site_name", "Ledger") + meta("og:title", "Rates rise again"),
         "<h1>Rates rise again | Ledger</h1>", "Rates rise again"),
        # CJK titles have no spaces around their separators
        ("<title>港口在风暴后重新开放-新华网</title>", "", "港口在风暴后重新开放"),
        ("<title>Rates rise again │ Ledger</title>" + meta("og:site_name", "Ledger"), "", "Rates rise again"),
    ],
)
def test_the_site_name_leaves_titles_and_headings(head: str, body: str, expected: str) -> None:
    assert run(page(head, body)).title == expected


def test_the_site_name_inside_a_few_words_is_the_site() -> None:
    html = page("<title>EFC Ledger Fans Regensburg - Club sets course for the future - Club press</title>")
    assert run(html, url="https://www.ledgerfans.de/news/504").title == "Club sets course for the future"


def test_a_banner_heading_that_starts_with_the_site_name_is_not_the_headline() -> None:
    html = page(meta("og:site_name", "Ledger") + "<title>Port reopens » Ledger e.V.</title>",
                "<h1>Ledger e.V.<br>Association for harbour workers and their families</h1>")
    assert run(html).title == "Port reopens"


def test_of_two_confirmed_headings_the_h1_then_the_longer_wins() -> None:
    html = page(meta("og:title", "Exports climb for a fifth month") + "<title>News</title>",
                "<h1>News</h1><h1>Exports climb for a fifth month</h1>")
    assert run(html).title == "Exports climb for a fifth month"
    html = page(meta("og:title", "Exports climb again") + "<title>Exports climb for a fifth month</title>",
                "<h2>Exports climb again</h2><h1>Exports climb for a fifth month</h1>")
    assert run(html).title == "Exports climb for a fifth month"


def test_the_only_h1_that_goes_on_from_a_confirmed_teaser_heading_wins() -> None:
    html = page(meta("og:title", "Cell maker expands its gigafactory")
                + "<title>Cell maker expands its gigafactory</title>",
                "<h1>Cell maker expands its gigafactory in Tennessee</h1>"
                '<aside><h3 class="entry-title">Cell maker expands its gigafactory</h3>'
                '<h3 class="entry-title">Dekra opens a lab</h3></aside>')
    assert run(html).title == "Cell maker expands its gigafactory in Tennessee"


def test_an_h2_that_a_meta_title_names_beats_an_unconfirmed_h1() -> None:
    html = page("<title>Babies who eat peanuts early may avoid allergy</title>",
                "<h1>Allergies Health Center</h1><h2>Babies who eat peanuts early may avoid allergy</h2>")
    assert run(html).title == "Babies who eat peanuts early may avoid allergy"


def test_the_piece_that_differing_meta_titles_share_is_the_title() -> None:
    html = page(meta("og:title", "Steam ahead?: Harbour Tycoon 2 beta")
                + "<title>Previews: Harbour Tycoon 2 beta</title>", "<h2>Latest</h2>")
    assert run(html).title == "Harbour Tycoon 2 beta"


def test_a_lone_word_is_a_section_not_the_title() -> None:
    html = page(meta("og:title", "Newsroom") + "<title>Vaccination stays possible everywhere</title>")
    assert run(html).title == "Vaccination stays possible everywhere"


def test_a_heading_like_an_seo_title_in_other_words_is_confirmed() -> None:
    html = page(meta("og:title", "Join our panel today!")
                + "<title>Quick fresh hair in any situation with the new Wellaflex dry shampoo</title>",
                "<h1>Wellaflex: quick fresh hair in any situation with the dry shampoo</h1><h1>Usage</h1>")
    assert run(html).title == "Wellaflex: quick fresh hair in any situation with the dry shampoo"


def test_a_heading_whose_words_an_seo_title_all_has_beats_an_h2_it_names() -> None:
    html = page(meta("og:title", "Share files anywhere - Ledger Cloud 5 online file storage for teams"),
                "<h1>Ledger Cloud 5 for teams</h1><h2>Share files anywhere</h2><h2>Pricing</h2>")
    assert run(html).title == "Ledger Cloud 5 for teams"


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        # a <time> in the heading
        (meta("og:title", "The most beautiful end of the world"),
         '<h2 class="entry-title"><time datetime="2019-06-17">Jun 17</time> The most beautiful end'
         " of the world</h2>", "The most beautiful end of the world"),
        # a date set before the headline
        (meta("og:title", "23.01.2022 - Wierer wins at home"), "<h1>23.01.2022 - Wierer wins at home</h1>",
         "Wierer wins at home"),
    ],
)
def test_a_date_is_no_part_of_the_title(head: str, body: str, expected: str) -> None:
    assert run(page(head, body)).title == expected


def test_a_meta_title_cut_by_an_unescaped_quote_is_made_whole() -> None:
    html = page('<meta property="og:title" content="Senator calls Biden "unfit"">'
                '<title>Senator calls Biden "unfit"</title>')
    assert run(html).title == 'Senator calls Biden "unfit"'


@pytest.mark.parametrize(
    ("head", "body", "expected"),
    [
        # a kicker in emphasis
        (meta("og:title", "Remembering the victims"), "<h1><em>Memorial day</em> Remembering the victims</h1>",
         "Remembering the victims"),
        # an SEO title names the kicker, JSON-LD the headline
        (meta("og:title", "Adblue refill: where to buy") + "<title>Adblue refill: where to buy</title>"
         + jsonld({"@type": "NewsArticle", "headline": "How to use Adblue"}),
         '<h1><span class="kicker">Adblue refill: where to buy</span> How to use Adblue</h1>',
         "How to use Adblue"),
        # the title names the kicker and part of the headline
        ("<title>Energy Initiative - free power check</title>",
         '<h1><span class="kicker">Energy Initiative</span> Free power check for households</h1>',
         "Free power check for households"),
        # markup splits the headline; a subtitle follows it
        (meta("og:title", "Fish cakes, hot and fresh"),
         '<h1>Fish cakes, hot <span class="hl">and</span> fresh<br>Welcome to the north</h1>',
         "Fish cakes, hot and fresh"),
    ],
)
def test_the_headline_among_a_headings_pieces(head: str, body: str, expected: str) -> None:
    assert run(page(head, body)).title == expected


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("<h2>[&gt; Port reopens</h2>", "Port reopens"),
        ("<h2>» Port reopens</h2>", "Port reopens"),
        # brackets closed later and quotes are the headline's own
        ("<h2>[Video]: Port reopens</h2>", "[Video]: Port reopens"),
        ("<h2>»Port« reopens</h2>", "»Port« reopens"),
    ],
)
def test_a_heading_loses_the_marks_set_before_it_like_a_bullet(body: str, expected: str) -> None:
    title = "Video: Port reopens" if "Video" in body else "Port reopens"
    assert run(page(f"<title>{title}</title>", body)).title == expected


def test_an_h2_that_two_meta_titles_name_beats_an_h1_that_one_names() -> None:
    head = (meta("og:title", "Port reopens after the storm")
            + jsonld({"@type": "NewsArticle", "headline": "Port reopens after the storm"})
            + "<title>After the storm: port reopens</title>")
    body = "<h1>After the storm: port reopens</h1><h2>Port reopens after the storm</h2>"
    assert run(page(head, body)).title == "Port reopens after the storm"
    # one meta title for the h2 is no more than the h1 has
    head = meta("og:title", "Port reopens after the storm") + "<title>After the storm: port reopens</title>"
    assert run(page(head, body)).title == "After the storm: port reopens"


@pytest.mark.parametrize(
    "heading",
    ['<h2 itemprop="headline">Which savings account pays most?</h2>',
     '<h2><a href="/economy/story-1234">Which savings account pays most?</a></h2>'],
)
def test_the_only_declared_h2_beats_a_title_that_confirms_nothing(heading: str) -> None:
    html = page("<title>Savings - Ledger - Money</title>", heading + "<h3>More</h3>")
    assert run(html).title == "Which savings account pays most?"


@pytest.mark.parametrize("kicker", ["strapline", "article__topline", "article-headline-kicker"])
def test_a_heading_classed_a_kicker_is_not_the_headline(kicker: str) -> None:
    html = page("<title>Port opens its maps - Update: harbour tool</title>",
                f'<h1 class="{kicker}">Update: harbour tool</h1><h2 class="title">Port opens its maps</h2>')
    assert run(html).title == "Port opens its maps"


def test_the_first_h2_of_main_beats_a_lone_title_tag() -> None:
    body = ('<nav><h2>Menu</h2></nav><main><h2 class="text-hide">Main content</h2>'
            "<h2>Weak layers, low avalanche danger</h2><p>Text.</p><h2>Outlook</h2></main>")
    assert run(page("<title>Weekly report 14 - 20 January</title>", body)).title == (
        "Weak layers, low avalanche danger")
    # an og:title is the page's own title, not a menu's name
    head = meta("og:title", "Weekly report 14 - 20 January")
    assert run(page(head, body)).title == "Weekly report 14 - 20 January"


def test_ruby_readings_are_no_part_of_a_heading() -> None:
    html = page("<title>ニュース</title>",
                "<h1><ruby>子<rt>こ</rt></ruby>どもへの<ruby>体罰<rp>(</rp><rt>たいばつ</rt><rp>)</rp></ruby>"
                "を禁止する法律ができる</h1>")
    assert run(html).title == "子どもへの体罰を禁止する法律ができる"


def test_of_several_h1_the_only_one_in_an_article_beats_a_title_that_confirms_nothing() -> None:
    body = ("<main><article><h1>Which savings account pays most?</h1><p>Text.</p></article>"
            '<div class="newsletter"><h1>Love in your inbox: our newsletter</h1></div></main>')
    assert run(page("<title>Savings guide | Ledger | Read now!</title>", body)).title == (
        "Which savings account pays most?")


def test_without_main_the_first_h2_beats_a_lone_title_tag_it_shares_a_word_with() -> None:
    body = '<div id="menu"><h2 class="sr-only">Menu</h2></div><h2>Boat crew training</h2><h2>Dates</h2>'
    assert run(page("<title>Fire brigade Oldenburg - Training</title>", body)).title == (
        "Boat crew training")
    # no word in common: the title stays (without its tail, as a title alone does)
    assert run(page("<title>Fire brigade Oldenburg - Courses</title>", body)).title == (
        "Fire brigade Oldenburg")
