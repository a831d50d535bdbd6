//! A `moto_server` (the AWS API emulator) per test, on a free loopback port, and plain
//! HTTP requests to it for seeding what a test needs without an AWS SDK.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// moto's default account: any credentials it did not issue are this account's.
pub const MANAGEMENT: &str = "123456789012";

/// A running moto_server, stopped on drop.
pub struct Moto {
    child: Child,
    /// `http://127.0.0.1:PORT`
    pub url: String,
    port: u16,
}

/// The moto_server to run: `ORGWATCH_MOTO_SERVER`, else the workspace's `.venv`. CI installs
/// it (scripts/test), so a missing one fails the test rather than skipping it.
pub fn moto_server() -> PathBuf {
    if let Some(p) = std::env::var_os("ORGWATCH_MOTO_SERVER") {
        return PathBuf::from(p);
    }
    let venv = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../.venv/bin/moto_server"
    ));
    assert!(
        venv.exists(),
        "moto_server not found: set ORGWATCH_MOTO_SERVER or run scripts/test, which installs \
         moto[server] into .venv ({} does not exist)",
        venv.display()
    );
    venv
}

impl Moto {
    /// Starts moto_server on a free port of 127.0.0.1 and waits until it answers.
    pub fn start() -> Moto {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap();
        let bin = moto_server();
        let child = Command::new(&bin)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            // moto turns a requested certificate ISSUED 60 s after the request: a test slowed
            // by a busy machine saw it change between two reads of the same organisation.
            .env("MOTO_ACM_VALIDATION_WAIT", "86400")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let mut moto = Moto {
            child,
            url: format!("http://127.0.0.1:{port}"),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Some(status) = moto.child.try_wait().unwrap() {
                panic!("moto_server exited at start: {status}");
            }
            if moto.raw("GET", "/moto-api/", &[], "").is_some() {
                return moto;
            }
            assert!(
                Instant::now() < deadline,
                "moto_server did not answer in 60 s"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// One plain HTTP/1.1 request (moto checks no signature until auth is switched on); the
    /// status code.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Option<u16> {
        self.request(method, path, headers, body)
            .map(|(status, _)| status)
    }

    /// One plain HTTP/1.1 request; the status code and the body.
    pub fn request(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> Option<(u16, String)> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        s.set_read_timeout(Some(Duration::from_secs(30))).ok()?;
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(body);
        s.write_all(req.as_bytes()).ok()?;
        let mut answer = String::new();
        s.read_to_string(&mut answer).ok()?;
        let status = answer.split_whitespace().nth(1)?.parse().ok()?;
        let body = answer
            .split_once("\r\n\r\n")
            .map(|(_, b)| b.to_owned())
            .unwrap_or_default();
        Some((status, body))
    }

    /// A query-protocol call (IAM, STS) in `account`: `params` are form fields besides
    /// `Action` and `Version`. The status code and the XML answer.
    pub fn query_call(
        &self,
        account: &str,
        service: &str,
        version: &str,
        action: &str,
        params: &[(&str, &str)],
    ) -> (u16, String) {
        let mut body = format!("Action={action}&Version={version}");
        for (k, v) in params {
            body.push_str(&format!("&{}={}", encode(k), encode(v)));
        }
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/{service}/aws4_request, \
             SignedHeaders=host, Signature=0"
        );
        self.request(
            "POST",
            "/",
            &[
                ("x-moto-account-id", account),
                ("Content-Type", "application/x-www-form-urlencoded"),
                ("Authorization", &auth),
            ],
            &body,
        )
        .unwrap_or_else(|| panic!("{service} {action}: no answer"))
    }

    /// From now on moto checks every request's signature and IAM policies (its
    /// `INITIAL_NO_AUTH_ACTION_COUNT` set to 0).
    pub fn enforce_iam(&self) {
        let status = self.raw("POST", "/moto-api/reset-auth", &[], "0");
        assert_eq!(status, Some(200), "switching moto's IAM checks on");
    }

    /// Creates an S3 bucket in `account` (moto's `x-moto-account-id`), for a trail to log to.
    pub fn create_bucket(&self, account: &str, bucket: &str) {
        let status = self.raw(
            "PUT",
            &format!("/{bucket}"),
            &[("x-moto-account-id", account)],
            "",
        );
        assert_eq!(status, Some(200), "creating bucket {bucket} in {account}");
    }

    /// A JSON-protocol call (KMS, Secrets Manager, ...) in `account` and `region`, as
    /// `target` (`TrentService.CreateKey`); moto routes it by the credential scope's
    /// service and takes the account from `x-moto-account-id`. The status code.
    pub fn json_call(
        &self,
        account: &str,
        region: &str,
        service: &str,
        target: &str,
        body: &str,
    ) -> Option<u16> {
        self.json_request(account, region, service, target, "1.1", body)
            .map(|(status, _)| status)
    }

    /// [`Moto::json_call`] in JSON protocol `version` (`1.0` for SQS, `1.1` for the others):
    /// the status code and the body.
    fn json_request(
        &self,
        account: &str,
        region: &str,
        service: &str,
        target: &str,
        version: &str,
        body: &str,
    ) -> Option<(u16, String)> {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential=test/20260101/{region}/{service}/aws4_request, \
             SignedHeaders=host, Signature=0"
        );
        let content_type = format!("application/x-amz-json-{version}");
        self.request(
            "POST",
            "/",
            &[
                ("x-moto-account-id", account),
                ("X-Amz-Target", target),
                ("Content-Type", &content_type),
                ("Authorization", &auth),
            ],
            body,
        )
    }
}

