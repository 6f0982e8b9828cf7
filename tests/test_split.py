"""Splitting list pages: one item per press release, each with its own URL and date."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from ingest.clean import load_rules
from ingest.split import SplitRule, split_page, to_xpath

SEEDS = Path(__file__).parents[2] / "shared" / "seeds"
SEOUL = ZoneInfo("Asia/Seoul")
PAGE = "https://www.motie.go.kr/en/press?page=1"

RELEASES = {
    "vietnam": """
      <div class="item" id="pr-1187">
        <h3><a href="/en/press/1187">Korea and Vietnam hold Business Forum in Seoul</a></h3>
        <span class="date">2024-07-01</span>
        <p>Trade Minister Dukgeun Ahn attended the Korea-Vietnam Business Forum on July 1.</p>
        <p>A total of 23 memorandums of understanding were sealed.</p>
      </div>""",
    "committee": """
      <div class="item">
        <h3>Government holds 6th National Strategic High-Tech Industries Committee meeting</h3>
        <span class="date">2024-06-28</span>
        <p>The Ministry of Trade, Industry and Energy announced the designation of five bio
           specialization complexes.</p>
        <script>track("pr")</script>
      </div>""",
    "undated": """
      <div class="item">
        <h3>Ewha Womans University and Syensqo celebrate 10 years of cooperation</h3>
        <p>Minister for Trade Inkyo Cheong attended the anniversary ceremony.</p>
      </div>""",
    "new": """
      <div class="item">
        <h3>Korea and Lithuania sign a battery supply chain memorandum</h3>
        <span class="date">2024-07-03</span>
        <p>The two governments agreed to share information on critical minerals.</p>
      </div>""",
}
RULE = SplitRule(item="div.item", date="span.date")


def page(*keys: str) -> str:
    items = "".join(RELEASES[k] for k in keys)
    return (f"<html><head><title>Press releases</title></head><body><nav>Home</nav>"
            f"<main><h1>Press releases</h1>{items}</main>"
            f"<footer>Published 2024-07-05</footer></body></html>")


def test_html_items_have_titles_texts_and_their_own_dates() -> None:
    items = split_page(page("vietnam", "committee", "undated"), PAGE, RULE, SEOUL)
    assert [i.title for i in items] == [
        "Korea and Vietnam hold Business Forum in Seoul",
        "Government holds 6th National Strategic High-Tech Industries Committee meeting",
        "Ewha Womans University and Syensqo celebrate 10 years of cooperation",
    ]
    assert items[0].text == (
        "Trade Minister Dukgeun Ahn attended the Korea-Vietnam Business Forum on July 1.\n"
        "A total of 23 memorandums of understanding were sealed.")
    assert items[1].text == ("The Ministry of Trade, Industry and Energy announced the "
                             "designation of five bio specialization complexes.")
    assert [i.published_at for i in items] == [
        datetime(2024, 7, 1, tzinfo=SEOUL), datetime(2024, 6, 28, tzinfo=SEOUL), None]
    assert [i.date_source for i in items] == ["item", "item", None]  # not the page's date


def test_html_item_urls_use_the_id_else_the_title() -> None:
    items = split_page(page("vietnam", "committee"), PAGE + "#top", RULE, SEOUL)
    assert items[0].url == PAGE + "#item-pr-1187"
    assert items[1].anchor.startswith("government-holds-6th-national-strategic-")
    assert items[1].url == f"{PAGE}#item-{items[1].anchor}"


def test_anchors_survive_reordering_and_a_new_item() -> None:
    first = split_page(page("vietnam", "committee", "undated"), PAGE, RULE, SEOUL)
    later = split_page(page("new", "undated", "vietnam", "committee"), PAGE, RULE, SEOUL)
    before = {i.title: i.url for i in first}
    after = {i.title: i.url for i in later}
    assert {t: after[t] for t in before} == before
    assert len(set(after.values())) == 4


def test_twin_titles_get_distinct_anchors() -> None:
    twin = RELEASES["new"].replace("2024-07-03", "2024-07-04")
    html = page("new").replace("</main>", twin + "</main>")
    items = split_page(html, PAGE, RULE, SEOUL)
    assert items[0].title == items[1].title
    assert items[0].anchor != items[1].anchor


def test_defaults_find_heading_and_time_element() -> None:
    html = """<ul class="releases">
      <li><h2>First release</h2><time datetime="2024-06-27T10:00">27 June</time>
          <p>Body one.</p></li>
      <li><h2>Second release</h2><p>Body two.</p></li>
    </ul>"""
    items = split_page(html, PAGE, SplitRule(item="ul.releases > li"), SEOUL)
    assert [(i.title, i.text, i.published_at) for i in items] == [
        ("First release", "Body one.", datetime(2024, 6, 27, 10, 0, tzinfo=SEOUL)),
        ("Second release", "Body two.", None),
    ]


def test_xpath_selectors_and_date_format() -> None:
    html = """<div id="list">
      <article data-key="a1"><h4>Erste Mitteilung</h4><em>01.07.2024</em><p>Text eins.</p>
      </article></div>"""
    rule = SplitRule(item="xpath://div[@id='list']/article", date="xpath:.//em",
                     date_pattern=r"(?P<date>\d{2}\.\d{2}\.\d{4})", date_format="%d.%m.%Y",
                     anchor="data-key")
    [item] = split_page(html, PAGE, rule, SEOUL)
    assert (item.anchor, item.title, item.text) == ("a1", "Erste Mitteilung", "Text eins.")
    assert item.published_at == datetime(2024, 7, 1, tzinfo=SEOUL)


def test_item_texts_are_cleaned_when_rules_are_given() -> None:
    html = page("vietnam").replace("sealed.</p>", "sealed.</p><p>Back to top</p>")
    [raw] = split_page(html, PAGE, RULE, SEOUL)
    [clean] = split_page(html, PAGE, RULE, SEOUL, clean=load_rules())
    assert raw.text.endswith("Back to top")
    assert clean.text.endswith("were sealed.")


def test_empty_page_has_no_items() -> None:
    assert split_page("", PAGE, RULE, SEOUL) == []
    assert split_page("<html><body><p>Nothing</p></body></html>", PAGE, RULE, SEOUL) == []


# --- text mode: the seed whose structure is lost ----------------------------------


def seed_002() -> str:
    found = sorted(SEEDS.glob("002_*.txt")) if SEEDS.is_dir() else []
    if not found:
        pytest.skip(f"seed 002 not found in {SEEDS}")
    return found[0].read_text(encoding="utf-8")


TEXT_RULE = SplitRule(separator="-+")


def test_seed_002_one_item_per_release_with_the_glued_date() -> None:
    items = split_page("", PAGE, TEXT_RULE, SEOUL, text=seed_002(), clean=load_rules())
    assert len(items) == 8
    assert items[0].title == ("Korea and Vietnam hold Business Forum in Seoul on occasion of "
                              "Vietnamese PM's visit")
    assert items[0].text.startswith("Trade, Industry and Energy Minister Dukgeun Ahn attended")
    assert items[0].text.endswith("between the two countries’ private sectors.")
    assert [i.published_at.date().isoformat() for i in items if i.published_at] == [
        "2024-07-01", *["2024-06-28"] * 5, "2024-06-27", "2024-06-27"]
    assert all("date2024" not in i.text for i in items)
    assert len({i.url for i in items}) == 8


def test_seed_002_date_pattern_without_clean_rules() -> None:
    rule = SplitRule(separator="-+", date_pattern=r"\bdate(?P<date>\d{4}-\d{2}-\d{2})\s*$")
    items = split_page("", PAGE, rule, SEOUL, text=seed_002())
    assert items[-1].published_at == datetime(2024, 6, 27, tzinfo=SEOUL)
    assert items[-1].text.endswith("innovations in Korea.")


def test_seed_002_anchors_do_not_depend_on_order() -> None:
    text = seed_002()
    chunks = text.strip().removeprefix("-\n").split("\n-\n")
    reversed_text = "-\n" + "\n-\n".join(reversed(chunks))
    forward = split_page("", PAGE, TEXT_RULE, SEOUL, text=text)
    backward = split_page("", PAGE, TEXT_RULE, SEOUL, text=reversed_text)
    assert {i.title: i.url for i in forward} == {i.title: i.url for i in backward}


def test_text_mode_item_without_a_date_gets_none() -> None:
    text = "-\nFirst title\nFirst body. date2024-07-01\n-\nSecond title\nSecond body."
    items = split_page("", PAGE, TEXT_RULE, SEOUL, text=text, clean=load_rules())
    assert [(i.title, i.text, i.published_at) for i in items] == [
        ("First title", "First body.", datetime(2024, 7, 1, tzinfo=SEOUL)),
        ("Second title", "Second body.", None),
    ]


def test_text_mode_reads_the_pages_visible_text_without_extracted_text() -> None:
    html = "<html><body><p>Alpha</p><p>Alpha body.</p><hr><p>-</p><p>Beta</p><p>Beta body.</p>"
    items = split_page(html, PAGE, TEXT_RULE, SEOUL)
    assert [(i.title, i.text) for i in items] == [("Alpha", "Alpha body."), ("Beta", "Beta body.")]


# --- configuration -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("css", "xpath"),
    [
        ("div.item", "//div[contains(concat(' ', normalize-space(@class), ' '), ' item ')]"),
        ("#list > li", "//*[@id='list']/li"),
        ("ul li[data-id]", "//ul//li[@data-id]"),
        ("a[rel=\"next\"], h2", "//a[@rel='next'] | //h2"),
    ],
)
def test_css_subset_as_xpath(css: str, xpath: str) -> None:
    assert to_xpath(css, relative=False) == xpath


@pytest.mark.parametrize(
    "bad",
    [
        {},
        {"item": "div.item", "separator": "-+"},
        {"separator": "-+", "title": "h3"},
        {"item": "div:nth-child(2)"},
        {"item": "xpath://div[@class="},
        {"separator": "("},
        {"separator": "-+", "date_pattern": r"\d{4}"},
        {"item": "div", "colour": "red"},
    ],
)
def test_invalid_split_rules_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        SplitRule.model_validate(bad)
