-- 002: incremental and polite fetching: per-feed state, robots.txt cache.

CREATE TABLE news.feed_state (
    source                text PRIMARY KEY,
    feed_url              text NOT NULL,
    etag                  text,
    last_modified         text,
    last_status           text,
    last_fetch_at         timestamptz,
    last_success_at       timestamptz,
    last_new_item_at      timestamptz,
    consecutive_failures  integer NOT NULL DEFAULT 0,
    next_fetch_at         timestamptz,
    last_error            text,
    entries_last          integer
);
COMMENT ON TABLE news.feed_state IS 'One row per source: conditional-GET validators, health and back-off of its feed.';
COMMENT ON COLUMN news.feed_state.feed_url IS 'The feed URL the state belongs to; a changed URL starts afresh.';
COMMENT ON COLUMN news.feed_state.etag IS 'ETag of the last 200 response, sent back as If-None-Match.';
COMMENT ON COLUMN news.feed_state.last_modified IS 'Last-Modified of the last 200 response, sent back as If-Modified-Since.';
COMMENT ON COLUMN news.feed_state.last_status IS 'ok, not_modified, backoff, or the rejection reason of the last attempt (http_500, timeout, not_a_feed, ...).';
COMMENT ON COLUMN news.feed_state.last_fetch_at IS 'Last attempt to fetch the feed.';
COMMENT ON COLUMN news.feed_state.last_success_at IS 'Last attempt that got a usable answer (200 with a feed, or 304).';
COMMENT ON COLUMN news.feed_state.last_new_item_at IS 'Last time the feed listed an entry not seen before.';
COMMENT ON COLUMN news.feed_state.consecutive_failures IS 'Failed attempts since the last success; drives the back-off.';
COMMENT ON COLUMN news.feed_state.next_fetch_at IS 'The feed is not polled before this time (back-off after failures).';
COMMENT ON COLUMN news.feed_state.last_error IS 'Detail of the last failure.';
COMMENT ON COLUMN news.feed_state.entries_last IS 'Entries in the last feed body parsed.';

CREATE VIEW news.feed_health AS
SELECT source,
       feed_url,
       last_status,
       consecutive_failures > 0 AS failing,
       consecutive_failures,
       last_success_at,
       last_new_item_at,
       next_fetch_at,
       last_error
FROM news.feed_state;
COMMENT ON VIEW news.feed_health IS 'Which feeds are failing, since when, and when they will be polled again.';

CREATE TABLE news.robots (
    origin      text PRIMARY KEY,
    status      integer,
    body        text,
    fetched_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
COMMENT ON TABLE news.robots IS 'robots.txt per origin (scheme://host:port), cached until expires_at (at most 24 h).';
COMMENT ON COLUMN news.robots.status IS 'HTTP status of the robots.txt request; NULL when it failed (treated as disallow-all until expiry).';