/// The region the S3 and SQS helpers work in.
pub const REGION: &str = "us-east-1";

impl Moto {
    /// A JSON-protocol call (`application/x-amz-json-1.0`, as SQS speaks it) in moto's
    /// default account and [`REGION`]; panics unless it answers 200. The answer, parsed.
    pub fn json(&self, service: &str, target: &str, body: &serde_json::Value) -> serde_json::Value {
        let (status, answer) = self
            .json_request(
                MANAGEMENT,
                REGION,
                service,
                target,
                "1.0",
                &body.to_string(),
            )
            .unwrap_or_else(|| panic!("{target}: no answer"));
        assert_eq!(status, 200, "{target}: {answer}");
        serde_json::from_str(&answer).unwrap_or(serde_json::Value::Null)
    }

    /// Creates an SQS queue with `attributes` (strings, as SQS takes them); its URL.
    pub fn create_queue(&self, name: &str, attributes: serde_json::Value) -> String {
        let answer = self.json(
            "sqs",
            "AmazonSQS.CreateQueue",
            &serde_json::json!({ "QueueName": name, "Attributes": attributes }),
        );
        answer["QueueUrl"].as_str().unwrap().to_owned()
    }

    /// The ARN of the queue `name` in moto's default account and [`REGION`].
    pub fn queue_arn(name: &str) -> String {
        format!("arn:aws:sqs:{REGION}:{MANAGEMENT}:{name}")
    }

    /// A queue's messages: (visible, in flight).
    pub fn queue_depth(&self, url: &str) -> (u64, u64) {
        let answer = self.json(
            "sqs",
            "AmazonSQS.GetQueueAttributes",
            &serde_json::json!({
                "QueueUrl": url,
                "AttributeNames": ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
            }),
        );
        let n = |k: &str| answer["Attributes"][k].as_str().unwrap().parse().unwrap();
        (
            n("ApproximateNumberOfMessages"),
            n("ApproximateNumberOfMessagesNotVisible"),
        )
    }

    /// Sends `body` to a queue.
    pub fn send_message(&self, url: &str, body: &str) {
        self.json(
            "sqs",
            "AmazonSQS.SendMessage",
            &serde_json::json!({ "QueueUrl": url, "MessageBody": body }),
        );
    }

