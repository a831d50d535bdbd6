-- orgwatch views, PostgreSQL dialect. The SQLite tree holds the same views, with the same
-- column names in the same order, under the same migration name; keep them in lockstep.
-- The two files differ only where the dialect must (lines marked "dialect:"): account age,
-- day arithmetic and string aggregation. docs/views.md says what each view shows.
--
-- The 42 A360 view names, re-implemented over orgwatch's schema, plus orgwatch's own
-- latest_snapshots, view_config_inventory, view_load_status and view_snapshot_coverage.
--
-- Conventions:
--  * "account" is always the 12-digit AWS id. "account_id" is the surrogate accounts.id, except
--    in view_accounts and view_acct_summary, which start with accounts.* (there "id" is the
--    surrogate and "account_id" the 12-digit id, as in the accounts table).
--  * Every enrichment view is the base table's columns (t.*) followed by the account dimension
--    columns account, account_region, account_name, account_type, account_category,
--    account_status, account_partner, account_customer, account_full and project_product_name
--    (the account's FIRST linked product: the product_accounts row with the smallest id), then,
--    for tables filled from snapshots, snapshot_region, snapshot_granularity and
--    snapshot_period_start (the file the row came from). No view has two columns with the same
--    name (PostgreSQL refuses them; SQLite would silently rename them).
--  * CURRENT STATE: a table holds one row per entity per snapshot (history). The views of the
--    categories the sender reads as a snapshot of the present (kms_keys, waf_rules,
--    waf_rules_detailed, cloudtrail_logs, secrets_manager_secrets, certificates,
--    inventory_instances, inventory_applications, service_resources, compute_optimizer,
--    config_inventory, application_signals, and the summaries built on them) keep only the rows
--    of latest_snapshots with granularity 'DAILY': for each account and region, its most recent
--    daily file. A region whose sender stopped keeps showing its last daily state: see
--    view_snapshot_coverage.days_since_last_period.
--  * TIME SERIES: the categories the sender filters to the file's window (services,
--    cost_reports, service_costs, cost_forecasts, security, findings, guard_duty_findings,
--    inspector_findings, config_reports, non_compliant_resources, health_events,
--    trusted_advisor_checks, marketplace_usage, support_tickets, ri_sp_daily_savings,
--    inventory_patches (InstalledTime in the window), resilience_hub_apps (apps created or
--    assessed in the window), logs, log_messages) keep every row; filter on
--    snapshot_granularity and snapshot_period_start.
--  * PostgreSQL expands t.* when a view is created: a later migration that adds a column to a
--    table must drop and re-create the views over it (SQLite expands it at query time).
--  * No DISTINCT ON, window functions or FILTER clauses, and ordered aggregates only on the
--    PostgreSQL side: the SQLite twin must stay readable by old sqlite3 clients, which parse
--    every view when they open the file.

-- For each (account, region, granularity): the snapshot with the greatest period_start
-- (ties: the greatest id).
CREATE VIEW latest_snapshots AS
SELECT s.id, s.account_id, s.region, s.granularity, s.period_start, s.run_date
FROM snapshots s
WHERE NOT EXISTS (
    SELECT 1 FROM snapshots n
    WHERE n.account_id = s.account_id
      AND n.region = s.region
      AND n.granularity = s.granularity
      AND (n.period_start > s.period_start OR (n.period_start = s.period_start AND n.id > s.id))
);

