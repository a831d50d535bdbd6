//! Every AWS request goes through [`aws_call!`]: it names the request's IAM action, sends it,
//! and turns a failure into a [`CallError`] that says what it means for the data (denied, not
//! enabled, throttled, error). `orgwatch iam-policy` is built from the same action names, and
//! a test checks that the two agree (`tests/iam_policy.rs`).

use aws_sdk_sts::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use std::fmt;

/// Sends one request and classifies its failure: `aws_call!("kms:ListKeys", client.list_keys())`.
///
/// The first argument is the IAM action of the operation the builder makes (checked by a test
/// against the operation's name), the second the request builder, not yet sent. The request
/// first waits for its service's rate limiter ([`limit::acquire`](crate::limit::acquire)).
#[macro_export]
macro_rules! aws_call {
    ($action:literal, $request:expr) => {{
        $crate::limit::acquire($action).await;
        $crate::call::finish($action, $request.send().await)
    }};
}

/// What a failed call means for the data it was to bring.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Failure {
    /// The identity may not make the call (IAM, SCP, or a role that could not be assumed).
    Denied,
    /// The service is not enabled, not subscribed, or the region is not enabled for the account.
    NotEnabled,
    /// Still throttled after the SDK's adaptive retries.
    Throttled,
    /// Anything else: network, a service error, an operation the endpoint does not implement.
    Error,
}

impl Failure {
    /// The ledger's word for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Failure::Denied => "denied",
            Failure::NotEnabled => "not enabled",
            Failure::Throttled => "throttled",
            Failure::Error => "error",
        }
    }
}

/// A failed AWS call: which action, what it means, and the service's own words.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct CallError {
    /// The IAM action of the call (`kms:ListKeys`).
    pub action: &'static str,
    /// What the failure means.
    pub failure: Failure,
    /// The service's error code, when it sent one (`AccessDeniedException`).
    pub code: Option<String>,
    /// The service's message, or the transport error.
    pub message: String,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.action, self.failure.as_str())?;
        if let Some(code) = &self.code {
            write!(f, " ({code})")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// Error codes that mean the caller is not allowed (IAM, SCP, session policy, bad token).
const DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "AuthorizationError",
    "AuthorizationErrorException",
    "UnauthorizedException",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
];

/// Error codes that mean the service (or region) is not on for this account.
const NOT_ENABLED: &[&str] = &[
    "OptInRequired",
    "SubscriptionRequiredException",
    "AWSOrganizationsNotInUseException",
    "UnrecognizedClientException",
    "InvalidSubscriptionException",
    "TrailNotProvidedException",
    // Security Hub: "Account ... is not subscribed to AWS Security Hub".
    "InvalidAccessException",
];

/// Error codes of throttling that outlasted the retries.
const THROTTLED: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "RequestThrottled",
    "RequestThrottledException",
    "SlowDown",
    "LimitExceededException",
];

/// Classifies an error code (`None`: no code, as for a transport error).
pub fn classify_code(code: Option<&str>) -> Failure {
    match code {
        Some(c) if DENIED.contains(&c) => Failure::Denied,
        Some(c) if NOT_ENABLED.contains(&c) => Failure::NotEnabled,
        Some(c) if THROTTLED.contains(&c) => Failure::Throttled,
        _ => Failure::Error,
    }
}

/// Classifies an answer whose error the SDK could not read (no code): by its HTTP status, as
/// a proxy or an emulator may answer in another protocol's error format.
pub fn classify_status(status: u16) -> Failure {
    match status {
        401 | 403 => Failure::Denied,
        429 => Failure::Throttled,
        _ => Failure::Error,
    }
}

/// Longest service or transport message kept (an HTML error page is cut there).
const MAX_MESSAGE: usize = 300;

fn shorten(text: &str) -> String {
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(MAX_MESSAGE) {
        Some((i, _)) => format!("{}...", &one_line[..i]),
        None => one_line,
    }
}

/// The result of `send()`, with a failure classified (used by [`aws_call!`]).
pub fn finish<T, E>(action: &'static str, result: Result<T, SdkError<E>>) -> Result<T, CallError>
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
{
    result.map_err(|err| {
        let code = err.code().map(str::to_owned);
        let status = err.raw_response().map(|r| r.status().as_u16());
        let failure = match (&code, status) {
            (None, Some(status)) => classify_status(status),
            _ => classify_code(code.as_deref()),
        };
        let message = match (err.message(), status, err.raw_response()) {
            (Some(m), _, _) => shorten(m),
            (None, Some(status), Some(raw)) => {
                let body = raw
                    .body()
                    .bytes()
                    .map(String::from_utf8_lossy)
                    .unwrap_or_default();
                shorten(&format!(
                    "HTTP {status} with no AWS error in the answer: {body}"
                ))
            }
            _ => shorten(&DisplayErrorContext(&err).to_string()),
        };
        CallError {
            action,
            failure,
            code,
            message,
        }
    })
}

/// The next page's token of a paged answer: `None` when there is no next page (AWS APIs
/// end with no token, and some with an empty one).
pub fn next_token(token: Option<&str>) -> Option<String> {
    token.filter(|t| !t.is_empty()).map(str::to_owned)
}

/// True when the error is the service saying the thing asked for does not exist (an unset
/// alternate contact, a key deleted between listing and describing it).
pub fn is_not_found(err: &CallError) -> bool {
    err.code.as_deref().is_some_and(|c| {
        c == "ResourceNotFoundException" || c == "NotFoundException" || c == "NotFound"
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_map_to_what_they_mean_for_the_data() {
        assert_eq!(
            classify_code(Some("AccessDeniedException")),
            Failure::Denied
        );
        assert_eq!(classify_code(Some("AccessDenied")), Failure::Denied);
        assert_eq!(
            classify_code(Some("SubscriptionRequiredException")),
            Failure::NotEnabled
        );
        assert_eq!(
            classify_code(Some("UnrecognizedClientException")),
            Failure::NotEnabled
        );
        assert_eq!(
            classify_code(Some("ThrottlingException")),
            Failure::Throttled
        );
        assert_eq!(classify_code(Some("InternalFailure")), Failure::Error);
        assert_eq!(classify_code(None), Failure::Error);
        assert_eq!(classify_status(403), Failure::Denied);
        assert_eq!(classify_status(429), Failure::Throttled);
        assert_eq!(classify_status(404), Failure::Error);
    }

    #[test]
    fn long_messages_become_one_cut_line() {
        let page = format!("<html>\n<title>404</title>\n{}", "x".repeat(1000));
        let s = shorten(&page);
        assert!(s.starts_with("<html> <title>404</title> x"));
        assert!(s.ends_with("...") && s.chars().count() == MAX_MESSAGE + 3);
        assert_eq!(shorten("short"), "short");
    }

    #[test]
    fn the_message_names_action_kind_and_code() {
        let e = CallError {
            action: "kms:ListKeys",
            failure: Failure::Denied,
            code: Some("AccessDeniedException".into()),
            message: "not authorized".into(),
        };
        assert_eq!(
            e.to_string(),
            "kms:ListKeys denied (AccessDeniedException): not authorized"
        );
    }
}
