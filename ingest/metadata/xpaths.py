"""The XPath expressions :mod:`ingest.metadata` finds the page's metadata with (as
trafilatura keeps its own in ``metaxpaths.py``): ``<meta>``-like markup, headings,
bylines, date elements and the places a rule must not read. Each constant is a plain
expression string (evaluated with ``tree.xpath``) unless it says otherwise; the
templates are filled with :meth:`str.format`. Word lists are data in
``ingest/rules/metadata.yml``, not here.
"""

from __future__ import annotations

from lxml import etree

# --- the page (ingest.metadata.page) ------------------------------------------------

# The page's JSON-LD blocks.
JSONLD_SCRIPTS = '//script[@type="application/ld+json"]'
# The article: its <main>, or the first <article> that holds a heading <h1>.
ARTICLE_OR_MAIN = "(//article[.//h1]|//main)[1]"
# Every <article> (a page with one has its article there; several are teasers).
ARTICLES = "//article"
# The test of a date or byline element: a <time>, or a class naming a date, time or
# byline, not an update or a comment ([@class] first: the many contains() only for
# elements that have one).
_DATE_BOX = (
    "[self::time or @class][self::time or contains(@class, 'date') or contains(@class, 'Date')"
    " or contains(@class, 'time') or contains(@class, 'publish') or contains(@class, 'posted')"
    " or contains(@class, 'datum') or contains(@class, 'byline') or contains(@class, 'meta')]"
    "[not(contains(@class, 'update') or contains(@class, 'modif') or contains(@class, 'comment'))]"
)
# Date and byline elements inside an element (the article).
DATE_BOXES_IN = ".//*" + _DATE_BOX
# Date and byline elements anywhere in the page's <body>.
DATE_BOXES = "//body//*" + _DATE_BOX
# The timestamps the markup declares besides <meta>: <time datetime>, itemprop=date*.
OFFSET_MARKUP = (
    "//time/@datetime"
    "|//*[starts-with(@itemprop, 'date')]/@*[name() = 'content' or name() = 'datetime']"
)

# --- the time zone (ingest.metadata.zones) -------------------------------------------

# The text of the page's scripts but JSON-LD (where a UTC timestamp may be restated).
SCRIPT_TEXTS = "//script[not(@type='application/ld+json')]/text()"

# --- the title (ingest.metadata.titles) ----------------------------------------------

# The headline's headings: <h1>, itemprop=headline, h1-h3 with a title's class.
HEADLINES = (
    "//h1"
    '|//*[@itemprop="headline"][not(self::meta)]'
    '|//*[self::h1 or self::h2 or self::h3][contains(@class, "entry-title")'
    ' or contains(@class, "post-title") or contains(@class, "article-title")'
    ' or contains(@class, "headline")]'
)
# The <h1> inside an <article>.
ARTICLE_H1S = "//article//h1"
# Every <h2> of the page.
H2S = "//h2"
# <h2> and <h3> that hold a link (one may link to the page itself).
LINKED_SUBHEADS = "//h2[a]|//h3[a]"
# The targets of an element's child links.
CHILD_LINK_HREFS = "a/@href"
# The targets of every link inside an element.
LINK_HREFS = ".//a/@href"
# A <footer> around an element.
IN_FOOTER = "ancestor::footer"
# The page's <title> (an ElementPath, for ``tree.find``).
TITLE_ELEMENT = ".//title"

# --- the author (ingest.metadata.authors) --------------------------------------------

# Links marked as the author's.
REL_AUTHOR = '//a[@rel="author"]'
# Elements marked itemprop=author (microdata).
ITEMPROP_AUTHOR = '//*[@itemprop="author"]'
# Elements whose class names an author or byline, not in a comment.
BYLINE_CLASSES = (
    '//*[@class][contains(@class, "author") or contains(@class, "byline")]'
    '[not(contains(@class, "comment"))][not(ancestor::*[contains(@class, "comment")])]'
)
# Links to an author's page.
AUTHOR_LINKS = (
    '//a[contains(@href, "/author/") or contains(@href, "/autor/") or contains(@href, "/authors/")'
    ' or contains(@href, "/autoren/") or contains(@href, "/newsteam/")]'
)
# The text nodes of the body as plain strings (a compiled XPath).
BODY_TEXTS = etree.XPath("//body//text()", smart_strings=False)
# Template: the body's text nodes at ``positions`` (an ``or`` of ``position() = n``).
BODY_TEXTS_AT = "(//body//text())[{positions}]"
# The itemprop=name inside an author's element.
ITEMPROP_NAME = './/*[@itemprop="name"]'

# --- the dates (ingest.metadata.dates) -----------------------------------------------

# Publication timestamps in markup: <time pubdate>, itemprop=datePublished (one pass
# for both attributes: an XPath step costs a walk of the page).
PUBLISHED_MARKUP = (
    '//time[@pubdate]/@datetime'
    '|//*[@itemprop="datePublished"]/@*[name() = "datetime" or name() = "content"]'
)
# The timestamps of the <time> elements in (or being) an element.
TIME_STAMPS = "descendant-or-self::time/@datetime"
# A <figure> around (or being) an element: a picture's caption.
IN_FIGURE = "ancestor-or-self::figure"
# An element with a comment's class around (or being) an element.
IN_COMMENT = "ancestor-or-self::*[contains(@class, 'comment')]"
# Template: the text nodes under an element, or its tail, that pass the test ``has``.
LABEL_TEXTS = "descendant::text()[{has}] | following-sibling::node()[1][self::text()][{has}]"
# Template: the test of a text that contains ``spelling``.
CONTAINS = "contains(., '{spelling}')"
# A node's place in document order (a number).
DOCUMENT_ORDER = "count(ancestor::node()) + count(preceding::node())"
