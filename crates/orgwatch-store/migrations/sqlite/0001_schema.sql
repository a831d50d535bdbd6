-- orgwatch schema, SQLite dialect (dates and times are fixed-width UTC text, money REAL). The SQLite tree holds the same tables under the same
-- migration names; keep them in lockstep.
--
-- Table and column names follow the A360 schema so its documented SQL runs unchanged.
-- Differences, each deliberate (see docs/schema.md):
--  * accounts has one row per AWS account (A360 had one per account and region, which
--    multiplied global cost by the number of regions);
--  * every category row belongs to the snapshot (file) it came from: snapshot_id, with
--    ON DELETE CASCADE, so replacing a snapshot is one DELETE and a reload never duplicates.
--    That is the only foreign key of a category table: account_id and parent ids (security_id,
--    cost_report_id, config_report_id, instance_id) are written by the loader in the same
--    transaction as their parent and die with the same snapshot, so further per-row foreign key
--    checks would only slow bulk loads (measured: bench/load);
--  * unique keys are per snapshot, never global (A360's UNIQUE(arn) made org trails and public
--    Health events flip between accounts);
--  * TEXT instead of VARCHAR(n) (A360 inserts failed silently on long ARNs and phone numbers);
--  * UTC instants as fixed-width text, so they sort and compare (A360 lost offsets).

CREATE TABLE accounts (
    id INTEGER PRIMARY KEY,
    account_id TEXT NOT NULL UNIQUE CHECK (length(account_id) = 12 AND account_id NOT GLOB '*[^0-9]*'),
    account_name TEXT,
    account_email TEXT,
    account_status TEXT,
    account_arn TEXT,
    joined_method TEXT,
    joined_timestamp TEXT,
    partner_name TEXT,
    customer_name TEXT,
    account_type TEXT,
    csp TEXT NOT NULL DEFAULT 'AWS',
    region TEXT NOT NULL DEFAULT 'Global',
    category TEXT,
    last_run_date TEXT,
    -- SHA-256 of the newest file's `account` object: contacts and products are rewritten only when it changes.
    profile_sha256 TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    updated_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
);

CREATE TABLE contact_info (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL UNIQUE REFERENCES accounts(id) ON DELETE CASCADE,
    address_line1 TEXT,
    address_line2 TEXT,
    address_line3 TEXT,
    city TEXT,
    country_code TEXT,
    postal_code TEXT,
    state_or_region TEXT,
    company_name TEXT,
    phone_number TEXT,
    website_url TEXT,
    full_name TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
);

CREATE TABLE alternate_contacts (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    contact_type TEXT NOT NULL,
    full_name TEXT,
    title TEXT,
    email TEXT,
    phone_number TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (account_id, contact_type)
);

CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT 'System',
    position INTEGER,
    description TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
);
CREATE UNIQUE INDEX products_name_key ON products (lower(name));

CREATE TABLE product_accounts (
    id INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (product_id, account_id)
);

CREATE INDEX product_accounts_account ON product_accounts (account_id, id);

-- One row per loaded file: its lineage, and the key a newer file replaces.
CREATE TABLE snapshots (
    id INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    region TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    granularity TEXT NOT NULL CHECK (granularity IN ('DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY')),
    run_date TEXT NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes INTEGER NOT NULL,
    row_count INTEGER NOT NULL DEFAULT 0,
    loaded_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (account_id, region, period_start, granularity)
);
CREATE INDEX snapshots_period ON snapshots (account_id, period_start, granularity);

CREATE TABLE services (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    service TEXT NOT NULL,
    date_from TEXT NOT NULL,
    date_to TEXT NOT NULL,
    cost REAL NOT NULL,
    currency TEXT NOT NULL DEFAULT 'USD',
    utilization REAL,
    utilization_unit TEXT,
    usage_types TEXT NOT NULL DEFAULT 'Aggregated',
    region TEXT NOT NULL DEFAULT 'Global',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    CHECK (date_from <= date_to),
    UNIQUE (snapshot_id, service, usage_types, date_from)
);
CREATE INDEX services_account_date ON services (account_id, date_from);

CREATE TABLE cost_reports (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    current_period_cost REAL NOT NULL,
    previous_period_cost REAL NOT NULL,
    cost_difference REAL NOT NULL,
    cost_difference_percentage REAL NOT NULL,
    potential_monthly_savings REAL,
    anomalies_detected INTEGER,
    saving_opportunities_count INTEGER,
    period_start TEXT NOT NULL,
    period_end TEXT NOT NULL,
    period_granularity TEXT NOT NULL CHECK (period_granularity IN ('DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY')),
    region TEXT NOT NULL DEFAULT 'Global',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    -- Cost Explorer data is global: once per account and period, however many region files carry it.
    UNIQUE (account_id, period_start, period_granularity, region),
    UNIQUE (snapshot_id)
);

