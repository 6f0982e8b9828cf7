-- 009: one document per publisher. The same text at two URLs of one site is one
-- article (as before); on another site it is an article of its own, in the
-- original's story. Until now content_hash was unique across the warehouse, so a
-- wire site's verbatim copy became a URL of the original article: the story showed
-- one copy and one source. (Media Cloud de-duplicates within a media source for the
-- same reason: a re-post is another publisher's publication.)

-- The registrable part of a URL's host, as ingest.resolve.site computes it
-- (www.koreatimes.co.kr and feed.koreatimes.co.kr are both koreatimes.co.kr; an IP
-- address is its own site); tests/test_load.py holds the two to the same answers.
CREATE FUNCTION news.url_site(url text) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE STRICT AS $$
DECLARE
    host text;
    labels text[];
    n integer;
BEGIN
    host := substring(url FROM '^[A-Za-z][A-Za-z0-9+.-]*://(?:[^/?#@]*@)?(\[[^\]]*\]|[^/?#:]*)');
    host := rtrim(lower(coalesce(host, '')), '.');
    IF host LIKE '[%]' THEN
        RETURN substr(host, 2, length(host) - 2);  -- an IPv6 literal
    END IF;
    IF host = '' OR replace(host, '.', '') ~ '^[0-9]+$' OR strpos(host, ':') > 0 THEN
        RETURN host;
    END IF;
    labels := string_to_array(host, '.');
    n := array_length(labels, 1);
    IF n >= 3 AND length(labels[n - 1]) <= 3 AND length(labels[n]) = 2 THEN
        RETURN array_to_string(labels[n - 2:n], '.');  -- co.kr, go.kr, com.au, ...
    END IF;
    RETURN array_to_string(labels[greatest(n - 1, 1):n], '.');
END $$;
COMMENT ON FUNCTION news.url_site(text) IS 'The site (registrable part of the host) of a URL: the unit within which equal texts are one document.';

ALTER TABLE news.articles ADD COLUMN site text GENERATED ALWAYS AS (news.url_site(url)) STORED;
COMMENT ON COLUMN news.articles.site IS 'The site of url (its host''s registrable part): the same text is one document within a site, and its own document, in the same story, on another.';

-- Copies met on another site, merged into the original until now, become articles
-- of their own: each group of URL rows met together (one source, one sighting)
-- whose canonical URL is on another site than its article's. The copy's text is
-- the original's (that is why it was merged); its raw page is found when it was
-- kept. `news-ingest reextract` derives its own title and dates from that page.
CREATE TEMP TABLE copies ON COMMIT DROP AS
SELECT u.article_id, u.source, u.first_seen_at, u.url AS canonical,
       row_number() OVER (ORDER BY u.article_id, u.first_seen_at, u.url) AS n
FROM news.article_urls u JOIN news.articles a USING (article_id)
WHERE u.kind = 'canonical' AND news.url_site(u.url) <> a.site;

CREATE TEMP TABLE copy_ids ON COMMIT DROP AS
SELECT c.*, nextval(pg_get_serial_sequence('news.articles', 'article_id')) AS new_id
FROM copies c
WHERE NOT EXISTS (  -- one copy per site and text: a second sighting is a URL of the first
    SELECT 1 FROM copies d
    WHERE d.article_id = c.article_id AND news.url_site(d.canonical) = news.url_site(c.canonical)
      AND d.n < c.n);

ALTER TABLE news.articles DROP CONSTRAINT articles_content_hash_key;
CREATE UNIQUE INDEX articles_content_hash_site ON news.articles (content_hash, site);

INSERT INTO news.articles (
    article_id, url, source, title, author, published_at, date_source, language, site_name,
    text, word_count, content_hash, story_id, raw_sha256, extractor, first_seen_at,
    last_seen_at, first_run_id, last_run_id, direct, version, modified_at, feed_title,
    feed_published_at, feed_author, removed, extracted_at)
SELECT c.new_id, c.canonical, c.source, a.title, a.author, a.published_at, a.date_source,
       a.language, a.site_name, a.text, a.word_count, a.content_hash, a.story_id,
       coalesce((SELECT r.sha256 FROM news.raw_pages r
                 JOIN news.article_urls f ON f.url = r.first_url AND f.kind = 'final'
                 WHERE f.article_id = c.article_id AND f.source = c.source
                   AND f.first_seen_at = c.first_seen_at LIMIT 1), a.raw_sha256),
       a.extractor, c.first_seen_at, c.first_seen_at, a.first_run_id, a.last_run_id,
       EXISTS (SELECT 1 FROM news.article_urls f  -- met in the publisher's own feed
               WHERE f.article_id = c.article_id AND f.source = c.source
                 AND f.first_seen_at = c.first_seen_at AND f.kind = 'feed_link'
                 AND news.url_site(f.url) = news.url_site(c.canonical)), 1,
       a.modified_at, a.feed_title, a.feed_published_at, a.feed_author, a.removed,
       a.extracted_at
FROM copy_ids c JOIN news.articles a USING (article_id);

-- The copy's URL rows (those met in the same sighting, on the copy's site) move to it.
UPDATE news.article_urls u SET article_id = c.new_id
FROM copy_ids c
WHERE u.article_id = c.article_id AND u.source = c.source
  AND u.first_seen_at = c.first_seen_at
  AND (news.url_site(u.url) = news.url_site(c.canonical) OR u.kind = 'feed_link');

-- Their near-duplicate keys and search entries are written by the next pass.
INSERT INTO news.derive_queue (article_id, linked, queued_at)
SELECT new_id, false, now() FROM copy_ids
ON CONFLICT (article_id) DO NOTHING;