-- 1. Accounts and their dimension columns (account_name, account_type and account_status are
-- the accounts columns themselves).
CREATE VIEW view_accounts AS
SELECT
    a.*,
    a.account_id AS account,
    a.region AS account_region,
    a.category AS account_category,
    a.partner_name AS account_partner,
    a.customer_name AS account_customer,
    a.account_id || '-' || COALESCE(a.account_name, '') AS account_full,
    p.name AS project_product_name,
    -- dialect: whole days since joined_timestamp (A360 kept only AGE()'s day component).
    CAST(FLOOR(EXTRACT(EPOCH FROM (CURRENT_TIMESTAMP - a.joined_timestamp)) / 86400) AS INTEGER) AS account_age_days
FROM accounts a
LEFT JOIN product_accounts pa
    ON pa.id = (SELECT MIN(pa2.id) FROM product_accounts pa2 WHERE pa2.account_id = a.id)
LEFT JOIN products p ON p.id = pa.product_id;

-- 2. Account-level tables (no snapshot).
CREATE VIEW view_contact_info AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name
FROM contact_info t
JOIN view_accounts va ON va.id = t.account_id;

CREATE VIEW view_alternate_contacts AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name
FROM alternate_contacts t
JOIN view_accounts va ON va.id = t.account_id;

-- One row per product link; project_product_name is the linked product.
CREATE VIEW view_product_acct AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    p.name AS project_product_name
FROM product_accounts t
JOIN view_accounts va ON va.id = t.account_id
JOIN products p ON p.id = t.product_id;

-- Products, one row per linked account; project_product_name is the account's first product.
CREATE VIEW view_acct_products AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name
FROM products t
JOIN product_accounts pa ON pa.product_id = t.id
JOIN view_accounts va ON va.id = pa.account_id;

-- 3. Time series: every row, with the snapshot it came from.
CREATE VIEW view_acct_serv AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start
FROM services t
JOIN view_accounts va ON va.id = t.account_id
JOIN snapshots sn ON sn.id = t.snapshot_id;

CREATE VIEW view_acct_cost_rep AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start,
    t.period_start AS date_from,
    t.period_end AS date_to
FROM cost_reports t
JOIN view_accounts va ON va.id = t.account_id
JOIN snapshots sn ON sn.id = t.snapshot_id;

CREATE VIEW view_acct_serv_cost AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start,
    cr.period_start AS date_from,
    cr.period_end AS date_to
FROM service_costs t
JOIN cost_reports cr ON cr.id = t.cost_report_id
JOIN view_accounts va ON va.id = cr.account_id
JOIN snapshots sn ON sn.id = t.snapshot_id;

CREATE VIEW view_acct_cost_rep_forecast AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start,
    cr.period_start AS date_from,
    cr.period_end AS date_to
FROM cost_forecasts t
JOIN cost_reports cr ON cr.id = t.cost_report_id
JOIN view_accounts va ON va.id = cr.account_id
JOIN snapshots sn ON sn.id = t.snapshot_id;

CREATE VIEW view_acct_security AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start
FROM security t
JOIN view_accounts va ON va.id = t.account_id
JOIN snapshots sn ON sn.id = t.snapshot_id;

CREATE VIEW view_acct_security_findings_details AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start
FROM findings t
JOIN view_accounts va ON va.id = t.account_id
JOIN snapshots sn ON sn.id = t.snapshot_id;

CREATE VIEW view_guard_duty_findings AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start
FROM guard_duty_findings t
JOIN view_accounts va ON va.id = t.account_id
JOIN snapshots sn ON sn.id = t.snapshot_id;

CREATE VIEW view_inspector_findings AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start
FROM inspector_findings t
JOIN view_accounts va ON va.id = t.account_id
JOIN snapshots sn ON sn.id = t.snapshot_id;

CREATE VIEW view_config_reports AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start
FROM config_reports t
JOIN view_accounts va ON va.id = t.account_id
JOIN snapshots sn ON sn.id = t.snapshot_id;

CREATE VIEW view_non_compliant_resources AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start
FROM non_compliant_resources t
JOIN view_accounts va ON va.id = t.account_id
JOIN snapshots sn ON sn.id = t.snapshot_id;

CREATE VIEW view_health_events AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start
FROM health_events t
JOIN view_accounts va ON va.id = t.account_id
JOIN snapshots sn ON sn.id = t.snapshot_id;

CREATE VIEW view_trusted_advisor_checks AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start
FROM trusted_advisor_checks t
JOIN view_accounts va ON va.id = t.account_id
JOIN snapshots sn ON sn.id = t.snapshot_id;

CREATE VIEW view_marketplace_usage AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start
FROM marketplace_usage t
JOIN view_accounts va ON va.id = t.account_id
JOIN snapshots sn ON sn.id = t.snapshot_id;

CREATE VIEW view_acct_support_tickets AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start
FROM support_tickets t
JOIN view_accounts va ON va.id = t.account_id
JOIN snapshots sn ON sn.id = t.snapshot_id;

CREATE VIEW view_ri_sp_daily_savings AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start
FROM ri_sp_daily_savings t
JOIN view_accounts va ON va.id = t.account_id
JOIN snapshots sn ON sn.id = t.snapshot_id;

-- Resilience Hub lists only the apps created or assessed in the window: a time series.
CREATE VIEW view_resilience_hub_apps AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start
FROM resilience_hub_apps t
JOIN view_accounts va ON va.id = t.account_id
JOIN snapshots sn ON sn.id = t.snapshot_id;

-- Patches installed in the window (a time series), with the name and type of their instance.
CREATE VIEW view_inventory_patches AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start,
    ii.computer_name AS instance_name,
    ii.instance_type AS instance_type
FROM inventory_patches t
JOIN view_accounts va ON va.id = t.account_id
JOIN snapshots sn ON sn.id = t.snapshot_id
LEFT JOIN inventory_instances ii ON ii.id = t.instance_id;

-- Load attempts. A file that failed before its account was known has no account_id: the LEFT
-- JOINs keep it. The account's own status is acct_status (logs.account_status is the status
-- of the sender's account category).
CREATE VIEW view_acct_logs AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS acct_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start
FROM logs t
LEFT JOIN view_accounts va ON va.id = t.account_id
LEFT JOIN snapshots sn ON sn.id = t.snapshot_id;

CREATE VIEW view_acct_log_messages AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start,
    l.file_name AS log_file_name,
    l.outcome AS log_outcome
FROM log_messages t
JOIN logs l ON l.id = t.log_id
LEFT JOIN view_accounts va ON va.id = l.account_id
LEFT JOIN snapshots sn ON sn.id = l.snapshot_id;

-- 4. Current state: rows of each account and region's latest daily snapshot only.
CREATE VIEW view_kms_keys AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    ls.region AS snapshot_region, ls.granularity AS snapshot_granularity,
    ls.period_start AS snapshot_period_start
FROM kms_keys t
JOIN latest_snapshots ls ON ls.id = t.snapshot_id AND ls.granularity = 'DAILY'
JOIN view_accounts va ON va.id = t.account_id;

CREATE VIEW view_waf_rules AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    ls.region AS snapshot_region, ls.granularity AS snapshot_granularity,
    ls.period_start AS snapshot_period_start
FROM waf_rules t
JOIN latest_snapshots ls ON ls.id = t.snapshot_id AND ls.granularity = 'DAILY'
JOIN view_accounts va ON va.id = t.account_id;

CREATE VIEW view_waf_rules_detailed AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    ls.region AS snapshot_region, ls.granularity AS snapshot_granularity,
    ls.period_start AS snapshot_period_start
FROM waf_rules_detailed t
JOIN latest_snapshots ls ON ls.id = t.snapshot_id AND ls.granularity = 'DAILY'
JOIN view_accounts va ON va.id = t.account_id;

CREATE VIEW view_cloudtrail_logs AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    ls.region AS snapshot_region, ls.granularity AS snapshot_granularity,
    ls.period_start AS snapshot_period_start
FROM cloudtrail_logs t
JOIN latest_snapshots ls ON ls.id = t.snapshot_id AND ls.granularity = 'DAILY'
JOIN view_accounts va ON va.id = t.account_id;

CREATE VIEW view_secrets_manager_secrets AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    ls.region AS snapshot_region, ls.granularity AS snapshot_granularity,
    ls.period_start AS snapshot_period_start
FROM secrets_manager_secrets t
JOIN latest_snapshots ls ON ls.id = t.snapshot_id AND ls.granularity = 'DAILY'
JOIN view_accounts va ON va.id = t.account_id;

CREATE VIEW view_certificates AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    ls.region AS snapshot_region, ls.granularity AS snapshot_granularity,
    ls.period_start AS snapshot_period_start
FROM certificates t
JOIN latest_snapshots ls ON ls.id = t.snapshot_id AND ls.granularity = 'DAILY'
JOIN view_accounts va ON va.id = t.account_id;

CREATE VIEW view_inventory_instances AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    ls.region AS snapshot_region, ls.granularity AS snapshot_granularity,
    ls.period_start AS snapshot_period_start
FROM inventory_instances t
JOIN latest_snapshots ls ON ls.id = t.snapshot_id AND ls.granularity = 'DAILY'
JOIN view_accounts va ON va.id = t.account_id;

-- Every application column (A360 kept only the name), then its instance's, prefixed ii_.
CREATE VIEW view_inventory_applications AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    ls.region AS snapshot_region, ls.granularity AS snapshot_granularity,
    ls.period_start AS snapshot_period_start,
    ii.instance_id AS ii_instance_id,
    ii.computer_name AS ii_computer_name,
    ii.platform AS ii_platform,
    ii.ip_address AS ii_ip_address,
    ii.ping_status AS ii_ping_status,
    ii.platform_type AS ii_platform_type,
    ii.platform_version AS ii_platform_version,
    ii.instance_type AS ii_instance_type,
    ii.last_ping_date_time AS ii_last_ping_date_time
FROM inventory_applications t
JOIN latest_snapshots ls ON ls.id = t.snapshot_id AND ls.granularity = 'DAILY'
JOIN view_accounts va ON va.id = t.account_id
LEFT JOIN inventory_instances ii ON ii.id = t.instance_id;

CREATE VIEW view_service_resources AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    ls.region AS snapshot_region, ls.granularity AS snapshot_granularity,
    ls.period_start AS snapshot_period_start
FROM service_resources t
JOIN latest_snapshots ls ON ls.id = t.snapshot_id AND ls.granularity = 'DAILY'
JOIN view_accounts va ON va.id = t.account_id;

CREATE VIEW view_compute_optimizer AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    ls.region AS snapshot_region, ls.granularity AS snapshot_granularity,
    ls.period_start AS snapshot_period_start
FROM compute_optimizer t
JOIN latest_snapshots ls ON ls.id = t.snapshot_id AND ls.granularity = 'DAILY'
JOIN view_accounts va ON va.id = t.account_id;

CREATE VIEW view_config_inventory AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    ls.region AS snapshot_region, ls.granularity AS snapshot_granularity,
    ls.period_start AS snapshot_period_start
FROM config_inventory t
JOIN latest_snapshots ls ON ls.id = t.snapshot_id AND ls.granularity = 'DAILY'
JOIN view_accounts va ON va.id = t.account_id;

CREATE VIEW view_application_signals AS
SELECT
    t.*,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    ls.region AS snapshot_region, ls.granularity AS snapshot_granularity,
    ls.period_start AS snapshot_period_start
FROM application_signals t
JOIN latest_snapshots ls ON ls.id = t.snapshot_id AND ls.granularity = 'DAILY'
JOIN view_accounts va ON va.id = t.account_id;

-- 5. Computed views.

-- Products with empty account columns (for unions with the account views).
CREATE VIEW view_products AS
SELECT
    t.*,
    CAST(NULL AS TEXT) AS account,
    CAST(NULL AS TEXT) AS account_region,
    CAST(NULL AS TEXT) AS account_name,
    CAST(NULL AS TEXT) AS account_type,
    CAST(NULL AS TEXT) AS account_category,
    CAST(NULL AS TEXT) AS account_status,
    CAST(NULL AS TEXT) AS account_partner,
    CAST(NULL AS TEXT) AS account_customer,
    CAST(NULL AS TEXT) AS account_full,
    t.name AS project_product_name
FROM products t;

-- Current resources per account, service, type, region and zone.
CREATE VIEW view_service_resources_summary AS
SELECT
    r.account_id AS account_id,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    r.service_name AS service_name,
    r.resource_type AS resource_type,
    r.resource_region AS resource_region,
    r.availability_zone AS availability_zone,
    r.resource_count AS resource_count,
    r.active_resources AS active_resources,
    r.inactive_resources AS inactive_resources
FROM (
    SELECT
        sr.account_id,
        sr.service_name,
        sr.resource_type,
        sr.region AS resource_region,
        sr.availability_zone,
        COUNT(*) AS resource_count,
        SUM(CASE WHEN sr.state IN ('running', 'available', 'Active', 'active', 'in-use', 'ISSUED')
            THEN 1 ELSE 0 END) AS active_resources,
        SUM(CASE WHEN sr.state IN ('stopped', 'Inactive', 'inactive') THEN 1 ELSE 0 END) AS inactive_resources
    FROM service_resources sr
    JOIN latest_snapshots ls ON ls.id = sr.snapshot_id AND ls.granularity = 'DAILY'
    GROUP BY sr.account_id, sr.service_name, sr.resource_type, sr.region, sr.availability_zone
) r
JOIN view_accounts va ON va.id = r.account_id;

-- Per account and granularity: the latest cost report; the services of the latest period that
-- has any (A360 summed every period ever loaded); the Security Hub counts of each region's
-- latest snapshot of that granularity (the findings created or changed in that window); the
-- number of products. An account without snapshots has one row with no granularity.
CREATE VIEW view_summary AS
SELECT
    va.id AS account_id,
    va.account AS account,
    va.account_region AS account_region,
    va.account_name AS account_name,
    va.account_type AS account_type,
    va.account_category AS account_category,
    va.account_status AS account_status,
    va.account_partner AS account_partner,
    va.account_customer AS account_customer,
    va.account_full AS account_full,
    va.csp AS account_csp,
    COALESCE(pc.number_of_products, 0) AS number_of_products,
    g.granularity AS period_granularity,
    cr.period_start AS date_from,
    cr.period_end AS date_to,
    ROUND(cr.current_period_cost, 2) AS current_period_cost,
    ROUND(cr.previous_period_cost, 2) AS previous_period_cost,
    ROUND(cr.cost_difference, 2) AS cost_difference,
    ROUND(cr.cost_difference_percentage, 4) AS cost_difference_percentage,
    ROUND(cr.potential_monthly_savings, 2) AS potential_savings,
    sm.period_start AS services_period_start,
    COALESCE(sm.service_count, 0) AS service_count,
    COALESCE(sm.unique_services, 0) AS unique_services,
    ROUND(COALESCE(sm.total_service_cost, 0), 2) AS total_service_cost,
    -- dialect: the distinct service names of that period in byte order, joined with ', '.
    (SELECT string_agg(x.service, ', ' ORDER BY x.service COLLATE "C") FROM (
        SELECT DISTINCT sv.service AS service
        FROM services sv
        JOIN snapshots svn ON svn.id = sv.snapshot_id
        WHERE sv.account_id = va.id AND svn.granularity = g.granularity
          AND svn.period_start = sm.period_start
    ) x) AS services_used,
    COALESCE(sec.total_findings, 0) AS total_findings,
    COALESCE(sec.open_findings, 0) AS open_findings,
    COALESCE(sec.resolved_findings, 0) AS resolved_findings,
    COALESCE(sec.critical_findings, 0) AS critical_findings,
    COALESCE(sec.high_findings, 0) AS high_findings,
    COALESCE(sec.medium_findings, 0) AS medium_findings,
    COALESCE(sec.low_findings, 0) AS low_findings,
    CASE WHEN COALESCE(sec.total_findings, 0) = 0 THEN 0
        ELSE ROUND(sec.resolved_findings * 100.0 / sec.total_findings, 2) END AS resolution_rate,
    va.account_email AS account_email,
    va.joined_method AS joined_method,
    va.joined_timestamp AS joined_timestamp,
    va.account_age_days AS account_age_days
FROM view_accounts va
LEFT JOIN (SELECT DISTINCT account_id, granularity FROM snapshots) g ON g.account_id = va.id
LEFT JOIN cost_reports cr ON cr.id = (
    SELECT c.id FROM cost_reports c
    WHERE c.account_id = va.id AND c.period_granularity = g.granularity
    ORDER BY c.period_start DESC, c.id DESC
    LIMIT 1
)
LEFT JOIN (
    SELECT sv.account_id, svn.granularity, svn.period_start,
        COUNT(*) AS service_count,
        COUNT(DISTINCT sv.service) AS unique_services,
        SUM(sv.cost) AS total_service_cost
    FROM services sv
    JOIN snapshots svn ON svn.id = sv.snapshot_id
    JOIN (
        SELECT sv2.account_id, svn2.granularity, MAX(svn2.period_start) AS period_start
        FROM services sv2
        JOIN snapshots svn2 ON svn2.id = sv2.snapshot_id
        GROUP BY sv2.account_id, svn2.granularity
    ) lp ON lp.account_id = sv.account_id AND lp.granularity = svn.granularity
        AND lp.period_start = svn.period_start
    GROUP BY sv.account_id, svn.granularity, svn.period_start
) sm ON sm.account_id = va.id AND sm.granularity = g.granularity
LEFT JOIN (
    SELECT s.account_id, ls.granularity,
        SUM(s.total_findings) AS total_findings,
        SUM(s.open_findings) AS open_findings,
        SUM(s.resolved_findings) AS resolved_findings,
        SUM(s.critical_count) AS critical_findings,
        SUM(s.high_count) AS high_findings,
        SUM(s.medium_count) AS medium_findings,
        SUM(s.low_count) AS low_findings
    FROM security s
    JOIN latest_snapshots ls ON ls.id = s.snapshot_id
    GROUP BY s.account_id, ls.granularity
) sec ON sec.account_id = va.id AND sec.granularity = g.granularity
LEFT JOIN (
    SELECT account_id, COUNT(*) AS number_of_products FROM product_accounts GROUP BY account_id
) pc ON pc.account_id = va.id;

-- view_summary once per product link (an account without products: once, with no product);
-- here project_product_name is the linked product.
CREATE VIEW view_product_summary AS
SELECT
    vs.*,
    p.id AS product_id,
    p.name AS project_product_name,
    p.owner AS product_owner,
    p.position AS product_position,
    p.description AS product_description
FROM view_summary vs
LEFT JOIN product_accounts pa ON pa.account_id = vs.account_id
LEFT JOIN products p ON p.id = pa.product_id;

-- Every account (A360 applied LIMIT 1 before the join and so returned one account): cost from
-- its latest MONTHLY report, else its latest DAILY one; Security Hub counts summed over each
-- region's latest daily snapshot; SSM instances of the latest daily snapshots (running_instances
-- counts ping status 'Online'); security_health_score 1 (critical) .. 5 (no findings).
CREATE VIEW view_acct_summary AS
SELECT
    va.*,
    cr.period_granularity AS cost_granularity,
    cr.period_start AS cost_period_start,
    cr.period_end AS cost_period_end,
    COALESCE(cr.current_period_cost, 0) AS latest_cost,
    COALESCE(cr.cost_difference_percentage, 0) AS cost_trend_percentage,
    COALESCE(cr.potential_monthly_savings, 0) AS savings_opportunity,
    COALESCE(sec.total_findings, 0) AS security_findings,
    COALESCE(sec.critical_findings, 0) AS critical_findings,
    COALESCE(sec.high_findings, 0) AS high_findings,
    COALESCE(sec.medium_findings, 0) AS medium_findings,
    COALESCE(sec.low_findings, 0) AS low_findings,
    COALESCE(sec.open_findings, 0) AS open_findings,
    COALESCE(sec.resolved_findings, 0) AS resolved_findings,
    COALESCE(inv.instance_count, 0) AS instance_count,
    COALESCE(inv.running_instances, 0) AS running_instances,
    CASE
        WHEN COALESCE(sec.critical_findings, 0) > 0 THEN 1
        WHEN COALESCE(sec.high_findings, 0) > 0 THEN 2
        WHEN COALESCE(sec.medium_findings, 0) > 0 THEN 3
        WHEN COALESCE(sec.low_findings, 0) > 0 THEN 4
        ELSE 5
    END AS security_health_score
