-- orgwatch's like-for-like views, SQLite dialect. The PostgreSQL tree holds the same views,
-- with the same column names in the same order, under the same migration name; keep them in
-- lockstep. The two files differ only in day arithmetic (lines marked "dialect:").
-- docs/views.md says which A360 figures they replace and why.
--
-- They give exactly the figures of the read model Store::org_summary()
-- (crates/orgwatch-store/src/read/summary.rs), which the CLI and the web app show; change
-- both together. Conventions as in 0002_views.sql: "account_id" is the surrogate accounts.id,
-- "account" the 12-digit AWS id; no window functions (old sqlite3 clients parse every view).

-- Per account: the cost of the organisation's latest daily cost day (the newest DAILY cost
-- report's period_start, the same day for every account), the cost month to date (the first
-- of that day's month ..= that day) and the cost over the same days of the previous month
-- (clamped to its length: the 31st compares with the 30th of a 30-day month). Bounds are
-- inclusive. day_cost is NULL when the account has no cost report for cost_day; the sums are
-- 0 when it has none in their days; every figure is NULL or 0 when no daily cost is loaded.
CREATE VIEW view_cost_month_to_date AS
SELECT
    va.id AS account_id,
    va.account AS account,
    va.account_name AS account_name,
    va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    d.cost_day AS cost_day,
    (SELECT CAST(SUM(cr.current_period_cost) AS DOUBLE PRECISION) FROM cost_reports cr
     WHERE cr.account_id = va.id AND cr.period_granularity = 'DAILY'
       AND cr.period_start = d.cost_day) AS day_cost,
    d.month_first_day AS month_to_date_first_day,
    d.cost_day AS month_to_date_last_day,
    (SELECT CAST(COALESCE(SUM(cr.current_period_cost), 0) AS DOUBLE PRECISION)
     FROM cost_reports cr
     WHERE cr.account_id = va.id AND cr.period_granularity = 'DAILY'
       AND cr.period_start >= d.month_first_day AND cr.period_start <= d.cost_day) AS month_to_date,
    d.previous_first_day AS previous_month_to_date_first_day,
    d.previous_last_day AS previous_month_to_date_last_day,
    (SELECT CAST(COALESCE(SUM(cr.current_period_cost), 0) AS DOUBLE PRECISION)
     FROM cost_reports cr
     WHERE cr.account_id = va.id AND cr.period_granularity = 'DAILY'
       AND cr.period_start >= d.previous_first_day
       AND cr.period_start <= d.previous_last_day) AS previous_month_to_date
FROM view_accounts va
CROSS JOIN (
    SELECT
        m.cost_day,
        -- dialect: the first of the month, the first of the previous month, and the same day
        -- of the previous month clamped to its last day (date() would roll the 31st over).
        date(m.cost_day, 'start of month') AS month_first_day,
        date(m.cost_day, 'start of month', '-1 month') AS previous_first_day,
        MIN(
            date(m.cost_day, 'start of month', '-1 day'),
            date(m.cost_day, 'start of month', '-1 month',
                 '+' || (CAST(strftime('%d', m.cost_day) AS INTEGER) - 1) || ' days')
        ) AS previous_last_day
    FROM (
        SELECT MAX(period_start) AS cost_day FROM cost_reports WHERE period_granularity = 'DAILY'
    ) m
) d;

-- Per account: its open Security Hub findings by severity. A finding's state is its row of
-- the newest DAILY snapshot holding it (per account and finding_id: greatest period_start,
-- then greatest snapshot id); it is open when record_state is ACTIVE (or NULL) and
-- workflow_state is neither RESOLVED nor SUPPRESSED (NULL is open). Severities other than
-- CRITICAL/HIGH/MEDIUM/LOW (and NULL) count as informational; open_findings is the total.
CREATE VIEW view_open_findings AS
SELECT
    va.id AS account_id,
    va.account AS account,
    va.account_name AS account_name,
    va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    COALESCE(o.critical_findings, 0) AS critical_findings,
    COALESCE(o.high_findings, 0) AS high_findings,
    COALESCE(o.medium_findings, 0) AS medium_findings,
    COALESCE(o.low_findings, 0) AS low_findings,
    COALESCE(o.informational_findings, 0) AS informational_findings,
    COALESCE(o.open_findings, 0) AS open_findings
FROM view_accounts va
LEFT JOIN (
    SELECT
        f.account_id,
        SUM(CASE WHEN UPPER(COALESCE(f.severity, '')) = 'CRITICAL' THEN 1 ELSE 0 END)
            AS critical_findings,
        SUM(CASE WHEN UPPER(COALESCE(f.severity, '')) = 'HIGH' THEN 1 ELSE 0 END)
            AS high_findings,
        SUM(CASE WHEN UPPER(COALESCE(f.severity, '')) = 'MEDIUM' THEN 1 ELSE 0 END)
            AS medium_findings,
        SUM(CASE WHEN UPPER(COALESCE(f.severity, '')) = 'LOW' THEN 1 ELSE 0 END)
            AS low_findings,
        SUM(CASE WHEN UPPER(COALESCE(f.severity, ''))
                NOT IN ('CRITICAL', 'HIGH', 'MEDIUM', 'LOW') THEN 1 ELSE 0 END)
            AS informational_findings,
        COUNT(*) AS open_findings
    FROM findings f
    JOIN snapshots sn ON sn.id = f.snapshot_id AND sn.granularity = 'DAILY'
    WHERE f.finding_id IS NOT NULL
      AND UPPER(COALESCE(f.record_state, 'ACTIVE')) = 'ACTIVE'
      AND UPPER(COALESCE(f.workflow_state, 'NEW')) NOT IN ('RESOLVED', 'SUPPRESSED')
      -- Its latest state: no newer daily row of the same finding (a snapshot holds a
      -- finding_id once).
      AND NOT EXISTS (
          SELECT 1
          FROM findings n
          JOIN snapshots nsn ON nsn.id = n.snapshot_id AND nsn.granularity = 'DAILY'
          WHERE n.account_id = f.account_id
            AND n.finding_id = f.finding_id
            AND (nsn.period_start > sn.period_start
                 OR (nsn.period_start = sn.period_start AND nsn.id > sn.id))
      )
    GROUP BY f.account_id
) o ON o.account_id = va.id;
