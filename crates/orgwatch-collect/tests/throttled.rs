//! A throttled call is retried and read, or, when throttling outlasts the retries, recorded
//! as `throttled` in the ledger and the file's `logs`: never silently missing. And the calls
//! of one service in one account-region are paced at its rate limit. The emulator cannot
//! throttle, so a loopback proxy in front of it answers ThrottlingException to the first N
//! requests of one operation, passes everything else through, and notes when each came.
#![allow(unused_crate_dependencies, clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, Region as SdkRegion};
use aws_sdk_sts::config::{Credentials, SharedCredentialsProvider};
use common::{management, member, Moto, MANAGEMENT};
use orgwatch_collect::aws::{RoleOptions, MAX_ATTEMPTS};
use orgwatch_collect::call::Failure;
use orgwatch_collect::write::Out;
use orgwatch_collect::{accounts, regions, CollectOptions, Status};
use orgwatch_model::{AccountId, Granularity, Region, SnapshotLocation};
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// The proxy: its URL, how many requests it throttled, and each request's `X-Amz-Target`
/// (empty for a request without one) and access key, with when it came.
struct Throttler {
    url: String,
    throttled: Arc<AtomicUsize>,
    seen: Arc<Mutex<Vec<Seen>>>,
}

/// A request the proxy saw.
struct Seen {
    target: String,
    key: String,
    at: Instant,
}

impl Throttler {
    /// When the requests whose target starts with `prefix` came, in order.
    fn times_of(&self, prefix: &str) -> Vec<Instant> {
        self.times_where(prefix, |_| true)
    }

    /// When the requests whose target starts with `prefix` and whose access key passes
    /// `key` came, in order.
    fn times_where(&self, prefix: &str, key: impl Fn(&str) -> bool) -> Vec<Instant> {
        let seen = self.seen.lock().unwrap();
        seen.iter()
            .filter(|s| s.target.starts_with(prefix) && key(&s.key))
            .map(|s| s.at)
            .collect()
    }
}

/// The access key a request is signed with: the first field of the SigV4 credential
/// (`Credential=AKID/20261204/us-east-1/kms/aws4_request`).
fn access_key(head: &str) -> String {
    header(head, "authorization")
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').next())
        .unwrap_or_default()
        .to_owned()
}

/// One HTTP/1.1 request read off `s`: its head and its body (by Content-Length).
async fn read_request(s: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if s.read(&mut byte).await.ok()? == 0 {
            return None;
        }
        buf.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&buf).into_owned();
    let length = header(&head, "content-length")
        .and_then(|v| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; length];
    s.read_exact(&mut body).await.ok()?;
    Some((head, body))
}

/// The value of header `name` (lower case) in a request's head.
fn header<'h>(head: &'h str, name: &str) -> Option<&'h str> {
    head.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Passes one request to `upstream` on a connection of its own and writes the answer back.
/// An exchange with the emulator that takes over [`UPSTREAM_TIMEOUT`] is dropped (the client
/// sees its connection closed and retries): in a few runs one of moto's answers never came
/// and the SDK waited out its 120 s attempt timeout, which turned a 40 s test into 140 s and
/// let it fail on timing that has nothing to do with what it checks.
async fn pass(client: &mut TcpStream, upstream: &str, head: &str, body: &[u8]) -> Option<()> {
    let head = head
        .lines()
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("\r\n");
    let exchange = async {
        let mut up = TcpStream::connect(upstream).await.ok()?;
        let request = format!("{head}\r\nConnection: close\r\n\r\n");
        up.write_all(request.as_bytes()).await.ok()?;
        up.write_all(body).await.ok()?;
        let mut answer = Vec::new();
        up.read_to_end(&mut answer).await.ok()?;
        Some(answer)
    };
    let Ok(answer) = tokio::time::timeout(UPSTREAM_TIMEOUT, exchange).await else {
        eprintln!(
            "proxy: no answer from the emulator in {UPSTREAM_TIMEOUT:?} to {}",
            head.lines().next().unwrap_or_default()
        );
        return None;
    };
    client.write_all(&answer?).await.ok()
}

/// How long the proxy waits for the emulator's answer to one request.
const UPSTREAM_TIMEOUT: Duration = Duration::from_secs(15);

/// Starts a proxy to `upstream` that throttles the first `n` requests whose `X-Amz-Target`
/// is `target` (`TrentService.ListKeys`).
async fn throttler(upstream: &str, target: &'static str, n: usize) -> Throttler {
    throttler_in(upstream, target, "", n).await
}

