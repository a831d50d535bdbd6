//! `config`: AWS Config rule compliance of the region and the rule evaluations recorded on
//! the period's first day, as the A360 sender reports them.
//!
//! 1. DescribeConfigRules (all pages): the region's rules. If it fails, the category does;
//!    if there is none, nothing else is asked and every count is 0.
//! 2. DescribeConformancePacks and DescribeConformancePackCompliance per pack (all pages):
//!    which pack each rule belongs to (`conformance_pack`, "Standalone" otherwise).
//! 3. DescribeComplianceByConfigRule (COMPLIANT, NON_COMPLIANT; all pages): each rule's
//!    compliance, from which the counts and the score come (a rule with insufficient data
//!    or not applicable counts nowhere, as in the sender).
//! 4. GetComplianceDetailsByConfigRule per rule (of its compliance type; all pages, where the
//!    sender read the first 50): the evaluations whose `ResultRecordedTime` is on the
//!    period's first day (00:00:00 to 23:59:59 UTC, the sender's bounds), listed in
//!    `non_compliant_resources` whatever their type (despite the name, the sender lists the
//!    compliant ones too), with that time as `config_rule_invoked_time` (as the sender).
//!
//! Unlike the sender, whose whole category fails with step 3, the steps fail apart: the
//! report is written with what was read, and each failed step is a problem (the category
//! "Fail", the ledger `partial`, the reason in `logs`). Without step 3 the counts and score
//! are unknown (`null`, not 0), and every rule of step 1 is asked for both compliance types.
//! A failed step 4 is not asked again for the other rules (it would fail alike): one problem
//! says how many rules' evaluations are missing.

use super::period::Periods;
use super::Collected;
use crate::aws_call;
use crate::call::{is_not_found, next_token, CallError};
use crate::sdk_time;
use aws_sdk_config::types::{ComplianceType, EvaluationResult};
use orgwatch_model::category::config::{ConfigReport, NonCompliantResource};
use orgwatch_model::Day;
use std::collections::BTreeMap;
use time::{Date, OffsetDateTime, Time};

/// What a region's Config gave.
#[derive(Debug, Clone, PartialEq)]
pub struct ConfigRead {
    /// The `config` object.
    pub report: ConfigReport,
    /// How many rules the region has (DescribeConfigRules), for the ledger.
    pub rules: usize,
}

/// The conformance pack of a rule that is in none.
const STANDALONE: &str = "Standalone";

/// Reads the region's Config report for the sender's current period.
pub async fn collect(
    client: &aws_sdk_config::Client,
    periods: Periods,
) -> Result<Collected<ConfigRead>, CallError> {
    let rules = rules(client).await?;
    let (date_from, date_to) = (Some(Day(periods.current.0)), Some(Day(periods.current.1)));
    if rules.is_empty() {
        // No rule: nothing to ask about, and nothing unknown (every count is 0).
        return Ok(Collected::clean(ConfigRead {
            report: ConfigReport {
                date_from,
                date_to,
                ..Counts::default().report(true)
            },
            rules: 0,
        }));
    }
    let mut problems = Vec::new();
    let packs = packs(client).await.unwrap_or_else(|e| {
        problems.push(e);
        BTreeMap::new()
    });
    let compliance = match compliance(client).await {
        Ok(c) => Some(c),
        Err(e) => {
            problems.push(e);
            None
        }
    };
    let day = EvaluationDay::of(periods.current.0);
    let mut counts = Counts::default();
    let mut resources = Vec::new();
    let mut unread = 0usize;
    let mut first_failure = None;
    for rule in &rules {
        let kind = match &compliance {
            Some(c) => match c.get(rule) {
                Some(kind) => Some(kind.clone()),
                // Insufficient data, not applicable, or a rule added since: not counted.
                None => continue,
            },
            None => None,
        };
        if let Some(kind) = &kind {
            counts.rule(kind);
        }
        if first_failure.is_some() {
            unread += 1;
            continue;
        }
        let evaluations = match evaluations(client, rule, kind.as_ref()).await {
            Ok(e) => e,
            // Deleted between the listing and now: no evaluations to list.
            Err(e)
                if is_not_found(&e) || e.code.as_deref() == Some("NoSuchConfigRuleException") =>
            {
                continue
            }
            Err(e) => {
                first_failure = Some(e);
                unread += 1;
                continue;
            }
        };
        let pack = packs.get(rule).map_or(STANDALONE, String::as_str);
        let before = resources.len();
        resources.extend(
            evaluations
                .iter()
                .filter(|e| day.contains(e.result_recorded_time()))
                .map(|e| resource(rule, pack, e)),
        );
        if resources.len() > before {
            if let Some(kind) = &kind {
                counts.current(kind);
            }
        }
    }
    if let Some(mut e) = first_failure {
        e.message = format!(
            "{} (the evaluations of {unread} rule(s) were not read)",
            e.message
        );
        problems.push(e);
    }
    let report = ConfigReport {
        date_from,
        date_to,
        non_compliant_resources: resources,
        ..counts.report(compliance.is_some())
    };
    Ok(Collected {
        items: ConfigRead {
            report,
            rules: rules.len(),
        },
        problems,
    })
}

