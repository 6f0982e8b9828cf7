"""The offline demo news site, served on 127.0.0.1.

Five sources, rendered from ``content.yml`` at request time so that every link
carries the server's own address:

- ``/koreadaily/rss.xml``: a newspaper's RSS 2.0 feed (links with ``utm_*`` tracking);
- ``/herald/news-sitemap.xml``: a Google News sitemap of a site whose pages carry
  navigation dirt (``/herald/atom.xml`` is its Atom feed);
- ``/ministry/press/list.do``: a ministry's press releases, an HTML list page with a
  date beside each link (``/ministry/press/rss.xml`` is its RSS feed, dates without a
  zone);
- ``/careview/feed/``: a second site that re-posts one of the newspaper's stories;
- ``/bing/news/search?q=...&format=rss``: an aggregator feed shaped like Bing
  News RSS, whose links are ``/news/apiclick.aspx?...&url=<encoded target>``
  click trackers (this server answers them with a 302, as Bing does).
"""

from __future__ import annotations

import hashlib
import html
import threading
from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

import yaml

_esc = html.escape


@cache
def content() -> dict[str, Any]:
    text = resources.files("ingest.demo").joinpath("content.yml").read_text(encoding="utf-8")
    data: dict[str, Any] = yaml.safe_load(text)
    return data


def _articles(site: str) -> list[dict[str, Any]]:
    return [a for a in content()["articles"] if a["site"] == site]


def _find(key: str) -> dict[str, Any]:
    site, slug = key.split("/", 1)
    for article in _articles(site):
        if article["slug"] == slug:
            return article
    raise KeyError(key)


def article_path(article: dict[str, Any]) -> str:
    site, slug = article["site"], article["slug"]
    if site == "koreadaily":
        return f"/koreadaily/{slug}.html"
    if site == "herald":
        return f"/herald/view.php?ud={slug}"
    if site == "ministry":
        return f"/ministry/press/view/{slug}"
    return f"/{site}/{slug}/"


def _paragraphs(article: dict[str, Any]) -> list[str]:
    if "repost_of" in article:
        return _repost_paragraphs(_find(article["repost_of"]))
    return [" ".join(p.split()) for p in article["paragraphs"]]


def _repost_paragraphs(original: dict[str, Any]) -> list[str]:
    """A re-post: the same story, lightly edited, as a second site would run it."""
    paras = [" ".join(p.split()) for p in original["paragraphs"]]
    paras[0] = paras[0].replace("The Korea Daily Post hosted", "The Korea Daily Post held")
    paras[-1] = paras[-1].replace("agreed to meet again", "agreed to convene again")
    return paras


def _date(value: str) -> datetime:
    return datetime.fromisoformat(value)


# --- pages ------------------------------------------------------------------------


def render_article(base: str, article: dict[str, Any]) -> str:
    site = content()["sites"][article["site"]]
    url = base + article_path(article)
    paras = _paragraphs(article)
    title = article["title"]
    published = article["published"]
    body = "\n".join(f"<p>{_esc(p)}</p>" for p in paras)
    caption = article.get("photo_caption")
    figure = ""
    if caption:
        caption = " ".join(caption.split())
        figure = (
            f'<figure><img src="/static/photo-{article["slug"]}.jpg" alt="{_esc(caption)}">'
            f"<figcaption>{_esc(caption)}</figcaption></figure>"
        )
    author = article.get("author")
    byline = (
        f'<p class="byline">By <span class="author">{_esc(author)}</span></p>' if author else ""
    )
    if article["site"] == "careview":
        # The re-poster glues its date to the first paragraph and ends with hashtags.
        body = (
            f'<p><span class="date"> date {_esc(published)} </span>{_esc(paras[0])}</p>\n'
            + "\n".join(f"<p>{_esc(p)}</p>" for p in paras[1:])
            + f"\n<p>{_esc(article['credit'])}</p>\n<p>{_esc(article['hashtags'])}</p>"
        )
    nav = _NAV.get(article["site"], "")
    footer = _FOOTER.get(article["site"], "")
    return f"""<!DOCTYPE html>
<html lang="{site['language']}">
<head>
<meta charset="utf-8">
<title>{_esc(title)} - {_esc(site['name'])}</title>
<meta property="og:title" content="{_esc(title)}">
<meta property="og:site_name" content="{_esc(site['name'])}">
<meta property="og:url" content="{_esc(url)}">
<meta property="article:published_time" content="{_esc(published)}">
<link rel="canonical" href="{_esc(url)}">
</head>
<body>
<header><a href="/{article['site']}/">{_esc(site['name'])}</a>{nav}</header>
<main>
<article>
<h1>{_esc(title)}</h1>
{byline}
<time datetime="{_esc(published)}">{_esc(published[:10])}</time>
{figure}
<div class="article-body">
{body}
</div>
</article>
</main>
<footer>{footer}</footer>
</body>
</html>
"""


