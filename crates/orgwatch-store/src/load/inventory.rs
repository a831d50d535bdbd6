//! `inventory`: SSM instances, and the applications and patches of *each* instance (regional).
//!
//! The A360 receiver attached every application and patch to the file's first instance; here
//! each row references the instance it names, looked up by SSM instance id in the same snapshot.

use super::Ctx;
use crate::conn::Conn;
use crate::value::{key, Val};
use orgwatch_model::Snapshot;

pub(super) async fn load<C: Conn>(
    c: &mut C,
    ctx: &mut Ctx<'_>,
    snap: &Snapshot,
) -> Result<(), sqlx::Error> {
    let Some(inv) = &snap.inventory else {
        return Ok(());
    };
    let mut b = ctx.batch(
        "inventory_instances",
        &[
            "instance_id",
            "platform",
            "platform_type",
            "platform_version",
            "agent_version",
            "is_latest_version",
            "last_ping",
            "computer_name",
            "instance_type",
            "ip_address",
            "ping_status",
            "last_ping_date_time",
            "association_status",
            "association_execution_date",
            "association_success_date",
        ],
    );
    for i in &inv.instances {
        b.push(
            key(&[&i.instance_id]),
            vec![
                Val::text(&i.instance_id),
                Val::text(&i.platform),
                Val::text(&i.platform_type),
                Val::text(&i.platform_version),
                Val::text(&i.agent_version),
                Val::bool(i.is_latest_version),
                Val::ts(i.last_ping),
                Val::text(&i.computer_name),
                Val::text(&i.instance_type),
                Val::text(&i.ip_address),
                Val::text(&i.ping_status),
                Val::ts(i.last_ping_date_time),
                Val::text(&i.association_status),
                Val::ts(i.association_execution_date),
                Val::ts(i.association_success_date),
            ],
        );
    }
    if inv.applications.is_empty() && inv.patches.is_empty() {
        return ctx.write(c, b).await;
    }
    // Applications and patches reference their instance's row id: write the instances now.
    let ids = ctx.insert_returning_many(c, &b, "instance_id").await?;
    let instance_ref = |ssm: &Option<String>| {
        ssm.as_ref()
            .and_then(|s| ids.get(s))
            .map_or(Val::Null, |id| Val::Int(*id))
    };

    let mut apps = ctx.batch(
        "inventory_applications",
        &[
            "instance_id",
            "managed_instance_id",
            "name",
            "version",
            "publisher",
            "architecture",
            "application_type",
            "install_time",
        ],
    );
    for a in &inv.applications {
        apps.push(
            key(&[&a.instance_id, &a.name, &a.version, &a.architecture]),
            vec![
                instance_ref(&a.instance_id),
                Val::text(&a.instance_id),
                Val::text(&a.name),
                Val::text(&a.version),
                Val::text(&a.publisher),
                Val::text(&a.architecture),
                Val::text(&a.application_type),
                Val::ts(a.install_time),
            ],
        );
    }
    ctx.write(c, apps).await?;

    let mut patches = ctx.batch(
        "inventory_patches",
        &[
            "instance_id",
            "managed_instance_id",
            "title",
            "classification",
            "severity",
            "state",
            "installed_time",
        ],
    );
    for p in &inv.patches {
        patches.push(
            key(&[&p.instance_id, &p.title]),
            vec![
                instance_ref(&p.instance_id),
                Val::text(&p.instance_id),
                Val::text(&p.title),
                Val::str(p.classification.as_deref().unwrap_or("Normal")),
                Val::str(p.severity.as_deref().unwrap_or("None")),
                Val::text(&p.state),
                Val::ts(p.installed_time),
            ],
        );
    }
    ctx.write(c, patches).await
}