/// [`throttler`], throttling only requests signed with access key `key` (any if empty).
async fn throttler_in(
    upstream: &str,
    target: &'static str,
    key: &'static str,
    n: usize,
) -> Throttler {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let upstream = upstream.trim_start_matches("http://").to_owned();
    let throttled = Arc::new(AtomicUsize::new(0));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (count, log) = (throttled.clone(), seen.clone());
    let started = Instant::now();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let (upstream, count, log) = (upstream.clone(), count.clone(), log.clone());
            tokio::spawn(async move {
                // One request a connection, each answer saying so (as moto's do).
                if let Some((head, body)) = read_request(&mut client).await {
                    let called = header(&head, "x-amz-target").unwrap_or_default();
                    let signed_with = access_key(&head);
                    let hit = called == target && (key.is_empty() || signed_with == key);
                    log.lock().unwrap().push(Seen {
                        target: called.to_owned(),
                        key: signed_with.clone(),
                        at: Instant::now(),
                    });
                    // Shown by the test runner when a test fails or is stopped: which calls
                    // came, and when, if one never finishes.
                    let throttle = hit && count.load(Ordering::SeqCst) < n;
                    eprintln!(
                        "proxy {:?}: {called} {} ({}, key {})",
                        started.elapsed(),
                        if throttle { "throttled" } else { "passed on" },
                        head.lines().next().unwrap_or_default(),
                        signed_with,
                    );
                    if throttle {
                        count.fetch_add(1, Ordering::SeqCst);
                        let answer =
                            r#"{"__type":"ThrottlingException","message":"Rate exceeded"}"#;
                        let response = format!(
                            "HTTP/1.1 400 Bad Request\r\nContent-Type: application/x-amz-json-1.1\r\n\
                             Content-Length: {}\r\nConnection: close\r\n\r\n{answer}",
                            answer.len()
                        );
                        let _ = client.write_all(response.as_bytes()).await;
                        return;
                    }
                    let answered = pass(&mut client, &upstream, &head, &body).await;
                    eprintln!(
                        "proxy {:?}: {called} answered: {}",
                        started.elapsed(),
                        answered.is_some()
                    );
                }
            });
        }
    });
    Throttler {
        url,
        throttled,
        seen,
    }
}

/// The caller's configuration through `proxy`, with the collector's retry settings.
async fn through(proxy: &Throttler) -> aws_config::SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(orgwatch_collect::aws::http_client())
        .endpoint_url(&proxy.url)
        .region(SdkRegion::new("us-east-1"))
        .retry_config(RetryConfig::adaptive().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(orgwatch_collect::aws::timeouts())
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "test", "test", None, None, "test",
        )))
        .load()
        .await
}

