//! An SQS queue of S3 event notifications as a source, for snapshots (`ingest`) or
//! CloudTrail files (`activity`); for `activity`, also of EventBridge CloudTrail events.
//!
//! - A message is deleted only after what it names is committed: its snapshot loaded and
//!   moved to `loaded/` (or quarantined in `failed/` with its reason), or its CloudTrail
//!   file's last chunk stored (the ledger has it). A run killed before that leaves the
//!   message on the queue; it comes back when its visibility ends, and the store recognises
//!   what was committed already (same SHA-256; events de-duplicated, the file in the ledger).
//! - While a message's file is worked on, its visibility is extended every half period, so a
//!   slow load is never handed to a second reader.
//! - A message whose object cannot be read (gone, denied) is made visible again after a
//!   back-off and received again; after the queue's `maxReceiveCount` receives SQS moves it
//!   to the dead-letter queue of its redrive policy. A queue without one keeps it.
//! - `s3:TestEvent`, removals, and objects that are not this source's kind (or already in
//!   the ledger) are deleted at once. A body that is not a notification is reported on
//!   stderr, recorded in the database as a failure (`sqs:MESSAGE_ID`), and quarantined: sent
//!   to the dead-letter queue with its reason in the `orgwatch-reason` attribute, then
//!   deleted (without a dead-letter queue, deleted once recorded). So is an EventBridge event
//!   of another kind, a CloudTrail event on a queue of snapshots, and a CloudTrail event
//!   whose record does not decode (a message, unlike a file, is gone once deleted).
//! - EventBridge CloudTrail events (an EventBridge rule targeting the queue: one API call,
//!   sign-in or service event per message) of one received batch become one item: a spooled
//!   log file `{"Records": [...]}` of their records, named `sqs-events:QUEUE/FIRST_MESSAGE_ID`
//!   in the ledger. Its messages are deleted once it is committed, like a file's; redelivered
//!   after a crash, its events are found stored already (de-duplication) and count nothing.

use super::claim::LogClaimer;
use super::remote::{is_loaded, mark_loaded, quarantine, split_data, Spool};
use super::s3::{is_cloudtrail_key, object_name};
use super::{Found, Input, Item, Outcome, Receipt, Source};
use anyhow::{Context, Result};
use orgwatch_collect::remote::notification::{self, Notification};
use orgwatch_collect::remote::s3::Bucket;
use orgwatch_collect::remote::sqs::{Message, Queue};
use orgwatch_collect::remote::S3Url;
use orgwatch_collect::SdkConfig;
use orgwatch_model::ActivityEvent;
use orgwatch_store::Store;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::OnceCell;

/// What the queue's notifications are about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A360 snapshots (`…/data/{account}/…`).
    Snapshots,
    /// CloudTrail log files.
    Logs,
}

/// How the queue is read.
#[derive(Clone, Debug)]
pub struct SqsOptions {
    /// Long-polling wait of each receive (at most 20 s).
    pub wait: Duration,
    /// How long a received message stays invisible; extended every half of it while its
    /// file is worked on.
    pub visibility: Duration,
    /// Keep receiving until stopped; otherwise stop at the first empty receive.
    pub follow: bool,
}

/// A message being worked on.
struct InFlight {
    receipt: String,
    /// How many times it was received, this time included.
    receives: u32,
    /// Its items not acknowledged yet.
    remaining: usize,
    heartbeat: tokio::task::JoinHandle<()>,
}

/// What an item given to the reader is.
enum What {
    /// An object a notification named.
    Object {
        /// Its bucket.
        bucket: String,
        /// Its key.
        key: String,
    },
    /// The records of a batch's EventBridge CloudTrail events, spooled as one log file.
    Events,
}

/// An item given to the reader: what it is and the messages that named it.
struct Given {
    what: What,
    messages: Vec<String>,
    spool: PathBuf,
}

/// What a message asks of the source.
enum Wanted {
    /// Nothing to read (a test event, a removal, a file read already): delete it.
    Nothing,
    /// Quarantined (and deleted) already.
    Quarantined,
    /// Objects to read: (bucket, key).
    Objects(Vec<(String, String)>),
    /// A CloudTrail record, read with the batch's other events.
    Event(Map<String, Value>),
}

