//! What an S3 event notification names: the objects created (one record per object; S3
//! sends one per message), `s3:TestEvent` (sent when notifications are configured), or a
//! body that is none of these. Also read: the same event wrapped by SNS (a topic between
//! bucket and queue), and EventBridge's `Object Created` events of S3.

use serde_json::Value;

/// An object a notification says was created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    /// The bucket.
    pub bucket: String,
    /// The key, decoded (notifications URL-encode it, with `+` for a space).
    pub key: String,
    /// The object's size, when said.
    pub size: Option<u64>,
}

/// What a message body is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// `s3:TestEvent`: S3 checking it may write to the queue. Nothing to read.
    Test,
    /// Objects created; other event kinds (removals, restores) are left out, so this may
    /// be empty.
    Created(Vec<Created>),
}

/// Why a message body is not a notification.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not an S3 event notification: {0}")]
pub struct Malformed(pub String);

/// Reads a message body.
pub fn parse(body: &str) -> Result<Notification, Malformed> {
    let v: Value = serde_json::from_str(body).map_err(|e| Malformed(format!("not JSON ({e})")))?;
    read(&v, 0)
}

fn read(v: &Value, depth: u8) -> Result<Notification, Malformed> {
    if v.get("Event").and_then(Value::as_str) == Some("s3:TestEvent") {
        return Ok(Notification::Test);
    }
    // SNS: the S3 event is the text of `Message`.
    if v.get("Type").and_then(Value::as_str) == Some("Notification") && depth == 0 {
        let inner = v
            .get("Message")
            .and_then(Value::as_str)
            .ok_or_else(|| Malformed("an SNS notification without a Message".into()))?;
        let inner: Value = serde_json::from_str(inner)
            .map_err(|e| Malformed(format!("its SNS Message is not JSON ({e})")))?;
        return read(&inner, 1);
    }
    if let Some(records) = v.get("Records") {
        let records = records
            .as_array()
            .ok_or_else(|| Malformed("Records is not a list".into()))?;
        let mut created = Vec::new();
        for (i, r) in records.iter().enumerate() {
            let name = r.get("eventName").and_then(Value::as_str).unwrap_or("");
            if !name.starts_with("ObjectCreated:") {
                continue;
            }
            let s3 = r.get("s3");
            let bucket = s3
                .and_then(|s| s.pointer("/bucket/name"))
                .and_then(Value::as_str);
            let key = s3
                .and_then(|s| s.pointer("/object/key"))
                .and_then(Value::as_str);
            let (Some(bucket), Some(key)) = (bucket, key) else {
                return Err(Malformed(format!("record {i} names no bucket or key")));
            };
            let key = url_decode(key).ok_or_else(|| {
                Malformed(format!("record {i}: key {key:?} is not URL-encoded UTF-8"))
            })?;
            created.push(Created {
                bucket: bucket.to_owned(),
                key,
                size: s3
                    .and_then(|s| s.pointer("/object/size"))
                    .and_then(Value::as_u64),
            });
        }
        return Ok(Notification::Created(created));
    }
    // EventBridge: `detail-type: Object Created`, the key not encoded.
    if v.get("source").and_then(Value::as_str) == Some("aws.s3") {
        if v.get("detail-type").and_then(Value::as_str) != Some("Object Created") {
            return Ok(Notification::Created(Vec::new()));
        }
        let bucket = v.pointer("/detail/bucket/name").and_then(Value::as_str);
        let key = v.pointer("/detail/object/key").and_then(Value::as_str);
        let (Some(bucket), Some(key)) = (bucket, key) else {
            return Err(Malformed(
                "an Object Created event names no bucket or key".into(),
            ));
        };
        return Ok(Notification::Created(vec![Created {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
            size: v.pointer("/detail/object/size").and_then(Value::as_u64),
        }]));
    }
    Err(Malformed("no Records, no s3:TestEvent".into()))
}

/// Decodes `%HH` and `+` (a space), as S3 encodes keys in notifications.
fn url_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = std::str::from_utf8(b.get(i + 1..i + 3)?).ok()?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A notification as S3 sends it (trimmed of the fields orgwatch does not read).
    fn s3_event(event: &str, key: &str) -> String {
        format!(
            r#"{{"Records":[{{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-east-1",
            "eventName":"{event}","s3":{{"s3SchemaVersion":"1.0","bucket":{{"name":"org-bucket",
            "arn":"arn:aws:s3:::org-bucket"}},"object":{{"key":"{key}","size":1234,"eTag":"x"}}}}}}]}}"#
        )
    }

    #[test]
    fn created_objects_are_named_with_their_keys_decoded() {
        let n = parse(&s3_event(
            "ObjectCreated:Put",
            "p/data/1/us-east-1/a+b%2Bc%C3%A9.json",
        ))
        .unwrap();
        assert_eq!(
            n,
            Notification::Created(vec![Created {
                bucket: "org-bucket".into(),
                key: "p/data/1/us-east-1/a b+cé.json".into(),
                size: Some(1234),
            }])
        );
        assert_eq!(
            parse(&s3_event("ObjectRemoved:Delete", "k")).unwrap(),
            Notification::Created(vec![])
        );
    }

    #[test]
    fn the_test_event_sns_and_eventbridge_forms_are_read() {
        let test = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-12-04T05:00:00.000Z","Bucket":"org-bucket","RequestId":"1","HostId":"2"}"#;
        assert_eq!(parse(test).unwrap(), Notification::Test);
        let sns = serde_json::json!({
            "Type": "Notification",
            "Message": s3_event("ObjectCreated:CompleteMultipartUpload", "x%20y.json.gz"),
        });
        let Notification::Created(c) = parse(&sns.to_string()).unwrap() else {
            panic!("an SNS-wrapped event");
        };
        assert_eq!(c[0].key, "x y.json.gz");
        let eb = r#"{"version":"0","detail-type":"Object Created","source":"aws.s3",
            "detail":{"bucket":{"name":"b"},"object":{"key":"a b.json","size":7}}}"#;
        assert_eq!(
            parse(eb).unwrap(),
            Notification::Created(vec![Created {
                bucket: "b".into(),
                key: "a b.json".into(),
                size: Some(7)
            }])
        );
    }

    #[test]
    fn malformed_bodies_say_why() {
        for (body, why) in [
            ("hello", "not JSON"),
            ("{}", "no Records"),
            (r#"{"Records":{}}"#, "Records is not a list"),
            (
                r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{}}]}"#,
                "record 0 names no bucket or key",
            ),
            (
                r#"{"Records":[{"eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},"object":{"key":"%ZZ"}}}]}"#,
                "is not URL-encoded",
            ),
            (
                r#"{"Type":"Notification","Message":"{"}"#,
                "SNS Message is not JSON",
            ),
        ] {
            let e = parse(body).unwrap_err();
            assert!(e.to_string().contains(why), "{body}: {e}");
        }
    }
}
