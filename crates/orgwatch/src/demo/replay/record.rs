//! A synthetic call as the CloudTrail record AWS would have logged, and a reader that writes
//! a stretch of calls as NDJSON, one minute at a time, for the activity pipeline's decoder.

use super::catalog;
use super::traffic::{Call, Identity, Traffic};
use serde_json::{json, Value};
use std::io::{BufRead, Read};
use std::sync::Arc;

/// The CloudTrail record of `call`.
pub fn record(traffic: &Traffic, call: &Call) -> Value {
    let plan = &traffic.accounts[call.account];
    let caller = &plan.callers[call.caller];
    let account = plan.id.as_str();
    let user_identity = match &caller.identity {
        Identity::Role { role, session } => json!({
            "type": "AssumedRole",
            "principalId": format!("AROA{}:{session}", key_id(role)),
            "arn": format!("arn:aws:sts::{account}:assumed-role/{role}/{session}"),
            "accountId": account,
            "sessionContext": {
                "sessionIssuer": {
                    "type": "Role",
                    "principalId": format!("AROA{}", key_id(role)),
                    "arn": format!("arn:aws:iam::{account}:role/{role}"),
                    "accountId": account,
                    "userName": role,
                },
                "attributes": {"mfaAuthenticated": "false"},
            },
        }),
        Identity::User(name) => json!({
            "type": "IAMUser",
            "principalId": format!("AIDA{}", key_id(name)),
            "arn": format!("arn:aws:iam::{account}:user/{name}"),
            "accountId": account,
            "userName": name,
        }),
        Identity::Service(host) => json!({"type": "AWSService", "invokedBy": host}),
    };
    let time = time::OffsetDateTime::from_unix_timestamp(call.time)
        .map(|t| {
            let (d, t) = (t.date(), t.time());
            format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                d.year(),
                u8::from(d.month()),
                d.day(),
                t.hour(),
                t.minute(),
                t.second()
            )
        })
        .unwrap_or_default();
    let mut r = json!({
        "eventVersion": "1.09",
        "userIdentity": user_identity,
        "eventTime": time,
        "eventSource": call.api.source,
        "eventName": call.api.name,
        "awsRegion": call.region,
        "sourceIPAddress": caller.source_ip,
        "userAgent": caller.user_agent,
        "requestParameters": null,
        "responseElements": null,
        "requestID": &call.event_id[..23],
        "eventID": call.event_id,
        "readOnly": call.api.read_only,
        "eventType": "AwsApiCall",
        "managementEvent": true,
        "recipientAccountId": account,
        "eventCategory": "Management",
    });
    if catalog::is_sign_in(&call.api) {
        // As CloudTrail logs a sign-in: its own event type, the outcome in the response, a
        // failure without an error code.
        r["eventType"] = json!("AwsConsoleSignIn");
        let outcome = if call.error.is_some() {
            "Failure"
        } else {
            "Success"
        };
        r["responseElements"] = json!({ "ConsoleLogin": outcome });
        r["additionalEventData"] = json!({ "MFAUsed": "Yes", "MobileVersion": "No" });
        if call.error.is_some() {
            r["errorMessage"] = json!("Failed authentication");
        }
    } else if let Some(code) = call.error {
        r["errorCode"] = json!(code);
        r["errorMessage"] = json!(format!("{code}: the synthetic call was refused"));
    }
    r
}

/// A stable 17-character id of a name (the part after `AROA`/`AIDA`).
fn key_id(name: &str) -> String {
    use sha2::Digest;
    let digest = sha2::Sha256::digest(name.as_bytes());
    digest
        .iter()
        .take(17)
        .map(|b| char::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"[usize::from(b % 32)]))
        .collect()
}

/// The calls of `[from, to)` (seconds since the epoch) as NDJSON, generated a minute at a
/// time as they are read: a backfill of hours holds one minute in memory, not all of it.
pub struct NdjsonCalls {
    traffic: Arc<Traffic>,
    next_minute: i64,
    from: i64,
    to: i64,
    buf: Vec<u8>,
    pos: usize,
}

impl NdjsonCalls {
    /// The calls of `traffic` with event time in `[from, to)`.
    pub fn new(traffic: Arc<Traffic>, from: i64, to: i64) -> NdjsonCalls {
        NdjsonCalls {
            traffic,
            next_minute: from.div_euclid(60),
            from,
            to,
            buf: Vec::new(),
            pos: 0,
        }
    }

    /// Fills the buffer with the next minute that has calls; false when none is left.
    fn refill(&mut self) -> bool {
        while self.pos >= self.buf.len() {
            if self.next_minute * 60 >= self.to {
                return false;
            }
            self.buf.clear();
            self.pos = 0;
            for call in self.traffic.minute(self.next_minute) {
                if call.time >= self.from && call.time < self.to {
                    // Writing JSON into a vector cannot fail.
                    let _ = serde_json::to_writer(&mut self.buf, &record(&self.traffic, &call));
                    self.buf.push(b'\n');
                }
            }
            self.next_minute += 1;
        }
        true
    }
}

impl Read for NdjsonCalls {
    fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(out.len());
        out[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for NdjsonCalls {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        if !self.refill() {
            return Ok(&[]);
        }
        Ok(&self.buf[self.pos..])
    }

    fn consume(&mut self, amount: usize) {
        self.pos = (self.pos + amount).min(self.buf.len());
    }
}

#[cfg(test)]
mod tests {
    use super::super::traffic::Bursts;
    use super::*;
    use crate::demo::generate::DemoOptions;
    use orgwatch_activity::Report;
    use orgwatch_model::Region;

    #[test]
    fn the_decoder_reads_every_call_as_generated() {
        let opts = DemoOptions {
            accounts: 3,
            days: 2,
            seed: 3,
            end_date: time::macros::date!(2026 - 11 - 24),
            regions: vec![
                Region::parse("eu-west-1").unwrap(),
                Region::parse("eu-central-1").unwrap(),
            ],
        };
        let traffic = Arc::new(Traffic::new(&opts, Bursts::default()));
        let (from, to) = (1_764_000_000 + 13, 1_764_000_000 + 20 * 60 + 7);
        let calls: Vec<Call> = traffic.calls(from, to).collect();
        let report: Report =
            orgwatch_activity::decode_reader(NdjsonCalls::new(traffic.clone(), from, to)).unwrap();
        assert_eq!(report.events, calls.len() as u64);
        assert_eq!(report.undecodable, 0);
        let json = report.to_json();
        for call in calls.iter().take(50) {
            let plan = &traffic.accounts[call.account];
            let principal = plan.callers[call.caller].identity.principal();
            assert!(
                json["by_principal"][&principal].as_u64().unwrap() > 0,
                "{principal}"
            );
            let api = format!("{}:{}", call.api.source, call.api.name);
            assert!(json["by_api"][&api].as_u64().unwrap() > 0, "{api}");
        }
        let failed = calls.iter().filter(|c| c.error.is_some()).count() as u64;
        let by_error: u64 = json["by_error_code"]
            .as_object()
            .unwrap()
            .values()
            .map(|v| v.as_u64().unwrap())
            .sum();
        assert_eq!(by_error, failed);
    }
}
