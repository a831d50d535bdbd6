//! One CloudTrail record read from a byte slice straight into [`RecordFields`]: strings are
//! borrowed from the slice, the fields no report needs (`requestParameters`,
//! `responseElements`, …) are checked like any JSON but never built, and no `Map` is made.
//!
//! It reads exactly what the `Map` path reads, with the same leniency (a value of another type
//! counts as absent, the last of duplicate keys wins) and accepts exactly the JSON serde_json's
//! `Value` accepts (every value goes through `deserialize_any`, so strings are checked for
//! UTF-8 and escapes and numbers for range as a `Value` would be). Records it does not handle
//! — digests, EventBridge envelopes, records without `eventID` (whose key is the hash of the
//! whole record) — are left to the `Map` path.

use orgwatch_model::activity::read_only_text;
use orgwatch_model::{ActivityEvent, IdentityFields, RecordFields};
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use std::borrow::Cow;
use std::fmt;

/// What [`record`] did with a slice.
pub(crate) enum Fast {
    /// Counted: an event, an undecodable record or a skipped insight.
    Done,
    /// Valid JSON it leaves to the `Map` path.
    Slow,
    /// Not valid JSON.
    Invalid(serde_json::Error),
}

/// Any JSON value, checked as `Value` would check it, and dropped.
struct Ignore;

impl<'de> de::Deserialize<'de> for Ignore {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Lax::visitor()).map(|_| Ignore)
    }
}

/// A JSON value read leniently: its text, its boolean, or something else.
enum Lax<'a> {
    Text(Cow<'a, str>),
    Bool(bool),
    Other,
}

struct LaxVisitor;

impl Lax<'_> {
    fn visitor() -> LaxVisitor {
        LaxVisitor
    }
    fn text<'b>(self) -> Option<Cow<'b, str>>
    where
        Self: 'b,
    {
        match self {
            Lax::Text(t) => Some(t),
            _ => None,
        }
    }
}

impl<'de> Visitor<'de> for LaxVisitor {
    type Value = Lax<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Lax<'de>, E> {
        Ok(Lax::Text(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Lax<'de>, E> {
        Ok(Lax::Text(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Lax<'de>, E> {
        Ok(Lax::Text(Cow::Owned(v)))
    }
    fn visit_bool<E>(self, v: bool) -> Result<Lax<'de>, E> {
        Ok(Lax::Bool(v))
    }
    fn visit_i64<E>(self, _: i64) -> Result<Lax<'de>, E> {
        Ok(Lax::Other)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Lax<'de>, E> {
        Ok(Lax::Other)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Lax<'de>, E> {
        Ok(Lax::Other)
    }
    fn visit_unit<E>(self) -> Result<Lax<'de>, E> {
        Ok(Lax::Other)
    }
    fn visit_none<E>(self) -> Result<Lax<'de>, E> {
        Ok(Lax::Other)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Lax<'de>, A::Error> {
        while seq.next_element::<Ignore>()?.is_some() {}
        Ok(Lax::Other)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Lax<'de>, A::Error> {
        while map.next_key::<Ignore>()?.is_some() {
            map.next_value::<Ignore>()?;
        }
        Ok(Lax::Other)
    }
}

impl<'de> de::Deserialize<'de> for Lax<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(LaxVisitor)
    }
}

/// An object key, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> de::Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        match d.deserialize_any(LaxVisitor)? {
            Lax::Text(t) => Ok(Key(t)),
            _ => Err(de::Error::custom("key must be a string")),
        }
    }
}

/// Visitor methods for a value that is not an object: checked, then `None`.
macro_rules! not_an_object {
    () => {
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<Ignore>()?.is_some() {}
            Ok(None)
        }
        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("any JSON value")
        }
    };
}

/// Deserializes `$t` (an `Option` of something built by a map visitor) through `$v`.
macro_rules! seed {
    ($name:ident, $v:ident, $out:ty) => {
        struct $name;
        impl<'de> DeserializeSeed<'de> for $name {
            type Value = Option<$out>;
            fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any($v)
            }
        }
    };
}

/// `{"userName": …}` (of `sessionIssuer`) or `{"userId": …}` (of `onBehalfOf`): that text.
struct OneText(&'static str);

impl<'de> DeserializeSeed<'de> for OneText {
    type Value = Option<Option<Cow<'de, str>>>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for OneText {
    type Value = Option<Option<Cow<'de, str>>>;
    not_an_object!();
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = None;
        while let Some(Key(k)) = map.next_key()? {
            if k == self.0 {
                out = map.next_value::<Lax>()?.text();
            } else {
                map.next_value::<Ignore>()?;
            }
        }
        Ok(Some(out))
    }
}

