-- 011: only news articles reach news.articles. Every page's kind is decided before
-- validation (ingest.pagetype: article, listing, forum, product, documentation,
-- service, collection, other); a page of a kind its source does not expect
-- (sources[].expect, default [article]) is a not_an_article rejection, its raw page
-- kept so that revalidate or reextract can load it if the rule changes.
ALTER TABLE news.articles ADD COLUMN page_type text NOT NULL DEFAULT 'article'
    CHECK (page_type IN ('article', 'listing', 'forum', 'product', 'documentation', 'service',
                         'collection', 'other'));
COMMENT ON COLUMN news.articles.page_type IS 'What kind of page the record was extracted from: article, or (for a source whose expect: allows it) listing, forum, product, documentation, service, collection, other. Rows from before 011 are article.';

CREATE OR REPLACE VIEW news.rejected_page_types AS
SELECT (rejected_at AT TIME ZONE 'UTC')::date AS day, source,
       coalesce(payload->>'page_type', split_part(detail, ' ', 1)) AS page_type,
       count(*)::integer AS pages
FROM news.rejections
WHERE reason = 'not_an_article' AND resolved_by IS NULL
GROUP BY 1, 2, 3;
COMMENT ON VIEW news.rejected_page_types IS 'Pages kept out of news.articles because they are not of a kind their source expects (not_an_article), per UTC day, source and page type.';
