//! `operations`: the Operations page's figures, as of one day.
//!
//! The as-of day is the filter's last day, else the latest day with a DAILY file of the
//! accounts shown. Health events and support cases are those of a day's window (a file lists
//! the events and cases of its day), so they are read from the DAILY files of the range
//! (`from`, default 29 days before the as-of day, to the as-of day); every other figure from
//! each account and region's latest DAILY file up to the as-of day. Health events, Trusted
//! Advisor checks and support cases are account-wide: every region's file repeats them, so
//! each is taken once per account (by ARN, check name and case id), from the newest file
//! holding it:
//! - **Health events** of the range, each in its latest status (`open`, `upcoming`,
//!   `closed`);
//! - **Trusted Advisor**: the flagged checks, with severity, affected resources and
//!   potential monthly savings;
//! - **Resilience Hub**: each application, its resiliency score and policy compliance;
//! - **Application Signals**: the services it monitors;
//! - **support cases** of the range, each in its latest status.

use super::collection::Collection;
use super::compliance::{accounts_and_day, latest_files};
use super::filter::{account_id, visible, PageFilter};
use super::posture::AccountRef;
use super::Access;
use crate::conn::Conn;
use crate::db::on_pool;
use crate::value::Val;
use crate::{Store, StoreError};
use orgwatch_model::{AccountId, Timestamp};
use time::{Date, Duration, OffsetDateTime};

/// An AWS Health event.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthEvent {
    /// The account.
    pub account_id: AccountId,
    /// The event's region.
    pub region: String,
    /// The service.
    pub service: String,
    /// Event type code.
    pub event_type: String,
    /// `issue`, `scheduledChange`, `accountNotification`.
    pub category: String,
    /// `open`, `upcoming` or `closed`.
    pub status: String,
    /// Start.
    pub start: Option<Timestamp>,
    /// End.
    pub end: Option<Timestamp>,
    /// ARN.
    pub arn: String,
}

/// A flagged Trusted Advisor check.
#[derive(Debug, Clone, PartialEq)]
pub struct AdvisorCheck {
    /// The account.
    pub account_id: AccountId,
    /// Check name.
    pub name: String,
    /// Category (`cost_optimizing`, `security`, …).
    pub category: String,
    /// `warning` or `error`.
    pub severity: String,
    /// Affected resources.
    pub affected_resources: Option<i64>,
    /// Potential monthly savings in USD.
    pub potential_savings: Option<f64>,
}

/// A Resilience Hub application.
#[derive(Debug, Clone, PartialEq)]
pub struct ResilienceApp {
    /// The account.
    pub account_id: AccountId,
    /// Region of the file.
    pub region: String,
    /// Name.
    pub name: String,
    /// `PolicyMet`, `PolicyBreached`, …
    pub compliance_status: String,
    /// Resiliency score (0–100).
    pub score: Option<f64>,
    /// Recovery point objective, seconds.
    pub rpo: Option<i64>,
    /// Recovery time objective, seconds.
    pub rto: Option<i64>,
    /// Last assessment.
    pub last_assessment: Option<Timestamp>,
}

/// A service Application Signals monitors.
#[derive(Debug, Clone, PartialEq)]
pub struct SignalService {
    /// The account.
    pub account_id: AccountId,
    /// Region of the file.
    pub region: String,
    /// Service name.
    pub service: String,
    /// Namespace.
    pub namespace: String,
}

/// A support case.
#[derive(Debug, Clone, PartialEq)]
pub struct SupportCase {
    /// The account.
    pub account_id: AccountId,
    /// Display id.
    pub display_id: String,
    /// Subject.
    pub subject: String,
    /// Status (`opened`, `work-in-progress`, `resolved`, …).
    pub status: String,
    /// Severity code.
    pub severity: String,
    /// Service code.
    pub service: String,
    /// Opened.
    pub created: Option<Timestamp>,
}

impl SupportCase {
    /// Not resolved.
    pub fn is_open(&self) -> bool {
        !self.status.eq_ignore_ascii_case("resolved")
    }
}

