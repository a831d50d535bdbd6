//! The `support_tickets` rows: the occasional case opened on a day.

use super::Ctx;
use crate::demo::generate::calendar::between;
use crate::demo::generate::random::{hex, pick};
use crate::demo::generate::tables::SUPPORT_CASES;
use orgwatch_model::category::support_tickets::SupportTicket;
use orgwatch_model::Day;
use rand::Rng;

impl Ctx<'_> {
    pub(super) fn support_tickets(&self) -> Vec<SupportTicket> {
        let acct = self.account_id();
        let mut out = Vec::new();
        for day in self.data_days() {
            let mut rng = self.rng("support", false, Some(day));
            if !rng.random_bool(if self.p.prod { 0.03 } else { 0.015 }) {
                continue;
            }
            let (subject, service, category) = pick(&mut rng, &SUPPORT_CASES);
            out.push(SupportTicket {
                case_id: Some(format!(
                    "case-{acct}-muen-{}-{}",
                    day.year(),
                    hex(&mut rng, 16)
                )),
                display_id: Some(
                    rng.random_range(17_000_000_000u64..17_999_999_999)
                        .to_string(),
                ),
                subject: Some((*subject).to_owned()),
                status: Some(
                    pick(
                        &mut rng,
                        &[
                            "opened",
                            "pending-customer-action",
                            "reopened",
                            "work-in-progress",
                        ],
                    )
                    .to_string(),
                ),
                severity_code: Some(
                    pick(&mut rng, &["low", "normal", "normal", "high", "urgent"]).to_string(),
                ),
                service_code: Some((*service).to_owned()),
                category_code: Some((*category).to_owned()),
                time_created: Some(between(&mut rng, day, 7, 19)),
                submitted_by: Some(format!("{}-oncall@example-corp.com", self.p.account.name)),
                language: Some("en".to_owned()),
                date_from: Some(Day(self.label_from)),
                date_to: Some(Day(self.label_to)),
            });
        }
        out
    }
}