    /// Sends `bodies` to a queue in order, ten to a request (SendMessageBatch).
    pub fn send_messages(&self, url: &str, bodies: &[String]) {
        for (n, chunk) in bodies.chunks(10).enumerate() {
            let entries: Vec<serde_json::Value> = chunk
                .iter()
                .enumerate()
                .map(|(i, body)| serde_json::json!({ "Id": format!("m{n}-{i}"), "MessageBody": body }))
                .collect();
            let answer = self.json(
                "sqs",
                "AmazonSQS.SendMessageBatch",
                &serde_json::json!({ "QueueUrl": url, "Entries": entries }),
            );
            let failed = answer["Failed"].as_array().map_or(0, Vec::len);
            assert_eq!(failed, 0, "SendMessageBatch: {answer}");
        }
    }

    /// Receives up to 10 messages of a queue, making them invisible for `visibility` seconds:
    /// each as (body, its `orgwatch-reason` attribute).
    pub fn receive(&self, url: &str, visibility: u32) -> Vec<(String, Option<String>)> {
        let answer = self.json(
            "sqs",
            "AmazonSQS.ReceiveMessage",
            &serde_json::json!({
                "QueueUrl": url,
                "MaxNumberOfMessages": 10,
                "VisibilityTimeout": visibility,
                "MessageAttributeNames": ["All"],
            }),
        );
        answer["Messages"]
            .as_array()
            .map(|ms| {
                ms.iter()
                    .map(|m| {
                        let reason = m["MessageAttributes"]["orgwatch-reason"]["StringValue"]
                            .as_str()
                            .map(str::to_owned);
                        (m["Body"].as_str().unwrap_or_default().to_owned(), reason)
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Has S3 notify the queue `queue_arn` of every object created in `bucket` under `prefix`.
    pub fn notify_queue(&self, bucket: &str, queue_arn: &str, prefix: &str) {
        let xml = format!(
            "<NotificationConfiguration><QueueConfiguration><Id>orgwatch</Id>\
             <Queue>{queue_arn}</Queue><Event>s3:ObjectCreated:*</Event>\
             <Filter><S3Key><FilterRule><Name>prefix</Name><Value>{prefix}</Value></FilterRule>\
             </S3Key></Filter></QueueConfiguration></NotificationConfiguration>"
        );
        let status = self.raw(
            "PUT",
            &format!("/{bucket}?notification"),
            &[("x-moto-account-id", MANAGEMENT)],
            &xml,
        );
        assert_eq!(status, Some(200), "notifications of {bucket}");
    }

    /// Creates a KMS key in [`REGION`]; its id.
    pub fn create_kms_key(&self) -> String {
        let (status, answer) = self
            .json_request(
                MANAGEMENT,
                REGION,
                "kms",
                "TrentService.CreateKey",
                "1.1",
                r#"{"Description": "orgwatch snapshots"}"#,
            )
            .unwrap();
        assert_eq!(status, 200, "{answer}");
        let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
        v["KeyMetadata"]["KeyId"].as_str().unwrap().to_owned()
    }

    /// The environment that points the AWS SDK (of the binary, or of a test) at this moto and
    /// at nothing of the machine's own AWS set-up.
    pub fn sdk_env(&self) -> Vec<(&'static str, String)> {
        let none = std::env::temp_dir().join("orgwatch-no-aws-config");
        vec![
            ("AWS_ENDPOINT_URL", self.url.clone()),
            ("AWS_ACCESS_KEY_ID", "test".to_owned()),
            ("AWS_SECRET_ACCESS_KEY", "test".to_owned()),
            ("AWS_REGION", REGION.to_owned()),
            ("AWS_CONFIG_FILE", none.display().to_string()),
            ("AWS_SHARED_CREDENTIALS_FILE", none.display().to_string()),
            ("AWS_EC2_METADATA_DISABLED", "true".to_owned()),
        ]
    }
}

/// Percent-encodes a form value (everything but unreserved characters).
pub fn encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The text of the first `<tag>...</tag>` of an XML answer.
pub fn xml_text(xml: &str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = xml[start..].find(&format!("</{tag}>"))? + start;
    Some(xml[start..end].to_owned())
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