FROM view_accounts va
LEFT JOIN cost_reports cr ON cr.id = COALESCE(
    (SELECT c.id FROM cost_reports c
     WHERE c.account_id = va.id AND c.period_granularity = 'MONTHLY'
     ORDER BY c.period_start DESC, c.id DESC LIMIT 1),
    (SELECT c.id FROM cost_reports c
     WHERE c.account_id = va.id AND c.period_granularity = 'DAILY'
     ORDER BY c.period_start DESC, c.id DESC LIMIT 1)
)
LEFT JOIN (
    SELECT s.account_id,
        SUM(s.total_findings) AS total_findings,
        SUM(s.critical_count) AS critical_findings,
        SUM(s.high_count) AS high_findings,
        SUM(s.medium_count) AS medium_findings,
        SUM(s.low_count) AS low_findings,
        SUM(s.open_findings) AS open_findings,
        SUM(s.resolved_findings) AS resolved_findings
    FROM security s
    JOIN latest_snapshots ls ON ls.id = s.snapshot_id AND ls.granularity = 'DAILY'
    GROUP BY s.account_id
) sec ON sec.account_id = va.id
LEFT JOIN (
    SELECT ii.account_id,
        COUNT(*) AS instance_count,
        SUM(CASE WHEN ii.ping_status = 'Online' THEN 1 ELSE 0 END) AS running_instances
    FROM inventory_instances ii
    JOIN latest_snapshots ls ON ls.id = ii.snapshot_id AND ls.granularity = 'DAILY'
    GROUP BY ii.account_id
) inv ON inv.account_id = va.id;

