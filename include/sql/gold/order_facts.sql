-- gold.order_facts: one row per order with time-of-day features and the customer's order sequence.
--
-- Hours and weekdays are in UTC (order_weekday: ISO, 1 = Monday .. 7 = Sunday). Orders placed
-- after the end of the as-of day (UTC) are not included, so a rerun of the same logical date is
-- identical. One transaction: build order_facts__next, drop + rename; the last statement
-- returns the row count.
{%- set as_of = ds if ds is defined else dag_run.run_after.strftime('%Y-%m-%d') %}
{%- set silver = atlas_silver_schema | default('silver') %}
{%- set gold = atlas_gold_schema | default('gold') %}

SELECT pg_advisory_xact_lock(hashtext('atlas.{{ gold }}.order_facts'));

DROP TABLE IF EXISTS {{ gold }}.order_facts__next;

CREATE TABLE {{ gold }}.order_facts__next AS
WITH params AS (
    SELECT '{{ as_of }}'::date AS as_of_date,
           ('{{ as_of }}'::date + 1)::timestamp AT TIME ZONE 'UTC' AS cutoff
),
latest_orders AS (  -- latest silver version of each order
    SELECT DISTINCT ON (order_id)
           order_id, customer_id, order_date, order_amount, currency, status, payment_method
    FROM {{ silver }}.orders
    ORDER BY order_id, _atlas_logical_date DESC, _atlas_loaded_at DESC, _atlas_row_number DESC
)
SELECT o.order_id,
       o.customer_id,
       o.order_amount,
       o.currency,
       o.status,
       o.payment_method,
       extract(hour FROM o.order_date AT TIME ZONE 'UTC')::int                 AS order_hour,
       extract(isodow FROM o.order_date AT TIME ZONE 'UTC')::int               AS order_weekday,
       row_number() OVER (PARTITION BY o.customer_id ORDER BY o.order_date, o.order_id)::int
                                                                              AS customer_order_number,
       o.order_date,
       p.as_of_date,
       '{{ run_id | replace("'", "''") }}'::text                                AS _atlas_run_id
FROM latest_orders o
CROSS JOIN params p
WHERE o.order_date < p.cutoff;

ALTER TABLE {{ gold }}.order_facts__next
    ADD CONSTRAINT order_facts__next_pkey PRIMARY KEY (order_id);
ANALYZE {{ gold }}.order_facts__next;

DROP TABLE IF EXISTS {{ gold }}.order_facts;
ALTER TABLE {{ gold }}.order_facts__next RENAME TO order_facts;
ALTER INDEX {{ gold }}.order_facts__next_pkey RENAME TO order_facts_pkey;

SELECT count(*) AS row_count FROM {{ gold }}.order_facts;
