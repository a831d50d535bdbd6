//! One file being generated (`Ctx`) and its snapshot, assembled from one module per A360
//! category, each named like its `orgwatch_model::category` module.

mod account;
mod application;
mod compute_optimizer;
mod config;
mod config_inventory;
mod cost;
mod health;
mod inventory;
mod logs;
mod marketplace;
mod resilience_hub;
mod ri_sp_savings;
mod security;
mod service_resources;
mod support_tickets;
mod trusted_advisor;

use super::calendar::{day_range, days, first_of_month, last_of_month};
use super::format::arn;
use super::org::{Org, Profile};
use super::world::World;
use logs::apply_failure;
use orgwatch_model::category::logs::{CollectionLog, CollectionStatus, LogMessage};
use orgwatch_model::{Category, Granularity, Snapshot, Timestamp};
use rand_chacha::ChaCha8Rng;
use time::Date;

/// One file being generated: the account, the region's world, and the days it covers.
pub(super) struct Ctx<'a> {
    org: &'a Org,
    p: &'a Profile,
    w: &'a World,
    run_date: Date,
    granularity: Granularity,
    /// `date_from`/`date_to` as the sender labels them (MONTHLY ends on the month's last day).
    label_from: Date,
    label_to: Date,
    /// The days whose events the file reports, `[from, to)`; empty for a MONTHLY run on the 1st.
    data_from: Date,
    data_to: Date,
    /// The day "current state" categories describe.
    asof: Date,
}

impl<'a> Ctx<'a> {
    /// The file `p` writes from world `w` on `run_date`.
    pub(super) fn new(
        org: &'a Org,
        p: &'a Profile,
        w: &'a World,
        run_date: Date,
        granularity: Granularity,
    ) -> Self {
        let (label_from, label_to, data_from) = match granularity {
            Granularity::Monthly => {
                let start = first_of_month(run_date);
                // Cost Explorer's end is exclusive, so the sender's month ends on its last day.
                (start, last_of_month(run_date), start)
            }
            _ => (run_date - days(1), run_date, run_date - days(1)),
        };
        Ctx {
            org,
            p,
            w,
            run_date,
            granularity,
            label_from,
            label_to,
            data_from,
            data_to: run_date,
            asof: run_date - days(1),
        }
    }

    /// The stream for `purpose` on `day`, with the region only for regional data.
    fn rng(&self, purpose: &str, region: bool, day: Option<Date>) -> ChaCha8Rng {
        self.org
            .rng(purpose, self.p.index, region.then_some(&self.w.region), day)
    }

    fn account_id(&self) -> String {
        self.p.account.id.to_string()
    }

    /// An ARN in this file's account and region.
    fn arn(&self, service: &str, resource: &str) -> String {
        arn(
            service,
            self.w.region.as_str(),
            self.p.account.id.as_str(),
            resource,
        )
    }

    fn region(&self) -> String {
        self.w.region.to_string()
    }

    /// Whether something created at `t` exists in this file's "current state".
    fn exists(&self, t: Timestamp) -> bool {
        t.get().date() <= self.asof
    }

    fn daily(&self) -> bool {
        self.granularity == Granularity::Daily
    }

    fn data_days(&self) -> impl Iterator<Item = Date> {
        day_range(self.data_from, self.data_to)
    }

    /// The file's document: every category, then the failures that empty some of them.
    pub(super) fn snapshot(&self) -> Snapshot {
        // Decided per account-day (not per region) so global categories stay identical.
        let failures = self.failures();
        let mut log = CollectionLog::default();
        for c in Category::ALL {
            let status = if failures.iter().any(|f| f.category == c) {
                CollectionStatus::Fail
            } else {
                CollectionStatus::Pass
            };
            log.statuses.insert(c, status);
        }

        let (cost, service, forecast_note) = self.cost_and_service();
        let mut snapshot = Snapshot {
            account: self.account(),
            config: Some(self.config()),
            service: Some(service),
            cost: Some(cost),
            security: Some(self.security()),
            inventory: Some(self.inventory()),
            marketplace: Some(self.marketplace()),
            trusted_advisor: Some(self.trusted_advisor()),
            health: Some(self.health()),
            application: Some(self.application_signals()),
            resilience_hub: Some(self.resilience_hub()),
            service_resources: Some(self.service_resources()),
            compute_optimizer: Some(self.compute_optimizer()),
            ri_sp_savings: Some(self.ri_sp_savings()),
            config_inventory: Some(self.config_inventory()),
            support_tickets: Some(self.support_tickets()),
            logs: CollectionLog::default(),
            // The demo plays the A360 sender, which knows no OU.
            organization: None,
        };
        let cost_failed = failures.iter().any(|f| f.category == Category::Cost);
        if let Some(note) = forecast_note.filter(|_| !cost_failed) {
            log.messages.push(LogMessage {
                key: "Forecast unavailable".to_owned(),
                text: note,
            });
        }

        for f in failures {
            apply_failure(&mut snapshot, f.key, f.category);
            log.messages.push(LogMessage {
                key: f.key.to_owned(),
                text: f.text,
            });
        }
        snapshot.logs = log;
        snapshot
    }
}