-- One row per Security Hub summary row (a time series), with its worst severity, risk level,
-- resolution rate and the suppressed / in-progress counts of its findings (A360: constant 0).
CREATE VIEW view_acct_security_findings_summary AS
SELECT
    s.id AS security_id,
    s.snapshot_id AS snapshot_id,
    s.account_id AS account_id,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    sn.region AS snapshot_region, sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start,
    s.service AS service,
    s.total_findings AS total_findings,
    s.critical_count AS critical_count,
    s.high_count AS high_count,
    s.medium_count AS medium_count,
    s.low_count AS low_count,
    s.informational_count AS informational_count,
    s.open_findings AS open_findings,
    s.resolved_findings AS resolved_findings,
    COALESCE(fs.suppressed_count, 0) AS suppressed_count,
    COALESCE(fs.in_progress_count, 0) AS in_progress_count,
    s.open_findings AS active_issues,
    s.region AS region_finding,
    s.resolved_findings AS resolved_count,
    CASE
        WHEN s.critical_count > 0 THEN 'CRITICAL'
        WHEN s.high_count > 0 THEN 'HIGH'
        WHEN s.medium_count > 0 THEN 'MEDIUM'
        WHEN s.low_count > 0 THEN 'LOW'
        WHEN s.informational_count > 0 THEN 'INFORMATIONAL'
        ELSE 'NONE'
    END AS severity,
    CASE WHEN s.total_findings = 0 THEN 0
        ELSE ROUND(s.resolved_findings * 100.0 / s.total_findings, 2) END AS resolution_rate_percent,
    CASE
        WHEN s.critical_count > 0 THEN 'CRITICAL'
        WHEN s.high_count > 0 THEN 'HIGH'
        WHEN s.medium_count > 0 THEN 'MEDIUM'
        WHEN s.low_count > 0 THEN 'LOW'
        ELSE 'NONE'
    END AS risk_level,
    s.created_at AS created_at