/// `sessionContext`: `sessionIssuer.userName`.
struct SessionContext;

impl<'de> Visitor<'de> for SessionContext {
    type Value = Option<Option<Cow<'de, str>>>;
    not_an_object!();
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = None;
        while let Some(Key(k)) = map.next_key()? {
            if k == "sessionIssuer" {
                out = map.next_value_seed(OneText("userName"))?.flatten();
            } else {
                map.next_value::<Ignore>()?;
            }
        }
        Ok(Some(out))
    }
}

seed!(SessionContextSeed, SessionContext, Option<Cow<'de, str>>);

/// The fields of `userIdentity` that are read.
#[derive(Default)]
struct Identity<'a> {
    kind: Option<Cow<'a, str>>,
    user_name: Option<Cow<'a, str>>,
    arn: Option<Cow<'a, str>>,
    principal_id: Option<Cow<'a, str>>,
    account_id: Option<Cow<'a, str>>,
    invoked_by: Option<Cow<'a, str>>,
    issuer_user_name: Option<Cow<'a, str>>,
    on_behalf_of_user_id: Option<Cow<'a, str>>,
}

impl Identity<'_> {
    fn fields(&self) -> IdentityFields<'_> {
        IdentityFields {
            kind: self.kind.as_deref(),
            user_name: self.user_name.as_deref(),
            arn: self.arn.as_deref(),
            principal_id: self.principal_id.as_deref(),
            account_id: self.account_id.as_deref(),
            invoked_by: self.invoked_by.as_deref(),
            issuer_user_name: self.issuer_user_name.as_deref(),
            on_behalf_of_user_id: self.on_behalf_of_user_id.as_deref(),
        }
    }
}

struct IdentityVisitor;

impl<'de> Visitor<'de> for IdentityVisitor {
    type Value = Option<Identity<'de>>;
    not_an_object!();
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut u = Identity::default();
        while let Some(Key(k)) = map.next_key()? {
            let text = match &*k {
                "type" => &mut u.kind,
                "userName" => &mut u.user_name,
                "arn" => &mut u.arn,
                "principalId" => &mut u.principal_id,
                "accountId" => &mut u.account_id,
                "invokedBy" => &mut u.invoked_by,
                "sessionContext" => {
                    u.issuer_user_name = map.next_value_seed(SessionContextSeed)?.flatten();
                    continue;
                }
                "onBehalfOf" => {
                    u.on_behalf_of_user_id = map.next_value_seed(OneText("userId"))?.flatten();
                    continue;
                }
                _ => {
                    map.next_value::<Ignore>()?;
                    continue;
                }
            };
            *text = map.next_value::<Lax>()?.text();
        }
        Ok(Some(u))
    }
}

seed!(IdentitySeed, IdentityVisitor, Identity<'de>);

/// What is read of one record.
#[derive(Default)]
struct Record<'a> {
    event_time: Option<Cow<'a, str>>,
    event_source: Option<Cow<'a, str>>,
    event_name: Option<Cow<'a, str>>,
    event_id: Option<Cow<'a, str>>,
    recipient_account_id: Option<Cow<'a, str>>,
    aws_region: Option<Cow<'a, str>>,
    source_ip_address: Option<Cow<'a, str>>,
    user_agent: Option<Cow<'a, str>>,
    error_code: Option<Cow<'a, str>>,
    event_type: Option<Cow<'a, str>>,
    invoked_by: Option<Cow<'a, str>>,
    read_only: Option<bool>,
    user_identity: Option<Identity<'a>>,
    /// `responseElements.ConsoleLogin`.
    console_login: Option<Cow<'a, str>>,
    /// The record has an `errorMessage`.
    error_message: bool,
    /// `eventCategory` is `"Insight"`.
    insight_category: bool,
    /// Keys whose presence matters: `insightDetails`, and those of digests and envelopes.
    insight_details: bool,
    digest_start: bool,
    digest_end: bool,
    aws_account_id: bool,
    log_files: bool,
    detail_type: bool,
    detail: bool,
}

struct RecordVisitor;