/// The prefix of the ledger name of a batch's EventBridge CloudTrail events.
pub const EVENTS_PREFIX: &str = "sqs-events:";

/// Why a CloudTrail record an EventBridge event carries would not decode, if it would not:
/// the activity decoder's own rule ([`ActivityEvent::from_cloudtrail`]). Insight events are
/// fine: the decoder counts them as skipped, as in a log file.
pub fn undecodable(record: &Map<String, Value>) -> Option<String> {
    let insight = record.get("eventCategory").and_then(Value::as_str) == Some("Insight")
        || record.contains_key("insightDetails");
    if insight {
        return None;
    }
    ActivityEvent::from_cloudtrail(record)
        .err()
        .map(|e| e.to_string())
}

/// A queue of S3 notifications.
pub struct SqsSource {
    queue: Queue,
    config: SdkConfig,
    kind: Kind,
    store: Store,
    opts: SqsOptions,
    spool: Spool,
    buckets: Mutex<HashMap<String, Bucket>>,
    in_flight: Mutex<HashMap<String, InFlight>>,
    given: Mutex<HashMap<Arc<str>, Given>>,
    dead_letter: OnceCell<Option<String>>,
}

/// A poisoned lock (a panicking thread) as an error.
fn poisoned<T>(_: T) -> anyhow::Error {
    anyhow::anyhow!("a lock of the SQS source was poisoned")
}

/// Seconds before a message whose object could not be read is received again: from 2 s,
/// doubling with each receive, at most 512 s.
fn back_off(receives: u32) -> i32 {
    1i32 << receives.clamp(1, 10).min(9)
}

impl SqsSource {
    /// The queue at `url`, reached with `config`; failures are recorded in `store`.
    pub fn new(
        config: &SdkConfig,
        url: &str,
        kind: Kind,
        store: Store,
        opts: SqsOptions,
    ) -> Result<SqsSource> {
        Ok(SqsSource {
            queue: Queue::new(config, url),
            config: config.clone(),
            kind,
            store,
            opts,
            spool: Spool::new()?,
            buckets: Mutex::new(HashMap::new()),
            in_flight: Mutex::new(HashMap::new()),
            given: Mutex::new(HashMap::new()),
            dead_letter: OnceCell::new(),
        })
    }

    fn bucket(&self, name: &str) -> Result<Bucket> {
        let mut b = self.buckets.lock().map_err(poisoned)?;
        Ok(b.entry(name.to_owned())
            .or_insert_with(|| {
                Bucket::new(
                    &self.config,
                    S3Url {
                        bucket: name.to_owned(),
                        prefix: String::new(),
                    },
                )
            })
            .clone())
    }

    fn visibility(&self) -> i32 {
        i32::try_from(self.opts.visibility.as_secs())
            .unwrap_or(43_200)
            .clamp(1, 43_200)
    }

    /// Keeps `m` invisible while it is worked on.
    fn start(&self, m: &Message, items: usize) -> Result<()> {
        let queue = self.queue.clone();
        let receipt = m.receipt.clone();
        let secs = self.visibility();
        let heartbeat = tokio::spawn(async move {
            let every = Duration::from_secs(u64::try_from(secs).unwrap_or(1)) / 2;
            loop {
                tokio::time::sleep(every).await;
                if let Err(e) = queue.set_visibility(&receipt, secs).await {
                    tracing::warn!(error = %e, "cannot extend a message's visibility");
                }
            }
        });
        self.in_flight.lock().map_err(poisoned)?.insert(
            m.id.clone(),
            InFlight {
                receipt: m.receipt.clone(),
                receives: m.receives,
                remaining: items,
                heartbeat,
            },
        );
        Ok(())
    }

    /// One item of message `id` is committed: the message is deleted with its last.
    async fn done(&self, id: &str) -> Result<()> {
        let finished = {
            let mut f = self.in_flight.lock().map_err(poisoned)?;
            match f.get_mut(id) {
                Some(m) if m.remaining > 1 => {
                    m.remaining -= 1;
                    None
                }
                Some(_) => f.remove(id),
                None => None,
            }
        };
        if let Some(m) = finished {
            m.heartbeat.abort();
            self.queue.delete(&m.receipt).await?;
        }
        Ok(())
    }