/// The Operations page's figures.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct OperationsReport {
    /// The day the figures describe (`None`: no DAILY file of the accounts shown).
    pub as_of: Option<Date>,
    /// First day of the range the Health events and support cases are read from.
    pub from: Option<Date>,
    /// The accounts shown, by id.
    pub accounts: Vec<AccountRef>,
    /// Health events of the range, by account and start, newest first.
    pub health: Vec<HealthEvent>,
    /// Flagged Trusted Advisor checks, by account and name.
    pub advisor: Vec<AdvisorCheck>,
    /// Resilience Hub applications.
    pub resilience: Vec<ResilienceApp>,
    /// Application Signals services.
    pub signals: Vec<SignalService>,
    /// Support cases of the range.
    pub cases: Vec<SupportCase>,
    /// Collection of each category in the files read: Health, Trusted Advisor, Resilience
    /// Hub, Application Signals, support cases.
    pub collections: [Collection; 5],
}

impl Store {
    /// The Operations page's figures for the accounts `access` sees and `filter` names, as
    /// of the filter's last day (see the module docs).
    pub async fn operations_report(
        &self,
        access: &Access,
        filter: &PageFilter,
    ) -> Result<OperationsReport, StoreError> {
        on_pool!(self, |p, b| {
            let mut tx = p.begin_with(b.begin_snapshot_read()).await?;
            let out = operations_report(&mut *tx, access, filter).await?;
            tx.commit().await?;
            Ok(out)
        })
    }
}

fn ts(t: Option<OffsetDateTime>) -> Option<Timestamp> {
    t.map(Timestamp::new)
}

/// The rows of `table` (aliased `x`) in the files `files` selects, once per account and
/// `key`: the newest file's. `columns` are selected after the account id.
fn once_per_account(table: &str, key: &str, columns: &str, files: &str) -> String {
    format!(
        "SELECT * FROM (SELECT acc.account_id AS account, {columns}, \
         ROW_NUMBER() OVER (PARTITION BY x.account_id, {key} \
                            ORDER BY sn.period_start DESC, sn.region, sn.id) AS newest \
         FROM {table} x JOIN snapshots sn ON sn.id = x.snapshot_id \
         JOIN accounts acc ON acc.id = x.account_id \
         WHERE x.snapshot_id IN ({files})) once WHERE newest = 1"
    )
}

type HealthRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<OffsetDateTime>,
    Option<OffsetDateTime>,
    String,
    i64,
);
type AdvisorRow = (
    String,
    String,
    String,
    String,
    Option<i64>,
    Option<f64>,
    i64,
);
type AppRow = (
    String,
    String,
    String,
    String,
    Option<f64>,
    Option<i64>,
    Option<i64>,
    Option<OffsetDateTime>,
);
type CaseRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<OffsetDateTime>,
    i64,
);

