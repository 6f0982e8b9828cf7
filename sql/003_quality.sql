-- 003: validation summaries and quality gates, per run and source.

CREATE TABLE news.quality (
    run_id          text NOT NULL REFERENCES news.run_log (run_id) ON DELETE CASCADE,
    source          text NOT NULL,
    validated_at    timestamptz NOT NULL,
    rows_validated  integer NOT NULL,
    rows_passed     integer NOT NULL,
    rows_rejected   integer NOT NULL,
    reasons         jsonb NOT NULL DEFAULT '{}'::jsonb,
    gate            text NOT NULL CHECK (gate IN ('passed', 'failed', 'skipped')),
    gate_message    text,
    PRIMARY KEY (run_id, source)
);
CREATE INDEX quality_validated_at ON news.quality (validated_at);
COMMENT ON TABLE news.quality IS 'What validation (the Great Expectations suite) made of each source in each run, and whether its quality gates held.';
COMMENT ON COLUMN news.quality.rows_validated IS 'Records of the source that reached validation in the run.';
COMMENT ON COLUMN news.quality.rows_passed IS 'Records that passed every expectation.';
COMMENT ON COLUMN news.quality.rows_rejected IS 'Records quarantined in news.rejections (stage validate).';
COMMENT ON COLUMN news.quality.reasons IS 'Rejected records per expectation (reason code -> count); a record failing two expectations counts in both.';
COMMENT ON COLUMN news.quality.gate IS 'passed, failed (too many rejections, or silent for too many runs), skipped (too few records to judge).';
COMMENT ON COLUMN news.quality.gate_message IS 'Why the gate failed.';

-- A quarantined record that a later re-validation loaded.
ALTER TABLE news.rejections ADD COLUMN resolved_by text;
COMMENT ON COLUMN news.rejections.resolved_by IS 'The run (news-ingest revalidate) that loaded this record after all; NULL while it stays rejected.';
