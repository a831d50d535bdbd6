//! What a queued message body is: an S3 event notification naming the objects created (one
//! record per object; S3 sends one per message), `s3:TestEvent` (sent when notifications are
//! configured), an EventBridge CloudTrail event (one API call, sign-in or service event, by an
//! EventBridge rule targeting the queue), or a body that is none of these. Also read: the
//! same wrapped by SNS (a topic between bucket or rule and queue), and EventBridge's
//! `Object Created` events of S3.

use serde_json::{Map, Value};

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
    /// An EventBridge CloudTrail event (`detail-type` `… via CloudTrail`, whatever its
    /// `source`): its `detail`, one CloudTrail record, with `recipientAccountId` and
    /// `awsRegion` taken from the envelope's `account` and `region` where the record lacks
    /// them (a record that has them keeps its own).
    CloudTrail(Map<String, Value>),
    /// An EventBridge event of another kind: neither CloudTrail's nor one of S3's.
    OtherEvent {
        /// Its `source` (`aws.ec2`, …).
        source: String,
        /// Its `detail-type`.
        detail_type: String,
    },
}

/// The end of every `detail-type` of an event CloudTrail sends to EventBridge ("AWS API Call
/// via CloudTrail", "AWS Console Sign In via CloudTrail", "AWS Service Event via
/// CloudTrail", …): the rule the activity decoder applies to envelopes too.
pub const CLOUDTRAIL_DETAIL_TYPE_SUFFIX: &str = "via CloudTrail";

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
    if let Some(detail_type) = v.get("detail-type").and_then(Value::as_str) {
        // Before S3's own events: a CloudTrail event of an S3 API call has source `aws.s3`.
        if detail_type.ends_with(CLOUDTRAIL_DETAIL_TYPE_SUFFIX) {
            return cloudtrail_event(v, detail_type);
        }
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
    if let (Some(source), Some(detail_type)) = (
        v.get("source").and_then(Value::as_str),
        v.get("detail-type").and_then(Value::as_str),
    ) {
        return Ok(Notification::OtherEvent {
            source: source.to_owned(),
            detail_type: detail_type.to_owned(),
        });
    }
    Err(Malformed(
        "no Records, no s3:TestEvent, no EventBridge detail-type".into(),
    ))
}

/// The CloudTrail record of an EventBridge event whose `detail-type` is CloudTrail's.
fn cloudtrail_event(v: &Value, detail_type: &str) -> Result<Notification, Malformed> {
    let mut record = match v.get("detail") {
        Some(Value::Object(detail)) => detail.clone(),
        Some(other) => {
            return Err(Malformed(format!(
                "an EventBridge {detail_type:?} event whose detail is {}, not a CloudTrail record",
                json_kind(other)
            )))
        }
        None => {
            return Err(Malformed(format!(
                "an EventBridge {detail_type:?} event without a detail"
            )))
        }
    };
    // EventBridge delivers the record as CloudTrail wrote it; the envelope names the account
    // and region too, which matter to the event's key and rollups when the record lacks them.
    for (field, envelope) in [("recipientAccountId", "account"), ("awsRegion", "region")] {
        if record
            .get(field)
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
        {
            if let Some(value) = v.get(envelope).and_then(Value::as_str) {
                record.insert(field.to_owned(), Value::String(value.to_owned()));
            }
        }
    }
    Ok(Notification::CloudTrail(record))
}

