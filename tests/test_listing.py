"""ingest.listing: list pages (a ministry's press releases, a newspaper's section) as
sources. Pure: fixture files and inline pages, no network."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from importlib import resources
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.errors import ParseError
from ingest.listing import Listing, _RulesFile, parse_listing

MINISTRY = Path(__file__).parent / "data" / "sites" / "ministry"
SITE = "https://www.ministry.go.kr"
PAGE_URLS = {1: f"{SITE}/press/list.do", 2: f"{SITE}/press/list.do?pageIndex=2",
             3: f"{SITE}/press/list.do?pageIndex=3"}
PRESS = re.compile(r"/press/view\.do\?seq=\d+$")
SEOUL = ZoneInfo("Asia/Seoul")

# The fixtures' items: seq, title, date (10 a page, newest first).
EXPECTED = {
    1: [(168230, "한-베트남 비즈니스 포럼 서울에서 개최", "2024-07-01"),
        (168229, "제6차 국가첨단전략산업위원회 개최", "2024-06-28"),
        (168228, "Korea and Vietnam hold Business Forum in Seoul", "2024-06-28"),
        (168227, "산업부, 2024년 6월 수출입 동향 발표", "2024-06-27"),
        (168226, "수출입 동향", "2024-06-27"),
        (168225, "한-미 공급망 산업대화 장관회의 공동 발표문", "2024-06-26"),
        (168224, "첨단산업 기술협력센터 미국 주요 대학에 개소", "2024-06-25"),
        (168223, "한-미-일 상무산업장관회의 공동성명 채택", "2024-06-24"),
        (168222, "반도체 포럼에서 양국 기업 협력 논의", "2024-06-21"),
        (168221, "바이오 특화단지 5곳 신규 지정", "2024-06-20")],
    2: [(168220, "2024년 하반기 에너지 수급 전망 발표", "2024-06-19"),
        (168211, "유통 산업 발전 기본 계획 수립", "2024-06-05")],
    3: [(168210, "리투아니아와 경제협력 양해각서 체결", "2024-06-04"),
        (168201, "기업 투자 애로 해소 현장 점검", "2024-05-22")],
}


def ministry(page: int) -> bytes:
    return (MINISTRY / f"list{page}.html").read_bytes()


def day(iso: str, zone: timezone | ZoneInfo = UTC) -> datetime:
    return datetime.fromisoformat(iso).replace(tzinfo=zone)


# --- the ministry's press releases (EUC-KR) -------------------------------------------


def test_fixtures_are_euc_kr_bytes() -> None:
    body = ministry(1)
    assert b'<meta charset="euc-kr">' in body
    assert "보도자료".encode("euc_kr") in body
    with pytest.raises(UnicodeDecodeError):
        body.decode("utf-8")


@pytest.mark.parametrize("page", [1, 2, 3])
@pytest.mark.parametrize("pattern", [PRESS, None], ids=["links", "heuristic"])
def test_ministry_pages(page: int, pattern: re.Pattern[str] | None) -> None:
    listing = parse_listing(ministry(page), PAGE_URLS[page], source="ministry", links=pattern,
                            zone=SEOUL)
    assert isinstance(listing, Listing)
    assert listing.problems == []
    links = [e.link for e in listing.entries]
    first = 168230 - (page - 1) * 10
    # exactly the ten view.do links, in page order: no menu, footer, download link
    assert links == [f"{SITE}/press/view.do?seq={seq}" for seq in range(first, first - 10, -1)]
    assert all(e.source == "ministry" for e in listing.entries)
    by_seq = {int(e.link.rsplit("=", 1)[1]): e for e in listing.entries}
    for seq, title, date in EXPECTED[page]:
        assert by_seq[seq].title == title
        assert by_seq[seq].published_at == day(date, SEOUL)
    assert all(e.published_at is not None and e.published_at.tzinfo is SEOUL
               for e in listing.entries)
    expected_next = {1: PAGE_URLS[2], 2: PAGE_URLS[3], 3: None}[page]
    assert listing.next_url == expected_next


def test_ministry_charset_from_http_header() -> None:
    body = ministry(1).replace(b'<meta charset="euc-kr">', b"")
    listing = parse_listing(body, PAGE_URLS[1], source="m", charset="euc-kr", links=PRESS)
    assert listing.entries[0].title == EXPECTED[1][0][1]


def test_dates_default_to_utc() -> None:
    listing = parse_listing(ministry(1), PAGE_URLS[1], source="m", links=PRESS)
    assert listing.entries[0].published_at == datetime(2024, 7, 1, tzinfo=UTC)


def test_next_by_page_number_when_no_next_link() -> None:
    """No "다음": the link numbered the current page (<strong class="on">) plus one."""
    next_link = ('<a href="list.do?pageIndex=2" class="next">다음</a>').encode("euc_kr")
    body = ministry(1).replace(next_link, b"")
    assert body != ministry(1)
    assert parse_listing(body, PAGE_URLS[1], source="m").next_url == PAGE_URLS[2]


def test_next_by_page_number_in_the_url() -> None:
    html = """<html><body><ul>
      <li><a href="/news/view?id=100001">First item of the second page here</a></li>
    </ul><div>
      <a href="/news/list?page=1">1</a> <span>2</span> <a href="/news/list?page=3">3</a>
    </div></body></html>"""
    listing = parse_listing(html.encode(), "https://x.example.org/news/list?page=2", source="s")
    assert listing.next_url == "https://x.example.org/news/list?page=3"


def test_seed_shaped_english_list_with_glued_dates() -> None:
    """The trade ministry's English list, as seed 002 keeps it: the date glued to the
    end of the item (``... sectors. date2024-07-01``)."""
    url = "https://english.ministry.go.kr/eng/article/EATCLC0001/list.do"
    for pattern in (re.compile(r"view\.do\?bbs_seq_n=\d+"), None):
        listing = parse_listing((MINISTRY / "english.html").read_bytes(), url, source="motie",
                                links=pattern)
        assert [e.published_at.date().isoformat() for e in listing.entries if e.published_at] \
            == ["2024-07-01"] + ["2024-06-28"] * 5 + ["2024-06-27"] * 2
        assert listing.entries[0].title == (
            "Korea and Vietnam hold Business Forum in Seoul on occasion of Vietnamese PM’s visit")
        assert listing.entries[0].link == (
            "https://english.ministry.go.kr/eng/article/EATCLC0001/view.do?bbs_seq_n=1270&bbs_cd_n=2")
        assert listing.next_url == url + "?pageIndex=2"  # <span class="current">1</span>


# --- a newspaper's section page --------------------------------------------------------

SECTION_URL = "https://www.dailyexample.com/world/"
SECTION = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>World | The Daily Example</title>
<link rel="canonical" href="https://www.dailyexample.com/world/">
<link rel="alternate" type="application/rss+xml" href="/world/feed/">
</head>
<body class="section-page has-navigation">
<a class="skip-link" href="#main">Skip to main content</a>
<header class="site-header">
  <a href="/" class="logo">The Daily Example - news you can trust since 1901</a>
  <nav aria-label="Sections"><ul>
    <li><a href="/world/">World</a></li><li><a href="/business/">Business</a></li>
    <li><a href="/2024/07/01/todays-big-story-pinned-in-the-menu/">Today's big story pinned in the menu</a></li>
  </ul></nav>
  <a href="/login?next=/world/">Sign in</a> <a href="/subscribe/">Subscribe for one dollar a week</a>
</header>
<div class="trending"><span>Trending:</span>
  <a href="/tag/elections/">Elections</a> <a href="/tag/climate-change-policy/">Climate change policy around the world</a>
</div>
<main id="main">
  <h1>World</h1>
  <section class="section-block"><h2 class="section-heading"><a href="/world/europe/">Europe</a></h2>
    <article class="card">
      <a href="/world/europe/2024/07/01/floods-hit-central-europe-again/"><img src="/img/f.jpg" alt=""></a>
      <h3><a href="/world/europe/2024/07/01/floods-hit-central-europe-again/#comments">Floods   hit
        central Europe again</a></h3>
      <p>Rivers burst their banks for the second time this year, a 1997 record.</p>
      <time datetime="2024-07-01T08:30:00+02:00">1 July</time>
      <a href="/world/europe/2024/07/01/floods-hit-central-europe-again/?utm_source=section" class="more">Read more</a>
      <a href="/tag/floods/">floods</a>
      <a href="/world/europe/extreme-weather-in-europe" rel="tag">Extreme weather in Europe coverage</a>
    </article>
    <article class="card">
      <h3><a href="/world/europe/eu-leaders-agree-on-new-budget-rules">EU leaders agree on budget</a></h3>
      <span class="byline">By <a href="/author/jane-doe-smith/">Jane Doe Smith of our Brussels bureau</a></span>
      <span class="date">June 30, 2024</span>
    </article>
  </section>
  <section><h2>Asia</h2>
    <ul class="story-list">
      <li><a href="/world/asia/seoul-hosts-summit">Seoul hosts regional summit on trade</a> <span>30 June 2024</span></li>
      <li><a href="/world/asia/article/987654">Typhoon</a><span class="ts">2024-06-29</span></li>
      <li><div class="teaser"><h4>Markets rally after central bank decision</h4>
        <a href="/world/asia/markets-rally-after-central-bank-decision">→</a></div></li>
      <li><a href="/world/asia/election-results-explained" title="Election results explained in five charts"><img src="/img/e.png"></a></li>
      <li><a href="/world/asia/p/4f2c" rel="bookmark">Quake</a> <span>June 28th, 2024</span></li>
      <li><a href="/world/asia/">More Asia news from our correspondents</a></li>
      <li><a href="/world/asia/report.pdf">Full report on the region as a PDF file</a></li>
    </ul>
  </section>
  <aside class="sidebar"><h2>Most read</h2>
    <ol><li><a href="/world/2024/06/20/old-story-everyone-reads/">Old story everyone reads again</a></li></ol>
  </aside>
  <div class="ad"><a href="https://ads.example.net/click?id=123456">Buy the best mattress in the world today</a></div>
  <div class="share"><a href="mailto:?subject=World news">Share this page by email with friends</a>
    <a href="javascript:void(0)">Print this page for reading later on</a></div>
  <nav class="pagination" aria-label="Pages">
    <a href="/world/?page=1" aria-current="page">1</a> <a href="/world/?page=2">2</a>
    <a href="/world/?page=3">3</a> <a href="/world/?page=2">Older stories ›</a>
  </nav>
</main>
<footer>
  <a href="/about-us/">About us</a> <a href="/contact/">Contact</a> <a href="/feed/">RSS</a>
  <a href="/privacy-policy/">Privacy policy and cookie settings for this site</a>
  <a href="/corrections/2024/07/correction-to-floods-story">Correction notice published today</a>
</footer>
</body></html>
"""