_NAV = {
    "herald": """
<nav><ul><li><a href="/herald/">Back To Top</a></li><li><a href="/herald/national">National</a></li>
<li><a href="/herald/business">Business</a></li><li><a href="/herald/sub">subscribe</a></li>
<li><a href="/herald/kids">소아쌤</a></li>
<li><a href="/herald/club">leadersclub</a></li></ul></nav>""",
    "koreadaily": """
<nav><a href="/koreadaily/">Home</a> | <a href="/koreadaily/biz">Business</a> |
<a href="/koreadaily/subscribe">subscribe</a></nav>""",
}
_FOOTER = {
    "herald": """<aside><h2>MOST POPULAR</h2><ul><li><a href="/herald/view.php?ud=1">Stocks
close higher on chip rally</a></li></ul><h2>LATEST NEWS</h2><ul><li><a href="/herald/view.php?ud=2">
Won weakens against dollar</a></li></ul></aside><p>Copyright Seoul Business Herald. All rights
reserved.</p>""",
    "careview": """<p>Exit mobile version</p>""",
    "koreadaily": """<p>&copy; The Korea Daily Post. Back To Top</p>""",
}


# --- feeds ------------------------------------------------------------------------


def _rfc822(value: str) -> str:
    return format_datetime(_date(value))


def rss_koreadaily(base: str) -> str:
    items = []
    for n, a in enumerate(_articles("koreadaily")):
        link = base + article_path(a) + "?utm_source=rss&utm_medium=feed"
        if n == 2:  # an old-style link that the site redirects (301) to the current URL
            link = f"{base}/koreadaily/article/{1001 + n}"
        items.append(
            f"<item><title>{_esc(a['title'])}</title><link>{_esc(link)}</link>"
            f"<guid isPermaLink=\"false\">kdp-{_esc(a['slug'])}</guid>"
            f"<author>{_esc(a.get('author', ''))}</author>"
            f"<pubDate>{_rfc822(a['published'])}</pubDate>"
            f"<description>{_esc(_paragraphs(a)[0])}</description></item>"
        )
    items.append(
        f"<item><title>Story withdrawn</title><link>{base}/koreadaily/2026/11/withdrawn-story.html"
        "</link><pubDate>Sat, 21 Nov 2026 01:00:00 GMT</pubDate></item>"
    )
    return _rss("The Korea Daily Post", base + "/koreadaily/", "\n".join(items))


def rss_ministry(base: str) -> str:
    items = []
    for a in _articles("ministry"):
        items.append(
            f"<item><title>{_esc(a['title'])}</title>"
            f"<link>{_esc(base + article_path(a))}</link>"
            f"<dc:date>{_esc(a['published'])}</dc:date>"
            f"<description>{_esc(_paragraphs(a)[0][:200])}</description></item>"
        )
    items.append(
        f"<item><title>2026 annual report (PDF)</title><link>{base}/files/annual-report.pdf</link>"
        "<dc:date>2026-11-16T00:00:00</dc:date></item>"
    )
    return _rss("Press releases - Ministry of Trade and Industry", base + "/ministry/press/",
                "\n".join(items))


def news_sitemap_herald(base: str) -> str:
    urls = []
    for a in _articles("herald"):
        urls.append(
            f"<url><loc>{_esc(base + article_path(a))}</loc><news:news><news:publication>"
            "<news:name>Seoul Business Herald</news:name><news:language>en</news:language>"
            f"</news:publication><news:publication_date>{_esc(a['published'])}"
            f"</news:publication_date><news:title>{_esc(a['title'])}</news:title>"
            "</news:news></url>"
        )
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
            'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">\n'
            + "\n".join(urls) + "\n</urlset>\n")


