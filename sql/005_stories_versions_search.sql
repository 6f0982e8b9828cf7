-- 005: near-duplicate stories, versions of changed articles, full-text search.

-- MinHash LSH band keys, one row per (band, article): a new article's candidates
-- are the articles sharing a band key, found by an index lookup, then verified
-- on their texts (containment of 5-word shingles). first_seen_at bounds the window.
-- 42 rows per article: kept lean (no foreign key, one index, no WAL) because it is
-- the biggest table by rows and every load writes to it. It is derived data: after
-- a crash PostgreSQL empties an unlogged table, and the next run rebuilds it from
-- the articles' texts (ingest.load.ensure_story_index). A deleted article's rows are
-- harmless: candidates are verified against news.articles.
CREATE UNLOGGED TABLE news.minhash_bands (
    band_hash      bigint NOT NULL,
    article_id     bigint NOT NULL,
    first_seen_at  timestamptz NOT NULL
);
CREATE INDEX minhash_bands_hash ON news.minhash_bands (band_hash);
COMMENT ON TABLE news.minhash_bands IS 'Near-duplicate index: MinHash LSH band keys of each article (42 bands of 3 rows over 5-word shingles).';

ALTER TABLE news.articles ADD COLUMN version integer NOT NULL DEFAULT 1;
ALTER TABLE news.articles ADD COLUMN updated_at timestamptz;
COMMENT ON COLUMN news.articles.version IS 'Content version: 1 at first sight, +1 each time the page at the same URL changed (earlier ones in news.article_versions).';
COMMENT ON COLUMN news.articles.updated_at IS 'When the current version replaced the previous one; NULL for version 1.';
COMMENT ON COLUMN news.articles.story_id IS 'Documents telling the same story share it: exact copies are one document, and near-duplicates (a re-post on another site with other boilerplate, small edits, another title) share the story of the earliest published of them. See news.stories.';

CREATE TABLE news.article_versions (
    article_id      bigint NOT NULL REFERENCES news.articles (article_id) ON DELETE CASCADE,
    version         integer NOT NULL,
    title           text,
    author          text,
    published_at    timestamptz,
    text            text NOT NULL,
    word_count      integer NOT NULL,
    content_hash    text NOT NULL,
    valid_from      timestamptz NOT NULL,
    valid_to        timestamptz NOT NULL,
    superseded_by_run text NOT NULL,
    changes         jsonb NOT NULL,
    PRIMARY KEY (article_id, version)
);
COMMENT ON TABLE news.article_versions IS 'Earlier versions of articles whose page changed under the same URL; the current version is the row of news.articles.';
COMMENT ON COLUMN news.article_versions.valid_from IS 'When this version was first seen.';
COMMENT ON COLUMN news.article_versions.valid_to IS 'When the next version replaced it.';
COMMENT ON COLUMN news.article_versions.changes IS 'What the next version changed: fields (title, author, published_at, text) and words added/removed.';

-- Full-text search, kept beside the articles (insert-only, so loads never rewrite
-- article rows to index them). Language-aware: English text is stemmed as English.
CREATE FUNCTION news.ts_config(language text) RETURNS regconfig
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT CASE language
        WHEN 'en' THEN 'english' WHEN 'de' THEN 'german' WHEN 'fr' THEN 'french'
        WHEN 'es' THEN 'spanish' WHEN 'it' THEN 'italian' WHEN 'pt' THEN 'portuguese'
        WHEN 'nl' THEN 'dutch' WHEN 'ru' THEN 'russian' WHEN 'sv' THEN 'swedish'
        WHEN 'da' THEN 'danish' WHEN 'fi' THEN 'finnish' WHEN 'no' THEN 'norwegian'
        WHEN 'hu' THEN 'hungarian' WHEN 'ro' THEN 'romanian' WHEN 'tr' THEN 'turkish'
        ELSE 'simple' END::regconfig
$$;
COMMENT ON FUNCTION news.ts_config(text) IS 'The text search configuration for an ISO 639-1 language code (simple when there is none).';

CREATE TABLE news.article_search (
    article_id  bigint PRIMARY KEY REFERENCES news.articles (article_id) ON DELETE CASCADE,
    version     integer NOT NULL,
    document    tsvector NOT NULL
);
CREATE INDEX article_search_document ON news.article_search USING gin (document);
COMMENT ON TABLE news.article_search IS 'Full-text index of news.articles (title weighted above text); query it through news.search().';

CREATE FUNCTION news.index_search(ids bigint[]) RETURNS integer
LANGUAGE sql AS $$
    WITH indexed AS (
        INSERT INTO news.article_search (article_id, version, document)
        SELECT a.article_id, a.version,
               setweight(to_tsvector(news.ts_config(a.language), coalesce(a.title, '')), 'A')
               || setweight(to_tsvector(news.ts_config(a.language), a.text), 'B')
        FROM news.articles a
        LEFT JOIN news.article_search s USING (article_id)
        WHERE a.article_id = ANY(ids) AND (s.article_id IS NULL OR s.version <> a.version)
        ON CONFLICT (article_id) DO UPDATE
        SET version = EXCLUDED.version, document = EXCLUDED.document
        RETURNING 1)
    SELECT count(*)::integer FROM indexed
