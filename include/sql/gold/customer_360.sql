-- gold.customer_360: one row per silver customer with order metrics, RFM scores and CLV.
--
-- Rendered by Airflow (template_ext .sql) or atlas.gold.render_model. Everything is relative to
-- the as-of date ``ds`` (never the clock), so a rerun of the same logical date rebuilds identical
-- rows. Orders placed after the end of the as-of day (UTC) are not counted. The script is one
-- transaction: build gold.customer_360__next, then drop + rename, so readers see the old table
-- or the new one, never half a build. The last statement returns the built row count.
-- Definitions and thresholds: docs/gold_and_ai_ready.md.
{%- set as_of = ds if ds is defined else dag_run.run_after.strftime('%Y-%m-%d') %}
{%- set silver = atlas_silver_schema | default('silver') %}
{%- set gold = atlas_gold_schema | default('gold') %}

SELECT pg_advisory_xact_lock(hashtext('atlas.{{ gold }}.customer_360'));

DROP TABLE IF EXISTS {{ gold }}.customer_360__next;

CREATE TABLE {{ gold }}.customer_360__next AS
WITH params AS (
    SELECT '{{ as_of }}'::date AS as_of_date,
           ('{{ as_of }}'::date + 1)::timestamp AT TIME ZONE 'UTC' AS cutoff
),
latest_customers AS (  -- latest silver version of each customer
    SELECT DISTINCT ON (customer_id)
           customer_id, customer_tier, country, city, is_active, created_at
    FROM {{ silver }}.customers
    ORDER BY customer_id, _atlas_logical_date DESC, _atlas_loaded_at DESC, _atlas_row_number DESC
),
latest_orders AS (  -- latest silver version of each order
    SELECT DISTINCT ON (order_id)
           order_id, customer_id, order_date, order_amount, status
    FROM {{ silver }}.orders
    ORDER BY order_id, _atlas_logical_date DESC, _atlas_loaded_at DESC, _atlas_row_number DESC
),
orders_to_date AS (  -- orders placed up to the end of the as-of day
    SELECT o.* FROM latest_orders o, params p WHERE o.order_date < p.cutoff
),
order_metrics AS (
    SELECT customer_id,
           count(*)                                                   AS total_orders,
           count(*) FILTER (WHERE status = 'completed')               AS completed_orders,
           sum(order_amount) FILTER (WHERE status = 'completed')      AS total_revenue,
           max(order_amount) FILTER (WHERE status = 'completed')      AS max_order_value,
           min(order_date)                                            AS first_order_at,
           max(order_date)                                            AS last_order_at
    FROM orders_to_date
    GROUP BY customer_id
),
base AS (
    SELECT c.customer_id, c.customer_tier, c.country, c.city, c.is_active, c.created_at,
           COALESCE(m.total_orders, 0)                                AS total_orders,
           COALESCE(m.completed_orders, 0)                            AS completed_orders,
           COALESCE(m.total_revenue, 0)                               AS total_revenue,
           COALESCE(m.total_revenue / NULLIF(m.completed_orders, 0), 0) AS avg_order_value,
           COALESCE(m.max_order_value, 0)                             AS max_order_value,
           m.first_order_at,
           m.last_order_at,
           p.as_of_date - (m.last_order_at AT TIME ZONE 'UTC')::date  AS days_since_last_order,
           GREATEST(0, p.as_of_date - LEAST((c.created_at AT TIME ZONE 'UTC')::date,
                                            (m.first_order_at AT TIME ZONE 'UTC')::date))
                                                                      AS tenure_days,
           p.as_of_date
    FROM latest_customers c
    CROSS JOIN params p
    LEFT JOIN order_metrics m ON m.customer_id = c.customer_id
),
ranked AS (  -- quintile scores over customers with orders; equal values get equal scores
    SELECT customer_id,
           rank() OVER (ORDER BY days_since_last_order DESC) AS r_rank,
           rank() OVER (ORDER BY total_orders)               AS f_rank,
           rank() OVER (ORDER BY total_revenue)              AS m_rank,
           count(*) OVER ()                                  AS n
    FROM base
    WHERE total_orders > 0
),
rfm AS (
    SELECT customer_id,
           LEAST(5, 1 + 5 * (r_rank - 1) / GREATEST(n - 1, 1))::int AS rfm_recency,
           LEAST(5, 1 + 5 * (f_rank - 1) / GREATEST(n - 1, 1))::int AS rfm_frequency,
           LEAST(5, 1 + 5 * (m_rank - 1) / GREATEST(n - 1, 1))::int AS rfm_monetary
    FROM ranked
),
scored AS (
    SELECT b.*,
           COALESCE(r.rfm_recency, 0)   AS rfm_recency,
           COALESCE(r.rfm_frequency, 0) AS rfm_frequency,
           COALESCE(r.rfm_monetary, 0)  AS rfm_monetary
    FROM base b
    LEFT JOIN rfm r ON r.customer_id = b.customer_id
)
SELECT customer_id,
       customer_tier,
       country,
       city,
       is_active,
       created_at,
       total_orders::bigint                                    AS total_orders,
       completed_orders::bigint                                AS completed_orders,
       round(total_revenue, 2)::numeric(18, 2)                 AS total_revenue,
       round(avg_order_value, 2)::numeric(18, 2)               AS avg_order_value,
       round(max_order_value, 2)::numeric(18, 2)               AS max_order_value,
       first_order_at,
       last_order_at,
       days_since_last_order,
       tenure_days,
       rfm_recency,
       rfm_frequency,
       rfm_monetary,
       rfm_recency + rfm_frequency + rfm_monetary              AS rfm_score,
       CASE
           WHEN total_orders = 0                                       THEN 'no_orders'
           WHEN rfm_recency >= 4 AND rfm_frequency + rfm_monetary >= 8 THEN 'champions'
           WHEN rfm_recency >= 3 AND rfm_frequency + rfm_monetary >= 6 THEN 'loyal'
           WHEN rfm_recency >= 3                                       THEN 'potential_loyalist'
           WHEN rfm_frequency + rfm_monetary >= 6                      THEN 'at_risk'
           WHEN rfm_recency = 2                                        THEN 'hibernating'
           ELSE 'lost'
       END                                                     AS rfm_segment,
       -- avg order value x orders per year x 3 years; the year is observed over at least 30 days
       round(total_revenue * 365 * 3 / GREATEST(tenure_days, 30), 2)::numeric(18, 2)
                                                               AS customer_lifetime_value,
       as_of_date,
       '{{ run_id | replace("'", "''") }}'::text                 AS _atlas_run_id
FROM scored;

ALTER TABLE {{ gold }}.customer_360__next
    ADD CONSTRAINT customer_360__next_pkey PRIMARY KEY (customer_id);
ANALYZE {{ gold }}.customer_360__next;

DROP TABLE IF EXISTS {{ gold }}.customer_360;
ALTER TABLE {{ gold }}.customer_360__next RENAME TO customer_360;
ALTER INDEX {{ gold }}.customer_360__next_pkey RENAME TO customer_360_pkey;

SELECT count(*) AS row_count FROM {{ gold }}.customer_360;
