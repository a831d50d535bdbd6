//! `config_inventory`: the resources AWS Config records in the region, read with one
//! advanced query (SelectResourceConfig) rather than a listing per resource type.
//!
//! The sender removed its collector (its files hold `[]`); this one fills the table the
//! receiver kept for it. A region whose Config recorder is not recording is `not enabled`:
//! an empty answer would otherwise read as "no resources".

use super::Collected;
use crate::aws_call;
use crate::call::{next_token, CallError, Failure};
use orgwatch_model::category::config_inventory::ConfigInventoryItem;
use orgwatch_model::Timestamp;
use serde::Deserialize;

/// The query: every recorded resource with the fields the table holds.
pub const QUERY: &str = "SELECT resourceId, resourceName, resourceType, awsRegion, \
     availabilityZone, arn, resourceCreationTime, configurationItemStatus, configuration";

/// Rows a page (the API's most).
const PAGE: i32 = 100;

/// Reads the region's recorded resources (every page), after checking that Config records.
pub async fn collect(
    client: &aws_sdk_config::Client,
) -> Result<Collected<Vec<ConfigInventoryItem>>, CallError> {
    let status = aws_call!(
        "config:DescribeConfigurationRecorderStatus",
        client.describe_configuration_recorder_status()
    )?;
    if !status
        .configuration_recorders_status()
        .iter()
        .any(|r| r.recording())
    {
        return Err(CallError {
            action: "config:DescribeConfigurationRecorderStatus",
            failure: Failure::NotEnabled,
            code: None,
            message: "no AWS Config recorder is recording in this region".to_owned(),
        });
    }
    let mut items = Vec::new();
    let mut unreadable = 0usize;
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "config:SelectResourceConfig",
            client
                .select_resource_config()
                .expression(QUERY)
                .limit(PAGE)
                .set_next_token(next.take())
        )?;
        for row in page.results() {
            match item(row) {
                Some(i) => items.push(i),
                None => unreadable += 1,
            }
        }
        next = next_token(page.next_token());
        if next.is_none() {
            break;
        }
    }
    let problems = if unreadable == 0 {
        Vec::new()
    } else {
        vec![CallError {
            action: "config:SelectResourceConfig",
            failure: Failure::Error,
            code: None,
            message: format!("{unreadable} result row(s) were not JSON objects and were left out"),
        }]
    };
    Ok(Collected { items, problems })
}

/// One result row as the query selects it (a JSON document in a string).
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Row {
    resource_id: Option<String>,
    resource_name: Option<String>,
    resource_type: Option<String>,
    aws_region: Option<String>,
    availability_zone: Option<String>,
    arn: Option<String>,
    resource_creation_time: Option<String>,
    configuration_item_status: Option<String>,
    #[serde(default)]
    configuration: serde_json::Value,
}

/// A result row as an inventory item; `None` when it is not a JSON object.
fn item(row: &str) -> Option<ConfigInventoryItem> {
    let r: Row = serde_json::from_str(row).ok()?;
    Some(ConfigInventoryItem {
        resource_type: r.resource_type,
        // Config has no subtype; the column is the receiver's, kept empty.
        resource_subtype: None,
        resource_id: r.resource_id,
        resource_name: r.resource_name,
        region: r.aws_region,
        availability_zone: r.availability_zone,
        state: r.configuration_item_status,
        arn: r.arn,
        creation_date: r
            .resource_creation_time
            .and_then(|t| Timestamp::parse(&t).ok()),
        configuration: r.configuration,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_result_row_is_an_item_with_its_configuration() {
        // A row as SelectResourceConfig returns it for the query's fields.
        let row = r#"{"resourceId":"i-0a1b2c3d4e5f67890","resourceName":"web-1",
            "resourceType":"AWS::EC2::Instance","awsRegion":"eu-west-1",
            "availabilityZone":"eu-west-1a",
            "arn":"arn:aws:ec2:eu-west-1:210987654321:instance/i-0a1b2c3d4e5f67890",
            "resourceCreationTime":"2026-11-02T09:30:00.000Z",
            "configurationItemStatus":"OK",
            "configuration":{"instanceType":"t3.micro","state":{"name":"running"}}}"#;
        let i = item(row).unwrap_or_else(|| panic!("not read"));
        assert_eq!(i.resource_type.as_deref(), Some("AWS::EC2::Instance"));
        assert_eq!(i.resource_id.as_deref(), Some("i-0a1b2c3d4e5f67890"));
        assert_eq!(i.region.as_deref(), Some("eu-west-1"));
        assert_eq!(i.state.as_deref(), Some("OK"));
        assert_eq!(
            i.creation_date.map(|t| t.get().unix_timestamp()),
            Some(1_793_611_800)
        );
        assert_eq!(i.configuration["instanceType"], "t3.micro");
        assert_eq!(i.resource_subtype, None);
    }

    #[test]
    fn a_row_without_the_optional_fields_is_still_an_item() {
        let i = item(r#"{"resourceId":"b","resourceType":"AWS::S3::Bucket"}"#)
            .unwrap_or_else(|| panic!("not read"));
        assert_eq!(
            (i.resource_name, i.creation_date, i.configuration),
            (None, None, serde_json::Value::Null)
        );
        assert!(item("not json").is_none());
    }
}
