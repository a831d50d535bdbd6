-- A counter of the transactions that stored events (each adds 1): a web server polls it,
-- with max_event_time and scored_until, to learn that another process stored events (the
-- newest event time alone misses a batch of late events). PostgreSQL servers are told at
-- once by NOTIFY orgwatch_activity, sent in the same transaction.
ALTER TABLE activity_state ADD COLUMN stored_batches BIGINT NOT NULL DEFAULT 0;
