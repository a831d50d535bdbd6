//! The decode stage: input items into chunks of events on their way to the writer. Files are
//! decoded on the worker pool, each decoder reusing its event buffer; a stream (stdin) is
//! read on its own thread, NDJSON line by line.

use crate::source::claim::{Claim, Claimed, LogClaimer};
use crate::source::{Input, Item};
use orgwatch_activity::{
    decode_file_limited, decode_reader_limited, read_line, Line, Report, Sink,
};
use orgwatch_model::ActivityEvent;
use std::future::Future;
use std::io::{BufRead, Read};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Events per chunk: a bigger file is stored in several transactions (memory stays bounded).
pub const CHUNK_EVENTS: usize = 20_000;

/// With `--follow` on a stream, lines waiting longer than this are stored without waiting
/// for more.
const STREAM_FLUSH: Duration = Duration::from_millis(500);

/// One piece of decoded input on its way to the store.
pub enum Msg {
    /// Events of one input (all of a small file, or [`CHUNK_EVENTS`] of a big one).
    Chunk(Box<Chunk>),
    /// An input that could not be read (to its end).
    Failed {
        /// Its name.
        path: Arc<str>,
        /// Its size.
        size: u64,
        /// Why.
        reason: String,
        /// The file's claim, held until the failure is recorded.
        claim: Option<Arc<Claim>>,
    },
    /// A file another run is reading or has read since it was listed: left to it.
    Taken {
        /// Its name and size when the ledger has it read to its end already: its source may
        /// forget it (a queue deletes its message, as for a file this run stored).
        read: Option<(Arc<str>, u64)>,
    },
}

/// Decoded events of one input.
pub struct Chunk {
    /// The input's name (the ledger's key).
    pub path: Arc<str>,
    /// The input's size.
    pub size: u64,
    /// The events, in input order.
    pub events: Vec<ActivityEvent>,
    /// The input's last chunk: it enters the ledger with this one.
    pub complete: bool,
    /// For a file, its events before this chunk (the ledger counts a file's events by
    /// position, so a reread adds none); `None` for a stream.
    pub offset: Option<u64>,
    /// The file's claim, held by each of its chunks until they are stored.
    pub claim: Option<Arc<Claim>>,
    /// Counts of the chunk's records: its undecodable and skipped records, and the rows of
    /// `--report` (of what was read).
    pub report: Report,
}

impl Chunk {
    fn new(path: Arc<str>, size: u64) -> Chunk {
        Chunk {
            path,
            size,
            events: Vec::new(),
            complete: false,
            offset: None,
            claim: None,
            report: Report::new(),
        }
    }
}

/// Collects an input's records into chunks and sends each full one.
struct ChunkSink {
    tx: mpsc::Sender<Msg>,
    path: Arc<str>,
    size: u64,
    chunk: Chunk,
    /// Events collected: moved into an exact-size vector when sent, and reused. A vector
    /// grown by pushing holds up to twice its events' room, for every chunk in flight.
    events: Vec<ActivityEvent>,
    /// For a file: events sent in earlier chunks.
    offset: Option<u64>,
    /// For a claimed file: its claim, given to each chunk.
    claim: Option<Arc<Claim>>,
}

impl ChunkSink {
    /// A sink for one input, collecting into `events` (empty; its room is reused).
    fn new(
        tx: mpsc::Sender<Msg>,
        path: Arc<str>,
        size: u64,
        events: Vec<ActivityEvent>,
    ) -> ChunkSink {
        let chunk = Chunk::new(path.clone(), size);
        ChunkSink {
            tx,
            path,
            size,
            chunk,
            events,
            offset: None,
            claim: None,
        }
    }

    /// The collecting vector, empty, for the next input.
    fn into_buffer(mut self) -> Vec<ActivityEvent> {
        self.events.clear();
        self.events
    }

