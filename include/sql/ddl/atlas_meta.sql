-- Atlas metadata: ingested files, PII findings (never values), quality results, run metrics.
CREATE TABLE IF NOT EXISTS atlas_meta.ingested_files (
    table_name      text        NOT NULL,
    source_checksum text        NOT NULL,
    source_file     text        NOT NULL,
    archive_path    text        NOT NULL,
    logical_date    date        NOT NULL,
    run_id          text        NOT NULL,
    row_count       bigint      NOT NULL,
    rejected_rows   bigint      NOT NULL DEFAULT 0,
    ingested_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (table_name, source_checksum, logical_date)
);

CREATE TABLE IF NOT EXISTS atlas_meta.pii_findings (
    table_name    text             NOT NULL,
    column_name   text             NOT NULL,
    kind          text             NOT NULL,   -- structured | free_text | none
    entity_types  text[]           NOT NULL,
    confidence    double precision NOT NULL,
    hit_rate      double precision NOT NULL,
    rows_scanned  integer          NOT NULL,
    recognizers   text[]           NOT NULL,
    strategy      text             NOT NULL,
    policy_source text             NOT NULL,   -- config | default | none
    run_id        text             NOT NULL,
    logical_date  date             NOT NULL,
    detected_at   timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (table_name, column_name, logical_date)
);

CREATE TABLE IF NOT EXISTS atlas_meta.quality_results (
    table_name     text        NOT NULL,
    layer          text        NOT NULL,
    check_name     text        NOT NULL,
    dimension      text        NOT NULL,
    severity       text        NOT NULL,   -- warn | fail
    outcome        text        NOT NULL,   -- pass | warn | fail | error
    measured_value double precision,
    threshold      text,
    run_id         text        NOT NULL,
    logical_date   date        NOT NULL,
    checked_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (table_name, layer, check_name, logical_date)
);

CREATE TABLE IF NOT EXISTS atlas_meta.run_metrics (
    table_name   text        NOT NULL,
    stage        text        NOT NULL,
    metric       text        NOT NULL,
    value        double precision NOT NULL,
    run_id       text        NOT NULL,
    logical_date date        NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (table_name, stage, metric, logical_date)
);

CREATE TABLE IF NOT EXISTS atlas_meta.ai_ready_versions (
    dataset       text        NOT NULL,
    version       text        NOT NULL,
    table_name    text        NOT NULL,
    manifest_path text        NOT NULL,
    content_hash  text        NOT NULL,
    row_count     bigint      NOT NULL,
    run_id        text        NOT NULL,
    logical_date  date        NOT NULL,
    published_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (dataset, version)
);
