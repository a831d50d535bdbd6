//! An SQS queue of S3 event notifications as a source, for snapshots (`ingest`) or
//! CloudTrail files (`activity`).
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
//!   deleted (without a dead-letter queue, deleted once recorded).

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
use orgwatch_store::Store;
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
    /// Its items not acknowledged yet.
    remaining: usize,
    heartbeat: tokio::task::JoinHandle<()>,
}

/// An item given to the reader: the object and the messages that named it.
struct Given {
    bucket: String,
    key: String,
    messages: Vec<String>,
    spool: PathBuf,
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

    /// The objects of `m` this source reads, or `None` when the message is to be deleted.
    async fn wanted(&self, m: &Message) -> Result<Option<Vec<(String, String)>>> {
        let created = match notification::parse(&m.body) {
            Ok(Notification::Test) => return Ok(None),
            Ok(Notification::Created(c)) => c,
            Err(e) => {
                self.malformed(m, &e.to_string()).await?;
                return Ok(None);
            }
        };
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
        Ok((!out.is_empty()).then_some(out))
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
        for m in &messages {
            let Some(objects) = self.wanted(m).await? else {
                self.queue.delete(&m.receipt).await?;
                found.already += 1;
                continue;
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
                            bucket: bucket_name,
                            key,
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
                (
                    g.bucket.clone(),
                    g.key.clone(),
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
                    Some(reason) => self.retry_later(&id, reason, &messages).await?,
                }
            }
        }
        Ok(Some(found))
    }

    async fn ack(&self, item: &Receipt, outcome: &Outcome) -> Result<()> {
        let Some(given) = self.given.lock().map_err(poisoned)?.remove(&item.name) else {
            return Ok(());
        };
        let _ = std::fs::remove_file(&given.spool);
        match (self.kind, outcome) {
            (Kind::Snapshots, Outcome::Done) => {
                mark_loaded(&self.bucket(&given.bucket)?, &given.key).await?;
            }
            (Kind::Snapshots, Outcome::Failed(reason)) => {
                quarantine(&self.bucket(&given.bucket)?, &given.key, reason).await?;
            }
            (Kind::Logs, Outcome::Failed(reason)) => {
                self.store
                    .activity_file_failed(&item.name, item.size, reason)
                    .await?;
            }
            (Kind::Logs, Outcome::Done) => {}
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
    async fn retry_later(&self, id: &str, reason: &str, batch: &[Message]) -> Result<()> {
        let Some(m) = self.in_flight.lock().map_err(poisoned)?.remove(id) else {
            return Ok(());
        };
        m.heartbeat.abort();
        let receives = batch.iter().find(|b| b.id == id).map_or(1, |b| b.receives);
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
    fn a_failing_message_backs_off_doubling_up_to_about_eight_minutes() {
        assert_eq!(back_off(0), 2);
        assert_eq!(back_off(1), 2);
        assert_eq!(back_off(3), 8);
        assert_eq!(back_off(9), 512);
        assert_eq!(back_off(50), 512);
    }
}
