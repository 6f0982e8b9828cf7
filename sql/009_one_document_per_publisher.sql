-- 009: one document per publisher. The same text at two URLs of one site is one
-- article (as before); on another site it is an article of its own, in the
-- original's story. Until now content_hash was unique across the warehouse, so a
-- wire site's verbatim copy became a URL of the original article: the story showed
-- one copy and one source. (Media Cloud de-duplicates within a media source for the
-- same reason: a re-post is another publisher's publication.)

-- The site is the registrable domain of the URL's host by the public suffix list,
-- which the loader computes (ingest.resolve.site). Rows from before are given
-- theirs, and merged copies of other sites their own articles, by the data step
-- below, which every pass's repair runs once (ingest.upgrade).
ALTER TABLE news.articles ADD COLUMN site text;
COMMENT ON COLUMN news.articles.site IS 'The registrable domain of url''s host (public suffix list; an IP address is its own): the same text is one document within a site, and its own document, in the same story, on another.';

ALTER TABLE news.articles DROP CONSTRAINT articles_content_hash_key;
CREATE UNIQUE INDEX articles_content_hash_site ON news.articles (content_hash, site);

-- Data steps that need the library's code, not SQL alone: run once, in order, by
-- ingest.upgrade.run_pending (from every pass's repair, and news-ingest db repair).
CREATE TABLE news.data_steps (
    name     text PRIMARY KEY,
    done_at  timestamptz
);
COMMENT ON TABLE news.data_steps IS 'Data migrations run by the library after the SQL ones (ingest.upgrade); done_at NULL: still to run.';
INSERT INTO news.data_steps (name) VALUES ('009_sites_and_copies');