fn options(out: &std::path::Path, rate_limits: &[(&str, u32)]) -> CollectOptions {
    CollectOptions {
        accounts: accounts::Selection::Caller,
        role: RoleOptions {
            role_name: "OrgwatchReadOnly".to_owned(),
            external_id: None,
            session_name: "orgwatch-collect-test".to_owned(),
        },
        regions: regions::Selection::List(vec![Region::parse("us-east-1").unwrap()]),
        concurrency: 2,
        granularity: Granularity::Daily,
        run_date: time::macros::date!(2026 - 12 - 04),
        out: Out::Dir(out.to_owned()),
        rate_limits: rate_limits
            .iter()
            .map(|(s, n)| ((*s).to_owned(), NonZeroU32::new(*n).unwrap()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn snapshot(out: &std::path::Path) -> orgwatch_model::Snapshot {
    let location = SnapshotLocation {
        account: AccountId::parse(MANAGEMENT).unwrap(),
        region: Some(Region::parse("us-east-1").unwrap()),
        run_date: time::macros::date!(2026 - 12 - 04),
        granularity: Granularity::Daily,
    };
    let bytes = std::fs::read(out.join("data").join(location.relative_path())).unwrap();
    orgwatch_model::read_located(&bytes, &location).unwrap()
}

async fn seed_keys(moto: &Moto, n: usize) {
    let kms = aws_sdk_kms::Client::new(&management(moto, "us-east-1").await);
    for k in 0..n {
        kms.create_key()
            .description(format!("key {k}"))
            .send()
            .await
            .unwrap();
    }
}

fn kms_entry(report: &orgwatch_collect::Report) -> orgwatch_collect::Entry {
    report
        .ledger
        .entries
        .iter()
        .find(|e| e.part == "security.kms")
        .unwrap()
        .clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_call_throttled_a_few_times_is_retried_and_read() {
    let moto = Moto::start();
    seed_keys(&moto, 2).await;
    let proxy = throttler(&moto.url, "TrentService.ListKeys", 2).await;
    let out = tempfile::tempdir().unwrap();
    let report = orgwatch_collect::run(&through(&proxy).await, &options(out.path(), &[]), &|_| {})
        .await
        .unwrap();
    assert_eq!(
        proxy.throttled.load(Ordering::SeqCst),
        2,
        "the proxy throttled"
    );
    // Two throttled attempts, then the one that was answered.
    assert_eq!(proxy.times_of("TrentService.ListKeys").len(), 3);
    let kms = kms_entry(&report);
    assert_eq!((kms.status, kms.items), (Status::Ok, 2), "{kms}");
    let snap = snapshot(out.path());
    assert_eq!(snap.security.unwrap().kms.unwrap().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn throttling_that_outlasts_the_retries_is_recorded_as_throttled() {
    let moto = Moto::start();
    seed_keys(&moto, 2).await;
    let proxy = throttler(&moto.url, "TrentService.ListKeys", usize::MAX).await;
    let out = tempfile::tempdir().unwrap();
    let report = orgwatch_collect::run(&through(&proxy).await, &options(out.path(), &[]), &|_| {})
        .await
        .unwrap();
    // Every attempt the SDK makes was throttled: the first and the retries.
    assert_eq!(
        proxy.throttled.load(Ordering::SeqCst),
        MAX_ATTEMPTS as usize
    );
    let kms = kms_entry(&report);
    assert_eq!(kms.status, Status::Failed(Failure::Throttled), "{kms}");
    assert!(
        kms.reason
            .as_deref()
            .unwrap()
            .starts_with("kms:ListKeys throttled (ThrottlingException)"),
        "{kms}"
    );
    assert!(!report.ledger.is_complete());
    // The file: KMS absent (not an empty list), the reason in `logs`, the rest written.
    let snap = snapshot(out.path());
    let sec = snap.security.as_ref().unwrap();
    assert_eq!(sec.kms, None);
    assert!(sec.cloudtrail.is_some() && sec.secrets_manager.is_some());
    assert!(
        snap.logs
            .messages
            .iter()
            .any(|m| m.key == "kms" && m.text.contains("throttled")),
        "{:?}",
        snap.logs.messages
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_calls_of_one_service_in_an_account_region_are_paced_at_its_rate_limit() {
    let moto = Moto::start();
    seed_keys(&moto, 3).await;
    let proxy = throttler(&moto.url, "none", 0).await;
    let out = tempfile::tempdir().unwrap();
    // 4 a second, bursts of 4: ListKeys, then DescribeKey and GetKeyRotationStatus per key.
    let rate = 4.0;
    let opts = options(out.path(), &[("kms", 4)]);
    let report = orgwatch_collect::run(&through(&proxy).await, &opts, &|_| {})
        .await
        .unwrap();
    let kms = kms_entry(&report);
    assert_eq!((kms.status, kms.items), (Status::Ok, 3), "{kms}");
    let times = proxy.times_of("TrentService.");
    assert_eq!(times.len(), 7, "KMS calls");
    // The (i+1)th call comes no sooner than (i + 1 - burst) / rate after the first: 250,
    // 500 and 750 ms for the last three, where unlimited all seven take about 100 ms. The
    // slack is for the first call's connection, slower to reach the proxy than the others.
    for (i, at) in times.iter().enumerate().skip(4) {
        let earliest = Duration::from_secs_f64((i + 1 - 4) as f64 / rate);
        let after = at.duration_since(times[0]);
        assert!(
            after + Duration::from_millis(50) >= earliest,
            "KMS call {} came {after:?} after the first (at least {earliest:?})",
            i + 1
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_throttled_account_does_not_hold_up_the_same_service_of_another_in_its_region() {
    let moto = Moto::start();
    const MEMBER: &str = "222222222222";
    seed_keys(&moto, 3).await;
    let kms =
        aws_sdk_kms::Client::new(&member(&moto, MEMBER, "OrgwatchReadOnly", "us-east-1").await);
    for k in 0..3 {
        kms.create_key()
            .description(format!("member key {k}"))
            .send()
            .await
            .unwrap();
    }
    // The management account signs with the access key "test"; the member with the keys
    // of its assumed role.
    let proxy = throttler_in(&moto.url, "TrentService.ListKeys", "test", 2).await;
    let out = tempfile::tempdir().unwrap();
    let mut opts = options(out.path(), &[]);
    opts.accounts = accounts::Selection::List(vec![
        AccountId::parse(MANAGEMENT).unwrap(),
        AccountId::parse(MEMBER).unwrap(),
    ]);
    let report = orgwatch_collect::run(&through(&proxy).await, &opts, &|_| {})
        .await
        .unwrap();
    assert_eq!(proxy.throttled.load(Ordering::SeqCst), 2);
    for account in [MANAGEMENT, MEMBER] {
        let kms = report
            .ledger
            .entries
            .iter()
            .find(|e| e.part == "security.kms" && e.account.as_str() == account)
            .unwrap();
        assert_eq!((kms.status, kms.items), (Status::Ok, 3), "{kms}");
    }
    // Each throttled retry of the management account waits about 20 s. The member's 7 KMS
    // calls (ListKeys, then DescribeKey and GetKeyRotationStatus per key) are not queued
    // behind those retries: orgwatch's rate limiter is keyed by account, and the member is
    // read while the management account waits. They are done before its ListKeys is
    // answered at last (and each account-region's clients have their own adaptive limiter:
    // `each_account_region_adapts_to_throttling_on_its_own`).
    let member_calls = proxy.times_where("TrentService.", |k| k != "test");
    assert_eq!(member_calls.len(), 7, "the member's KMS calls");
    let answered = *proxy
        .times_where("TrentService.ListKeys", |k| k == "test")
        .last()
        .unwrap();
    assert!(
        member_calls[6] < answered,
        "the member's last KMS call came {:?} after the throttled account's ListKeys was answered",
        member_calls[6].duration_since(answered)
    );
    // Two throttled ListKeys of the management account, then the answered one.
    assert_eq!(
        proxy
            .times_where("TrentService.ListKeys", |k| k == "test")
            .len(),
        3
    );
}

/// How long `b`'s 10 ListKeys take once `a`'s ListKeys (throttled without end by `proxy`)
/// has been throttled (again).
async fn slowed_after_a_throttle(
    proxy: &Throttler,
    a: aws_sdk_kms::Client,
    b: &aws_sdk_kms::Client,
) -> Duration {
    let before = proxy.throttled.load(Ordering::SeqCst);
    let stuck = tokio::spawn(async move { a.list_keys().send().await });
    while proxy.throttled.load(Ordering::SeqCst) == before {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let start = Instant::now();
    for _ in 0..10 {
        b.list_keys().send().await.unwrap();
    }
    let took = start.elapsed();
    stuck.abort();
    took
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_account_region_adapts_to_throttling_on_its_own() {
    let moto = Moto::start();
    const MEMBER: &str = "222222222222";
    let member_credentials = member(&moto, MEMBER, "OrgwatchReadOnly", "us-east-1")
        .await
        .credentials_provider()
        .unwrap();
    // Every ListKeys of the management account (access key "test") is throttled.
    let proxy = throttler_in(&moto.url, "TrentService.ListKeys", "test", usize::MAX).await;
    let management = through(&proxy).await;
    let member = management
        .to_builder()
        .credentials_provider(member_credentials)
        .build();

    // Why orgwatch builds its clients with `aws_client!`: on the SDK's default retry
    // partition (one per service and region in the process) the management account's
    // throttle turns on the adaptive limiter the member's client shares, which then lets
    // about two calls a second through (seen: the first after 0.85 s, then one every 0.5 s).
    let shared = slowed_after_a_throttle(
        &proxy,
        aws_sdk_kms::Client::new(&management),
        &aws_sdk_kms::Client::new(&member),
    )
    .await;
    assert!(shared >= Duration::from_millis(2500), "{shared:?}");

    // Each of orgwatch's clients has its own limiter: the member's calls go at once.
    let own = slowed_after_a_throttle(
        &proxy,
        orgwatch_collect::aws_client!(aws_sdk_kms, &management),
        &orgwatch_collect::aws_client!(aws_sdk_kms, &member),
    )
    .await;
    assert!(own < Duration::from_millis(2500), "{own:?}");
}
