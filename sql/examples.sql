-- The queries an analyst runs first against the news-ingest warehouse.
-- Each one is run by tests/test_stories.py on a loaded warehouse.

-- 1. The latest articles, newest first.
SELECT published_at, source, title, url
FROM news.articles
ORDER BY published_at DESC NULLS LAST
LIMIT 20;

-- 2. Articles per source and day over the last two weeks.
SELECT day, source, articles
FROM news.daily_source_counts
WHERE day >= current_date - 14
ORDER BY day DESC, articles DESC;

-- 3. Stories told by more than one document (re-posts, syndicated copies), biggest first.
SELECT story_id, copies, sources, title, url, first_published_at
FROM news.stories
WHERE copies > 1
ORDER BY copies DESC, first_published_at DESC;

-- 4. Full-text search, ranked (web-search syntax: "exact phrase", -excluded, OR).
SELECT title, source, published_at, round(rank::numeric, 3) AS rank, snippet
FROM news.search('Lithuania lasers biotech', 10);

-- 5. Is every source alive? Failing feeds first, then the stalest.
SELECT source, failing, last_success_at, last_new_item_at, last_article_at, last_error
FROM news.source_freshness
ORDER BY failing DESC, last_new_item_at NULLS FIRST;

-- 6. Why items were rejected over the last week.
SELECT stage, reason, count(*) AS items, count(DISTINCT source) AS sources
FROM news.rejections
WHERE rejected_at > now() - interval '7 days' AND resolved_by IS NULL
GROUP BY stage, reason
ORDER BY items DESC;

-- 7. The last runs and what each did.
SELECT run_id, trigger, status, started_at, finished_at - started_at AS took,
       entries_seen, articles_new, articles_seen_before, near_duplicates, rejections
FROM news.runs
ORDER BY started_at DESC
LIMIT 10;

-- 8. Every URL an article was met under (feed links as given, redirects, canonical).
SELECT a.title, u.kind, u.url
FROM news.article_urls u JOIN news.articles a USING (article_id)
WHERE a.article_id = (SELECT min(article_id) FROM news.articles)
ORDER BY u.kind;

-- 9. Validation quality per source over the last week.
SELECT source, sum(rows_validated) AS validated, sum(rows_rejected) AS rejected,
       round(sum(rows_rejected)::numeric / nullif(sum(rows_validated), 0), 3) AS rejected_share
FROM news.quality
WHERE validated_at > now() - interval '7 days'
GROUP BY source
ORDER BY rejected_share DESC NULLS LAST;

-- 10. Articles per language and source, today (the daily digest).
SELECT day, source, language, articles
FROM news.daily_digest
WHERE day = current_date
ORDER BY articles DESC;

-- 11. Edited articles: how many changed, and how much.
SELECT count(*) AS edits, count(DISTINCT article_id) AS articles,
       coalesce(sum((changes->>'words_after')::int - (changes->>'words_before')::int), 0)
           AS words_added
FROM news.article_versions;

-- 12. Who publishes what: words per source and language.
SELECT source, language, count(*) AS articles, round(avg(word_count)) AS avg_words
FROM news.articles
GROUP BY source, language
ORDER BY articles DESC;
