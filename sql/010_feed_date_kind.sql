-- 010: the page's date first. A feed entry's date stands for the page's publication
-- date only when it is one (a publisher's own feed), and only when the page declares
-- and shows none: an aggregator's date is when it listed the link, and an Atom entry
-- with only <updated> says when the entry last changed. All of them stay in
-- feed_published_at; this says which it is.
ALTER TABLE news.articles ADD COLUMN feed_date_kind text
    CHECK (feed_date_kind IN ('published', 'updated', 'crawled'));
COMMENT ON COLUMN news.articles.feed_date_kind IS 'What feed_published_at is: published (the publisher''s own feed gives it as the publication date), updated (Atom <updated> alone: when the entry last changed), crawled (an aggregator''s entry: when it listed the link). Only published can fill published_at, and only when the page gives no date (date_source feed).';
COMMENT ON COLUMN news.articles.feed_published_at IS 'The feed entry''s date, as given (see feed_date_kind).';
COMMENT ON COLUMN news.articles.date_source IS 'Where published_at came from, in this order: meta (a <meta> publication tag), jsonld (schema.org datePublished), time (<time pubdate>, itemprop=datePublished), text (a date shown on the page), glued (a date left in the text, such as "date2024-07-01", removed by cleaning), feed (the publisher''s feed, when the page gives none), htmldate (heuristics), url (a date in the URL), item (the item of a split page).';