def test_newspaper_section_page() -> None:
    listing = parse_listing(SECTION.encode(), SECTION_URL, source="daily")
    got = [(e.link.removeprefix("https://www.dailyexample.com"), e.title, e.published_at)
           for e in listing.entries]
    assert got == [
        ("/world/europe/2024/07/01/floods-hit-central-europe-again/",
         "Floods hit central Europe again",  # an image link first: its item's heading
         datetime(2024, 7, 1, 8, 30, tzinfo=timezone(timedelta(hours=2)))),
        ("/world/europe/eu-leaders-agree-on-new-budget-rules", "EU leaders agree on budget",
         datetime(2024, 6, 30, tzinfo=UTC)),
        ("/world/asia/seoul-hosts-summit", "Seoul hosts regional summit on trade",
         datetime(2024, 6, 30, tzinfo=UTC)),
        ("/world/asia/article/987654", "Typhoon", datetime(2024, 6, 29, tzinfo=UTC)),
        ("/world/asia/markets-rally-after-central-bank-decision",
         "Markets rally after central bank decision", None),  # an arrow: the heading
        ("/world/asia/election-results-explained",
         "Election results explained in five charts", None),  # an image: its title
        ("/world/asia/p/4f2c", "Quake", datetime(2024, 6, 28, tzinfo=UTC)),  # rel=bookmark
    ]
    assert listing.next_url == "https://www.dailyexample.com/world/?page=2"
    assert listing.problems == []