FROM security s
JOIN view_accounts va ON va.id = s.account_id
JOIN snapshots sn ON sn.id = s.snapshot_id
LEFT JOIN (
    SELECT f.security_id,
        SUM(CASE WHEN f.workflow_state = 'SUPPRESSED' THEN 1 ELSE 0 END) AS suppressed_count,
        SUM(CASE WHEN f.workflow_state = 'NOTIFIED' THEN 1 ELSE 0 END) AS in_progress_count
    FROM findings f
    GROUP BY f.security_id
) fs ON fs.security_id = s.id;

-- Current Compute Optimizer recommendations per account, resource type and finding.
CREATE VIEW view_compute_optimizer_summary AS
SELECT
    co.account_id AS account_id,
    va.account AS account, va.account_region AS account_region, va.account_name AS account_name,
    va.account_type AS account_type, va.account_category AS account_category,
    va.account_status AS account_status, va.account_partner AS account_partner,
    va.account_customer AS account_customer, va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    co.resource_type AS resource_type,
    co.finding AS finding,
    co.resource_count AS resource_count,
    co.total_monthly_savings AS total_monthly_savings,
    co.avg_savings_percentage AS avg_savings_percentage,
    co.avg_performance_risk AS avg_performance_risk,
    co.not_optimized_count AS not_optimized_count,
    co.savings_opportunities AS savings_opportunities
