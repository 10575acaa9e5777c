-- Pool manager (issue 7): visible pool errors, scheduled refresh of in-use desktops, and the
-- warning a session is shown before a forced refresh.
ALTER TABLE pools
    -- set when provisioning stopped (an image that keeps failing); cleared by any pool update
    ADD COLUMN error    text,
    ADD COLUMN error_at timestamptz;

ALTER TABLE desktops
    -- a refresh job waits for this desktop's session to end (or for its deadline)
    ADD COLUMN refresh_job_id bigint REFERENCES jobs (id) ON DELETE SET NULL;
CREATE INDEX desktops_refresh_job_idx ON desktops (refresh_job_id) WHERE refresh_job_id IS NOT NULL;

ALTER TABLE sessions
    -- shown by the thin client (GET /api/v1/desktops): e.g. a refresh deadline
    ADD COLUMN warning text;
