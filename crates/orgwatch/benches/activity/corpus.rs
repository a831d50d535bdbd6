//! A large CloudTrail corpus replayed from the real samples in `testdata/cloudtrail`,
//! deterministic from a seed.
//!
//! Every decodable sample record (S3 log files and NDJSON alike) becomes a template; the corpus
//! is S3-layout gzip log files
//! `AWSLogs/{account}/CloudTrail/{region}/{yyyy}/{mm}/{dd}/{account}_CloudTrail_{region}_{yyyymmddThhmmZ}_{random}.json.gz`,
//! each one line `{"Records":[…]}` of 100–2000 records (log-uniform, as CloudTrail writes a
//! file every ~5 minutes per account and region), top-level keys in CloudTrail's order. Each
//! replayed record gets an `eventTime` within its file's 5-minute window, a fresh GUID-shaped
//! `eventID`, one of N synthetic 12-digit accounts as `recipientAccountId`,
//! `userIdentity.accountId` and in every ARN that named the sample's account, and its file's
//! region as `awsRegion`.

use flate2::write::GzEncoder;
use orgwatch_model::ActivityEvent;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::{Map, Value};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

/// What to generate.
#[derive(Debug, Clone)]
pub struct CorpusOptions {
    /// Records in the whole corpus.
    pub events: u64,
    /// Synthetic accounts.
    pub accounts: usize,
    /// Seed of every random choice.
    pub seed: u64,
    /// Threads writing files.
    pub threads: usize,
    /// Every account writes one file of 20–400 records per hour (in a 5-minute window of the
    /// hour), instead of one file of 100–2000 records per account and region every 5 minutes:
    /// many accounts, each active every hour, for the memory of many scopes.
    pub hourly: bool,
}

/// What was generated (also written to `corpus.json` beside `AWSLogs/`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CorpusStats {
    /// Records written.
    pub events: u64,
    /// Log files written.
    pub files: u64,
    /// Gzip bytes on disk.
    pub gz_bytes: u64,
    /// Uncompressed JSON bytes.
    pub json_bytes: u64,
}

impl CorpusStats {
    fn to_json(&self) -> Value {
        serde_json::json!({"events": self.events, "files": self.files,
            "gz_bytes": self.gz_bytes, "json_bytes": self.json_bytes})
    }
    fn from_json(v: &Value) -> Option<Self> {
        Some(CorpusStats {
            events: v["events"].as_u64()?,
            files: v["files"].as_u64()?,
            gz_bytes: v["gz_bytes"].as_u64()?,
            json_bytes: v["json_bytes"].as_u64()?,
        })
    }
}

/// Placeholders substituted at generation time.
const TIME: &str = "@@ORGWATCH-TIME@@";
const ID: &str = "@@ORGWATCH-ID@@";
const ACCOUNT: &str = "@@ORGWATCH-ACCOUNT@@";
const REGION: &str = "@@ORGWATCH-REGION@@";

#[derive(Debug, Clone)]
enum Seg {
    Lit(String),
    Time,
    Id,
    Account,
    Region,
}

/// Top-level keys in the order CloudTrail writes them; others follow, sorted.
const KEY_ORDER: &[&str] = &[
    "eventVersion",
    "userIdentity",
    "eventTime",
    "eventSource",
    "eventName",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "errorMessage",
    "requestParameters",
    "responseElements",
    "additionalEventData",
    "requestID",
    "eventID",
    "readOnly",
    "resources",
    "eventType",
    "apiVersion",
    "managementEvent",
    "recipientAccountId",
    "sharedEventID",
    "vpcEndpointId",
    "eventCategory",
    "tlsDetails",
    "sessionCredentialFromConsole",
];

/// Regions a synthetic account logs in (the first ones more often).
const REGIONS: &[&str] = &[
    "us-east-1",
    "us-east-1",
    "us-east-1",
    "eu-west-1",
    "eu-west-1",
    "us-west-2",
    "eu-central-1",
    "ap-southeast-2",
];

fn plain_bytes(p: &Path) -> Vec<u8> {
    let raw = std::fs::read(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut s = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut s)
            .unwrap();
        s
    } else {
        raw
    }
}

/// Every decodable record of the sample files under `dir` (`.json`, `.json.gz`), in path order.
pub fn sample_records(dir: &Path) -> Vec<Map<String, Value>> {
    let mut files: Vec<PathBuf> = walkdir::WalkDir::new(dir)
        .into_iter()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_file())
        .map(|e| e.into_path())
        .filter(|p| {
            let s = p.to_string_lossy();
            s.ends_with(".json") || s.ends_with(".json.gz")
        })
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        let bytes = plain_bytes(&f);
        let values: Vec<Value> = match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(mut whole)) => match whole.remove("Records") {
                Some(Value::Array(recs)) => recs,
                _ => vec![Value::Object(whole)],
            },
            Ok(Value::Array(a)) => a,
            Ok(_) => vec![],
            Err(_) => serde_json::Deserializer::from_slice(&bytes)
                .into_iter::<Value>()
                .filter_map(Result::ok)
                .collect(),
        };
        for v in values {
            if let Value::Object(m) = v {
                if ActivityEvent::from_cloudtrail(&m).is_ok() {
                    out.push(m);
                }
            }
        }
    }
    out
}

