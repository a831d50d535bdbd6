-- CloudTrail activity (orgwatch activity), PostgreSQL dialect; the SQLite tree holds the same
-- tables under the same migration name. See docs/activity.md.
--
-- Times are UTC epoch numbers so both backends compare and bucket them the same way:
-- event_time in milliseconds, window_start in seconds (a multiple of 60, 3600 or 86400).

-- Recent events, for drill-down and de-duplication: an event is stored (and counted) once per
-- (recipient account, event id, event time). event_id is eventID, or 'sha256:' and the hash
-- of the canonical record when it has none. Kept for the recent-events retention (7 days by
-- default): duplicates arriving later than that would count twice.
CREATE TABLE activity_events (
    account TEXT NOT NULL,
    event_id TEXT NOT NULL,
    event_time BIGINT NOT NULL,
    region TEXT NOT NULL,
    service TEXT NOT NULL,
    api TEXT NOT NULL,
    principal TEXT NOT NULL,
    principal_type TEXT NOT NULL,
    source_ip TEXT,
    user_agent_family TEXT NOT NULL,
    error_code TEXT,
    read_only BOOLEAN,
    event_type TEXT,
    -- Time first: inserts append at the right edge, and the key serves time ranges and
    -- retention without a second index.
    PRIMARY KEY (event_time, account, event_id)
);

-- Counts per window, tier, account, region, metric and item, written additively
-- (count = count + new) so that two workers on one window give the same totals as one, and a
-- late event amends its window's row instead of adding a partial one. Every tier is written
-- at ingest; retention deletes old minute and hour rows (48 h and 90 days by default).
-- metric: total (item ''), service, api (eventSource:eventName), principal, principal_type,
-- source_ip, error_code, ec2_outcome (success or the error code), console_sign_in
-- (success or failure). The minute tier holds only the metrics with few items (total,
-- service, principal_type, error_code, ec2_outcome, console_sign_in): per minute, api,
-- principal and source_ip would be almost one row per event, and the recent events (kept
-- longer than the minute tier) answer them exactly.
CREATE TABLE activity_rollups (
    tier TEXT NOT NULL CHECK (tier IN ('minute', 'hour', 'day')),
    window_start BIGINT NOT NULL,
    account TEXT NOT NULL,
    region TEXT NOT NULL,
    metric TEXT NOT NULL,
    item TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (tier, window_start, account, region, metric, item)
);

-- The processed-file ledger: a file is read again only if it is new or its size changed.
-- size is -1 while a read is incomplete (a large file is stored in chunks; an interrupted
-- read is redone, and de-duplication keeps its first chunks from counting twice). The counts
-- are totals over every read of the path (skipped counts all kinds; digest and insight are
-- also counted apart); error is why the last read failed, if it did.
CREATE TABLE activity_files (
    path TEXT PRIMARY KEY,
    size BIGINT NOT NULL,
    events BIGINT NOT NULL,
    new_events BIGINT NOT NULL,
    undecodable BIGINT NOT NULL,
    skipped BIGINT NOT NULL,
    skipped_digest BIGINT NOT NULL DEFAULT 0,
    skipped_insight BIGINT NOT NULL DEFAULT 0,
    first_event_time BIGINT,
    last_event_time BIGINT,
    error TEXT,
    loaded_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Random Cut Forest scores per closed minute window; scope is an account id or 'org', series
-- 'total' or 'principal:NAME'. alarm: the score crossed the alarm threshold.
CREATE TABLE activity_anomalies (
    window_start BIGINT NOT NULL,
    scope TEXT NOT NULL,
    series TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL,
    contributor TEXT NOT NULL,
    alarm BOOLEAN NOT NULL,
    PRIMARY KEY (window_start, scope, series)
);
CREATE INDEX activity_anomalies_alarms ON activity_anomalies (window_start) WHERE alarm;

-- Stream progress and the persisted detector (one row, name 'default').
CREATE TABLE activity_state (
    name TEXT PRIMARY KEY,
    max_event_time BIGINT,
    scored_until BIGINT,
    detector BYTEA,
    duplicate_events BIGINT NOT NULL DEFAULT 0,
    late_events BIGINT NOT NULL DEFAULT 0,
    updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Exact top 10 per window, tier, account and metric (account '*' is the organisation),
-- computed from the complete rollups (and, for the minute tier's api, principal and
-- source_ip, from the recent events) so a late event is reflected at once.
CREATE VIEW view_activity_top10 AS
SELECT tier, window_start, account, metric, item, count, rank
FROM (
    SELECT tier, window_start, account, metric, item, count,
           ROW_NUMBER() OVER (PARTITION BY tier, window_start, account, metric
                              ORDER BY count DESC, item) AS rank
    FROM (
        SELECT tier, window_start, account, metric, item, SUM(count) AS count
        FROM activity_rollups WHERE metric <> 'total'
        GROUP BY tier, window_start, account, metric, item
        UNION ALL
        SELECT tier, window_start, '*', metric, item, SUM(count)
        FROM activity_rollups WHERE metric <> 'total'
        GROUP BY tier, window_start, metric, item
        UNION ALL
        SELECT 'minute', event_time / 60000 * 60, account, 'api', service || ':' || api, COUNT(*)
        FROM activity_events GROUP BY event_time / 60000 * 60, account, service || ':' || api
        UNION ALL
        SELECT 'minute', event_time / 60000 * 60, '*', 'api', service || ':' || api, COUNT(*)
        FROM activity_events GROUP BY event_time / 60000 * 60, service || ':' || api
        UNION ALL
        SELECT 'minute', event_time / 60000 * 60, account, 'principal', principal, COUNT(*)
        FROM activity_events GROUP BY event_time / 60000 * 60, account, principal
        UNION ALL
        SELECT 'minute', event_time / 60000 * 60, '*', 'principal', principal, COUNT(*)
        FROM activity_events GROUP BY event_time / 60000 * 60, principal
        UNION ALL
        SELECT 'minute', event_time / 60000 * 60, account, 'source_ip', COALESCE(source_ip, '(none)'), COUNT(*)
        FROM activity_events GROUP BY event_time / 60000 * 60, account, COALESCE(source_ip, '(none)')
        UNION ALL
        SELECT 'minute', event_time / 60000 * 60, '*', 'source_ip', COALESCE(source_ip, '(none)'), COUNT(*)
        FROM activity_events GROUP BY event_time / 60000 * 60, COALESCE(source_ip, '(none)')
    ) grouped
) ranked
WHERE rank <= 10;

-- Total calls per minute per account and organisation-wide, with the anomaly score.
CREATE VIEW view_activity_minutes AS
SELECT r.window_start, r.account, r.count AS calls, a.score, a.alarm, a.contributor
FROM (
    SELECT window_start, account, SUM(count) AS count FROM activity_rollups
    WHERE tier = 'minute' AND metric = 'total' GROUP BY window_start, account
    UNION ALL
    SELECT window_start, 'org', SUM(count) FROM activity_rollups
    WHERE tier = 'minute' AND metric = 'total' GROUP BY window_start
) r
LEFT JOIN activity_anomalies a
    ON a.window_start = r.window_start AND a.scope = r.account AND a.series = 'total';
