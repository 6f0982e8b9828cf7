-- 007: loads map URLs without a row lock per URL.
--
-- The foreign key from news.article_urls to news.articles checked every inserted
-- URL row on its own, taking a share lock on the article row each time: about a
-- third of the load stage's server time went to it. The loader only maps URLs to
-- articles it has just matched or inserted, under its advisory lock; the same
-- guarantees are now kept per statement: inserting or re-pointing URL rows at an
-- article that does not exist fails, and deleting articles deletes their URLs.

ALTER TABLE news.article_urls DROP CONSTRAINT article_urls_article_id_fkey;

CREATE FUNCTION news.article_urls_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    orphan bigint;
BEGIN
    -- a scalar subquery: one primary-key probe per row, whatever the batch's size
    SELECT n.article_id INTO orphan FROM mapped n
    WHERE (SELECT a.article_id FROM news.articles a WHERE a.article_id = n.article_id) IS NULL
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'news.article_urls: article % does not exist in news.articles', orphan
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION news.article_urls_check() IS 'news.article_urls.article_id must name an article (checked once per statement).';

CREATE TRIGGER article_urls_insert_check AFTER INSERT ON news.article_urls
    REFERENCING NEW TABLE AS mapped FOR EACH STATEMENT EXECUTE FUNCTION news.article_urls_check();
CREATE TRIGGER article_urls_update_check AFTER UPDATE ON news.article_urls
    REFERENCING NEW TABLE AS mapped FOR EACH STATEMENT EXECUTE FUNCTION news.article_urls_check();

CREATE FUNCTION news.articles_delete_urls() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM news.article_urls u USING deleted d WHERE u.article_id = d.article_id;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION news.articles_delete_urls() IS 'Deleting articles deletes the URLs mapped to them.';

CREATE TRIGGER articles_delete_urls AFTER DELETE ON news.articles
    REFERENCING OLD TABLE AS deleted FOR EACH STATEMENT EXECUTE FUNCTION news.articles_delete_urls();

COMMENT ON COLUMN news.article_urls.article_id IS 'The article (news.articles.article_id) met under this URL; checked per statement, and deleted with its article.';