def test_rel_next() -> None:
    head = '<link rel="next" href="/world/?page=2&amp;from=head">'
    body = SECTION.replace("</head>", head + "</head>").encode()
    assert parse_listing(body, SECTION_URL, source="d").next_url == (
        "https://www.dailyexample.com/world/?page=2&from=head")
    body = SECTION.replace('<a href="/world/?page=3">3</a>',
                           '<a rel="next" href="/world/?page=9">3</a>').encode()
    assert parse_listing(body, SECTION_URL, source="d").next_url == (
        "https://www.dailyexample.com/world/?page=9")


def test_next_must_be_another_page_of_the_same_site() -> None:
    html = """<html><head><link rel="next" href="https://other.example.net/list?page=2"></head>
    <body><a href="/list?page=1#top">Next page</a> <a href="#">next</a>
    <a href="https://elsewhere.example.com/p/2">Next</a></body></html>"""
    listing = parse_listing(html.encode(), "https://a.example.org/list?page=1", source="s")
    assert listing.next_url is None


def test_next_words() -> None:
    for text in ("다음", "Nächste Seite", "weiter »", "Suivant", "siguiente", "次へ", "›",
                 "Older posts", '<img src="n.gif" alt="다음 페이지">'):
        html = f'<html><body><div class="paging"><a href="/l?p=2">{text}</a></div></body></html>'
        listing = parse_listing(html.encode(), "https://a.example.org/l?p=1", source="s")
        assert listing.next_url == "https://a.example.org/l?p=2", text
    html = '<html><body><a href="/l?p=2" aria-label="Next page"><svg></svg></a></body></html>'
    listing = parse_listing(html.encode(), "https://a.example.org/l?p=1", source="s")
    assert listing.next_url == "https://a.example.org/l?p=2"