/// A JSON value's kind, for messages.
fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
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
    fn an_eventbridge_cloudtrail_event_is_its_record_with_the_envelopes_account_and_region_where_it_lacks_them(
    ) {
        use orgwatch_test_support::cloudtrail::{eventbridge_event, records};
        let records = records();
        let mut filled = 0;
        for (i, record) in records.iter().enumerate() {
            let event = eventbridge_event(record, &format!("id-{i}"));
            let Ok(Notification::CloudTrail(got)) = parse(&event.to_string()) else {
                panic!("record {i}: {event}");
            };
            let mut want = record.as_object().unwrap().clone();
            for (field, envelope) in [("recipientAccountId", "account"), ("awsRegion", "region")] {
                if !want.contains_key(field) {
                    want.insert(field.into(), event[envelope].clone());
                    filled += 1;
                }
            }
            assert_eq!(got, want, "record {i}");
        }
        // The samples have one record without recipientAccountId, two without awsRegion.
        assert_eq!(filled, 3);
        // A record that names its account keeps it, whatever the envelope says.
        let mut event = eventbridge_event(&records[0], "x");
        event["account"] = "999999999999".into();
        event["region"] = "eu-north-1".into();
        let Ok(Notification::CloudTrail(got)) = parse(&event.to_string()) else {
            panic!("{event}");
        };
        assert_eq!(got["recipientAccountId"], records[0]["recipientAccountId"]);
        assert_eq!(got["awsRegion"], records[0]["awsRegion"]);
    }

    #[test]
    fn every_cloudtrail_detail_type_is_read_whatever_the_source_and_through_sns() {
        let record = serde_json::json!({"eventVersion": "1.08", "eventTime": "2026-12-04T05:00:00Z",
            "eventSource": "s3.amazonaws.com", "eventName": "PutObject", "eventID": "e1",
            "recipientAccountId": "210987654321", "awsRegion": "eu-west-1"});
        for detail_type in [
            "AWS API Call via CloudTrail",
            "AWS Console Sign In via CloudTrail",
            "AWS Service Event via CloudTrail",
            "AWS Insight via CloudTrail",
        ] {
            // Source aws.s3: an S3 data event, not one of S3's own Object Created events.
            let event = serde_json::json!({"version": "0", "id": "1", "detail-type": detail_type,
                "source": "aws.s3", "account": "210987654321", "time": "2026-12-04T05:00:00Z",
                "region": "eu-west-1", "resources": [], "detail": record});
            let want = Notification::CloudTrail(record.as_object().unwrap().clone());
            assert_eq!(parse(&event.to_string()).unwrap(), want, "{detail_type}");
            let sns = serde_json::json!({"Type": "Notification", "MessageId": "m",
                "TopicArn": "arn:aws:sns:eu-west-1:210987654321:t", "Message": event.to_string()});
            assert_eq!(
                parse(&sns.to_string()).unwrap(),
                want,
                "{detail_type} by SNS"
            );
        }
    }

    #[test]
    fn other_eventbridge_events_are_named_by_source_and_detail_type() {
        let ec2 = r#"{"version":"0","id":"1","detail-type":"EC2 Instance State-change Notification",
            "source":"aws.ec2","account":"210987654321","time":"2026-12-04T05:00:00Z",
            "region":"eu-west-1","resources":[],"detail":{"instance-id":"i-1","state":"running"}}"#;
        assert_eq!(
            parse(ec2).unwrap(),
            Notification::OtherEvent {
                source: "aws.ec2".into(),
                detail_type: "EC2 Instance State-change Notification".into(),
            }
        );
        // S3's own events other than Object Created name nothing to read, as removals do.
        let deleted = r#"{"version":"0","detail-type":"Object Deleted","source":"aws.s3",
            "detail":{"bucket":{"name":"b"},"object":{"key":"k"}}}"#;
        assert_eq!(parse(deleted).unwrap(), Notification::Created(vec![]));
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
            (
                r#"{"detail-type":"AWS API Call via CloudTrail","source":"aws.s3","detail":"{}"}"#,
                r#"an EventBridge "AWS API Call via CloudTrail" event whose detail is a string, not a CloudTrail record"#,
            ),
            (
                r#"{"detail-type":"AWS Console Sign In via CloudTrail","source":"aws.signin"}"#,
                "event without a detail",
            ),
            (
                r#"{"detail-type":"AWS API Call via CloudTrail","detail":[1]}"#,
                "whose detail is an array",
            ),
        ] {
            let e = parse(body).unwrap_err();
            assert!(e.to_string().contains(why), "{body}: {e}");
        }
    }
}
