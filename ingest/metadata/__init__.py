"""Pick a news page's title, publication date, author and site name.

trafilatura's own metadata glues site names onto titles, keeps dates to the day
without a time zone and misses many bylines. :func:`page_metadata` reads the
page's own declarations (JSON-LD, ``<meta>``, microdata, headings, bylines) and
lets them confirm one another; trafilatura's guesses and the feed entry fill the
gaps. It is a pure function of its inputs (no I/O), so it runs in the extraction
workers. The rules and their order were chosen by measurement on the corpora in
``../shared/corpus`` (see ``tests/metadata/``).

One module per field, each documenting its own rules:

===========  ==================================================================
``core``     :func:`page_metadata`: the fields below composed into :class:`PageMetadata`
``titles``   the headline, without kicker or site name
``dates``    the publication date (the rule order, ``date_source``) and the modified one
``zones``    the page's time zone, when its source names none
``authors``  the author's names (:func:`clean_author`)
``page``     the parsed page every rule reads (``_Page``) and the helpers they share
``xpaths``   the XPath expressions the rules find metadata with
``rules``    the word lists and tables, ``ingest/rules/metadata.yml``, read and validated
===========  ==================================================================

Imports go one way: ``core`` reads the fields; ``zones`` reads ``dates``' timestamps;
every field reads ``page``, which reads none of them; all may read ``xpaths`` and
``rules``, which read no other module of the package.
"""

from ingest.metadata.authors import clean_author
from ingest.metadata.core import PageMetadata, page_metadata
from ingest.metadata.dates import _LABEL_BYTES as _LABEL_BYTES  # tests read these here
from ingest.metadata.dates import _LABEL_WORDS as _LABEL_WORDS
from ingest.metadata.page import parse_html

__all__ = ["PageMetadata", "clean_author", "page_metadata", "parse_html"]