def test_links_pattern_matching_nothing_is_a_problem() -> None:
    listing = parse_listing(ministry(1), PAGE_URLS[1], source="m",
                            links=re.compile(r"/bodo/view\.do"))
    assert listing.entries == []
    assert len(listing.problems) == 1
    assert listing.problems[0].startswith("no link matched '/bodo/view\\\\.do'")
    assert listing.next_url == PAGE_URLS[2]  # the next page is still known


def test_page_without_articles_is_a_problem() -> None:
    html = '<html><body><nav><a href="/a">Home</a></nav><p>Nothing here.</p></body></html>'
    listing = parse_listing(html.encode(), "https://a.example.org/", source="s")
    assert listing.entries == [] and listing.next_url is None
    assert listing.problems == ["no link looked like an article among the 1 links of "
                                "https://a.example.org/"]


@pytest.mark.parametrize("body, reason", [
    (b"", "listing_empty"), (b"  \r\n\t ", "listing_empty"),
    (bytes(range(256)) * 40, "not_html"), (b"\x89PNG\r\n\x1a\n" + b"\x00\x01\xff" * 500, "not_html"),
    (b"just some plain text, no markup at all", "not_html"),
])
def test_not_a_page(body: bytes, reason: str) -> None:
    with pytest.raises(ParseError) as caught:
        parse_listing(body, "https://a.example.org/", source="s")
    assert caught.value.reason == reason
    assert caught.value.stage == "parse"


# --- links: resolution, de-duplication, what is skipped -------------------------------