def list_ministry(base: str) -> str:
    rows = "".join(
        f'<tr><td class="num">{a["slug"]}</td><td class="subject">'
        f'<a href="/ministry/press/view/{_esc(a["slug"])}">{_esc(a["title"])}</a></td>'
        f'<td class="date">{_esc(a["published"][:10])}</td></tr>'
        for a in _articles("ministry")
    )
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Press releases | Ministry of Trade and Industry</title></head>
<body>
<header><nav><a href="/ministry/">Home</a> <a href="/ministry/about/">About the ministry</a>
<a href="/ministry/press/list.do">Press releases</a> <a href="/ministry/contact/">Contact</a>
</nav></header>
<main><h1>Press releases</h1>
<table class="board"><thead><tr><th>No.</th><th>Title</th><th>Date</th></tr></thead>
<tbody>{rows}
<tr><td class="num">-</td><td class="subject">
<a href="/files/annual-report.pdf">2026 annual report (PDF)</a></td>
<td class="date">2026-11-16</td></tr></tbody></table>
</main>
<footer><a href="/ministry/privacy/">Privacy policy</a> <a href="/ministry/sitemap/">Site map</a>
</footer>
</body></html>
"""


def rss_careview(base: str) -> str:
    items = [
        f"<item><title>{_esc(a['title'])}</title><link>{_esc(base + article_path(a))}</link>"
        f"<pubDate>{format_datetime(datetime.fromisoformat(a['published'] + 'T12:00:00+05:00'))}"
        "</pubDate></item>"
        for a in _articles("careview")
    ]
    return _rss("Central Asia Review", base + "/careview/", "\n".join(items))


def atom_herald(base: str) -> str:
    entries = []
    for a in _articles("herald"):
        link = base + article_path(a)
        entries.append(
            f"<entry><title>{_esc(a['title'])}</title>"
            f'<link rel="alternate" href="{_esc(link)}"/>'
            f"<id>tag:herald.demo,2026:{_esc(a['slug'])}</id>"
            f"<updated>{_esc(a['published'])}</updated><published>{_esc(a['published'])}</published>"
            f"<author><name>{_esc(a.get('author', ''))}</name></author>"
            f"<summary>{_esc(_paragraphs(a)[0])}</summary></entry>"
        )
    return f"""<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
<title>Seoul Business Herald</title>
<link href="{base}/herald/"/>
<id>tag:herald.demo,2026:feed</id>
<updated>2026-11-21T14:20:00+09:00</updated>
{chr(10).join(entries)}
</feed>
"""


def rss_bing(base: str, query: str) -> str:
    """Shaped like Bing News RSS: click-tracker links, lower-case percent-encoding."""
    tid = hashlib.md5(query.encode()).hexdigest()
    targets = [
        (_find("koreadaily/2026/11/korea-lithuania-business-dialogue"), "The Korea Daily Post",
         "?utm_source=bing&utm_campaign=news#comments"),
        (_find("herald/1021"), "Seoul Business Herald", ""),
        (_find("careview/korea-central-asia-roundtable-seoul"), "Central Asia Review on MSN", ""),
    ]
    items = []
    for n, (a, label, tracking) in enumerate(targets):
        target = base + article_path(a) + tracking
        if "?" in article_path(a) and tracking.startswith("?"):
            target = base + article_path(a) + "&" + tracking[1:]
        encoded = quote(target, safe="").lower().replace("%", "%")  # Bing uses lower-case hex
        encoded = _lower_hex(quote(target, safe=""))
        link = (
            f"{base}/news/apiclick.aspx?ref=FexRss&aid=&tid={tid}&url={encoded}"
            f"&c={6288481095236004452 + n}&mkt=en-us"
        )
        items.append(
            f"<item><title>{_esc(a['title'])}</title><link>{_esc(link)}</link>"
            f"<description>{_esc(_paragraphs(a)[0][:150])} ...</description>"
            f"<pubDate>{format_datetime(_date(_iso(a['published'])).astimezone())}</pubDate>"
            f"<News:Source>{_esc(label)}</News:Source></item>"
        )
    ns = _esc(f"https://www.bing.com/news/search?format=rss&q={quote(query)}")
    return f"""<?xml version="1.0" encoding="utf-8" ?>
<rss version="2.0" xmlns:News="{ns}">
<channel>
<title>{_esc(query)} - BingNews</title>
<link>{ns}</link>
<description>Search results</description>
{chr(10).join(items)}
</channel>
</rss>
"""


def _iso(value: str) -> str:
    return value if "T" in value else value + "T00:00:00+00:00"


def _lower_hex(encoded: str) -> str:
    out = []
    i = 0
    while i < len(encoded):
        if encoded[i] == "%":
            out.append(encoded[i : i + 3].lower())
            i += 3
        else:
            out.append(encoded[i])
            i += 1
    return "".join(out)


def _rss(title: str, link: str, items: str) -> str:
    return f"""<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0" xmlns:dc="http://purl.org/dc/elements/1.1/">