async fn operations_report<C: Conn>(
    c: &mut C,
    access: &Access,
    filter: &PageFilter,
) -> Result<OperationsReport, sqlx::Error> {
    let (vis, vis_args) = visible(access, filter, "a");
    let (accounts, as_of) = accounts_and_day(c, &vis, &vis_args, filter).await?;
    let Some(as_of) = as_of else {
        return Ok(OperationsReport {
            as_of: None,
            from: None,
            accounts,
            health: Vec::new(),
            advisor: Vec::new(),
            resilience: Vec::new(),
            signals: Vec::new(),
            cases: Vec::new(),
            collections: [Collection::default(); 5],
        });
    };
    let args = {
        let mut all = vec![Val::Date(as_of)];
        all.extend(vis_args.iter().cloned());
        all
    };
    let current = latest_files(&vis);
    let from = filter
        .from
        .unwrap_or(as_of - Duration::days(super::TREND_DAYS - 1))
        .min(as_of);
    // The DAILY files of the range: placeholders `from`, `to`, then those of `vis`.
    let range = format!(
        "SELECT sn.id FROM snapshots sn JOIN accounts a ON a.id = sn.account_id \
         WHERE sn.granularity = 'DAILY' AND sn.period_start >= ? AND sn.period_start <= ? \
         AND {vis}"
    );
    let range_args = {
        let mut all = vec![Val::Date(from), Val::Date(as_of)];
        all.extend(vis_args.iter().cloned());
        all
    };
    let health_sql = once_per_account(
        "health_events",
        "COALESCE(x.arn, '')",
        "COALESCE(x.region, '') AS region, COALESCE(x.service, '') AS service, \
         COALESCE(x.event_type_code, '') AS code, COALESCE(x.event_type_category, '') AS cat, \
         COALESCE(x.status_code, '') AS status, x.start_time AS start_time, \
         x.end_time AS end_time, COALESCE(x.arn, '') AS arn",
        &range,
    );
    let health = c
        .fetch_all::<HealthRow>(
            &format!("{health_sql} ORDER BY account, start_time DESC, arn"),
            &range_args,
        )
        .await?
        .into_iter()
        .map(
            |(id, region, service, event_type, category, status, start, end, arn, _)| {
                Ok(HealthEvent {
                    account_id: account_id(&id)?,
                    region,
                    service,
                    event_type,
                    category,
                    status,
                    start: ts(start),
                    end: ts(end),
                    arn,
                })
            },
        )
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let advisor_sql = once_per_account(
        "trusted_advisor_checks",
        "COALESCE(x.check_name, '')",
        "COALESCE(x.check_name, '') AS name, COALESCE(x.category, '') AS category, \
         COALESCE(x.severity, '') AS severity, \
         CAST(x.affected_resources_count AS BIGINT) AS affected, \
         CAST(x.potential_savings AS DOUBLE PRECISION) AS savings",
        &current,
    );
    let advisor = c
        .fetch_all::<AdvisorRow>(&format!("{advisor_sql} ORDER BY account, name"), &args)
        .await?
        .into_iter()
        .map(|(id, name, category, severity, affected, savings, _)| {
            Ok(AdvisorCheck {
                account_id: account_id(&id)?,
                name,
                category,
                severity,
                affected_resources: affected,
                potential_savings: savings,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let resilience = c
        .fetch_all::<AppRow>(
            &format!(
                "SELECT acc.account_id, sn.region, COALESCE(x.name, x.app_arn, ''), \
                 COALESCE(x.compliance_status, ''), \
                 CAST(x.resiliency_score AS DOUBLE PRECISION), CAST(x.rpo AS BIGINT), \
                 CAST(x.rto AS BIGINT), x.last_assessment_time \
                 FROM resilience_hub_apps x JOIN snapshots sn ON sn.id = x.snapshot_id \
                 JOIN accounts acc ON acc.id = x.account_id \
                 WHERE x.snapshot_id IN ({current}) \
                 ORDER BY acc.account_id, sn.region, x.name, x.app_arn"
            ),
            &args,
        )
        .await?
        .into_iter()
        .map(
            |(id, region, name, compliance_status, score, rpo, rto, assessed)| {
                Ok(ResilienceApp {
                    account_id: account_id(&id)?,
                    region,
                    name,
                    compliance_status,
                    score,
                    rpo,
                    rto,
                    last_assessment: ts(assessed),
                })
            },
        )
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let signals = c
        .fetch_all::<(String, String, String, String)>(
            &format!(
                "SELECT acc.account_id, sn.region, COALESCE(x.service_name, ''), \
                 COALESCE(x.namespace, '') \
                 FROM application_signals x JOIN snapshots sn ON sn.id = x.snapshot_id \
                 JOIN accounts acc ON acc.id = x.account_id \
                 WHERE x.snapshot_id IN ({current}) \
                 ORDER BY acc.account_id, sn.region, x.service_name"
            ),
            &args,
        )
        .await?
        .into_iter()
        .map(|(id, region, service, namespace)| {
            Ok(SignalService {
                account_id: account_id(&id)?,
                region,
                service,
                namespace,
            })
        })
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let cases_sql = once_per_account(
        "support_tickets",
        "COALESCE(x.case_id, '')",
        "COALESCE(x.display_id, x.case_id, '') AS display, COALESCE(x.subject, '') AS subject, \
         COALESCE(x.status, '') AS status, COALESCE(x.severity_code, '') AS severity, \
         COALESCE(x.service_code, '') AS service, x.time_created AS created",
        &range,
    );
    let cases = c
        .fetch_all::<CaseRow>(
            &format!("{cases_sql} ORDER BY account, created DESC, display"),
            &range_args,
        )
        .await?
        .into_iter()
        .map(
            |(id, display_id, subject, status, severity, service, created, _)| {
                Ok(SupportCase {
                    account_id: account_id(&id)?,
                    display_id,
                    subject,
                    status,
                    severity,
                    service,
                    created: ts(created),
                })
            },
        )
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    let mut collections = [Collection::default(); 5];
    for (slot, (status, in_range)) in collections.iter_mut().zip([
        ("health_status", true),
        ("trusted_advisor_status", false),
        ("resilience_hub_status", false),
        ("application_status", false),
        ("support_tickets_status", true),
    ]) {
        *slot = if in_range {
            Collection::read(c, status, &range, &range_args).await?
        } else {
            Collection::read(c, status, &current, &args).await?
        };
    }
    Ok(OperationsReport {
        as_of: Some(as_of),
        from: Some(from),
        accounts,
        health,
        advisor,
        resilience,
        signals,
        cases,
        collections,
    })
}