def test_links_resolved_deduplicated_and_filtered() -> None:
    long_href = "/story/" + "a" * 3000
    html = f"""<html><head><base href="https://cdn.example.org/news/"></head><body><ul>
      <li><a href="2024/07/01/first-story-of-the-day#top">First story of the day</a></li>
      <li><a href="HTTPS://CDN.example.org/news/2024/07/01/first-story-of-the-day">again</a></li>
      <li><a href=" /news/second-story-of-the-day ">Second story of the day here</a></li>
      <li><a href="http://[::1/broken-ipv6-literal-link">Broken IPv6 literal link here</a></li>
      <li><a href="http://cdn.example.org:99999/bad-port-number-link">Bad port number link</a></li>
      <li><a href="{long_href}">A link far too long to keep</a></li>
      <li><a href="ftp://cdn.example.org/news/file-on-an-ftp-server">A file on an FTP server</a></li>
      <li><a href="javascript:open('third-story-of-the-day')">Third story of the day</a></li>
      <li><a href="/news/fourth-story\x00-of-the-day">Fourth story of the day here</a></li>
    </ul></body></html>"""
    listing = parse_listing(html.encode(), "https://www.example.org/x", source="s",
                            links=re.compile("story"))
    assert [e.link for e in listing.entries] == [
        "https://cdn.example.org/news/2024/07/01/first-story-of-the-day",
        "https://cdn.example.org/news/second-story-of-the-day",
        "https://cdn.example.org/news/fourth-story-of-the-day",
    ]
    assert listing.entries[0].title == "First story of the day"


def test_title_from_another_link_to_the_same_url() -> None:
    html = """<html><body><ul>
      <li><a href="/n/100001">Read more</a></li>
      <li><a href="/n/100002">Storm closes schools across the region</a></li>
    </ul><div class="box"><a href="/n/100001">Parliament passes the new budget</a></div>
    </body></html>"""
    listing = parse_listing(html.encode(), "https://a.example.org/", source="s",
                            links=re.compile(r"/n/\d+"))
    assert [(e.link[-6:], e.title) for e in listing.entries] == [
        ("100001", "Parliament passes the new budget"),
        ("100002", "Storm closes schools across the region"),
    ]


@pytest.mark.parametrize("written, expected", [
    ("2024-07-01", "2024-07-01T00:00"), ("2024.07.01", "2024-07-01T00:00"),
    ("2024. 7. 1.", "2024-07-01T00:00"), ("2024/07/01", "2024-07-01T00:00"),
    ("date2024-07-01", "2024-07-01T00:00"), ("2024-07-01 14:05", "2024-07-01T14:05"),
    ("July 1, 2024", "2024-07-01T00:00"), ("Jul. 1st 2024", "2024-07-01T00:00"),
    ("1 July 2024", "2024-07-01T00:00"), ("1. Juli 2024", "2024-07-01T00:00"),
    ("1 de julio de 2024", "2024-07-01T00:00"), ("2024년 7월 1일", "2024-07-01T00:00"),
    ("2024年7月1日", "2024-07-01T00:00"),
    ("24.07.01", None), ("2024-02-30", None), ("no date", None), ("12024-07-01", None),
])
def test_dates_written_in_the_item(written: str, expected: str | None) -> None:
    html = f"""<html><body><ul>
      <li><a href="/n/100001">A headline of the first item</a> <span>{written}</span></li>
      <li><a href="/n/100002">A headline of the second item</a></li>
    </ul><p>Page updated 2023-01-01</p></body></html>"""
    listing = parse_listing(html.encode(), "https://a.example.org/", source="s")
    first, second = listing.entries
    assert first.published_at == (day(expected) if expected else None)
    assert second.published_at is None  # never the page's date


def test_shift_jis_page() -> None:
    html = """<html><head><meta charset="Shift_JIS"><title>ニュース一覧</title></head><body>
      <div id="header"><a href="/">トップページ</a></div>
      <ul class="list">
        <li><a href="/news/detail.html">政府が新たな経済対策を発表しました</a> <span>2024年7月1日</span></li>
        <li><a href="/news/detail2.html">東京で国際会議が開幕しました</a> <span>2024年6月30日</span></li>
      </ul></body></html>"""
    listing = parse_listing(html.encode("shift_jis"), "https://www.example.jp/news/",
                            source="jp", zone=ZoneInfo("Asia/Tokyo"))
    assert [(e.title, e.published_at.day if e.published_at else None)
            for e in listing.entries] == [("政府が新たな経済対策を発表しました", 1),
                                          ("東京で国際会議が開幕しました", 30)]


# --- hostile input ---------------------------------------------------------------------