    /// Sends what is collected (the last chunk of the input when `complete`).
    fn flush(&mut self, complete: bool) {
        let mut chunk =
            std::mem::replace(&mut self.chunk, Chunk::new(self.path.clone(), self.size));
        chunk.events = self.events.drain(..).collect();
        chunk.complete = complete;
        chunk.offset = self.offset;
        chunk.claim = self.claim.clone();
        if let Some(offset) = &mut self.offset {
            *offset += chunk.events.len() as u64;
        }
        if complete || !chunk.events.is_empty() || chunk.report.records() > 0 {
            // A closed channel means the writer stopped (an error it reports itself).
            let _ = self.tx.blocking_send(Msg::Chunk(Box::new(chunk)));
        }
    }
}

impl Sink for ChunkSink {
    fn event(&mut self, ev: ActivityEvent) {
        self.chunk.report.add(&ev);
        self.events.push(ev);
        if self.events.len() >= CHUNK_EVENTS {
            self.flush(false);
        }
    }
    fn undecodable(&mut self, reason: String) {
        self.chunk.report.add_undecodable(reason);
    }
    fn oversized(&mut self, reason: String) {
        self.chunk.report.add_oversized(reason);
    }
    fn skipped(&mut self, kind: &str) {
        self.chunk.report.add_skipped(kind);
    }
}

/// A decoder at work; resolves when it is done (or to its panic).
pub type Decoding = std::pin::Pin<Box<dyn Future<Output = std::thread::Result<()>> + Send>>;

/// Decodes `items` into the channel: files on the worker pool (one decoder per thread, each
/// taking the next file), streams each on a thread of its own (a stream may wait for input
/// indefinitely and must not hold a pool thread). `follow` stores a quiet stream's lines
/// without waiting for more; records (and lines) longer than `max` bytes are skipped.
pub fn spawn(items: Vec<Item>, tx: &mpsc::Sender<Msg>, follow: bool, max: usize) -> Vec<Decoding> {
    let mut files = Vec::new();
    let mut decoding: Vec<Decoding> = Vec::new();
    for item in items {
        match item.input {
            Input::File(path) => files.push((item.name, path, item.size, item.claimer)),
            Input::Stream(stream) => {
                let (tx, name) = (tx.clone(), item.name);
                let (done_tx, done) = tokio::sync::oneshot::channel();
                std::thread::spawn(move || {
                    let out = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                        read_stream(name, stream, &tx, follow, max)
                    }));
                    let _ = done_tx.send(out);
                });
                decoding.push(Box::pin(async move {
                    done.await.unwrap_or_else(|e| Err(Box::new(e.to_string())))
                }));
            }
        }
    }
    let pool = crate::pool::get();
    let files = Arc::new(files);
    let next = Arc::new(AtomicUsize::new(0));
    for _ in 0..pool.threads().min(files.len()) {
        let (files, next, tx) = (files.clone(), next.clone(), tx.clone());
        decoding.push(Box::pin(pool.run(move || {
            let mut events = Vec::new();
            while let Some((name, path, size, claimer)) =
                files.get(next.fetch_add(1, Ordering::Relaxed))
            {
                events = decode_file(name, path, *size, claimer.as_ref(), &tx, events, max);
            }
        })));
    }
    decoding
}

/// Decodes one file into the channel, collecting into `events`; returns it for the next.
/// With a `claimer`, the file is claimed first, and left alone if another run has it.
fn decode_file(
    name: &Arc<str>,
    path: &Path,
    size: u64,
    claimer: Option<&LogClaimer>,
    tx: &mpsc::Sender<Msg>,
    events: Vec<ActivityEvent>,
    max: usize,
) -> Vec<ActivityEvent> {
    let claim = match claimer.map(|c| c.claim(name, path, size)) {
        None => None,
        Some(Ok(Claimed::Mine(claim))) => Some(Arc::new(claim)),
        Some(Ok(Claimed::Busy | Claimed::Gone)) => {
            let _ = tx.blocking_send(Msg::Taken { read: None });
            return events;
        }
        Some(Ok(Claimed::Read)) => {
            let _ = tx.blocking_send(Msg::Taken {
                read: Some((name.clone(), size)),
            });
            return events;
        }
        Some(Err(e)) => {
            let _ = tx.blocking_send(Msg::Failed {
                path: name.clone(),
                size,
                reason: format!("cannot claim the file: {e:#}"),
                claim: None,
            });
            return events;
        }
    };
    let mut sink = ChunkSink::new(tx.clone(), name.clone(), size, events);
    sink.offset = Some(0);
    sink.claim = claim.clone();
    match decode_file_limited(path, max, &mut sink) {
        Ok(()) => sink.flush(true),
        Err(e) => {
            // Records before the failure (an incomplete file) are stored with the chunks
            // sent before, each counted once; the file is recorded in the ledger with the
            // error at its size, so it is read again when it changes.
            sink.flush(false);
            let _ = tx.blocking_send(Msg::Failed {
                path: name.clone(),
                size,
                reason: e.to_string(),
                claim,
            });
        }
    }
    sink.into_buffer()
}

