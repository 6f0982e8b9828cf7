-- 001: the warehouse's core tables and the relations downstream SQL reads.
-- Forward-only: later changes go into new numbered files.

CREATE SCHEMA IF NOT EXISTS news;
COMMENT ON SCHEMA news IS 'news-ingest warehouse: articles, their URLs, rejections and runs.';

-- Raw pages, compressed and content-addressed: nothing fetched is lost, and
-- records can be re-derived after an extractor upgrade without fetching again.
CREATE TABLE news.raw_pages (
    sha256            text PRIMARY KEY,
    body_zlib         bytea NOT NULL,
    size              integer NOT NULL,
    content_type      text,
    encoding          text,
    first_url         text NOT NULL,
    first_fetched_at  timestamptz NOT NULL
);
ALTER TABLE news.raw_pages ALTER COLUMN body_zlib SET STORAGE EXTERNAL;  -- already compressed
COMMENT ON TABLE news.raw_pages IS 'Fetched HTML exactly as received (zlib), keyed by the sha256 of the raw bytes.';

CREATE TABLE news.articles (
    article_id     bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    url            text NOT NULL UNIQUE,
    source         text NOT NULL,
    title          text,
    author         text,
    published_at   timestamptz,
    date_source    text,
    language       text,
    site_name      text,
    text           text NOT NULL,
    word_count     integer NOT NULL CHECK (word_count >= 0),
    content_hash   text NOT NULL UNIQUE,
    story_id       bigint NOT NULL,
    raw_sha256     text REFERENCES news.raw_pages (sha256),
    extractor      text,
    first_seen_at  timestamptz NOT NULL,
    last_seen_at   timestamptz NOT NULL,
    first_run_id   text NOT NULL,
    last_run_id    text NOT NULL,
    direct         boolean NOT NULL DEFAULT true
);
CREATE INDEX articles_published_at ON news.articles (published_at);
CREATE INDEX articles_first_seen_at ON news.articles (first_seen_at);
CREATE INDEX articles_source_published ON news.articles (source, published_at);
CREATE INDEX articles_story ON news.articles (story_id);

-- Until near-duplicate detection assigns stories, every article is its own story.
CREATE FUNCTION news.default_story_id() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.story_id IS NULL THEN
        NEW.story_id := NEW.article_id;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER articles_default_story BEFORE INSERT ON news.articles
    FOR EACH ROW EXECUTE FUNCTION news.default_story_id();

COMMENT ON TABLE news.articles IS 'One row per distinct document: the same canonical URL, any URL already met, or the same normalised text is the same document.';
COMMENT ON COLUMN news.articles.article_id IS 'Stable surrogate key.';
COMMENT ON COLUMN news.articles.url IS 'Canonical URL: after unwrapping aggregator links and following redirects; no fragment, no tracking parameters (utm_*, fbclid, ...), query sorted.';
COMMENT ON COLUMN news.articles.source IS 'Name of the source (sources.yml) that yielded the document: the publisher''s own feed when it was met there, else the first aggregator that linked it.';
COMMENT ON COLUMN news.articles.direct IS 'True when source is the publisher''s own feed; false when the document was only met through an aggregator (e.g. Bing News).';
COMMENT ON COLUMN news.articles.title IS 'Headline.';
COMMENT ON COLUMN news.articles.author IS 'Byline as published; NULL when none was found.';
COMMENT ON COLUMN news.articles.published_at IS 'Publication time; NULL when unknown. Dates without a time are midnight in the source''s time zone.';
COMMENT ON COLUMN news.articles.date_source IS 'Where published_at came from: feed, page, url, text.';
COMMENT ON COLUMN news.articles.language IS 'ISO 639-1 code detected from the text (or the page''s lang attribute for short texts).';
COMMENT ON COLUMN news.articles.site_name IS 'Publisher name as the page declares it.';
COMMENT ON COLUMN news.articles.text IS 'Clean article text, paragraphs separated by newlines.';
COMMENT ON COLUMN news.articles.word_count IS 'Number of words (\w+ tokens) in text.';
COMMENT ON COLUMN news.articles.content_hash IS 'sha256 of the normalised text (case, punctuation and whitespace ignored): equal for exact copies.';
COMMENT ON COLUMN news.articles.story_id IS 'Documents telling the same story (e.g. a re-post on another site) share it; the article_id of the story''s first document.';
COMMENT ON COLUMN news.articles.raw_sha256 IS 'The raw page this record was extracted from (news.raw_pages).';
COMMENT ON COLUMN news.articles.extractor IS 'Extractor versions that produced the record.';
COMMENT ON COLUMN news.articles.first_seen_at IS 'When the document was first fetched.';
COMMENT ON COLUMN news.articles.last_seen_at IS 'When the document was last met in a feed.';

CREATE TABLE news.article_urls (
    url            text NOT NULL,
    kind           text NOT NULL CHECK (kind IN ('feed_link', 'redirect', 'final', 'canonical', 'declared')),
    article_id     bigint NOT NULL REFERENCES news.articles (article_id) ON DELETE CASCADE,
    source         text NOT NULL,
    first_seen_at  timestamptz NOT NULL,
    PRIMARY KEY (url, kind)
);
CREATE INDEX article_urls_article ON news.article_urls (article_id);
COMMENT ON TABLE news.article_urls IS 'Every URL under which an article was met, mapped to it.';
COMMENT ON COLUMN news.article_urls.url IS 'The URL exactly as met.';
COMMENT ON COLUMN news.article_urls.kind IS 'feed_link: the feed''s link as given (e.g. a bing.com/news/apiclick.aspx wrapper); redirect: a hop (an unwrapped target or an HTTP redirect); final: the URL after redirects; canonical: news.articles.url form; declared: the page''s own canonical/og:url.';
COMMENT ON COLUMN news.article_urls.article_id IS 'The article (news.articles).';
COMMENT ON COLUMN news.article_urls.source IS 'The source whose feed gave this URL.';