/// The names of the region's rules, in name order.
async fn rules(client: &aws_sdk_config::Client) -> Result<Vec<String>, CallError> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = aws_call!(
            "config:DescribeConfigRules",
            client.describe_config_rules().set_next_token(token.take())
        )?;
        names.extend(
            page.config_rules()
                .iter()
                .filter_map(|r| r.config_rule_name().map(str::to_owned)),
        );
        token = next_token(page.next_token());
        if token.is_none() {
            break;
        }
    }
    names.sort();
    names.dedup();
    Ok(names)
}

/// Each rule's conformance pack (a rule in several: the last pack listed, as the sender).
async fn packs(client: &aws_sdk_config::Client) -> Result<BTreeMap<String, String>, CallError> {
    let mut names = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = aws_call!(
            "config:DescribeConformancePacks",
            client
                .describe_conformance_packs()
                .set_next_token(token.take())
        )?;
        names.extend(
            page.conformance_pack_details()
                .iter()
                .map(|p| p.conformance_pack_name().to_owned()),
        );
        token = next_token(page.next_token());
        if token.is_none() {
            break;
        }
    }
    let mut of_rule = BTreeMap::new();
    for pack in names {
        let mut token: Option<String> = None;
        loop {
            let page = aws_call!(
                "config:DescribeConformancePackCompliance",
                client
                    .describe_conformance_pack_compliance()
                    .conformance_pack_name(&pack)
                    .set_next_token(token.take())
            )?;
            for rule in page.conformance_pack_rule_compliance_list() {
                if let Some(name) = rule.config_rule_name() {
                    of_rule.insert(name.to_owned(), pack.clone());
                }
            }
            token = next_token(page.next_token());
            if token.is_none() {
                break;
            }
        }
    }
    Ok(of_rule)
}

/// Each rule's compliance, for the rules COMPLIANT or NON_COMPLIANT.
async fn compliance(
    client: &aws_sdk_config::Client,
) -> Result<BTreeMap<String, ComplianceType>, CallError> {
    let mut out = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = aws_call!(
            "config:DescribeComplianceByConfigRule",
            client
                .describe_compliance_by_config_rule()
                .compliance_types(ComplianceType::Compliant)
                .compliance_types(ComplianceType::NonCompliant)
                .set_next_token(token.take())
        )?;
        for rule in page.compliance_by_config_rules() {
            let kind = rule.compliance().and_then(|c| c.compliance_type());
            if let (
                Some(name),
                Some(kind @ (ComplianceType::Compliant | ComplianceType::NonCompliant)),
            ) = (rule.config_rule_name(), kind)
            {
                out.insert(name.to_owned(), kind.clone());
            }
        }
        token = next_token(page.next_token());
        if token.is_none() {
            break;
        }
    }
    Ok(out)
}

/// A rule's evaluations of its compliance type (both types when it is unknown).
async fn evaluations(
    client: &aws_sdk_config::Client,
    rule: &str,
    kind: Option<&ComplianceType>,
) -> Result<Vec<EvaluationResult>, CallError> {
    let kinds = match kind {
        Some(k) => vec![k.clone()],
        None => vec![ComplianceType::Compliant, ComplianceType::NonCompliant],
    };
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = aws_call!(
            "config:GetComplianceDetailsByConfigRule",
            client
                .get_compliance_details_by_config_rule()
                .config_rule_name(rule)
                .set_compliance_types(Some(kinds.clone()))
                .set_next_token(token.take())
        )?;
        out.extend(page.evaluation_results().iter().cloned());
        token = next_token(page.next_token());
        if token.is_none() {
            return Ok(out);
        }
    }
}

/// The sender's evaluation window: the period's first day, 00:00:00 to 23:59:59 UTC, both
/// included (so the day's last fraction of a second is out).
#[derive(Debug, Clone, Copy)]
struct EvaluationDay {
    first: OffsetDateTime,
    last: OffsetDateTime,
}