/// Reads a stream: NDJSON line by line (stored every [`CHUNK_EVENTS`] lines, or after a
/// pause of [`STREAM_FLUSH`] with `follow`), anything else as one streamed document. A read
/// error ends the stream and is sent as its failure, after what was read before it. No more
/// than `max` bytes of a line are held: a longer line is skipped and counted as oversized
/// (and a first line that long is read as a document, whose records are framed).
pub fn read_stream(
    name: Arc<str>,
    mut stream: Box<dyn BufRead + Send>,
    tx: &mpsc::Sender<Msg>,
    follow: bool,
    max: usize,
) {
    let failed = |reason: String| {
        let _ = tx.blocking_send(Msg::Failed {
            path: name.clone(),
            size: 0,
            reason,
            claim: None,
        });
    };
    let mut first = Vec::new();
    // The first non-empty line decides the form; at most `max` bytes of it are read here.
    loop {
        first.clear();
        match (&mut stream)
            .take(max as u64 + 1)
            .read_until(b'\n', &mut first)
        {
            Ok(0) => return,
            Ok(_) if first.trim_ascii().is_empty() => continue,
            Ok(_) => break,
            Err(e) => return failed(format!("cannot read: {e}")),
        }
    }
    let whole_line = first.ends_with(b"\n") || first.len() <= max;
    let ndjson =
        whole_line && serde_json::from_slice::<serde_json::Value>(first.trim_ascii()).is_ok();
    if ndjson {
        if let Err(e) = ndjson_lines(&name, first, stream, tx.clone(), follow, max) {
            failed(format!("cannot read: {e}"));
        }
    } else {
        let mut sink = ChunkSink::new(tx.clone(), name.clone(), 0, Vec::new());
        let whole = std::io::Cursor::new(first).chain(stream);
        if let Err(e) = decode_reader_limited(whole, max, &mut sink) {
            failed(e.to_string());
        }
        sink.flush(false);
    }
}

/// A line of a stream on its way to be decoded.
enum StreamLine {
    /// Its bytes.
    Text(Vec<u8>),
    /// A line longer than the limit, skipped: its length.
    Oversized(u64),
}

/// Decodes NDJSON lines in groups: a group is stored when it is full, or (with `follow`)
/// when no new line came for [`STREAM_FLUSH`], so a quiet stream is not held back. Returns
/// the read error that ended the stream, if one did (after its lines are sent).
fn ndjson_lines(
    name: &Arc<str>,
    first: Vec<u8>,
    mut stream: Box<dyn BufRead + Send>,
    tx: mpsc::Sender<Msg>,
    follow: bool,
    max: usize,
) -> std::io::Result<()> {
    let (lines_tx, lines_rx) = std::sync::mpsc::sync_channel::<StreamLine>(CHUNK_EVENTS);
    let name = name.clone();
    let grouper = std::thread::spawn(move || group_lines(&name, lines_rx, tx, follow, max));
    let mut line = StreamLine::Text(first);
    let mut ended = Ok(());
    loop {
        if lines_tx.send(line).is_err() {
            break;
        }
        let mut text = Vec::new();
        line = match read_line(&mut stream, &mut text, max) {
            Ok(Line::End) => break,
            Ok(Line::Read) => StreamLine::Text(text),
            Ok(Line::Oversized(len)) => StreamLine::Oversized(len),
            Err(e) => {
                ended = Err(e);
                break;
            }
        };
    }
    drop(lines_tx);
    if let Err(p) = grouper.join() {
        std::panic::resume_unwind(p);
    }
    ended
}

