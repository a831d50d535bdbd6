-- The anomaly detector, one row per scope (detector state format 4): a checkpoint writes the
-- scopes one after another and a restart reads them back, so the whole compressed detector
-- (tens of megabytes once its forests are full) is never held in memory at once, by the
-- process or by this database's client. activity_state.detector keeps the header
-- (configuration and counters); a state saved before holds the whole detector there and is
-- still read.
CREATE TABLE activity_detector_scopes (
    name TEXT NOT NULL,
    scope TEXT NOT NULL,
    state BLOB NOT NULL,
    PRIMARY KEY (name, scope)
);
