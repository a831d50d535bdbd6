-- orgwatch schema, PostgreSQL dialect. The SQLite tree holds the same tables under the same
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
--  * timestamptz everywhere (A360 cast to timestamp and lost offsets).

CREATE TABLE accounts (
    id BIGSERIAL PRIMARY KEY,
    account_id TEXT NOT NULL UNIQUE CHECK (account_id ~ '^[0-9]{12}$'),
    account_name TEXT,
    account_email TEXT,
    account_status TEXT,
    account_arn TEXT,
    joined_method TEXT,
    joined_timestamp TIMESTAMPTZ,
    partner_name TEXT,
    customer_name TEXT,
    account_type TEXT,
    csp TEXT NOT NULL DEFAULT 'AWS',
    region TEXT NOT NULL DEFAULT 'Global',
    category TEXT,
    last_run_date DATE,
    -- SHA-256 of the newest file's `account` object: contacts and products are rewritten only when it changes.
    profile_sha256 TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE contact_info (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL UNIQUE REFERENCES accounts(id) ON DELETE CASCADE,
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
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE alternate_contacts (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    contact_type TEXT NOT NULL,
    full_name TEXT,
    title TEXT,
    email TEXT,
    phone_number TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (account_id, contact_type)
);

CREATE TABLE products (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL,
    owner TEXT NOT NULL DEFAULT 'System',
    position INTEGER,
    description TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX products_name_key ON products (lower(name));

CREATE TABLE product_accounts (
    id BIGSERIAL PRIMARY KEY,
    product_id BIGINT NOT NULL REFERENCES products(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (product_id, account_id)
);

CREATE INDEX product_accounts_account ON product_accounts (account_id, id);

-- One row per loaded file: its lineage, and the key a newer file replaces.
CREATE TABLE snapshots (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    region TEXT NOT NULL,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    granularity TEXT NOT NULL CHECK (granularity IN ('DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY')),
    run_date DATE NOT NULL,
    file_name TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    row_count BIGINT NOT NULL DEFAULT 0,
    loaded_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (account_id, region, period_start, granularity)
);
CREATE INDEX snapshots_period ON snapshots (account_id, period_start, granularity);

CREATE TABLE services (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    service TEXT NOT NULL,
    date_from DATE NOT NULL,
    date_to DATE NOT NULL,
    cost NUMERIC(20, 10) NOT NULL,
    currency TEXT NOT NULL DEFAULT 'USD',
    utilization NUMERIC,
    utilization_unit TEXT,
    usage_types TEXT NOT NULL DEFAULT 'Aggregated',
    region TEXT NOT NULL DEFAULT 'Global',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (date_from <= date_to),
    UNIQUE (snapshot_id, service, usage_types, date_from)
);
CREATE INDEX services_account_date ON services (account_id, date_from);

CREATE TABLE cost_reports (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    current_period_cost NUMERIC(20, 10) NOT NULL,
    previous_period_cost NUMERIC(20, 10) NOT NULL,
    cost_difference NUMERIC(20, 10) NOT NULL,
    cost_difference_percentage NUMERIC(20, 10) NOT NULL,
    potential_monthly_savings NUMERIC(20, 10),
    anomalies_detected INTEGER,
    saving_opportunities_count INTEGER,
    period_start DATE NOT NULL,
    period_end DATE NOT NULL,
    period_granularity TEXT NOT NULL CHECK (period_granularity IN ('DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY')),
    region TEXT NOT NULL DEFAULT 'Global',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    -- Cost Explorer data is global: once per account and period, however many region files carry it.
    UNIQUE (account_id, period_start, period_granularity, region),
    UNIQUE (snapshot_id)
);

CREATE TABLE service_costs (
    id BIGSERIAL PRIMARY KEY,
    cost_report_id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    service_name TEXT NOT NULL,
    cost NUMERIC(20, 10) NOT NULL,
    region TEXT NOT NULL DEFAULT 'Global',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (cost_report_id, service_name)
);
CREATE INDEX service_costs_snapshot ON service_costs (snapshot_id);

CREATE TABLE cost_forecasts (
    id BIGSERIAL PRIMARY KEY,
    cost_report_id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    period_start DATE,
    period_end DATE,
    amount NUMERIC(20, 10),
    prediction_interval_lower NUMERIC(20, 10),
    prediction_interval_upper NUMERIC(20, 10),
    region TEXT NOT NULL DEFAULT 'Global',
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (cost_report_id, period_start)
);
CREATE INDEX cost_forecasts_snapshot ON cost_forecasts (snapshot_id);

-- Security Hub findings created or changed in the snapshot's window, per product.
CREATE TABLE security (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
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
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, service)
);
CREATE INDEX security_account ON security (account_id);

CREATE TABLE findings (
    id BIGSERIAL PRIMARY KEY,
    security_id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    finding_id TEXT,
    service TEXT,
    title TEXT,
    description TEXT,
    severity TEXT,
    status TEXT,
    resource_type TEXT,
    resource_id TEXT,
    created_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ,
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
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    -- A360 stored the finding id here; orgwatch keeps the column for its SQL and also
    -- writes the id to finding_id.
    detector_id TEXT,
    finding_id TEXT,
    finding_type TEXT,
    severity NUMERIC(4, 1),
    title TEXT,
    description TEXT,
    confidence NUMERIC(4, 1),
    region TEXT,
    finding_created_at TIMESTAMPTZ,
    finding_updated_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, finding_id)
);

CREATE TABLE kms_keys (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    key_id TEXT,
    arn TEXT,
    description TEXT,
    key_usage TEXT,
    key_state TEXT,
    creation_date TIMESTAMPTZ,
    enabled BOOLEAN,
    key_rotation_enabled BOOLEAN,
    region TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, key_id)
);

CREATE TABLE waf_rules (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    name TEXT,
    waf_id TEXT,
    arn TEXT,
    scope TEXT,
    description TEXT,
    default_action JSONB,
    rules_count INTEGER,
    capacity INTEGER,
    managed_rules_count INTEGER,
    custom_rules_count INTEGER,
    rate_limit_rules_count INTEGER,
    associated_resources JSONB,
    associated_resources_count INTEGER,
    logging_enabled BOOLEAN,
    log_destinations JSONB,
    geo_blocking_enabled BOOLEAN,
    blocked_countries TEXT,
    created_date TIMESTAMPTZ,
    last_modified TIMESTAMPTZ,
    sampled_requests_enabled BOOLEAN,
    cloudwatch_metrics_enabled BOOLEAN,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, waf_id, scope)
);