FROM (
    SELECT
        c.account_id,
        c.resource_type,
        c.finding,
        COUNT(*) AS resource_count,
        SUM(c.estimated_monthly_savings_usd) AS total_monthly_savings,
        AVG(c.savings_opportunity_percentage) AS avg_savings_percentage,
        AVG(c.performance_risk) AS avg_performance_risk,
        SUM(CASE WHEN UPPER(c.finding) IN ('NOTOPTIMIZED', 'OVERPROVISIONED', 'UNDERPROVISIONED')
            THEN 1 ELSE 0 END) AS not_optimized_count,
        SUM(CASE WHEN c.estimated_monthly_savings_usd > 0 THEN 1 ELSE 0 END) AS savings_opportunities
    FROM compute_optimizer c
    JOIN latest_snapshots ls ON ls.id = c.snapshot_id AND ls.granularity = 'DAILY'
    GROUP BY c.account_id, c.resource_type, c.finding
) co
JOIN view_accounts va ON va.id = co.account_id;

-- 6. orgwatch's own views.

-- Per account: its most recent successful load (statuses and health score of that file) and
-- its load counts; plus one row without account for failed files whose account was unknown.
CREATE VIEW view_load_status AS
SELECT
    va.id AS account_id,
    va.account AS account,
    va.account_name AS account_name,
    va.account_full AS account_full,
    va.project_product_name AS project_product_name,
    l.id AS log_id,
    l.snapshot_id AS snapshot_id,
    sn.region AS snapshot_region,
    sn.granularity AS snapshot_granularity,
    sn.period_start AS snapshot_period_start,
    l.file_name AS file_name,
    l.date_created AS loaded_at,
    l.account_status AS account_status,
    l.config_status AS config_status,
    l.service_status AS service_status,
    l.cost_status AS cost_status,
    l.security_status AS security_status,
    l.inventory_status AS inventory_status,
    l.marketplace_status AS marketplace_status,
    l.trusted_advisor_status AS trusted_advisor_status,
    l.health_status AS health_status,
    l.application_status AS application_status,
    l.resilience_hub_status AS resilience_hub_status,
    l.compute_optimizer_status AS compute_optimizer_status,
    l.ri_sp_savings_status AS ri_sp_savings_status,
    l.service_resources_status AS service_resources_status,
    l.config_inventory_status AS config_inventory_status,
    l.support_tickets_status AS support_tickets_status,
    l.health_score AS health_score,
    COALESCE(lc.loaded_count, 0) AS loaded_count,
    COALESCE(lc.failed_count, 0) AS failed_count,
    lc.last_failed_at AS last_failed_at
