-- Whether a stored event is a failed console sign-in (ActivityEvent::sign_in_failed:
-- responseElements.ConsoleLogin is Failure, or the sign-in record has an errorMessage), which
-- no other column keeps: the sign_in_failures alarms count failed sign-ins per minute from the
-- stored events (issue 16). NULL on rows written before this migration: they read as not
-- failed, unless they carry an error code (as ActivityEvent::sign_in_succeeded decides).
ALTER TABLE activity_events ADD COLUMN sign_in_failed BOOLEAN;