CREATE TABLE waf_rules_detailed (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    web_acl_name TEXT NOT NULL,
    rule_name TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    action TEXT,
    statement_type TEXT,
    is_managed_rule BOOLEAN,
    is_custom_rule BOOLEAN,
    rate_limit BOOLEAN,
    logging_enabled BOOLEAN,
    geo_blocking BOOLEAN,
    sql_injection BOOLEAN,
    sample_request_enabled BOOLEAN,
    cloudwatch_enabled BOOLEAN,
    has_xss_protection BOOLEAN,
    is_compliant BOOLEAN,
    waf_version TEXT,
    scope TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, web_acl_name, rule_name, scope)
);

CREATE TABLE cloudtrail_logs (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    name TEXT,
    arn TEXT,
    is_logging BOOLEAN,
    is_multi_region BOOLEAN,
    include_global_events BOOLEAN,
    s3_bucket TEXT,
    kms_key_id TEXT,
    log_file_validation BOOLEAN,
    recent_events_count INTEGER,
    latest_delivery_time TIMESTAMPTZ,
    start_logging_time TIMESTAMPTZ,
    stop_logging_time TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, arn)
);

CREATE TABLE secrets_manager_secrets (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    name TEXT,
    arn TEXT,
    description TEXT,
    created_date TIMESTAMPTZ,
    last_changed_date TIMESTAMPTZ,
    last_accessed_date TIMESTAMPTZ,
    rotation_enabled BOOLEAN,
    rotation_lambda_arn TEXT,
    kms_key_id TEXT,
    tags JSONB,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, arn)
);

