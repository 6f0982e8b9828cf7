-- 013: web archives. A warc: source (or news-ingest import-warc) reads local WARC and
-- ARC files; each HTML response record becomes a page, as if fetched at its
-- WARC-Date, and goes the way of every fetched page. An article met first in an
-- archive says so (via = 'warc', found_in = the file). Each file's import is
-- remembered, so that a file imported in full is not read again and one read in part
-- goes on where it stopped.
ALTER TABLE news.articles DROP CONSTRAINT IF EXISTS articles_via_check;
ALTER TABLE news.articles ADD CONSTRAINT articles_via_check
    CHECK (via IN ('feed', 'sitemap', 'news_sitemap', 'listing', 'warc'));
COMMENT ON COLUMN news.articles.via IS 'The kind of document through which news.articles.source first listed the article: feed (RSS, Atom, JSON Feed), sitemap, news_sitemap (Google News sitemap), listing (an HTML list page), warc (a response record of a local WARC or ARC file). NULL for rows from before 012 (all from feeds).';
COMMENT ON COLUMN news.articles.found_in IS 'The URL of that document: the feed, the sitemap (a child of an index, or one a site source discovered) or the list page; for via = warc, the archive file''s path.';

CREATE TABLE news.warc_files (
    path         text PRIMARY KEY,
    source       text NOT NULL,
    size         bigint NOT NULL,
    mtime        timestamptz NOT NULL,
    next_offset  bigint NOT NULL DEFAULT 0,
    done         boolean NOT NULL DEFAULT false,
    records      bigint NOT NULL DEFAULT 0,
    pages        bigint NOT NULL DEFAULT 0,
    loaded       bigint NOT NULL DEFAULT 0,
    skipped      jsonb NOT NULL DEFAULT '{}',
    errors       integer NOT NULL DEFAULT 0,
    run_id       text,
    scope        text NOT NULL DEFAULT '',
    started_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    finished_at  timestamptz
);
COMMENT ON TABLE news.warc_files IS 'Web archive files imported (a warc: source, news-ingest import-warc, the news_import_warc DAG), one row per file path: how far the import got and what it found. A file done and unchanged (size, mtime), with the same filters (scope), is not read again; one that grew goes on at next_offset; one shorter than next_offset is read anew.';
COMMENT ON COLUMN news.warc_files.path IS 'The file''s absolute path.';
COMMENT ON COLUMN news.warc_files.source IS 'The source its pages were imported as (the last import''s).';
COMMENT ON COLUMN news.warc_files.size IS 'The file''s size in bytes when last read.';
COMMENT ON COLUMN news.warc_files.mtime IS 'The file''s modification time when last read.';
COMMENT ON COLUMN news.warc_files.next_offset IS 'Where the next read starts: every record before this byte offset was loaded, rejected or skipped (moved after each stored batch).';
COMMENT ON COLUMN news.warc_files.done IS 'Read to its end (damaged parts included: see news.rejections with reason not_warc, warc_corrupt or warc_truncated).';
COMMENT ON COLUMN news.warc_files.records IS 'Records read (before next_offset), of every type.';
COMMENT ON COLUMN news.warc_files.pages IS 'Of those, responses of HTML pages with status 200 that the filters (dates, links, hosts) let through.';
COMMENT ON COLUMN news.warc_files.loaded IS 'Of those, pages that became new articles.';
COMMENT ON COLUMN news.warc_files.skipped IS 'Records skipped, by kind: the record type (revisit, request, warcinfo, metadata, resource, ...), not_http, not_html, redirect, status (not 200), dated_out (--since/--until), filtered (links, hosts), known (the URL is stored), duplicate (met earlier in the file), too_large, bad_content_encoding.';
COMMENT ON COLUMN news.warc_files.errors IS 'Damaged parts of the file (rejections not_warc, warc_corrupt, warc_truncated).';
COMMENT ON COLUMN news.warc_files.run_id IS 'The run (news.runs) that last read it.';
COMMENT ON COLUMN news.warc_files.scope IS 'The filters it was read with (--since, --until, the source''s links and hosts); empty: none. A file read with other filters is read anew.';
