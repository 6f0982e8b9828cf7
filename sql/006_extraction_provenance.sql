-- 006: what extraction knows beyond the text: the feed entry it came from (so that
-- `news-ingest reextract` re-derives records from news.raw_pages exactly as a pass
-- would), the page's modified date, and what cleaning removed.

ALTER TABLE news.articles
    ADD COLUMN modified_at        timestamptz,
    ADD COLUMN feed_title         text,
    ADD COLUMN feed_published_at  timestamptz,
    ADD COLUMN feed_author        text,
    ADD COLUMN removed            jsonb,
    ADD COLUMN extracted_at       timestamptz;

COMMENT ON COLUMN news.articles.published_at IS 'Publication time; NULL when unknown. A date given without a time zone is in the source''s configured zone (timezone: in sources.yml, else UTC); a date without a time is midnight there. Never a modified date.';
COMMENT ON COLUMN news.articles.date_source IS 'Where published_at came from: meta (a <meta> publication tag), jsonld (schema.org datePublished), time (<time pubdate>, itemprop=datePublished), feed (the feed entry), text (a date shown on the page), htmldate (heuristics), url (a date in the URL), item (the item of a split page), glued (a date left in the text, such as "date2024-07-01", removed by cleaning).';
COMMENT ON COLUMN news.articles.modified_at IS 'Last modification the page declares (dateModified, article:modified_time); NULL when none.';
COMMENT ON COLUMN news.articles.feed_title IS 'The feed entry''s title, as given.';
COMMENT ON COLUMN news.articles.feed_published_at IS 'The feed entry''s date, as given.';
COMMENT ON COLUMN news.articles.feed_author IS 'The feed entry''s author, as given.';
COMMENT ON COLUMN news.articles.removed IS 'What cleaning removed from the extracted text: {rule name: lines removed}.';
COMMENT ON COLUMN news.articles.extracted_at IS 'When this record was last derived from its raw page (a pass or news-ingest reextract).';
COMMENT ON COLUMN news.articles.extractor IS 'Extractor versions that produced the record (trafilatura, news-ingest, rules).';

-- A split page's items are met under their own URL (the page's plus #item-...).
ALTER TABLE news.article_urls DROP CONSTRAINT article_urls_kind_check;
ALTER TABLE news.article_urls ADD CONSTRAINT article_urls_kind_check
    CHECK (kind IN ('feed_link', 'redirect', 'final', 'canonical', 'declared', 'item'));
COMMENT ON COLUMN news.article_urls.kind IS 'feed_link: the feed''s link as given (e.g. a bing.com/news/apiclick.aspx wrapper); redirect: a hop (an unwrapped target or an HTTP redirect); final: the URL after redirects; canonical: news.articles.url form; declared: the page''s own canonical/og:url; item: an item of a split list page (page URL + #item-...).';