CREATE TABLE certificates (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    arn TEXT,
    domain_name TEXT,
    subject_alternative_names JSONB,
    status TEXT,
    type TEXT,
    key_algorithm TEXT,
    signature_algorithm TEXT,
    issued_at TIMESTAMPTZ,
    not_before TIMESTAMPTZ,
    not_after TIMESTAMPTZ,
    renewal_eligibility TEXT,
    certificate_created_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, arn)
);

CREATE TABLE inspector_findings (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    finding_arn TEXT,
    severity TEXT,
    status TEXT,
    type TEXT,
    title TEXT,
    description TEXT,
    first_observed_at TIMESTAMPTZ,
    last_observed_at TIMESTAMPTZ,
    updated_at TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, finding_arn)
);

CREATE TABLE config_reports (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL UNIQUE REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    date_from DATE,
    date_to DATE,
    compliance_score NUMERIC(5, 2),
    total_rules INTEGER,
    compliant_rules INTEGER,
    non_compliant_rules INTEGER,
    curr_non_compliant INTEGER,
    curr_compliant INTEGER,
    region TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX config_reports_account ON config_reports (account_id, date_from);

CREATE TABLE non_compliant_resources (
    id BIGSERIAL PRIMARY KEY,
    config_report_id BIGINT NOT NULL,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    resource_type TEXT,
    resource_id TEXT,
    compliance_type TEXT,
    rule_name TEXT,
    annotation TEXT,
    evaluation_mode TEXT,
    conformance_pack TEXT,
    status TEXT NOT NULL DEFAULT 'OPEN',
    config_rule_invoked_time TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, rule_name, resource_type, resource_id)
);

CREATE TABLE service_resources (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
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
    multi_az BOOLEAN,
    size_gb NUMERIC,
    volume_type TEXT,
    creation_date TIMESTAMPTZ,
    type TEXT,
    scheme TEXT,
    instance_count INTEGER,
    min_size INTEGER,
    max_size INTEGER,
    available_ip_count INTEGER,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, service_name, resource_type, resource_id)
);

CREATE TABLE compute_optimizer (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    resource_type TEXT,
    resource_arn TEXT,
    resource_name TEXT,
    finding TEXT,
    current_instance_type TEXT,
    recommended_instance_type TEXT,
    current_memory_size NUMERIC,
    recommended_memory_size NUMERIC,
    current_volume_type TEXT,
    recommended_volume_type TEXT,
    current_volume_size NUMERIC,
    recommended_volume_size NUMERIC,
    savings_opportunity_percentage NUMERIC(7, 2),
    estimated_monthly_savings_usd NUMERIC(14, 2),
    performance_risk NUMERIC(5, 2),
    cpu_utilization_max NUMERIC(7, 2),
    memory_utilization_avg NUMERIC(7, 2),
    migration_effort TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, resource_arn)
);

CREATE TABLE config_inventory (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    resource_type TEXT NOT NULL,
    resource_subtype TEXT,
    resource_id TEXT NOT NULL,
    resource_name TEXT,
    region TEXT,
    availability_zone TEXT,
    state TEXT,
    arn TEXT,
    creation_date TIMESTAMPTZ,
    configuration JSONB,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, resource_type, resource_id)
);

CREATE TABLE inventory_instances (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    instance_id TEXT,
    platform TEXT,
    platform_type TEXT,
    platform_version TEXT,
    agent_version TEXT,
    is_latest_version BOOLEAN,
    last_ping TIMESTAMPTZ,
    computer_name TEXT,
    instance_type TEXT,
    ip_address TEXT,
    ping_status TEXT,
    last_ping_date_time TIMESTAMPTZ,
    association_status TEXT,
    association_execution_date TIMESTAMPTZ,
    association_success_date TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, instance_id)
);

-- instance_id references the instance row of the same snapshot that the application names
-- (A360 attached every application to the file's first instance).
CREATE TABLE inventory_applications (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    instance_id BIGINT,
    managed_instance_id TEXT,
    name TEXT,
    version TEXT,
    publisher TEXT,
    architecture TEXT,
    application_type TEXT,
    install_time TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, managed_instance_id, name, version, architecture)
);

CREATE TABLE inventory_patches (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    instance_id BIGINT,
    managed_instance_id TEXT,
    title TEXT,
    classification TEXT,
    severity TEXT,
    state TEXT,
    installed_time TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, managed_instance_id, title)
);

