//! The S3 and SQS sources and the s3:// output, end to end against a moto_server: the
//! binary reaches it through AWS_ENDPOINT_URL; the tests seed and inspect it through the
//! emulator's own APIs (and `orgwatch_collect::remote`, the product's S3 code, for objects).
//!
//! - `collect --out s3://… --kms-key`: SSE-KMS objects; their notifications on a queue;
//!   `ingest --from sqs://…` killed with SIGKILL mid-way, rerun: no message left, no row
//!   lost or doubled (the counts of a directory ingest of the same files).
//! - A poison message ends in the dead-letter queue after the queue's maxReceiveCount; a
//!   malformed one is quarantined there at once with its reason.
//! - `ingest --from s3://…` moves each object to loaded/ or failed/ (with its reason).
//! - `activity --from s3://…` and `--from sqs://…` with a file delivered late and one
//!   delivered twice: the counts of the directory pipeline on the same files.
//! - `activity --from sqs://…` killed with SIGKILL a quarter of the way through 240 files
//!   (one delivered late, one twice), rerun until the queue is empty: the counts of the
//!   directory pipeline, nothing in the dead-letter queue.
//! - `activity --from sqs://…` of EventBridge CloudTrail events, some delivered twice, one
//!   batch redelivered: the counts of the directory pipeline on the same records.
// Integration tests link every dependency of the package and use a few.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

use orgwatch_collect::remote::s3::Bucket;
use orgwatch_collect::remote::{emulator_config, S3Url};
use orgwatch_test_support::cli::{self, text};
use orgwatch_test_support::fs::files_under;
use orgwatch_test_support::moto::{Moto, MANAGEMENT, REGION};
use orgwatch_test_support::{cloudtrail, on_both_backends, orgwatch, Backend, TestDb};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

on_both_backends!(
    a_bucket_listing_loads_each_object_and_moves_it_to_loaded_or_failed,
    collect_to_a_bucket_then_ingest_its_notifications_through_a_kill,
    cloudtrail_from_a_bucket_and_a_queue_counts_like_the_directory,
    eventbridge_cloudtrail_events_on_a_queue_count_like_the_directory,
    cloudtrail_from_a_queue_through_a_kill_counts_like_the_directory,
);

/// The binary, pointed at `moto` by the environment alone, on `db`.
fn orgwatch(moto: &Moto, db: &TestDb) -> Command {
    let mut c = orgwatch!();
    for (k, v) in moto.sdk_env() {
        c.env(k, v);
    }
    c.env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .arg("--database-url")
        .arg(&db.url);
    c
}

fn run(moto: &Moto, db: &TestDb, args: &[&str]) -> Output {
    orgwatch(moto, db).args(args).output().unwrap()
}

fn bucket(moto: &Moto, name: &str) -> Bucket {
    let url = S3Url {
        bucket: name.to_owned(),
        prefix: String::new(),
    };
    Bucket::new(&emulator_config(&moto.url, REGION), url)
}

/// The keys under `under`, relative to it, sorted.
async fn keys(b: &Bucket, under: &str) -> Vec<String> {
    let mut out: Vec<String> = b
        .list(under)
        .await
        .unwrap()
        .into_iter()
        .map(|o| o.key[under.len()..].to_owned())
        .collect();
    out.sort();
    out
}

/// Puts every file under `dir/data/` at `prefix/data/…`; their relative names.
async fn upload_tree(b: &Bucket, dir: &Path, prefix: &str) -> Vec<String> {
    let rels = files_under(&dir.join("data"));
    for rel in &rels {
        let body = std::fs::read(dir.join("data").join(rel)).unwrap();
        b.put(
            &format!("{prefix}/data/{rel}"),
            body,
            "application/json",
            None,
        )
        .await
        .unwrap();
    }
    rels
}

/// Downloads every object under `prefix/` into `dir/data/…` (for a directory ingest of the
/// same files).
async fn download_tree(b: &Bucket, prefix: &str, dir: &Path) {
    for rel in keys(b, &format!("{prefix}/")).await {
        let to = dir.join("data").join(&rel);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        b.download(&format!("{prefix}/{rel}"), &to)
            .await
            .unwrap()
            .unwrap();
    }
}

