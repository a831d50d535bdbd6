//! `inventory`: the region's SSM managed instances, the applications SSM Inventory lists on
//! each, and the patches installed on each in the window, as the sender reads them.

use super::Collected;
use crate::aws_call;
use crate::call::{next_token, CallError};
use crate::category::security_hub::Window;
use aws_sdk_ssm::types::{InstanceInformation, PatchComplianceData};
use orgwatch_model::category::inventory::{Application, Instance, Inventory, Patch};
use orgwatch_model::Timestamp;
use std::collections::HashMap;

/// SSM Inventory's type of installed applications.
const APPLICATIONS: &str = "AWS:Application";

/// Reads the managed instances (every page), then each one's applications and patches (every
/// page). A failed per-instance call is a problem and leaves that instance's list out; the
/// listing of the instances failing fails the category.
///
/// Not asked, unlike the sender: GetInventory for AWS:PatchSummary, which it called only to
/// reach DescribeInstancePatches for the same instances.
pub async fn collect(
    client: &aws_sdk_ssm::Client,
    window: Window,
) -> Result<Collected<Inventory>, CallError> {
    let mut listed: Vec<InstanceInformation> = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "ssm:DescribeInstanceInformation",
            client
                .describe_instance_information()
                .set_next_token(next.take())
        )?;
        listed.extend(page.instance_information_list().iter().cloned());
        next = next_token(page.next_token());
        if next.is_none() {
            break;
        }
    }
    let mut inventory = Inventory::default();
    let mut problems = Vec::new();
    for info in &listed {
        let Some(id) = info.instance_id() else {
            continue;
        };
        inventory.instances.push(instance(info));
        match applications(client, id).await {
            Ok(apps) => inventory.applications.extend(apps),
            Err(e) => problems.push(e),
        }
        match patches(client, id, window).await {
            Ok(p) => inventory.patches.extend(p),
            Err(e) => problems.push(e),
        }
    }
    Ok(Collected {
        items: inventory,
        problems,
    })
}

/// A managed instance in the sender's fields (`instance_type` is SSM's resource type).
fn instance(i: &InstanceInformation) -> Instance {
    let last_ping = crate::sdk_time::opt(i.last_ping_date_time());
    Instance {
        instance_id: i.instance_id().map(str::to_owned),
        platform: i.platform_name().map(str::to_owned),
        platform_type: i.platform_type().map(|p| p.as_str().to_owned()),
        platform_version: i.platform_version().map(str::to_owned),
        agent_version: i.agent_version().map(str::to_owned),
        is_latest_version: i.is_latest_version(),
        last_ping,
        computer_name: i.computer_name().map(str::to_owned),
        instance_type: i.resource_type().map(|t| t.as_str().to_owned()),
        ip_address: i.ip_address().map(str::to_owned),
        ping_status: i.ping_status().map(|p| p.as_str().to_owned()),
        last_ping_date_time: last_ping,
        association_status: i.association_status().map(str::to_owned),
        association_execution_date: crate::sdk_time::opt(i.last_association_execution_date()),
        association_success_date: crate::sdk_time::opt(
            i.last_successful_association_execution_date(),
        ),
    }
}

async fn applications(
    client: &aws_sdk_ssm::Client,
    id: &str,
) -> Result<Vec<Application>, CallError> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "ssm:ListInventoryEntries",
            client
                .list_inventory_entries()
                .instance_id(id)
                .type_name(APPLICATIONS)
                .set_next_token(next.take())
        )?;
        out.extend(page.entries().iter().map(|e| application(id, e)));
        next = next_token(page.next_token());
        if next.is_none() {
            return Ok(out);
        }
    }
}

/// An AWS:Application inventory entry (a map of SSM's attribute names to text).
fn application(instance_id: &str, entry: &HashMap<String, String>) -> Application {
    let text = |k: &str| entry.get(k).filter(|v| !v.is_empty()).cloned();
    Application {
        instance_id: Some(instance_id.to_owned()),
        name: text("Name"),
        version: text("Version"),
        publisher: text("Publisher"),
        architecture: text("Architecture"),
        application_type: text("ApplicationType"),
        install_time: text("InstalledTime").and_then(|t| Timestamp::parse(&t).ok()),
    }
}

