//! One SQS queue of S3 event notifications: receive, keep a message invisible while its
//! file is worked on, delete it once its file is committed, and the queue's dead-letter
//! queue (from its redrive policy) for a malformed message.

use crate::aws_call;
use crate::call::{CallError, Failure};
use aws_config::SdkConfig;
use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName, QueueAttributeName};

/// The most messages one ReceiveMessage returns (the service's limit).
pub const MAX_BATCH: i32 = 10;

/// The message attribute a quarantined message carries its reason in.
pub const REASON_ATTRIBUTE: &str = "orgwatch-reason";

/// A received message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its id (stable across receives).
    pub id: String,
    /// The handle of this receive: what deletes it or changes its visibility.
    pub receipt: String,
    /// Its body.
    pub body: String,
    /// How many times it was received, this time included.
    pub receives: u32,
}

/// A queue's redrive policy: where a message goes after too many receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Redrive {
    /// The dead-letter queue's ARN.
    pub dead_letter_arn: String,
    /// Receives after which SQS moves a message there.
    pub max_receives: u32,
}

/// A queue, by its URL.
#[derive(Debug, Clone)]
pub struct Queue {
    client: aws_sdk_sqs::Client,
    /// `https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`
    pub url: String,
}

impl Queue {
    /// The queue at `url`, reached with `config`.
    pub fn new(config: &SdkConfig, url: &str) -> Queue {
        Queue {
            client: aws_sdk_sqs::Client::new(config),
            url: url.to_owned(),
        }
    }

    /// Up to [`MAX_BATCH`] messages, waiting up to `wait_seconds` (long polling) for the
    /// first; each stays invisible to other receivers for `visibility_seconds`.
    pub async fn receive(
        &self,
        wait_seconds: i32,
        visibility_seconds: i32,
    ) -> Result<Vec<Message>, CallError> {
        let client = &self.client;
        let got = aws_call!(
            "sqs:ReceiveMessage",
            client
                .receive_message()
                .queue_url(&self.url)
                .max_number_of_messages(MAX_BATCH)
                .wait_time_seconds(wait_seconds)
                .visibility_timeout(visibility_seconds)
                .message_system_attribute_names(
                    MessageSystemAttributeName::ApproximateReceiveCount
                )
        )?;
        Ok(got
            .messages()
            .iter()
            .filter_map(|m| {
                let receives = m
                    .attributes()
                    .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount))
                    .and_then(|n| n.parse().ok())
                    .unwrap_or(1);
                Some(Message {
                    id: m.message_id()?.to_owned(),
                    receipt: m.receipt_handle()?.to_owned(),
                    body: m.body().unwrap_or_default().to_owned(),
                    receives,
                })
            })
            .collect())
    }

    /// Keeps the message of `receipt` invisible for `seconds` more from now (0: visible
    /// again at once).
    pub async fn set_visibility(&self, receipt: &str, seconds: i32) -> Result<(), CallError> {
        let client = &self.client;
        aws_call!(
            "sqs:ChangeMessageVisibility",
            client
                .change_message_visibility()
                .queue_url(&self.url)
                .receipt_handle(receipt)
                .visibility_timeout(seconds)
        )
        .map(drop)
    }

    /// Deletes the message of `receipt`.
    pub async fn delete(&self, receipt: &str) -> Result<(), CallError> {
        let client = &self.client;
        aws_call!(
            "sqs:DeleteMessage",
            client
                .delete_message()
                .queue_url(&self.url)
                .receipt_handle(receipt)
        )
        .map(drop)
    }

    /// The queue's redrive policy, if it has one.
    pub async fn redrive(&self) -> Result<Option<Redrive>, CallError> {
        let client = &self.client;
        let got = aws_call!(
            "sqs:GetQueueAttributes",
            client
                .get_queue_attributes()
                .queue_url(&self.url)
                .attribute_names(QueueAttributeName::RedrivePolicy)
        )?;
        let policy = got
            .attributes()
            .and_then(|a| a.get(&QueueAttributeName::RedrivePolicy));
        Ok(policy.and_then(|p| parse_redrive(p)))
    }

    /// The URL of the queue of ARN `arn` (`arn:aws:sqs:REGION:ACCOUNT:NAME`).
    pub async fn url_of(&self, arn: &str) -> Result<String, CallError> {
        let parts: Vec<&str> = arn.split(':').collect();
        let (Some(account), Some(name)) = (parts.get(4), parts.get(5)) else {
            return Err(CallError {
                action: "sqs:GetQueueUrl",
                failure: Failure::Error,
                code: None,
                message: format!("{arn:?} is not a queue ARN"),
            });
        };
        let client = &self.client;
        let got = aws_call!(
            "sqs:GetQueueUrl",
            client
                .get_queue_url()
                .queue_name(*name)
                .queue_owner_aws_account_id(*account)
        )?;
        Ok(got.queue_url().unwrap_or_default().to_owned())
    }

    /// Sends `body` to the queue at `url` with `reason` as its [`REASON_ATTRIBUTE`].
    pub async fn send_with_reason(
        &self,
        url: &str,
        body: &str,
        reason: &str,
    ) -> Result<(), CallError> {
        let reason = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(reason)
            .build()
            .map_err(|e| CallError {
                action: "sqs:SendMessage",
                failure: Failure::Error,
                code: None,
                message: e.to_string(),
            })?;
        let client = &self.client;
        aws_call!(
            "sqs:SendMessage",
            client
                .send_message()
                .queue_url(url)
                // An empty body is refused by SQS; a malformed message may have had one.
                .message_body(if body.is_empty() { "(empty)" } else { body })
                .message_attributes(REASON_ATTRIBUTE, reason)
        )
        .map(drop)
    }
}

/// A `RedrivePolicy` attribute (`{"deadLetterTargetArn": "...", "maxReceiveCount": 5}`; the
/// count is a number or a string).
pub fn parse_redrive(text: &str) -> Option<Redrive> {
    let v: serde_json::Value = serde_json::from_str(text).ok()?;
    let arn = v.get("deadLetterTargetArn")?.as_str()?.to_owned();
    let max = match v.get("maxReceiveCount")? {
        serde_json::Value::Number(n) => u32::try_from(n.as_u64()?).ok()?,
        serde_json::Value::String(s) => s.parse().ok()?,
        _ => return None,
    };
    Some(Redrive {
        dead_letter_arn: arn,
        max_receives: max,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redrive_policies_give_the_dead_letter_queue_and_the_receive_count() {
        let want = Some(Redrive {
            dead_letter_arn: "arn:aws:sqs:us-east-1:123456789012:dlq".into(),
            max_receives: 3,
        });
        assert_eq!(
            parse_redrive(
                r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq","maxReceiveCount":3}"#
            ),
            want
        );
        assert_eq!(
            parse_redrive(
                r#"{"deadLetterTargetArn":"arn:aws:sqs:us-east-1:123456789012:dlq","maxReceiveCount":"3"}"#
            ),
            want
        );
        assert_eq!(parse_redrive(r#"{"maxReceiveCount":3}"#), None);
        assert_eq!(parse_redrive("not json"), None);
    }
}
