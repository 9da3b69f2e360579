-- Quality scores per run (pass rate per dimension and overall) and the daily score view.
-- Needs atlas_meta.quality_results from atlas_meta.sql. Idempotent.
CREATE TABLE IF NOT EXISTS atlas_meta.quality_scores (
    table_name   text             NOT NULL,
    layer        text             NOT NULL,
    dimension    text             NOT NULL,   -- one of the six dimensions, or 'overall'
    score        double precision NOT NULL,   -- 0..100: share of checks that passed
    checks       integer          NOT NULL,
    passed       integer          NOT NULL,
    warned       integer          NOT NULL,   -- did not pass, did not block
    failed       integer          NOT NULL,   -- fail-severity failures and errors (blocking)
    run_id       text             NOT NULL,
    logical_date date             NOT NULL,
    scored_at    timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (table_name, layer, dimension, logical_date)
);

CREATE INDEX IF NOT EXISTS quality_results_day_idx
    ON atlas_meta.quality_results (table_name, logical_date);

-- Score per table, dimension and day over every layer checked that day (plus 'overall').
CREATE OR REPLACE VIEW atlas_meta.quality_daily_scores AS
WITH r AS (
    SELECT table_name, dimension, logical_date, severity, outcome FROM atlas_meta.quality_results
    UNION ALL
    SELECT table_name, 'overall', logical_date, severity, outcome FROM atlas_meta.quality_results
)
SELECT table_name,
       dimension,
       logical_date                                                             AS day,
       round(100.0 * count(*) FILTER (WHERE outcome = 'pass') / count(*), 1)    AS score,
       count(*)                                                                 AS checks,
       count(*) FILTER (WHERE outcome = 'pass')                                 AS passed,
       count(*) FILTER (WHERE outcome <> 'pass'
                        AND NOT (severity = 'fail' AND outcome IN ('fail', 'error'))) AS warned,
       count(*) FILTER (WHERE severity = 'fail' AND outcome IN ('fail', 'error')) AS failed
FROM r
GROUP BY table_name, dimension, logical_date;
