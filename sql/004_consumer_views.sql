-- 004: relations for SQL consumers and the Airflow page: daily counts, freshness,
-- and the daily digest built by the news_daily_digest DAG.

CREATE OR REPLACE VIEW news.daily_source_counts AS
SELECT (first_seen_at AT TIME ZONE 'UTC')::date AS day,
       source,
       count(*)::integer                        AS articles,
       sum(word_count)::bigint                  AS words
FROM news.articles
GROUP BY 1, 2;
COMMENT ON VIEW news.daily_source_counts IS 'Articles first seen per source and UTC day.';
COMMENT ON COLUMN news.daily_source_counts.day IS 'UTC day of first_seen_at.';
COMMENT ON COLUMN news.daily_source_counts.articles IS 'Distinct documents first seen that day.';

CREATE OR REPLACE VIEW news.source_freshness AS
SELECT s.source,
       a.last_article_at,
       a.last_published_at,
       a.articles,
       f.feed_url,
       f.last_success_at,
       f.last_new_item_at,
       coalesce(f.consecutive_failures > 0, false) AS failing,
       f.consecutive_failures,
       f.last_status,
       f.last_error
FROM (SELECT source FROM news.feed_state UNION SELECT DISTINCT source FROM news.articles) s
LEFT JOIN (SELECT source, max(first_seen_at) AS last_article_at,
                  max(published_at) AS last_published_at, count(*)::integer AS articles
           FROM news.articles GROUP BY source) a USING (source)
LEFT JOIN news.feed_state f USING (source);
COMMENT ON VIEW news.source_freshness IS 'Per source: its last article, its feed''s last success and new item, and whether it is failing.';
COMMENT ON COLUMN news.source_freshness.last_article_at IS 'When the newest stored article of the source was first seen.';
COMMENT ON COLUMN news.source_freshness.last_published_at IS 'The newest publication time among its articles.';
COMMENT ON COLUMN news.source_freshness.failing IS 'The feed failed at its last attempt(s).';

-- The daily digest (news_daily_digest DAG): rebuilt per day, idempotently.
CREATE TABLE news.daily_digest (
    day        date NOT NULL,
    source     text NOT NULL,
    language   text NOT NULL,
    articles   integer NOT NULL,
    built_at   timestamptz NOT NULL,
    PRIMARY KEY (day, source, language)
);
COMMENT ON TABLE news.daily_digest IS 'Articles first seen per UTC day, source and language (built by news_daily_digest).';

CREATE TABLE news.daily_top_stories (
    day           date NOT NULL,
    rank          integer NOT NULL,
    story_id      bigint NOT NULL,
    title         text,
    copies        integer NOT NULL,
    sources       text[] NOT NULL,
    built_at      timestamptz NOT NULL,
    PRIMARY KEY (day, rank)
);
COMMENT ON TABLE news.daily_top_stories IS 'The day''s most re-posted stories: documents sharing a story_id first seen that day (built by news_daily_digest).';
COMMENT ON COLUMN news.daily_top_stories.copies IS 'Documents of the story (the original and its re-posts).';
COMMENT ON COLUMN news.daily_top_stories.sources IS 'Sources that carried it.';

CREATE OR REPLACE FUNCTION news.build_daily_digest(target date, top_n integer DEFAULT 10)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
    day_start timestamptz := target::timestamp AT TIME ZONE 'UTC';
BEGIN
    DELETE FROM news.daily_digest WHERE day = target;
    INSERT INTO news.daily_digest (day, source, language, articles, built_at)
    SELECT target, source, coalesce(language, 'und'), count(*), now()
    FROM news.articles
    WHERE first_seen_at >= day_start AND first_seen_at < day_start + interval '1 day'
    GROUP BY source, coalesce(language, 'und');
    GET DIAGNOSTICS n = ROW_COUNT;

    DELETE FROM news.daily_top_stories WHERE day = target;
    INSERT INTO news.daily_top_stories (day, rank, story_id, title, copies, sources, built_at)
    SELECT target, row_number() OVER (ORDER BY copies DESC, first_seen, story_id), story_id,
           title, copies, sources, now()
    FROM (
        SELECT a.story_id,
               (array_agg(a.title ORDER BY a.published_at NULLS LAST, a.article_id))[1] AS title,
               count(*)::integer AS copies,
               array_agg(DISTINCT a.source ORDER BY a.source) AS sources,
               min(a.first_seen_at) AS first_seen
        FROM news.articles a
        WHERE a.story_id IN (SELECT story_id FROM news.articles
                             WHERE first_seen_at >= day_start
                               AND first_seen_at < day_start + interval '1 day')
        GROUP BY a.story_id
    ) s
    ORDER BY copies DESC, first_seen, story_id
    LIMIT top_n;
    RETURN n;
END $$;
COMMENT ON FUNCTION news.build_daily_digest(date, integer) IS 'Rebuild news.daily_digest and news.daily_top_stories for one UTC day; safe to run again.';