CREATE TABLE service_costs (
    id INTEGER PRIMARY KEY,
    cost_report_id INTEGER NOT NULL,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    service_name TEXT NOT NULL,
    cost REAL NOT NULL,
    region TEXT NOT NULL DEFAULT 'Global',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (cost_report_id, service_name)
);
CREATE INDEX service_costs_snapshot ON service_costs (snapshot_id);

CREATE TABLE cost_forecasts (
    id INTEGER PRIMARY KEY,
    cost_report_id INTEGER NOT NULL,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    period_start TEXT,
    period_end TEXT,
    amount REAL,
    prediction_interval_lower REAL,
    prediction_interval_upper REAL,
    region TEXT NOT NULL DEFAULT 'Global',
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (cost_report_id, period_start)
);
CREATE INDEX cost_forecasts_snapshot ON cost_forecasts (snapshot_id);

-- Security Hub findings created or changed in the snapshot's window, per product.
CREATE TABLE security (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    service TEXT NOT NULL,
    total_findings INTEGER NOT NULL DEFAULT 0,
    critical_count INTEGER NOT NULL DEFAULT 0,
    high_count INTEGER NOT NULL DEFAULT 0,
    medium_count INTEGER NOT NULL DEFAULT 0,
    low_count INTEGER NOT NULL DEFAULT 0,
    informational_count INTEGER NOT NULL DEFAULT 0,
    open_findings INTEGER NOT NULL DEFAULT 0,
    resolved_findings INTEGER NOT NULL DEFAULT 0,
    region TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, service)
);
CREATE INDEX security_account ON security (account_id);

CREATE TABLE findings (
    id INTEGER PRIMARY KEY,
    security_id INTEGER NOT NULL,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    finding_id TEXT,
    service TEXT,
    title TEXT,
    description TEXT,
    severity TEXT,
    status TEXT,
    resource_type TEXT,
    resource_id TEXT,
    created_at TEXT,
    updated_at TEXT,
    recommendation TEXT,
    compliance_status TEXT,
    region TEXT,
    workflow_state TEXT,
    record_state TEXT,
    product_name TEXT,
    company_name TEXT,
    product_arn TEXT,
    generator_id TEXT,
    generator TEXT,
    UNIQUE (snapshot_id, finding_id)
);
CREATE INDEX findings_account_finding ON findings (account_id, finding_id);

CREATE TABLE guard_duty_findings (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    -- A360 stored the finding id here; orgwatch keeps the column for its SQL and also
    -- writes the id to finding_id.
    detector_id TEXT,
    finding_id TEXT,
    finding_type TEXT,
    severity REAL,
    title TEXT,
    description TEXT,
    confidence REAL,
    region TEXT,
    finding_created_at TEXT,
    finding_updated_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, finding_id)
);

CREATE TABLE kms_keys (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    key_id TEXT,
    arn TEXT,
    description TEXT,
    key_usage TEXT,
    key_state TEXT,
    creation_date TEXT,
    enabled INTEGER,
    key_rotation_enabled INTEGER,
    region TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, key_id)
);

CREATE TABLE waf_rules (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    name TEXT,
    waf_id TEXT,
    arn TEXT,
    scope TEXT,
    description TEXT,
    default_action TEXT,
    rules_count INTEGER,
    capacity INTEGER,
    managed_rules_count INTEGER,
    custom_rules_count INTEGER,
    rate_limit_rules_count INTEGER,
    associated_resources TEXT,
    associated_resources_count INTEGER,
    logging_enabled INTEGER,
    log_destinations TEXT,
    geo_blocking_enabled INTEGER,
    blocked_countries TEXT,
    created_date TEXT,
    last_modified TEXT,
    sampled_requests_enabled INTEGER,
    cloudwatch_metrics_enabled INTEGER,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, waf_id, scope)
);

CREATE TABLE waf_rules_detailed (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    web_acl_name TEXT NOT NULL,
    rule_name TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    action TEXT,
    statement_type TEXT,
    is_managed_rule INTEGER,
    is_custom_rule INTEGER,
    rate_limit INTEGER,
    logging_enabled INTEGER,
    geo_blocking INTEGER,
    sql_injection INTEGER,
    sample_request_enabled INTEGER,
    cloudwatch_enabled INTEGER,
    has_xss_protection INTEGER,
    is_compliant INTEGER,
    waf_version TEXT,
    scope TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, web_acl_name, rule_name, scope)
);

