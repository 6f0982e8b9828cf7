-- 008: nothing half-done survives a kill: runs end, derived data catches up, and
-- article URLs that failed wait before they are tried again.

-- Runs whose process died are closed as 'aborted' by the next pass, the DAG's
-- finish or `news-ingest db repair` (ingest.runs.close_abandoned). A live run holds
-- a session advisory lock and beats a heartbeat; the lock goes with its process.
ALTER TABLE news.run_log DROP CONSTRAINT run_log_status_check;
ALTER TABLE news.run_log ADD CONSTRAINT run_log_status_check
    CHECK (status IN ('running', 'success', 'failed', 'aborted'));
ALTER TABLE news.run_log ADD COLUMN heartbeat_at timestamptz;
ALTER TABLE news.run_log ADD COLUMN owner text;
COMMENT ON COLUMN news.run_log.heartbeat_at IS 'Last sign of life of a process working on the run (every 30 s while it works).';
COMMENT ON COLUMN news.run_log.owner IS 'host:pid of the last process that worked on the run.';

-- The derived data of a loaded article (its near-duplicate keys and story, its
-- search entry) is queued in the same transaction as the article, and the queue
-- is drained right after the load; a pass killed in between leaves the rows here,
-- and the next pass (or `news-ingest db repair`) drains them first.
CREATE TABLE news.derive_queue (
    article_id  bigint PRIMARY KEY,
    linked      boolean NOT NULL DEFAULT false,
    queued_at   timestamptz NOT NULL
);
COMMENT ON TABLE news.derive_queue IS 'Articles loaded or changed whose near-duplicate keys, story or search entry are not written yet (empty between passes unless a pass was killed).';
COMMENT ON COLUMN news.derive_queue.linked IS 'The near-duplicate keys are in news.minhash_bands and the story assigned; only the search entry is missing.';

-- news.minhash_bands is unlogged: crash recovery empties it, maybe while a pass goes
-- on loading (and adding rows). A sentinel row, written by every full build, tells
-- a complete index from one that lost its rows (ingest.stories.ensure_story_index).
INSERT INTO news.minhash_bands (band_hash, article_id, first_seen_at) VALUES (0, 0, '-infinity');

-- Article URLs that failed: tried again after a growing delay, or never for a
-- reason that does not pass by itself (404, 410, not HTML, disallowed by robots.txt).
CREATE TABLE news.url_failures (
    url              text PRIMARY KEY,
    source           text NOT NULL,
    stage            text NOT NULL,
    reason           text NOT NULL,
    detail           text NOT NULL DEFAULT '',
    failures         integer NOT NULL,
    first_failed_at  timestamptz NOT NULL,
    last_failed_at   timestamptz NOT NULL,
    next_try_at      timestamptz,
    last_run_id      text NOT NULL
);
CREATE INDEX url_failures_source ON news.url_failures (source);
COMMENT ON TABLE news.url_failures IS 'Feed entries whose article failed (fetch, extraction or validation), keyed by the target''s canonical URL; a row goes when the article loads. Delete rows to have them tried at the next pass.';
COMMENT ON COLUMN news.url_failures.url IS 'The entry''s target, canonical (an aggregator''s wrapper unwrapped).';
COMMENT ON COLUMN news.url_failures.reason IS 'The last failure''s reason code (as in news.rejections).';
COMMENT ON COLUMN news.url_failures.failures IS 'Failures in a row.';
COMMENT ON COLUMN news.url_failures.next_try_at IS 'Not fetched again before this time; NULL: never again (http_404, http_410, not_html, robots, ...).';

CREATE VIEW news.failing_urls AS
SELECT url, source, stage, reason, detail, failures, first_failed_at, last_failed_at,
       next_try_at, next_try_at IS NULL AS given_up
FROM news.url_failures;
COMMENT ON VIEW news.failing_urls IS 'Article URLs that failed, when they will be tried again, and those given up (next_try_at NULL).';
COMMENT ON COLUMN news.failing_urls.given_up IS 'The reason does not pass by itself: the URL is not tried again until its row is deleted.';

ALTER TABLE news.run_sources ADD COLUMN articles_skipped integer NOT NULL DEFAULT 0;
COMMENT ON COLUMN news.run_sources.articles_skipped IS 'Entries not fetched because their URL failed before and waits for its next try (news.failing_urls).';

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
       coalesce(sum(s.near_duplicates), 0)::integer        AS near_duplicates,
       r.heartbeat_at,
       coalesce(sum(s.articles_skipped), 0)::integer       AS articles_skipped
FROM news.run_log r
LEFT JOIN news.run_sources s USING (run_id)
GROUP BY r.run_id;
COMMENT ON COLUMN news.runs.status IS 'running, success, failed, or aborted (its process died; closed by a later pass or news-ingest db repair).';
