"""Text cleaning: the seeds' dirt goes, real sentences in any language stay."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from ingest.clean import CleanRule, clean_text, load_rules

SEEDS = Path(__file__).parents[2] / "shared" / "seeds"
SEOUL = ZoneInfo("Asia/Seoul")
RULES = load_rules()


def seed(prefix: str) -> str:
    found = sorted(SEEDS.glob(f"{prefix}_*.txt")) if SEEDS.is_dir() else []
    if not found:
        pytest.skip(f"seed {prefix} not found in {SEEDS}")
    return found[0].read_text(encoding="utf-8")


def removed_by(text: str) -> list[str]:
    return [name for name, _ in clean_text(text, RULES).removed]


# --- the seeds -------------------------------------------------------------------


def test_seed_000_aggregator_template_goes_and_its_date_is_found() -> None:
    out = clean_text(seed("000"), RULES)
    names = [name for name, _ in out.removed]
    assert names == ["repeated", "source_link", "author_label", "publish_date",
                     "syndication_notice", "exit_mobile_version"]
    assert out.text.startswith("Entrepreneurs of Korea, Lithuania vow to join forces")
    assert out.text.count("Entrepreneurs of Korea, Lithuania vow") == 1
    assert out.text.endswith("explore new opportunities.”")
    for dirt in ("Source link", "bing.com", "Author :", "Publish date", "syndicated", "Exit mobile"):
        assert dirt not in out.text
    assert [d.rule for d in out.dates] == ["publish_date"]
    assert out.published_at(SEOUL) == datetime(2024, 9, 23, 22, 57, tzinfo=SEOUL)


def test_seed_001_captions_printed_twice_keep_one_copy() -> None:
    text = seed("001")
    caption = ("President Yoon Suk-yeol takes a commemorative photo with the leaders of the "
               "Asia-Pacific partner countries")
    assert text.count(caption) == 2
    out = clean_text(text, RULES)
    assert out.text.count(caption) == 1
    assert out.text.count("shakes hands with President Klaus Iohannis") == 1
    assert [name for name, _ in out.removed] == ["repeated", "repeated", "reproduction_notice"]
    assert "Prohibited from unauthorized reproduction" not in out.text
    assert out.text.startswith("International Sales Diplomacy\n")
    assert out.text.endswith("adopted on July 11 (local time).")


def test_seed_002_glued_dates_are_cut_and_reported_but_none_is_the_page_date() -> None:
    out = clean_text(seed("002"), RULES)
    assert "date2024" not in out.text
    assert "between the two countries’ private sectors.\n-\n" in out.text
    assert [d.value.date().isoformat() for d in out.dates if d.value] == [
        "2024-07-01", *["2024-06-28"] * 5, "2024-06-27", "2024-06-27"]
    assert out.published_at(SEOUL) is None  # a list page states a date per item


def test_seed_003_navigation_and_stray_korean_go_the_byline_stays() -> None:
    out = clean_text(seed("003"), RULES)
    assert [(name, line[:20]) for name, line in out.removed] == [
        ("back_to_top", "Back To Top"),
        ("repeated", "From left: US BIO CE"),
        ("nav_heading", "MOST POPULAR"),
        ("nav_heading", "LATEST NEWS"),
        ("subscribe", "subscribe"),
        ("stray_hangul", "소아쌤"),
        ("navigation", "leadersclub"),
    ]
    assert out.text.startswith("Korea, US agree to bolster ties on bioeconomy\n")
    assert out.text.endswith("By Shim Woo-hyun (ws@heraldcorp.com)")
    assert out.text.count("From left: US BIO CEO Rachel King") == 1


def test_seed_004_repost_prefix_hashtags_and_attribution() -> None:
    out = clean_text(seed("004"), RULES)
    assert out.text.startswith("The Korea Times hosted a roundtable")
    assert "#Korea" not in out.text
    assert "based on postings" not in out.text
    # the sentence the attribution was glued to stays
    assert "to improve the ecosystem in the Aral Sea region. ///nCa, 27 June 2023" in out.text
    assert out.published_at(SEOUL) == datetime(2023, 6, 27, tzinfo=SEOUL)


def test_seed_004_with_a_source_rule_for_its_signature() -> None:
    signature = CleanRule(name="nca-signature", where="end",
                          pattern=r"/{3}\s*nCa,\s*(?P<date>\d{1,2} [a-z]+ \d{4})",
                          date_format="%d %B %Y")
    out = clean_text(seed("004"), load_rules([signature]))
    assert out.text.endswith("to improve the ecosystem in the Aral Sea region.")
    assert [(d.rule, d.value) for d in out.dates] == [
        ("leading_date", datetime(2023, 6, 27)), ("nca-signature", datetime(2023, 6, 27))]
    assert out.published_at(SEOUL) == datetime(2023, 6, 27, tzinfo=SEOUL)


# --- small texts -------------------------------------------------------------------

BODY = "Korea and Lithuania agreed to cooperate on lasers and batteries, officials said."


@pytest.mark.parametrize(
    ("line", "rule"),
    [
        ("Source link : https://example.org/a", "source_link"),
        ("Author :", "author_label"),
        ("Publish date : 2024-09-23 22:57:00", "publish_date"),
        ("Copyright for syndicated content belongs to the linked Source.", "syndication_notice"),
        ("Exit mobile version", "exit_mobile_version"),
        ("Back to top ↑", "back_to_top"),
        ("Nach oben", "back_to_top"),
        ("MOST POPULAR", "nav_heading"),
        ("Latest News", "nav_heading"),
        ("You may also like...", "nav_heading"),
        ("Read more: Alibaba poised to launch a record listing", "read_also"),
        ("Lesen Sie auch: Spielabbruch in der Kreisliga", "read_also"),
        ("Lea también: Impiden ingreso a reportero", "read_also"),
        ("Subscribe", "subscribe"),
        ("12 Comments", "comments"),
        ("Anzeige", "ad_label"),
        ("Tags: economy, trade", "tags_line"),
        ("Tempo de leitura: 2 minutos", "reading_time"),
        ("#Korea #Lithuania", "hashtags"),
        ("Copyright ⓒ Korea Herald. All rights reserved. Unauthorized reproduction and "
         "redistribution prohibited.", "reproduction_notice"),
    ],
)
def test_boilerplate_line_goes(line: str, rule: str) -> None:
    out = clean_text(f"{BODY}\n{line}\n{BODY} Again.", RULES)
    assert out.removed == [(rule, line)]
    assert out.text == f"{BODY}\n{BODY} Again."


@pytest.mark.parametrize(
    "line",
    [
        "The most popular dish in Seoul is still kimchi stew, a survey found.",
        "Readers who subscribe to the newsletter get the latest news first.",
        "Back to top form, the team won the cup.",
        "Copyright law in Korea changed in 2019 after a long debate.",
        "The author: a former diplomat who served in Vilnius for a decade.",
        "Die meisten Leser fanden den Artikel nach oben hin interessant, sagte sie.",
        "Lesen Sie auch dieses Buch, empfahl der Minister den Studenten.",
        "Anzeige erstattet: Die Polizei ermittelt gegen den Fahrer.",
        "The update2024-07-01 build ships today.",
        "#1 seed Korea beat Japan.",
        "More than 500 people attended the forum.",
    ],
)
def test_sentences_that_merely_contain_the_words_stay(line: str) -> None:
    text = f"{BODY}\n{line}\n{BODY} Again."
    out = clean_text(text, RULES)
    assert out.removed == []
    assert out.text is text  # nothing removed: the very same string


def test_german_article_is_untouched() -> None:
    text = ("Die Bundesregierung hat am Montag neue Regeln für Mieter beschlossen.\n"
            "Fazit\n"
            "Nach Angaben des Ministeriums sollen die Regeln ab Januar gelten.\n"
            "Mehr als 300 Verbände hatten Stellung genommen.")
    assert clean_text(text, RULES).text is text


def test_korean_headings_stay_in_a_korean_article() -> None:
    text = ("한국과 리투아니아 기업인들이 첨단 산업 협력을 다짐했다.\n경제\n"
            "대한상공회의소는 화요일 빌뉴스에서 한-리투아니아 비즈니스 대화를 열었다고 밝혔다.")
    assert clean_text(text, RULES).text is text


def test_stray_korean_line_goes_from_an_english_article() -> None:
    out = clean_text(f"{BODY}\n소아쌤\n{BODY} Again.", RULES)
    assert out.removed == [("stray_hangul", "소아쌤")]


def test_glued_and_leading_dates_are_cut_and_returned() -> None:
    out = clean_text(f" date 2023-06-27 {BODY}\nThe forum ended. date2024-07-01", RULES)
    assert out.text == f"{BODY}\nThe forum ended."
    assert [(d.rule, d.raw) for d in out.dates] == [
        ("leading_date", "2023-06-27"), ("glued_date", "2024-07-01")]
    assert out.published_at(SEOUL) is None  # two different dates: no single one


def test_the_only_glued_date_becomes_published_at() -> None:
    out = clean_text(f"{BODY} date2024-07-01", RULES)
    assert out.text == BODY
    assert out.published_at(SEOUL) == datetime(2024, 7, 1, tzinfo=SEOUL)


def test_only_a_repeat_right_after_goes() -> None:
    caption = "President Yoon shakes hands with President Iohannis in Vilnius."
    out = clean_text(f"{caption}\n{caption}\n\n{BODY}\n\n{caption}\nOK\nOK", RULES)
    assert out.removed == [("repeated", caption)]
    assert out.text == f"{caption}\n\n{BODY}\n\n{caption}\nOK\nOK"


def test_short_lines_are_navigation_only_between_removed_lines_at_the_end() -> None:
    out = clean_text(f"{BODY}\nApples\nPears\nMOST POPULAR\nleadersclub\nsubscribe", RULES)
    assert out.text == f"{BODY}\nApples\nPears"
    assert ("navigation", "leadersclub") in out.removed


def test_a_source_rule_replaces_the_global_rule_of_its_name() -> None:
    text = f"{BODY}\nAnzeige\nWerbung"
    assert removed_by(text) == ["ad_label", "ad_label"]
    rules = load_rules([CleanRule(name="ad_label", pattern="werbung")])
    assert [name for name, _ in clean_text(text, rules).removed] == ["ad_label"]
    assert load_rules([CleanRule(name="ad_label", pattern="werbung")]) is rules  # cached


@pytest.mark.parametrize(
    "bad",
    [
        {"name": "x", "pattern": "("},
        {"name": "x", "pattern": "(?P<when>\\d+)"},
        {"name": "x", "pattern": "a(?i)b"},
        {"name": "x", "pattern": "\\d+", "date_format": "%Y"},
        {"name": "Bad Name", "pattern": "x"},
        {"name": "x", "pattern": "x", "where": "middle"},
        {"name": "x", "pattern": "x", "colour": "red"},
    ],
)
def test_invalid_rules_are_refused(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        CleanRule.model_validate(bad)


def test_global_rules_load_with_unique_names() -> None:
    names = [rule.name for rule in RULES.rules]
    assert len(names) == len(set(names)) >= 20


def test_a_source_can_do_without_a_global_rule() -> None:
    text = f"{BODY}\nMOST POPULAR\nRead more: The harbour reopens"
    assert removed_by(text) == ["nav_heading", "read_also"]
    rules = load_rules(off=["read_also"])
    out = clean_text(text, rules)
    assert [name for name, _ in out.removed] == ["nav_heading"]
    assert out.text.endswith("Read more: The harbour reopens")
    assert "read_also" not in {rule.name for rule in rules.rules}
    assert len(rules.rules) == len(RULES.rules) - 1