async fn patches(
    client: &aws_sdk_ssm::Client,
    id: &str,
    window: Window,
) -> Result<Vec<Patch>, CallError> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "ssm:DescribeInstancePatches",
            client
                .describe_instance_patches()
                .instance_id(id)
                .set_next_token(next.take())
        )?;
        out.extend(
            page.patches()
                .iter()
                .map(|p| patch(id, p))
                .filter(|x| installed_in(x, window)),
        );
        next = next_token(page.next_token());
        if next.is_none() {
            return Ok(out);
        }
    }
}

/// A patch in the sender's fields, with its defaults for an empty classification ("Normal")
/// and severity ("None").
fn patch(instance_id: &str, p: &PatchComplianceData) -> Patch {
    let or = |v: &str, default: &str| {
        if v.is_empty() {
            default.to_owned()
        } else {
            v.to_owned()
        }
    };
    Patch {
        instance_id: Some(instance_id.to_owned()),
        title: Some(p.title().to_owned()),
        classification: Some(or(p.classification(), "Normal")),
        severity: Some(or(p.severity(), "None")),
        state: Some(p.state().as_str().to_owned()),
        installed_time: crate::sdk_time::timestamp(p.installed_time()),
    }
}

/// Installed in the window (the sender keeps those only).
fn installed_in(p: &Patch, window: Window) -> bool {
    p.installed_time.is_some_and(|t| window.contains(t.get()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_ssm::primitives::DateTime;
    use aws_sdk_ssm::types::PatchComplianceDataState;
    use time::macros::{date, datetime};

    fn window() -> Window {
        Window::days(date!(2026 - 12 - 03), date!(2026 - 12 - 04))
    }

    fn patch_data(installed: i64, classification: &str) -> PatchComplianceData {
        PatchComplianceData::builder()
            .title("KB5048667")
            .kb_id("KB5048667")
            .classification(classification)
            .severity("")
            .state(PatchComplianceDataState::Installed)
            .installed_time(DateTime::from_secs(installed))
            .build()
            .unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn patches_take_the_senders_defaults_and_only_the_windows_count() {
        // 2026-12-03 06:00 UTC, and 2026-12-02 23:59:59 UTC.
        let inside = patch("i-1", &patch_data(1_796_277_600, ""));
        assert_eq!(inside.classification.as_deref(), Some("Normal"));
        assert_eq!(inside.severity.as_deref(), Some("None"));
        assert_eq!(inside.state.as_deref(), Some("INSTALLED"));
        assert!(installed_in(&inside, window()));
        let before = patch("i-1", &patch_data(1_796_255_999, "SecurityUpdates"));
        assert_eq!(before.classification.as_deref(), Some("SecurityUpdates"));
        assert!(!installed_in(&before, window()));
    }

    #[test]
    fn an_application_entry_keeps_its_attributes_and_install_time() {
        let entry: HashMap<String, String> = [
            ("Name", "nginx"),
            ("Version", "1.26.2"),
            ("Publisher", ""),
            ("Architecture", "x86_64"),
            ("ApplicationType", "System Environment/Daemons"),
            ("InstalledTime", "2026-11-30T08:15:00Z"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
        let a = application("i-1", &entry);
        assert_eq!(a.name.as_deref(), Some("nginx"));
        assert_eq!(a.publisher, None, "an empty attribute is no value");
        assert_eq!(
            a.install_time.map(|t| t.get()),
            Some(datetime!(2026-11-30 08:15 UTC))
        );
    }

    #[test]
    fn an_instance_keeps_the_senders_fields() {
        use aws_sdk_ssm::types::{PingStatus, PlatformType, ResourceType};
        let i = InstanceInformation::builder()
            .instance_id("i-0abc")
            .ping_status(PingStatus::Online)
            .last_ping_date_time(DateTime::from_secs(1_796_277_600))
            .platform_type(PlatformType::Linux)
            .platform_name("Amazon Linux")
            .platform_version("2023")
            .resource_type(ResourceType::Ec2Instance)
            .ip_address("10.0.1.5")
            .build();
        let got = instance(&i);
        assert_eq!(got.instance_type.as_deref(), Some("EC2Instance"));
        assert_eq!(got.platform.as_deref(), Some("Amazon Linux"));
        assert_eq!(got.ping_status.as_deref(), Some("Online"));
        assert_eq!(got.last_ping, got.last_ping_date_time);
        assert_eq!(
            got.last_ping.map(|t| t.get()),
            Some(datetime!(2026-12-03 06:00 UTC))
        );
    }
}
