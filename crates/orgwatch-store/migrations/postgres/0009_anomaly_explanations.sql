-- Every alarm says what grew and against what (issue 16): the detector that raised it
-- ('forest' or 'count'), the calls observed and expected over the window that alarmed
-- (window_minutes long), and the principal, API, source IP and region of the calls.
-- NULL on scores that are not alarms and on rows written before this migration.
ALTER TABLE activity_anomalies ADD COLUMN kind TEXT;
ALTER TABLE activity_anomalies ADD COLUMN observed BIGINT;
ALTER TABLE activity_anomalies ADD COLUMN expected DOUBLE PRECISION;
ALTER TABLE activity_anomalies ADD COLUMN window_minutes BIGINT;
ALTER TABLE activity_anomalies ADD COLUMN principal TEXT;
ALTER TABLE activity_anomalies ADD COLUMN api TEXT;
ALTER TABLE activity_anomalies ADD COLUMN source_ip TEXT;
ALTER TABLE activity_anomalies ADD COLUMN region TEXT;