-- Runs: one row per pass (a CLI run or an Airflow DAG run), counts per source.
CREATE TABLE news.run_log (
    run_id       text PRIMARY KEY,
    trigger      text NOT NULL,
    started_at   timestamptz NOT NULL,
    finished_at  timestamptz,
    status       text NOT NULL DEFAULT 'running' CHECK (status IN ('running', 'success', 'failed')),
    message      text
);
COMMENT ON TABLE news.run_log IS 'Run bookkeeping; read news.runs instead.';

CREATE TABLE news.run_sources (
    run_id                text NOT NULL REFERENCES news.run_log (run_id) ON DELETE CASCADE,
    source                text NOT NULL,
    finished_at           timestamptz NOT NULL,
    feeds_fetched         integer NOT NULL DEFAULT 0,
    entries_seen          integer NOT NULL DEFAULT 0,
    articles_fetched      integer NOT NULL DEFAULT 0,
    articles_extracted    integer NOT NULL DEFAULT 0,
    articles_valid        integer NOT NULL DEFAULT 0,
    articles_new          integer NOT NULL DEFAULT 0,
    articles_seen_before  integer NOT NULL DEFAULT 0,
    rejections            integer NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, source)
);
COMMENT ON TABLE news.run_sources IS 'What each run did for each source, stage by stage (a re-run of the same run replaces its row).';
COMMENT ON COLUMN news.run_sources.feeds_fetched IS 'Feed bodies downloaded (0 or 1).';
COMMENT ON COLUMN news.run_sources.entries_seen IS 'Feed entries with a usable link.';
COMMENT ON COLUMN news.run_sources.articles_fetched IS 'Article pages downloaded.';
COMMENT ON COLUMN news.run_sources.articles_extracted IS 'Pages that yielded an article.';
COMMENT ON COLUMN news.run_sources.articles_valid IS 'Records that passed validation.';
COMMENT ON COLUMN news.run_sources.articles_new IS 'Records that became new rows of news.articles.';
COMMENT ON COLUMN news.run_sources.articles_seen_before IS 'Records that matched an article already stored (same URL or same text).';
COMMENT ON COLUMN news.run_sources.rejections IS 'Rows written to news.rejections.';

CREATE TABLE news.rejections (
    rejection_id  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    run_id        text NOT NULL,
    source        text NOT NULL,
    url           text,
    stage         text NOT NULL CHECK (stage IN ('fetch', 'parse', 'extract', 'validate', 'load')),
    reason        text NOT NULL,
    detail        text NOT NULL DEFAULT '',
    payload       jsonb,
    rejected_at   timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX rejections_once ON news.rejections (run_id, source, stage, reason, coalesce(url, ''));
CREATE INDEX rejections_rejected_at ON news.rejections (rejected_at);
CREATE INDEX rejections_url ON news.rejections (url);
COMMENT ON TABLE news.rejections IS 'Everything that did not become an article, and why. A re-run of the same run updates its rows instead of adding new ones.';
COMMENT ON COLUMN news.rejections.url IS 'The item''s URL; NULL when a whole source failed.';
COMMENT ON COLUMN news.rejections.source IS 'Source name.';
COMMENT ON COLUMN news.rejections.stage IS 'fetch, parse, extract, validate or load.';
COMMENT ON COLUMN news.rejections.reason IS 'Stable short code (http_404, timeout, not_a_feed, not_html, no_content, ...); see README.';
COMMENT ON COLUMN news.rejections.detail IS 'Human-readable explanation (offending values, HTTP status, ...).';
COMMENT ON COLUMN news.rejections.payload IS 'The rejected record as JSON when there was one, so it can be re-validated.';
COMMENT ON COLUMN news.rejections.run_id IS 'The run (news.runs) that rejected it.';
COMMENT ON COLUMN news.rejections.rejected_at IS 'When it was (last) rejected.';

CREATE VIEW news.runs AS
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
       coalesce(sum(s.rejections), 0)::integer             AS rejections
FROM news.run_log r
LEFT JOIN news.run_sources s USING (run_id)
GROUP BY r.run_id;
COMMENT ON VIEW news.runs IS 'One row per run with counts per stage, summed over its sources (news.run_sources has them per source).';
COMMENT ON COLUMN news.runs.run_id IS 'cli-<time>-<random> for CLI runs; the Airflow run_id for DAG runs.';
COMMENT ON COLUMN news.runs.trigger IS 'cli, airflow or demo.';
COMMENT ON COLUMN news.runs.status IS 'running, success or failed.';
COMMENT ON COLUMN news.runs.message IS 'Why the run failed, or a note.';

CREATE VIEW news.run_rejection_counts AS
SELECT run_id, source, stage, reason, count(*)::integer AS rejections
FROM news.rejections
GROUP BY run_id, source, stage, reason;
COMMENT ON VIEW news.run_rejection_counts IS 'Rejections per run, source, stage and reason code.';