    /// Lets go of messages given but never acknowledged (their files taken by another run):
    /// they come back when their visibility ends.
    fn release_leftovers(&self) -> Result<()> {
        for (_, g) in self.given.lock().map_err(poisoned)?.drain() {
            let _ = std::fs::remove_file(&g.spool);
        }
        for (_, m) in self.in_flight.lock().map_err(poisoned)?.drain() {
            m.heartbeat.abort();
        }
        Ok(())
    }

    /// The dead-letter queue's URL (from the redrive policy), asked once.
    async fn dead_letter(&self) -> Result<Option<String>> {
        let url = self
            .dead_letter
            .get_or_try_init(|| async {
                let Some(r) = self.queue.redrive().await? else {
                    return Ok::<_, anyhow::Error>(None);
                };
                Ok(Some(self.queue.url_of(&r.dead_letter_arn).await?))
            })
            .await?;
        Ok(url.clone())
    }

    /// Quarantines a message that is not a notification.
    async fn malformed(&self, m: &Message, reason: &str) -> Result<()> {
        let name = format!("sqs:{}", m.id);
        orgwatch_store::Store::retry_transient(|| self.store.record_failure(&name, None, reason))
            .await
            .with_context(|| {
                format!(
                    "cannot record the failure of message {} (it stays on the queue)",
                    m.id
                )
            })?;
        let dlq = self.dead_letter().await?;
        if let Some(dlq) = &dlq {
            self.queue.send_with_reason(dlq, &m.body, reason).await?;
        }
        self.queue.delete(&m.receipt).await?;
        let whither = if dlq.is_some() {
            "moved to the dead-letter queue"
        } else {
            "deleted (the queue has no dead-letter queue)"
        };
        eprintln!("orgwatch: message {} is {reason}; {whither}", m.id);
        tracing::warn!(message = %m.id, %reason, "malformed message quarantined");
        Ok(())
    }

    /// What `m` asks of this source.
    async fn wanted(&self, m: &Message) -> Result<Wanted> {
        let reason = match notification::parse(&m.body) {
            Ok(Notification::Test) => return Ok(Wanted::Nothing),
            Ok(Notification::Created(c)) => return self.objects(c).await,
            Ok(Notification::CloudTrail(record)) => match (self.kind, undecodable(&record)) {
                (Kind::Logs, None) => return Ok(Wanted::Event(record)),
                (Kind::Logs, Some(why)) => {
                    format!("an EventBridge CloudTrail event whose record does not decode: {why}")
                }
                (Kind::Snapshots, _) => "an EventBridge CloudTrail event, not an S3 event \
                    notification: `ingest` reads notifications of snapshots (`activity` reads \
                    CloudTrail events)"
                    .to_owned(),
            },
            Ok(Notification::OtherEvent {
                source,
                detail_type,
            }) => format!(
                "an EventBridge {detail_type:?} event of {source}: neither an S3 event \
                 notification nor a CloudTrail event"
            ),
            Err(e) => e.to_string(),
        };
        self.malformed(m, &reason).await?;
        Ok(Wanted::Quarantined)
    }

    /// The objects of a notification this source reads.
    async fn objects(&self, created: Vec<notification::Created>) -> Result<Wanted> {
        let mut out = Vec::new();
        for c in created {
            let keep = match self.kind {
                Kind::Snapshots => split_data(&c.key).is_some(),
                Kind::Logs => {
                    is_cloudtrail_key(&c.key)
                        && self
                            .store
                            .activity_file_size(&object_name(&c.bucket, &c.key))
                            .await?
                            .is_none_or(|size| Some(size) != c.size)
                }
            };
            if keep {
                out.push((c.bucket, c.key));
            }
        }
        Ok(if out.is_empty() {
            Wanted::Nothing
        } else {
            Wanted::Objects(out)
        })
    }