CREATE TABLE cloudtrail_logs (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    name TEXT,
    arn TEXT,
    is_logging INTEGER,
    is_multi_region INTEGER,
    include_global_events INTEGER,
    s3_bucket TEXT,
    kms_key_id TEXT,
    log_file_validation INTEGER,
    recent_events_count INTEGER,
    latest_delivery_time TEXT,
    start_logging_time TEXT,
    stop_logging_time TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, arn)
);

CREATE TABLE secrets_manager_secrets (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    name TEXT,
    arn TEXT,
    description TEXT,
    created_date TEXT,
    last_changed_date TEXT,
    last_accessed_date TEXT,
    rotation_enabled INTEGER,
    rotation_lambda_arn TEXT,
    kms_key_id TEXT,
    tags TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, arn)
);

CREATE TABLE certificates (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    arn TEXT,
    domain_name TEXT,
    subject_alternative_names TEXT,
    status TEXT,
    type TEXT,
    key_algorithm TEXT,
    signature_algorithm TEXT,
    issued_at TEXT,
    not_before TEXT,
    not_after TEXT,
    renewal_eligibility TEXT,
    certificate_created_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, arn)
);

CREATE TABLE inspector_findings (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    finding_arn TEXT,
    severity TEXT,
    status TEXT,
    type TEXT,
    title TEXT,
    description TEXT,
    first_observed_at TEXT,
    last_observed_at TEXT,
    updated_at TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, finding_arn)
);

CREATE TABLE config_reports (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL UNIQUE REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    date_from TEXT,
    date_to TEXT,
    compliance_score REAL,
    total_rules INTEGER,
    compliant_rules INTEGER,
    non_compliant_rules INTEGER,
    curr_non_compliant INTEGER,
    curr_compliant INTEGER,
    region TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
);
CREATE INDEX config_reports_account ON config_reports (account_id, date_from);

CREATE TABLE non_compliant_resources (
    id INTEGER PRIMARY KEY,
    config_report_id INTEGER NOT NULL,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    resource_type TEXT,
    resource_id TEXT,
    compliance_type TEXT,
    rule_name TEXT,
    annotation TEXT,
    evaluation_mode TEXT,
    conformance_pack TEXT,
    status TEXT NOT NULL DEFAULT 'OPEN',
    config_rule_invoked_time TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, rule_name, resource_type, resource_id)
);

CREATE TABLE service_resources (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    service_name TEXT,
    resource_type TEXT,
    resource_id TEXT,
    resource_name TEXT,
    region TEXT,
    availability_zone TEXT,
    state TEXT,
    instance_type TEXT,
    vpc_id TEXT,
    engine TEXT,
    instance_class TEXT,
    multi_az INTEGER,
    size_gb REAL,
    volume_type TEXT,
    creation_date TEXT,
    type TEXT,
    scheme TEXT,
    instance_count INTEGER,
    min_size INTEGER,
    max_size INTEGER,
    available_ip_count INTEGER,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, service_name, resource_type, resource_id)
);

CREATE TABLE compute_optimizer (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    resource_type TEXT,
    resource_arn TEXT,
    resource_name TEXT,
    finding TEXT,
    current_instance_type TEXT,
    recommended_instance_type TEXT,
    current_memory_size REAL,
    recommended_memory_size REAL,
    current_volume_type TEXT,
    recommended_volume_type TEXT,
    current_volume_size REAL,
    recommended_volume_size REAL,
    savings_opportunity_percentage REAL,
    estimated_monthly_savings_usd REAL,
    performance_risk REAL,
    cpu_utilization_max REAL,
    memory_utilization_avg REAL,
    migration_effort TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, resource_arn)
);

CREATE TABLE config_inventory (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    resource_type TEXT NOT NULL,
    resource_subtype TEXT,
    resource_id TEXT NOT NULL,
    resource_name TEXT,
    region TEXT,
    availability_zone TEXT,
    state TEXT,
    arn TEXT,
    creation_date TEXT,
    configuration TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, resource_type, resource_id)
);

CREATE TABLE inventory_instances (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    instance_id TEXT,
    platform TEXT,
    platform_type TEXT,
    platform_version TEXT,
    agent_version TEXT,
    is_latest_version INTEGER,
    last_ping TEXT,
    computer_name TEXT,
    instance_type TEXT,
    ip_address TEXT,
    ping_status TEXT,
    last_ping_date_time TEXT,
    association_status TEXT,
    association_execution_date TEXT,
    association_success_date TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, instance_id)
);

-- instance_id references the instance row of the same snapshot that the application names
-- (A360 attached every application to the file's first instance).
CREATE TABLE inventory_applications (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    instance_id INTEGER,
    managed_instance_id TEXT,
    name TEXT,
    version TEXT,
    publisher TEXT,
    architecture TEXT,
    application_type TEXT,
    install_time TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, managed_instance_id, name, version, architecture)
);