/// A record as text with placeholders for the replayed fields.
fn template(mut rec: Map<String, Value>) -> Vec<Seg> {
    let original = rec
        .get("recipientAccountId")
        .and_then(Value::as_str)
        .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
        .map(str::to_owned);
    rec.insert("eventTime".into(), Value::String(TIME.into()));
    rec.insert("eventID".into(), Value::String(ID.into()));
    rec.insert("recipientAccountId".into(), Value::String(ACCOUNT.into()));
    rec.insert("awsRegion".into(), Value::String(REGION.into()));
    if let Some(Value::Object(ui)) = rec.get_mut("userIdentity") {
        if ui.contains_key("accountId") {
            ui.insert("accountId".into(), Value::String(ACCOUNT.into()));
        }
    }
    let mut keys: Vec<&String> = rec.keys().collect();
    keys.sort_by_key(|k| {
        (
            KEY_ORDER
                .iter()
                .position(|o| o == k)
                .unwrap_or(KEY_ORDER.len()),
            k.as_str(),
        )
    });
    let mut text = String::from("{");
    for (i, k) in keys.into_iter().enumerate() {
        if i > 0 {
            text.push(',');
        }
        text.push_str(&serde_json::to_string(k).unwrap());
        text.push(':');
        text.push_str(&serde_json::to_string(&rec[k]).unwrap());
    }
    text.push('}');
    if let Some(a) = original {
        text = text.replace(&a, ACCOUNT);
    }
    let mut segs = Vec::new();
    let mut rest = text.as_str();
    loop {
        let next = [
            (TIME, Seg::Time),
            (ID, Seg::Id),
            (ACCOUNT, Seg::Account),
            (REGION, Seg::Region),
        ]
        .into_iter()
        .filter_map(|(p, s)| rest.find(p).map(|i| (i, p.len(), s)))
        .min_by_key(|x| x.0);
        match next {
            Some((i, len, seg)) => {
                segs.push(Seg::Lit(rest[..i].to_owned()));
                segs.push(seg);
                rest = &rest[i + len..];
            }
            None => {
                segs.push(Seg::Lit(rest.to_owned()));
                break;
            }
        }
    }
    segs
}

/// One file's place in the corpus.
#[derive(Debug, Clone, Copy)]
struct Plan {
    index: u64,
    records: u32,
}

/// Records per file: log-uniform between 100 and 2000 (20 and 400 when hourly); the last file takes what remains.
fn plan(opts: &CorpusOptions) -> Vec<Plan> {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed);
    let mut out = Vec::new();
    let mut left = opts.events;
    let mut index = 0;
    let (low, high) = if opts.hourly {
        (20f64, 400f64)
    } else {
        (100f64, 2000f64)
    };
    while left > 0 {
        let x: f64 = rng.random_range(low.ln()..high.ln());
        let n = (x.exp() as u64).min(left);
        out.push(Plan {
            index,
            records: n as u32,
        });
        left -= n;
        index += 1;
    }
    out
}

/// The synthetic accounts (12 digits each, distinct).
fn accounts(opts: &CorpusOptions) -> Vec<String> {
    let mut rng = ChaCha8Rng::seed_from_u64(opts.seed ^ 0xacc0_0000);
    let mut out: Vec<String> = Vec::new();
    while out.len() < opts.accounts.max(1) {
        let a = format!(
            "{:012}",
            rng.random_range(100_000_000_000u64..1_000_000_000_000)
        );
        if !out.contains(&a) {
            out.push(a);
        }
    }
    out
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// 2026-11-02T00:00:00Z, where the replayed timeline starts.
const START_UNIX: i64 = 1_793_577_600;

fn utc(unix: i64) -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(unix).expect("a valid time")
}

