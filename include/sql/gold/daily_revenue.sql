-- gold.daily_revenue: orders and revenue per order day (UTC) and currency.
--
-- Revenue counts completed orders only; cancelled and refunded orders are counted but earn
-- nothing. Amounts stay in their own currency (no FX conversion). Orders placed after the end
-- of the as-of day (UTC) are not counted, so a rerun of the same logical date is identical.
-- One transaction: build daily_revenue__next, drop + rename; the last statement returns the row count.
{%- set as_of = ds if ds is defined else dag_run.run_after.strftime('%Y-%m-%d') %}
{%- set silver = atlas_silver_schema | default('silver') %}
{%- set gold = atlas_gold_schema | default('gold') %}

SELECT pg_advisory_xact_lock(hashtext('atlas.{{ gold }}.daily_revenue'));

DROP TABLE IF EXISTS {{ gold }}.daily_revenue__next;

CREATE TABLE {{ gold }}.daily_revenue__next AS
WITH params AS (
    SELECT '{{ as_of }}'::date AS as_of_date,
           ('{{ as_of }}'::date + 1)::timestamp AT TIME ZONE 'UTC' AS cutoff
),
latest_orders AS (  -- latest silver version of each order
    SELECT DISTINCT ON (order_id)
           order_id, customer_id, order_date, order_amount, currency, status
    FROM {{ silver }}.orders
    ORDER BY order_id, _atlas_logical_date DESC, _atlas_loaded_at DESC, _atlas_row_number DESC
),
orders_to_date AS (  -- orders placed up to the end of the as-of day
    SELECT o.* FROM latest_orders o, params p WHERE o.order_date < p.cutoff
)
SELECT (o.order_date AT TIME ZONE 'UTC')::date                              AS order_day,
       o.currency,
       count(*)::bigint                                                     AS orders,
       count(*) FILTER (WHERE o.status = 'completed')::bigint               AS completed_orders,
       count(*) FILTER (WHERE o.status = 'cancelled')::bigint               AS cancelled_orders,
       count(*) FILTER (WHERE o.status = 'refunded')::bigint                AS refunded_orders,
       count(*) FILTER (WHERE o.status = 'pending')::bigint                 AS pending_orders,
       round(COALESCE(sum(o.order_amount) FILTER (WHERE o.status = 'completed'), 0), 2)::numeric(18, 2)
                                                                            AS revenue,
       round(COALESCE(avg(o.order_amount) FILTER (WHERE o.status = 'completed'), 0), 2)::numeric(18, 2)
                                                                            AS avg_order_value,
       count(DISTINCT o.customer_id)::bigint                                AS distinct_customers,
       min(p.as_of_date)                                                    AS as_of_date,
       '{{ run_id | replace("'", "''") }}'::text                              AS _atlas_run_id
FROM orders_to_date o
CROSS JOIN params p
GROUP BY 1, 2;

ANALYZE {{ gold }}.daily_revenue__next;

DROP TABLE IF EXISTS {{ gold }}.daily_revenue;
ALTER TABLE {{ gold }}.daily_revenue__next RENAME TO daily_revenue;

SELECT count(*) AS row_count FROM {{ gold }}.daily_revenue;