$$;
COMMENT ON FUNCTION news.index_search(bigint[]) IS 'Index (or re-index, after a new version) these articles for news.search(); the load stage calls it after each batch.';

CREATE FUNCTION news.search(query text, max_results integer DEFAULT 20, language text DEFAULT 'en')
RETURNS TABLE (article_id bigint, story_id bigint, title text, url text, source text,
               published_at timestamptz, rank real, snippet text)
LANGUAGE sql STABLE AS $$
    WITH q AS (
        SELECT websearch_to_tsquery(news.ts_config(language), query)
               || websearch_to_tsquery('simple', query) AS tsq
    ), hits AS (
        SELECT s.article_id, ts_rank_cd(s.document, q.tsq) AS rank
        FROM news.article_search s, q
        WHERE s.document @@ q.tsq
        ORDER BY rank DESC
        LIMIT max_results
    )
    SELECT a.article_id, a.story_id, a.title, a.url, a.source, a.published_at, h.rank,
           ts_headline(news.ts_config(a.language), a.text, q.tsq,
                       'MaxFragments=2, MinWords=8, MaxWords=25') AS snippet
    FROM hits h JOIN news.articles a USING (article_id), q
    ORDER BY h.rank DESC, a.published_at DESC NULLS LAST
$$;
COMMENT ON FUNCTION news.search(text, integer, text) IS 'Ranked full-text search: SELECT * FROM news.search(''semiconductor supply chain''). Accepts web-search syntax ("exact phrase", -excluded, OR).';

-- One row per story: its representative, copies and the sources that carried it.
CREATE VIEW news.stories AS
WITH ranked AS (
    SELECT a.*, row_number() OVER (
               PARTITION BY a.story_id
               ORDER BY a.direct DESC, a.published_at ASC NULLS LAST, a.first_seen_at,
                        a.article_id) AS pick,
           count(*) OVER (PARTITION BY a.story_id) AS copies,
           min(a.published_at) OVER (PARTITION BY a.story_id) AS first_published_at,
           max(a.first_seen_at) OVER (PARTITION BY a.story_id) AS last_copy_seen_at
    FROM news.articles a
)
SELECT r.story_id,
       r.article_id AS representative_id,
       r.title,
       r.url,
       r.source AS representative_source,
       r.copies::integer AS copies,
       (SELECT array_agg(DISTINCT b.source ORDER BY b.source)
        FROM news.articles b WHERE b.story_id = r.story_id) AS sources,
       r.first_published_at,
       r.first_seen_at,
       r.last_copy_seen_at
FROM ranked r
WHERE r.pick = 1;
COMMENT ON VIEW news.stories IS 'One row per story: the representative document (a publisher''s own over an aggregator''s copy, then the earliest published), how many documents tell it, and the sources that carried it.';
COMMENT ON COLUMN news.stories.representative_id IS 'article_id of the representative document.';
COMMENT ON COLUMN news.stories.copies IS 'Documents in the story (1: no copy known).';
COMMENT ON COLUMN news.stories.sources IS 'Sources whose documents are in the story.';


ALTER TABLE news.run_sources ADD COLUMN articles_changed integer NOT NULL DEFAULT 0;
ALTER TABLE news.run_sources ADD COLUMN near_duplicates integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN news.run_sources.articles_changed IS 'Articles whose page changed under the same URL: new versions.';
COMMENT ON COLUMN news.run_sources.near_duplicates IS 'New articles that joined the story of an earlier document (re-posts, near copies).';

CREATE OR REPLACE VIEW news.runs AS
SELECT r.run_id,
       r.trigger,
       r.started_at,
       r.finished_at,
       r.status,
       r.message,
       count(s.source)::integer                            AS sources,
       coalesce(sum(s.feeds_fetched), 0)::integer          AS feeds_fetched,
       coalesce(sum(s.entries_seen), 0)::integer           AS entries_seen,
       coalesce(sum(s.articles_fetched), 0)::integer       AS articles_fetched,
       coalesce(sum(s.articles_extracted), 0)::integer     AS articles_extracted,
       coalesce(sum(s.articles_valid), 0)::integer         AS articles_valid,
       coalesce(sum(s.articles_new), 0)::integer           AS articles_new,
       coalesce(sum(s.articles_seen_before), 0)::integer   AS articles_seen_before,
       coalesce(sum(s.rejections), 0)::integer             AS rejections,
       coalesce(sum(s.articles_changed), 0)::integer       AS articles_changed,
       coalesce(sum(s.near_duplicates), 0)::integer        AS near_duplicates
FROM news.run_log r
LEFT JOIN news.run_sources s USING (run_id)
GROUP BY r.run_id;
