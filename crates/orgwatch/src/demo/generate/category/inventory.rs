//! The `inventory` object: SSM-managed instances, their applications and their patches.

use super::Ctx;
use crate::demo::generate::calendar::{between, days};
use crate::demo::generate::random::pick;
use crate::demo::generate::resources::{patch_title, Host};
use orgwatch_model::category::inventory::{Instance, Inventory, Patch};
use rand::Rng;
use time::Date;

impl Ctx<'_> {
    pub(super) fn inventory(&self) -> Inventory {
        let day = self.asof;
        let mut rng = self.rng("inventory", true, Some(day));
        let mut instances = Vec::new();
        let mut applications = Vec::new();
        let mut patches = Vec::new();
        for h in self.w.hosts_on(day) {
            // A stopped instance stays registered with SSM but stops pinging.
            let lost = h.stopped || rng.random_bool(0.03);
            let ping = if lost {
                between(&mut rng, day, 0, 12)
            } else {
                between(&mut rng, day, 22, 24)
            };
            let association_ok = rng.random_bool(0.92);
            let executed = between(&mut rng, day, 1, 6);
            instances.push(Instance {
                instance_id: Some(h.id.clone()),
                platform: Some(h.platform.name.to_owned()),
                platform_type: Some(h.platform.kind.to_owned()),
                platform_version: Some(h.platform.version.to_owned()),
                agent_version: Some(
                    if h.old_agent {
                        "3.2.2303.0"
                    } else {
                        "3.3.1802.0"
                    }
                    .to_owned(),
                ),
                is_latest_version: Some(!h.old_agent),
                last_ping: Some(ping),
                computer_name: Some(if h.platform.windows {
                    format!("EC2AMAZ-{}", h.id[2..9].to_ascii_uppercase())
                } else {
                    format!("ip-{}.ec2.internal", h.ip.replace('.', "-"))
                }),
                instance_type: Some("EC2Instance".to_owned()),
                ip_address: Some(h.ip.clone()),
                ping_status: Some(if lost { "ConnectionLost" } else { "Online" }.to_owned()),
                last_ping_date_time: Some(ping),
                association_status: Some(
                    if association_ok { "Success" } else { "Failed" }.to_owned(),
                ),
                association_execution_date: Some(executed),
                association_success_date: Some(if association_ok {
                    executed
                } else {
                    between(&mut rng, day - days(1), 1, 6)
                }),
            });
            applications.extend(h.apps.iter().cloned());
            patches.extend(self.patches(h, day, &mut rng));
        }
        Inventory {
            instances,
            applications,
            patches,
        }
    }

    /// Patches installed on `day`, plus the ones missing while the host is in a patch gap.
    pub(super) fn patches(&self, h: &Host, day: Date, rng: &mut impl Rng) -> Vec<Patch> {
        let id = Some(h.id.clone());
        let mut out = Vec::new();
        let installs = if day.weekday() == h.patch_day {
            rng.random_range(2..=4)
        } else {
            rng.random_range(0..=1)
        };
        for _ in 0..installs {
            let (title, security_class) = patch_title(rng, h.platform, day);
            let security = rng.random_bool(0.6);
            out.push(Patch {
                instance_id: id.clone(),
                title: Some(title),
                classification: Some(
                    if security {
                        security_class
                    } else if h.platform.windows {
                        "Updates"
                    } else {
                        "Bugfix"
                    }
                    .to_owned(),
                ),
                severity: Some(
                    if security {
                        *pick(rng, &["Critical", "Important", "Medium", "Low"])
                    } else {
                        "None"
                    }
                    .to_owned(),
                ),
                state: Some("Installed".to_owned()),
                installed_time: Some(between(rng, day, 2, 5)),
            });
        }
        if h.gap.is_some_and(|(from, to)| day >= from && day < to) {
            for (i, (title, class)) in h.gap_patches.iter().enumerate() {
                // The first one is tried and fails (or waits for a reboot); the rest are missing.
                let state = match (i, rng.random::<f64>()) {
                    (0, x) if x < 0.2 => "Failed",
                    (0, x) if x < 0.4 => "InstalledPendingReboot",
                    _ => "Missing",
                };
                out.push(Patch {
                    instance_id: id.clone(),
                    title: Some(title.clone()),
                    classification: Some((*class).to_owned()),
                    severity: Some(if i == 0 { "Critical" } else { "Important" }.to_owned()),
                    state: Some(state.to_owned()),
                    installed_time: (state == "InstalledPendingReboot")
                        .then(|| between(rng, day, 2, 5)),
                });
            }
        }
        out
    }
}