def test_deep_nesting_nul_bytes_and_broken_markup() -> None:
    deep = b"<div>" * 50_000 + b'<a href="/n/2024/07/01/deep-down-story">Deep down story here</a>'
    unclosed = b'<a href="/n/12345">x' * 5_000
    for body in (deep, unclosed, b"<html>\x00<a href='/n/\x00123456'>\x00nul nul nul nul</a>",
                 b"<a href='http://[::1'>x</a><base href='javascript:alert(1)'>" + b"<" * 10_000,
                 b"<table>" * 3_000 + b"<tr><td>" * 3_000):
        listing = parse_listing(body, "https://a.example.org/list", source="s")
        for entry in listing.entries:
            assert "\x00" not in entry.link and "\x00" not in (entry.title or "")


def test_five_thousand_links() -> None:
    rows = "".join(
        f'<tr><td class="subject"><a href="/press/view.do?seq={100000 + i}">Press release '
        f'number {i} about the economy and trade {"x" * 250}</a></td><td>2024-07-01</td></tr>\n'
        for i in range(5_000))
    nav = "".join(f'<li><a href="/menu/{i}.do">Menu {i}</a></li>' for i in range(500))
    html = f"<html><body><ul class='gnb'>{nav}</ul><table>{rows}</table></body></html>"
    assert len(html) > 1_500_000
    listing = parse_listing(html.encode(), f"{SITE}/press/list.do", source="m")
    assert len(listing.entries) == 5_000
    assert listing.entries[-1].published_at == datetime(2024, 7, 1, tzinfo=UTC)


_SEEDS = [ministry(1), (MINISTRY / "english.html").read_bytes(), SECTION.encode()]
_FRAGMENTS = [b"\x00", b"\xff", b"<a href='", b"'>", b"</a>", b"<div>", b"</div>", b"<",
              b"<base href='http://[::1'>", b"<time datetime='9999-99-99'>", b"&#0;",
              b"<link rel=next href='//x'>", b"<a href='http://a:99999/'>", b"2024-13-45",
              b"<strong class='on'>99999999999</strong>", b"\xed\xa0\x80", b"<table><tr>"]


@st.composite
def _mutated(draw: st.DrawFn) -> bytes:
    body = bytearray(draw(st.sampled_from(_SEEDS)))
    for _ in range(draw(st.integers(1, 5))):
        at = draw(st.integers(0, len(body)))
        op = draw(st.sampled_from(("insert", "flip", "truncate", "delete", "repeat")))
        if op == "insert":
            body[at:at] = draw(st.sampled_from(_FRAGMENTS))
        elif op == "flip" and at < len(body):
            body[at] = draw(st.integers(0, 255))
        elif op == "truncate":
            del body[at:]
        elif op == "delete":
            del body[at:at + draw(st.integers(1, 200))]
        else:
            body[at:at] = draw(st.sampled_from(_FRAGMENTS)) * draw(st.integers(2, 300))
    return bytes(body)


_HYPOTHESIS = settings(max_examples=150, deadline=None, database=None, derandomize=True,
                       suppress_health_check=list(HealthCheck))


@_HYPOTHESIS
@given(body=st.one_of(st.binary(max_size=3000), _mutated()),
       url=st.sampled_from([PAGE_URLS[1], SECTION_URL, "not a url", "http://[::1", ""]),
       charset=st.sampled_from([None, "euc-kr", "utf-16", "bogus", "x" * 300]))
def test_never_raises_but_parse_error(body: bytes, url: str, charset: str | None) -> None:
    try:
        listing = parse_listing(body, url, source="fuzz", charset=charset)
    except ParseError:
        return
    for entry in listing.entries:
        assert entry.link.startswith(("http://", "https://"))
        for value in (entry.link, entry.title or ""):
            assert "\x00" not in value
            value.encode("utf-8")  # no lone surrogate


def test_rules_file_refuses_unknown_keys() -> None:
    data = yaml.safe_load(resources.files("ingest").joinpath("rules/listing.yml")
                          .read_text(encoding="utf-8"))
    _RulesFile.model_validate(data)
    with pytest.raises(ValueError, match="extra"):
        _RulesFile.model_validate({**data, "next_word": ["next"]})
    with pytest.raises(ValueError, match="month"):
        _RulesFile.model_validate({**data, "months": {"smarch": 13}})
