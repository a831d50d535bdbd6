//! `inventory`: SSM-managed instances, their installed applications and patches.

use crate::lenient::record;
use crate::time::Timestamp;

record! {
    /// The `inventory` object (the sender writes `[]` when collection failed).
    pub struct Inventory {
        instances: Vec<Instance>,
        applications: Vec<Application>,
        patches: Vec<Patch>,
    }
}

record! {
    /// One SSM managed instance.
    pub struct Instance {
        instance_id: Option<String>,
        platform: Option<String>,
        platform_type: Option<String>,
        platform_version: Option<String>,
        agent_version: Option<String>,
        is_latest_version: Option<bool>,
        last_ping: Option<Timestamp>,
        computer_name: Option<String>,
        instance_type: Option<String>,
        ip_address: Option<String>,
        ping_status: Option<String>,
        last_ping_date_time: Option<Timestamp>,
        association_status: Option<String>,
        association_execution_date: Option<Timestamp>,
        association_success_date: Option<Timestamp>,
    }
}

record! {
    /// One installed application on an instance.
    pub struct Application {
        instance_id: Option<String>,
        name: Option<String>,
        version: Option<String>,
        publisher: Option<String>,
        architecture: Option<String>,
        application_type: Option<String>,
        install_time: Option<Timestamp>,
    }
}

record! {
    /// One patch on an instance.
    pub struct Patch {
        instance_id: Option<String>,
        title: Option<String>,
        classification: Option<String>,
        severity: Option<String>,
        state: Option<String>,
        installed_time: Option<Timestamp>,
    }
}
