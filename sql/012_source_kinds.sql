-- 012: sources beyond feeds. A source is a feed (RSS, Atom, JSON Feed), a sitemap
-- (an index, a news sitemap), a site whose feeds and sitemaps are discovered, or an
-- HTML list page. Each article says through which kind of document its source met
-- it, and which document; each source remembers the documents it reads besides its
-- own address (conditional GET), what discovery found, and how far a backfill got.
ALTER TABLE news.articles ADD COLUMN via text
    CHECK (via IN ('feed', 'sitemap', 'news_sitemap', 'listing'));
ALTER TABLE news.articles ADD COLUMN found_in text;
COMMENT ON COLUMN news.articles.via IS 'The kind of document through which news.articles.source first listed the article: feed (RSS, Atom, JSON Feed), sitemap, news_sitemap (Google News sitemap), listing (an HTML list page). NULL for rows from before 012 (all from feeds).';
COMMENT ON COLUMN news.articles.found_in IS 'The URL of that document: the feed, the sitemap (a child of an index, or one a site source discovered) or the list page.';

CREATE TABLE news.source_documents (
    source         text NOT NULL,
    url            text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('sitemap', 'listing', 'feed')),
    parent         text,
    lastmod        timestamptz,
    etag           text,
    last_modified  text,
    fetched_at     timestamptz,
    status         text,
    PRIMARY KEY (source, url)
);
COMMENT ON TABLE news.source_documents IS 'The documents a source reads besides its own address: the sitemaps of an index, the next pages of a list, the feeds and sitemaps of a discovered site. Their validators make an unchanged document cost a 304.';
COMMENT ON COLUMN news.source_documents.parent IS 'The index or site that led to this document.';
COMMENT ON COLUMN news.source_documents.lastmod IS 'The parent index''s <lastmod> of this sitemap: a pass reads again only those that moved.';
COMMENT ON COLUMN news.source_documents.status IS 'ok, not_modified, or the reason of its last failure (sitemap_malformed, http_404, ...).';

CREATE TABLE news.site_discovery (
    source         text PRIMARY KEY,
    home_url       text NOT NULL,
    found          jsonb NOT NULL,
    discovered_at  timestamptz NOT NULL
);
COMMENT ON TABLE news.site_discovery IS 'What a site source''s discovery found (feeds, sitemaps, problems), used until settings.discovery_refresh_days have passed. Shown by news-ingest sources show NAME.';

CREATE TABLE news.backfills (
    source         text NOT NULL,
    since          date NOT NULL,
    until          date NOT NULL,
    started_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    finished_at    timestamptz,
    done           text[] NOT NULL DEFAULT '{}',
    cursor         text,
    steps          integer NOT NULL DEFAULT 0,
    articles       integer NOT NULL DEFAULT 0,
    rejected       integer NOT NULL DEFAULT 0,
    PRIMARY KEY (source, since, until)
);
COMMENT ON TABLE news.backfills IS 'Backfills (news-ingest backfill, the news_backfill DAG): a source''s older articles between since and until. done lists the documents read in full, cursor the next list page; an interrupted backfill goes on from there.';