CREATE TABLE marketplace_usage (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    product_code TEXT,
    product_name TEXT,
    cost_consumed NUMERIC(20, 10),
    currency TEXT,
    period_start DATE,
    period_end DATE,
    status TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, product_code, period_start)
);

CREATE TABLE trusted_advisor_checks (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    check_name TEXT,
    category TEXT,
    severity TEXT,
    recommendation TEXT,
    affected_resources_count INTEGER,
    potential_savings NUMERIC(20, 10),
    timestamp TIMESTAMPTZ,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, check_name)
);

CREATE TABLE health_events (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    arn TEXT,
    service TEXT,
    event_type_code TEXT,
    event_type_category TEXT,
    region TEXT,
    availability_zone TEXT,
    start_time TIMESTAMPTZ,
    end_time TIMESTAMPTZ,
    last_updated_time TIMESTAMPTZ,
    status_code TEXT,
    event_scope_code TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, arn)
);

CREATE TABLE application_signals (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    service_name TEXT,
    namespace TEXT,
    key_attributes JSONB,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, service_name)
);

CREATE TABLE resilience_hub_apps (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    app_arn TEXT,
    name TEXT,
    description TEXT,
    creation_time TIMESTAMPTZ,
    last_assessment_time TIMESTAMPTZ,
    compliance_status TEXT,
    resiliency_score NUMERIC(7, 2),
    status TEXT,
    rpo INTEGER,
    rto INTEGER,
    last_drill TIMESTAMPTZ,
    cost NUMERIC(20, 10),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, app_arn)
);

CREATE TABLE support_tickets (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    case_id TEXT,
    display_id TEXT,
    subject TEXT,
    status TEXT,
    severity_code TEXT,
    service_code TEXT,
    category_code TEXT,
    time_created TIMESTAMPTZ,
    submitted_by TEXT,
    language TEXT,
    date_from DATE,
    date_to DATE,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    CHECK (date_from <= date_to),
    UNIQUE (snapshot_id, case_id)
);

CREATE TABLE ri_sp_daily_savings (
    id BIGSERIAL PRIMARY KEY,
    snapshot_id BIGINT NOT NULL REFERENCES snapshots(id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL,
    date_from DATE,
    date_to DATE,
    date DATE,
    reservation_type TEXT NOT NULL,
    subscription_id TEXT NOT NULL,
    utilization_percentage NUMERIC(7, 2),
    on_demand_cost NUMERIC(14, 2),
    reservation_cost NUMERIC(14, 2),
    net_savings NUMERIC(14, 2),
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
    commitment NUMERIC(14, 2),
    upfront_cost NUMERIC(14, 2),
    recurring_cost NUMERIC(14, 6),
    recurring_frequency TEXT,
    usage_price NUMERIC(14, 6),
    start_date TIMESTAMPTZ,
    end_date TIMESTAMPTZ,
    returnable_until TIMESTAMPTZ,
    duration_seconds BIGINT,
    state TEXT,
    description TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    UNIQUE (snapshot_id, reservation_type, subscription_id, date)
);

-- One row per load attempt: the sender's 16 category statuses, orgwatch's outcome and the
-- load's health score (percentage of reported categories that passed; docs/schema.md).
-- A failed file has no snapshot, and no account when its account id could not be read.
CREATE TABLE logs (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT REFERENCES accounts(id) ON DELETE CASCADE,
    snapshot_id BIGINT UNIQUE REFERENCES snapshots(id) ON DELETE CASCADE,
    file_name TEXT NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('LOADED', 'FAILED')),
    date_created TIMESTAMPTZ NOT NULL DEFAULT now(),
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
    health_score NUMERIC(5, 2),
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX logs_account ON logs (account_id, date_created);

CREATE TABLE log_messages (
    id BIGSERIAL PRIMARY KEY,
    log_id BIGINT NOT NULL REFERENCES logs(id) ON DELETE CASCADE,
    message TEXT NOT NULL,
    message_type TEXT NOT NULL CHECK (message_type IN ('ERROR', 'WARNING', 'INFO')),
    message_key TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX log_messages_log ON log_messages (log_id);