    /// The item of a batch's CloudTrail records (`(message id, record)`, in the batch's
    /// order): spooled as a log file, named after the queue and the first message.
    fn events_item(&self, events: Vec<(String, Map<String, Value>)>) -> Result<Item> {
        let queue = self.queue.url.rsplit('/').next().unwrap_or_default();
        let name: Arc<str> = Arc::from(format!("{EVENTS_PREFIX}{queue}/{}", events[0].0));
        let (messages, records): (Vec<String>, Vec<Value>) = events
            .into_iter()
            .map(|(id, record)| (id, Value::Object(record)))
            .unzip();
        let body = serde_json::to_vec(&serde_json::json!({ "Records": records }))?;
        let spool = self.spool.file();
        std::fs::write(&spool, &body)
            .with_context(|| format!("cannot write {} to the spool", spool.display()))?;
        self.given.lock().map_err(poisoned)?.insert(
            name.clone(),
            Given {
                what: What::Events,
                messages,
                spool: spool.clone(),
            },
        );
        Ok(Item {
            name,
            size: body.len() as u64,
            input: Input::File(spool),
            // Not claimed or checked against the ledger: nothing else reads this spool file,
            // and a redelivered batch need not have the same messages (de-duplication keeps
            // a second read from counting).
            claimer: None,
        })
    }
}

impl Source for SqsSource {
    async fn poll(&self) -> Result<Option<Found>> {
        self.release_leftovers()?;
        let wait = i32::try_from(self.opts.wait.as_secs())
            .unwrap_or(20)
            .clamp(0, 20);
        let messages = self.queue.receive(wait, self.visibility()).await?;
        if messages.is_empty() {
            return Ok(if self.opts.follow {
                Some(Found::default())
            } else {
                None
            });
        }
        let mut found = Found::default();
        let mut order: Vec<Arc<str>> = Vec::new();
        let mut events = Vec::new();
        for m in &messages {
            let objects = match self.wanted(m).await? {
                Wanted::Nothing => {
                    self.queue.delete(&m.receipt).await?;
                    found.already += 1;
                    continue;
                }
                Wanted::Quarantined => {
                    found.already += 1;
                    continue;
                }
                Wanted::Event(record) => {
                    self.start(m, 1)?;
                    events.push((m.id.clone(), record));
                    continue;
                }
                Wanted::Objects(objects) => objects,
            };
            self.start(m, objects.len())?;
            for (bucket_name, key) in objects {
                let name: Arc<str> = match self.kind {
                    Kind::Snapshots => Arc::from(split_data(&key).map_or(key.as_str(), |(_, r)| r)),
                    Kind::Logs => Arc::from(object_name(&bucket_name, &key)),
                };
                {
                    // The same object named twice in one batch (a repeated notification)
                    // is read once; both messages go with it.
                    let mut given = self.given.lock().map_err(poisoned)?;
                    if let Some(g) = given.get_mut(&name) {
                        g.messages.push(m.id.clone());
                        continue;
                    }
                    given.insert(
                        name.clone(),
                        Given {
                            what: What::Object {
                                bucket: bucket_name,
                                key,
                            },
                            messages: vec![m.id.clone()],
                            spool: self.spool.file(),
                        },
                    );
                }
                order.push(name);
            }
        }
        let claimer = match self.kind {
            Kind::Logs => Some(LogClaimer::new(self.store.clone())),
            Kind::Snapshots => None,
        };
        for name in order {
            let (bucket_name, key, spool, ids) = {
                let g = self.given.lock().map_err(poisoned)?;
                let g = g.get(&name).context("an item given vanished")?;
                let What::Object { bucket, key } = &g.what else {
                    anyhow::bail!("{name} was given as an object, but is not one");
                };
                (
                    bucket.clone(),
                    key.clone(),
                    g.spool.clone(),
                    g.messages.clone(),
                )
            };
            let bucket = self.bucket(&bucket_name)?;
            let got = bucket.download(&key, &spool).await;
            let failure = match got {
                Ok(Some(size)) => {
                    found.items.push(Item {
                        name: name.clone(),
                        size: if self.kind == Kind::Logs { size } else { 0 },
                        input: Input::File(spool),
                        claimer: claimer.clone(),
                    });
                    continue;
                }
                // Moved to loaded/ by another run, or by this one before a crash.
                Ok(None) if self.kind == Kind::Snapshots && is_loaded(&bucket, &key).await? => None,
                Ok(None) => Some(format!(
                    "{} does not exist",
                    object_name(&bucket_name, &key)
                )),
                Err(e) => Some(format!("{e:#}")),
            };
            self.given.lock().map_err(poisoned)?.remove(&name);
            // Counted as skipped: nothing to read now.
            found.already += 1;
            for id in ids {
                match &failure {
                    None => self.done(&id).await?,
                    Some(reason) => self.retry_later(&id, reason).await?,
                }
            }
        }
        if !events.is_empty() {
            found.items.push(self.events_item(events)?);
        }
        Ok(Some(found))
    }

