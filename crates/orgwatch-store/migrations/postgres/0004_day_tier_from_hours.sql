-- The day tier is no longer written as events are stored: hours are folded into their day
-- when they leave the hour tier's retention, and a day is read as its day rows plus its hour
-- rows (every count is in exactly one of the two). Storing writes a third fewer rollup rows.
--
-- Day rows written before this counted every event of the day, including the hours still in
-- the hour tier: take those hours' share out of them, so that nothing is counted twice.
CREATE TEMPORARY TABLE hour_share AS
SELECT window_start - (((window_start % 86400) + 86400) % 86400) AS day, account, region, metric,
       item, SUM(count) AS count
FROM activity_rollups WHERE tier = 'hour'
GROUP BY window_start - (((window_start % 86400) + 86400) % 86400), account, region, metric, item;

UPDATE activity_rollups SET count = count - COALESCE((
    SELECT s.count FROM hour_share s
    WHERE s.day = activity_rollups.window_start AND s.account = activity_rollups.account
      AND s.region = activity_rollups.region AND s.metric = activity_rollups.metric
      AND s.item = activity_rollups.item), 0)
WHERE tier = 'day';

DELETE FROM activity_rollups WHERE tier = 'day' AND count <= 0;

DROP TABLE hour_share;

DROP VIEW view_activity_top10;

-- Exact top 10 per window, tier, account and metric (account '*' is the organisation),
-- computed from the complete rollups (and, for the minute tier's api, principal and
-- source_ip, from the recent events) so a late event is reflected at once.
CREATE VIEW view_activity_top10 AS
WITH rollups AS (
    SELECT tier, window_start, account, metric, item, count
    FROM activity_rollups WHERE metric <> 'total'
    UNION ALL
    -- A day is its day rows plus its hour rows not folded into them yet.
    SELECT 'day', window_start - (((window_start % 86400) + 86400) % 86400), account, metric,
           item, count
    FROM activity_rollups WHERE tier = 'hour' AND metric <> 'total'
)
SELECT tier, window_start, account, metric, item, count, rank
FROM (
    SELECT tier, window_start, account, metric, item, count,
           ROW_NUMBER() OVER (PARTITION BY tier, window_start, account, metric
                              ORDER BY count DESC, item) AS rank
    FROM (
        SELECT tier, window_start, account, metric, item, SUM(count) AS count
        FROM rollups GROUP BY tier, window_start, account, metric, item
        UNION ALL
        SELECT tier, window_start, '*', metric, item, SUM(count)
        FROM rollups GROUP BY tier, window_start, metric, item
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
