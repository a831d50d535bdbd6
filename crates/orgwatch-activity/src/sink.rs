//! [`Sink`]: where the decoder puts what it reads, so one decoder feeds the triage
//! [`Report`](crate::Report), the window engine and the store alike.

use crate::report::Report;
use orgwatch_model::ActivityEvent;

/// Receives decoded records, one call per record, in input order.
pub trait Sink {
    /// A record decoded into an event.
    fn event(&mut self, ev: ActivityEvent);
    /// A record that could not be decoded, and why.
    fn undecodable(&mut self, reason: String);
    /// A record longer than the record-size limit, skipped unread (an undecodable record
    /// too), and where it was.
    fn oversized(&mut self, reason: String) {
        self.undecodable(reason);
    }
    /// A record or file recognised and left out (`digest`, `insight`, `eventbridge-other`).
    fn skipped(&mut self, kind: &str);
}

impl Sink for Report {
    fn event(&mut self, ev: ActivityEvent) {
        self.add(&ev);
    }
    fn undecodable(&mut self, reason: String) {
        self.add_undecodable(reason);
    }
    fn oversized(&mut self, reason: String) {
        self.add_oversized(reason);
    }
    fn skipped(&mut self, kind: &str) {
        self.add_skipped(kind);
    }
}

/// The decoded events of one input kept in memory, with the triage counts of the input (so a
/// file can be stored all or nothing, and reported on).
#[derive(Debug, Default)]
pub struct Buffered {
    /// Events in input order.
    pub events: Vec<ActivityEvent>,
    /// Counts of everything read, events included.
    pub report: Report,
}

impl Sink for Buffered {
    fn event(&mut self, ev: ActivityEvent) {
        self.report.add(&ev);
        self.events.push(ev);
    }
    fn undecodable(&mut self, reason: String) {
        self.report.add_undecodable(reason);
    }
    fn oversized(&mut self, reason: String) {
        self.report.add_oversized(reason);
    }
    fn skipped(&mut self, kind: &str) {
        self.report.add_skipped(kind);
    }
}