impl EvaluationDay {
    fn of(day: Date) -> EvaluationDay {
        let last = Time::from_hms(23, 59, 59).unwrap_or(Time::MIDNIGHT);
        EvaluationDay {
            first: day.midnight().assume_utc(),
            last: day.with_time(last).assume_utc(),
        }
    }

    fn contains(&self, t: Option<&aws_sdk_config::primitives::DateTime>) -> bool {
        sdk_time::opt(t).is_some_and(|t| (self.first..=self.last).contains(&t.get()))
    }
}

fn resource(rule: &str, pack: &str, e: &EvaluationResult) -> NonCompliantResource {
    let qualifier = e
        .evaluation_result_identifier()
        .and_then(|i| i.evaluation_result_qualifier());
    NonCompliantResource {
        rule_name: Some(rule.to_owned()),
        resource_id: qualifier.and_then(|q| q.resource_id()).map(str::to_owned),
        resource_type: qualifier.and_then(|q| q.resource_type()).map(str::to_owned),
        // The sender writes the result's recorded time under this name.
        config_rule_invoked_time: sdk_time::opt(e.result_recorded_time()),
        conformance_pack: Some(pack.to_owned()),
        compliance_type: e.compliance_type().map(|c| c.as_str().to_owned()),
        annotation: e.annotation().map(str::to_owned),
        evaluation_mode: qualifier
            .and_then(|q| q.evaluation_mode())
            .map(|m| m.as_str().to_owned()),
    }
}

/// The rule counts of the report.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Counts {
    compliant: i64,
    non_compliant: i64,
    /// Rules with an evaluation recorded on the period's first day.
    curr_compliant: i64,
    curr_non_compliant: i64,
}

impl Counts {
    fn rule(&mut self, kind: &ComplianceType) {
        match kind {
            ComplianceType::Compliant => self.compliant += 1,
            _ => self.non_compliant += 1,
        }
    }

    fn current(&mut self, kind: &ComplianceType) {
        match kind {
            ComplianceType::Compliant => self.curr_compliant += 1,
            _ => self.curr_non_compliant += 1,
        }
    }

    /// The report's figures, all unknown when the compliance was not read.
    fn report(self, known: bool) -> ConfigReport {
        if !known {
            return ConfigReport::default();
        }
        let total = self.compliant + self.non_compliant;
        // The sender's: a percentage with two decimals, 0 without rules.
        let score = if total > 0 {
            (self.compliant as f64 / total as f64 * 100.0 * 100.0).round() / 100.0
        } else {
            0.0
        };
        ConfigReport {
            compliance_score: Some(score),
            total_rules: Some(total),
            compliant_rules: Some(self.compliant),
            non_compliant_rules: Some(self.non_compliant),
            curr_non_compliant: Some(self.curr_non_compliant),
            curr_compliant: Some(self.curr_compliant),
            ..ConfigReport::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_config::primitives::DateTime;
    use time::macros::date;

    #[test]
    fn the_evaluation_day_is_the_first_day_to_its_last_whole_second() {
        let day = EvaluationDay::of(date!(2026 - 12 - 03));
        let at = |secs: i64, nanos: u32| DateTime::from_secs_and_nanos(secs, nanos);
        // 2026-12-03T00:00:00Z
        let start = 1_796_256_000;
        assert!(day.contains(Some(&at(start, 0))));
        assert!(day.contains(Some(&at(start + 86_399, 0))));
        assert!(!day.contains(Some(&at(start + 86_399, 500_000_000))));
        assert!(!day.contains(Some(&at(start - 1, 0))));
        assert!(!day.contains(None));
    }

    #[test]
    fn the_score_is_a_percentage_with_two_decimals_and_unknown_without_compliance() {
        let mut c = Counts::default();
        for kind in [
            ComplianceType::Compliant,
            ComplianceType::NonCompliant,
            ComplianceType::NonCompliant,
        ] {
            c.rule(&kind);
        }
        c.current(&ComplianceType::NonCompliant);
        let r = c.report(true);
        assert_eq!(r.compliance_score, Some(33.33));
        assert_eq!(
            (r.total_rules, r.compliant_rules, r.non_compliant_rules),
            (Some(3), Some(1), Some(2))
        );
        assert_eq!((r.curr_compliant, r.curr_non_compliant), (Some(0), Some(1)));
        assert_eq!(Counts::default().report(true).compliance_score, Some(0.0));
        assert_eq!(c.report(false), ConfigReport::default());
    }
}