/// Asserts that object `key` is encrypted with SSE-KMS under the key `key_id`.
async fn assert_sse_kms(b: &Bucket, key: &str, key_id: &str) {
    let enc = b.encryption(key).await.unwrap().unwrap();
    assert_eq!(enc.algorithm.as_deref(), Some("aws:kms"), "{key}");
    assert!(
        enc.kms_key_id
            .as_deref()
            .is_some_and(|k| k.contains(key_id)),
        "{key}: {enc:?}"
    );
}

/// The counts of a directory ingest of `dir` into a fresh database.
async fn counts_of_a_directory_ingest(
    backend: Backend,
    dir: &Path,
) -> std::collections::BTreeMap<&'static str, i64> {
    let clean = TestDb::new(backend).await;
    let out = orgwatch!(&clean, &["ingest", "--from", dir.to_str().unwrap()]);
    assert!(
        out.status.code().is_some_and(|c| c <= 2),
        "{}",
        text(&out.stderr)
    );
    clean.counts().await
}

const BAD: &str = "111111111111/us-east-1/2026-11-20_DAILY.json";

async fn a_bucket_listing_loads_each_object_and_moves_it_to_loaded_or_failed(backend: Backend) {
    let moto = Moto::start();
    moto.create_bucket(MANAGEMENT, "posture");
    let b = bucket(&moto, "posture");
    let files = tempfile::tempdir().unwrap();
    cli::generate(env!("CARGO_BIN_EXE_orgwatch"), files.path(), 3, 2);
    std::fs::create_dir_all(files.path().join("data/111111111111/us-east-1")).unwrap();
    std::fs::write(files.path().join("data").join(BAD), "{not json").unwrap();
    let rels = upload_tree(&b, files.path(), "org/posture").await;
    // Beside the prefix: never read.
    b.put(
        "other/data/x.json",
        b"{}".to_vec(),
        "application/json",
        None,
    )
    .await
    .unwrap();

    let db = TestDb::new(backend).await;
    let out = run(
        &moto,
        &db,
        &["ingest", "--from", "s3://posture/org/posture"],
    );
    let stdout = text(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}{}", text(&out.stderr));
    let n = rels.len();
    assert!(
        stdout.contains(&format!(
            "{n} files: {} loaded, 0 unchanged, 0 superseded, 1 failed",
            n - 1
        )),
        "{stdout}"
    );
    assert_eq!(keys(&b, "org/posture/data/").await, Vec::<String>::new());
    let good: Vec<String> = rels.iter().filter(|r| *r != BAD).cloned().collect();
    assert_eq!(keys(&b, "org/posture/loaded/").await, good);
    assert_eq!(
        keys(&b, "org/posture/failed/").await,
        [BAD.to_owned(), format!("{BAD}.error.txt")]
    );
    let note = tempfile::NamedTempFile::new().unwrap();
    b.download(&format!("org/posture/failed/{BAD}.error.txt"), note.path())
        .await
        .unwrap();
    let reason = std::fs::read_to_string(note.path()).unwrap();
    assert!(
        reason.contains("JSON") || reason.contains("key"),
        "{reason}"
    );
    assert_eq!(keys(&b, "other/").await, ["data/x.json"]);

    // The rows are those of a directory ingest of the same files (the bad one included).
    assert_eq!(
        db.counts().await,
        counts_of_a_directory_ingest(backend, files.path()).await
    );

    // A rerun finds nothing; the same good file delivered again is recognised.
    let out = run(
        &moto,
        &db,
        &["ingest", "--from", "s3://posture/org/posture"],
    );
    assert!(
        text(&out.stdout).contains("0 files: 0 loaded"),
        "{}",
        text(&out.stdout)
    );
    let again = &good[0];
    // (The directory ingest above moved the local copies to loaded/.)
    let body = std::fs::read(files.path().join("loaded").join(again)).unwrap();
    b.put(
        &format!("org/posture/data/{again}"),
        body,
        "application/json",
        None,
    )
    .await
    .unwrap();
    let before = db.counts().await;
    let out = run(
        &moto,
        &db,
        &["ingest", "--from", "s3://posture/org/posture/"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("1 files: 0 loaded, 1 unchanged"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(db.counts().await, before);
}

/// Creates `name` with a dead-letter queue `name-dlq` after `max_receives` receives; both URLs.
fn queue_with_dead_letters(
    moto: &Moto,
    name: &str,
    max_receives: u32,
    visibility: u32,
) -> (String, String) {
    let dlq = moto.create_queue(&format!("{name}-dlq"), serde_json::json!({}));
    let redrive = serde_json::json!({
        "deadLetterTargetArn": Moto::queue_arn(&format!("{name}-dlq")),
        "maxReceiveCount": max_receives.to_string(),
    });
    let url = moto.create_queue(
        name,
        serde_json::json!({
            "RedrivePolicy": redrive.to_string(),
            "VisibilityTimeout": visibility.to_string(),
        }),
    );
    (url, dlq)
}

fn seed_posture(moto: &Moto) {
    for (region, keys) in [("us-east-1", 2), ("eu-west-1", 1)] {
        for k in 0..keys {
            let body = format!(r#"{{"Description": "{region} key {k}"}}"#);
            let status = moto.json_call(MANAGEMENT, region, "kms", "TrentService.CreateKey", &body);
            assert_eq!(status, Some(200));
        }
    }
}

async fn collect_to_a_bucket_then_ingest_its_notifications_through_a_kill(backend: Backend) {
    let moto = Moto::start();
    seed_posture(&moto);
    moto.create_bucket(MANAGEMENT, "posture");
    let (queue, dlq) = queue_with_dead_letters(&moto, "snapshots", 5, 30);
    moto.notify_queue("posture", &Moto::queue_arn("snapshots"), "org/data/");
    let key_id = moto.create_kms_key();
    let b = bucket(&moto, "posture");
    let db = TestDb::new(backend).await;

    let out = run(
        &moto,
        &db,
        &[
            "collect",
            "--regions",
            "us-east-1,eu-west-1",
            "--period",
            "monthly",
            "--out",
            "s3://posture/org",
            "--kms-key",
            &key_id,
        ],
    );
    let stdout = text(&out.stdout);
    // The emulator lacks account:GetContactInformation: exit 2, the files written all the same.
    assert_eq!(out.status.code(), Some(2), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("2 file(s) written under s3://posture/org/data"),
        "{stdout}"
    );
    let collected = keys(&b, "org/data/").await;
    assert_eq!(collected.len(), 2, "{collected:?}");
    for rel in &collected {
        assert_sse_kms(&b, &format!("org/data/{rel}"), &key_id).await;
    }

    // Enough more files (a demo organisation's) that the kill lands in the middle.
    let files = tempfile::tempdir().unwrap();
    cli::generate(env!("CARGO_BIN_EXE_orgwatch"), files.path(), 8, 12);
    let uploaded = upload_tree(&b, files.path(), "org").await.len() + collected.len();
    let (visible, _) = moto.queue_depth(&queue);
    // One notification per object, and S3's s3:TestEvent.
    assert_eq!(visible as usize, uploaded + 1);

    let from = format!("sqs://{queue}");
    let ingest = [
        "ingest",
        "--from",
        &from,
        "--visibility-timeout",
        "4",
        "--batch-files",
        "1",
    ];
    let mut child = orgwatch(&moto, &db)
        .args(ingest)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(120);
    while keys(&b, "org/loaded/").await.len() < uploaded / 4 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "ingest finished before the kill"
        );
        assert!(Instant::now() < deadline, "ingest made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "ingest finished before the kill"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert!(
        !keys(&b, "org/data/").await.is_empty(),
        "the kill left work to do"
    );

    // Messages in flight come back after their visibility; rerun until the queue is empty.
    let mut runs = 0;
    while moto.queue_depth(&queue) != (0, 0) {
        runs += 1;
        assert!(
            runs <= 4,
            "the queue still holds {:?}",
            moto.queue_depth(&queue)
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
        let out = run(&moto, &db, &ingest);
        assert!(
            out.status.success(),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
    assert_eq!(moto.queue_depth(&dlq), (0, 0));
    assert_eq!(keys(&b, "org/data/").await, Vec::<String>::new());
    assert_eq!(keys(&b, "org/loaded/").await.len(), uploaded);
    // A moved object keeps its KMS key.
    assert_sse_kms(&b, &format!("org/loaded/{}", collected[0]), &key_id).await;

    let copy = tempfile::tempdir().unwrap();
    download_tree(&b, "org/loaded", copy.path()).await;
    let counts = db.counts().await;
    assert_eq!(counts["snapshots"] as usize, uploaded);
    assert_eq!(
        counts,
        counts_of_a_directory_ingest(backend, copy.path()).await
    );
}

/// An S3 notification of `key` in `bucket`, as S3 writes it.
fn notification(bucket: &str, key: &str) -> String {
    serde_json::json!({"Records": [{
        "eventVersion": "2.1", "eventSource": "aws:s3", "awsRegion": REGION,
        "eventName": "ObjectCreated:Put",
        "s3": {"bucket": {"name": bucket}, "object": {"key": key, "size": 10}},
    }]})
    .to_string()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_poison_message_ends_in_the_dead_letter_queue_and_a_malformed_one_is_quarantined() {
    let moto = Moto::start();
    moto.create_bucket(MANAGEMENT, "posture");
    let (queue, dlq) = queue_with_dead_letters(&moto, "snapshots", 2, 30);
    let b = bucket(&moto, "posture");
    let good = "210987654321/us-east-1/2026-11-24_DAILY.json";
    b.put(
        &format!("org/data/{good}"),
        orgwatch_test_support::a360::DAILY.to_vec(),
        "application/json",
        None,
    )
    .await
    .unwrap();
    let poison = notification("posture", &format!("org/data/{BAD}"));
    moto.send_message(&queue, "hello");
    moto.send_message(&queue, &poison);
    moto.send_message(
        &queue,
        &notification("posture", &format!("org/data/{good}")),
    );
    moto.send_message(
        &queue,
        r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"posture"}"#,
    );

    let db = TestDb::new(Backend::Sqlite).await;
    let from = format!("sqs://{queue}");
    // One run: the poison message is received, backed off (2 s, then 4 s), and received
    // again until SQS moves it (after 2 receives); the run ends when the queue is empty.
    let out = run(
        &moto,
        &db,
        &["ingest", "--from", &from, "--visibility-timeout", "2"],
    );
    let stderr = text(&out.stderr);
    assert!(out.status.success(), "{}{stderr}", text(&out.stdout));
    assert!(
        text(&out.stdout).contains("1 files: 1 loaded"),
        "{}",
        text(&out.stdout)
    );
    assert!(
        stderr.contains("is not an S3 event notification: not JSON")
            && stderr.contains("moved to the dead-letter queue"),
        "{stderr}"
    );
    assert!(
        stderr.contains(&format!("s3://posture/org/data/{BAD} does not exist")),
        "{stderr}"
    );
    assert_eq!(moto.queue_depth(&queue), (0, 0));
    let mut dead = moto.receive(&dlq, 30);
    dead.sort();
    assert_eq!(dead.len(), 2, "{dead:?}");
    assert_eq!(dead[0].0, "hello");
    assert!(
        dead[0]
            .1
            .as_deref()
            .is_some_and(|r| r.starts_with("not an S3 event notification")),
        "{dead:?}"
    );
    assert_eq!(dead[1], (poison, None));
    assert_eq!(keys(&b, "org/loaded/").await, [good]);
    // The malformed message's reason is in the database, as a refused file's is.
    let store = db.store().await;
    let rows = store
        .raw_query_text(
            "SELECT file_name FROM logs WHERE file_name LIKE 'sqs:%'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(rows.len(), 1, "{rows:?}");
}

/// Keys of the vendored CloudTrail files as an organisation trail delivers them.
fn trail_keys() -> Vec<(String, std::path::PathBuf)> {
    cloudtrail::files()
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_str().unwrap().to_owned();
            let account = name
                .split('_')
                .next()
                .filter(|a| a.len() == 12 && a.bytes().all(|b| b.is_ascii_digit()))
                .unwrap_or("111111111111")
                .to_owned();
            let key =
                format!("trail/AWSLogs/o-abc123/{account}/CloudTrail/us-east-1/2023/07/10/{name}");
            (key, p)
        })
        .collect()
}

/// Recent events, ledger rows and their new events, and the rollups' totals per tier and metric.
async fn activity_counts(db: &TestDb) -> Vec<Vec<Option<String>>> {
    let store = db.store().await;
    let mut out = Vec::new();
    for sql in [
        "SELECT CAST(COUNT(*) AS TEXT) FROM activity_events",
        "SELECT CAST(COUNT(*) AS TEXT), CAST(SUM(new_events) AS TEXT) FROM activity_files",
        // Totals, not rows: hours folded into days by one run's prune are an hour row again
        // when a late file adds to them (DESIGN.md), so the rows differ, the counts do not.
        // Only the metrics every copy of an event counts alike: the samples repeat event
        // ids with different error codes and sign-in outcomes across files, and the stored
        // copy is the first read, which delivery order changes (found here: ec2_outcome
        // 601/602, error_code 218/217 from the bucket, console_sign_in 4/3 from the queue).
        "SELECT CASE WHEN tier = 'minute' THEN 'minute' ELSE 'hour+day' END, metric, \
         CAST(SUM(count) AS TEXT) FROM activity_rollups \
         WHERE metric IN ('total', 'api', 'principal', 'principal_type', 'service', 'source_ip') \
         GROUP BY CASE WHEN tier = 'minute' THEN 'minute' ELSE 'hour+day' END, metric ORDER BY 1, 2",
    ] {
        out.extend(store.raw_query_text(sql, &[]).await.unwrap());
    }
    store.close().await;
    out
}

async fn cloudtrail_from_a_bucket_and_a_queue_counts_like_the_directory(backend: Backend) {
    let moto = Moto::start();
    let all = trail_keys();
    assert!(all.len() >= 20, "{}", all.len());

    let want_db = TestDb::new(backend).await;
    let out = orgwatch!(
        &want_db,
        &["activity", "--from", cloudtrail::dir().to_str().unwrap()]
    );
    assert!(
        out.status.code().is_some_and(|c| c <= 2),
        "{}",
        text(&out.stderr)
    );
    let want = activity_counts(&want_db).await;
    assert_ne!(want[0][0].as_deref(), Some("0"));

    // The earliest file arrives late (after a later one was read): out of order too.
    let late = all.iter().min_by_key(|(k, _)| k.clone()).unwrap().clone();
    let twice = all.iter().max_by_key(|(k, _)| k.clone()).unwrap().clone();
    let first: Vec<_> = all.iter().filter(|(k, _)| *k != late.0).cloned().collect();

    for via_queue in [false, true] {
        let name = if via_queue { "queued" } else { "listed" };
        moto.create_bucket(MANAGEMENT, name);
        let b = bucket(&moto, name);
        let queue = via_queue.then(|| {
            let url = moto.create_queue(name, serde_json::json!({}));
            moto.notify_queue(name, &Moto::queue_arn(name), "trail/AWSLogs/");
            url
        });
        let from = match &queue {
            Some(q) => format!("sqs://{q}"),
            None => format!("s3://{name}/trail"),
        };
        let put = |(key, path): (String, std::path::PathBuf)| {
            let b = b.clone();
            async move {
                b.put(&key, std::fs::read(path).unwrap(), "application/json", None)
                    .await
                    .unwrap();
            }
        };
        for f in first.clone() {
            put(f).await;
        }
        // Not CloudTrail: a digest and a note.
        b.put(
            "trail/AWSLogs/o-abc123/111111111111/CloudTrail-Digest/us-east-1/2023/07/10/d.json.gz",
            b"x".to_vec(),
            "application/gzip",
            None,
        )
        .await
        .unwrap();
        let db = TestDb::new(backend).await;
        let out = run(&moto, &db, &["activity", "--from", &from]);
        assert!(
            out.status.code().is_some_and(|c| c <= 2),
            "{name}: {}",
            text(&out.stderr)
        );
        // The late file, and the newest one delivered again (same key, same bytes).
        put(late.clone()).await;
        put(twice.clone()).await;
        if let Some(q) = &queue {
            // And a repeated notification of it.
            moto.send_message(q, &notification(name, &twice.0));
        }
        let out = run(&moto, &db, &["activity", "--from", &from]);
        assert!(
            out.status.code().is_some_and(|c| c <= 2),
            "{name}: {}",
            text(&out.stderr)
        );
        assert_eq!(activity_counts(&db).await, want, "{name}");
        if let Some(q) = &queue {
            assert_eq!(moto.queue_depth(q), (0, 0), "{name}");
        }
        // Read once more: nothing new.
        let out = run(&moto, &db, &["activity", "--from", &from]);
        assert!(
            out.status.code().is_some_and(|c| c <= 2),
            "{name}: {}",
            text(&out.stderr)
        );
        assert_eq!(activity_counts(&db).await, want, "{name}: a rerun");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn collect_with_ingest_loads_what_it_wrote_to_the_bucket() {
    let moto = Moto::start();
    seed_posture(&moto);
    moto.create_bucket(MANAGEMENT, "posture");
    let db = TestDb::new(Backend::Sqlite).await;
    let out = run(
        &moto,
        &db,
        &[
            "collect",
            "--regions",
            "us-east-1,eu-west-1",
            "--out",
            "s3://posture/p",
            "--ingest",
        ],
    );
    let stdout = text(&out.stdout);
    // Exit 2: the emulator lacks account:GetContactInformation (a part missed, not a file).
    assert_eq!(out.status.code(), Some(2), "{stdout}{}", text(&out.stderr));
    assert!(
        stdout.contains("ingest: 2 files: 2 loaded, 0 unchanged, 0 superseded, 0 failed"),
        "{stdout}"
    );
    let b = bucket(&moto, "posture");
    assert_eq!(keys(&b, "p/data/").await, Vec::<String>::new());
    assert_eq!(keys(&b, "p/loaded/").await.len(), 2);
    // Without --kms-key the object has the bucket's default encryption, not SSE-KMS.
    let first = keys(&b, "p/loaded/").await.remove(0);
    let enc = b
        .encryption(&format!("p/loaded/{first}"))
        .await
        .unwrap()
        .unwrap();
    assert_ne!(enc.algorithm.as_deref(), Some("aws:kms"));
    assert_eq!(db.counts().await["snapshots"], 2);
    // The KMS keys seeded are in the rows: 2 in us-east-1, 1 in eu-west-1.
    let store = db.store().await;
    let rows = store
        .raw_query_text("SELECT CAST(COUNT(*) AS TEXT) FROM kms_keys", &[])
        .await
        .unwrap();
    store.close().await;
    assert_eq!(rows, [[Some("3".to_owned())]], "kms rows");
}

/// The run's summary line figures `(new, duplicates)`, from its stderr.
fn new_and_duplicates(out: &Output) -> (u64, u64) {
    let stderr = text(&out.stderr);
    let line = stderr
        .lines()
        .find(|l| l.starts_with("activity: "))
        .unwrap_or_else(|| panic!("no summary line: {stderr}"));
    let figure = |after: &str| -> u64 {
        let (head, _) = line
            .split_once(after)
            .unwrap_or_else(|| panic!("{after:?} in {line}"));
        head.rsplit(' ').next().unwrap().parse().unwrap()
    };
    (figure(" new,"), figure(" duplicates,"))
}

/// The accounts stored for the sample record without `recipientAccountId` (ListAllMyBuckets
/// at 2023-03-01T00:00:00Z).
async fn accounts_of_the_record_without_one(db: &TestDb) -> Vec<Vec<Option<String>>> {
    let store = db.store().await;
    let rows = store
        .raw_query_text(
            "SELECT account FROM activity_events \
             WHERE event_time = 1677628800000 AND api LIKE '%ListAllMyBuckets'",
            &[],
        )
        .await
        .unwrap();
    store.close().await;
    rows
}

/// The sample files other than the invictus-ir set, copied into a directory: 232 records,
/// with the samples' repeated event ids and the record without `recipientAccountId`. (Not
/// all 2,245 records: moto's ReceiveMessage scans the whole queue, 1.7 s a receive at 2,500
/// messages, which made one run take 15 minutes.)
fn some_samples() -> (tempfile::TempDir, Vec<serde_json::Value>) {
    let dir = tempfile::tempdir().unwrap();
    let mut records = Vec::new();
    for f in cloudtrail::files() {
        if f.to_string_lossy().contains("invictus-ir") {
            continue;
        }
        std::fs::copy(&f, dir.path().join(f.file_name().unwrap())).unwrap();
        records.extend(cloudtrail::records_of(&f));
    }
    (dir, records)
}

async fn eventbridge_cloudtrail_events_on_a_queue_count_like_the_directory(backend: Backend) {
    let moto = Moto::start();
    let (samples, records) = some_samples();
    assert_eq!(records.len(), 232);
    let want_db = TestDb::new(backend).await;
    // The samples span years and repeat ids across them: de-duplication must reach back
    // over all of them, not the 7 days (from the newest event) kept by default, since a
    // queue is read in many passes, each pruning what is older.
    let keep = ["--keep-events", "forever"];
    let out = orgwatch!(
        &want_db,
        &[
            "activity",
            "--from",
            samples.path().to_str().unwrap(),
            keep[0],
            keep[1]
        ]
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let want = activity_counts(&want_db).await;
    let (want_new, want_duplicates) = new_and_duplicates(&out);
    assert_eq!(
        want[1][1].as_deref(),
        Some(want_new.to_string().as_str()),
        "the ledger's new events"
    );

    // Every record as an EventBridge rule delivers it; every seventh twice (EventBridge
    // delivers at least once), the copy a hundred messages later.
    let events: Vec<String> = records
        .iter()
        .enumerate()
        .map(|(i, r)| cloudtrail::eventbridge_event(r, &format!("eb-{i}")).to_string())
        .collect();
    let copies: Vec<String> = events.iter().step_by(7).cloned().collect();
    let mut bodies = events.clone();
    for (n, copy) in copies.iter().enumerate() {
        bodies.insert((n * 8 + 100).min(bodies.len()), copy.clone());
    }
    let (queue, dlq) = queue_with_dead_letters(&moto, "trail-events", 5, 30);
    moto.send_messages(&queue, &bodies);
    assert_eq!(moto.queue_depth(&queue), (bodies.len() as u64, 0));

    let db = TestDb::new(backend).await;
    let from = format!("sqs://{queue}");
    let out = run(&moto, &db, &["activity", "--from", &from, keep[0], keep[1]]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(moto.queue_depth(&queue), (0, 0), "every message deleted");
    assert_eq!(moto.queue_depth(&dlq), (0, 0), "none quarantined");
    // Each event counted once: the copies are duplicates, as in the directory a repeated
    // event id is.
    assert_eq!(
        new_and_duplicates(&out),
        (want_new, want_duplicates + copies.len() as u64)
    );
    // The ledger has batches, not files: its rows differ; the events it counts do not.
    let got = activity_counts(&db).await;
    let events_and_rollups = |c: &[Vec<Option<String>>]| {
        let mut c = c.to_vec();
        c[1].remove(0);
        c
    };
    assert_eq!(events_and_rollups(&got), events_and_rollups(&want));
    let store = db.store().await;
    let ledger = store
        .raw_query_text(
            "SELECT CAST(COUNT(*) AS TEXT), CAST(SUM(events) AS TEXT), \
             CAST(MIN(size) AS TEXT) FROM activity_files WHERE path LIKE 'sqs-events:trail-events/%'",
            &[],
        )
        .await
        .unwrap();
    store.close().await;
    let batches: usize = ledger[0][0].as_deref().unwrap().parse().unwrap();
    assert!(
        (bodies.len().div_ceil(10)..=bodies.len()).contains(&batches)
            && got[1][0].as_deref() == Some(batches.to_string().as_str()),
        "{ledger:?} {got:?}"
    );
    assert_eq!(
        ledger[0][1].as_deref(),
        Some(bodies.len().to_string().as_str()),
        "each batch's events"
    );
    assert_ne!(ledger[0][2].as_deref(), Some("0"), "{ledger:?}");
    // A record without recipientAccountId is the envelope's account's, not nobody's.
    assert_eq!(
        accounts_of_the_record_without_one(&want_db).await,
        [[Some("(none)".to_owned())]]
    );
    assert_eq!(
        accounts_of_the_record_without_one(&db).await,
        [[Some("111111111111".to_owned())]]
    );

    // A batch delivered again (as after a crash between the commit and the deletes): its
    // events are found stored, nothing is counted.
    moto.send_messages(&queue, &events[..10]);
    let out = run(&moto, &db, &["activity", "--from", &from, keep[0], keep[1]]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(new_and_duplicates(&out), (0, 10));
    assert_eq!(moto.queue_depth(&queue), (0, 0));
    assert_eq!(activity_counts(&db).await[2..], got[2..], "a redelivery");
    assert_eq!(activity_counts(&db).await[0], got[0], "a redelivery");
    // And a rerun on the empty queue changes nothing.
    let before = activity_counts(&db).await;
    let out = run(&moto, &db, &["activity", "--from", &from, keep[0], keep[1]]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(activity_counts(&db).await, before, "a rerun");
}

/// The ledger's files read to their end.
async fn files_read(db: &TestDb) -> usize {
    let store = db.store().await;
    let rows = store
        .raw_query_text(
            "SELECT CAST(COUNT(*) AS TEXT) FROM activity_files WHERE size >= 0",
            &[],
        )
        .await
        .unwrap();
    store.close().await;
    rows[0][0].as_deref().unwrap().parse().unwrap()
}

async fn cloudtrail_from_a_queue_through_a_kill_counts_like_the_directory(backend: Backend) {
    let moto = Moto::start();
    let files = tempfile::tempdir().unwrap();
    // Few enough messages for moto, whose ReceiveMessage scans the whole queue; every event
    // with its own id, so a count off by one file shows.
    let n = 240;
    let events = cloudtrail::replay_files(files.path(), n, "kill");
    assert!(events > 2000, "{events}");
    let rels = files_under(files.path());
    assert_eq!(rels.len(), n);

    let want_db = TestDb::new(backend).await;
    let out = orgwatch!(
        &want_db,
        &["activity", "--from", files.path().to_str().unwrap()]
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let want = activity_counts(&want_db).await;
    assert_eq!(want[1][0].as_deref(), Some(n.to_string().as_str()));

    moto.create_bucket(MANAGEMENT, "trail");
    let (queue, dlq) = queue_with_dead_letters(&moto, "trail-files", 5, 30);
    moto.notify_queue("trail", &Moto::queue_arn("trail-files"), "AWSLogs/");
    let b = bucket(&moto, "trail");
    let put = |rel: &str| {
        let (b, body) = (b.clone(), std::fs::read(files.path().join(rel)).unwrap());
        let key = rel.to_owned();
        async move {
            b.put(&key, body, "application/json", None).await.unwrap();
        }
    };
    // The earliest file is delivered late (after the kill, once later ones were read); one
    // in the middle is delivered twice: notified twice now, and put again after the kill.
    let late = &rels[0];
    let twice = &rels[n / 2];
    for rel in &rels[1..] {
        put(rel).await;
    }
    moto.send_message(&queue, &notification("trail", twice));
    let (visible, _) = moto.queue_depth(&queue);
    // One notification per object but the late one, the repeated one, and S3's s3:TestEvent.
    assert_eq!(visible as usize, n + 1);

    // A transaction per file, and messages back 4 s after a kill.
    let from = format!("sqs://{queue}");
    let activity = [
        "activity",
        "--from",
        &from,
        "--batch-files",
        "1",
        "--visibility-timeout",
        "4",
    ];
    let db = TestDb::new(backend).await;
    let mut child = orgwatch(&moto, &db)
        .args(activity)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(180);
    while files_read(&db).await < n / 4 {
        assert!(
            child.try_wait().unwrap().is_none(),
            "activity finished before the kill"
        );
        assert!(Instant::now() < deadline, "activity made no progress");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        child.try_wait().unwrap().is_none(),
        "activity finished before the kill"
    );
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    let read = files_read(&db).await;
    assert!(read < n - 1, "the kill left work to do: {read} of {n} read");
    let (visible, invisible) = moto.queue_depth(&queue);
    // Every file read had its message deleted; those read since (none) or in flight remain.
    assert!(
        visible + invisible >= (n - 1 - read) as u64,
        "a message was deleted before its file was committed: \
         {visible} + {invisible} messages left, {read} of {} files read",
        n - 1
    );

    put(late).await;
    put(twice).await;
    // Messages in flight come back after their visibility; rerun until the queue is empty.
    let mut runs = 0;
    while moto.queue_depth(&queue) != (0, 0) {
        runs += 1;
        assert!(
            runs <= 4,
            "the queue still holds {:?}",
            moto.queue_depth(&queue)
        );
        tokio::time::sleep(Duration::from_secs(5)).await;
        let out = run(&moto, &db, &activity);
        assert!(
            out.status.success(),
            "{}{}",
            text(&out.stdout),
            text(&out.stderr)
        );
    }
    assert_eq!(moto.queue_depth(&dlq), (0, 0), "nothing quarantined");
    // No event lost or counted twice, no file read twice: the directory's events, ledger
    // (rows and new events) and rollups.
    assert_eq!(activity_counts(&db).await, want);
}