impl<'de> Visitor<'de> for RecordVisitor {
    type Value = Option<Record<'de>>;
    not_an_object!();
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut r = Record::default();
        while let Some(Key(k)) = map.next_key()? {
            let text = match &*k {
                "eventTime" => &mut r.event_time,
                "eventSource" => &mut r.event_source,
                "eventName" => &mut r.event_name,
                "eventID" => &mut r.event_id,
                "recipientAccountId" => &mut r.recipient_account_id,
                "awsRegion" => &mut r.aws_region,
                "sourceIPAddress" => &mut r.source_ip_address,
                "userAgent" => &mut r.user_agent,
                "errorCode" => &mut r.error_code,
                "eventType" => &mut r.event_type,
                "invokedBy" => &mut r.invoked_by,
                "readOnly" => {
                    r.read_only = match map.next_value::<Lax>()? {
                        Lax::Bool(b) => Some(b),
                        Lax::Text(t) => read_only_text(&t),
                        Lax::Other => None,
                    };
                    continue;
                }
                "userIdentity" => {
                    r.user_identity = map.next_value_seed(IdentitySeed)?;
                    continue;
                }
                "responseElements" => {
                    r.console_login = map.next_value_seed(OneText("ConsoleLogin"))?.flatten();
                    continue;
                }
                "eventCategory" => {
                    r.insight_category = map
                        .next_value::<Lax>()?
                        .text()
                        .is_some_and(|c| c == "Insight");
                    continue;
                }
                other => {
                    match other {
                        "insightDetails" => r.insight_details = true,
                        "errorMessage" => r.error_message = true,
                        "digestStartTime" => r.digest_start = true,
                        "digestEndTime" => r.digest_end = true,
                        "awsAccountId" => r.aws_account_id = true,
                        "logFiles" => r.log_files = true,
                        "detail-type" => r.detail_type = true,
                        "detail" => r.detail = true,
                        _ => {}
                    }
                    map.next_value::<Ignore>()?;
                    continue;
                }
            };
            *text = map.next_value::<Lax>()?.text();
        }
        Ok(Some(r))
    }
}

seed!(RecordSeed, RecordVisitor, Record<'de>);

/// Reads one record (a slice holding exactly one JSON value, normally an object) into `sink`.
pub(crate) fn record(slice: &[u8], sink: &mut dyn crate::Sink) -> Fast {
    // UTF-8 checked once for the whole record (not string by string); invalid UTF-8 is left
    // to the `Map` path, which reports it as serde_json does.
    let Ok(text) = std::str::from_utf8(slice) else {
        return Fast::Slow;
    };
    let mut de = serde_json::Deserializer::from_str(text);
    let rec = match RecordSeed
        .deserialize(&mut de)
        .and_then(|r| de.end().map(|()| r))
    {
        Ok(Some(r)) => r,
        Ok(None) => return Fast::Slow,
        Err(e) => return Fast::Invalid(e),
    };
    // The order of handle_object and handle_event: digest, envelope, insight, event.
    let digest = rec.digest_start || rec.digest_end || (rec.aws_account_id && rec.log_files);
    if digest || (rec.detail_type && rec.detail) {
        return Fast::Slow;
    }
    if rec.insight_category || rec.insight_details {
        sink.skipped("insight");
        return Fast::Done;
    }
    if rec.event_id.as_deref().is_none_or(str::is_empty) {
        return Fast::Slow;
    }
    let identity = rec.user_identity.as_ref().map(Identity::fields);
    let fields = RecordFields {
        event_time: rec.event_time.as_deref(),
        event_source: rec.event_source.as_deref(),
        event_name: rec.event_name.as_deref(),
        event_id: rec.event_id.as_deref(),
        recipient_account_id: rec.recipient_account_id.as_deref(),
        aws_region: rec.aws_region.as_deref(),
        source_ip_address: rec.source_ip_address.as_deref(),
        user_agent: rec.user_agent.as_deref(),
        error_code: rec.error_code.as_deref(),
        event_type: rec.event_type.as_deref(),
        invoked_by: rec.invoked_by.as_deref(),
        read_only: rec.read_only,
        user_identity: identity,
        console_login: rec.console_login.as_deref(),
        has_error_message: rec.error_message,
    };
    match ActivityEvent::from_fields(&fields, None) {
        Ok(ev) => sink.event(ev),
        Err(e) => sink.undecodable(e.to_string()),
    }
    Fast::Done
}