/// Decodes lines from `lines` in groups (see [`ndjson_lines`]).
fn group_lines(
    name: &Arc<str>,
    lines: std::sync::mpsc::Receiver<StreamLine>,
    tx: mpsc::Sender<Msg>,
    follow: bool,
    max: usize,
) {
    let mut group = Vec::new();
    let mut count = 0;
    // Lines skipped for their length since the last flush.
    let mut oversized: Vec<u64> = Vec::new();
    let flush = |group: &mut Vec<u8>, oversized: &mut Vec<u64>| {
        let mut sink = ChunkSink::new(tx.clone(), name.clone(), 0, Vec::new());
        for len in oversized.drain(..) {
            sink.oversized(format!(
                "a line of {len} bytes, longer than the limit of {max} (--max-record-bytes)"
            ));
        }
        // NDJSON input never fails as a whole: a bad line is one undecodable record. Blank
        // lines are no records (not an empty input).
        if !group.trim_ascii().is_empty() {
            let _ = decode_reader_limited(&group[..], max, &mut sink);
        }
        sink.flush(false);
        group.clear();
    };
    let wait = if follow {
        STREAM_FLUSH
    } else {
        Duration::from_secs(3600)
    };
    loop {
        match lines.recv_timeout(wait) {
            Ok(StreamLine::Text(line)) => {
                group.extend_from_slice(&line);
                if !line.ends_with(b"\n") {
                    group.push(b'\n');
                }
                count += 1;
                if count >= CHUNK_EVENTS {
                    flush(&mut group, &mut oversized);
                    count = 0;
                }
            }
            Ok(StreamLine::Oversized(len)) => oversized.push(len),
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => {
                if !group.is_empty() || !oversized.is_empty() {
                    flush(&mut group, &mut oversized);
                    count = 0;
                }
            }
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => break,
        }
    }
    if !group.is_empty() || !oversized.is_empty() {
        flush(&mut group, &mut oversized);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Gives its bytes, then fails.
    struct Failing(std::io::Cursor<Vec<u8>>);

    impl Read for Failing {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            match self.0.read(buf)? {
                0 => Err(std::io::Error::other("the disk went away")),
                n => Ok(n),
            }
        }
    }

    #[test]
    fn a_read_error_in_the_middle_of_a_stream_is_sent_after_its_lines() {
        let line = br#"{"eventVersion":"1.08","eventTime":"2024-03-01T10:00:00Z","eventSource":"s3.amazonaws.com","eventName":"GetObject","awsRegion":"us-east-1","eventID":"e1","recipientAccountId":"111111111111","userIdentity":{"type":"IAMUser"}}"#;
        let mut bytes = line.to_vec();
        bytes.push(b'\n');
        let stream = std::io::BufReader::new(Failing(std::io::Cursor::new(bytes)));
        let (tx, mut rx) = mpsc::channel(16);
        read_stream(
            Arc::from("(stdin)"),
            Box::new(stream),
            &tx,
            false,
            orgwatch_activity::DEFAULT_MAX_RECORD_BYTES,
        );
        drop(tx);
        let mut events = 0;
        let mut failure = None;
        while let Some(msg) = rx.blocking_recv() {
            match msg {
                Msg::Chunk(c) => events += c.events.len() + c.report.undecodable as usize,
                Msg::Failed { path, reason, .. } => failure = Some((path, reason)),
                Msg::Taken { .. } => unreachable!("a stream is never taken"),
            }
        }
        assert_eq!(events, 1, "the line before the error is kept");
        let (path, reason) = failure.expect("the error is reported");
        assert_eq!(&*path, "(stdin)");
        assert_eq!(reason, "cannot read: the disk went away");
    }
}