    async fn ack(&self, item: &Receipt, outcome: &Outcome) -> Result<()> {
        let Some(given) = self.given.lock().map_err(poisoned)?.remove(&item.name) else {
            return Ok(());
        };
        let _ = std::fs::remove_file(&given.spool);
        match (&given.what, self.kind, outcome) {
            (What::Object { bucket, key }, Kind::Snapshots, Outcome::Done) => {
                mark_loaded(&self.bucket(bucket)?, key).await?;
            }
            (What::Object { bucket, key }, Kind::Snapshots, Outcome::Failed(reason)) => {
                quarantine(&self.bucket(bucket)?, key, reason).await?;
            }
            (_, Kind::Logs, Outcome::Failed(reason)) => {
                self.store
                    .activity_file_failed(&item.name, item.size, reason)
                    .await?;
                if let What::Events = given.what {
                    // The spool is this run's own file: whatever broke it, the messages are
                    // the events' only copy. They come back (to the dead-letter queue after
                    // maxReceiveCount) rather than being deleted.
                    for id in &given.messages {
                        self.retry_later(id, reason).await?;
                    }
                    return Ok(());
                }
            }
            (What::Events, Kind::Snapshots, _) | (_, Kind::Logs, Outcome::Done) => {}
        }
        for id in &given.messages {
            self.done(id).await?;
        }
        Ok(())
    }
}

impl SqsSource {
    /// A message whose object could not be read: visible again after a back-off, so SQS
    /// counts its receives and moves it to the dead-letter queue after `maxReceiveCount`.
    async fn retry_later(&self, id: &str, reason: &str) -> Result<()> {
        let Some(m) = self.in_flight.lock().map_err(poisoned)?.remove(id) else {
            return Ok(());
        };
        m.heartbeat.abort();
        let receives = m.receives;
        eprintln!("orgwatch: message {id} (received {receives} times): {reason}; it will be received again");
        tracing::warn!(message = %id, receives, %reason, "message not processed");
        self.queue
            .set_visibility(&m.receipt, back_off(receives))
            .await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_eventbridge_record_is_refused_when_the_decoder_would_refuse_it() {
        for (i, record) in orgwatch_test_support::cloudtrail::records()
            .iter()
            .enumerate()
        {
            let record = record.as_object().unwrap();
            assert_eq!(undecodable(record), None, "sample record {i}");
        }
        let record = |v: serde_json::Value| v.as_object().unwrap().clone();
        let call = serde_json::json!({"eventTime": "2026-12-04T05:00:00Z",
            "eventSource": "s3.amazonaws.com", "eventName": "PutObject", "eventID": "e1"});
        assert_eq!(undecodable(&record(call.clone())), None);
        let mut no_time = call.clone();
        no_time.as_object_mut().unwrap().remove("eventTime");
        let why = undecodable(&record(no_time)).unwrap();
        assert!(why.contains("eventTime"), "{why}");
        let mut bad_time = call.clone();
        bad_time["eventTime"] = "yesterday".into();
        let why = undecodable(&record(bad_time)).unwrap();
        assert!(why.contains("yesterday"), "{why}");
        // Insight events are skipped by the decoder and counted, as in a log file.
        let insight = serde_json::json!({"eventCategory": "Insight", "eventVersion": "1.08"});
        assert_eq!(undecodable(&record(insight)), None);
    }

    #[test]
    fn a_failing_message_backs_off_doubling_up_to_about_eight_minutes() {
        assert_eq!(back_off(0), 2);
        assert_eq!(back_off(1), 2);
        assert_eq!(back_off(3), 8);
        assert_eq!(back_off(9), 512);
        assert_eq!(back_off(50), 512);
    }
}
