-- Retention purges and erasure requests: counts only, never values or raw keys. Idempotent.

-- What atlas_maintenance deleted: one row per run, table and layer that lost something.
CREATE TABLE IF NOT EXISTS atlas_meta.retention_purges (
    run_id         text        NOT NULL,
    table_name     text        NOT NULL,
    layer          text        NOT NULL,   -- bronze | archive | quarantine | silver | gold | ai_ready
    retention_days integer     NOT NULL,
    cutoff_date    date        NOT NULL,   -- slices dated before this day were deleted
    first_date     date,                   -- oldest logical date / version / build deleted
    last_date      date,                   -- newest logical date / version / build deleted
    dates          integer     NOT NULL,   -- distinct logical dates (versions, builds) deleted
    rows           bigint      NOT NULL,   -- warehouse rows deleted (dropped tables: their rows)
    files          bigint      NOT NULL,   -- lake files deleted
    objects        text[]      NOT NULL,   -- tables and lake folders affected (names, no values)
    purged_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (run_id, table_name, layer)
);

-- Erasure requests (GDPR Art. 17): the subject only as its keyed pseudonym, never the raw key.
CREATE TABLE IF NOT EXISTS atlas_meta.erasure_requests (
    request_id        text        PRIMARY KEY,   -- the Airflow run id, or cli__<timestamp>
    requested_at      timestamptz NOT NULL,
    requested_by      text        NOT NULL,      -- airflow:<dag run> | cli:<os user>
    table_name        text        NOT NULL,
    key_column        text        NOT NULL,
    subject_pseudonym text        NOT NULL,      -- HMAC pseudonym of the key (atlas.pii.pseudonym)
    status            text        NOT NULL,      -- running | completed | failed
    found             boolean,                   -- whether any layer held the subject
    tables            text[]      NOT NULL DEFAULT '{}',  -- tables the subject was erased from
    counts            jsonb       NOT NULL DEFAULT '{}',  -- rows and files per table and layer
    completed_at      timestamptz
);
CREATE INDEX IF NOT EXISTS erasure_requests_subject_idx ON atlas_meta.erasure_requests (subject_pseudonym);