FROM view_accounts va
LEFT JOIN logs l ON l.id = (
    SELECT l2.id FROM logs l2
    WHERE l2.account_id = va.id AND l2.outcome = 'LOADED'
    ORDER BY l2.date_created DESC, l2.id DESC
    LIMIT 1
)
LEFT JOIN snapshots sn ON sn.id = l.snapshot_id
LEFT JOIN (
    SELECT account_id,
        SUM(CASE WHEN outcome = 'LOADED' THEN 1 ELSE 0 END) AS loaded_count,
        SUM(CASE WHEN outcome = 'FAILED' THEN 1 ELSE 0 END) AS failed_count,
        MAX(CASE WHEN outcome = 'FAILED' THEN date_created END) AS last_failed_at
    FROM logs
    GROUP BY account_id
) lc ON lc.account_id = va.id
UNION ALL
SELECT
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL,
    0,
    f.failed_count,
    f.last_failed_at
FROM (
    SELECT COUNT(*) AS failed_count, MAX(date_created) AS last_failed_at
    FROM logs
    WHERE account_id IS NULL AND outcome = 'FAILED'
) f
WHERE f.failed_count > 0;

-- Per account, region and granularity: the snapshots loaded, the first and last period, and
-- (DAILY only) the days missing between them; days_since_last_period is 1 for a daily feed
-- that is up to date (a run on day D covers D-1).
CREATE VIEW view_snapshot_coverage AS
SELECT
    c.account_id AS account_id,
    va.account AS account,
    va.account_name AS account_name,
    va.account_full AS account_full,
    c.region AS region,
    c.granularity AS granularity,
    c.snapshot_count AS snapshot_count,
    c.first_period_start AS first_period_start,
    c.last_period_start AS last_period_start,
    c.last_run_date AS last_run_date,
    c.last_loaded_at AS last_loaded_at,
    -- dialect: day arithmetic.
    CASE WHEN c.granularity = 'DAILY'
        THEN (c.last_period_start - c.first_period_start) + 1 - c.snapshot_count
    END AS missing_days,
    CAST(CURRENT_TIMESTAMP AT TIME ZONE 'UTC' AS DATE) - c.last_period_start AS days_since_last_period
FROM (
    SELECT
        s.account_id,
        s.region,
        s.granularity,
        COUNT(*) AS snapshot_count,
        MIN(s.period_start) AS first_period_start,
        MAX(s.period_start) AS last_period_start,
        MAX(s.run_date) AS last_run_date,
        MAX(s.loaded_at) AS last_loaded_at
    FROM snapshots s
    GROUP BY s.account_id, s.region, s.granularity
) c
JOIN view_accounts va ON va.id = c.account_id;