CREATE TABLE inventory_patches (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    instance_id INTEGER,
    managed_instance_id TEXT,
    title TEXT,
    classification TEXT,
    severity TEXT,
    state TEXT,
    installed_time TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, managed_instance_id, title)
);

CREATE TABLE marketplace_usage (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    product_code TEXT,
    product_name TEXT,
    cost_consumed REAL,
    currency TEXT,
    period_start TEXT,
    period_end TEXT,
    status TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, product_code, period_start)
);

CREATE TABLE trusted_advisor_checks (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    check_name TEXT,
    category TEXT,
    severity TEXT,
    recommendation TEXT,
    affected_resources_count INTEGER,
    potential_savings REAL,
    timestamp TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, check_name)
);

CREATE TABLE health_events (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    arn TEXT,
    service TEXT,
    event_type_code TEXT,
    event_type_category TEXT,
    region TEXT,
    availability_zone TEXT,
    start_time TEXT,
    end_time TEXT,
    last_updated_time TEXT,
    status_code TEXT,
    event_scope_code TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, arn)
);

CREATE TABLE application_signals (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    service_name TEXT,
    namespace TEXT,
    key_attributes TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, service_name)
);

CREATE TABLE resilience_hub_apps (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    app_arn TEXT,
    name TEXT,
    description TEXT,
    creation_time TEXT,
    last_assessment_time TEXT,
    compliance_status TEXT,
    resiliency_score REAL,
    status TEXT,
    rpo INTEGER,
    rto INTEGER,
    last_drill TEXT,
    cost REAL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, app_arn)
);

CREATE TABLE support_tickets (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    case_id TEXT,
    display_id TEXT,
    subject TEXT,
    status TEXT,
    severity_code TEXT,
    service_code TEXT,
    category_code TEXT,
    time_created TEXT,
    submitted_by TEXT,
    language TEXT,
    date_from TEXT,
    date_to TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    CHECK (date_from <= date_to),
    UNIQUE (snapshot_id, case_id)
);

CREATE TABLE ri_sp_daily_savings (
    id INTEGER PRIMARY KEY,
    snapshot_id INTEGER NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id INTEGER NOT NULL,
    date_from TEXT,
    date_to TEXT,
    date TEXT,
    reservation_type TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    utilization_percentage REAL,
    on_demand_cost REAL,
    reservation_cost REAL,
    net_savings REAL,
    service TEXT,
    offering_id TEXT,
    savings_plan_arn TEXT,
    instance_type TEXT,
    instance_family TEXT,
    instance_count INTEGER,
    instance_tenancy TEXT,
    offering_class TEXT,
    offering_type TEXT,
    product_types TEXT,
    region TEXT,
    currency TEXT,
    commitment REAL,
    upfront_cost REAL,
    recurring_cost REAL,
    recurring_frequency TEXT,
    usage_price REAL,
    start_date TEXT,
    end_date TEXT,
    returnable_until TEXT,
    duration_seconds INTEGER,
    state TEXT,
    description TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    UNIQUE (snapshot_id, reservation_type, subscription_id, date)
);

-- One row per load attempt: the sender's 16 category statuses, orgwatch's outcome and the
-- load's health score (percentage of reported categories that passed; docs/schema.md).
-- A failed file has no snapshot, and no account when its account id could not be read.
CREATE TABLE logs (
    id INTEGER PRIMARY KEY,
    account_id INTEGER REFERENCES accounts(id) ON DELETE CASCADE,
    snapshot_id INTEGER UNIQUE REFERENCES snapshots(id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('LOADED', 'FAILED')),
    date_created TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z'),
    account_status TEXT,
    config_status TEXT,
    service_status TEXT,
    cost_status TEXT,
    security_status TEXT,
    inventory_status TEXT,
    marketplace_status TEXT,
    trusted_advisor_status TEXT,
    health_status TEXT,
    application_status TEXT,
    resilience_hub_status TEXT,
    compute_optimizer_status TEXT,
    ri_sp_savings_status TEXT,
    service_resources_status TEXT,
    config_inventory_status TEXT,
    support_tickets_status TEXT,
    health_score REAL,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
);
CREATE INDEX logs_account ON logs (account_id, date_created);

CREATE TABLE log_messages (
    id INTEGER PRIMARY KEY,
    log_id INTEGER NOT NULL REFERENCES logs(id) ON DELETE CASCADE,
    message TEXT NOT NULL,
    message_type TEXT NOT NULL CHECK (message_type IN ('ERROR', 'WARNING', 'INFO')),
    message_key TEXT,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%f', 'now') || '000Z')
);
CREATE INDEX log_messages_log ON log_messages (log_id);