<channel>
<title>{_esc(title)}</title>
<link>{_esc(link)}</link>
<description>{_esc(title)}</description>
{items}
</channel>
</rss>
"""


# --- server -----------------------------------------------------------------------


@dataclass
class Reply:
    status: int
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] | None = None


def route(base: str, path: str, query: dict[str, list[str]]) -> Reply:
    """What the demo site answers for a path; pure, so tests can call it too."""
    xml = "application/rss+xml; charset=utf-8"
    if path == "/koreadaily/rss.xml":
        return Reply(200, rss_koreadaily(base).encode(), xml)
    if path == "/herald/atom.xml":
        return Reply(200, atom_herald(base).encode(), "application/atom+xml; charset=utf-8")
    if path == "/ministry/press/rss.xml":
        return Reply(200, rss_ministry(base).encode(), xml)
    if path == "/herald/news-sitemap.xml":
        return Reply(200, news_sitemap_herald(base).encode(), "application/xml; charset=utf-8")
    if path == "/ministry/press/list.do":
        return Reply(200, list_ministry(base).encode())
    if path == "/careview/feed/":
        return Reply(200, rss_careview(base).encode(), xml)
    if path == "/bing/news/search":
        q = query.get("q", ["korea lithuania"])[0]
        return Reply(200, rss_bing(base, q).encode(), "text/xml; charset=utf-8")
    if path == "/news/apiclick.aspx" and query.get("url"):
        return Reply(302, b"", headers={"Location": query["url"][0]})
    if path.startswith("/koreadaily/article/"):
        old = _articles("koreadaily")
        index = int(path.rsplit("/", 1)[1]) - 1001 if path.rsplit("/", 1)[1].isdigit() else -1
        if 0 <= index < len(old):
            return Reply(301, b"", headers={"Location": base + article_path(old[index])})
    if path == "/files/annual-report.pdf":
        return Reply(200, b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\n", "application/pdf")
    if path == "/robots.txt":
        return Reply(200, b"User-agent: *\nDisallow: /private/\n", "text/plain")
    for article in content()["articles"]:
        own = article_path(article)
        own_path, _, own_query = own.partition("?")
        if path != own_path:
            continue
        if own_query and parse_qs(own_query).get("ud") != query.get("ud"):
            continue
        return Reply(200, render_article(base, article).encode("utf-8"))
    return Reply(404, b"<html><body><h1>Page not found</h1></body></html>")


class _Handler(BaseHTTPRequestHandler):
    server_version = "demo-news-site/1.0"

    def do_GET(self) -> None:
        parts = urlsplit(self.path)
        address: Any = self.server.server_address
        base = f"http://{address[0]}:{address[1]}"
        reply = route(base, parts.path, parse_qs(parts.query, keep_blank_values=True))
        if reply.status == 200 and ("xml" in reply.content_type or parts.path.endswith(".do")):
            # Feeds, sitemaps and list pages carry validators and answer conditional
            # requests, as real ones do.
            etag = '"' + hashlib.sha256(reply.body).hexdigest()[:16] + '"'
            reply.headers = {**(reply.headers or {}), "ETag": etag}
            if self.headers.get("If-None-Match") == etag:
                reply = Reply(304, b"", reply.content_type, {"ETag": etag})
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for key, value in (reply.headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet
        pass


class DemoSite:
    """The demo site in a background thread: ``with DemoSite(port) as site: site.base``."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1") -> None:
        self._server = ThreadingHTTPServer((host, port), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> DemoSite:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def sources_yaml(base: str) -> str:
    """The demo's sources file, pointing at the site at ``base``."""
    return f"""# Written by `news-ingest demo` for the offline demo site at {base}.
settings:
  allow_private_hosts: ["127.0.0.1"]
  contact_url: https://github.com/news-ingest/news-ingest
  # Every demo site is this one local server: no need to space requests out.
  per_host_concurrency: 8
  per_host_delay: 0
  # The demo aggregator's click trackers have Bing's shape on the demo host:
  # unwrapped from their url= parameter without a request, as bing.com's are.
  redirect_wrappers:
    - hosts: ["127.0.0.1"]
      path: /news/apiclick.aspx
      param: url
sources:
  - name: korea-daily-post
    url: {base}/koreadaily/rss.xml
    timezone: Asia/Seoul
    language: en
  - name: seoul-herald
    sitemap: {base}/herald/news-sitemap.xml      # a Google News sitemap
    timezone: Asia/Seoul
  - name: trade-ministry
    listing: {base}/ministry/press/list.do       # an HTML list of press releases
    links: '/ministry/press/view/\\d+$'             # which of its links are releases
    timezone: Asia/Seoul
  - name: central-asia-review
    url: {base}/careview/feed/
    timezone: Asia/Tashkent
  - name: bing-korea-lithuania
    url: {base}/bing/news/search?q=korea+lithuania&format=rss
"""
