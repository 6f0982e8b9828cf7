-- 014: raw pages off the database. With the setting raw_store: warc, a fetched page is
-- appended, as a crawler writes it (a response record and its request), to WARC files
-- under $NEWS_INGEST_HOME/warc/ or the folder or object-store URL of warc_store, and
-- its row here keeps where: the file, and the offset and length of its response
-- record (one gzip member). body_zlib is then NULL. Rows of both kinds may live side
-- by side (a warehouse that changed its setting); `news-ingest reextract` and
-- `news-ingest export-warc` read either.
ALTER TABLE news.raw_pages ALTER COLUMN body_zlib DROP NOT NULL;
ALTER TABLE news.raw_pages
    ADD COLUMN warc_file   text,
    ADD COLUMN warc_offset bigint,
    ADD COLUMN warc_length bigint;
ALTER TABLE news.raw_pages ADD CONSTRAINT raw_pages_body_kept CHECK (
    body_zlib IS NOT NULL
    OR (warc_file IS NOT NULL AND warc_offset >= 0 AND warc_length > 0));
COMMENT ON TABLE news.raw_pages IS 'Fetched pages exactly as received, keyed by the sha256 of the raw bytes: in body_zlib (raw_store: database, the default), or in a WARC file (raw_store: warc) at warc_file, warc_offset, warc_length.';
COMMENT ON COLUMN news.raw_pages.body_zlib IS 'The body, zlib-compressed; NULL when it is kept in a WARC file.';
COMMENT ON COLUMN news.raw_pages.warc_file IS 'The WARC file (gzip per record) that holds the page: a path, or the URL of an object (s3://..., ...).';
COMMENT ON COLUMN news.raw_pages.warc_offset IS 'Byte offset of the page''s response record (a gzip member) in warc_file; its request record follows it.';
COMMENT ON COLUMN news.raw_pages.warc_length IS 'Length in bytes of that gzip member: read warc_length bytes at warc_offset and inflate them to get the WARC record.';
