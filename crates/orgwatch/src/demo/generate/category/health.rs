//! The `health` rows: organisation-wide public events and the account's own.

use super::Ctx;
use crate::demo::generate::calendar::during;
use crate::demo::generate::random::{hex, pick, ORG};
use crate::demo::generate::tables::{ACCOUNT_EVENTS, PUBLIC_EVENTS};
use orgwatch_model::category::health::HealthEvent;
use orgwatch_model::Timestamp;
use rand::Rng;
use time::Duration;

impl Ctx<'_> {
    pub(super) fn health(&self) -> Vec<HealthEvent> {
        let regions = &self.org.opts.regions;
        let mut out = Vec::new();
        for day in self.data_days() {
            // Public events are organisation-wide: every account sees the same ARN.
            let mut public = self.org.rng("health-public", ORG, None, Some(day));
            if public.random_bool(0.06) {
                let (service, code) = pick(&mut public, &PUBLIC_EVENTS);
                let region = pick(&mut public, regions);
                let start = during(&mut public, day);
                let end =
                    Timestamp::new(start.get() + Duration::minutes(public.random_range(30..360)));
                let suffix = hex(&mut public, 8).to_ascii_uppercase();
                out.push(HealthEvent {
                    arn: Some(format!(
                        "arn:aws:health:{region}::event/{service}/{code}/{code}_{suffix}"
                    )),
                    service: Some((*service).to_owned()),
                    event_type_code: Some((*code).to_owned()),
                    event_type_category: Some("issue".to_owned()),
                    region: Some(region.to_string()),
                    availability_zone: None,
                    start_time: Some(start),
                    end_time: Some(end),
                    last_updated_time: Some(end),
                    status_code: Some("closed".to_owned()),
                    event_scope_code: Some("PUBLIC".to_owned()),
                });
            }
            let mut own = self.rng("health", false, Some(day));
            if own.random_bool(0.04) {
                let (service, code, category) = pick(&mut own, &ACCOUNT_EVENTS);
                let region = pick(&mut own, regions);
                let start = during(&mut own, day);
                out.push(HealthEvent {
                    arn: Some(format!(
                        "arn:aws:health:{region}::event/{service}/{code}/{code}_{}",
                        hex(&mut own, 12).to_ascii_uppercase()
                    )),
                    service: Some((*service).to_owned()),
                    event_type_code: Some((*code).to_owned()),
                    event_type_category: Some((*category).to_owned()),
                    region: Some(region.to_string()),
                    availability_zone: Some(format!(
                        "{region}{}",
                        pick(&mut own, &["a", "b", "c"])
                    )),
                    start_time: Some(start),
                    end_time: None,
                    last_updated_time: Some(start),
                    status_code: Some(
                        if *category == "scheduledChange" {
                            "upcoming"
                        } else {
                            "open"
                        }
                        .to_owned(),
                    ),
                    event_scope_code: Some("ACCOUNT_SPECIFIC".to_owned()),
                });
            }
        }
        out
    }
}
