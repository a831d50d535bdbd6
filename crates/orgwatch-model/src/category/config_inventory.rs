//! `config_inventory`: AWS Config resource inventory (the current sender writes `[]`).

use crate::lenient::record;
use crate::time::Timestamp;

record! {
    /// One resource recorded by AWS Config.
    pub struct ConfigInventoryItem {
        resource_type: Option<String>,
        resource_subtype: Option<String>,
        resource_id: Option<String>,
        resource_name: Option<String>,
        region: Option<String>,
        availability_zone: Option<String>,
        state: Option<String>,
        arn: Option<String>,
        creation_date: Option<Timestamp>,
        configuration: serde_json::Value,
    }
}