/// Writes one file; returns (gz bytes, json bytes).
fn write_file(
    root: &Path,
    p: Plan,
    templates: &[Vec<Seg>],
    accounts: &[String],
    seed: u64,
    hourly: bool,
    buf: &mut Vec<u8>,
) -> (u64, u64) {
    let mut rng = ChaCha8Rng::seed_from_u64(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ p.index);
    // Streams are (account, region) pairs; each writes a file every 5 minutes.
    let account = &accounts[p.index as usize % accounts.len()];
    let region = REGIONS[rng.random_range(0..REGIONS.len())];
    let streams = accounts.len() as u64 * 4;
    let window_start = if hourly {
        // One file per account and hour, the accounts spread over the hour's 12 windows.
        let n = accounts.len() as u64;
        START_UNIX + (p.index / n) as i64 * 3600 + (p.index % n % 12) as i64 * 300
    } else {
        START_UNIX + (p.index / streams) as i64 * 300
    };
    let end = utc(window_start + 300);
    let suffix: String = (0..16)
        .map(|_| ALNUM[rng.random_range(0..ALNUM.len())] as char)
        .collect();
    let dir = root.join(format!(
        "AWSLogs/{account}/CloudTrail/{region}/{:04}/{:02}/{:02}",
        end.year(),
        u8::from(end.month()),
        end.day()
    ));
    let name = format!(
        "{account}_CloudTrail_{region}_{:04}{:02}{:02}T{:02}{:02}Z_{suffix}.json.gz",
        end.year(),
        u8::from(end.month()),
        end.day(),
        end.hour(),
        end.minute()
    );
    buf.clear();
    buf.extend_from_slice(b"{\"Records\":[");
    let mut times: Vec<i64> = (0..p.records)
        .map(|_| window_start + rng.random_range(0..300))
        .collect();
    times.sort_unstable();
    for (i, t) in times.into_iter().enumerate() {
        if i > 0 {
            buf.push(b',');
        }
        let tpl = &templates[rng.random_range(0..templates.len())];
        let at = utc(t);
        for seg in tpl {
            match seg {
                Seg::Lit(s) => buf.extend_from_slice(s.as_bytes()),
                Seg::Time => write!(
                    buf,
                    "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
                    at.year(),
                    u8::from(at.month()),
                    at.day(),
                    at.hour(),
                    at.minute(),
                    at.second()
                )
                .unwrap(),
                Seg::Id => {
                    let x: u128 = rng.random();
                    let h = format!("{x:032x}");
                    write!(
                        buf,
                        "{}-{}-{}-{}-{}",
                        &h[0..8],
                        &h[8..12],
                        &h[12..16],
                        &h[16..20],
                        &h[20..32]
                    )
                    .unwrap();
                }
                Seg::Account => buf.extend_from_slice(account.as_bytes()),
                Seg::Region => buf.extend_from_slice(region.as_bytes()),
            }
        }
    }
    buf.extend_from_slice(b"]}");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    let tmp = path.with_extension("tmp");
    let f = std::fs::File::create(&tmp).unwrap();
    let mut gz = GzEncoder::new(std::io::BufWriter::new(f), flate2::Compression::default());
    gz.write_all(buf).unwrap();
    gz.finish().unwrap().flush().unwrap();
    std::fs::rename(&tmp, &path).unwrap();
    let gz_bytes = std::fs::metadata(&path).unwrap().len();
    (gz_bytes, buf.len() as u64)
}

/// Generates the corpus under `root` (or reuses it when `root/corpus.json` says it was made
/// with the same options).
pub fn ensure(samples: &Path, root: &Path, opts: &CorpusOptions) -> CorpusStats {
    let marker = root.join("corpus.json");
    let want_key = serde_json::json!({"events": opts.events, "accounts": opts.accounts,
        "seed": opts.seed, "hourly": opts.hourly, "generator": 1});
    if let Ok(text) = std::fs::read_to_string(&marker) {
        if let Ok(v) = serde_json::from_str::<Value>(&text) {
            if v["options"] == want_key {
                if let Some(s) = CorpusStats::from_json(&v["stats"]) {
                    return s;
                }
            }
        }
    }
    let _ = std::fs::remove_dir_all(root.join("AWSLogs"));
    std::fs::create_dir_all(root).unwrap();
    let templates: Vec<Vec<Seg>> = sample_records(samples).into_iter().map(template).collect();
    assert!(
        !templates.is_empty(),
        "no samples under {}",
        samples.display()
    );
    let plans = plan(opts);
    let accounts = accounts(opts);
    let next = AtomicUsize::new(0);
    let stats = std::sync::Mutex::new(CorpusStats::default());
    std::thread::scope(|s| {
        for _ in 0..opts.threads.max(1) {
            s.spawn(|| {
                let mut buf = Vec::new();
                let mut mine = CorpusStats::default();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(&p) = plans.get(i) else { break };
                    let (gz, json) = write_file(
                        root,
                        p,
                        &templates,
                        &accounts,
                        opts.seed,
                        opts.hourly,
                        &mut buf,
                    );
                    mine.files += 1;
                    mine.events += u64::from(p.records);
                    mine.gz_bytes += gz;
                    mine.json_bytes += json;
                }
                let mut all = stats.lock().unwrap();
                all.files += mine.files;
                all.events += mine.events;
                all.gz_bytes += mine.gz_bytes;
                all.json_bytes += mine.json_bytes;
            });
        }
    });
    let stats = stats.into_inner().unwrap();
    let doc = serde_json::json!({"options": want_key, "stats": stats.to_json()});
    std::fs::write(&marker, doc.to_string()).unwrap();
    stats
}

/// Events per gzip byte of the replayed sample mix (from a small deterministic corpus), to size
/// a corpus by its bytes on disk.
pub fn events_for_gz_bytes(samples: &Path, gz_bytes: u64, seed: u64) -> u64 {
    let dir = tempfile::tempdir().unwrap();
    let probe = ensure(
        samples,
        dir.path(),
        &CorpusOptions {
            events: 50_000,
            accounts: 10,
            seed,
            threads: 2,
            hourly: false,
        },
    );
    (gz_bytes as f64 * probe.events as f64 / probe.gz_bytes as f64) as u64
}
