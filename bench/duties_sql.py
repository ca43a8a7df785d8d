"""The SQL `bench.duties` seeds and measures with: VIPs and their profiles, the floors the holiday year
is compared with (one plain `INSERT ... SELECT` into a copy of `work_items` with the same indexes),
and the fill to 50,000,000 items."""

SEED_VIPS = """
INSERT INTO customers (customer_id, tier_revision, tier, serving_channel, policies, service_person_ids,
                       representative_id, revision)
SELECT 'C' || lpad(i::text, 8, '0'), 1, 'gold', 'agency', '[]'::jsonb, '{}',
       'A' || lpad((i % CAST(:agents AS int))::text, 5, '0'), 1
FROM generate_series(1, CAST(:vips AS int)) AS i;
INSERT INTO customer_profiles (customer_id, name, birthday, branch, profile_at)
SELECT 'C' || lpad(i::text, 8, '0'), 'name', date '1960-01-01' + (i % 15000), 'B' || (i % 40), now()
FROM generate_series(1, CAST(:vips AS int)) AS i;
"""

FLOOR = """
INSERT INTO work_items_floor (customer_id, duty, occasion, occasion_key, year, opens_on, due_on, channels, agent_id)
SELECT c.customer_id, 'holiday_care', 'Occasion', 'holiday:' || o, 2027, date '2027-03-01', date '2027-03-08',
       '{visit,wechat,sms}', c.representative_id
FROM customers AS c CROSS JOIN generate_series(1, CAST(:per_vip AS int)) AS o
"""

SAME_ROWS_FLOOR = """
INSERT INTO work_items_floor (customer_id, duty, occasion, occasion_key, year, opens_on, due_on, channels, agent_id)
SELECT customer_id, duty, occasion, occasion_key, year, opens_on, due_on, channels, agent_id
FROM work_items WHERE year = CAST(:year AS int) ORDER BY item_id
"""

FILL = """
INSERT INTO work_items (customer_id, duty, occasion, occasion_key, year, opens_on, due_on, channels, agent_id,
                        state, done_on)
SELECT 'C' || lpad((i % CAST(:vips AS int))::text, 8, '0'), 'holiday_care', 'Occasion', 'fill:' || i,
       2026 + (i % 730) / 365, date '2026-01-01' + (i % 730) - 7, date '2026-01-01' + (i % 730), '{visit}',
       'A' || lpad((i % CAST(:agents AS int))::text, 5, '0'),
       CASE WHEN i % 10 < 3 THEN 'open' ELSE 'done' END,
       CASE WHEN i % 10 < 3 THEN NULL ELSE date '2026-01-01' + (i % 730) END
FROM generate_series(CAST(:first AS int), CAST(:last AS int)) AS i
"""
