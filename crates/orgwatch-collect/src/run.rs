//! One collection run: accounts, then per account its role, its regions, its global
//! category once, and each region's categories, at most `concurrency` account-regions at a
//! time; each account-region's snapshot is written as soon as it is read and then dropped,
//! so memory grows with the concurrency, not with the number of accounts.

use crate::accounts::{self, Caller, Target};
use crate::aws::{self, RoleOptions};
use crate::call::{CallError, Failure};
use crate::category::cost::CostAndServices;
use crate::category::period::Periods;
use crate::category::security_hub::Window;
use crate::category::{self, Collected};
use crate::ledger::{Entry, Ledger, Status};
use crate::limit::{self, RateLimits, Scope};
use crate::regions;
use aws_config::SdkConfig;
use futures_util::stream::{self, StreamExt};
use orgwatch_model::category::account::Account;
use orgwatch_model::category::config::ConfigReport;
use orgwatch_model::category::cost::CostReport;
use orgwatch_model::category::health::HealthEvent;
use orgwatch_model::category::logs::{CollectionLog, CollectionStatus, LogMessage};
use orgwatch_model::category::organization::Organization;
use orgwatch_model::category::security::Security;
use orgwatch_model::category::service::ServiceCost;
use orgwatch_model::category::support_tickets::SupportTicket;
use orgwatch_model::category::trusted_advisor::TrustedAdvisorCheck;
use orgwatch_model::snapshot::period_of;
use orgwatch_model::{AccountId, Category, Granularity, Region, Snapshot, SnapshotLocation};
use std::collections::BTreeMap;
use std::num::NonZeroU32;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use time::Date;
use tokio::sync::Semaphore;

/// The categories this version collects; every other one is named in each file's `logs`
/// as not collected (no status, so readers report it as "not collected", not as failed).
pub const COLLECTED: [Category; 9] = [
    Category::Account,
    Category::Config,
    Category::Service,
    Category::Cost,
    Category::Security,
    Category::TrustedAdvisor,
    Category::SupportTickets,
    Category::Health,
    Category::ResilienceHub,
];

/// The parts of `security` this version reads, as the ledger names them (`security.waf`
/// brings both `waf` and `waf_rules`): every part of the A360 document.
pub const SECURITY_PARTS: [&str; 8] = [
    "security.security_hub",
    "security.guard_duty",
    "security.kms",
    "security.waf",
    "security.cloudtrail",
    "security.secrets_manager",
    "security.certificate_manager",
    "security.inspector",
];

/// What a run does.
#[derive(Debug, Clone)]
pub struct CollectOptions {
    /// Which accounts.
    pub accounts: accounts::Selection,
    /// The member role.
    pub role: RoleOptions,
    /// Which regions.
    pub regions: regions::Selection,
    /// Account-regions read at once (at least 1).
    pub concurrency: usize,
    /// DAILY or MONTHLY (the file name's interval).
    pub granularity: Granularity,
    /// The run date in the file names (today, UTC).
    pub run_date: Date,
    /// Files go under `data/` of this directory or bucket prefix.
    pub out: crate::write::Out,
    /// Calls per second per account and region, by service, over the defaults of
    /// [`limit::DEFAULTS`] (`--rate-limit SERVICE=N`).
    pub rate_limits: BTreeMap<String, NonZeroU32>,
}

/// Why a run could not start (anything after discovery is a ledger entry, never fatal).
#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    /// The base credentials do not work.
    #[error("cannot tell who the AWS credentials are (check AWS_PROFILE/--profile, the credentials and AWS_ENDPOINT_URL): {0}")]
    Caller(CallError),
    /// The organisation's accounts could not be listed.
    #[error("cannot list the organisation's accounts (run in the management or a delegated administrator account, or use --account): {0}")]
    Organization(CallError),
    /// A snapshot could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The error.
        source: std::io::Error,
    },
    /// A snapshot could not be put in its bucket.
    #[error("cannot write {url}: {source}")]
    Upload {
        /// `s3://bucket/key`
        url: String,
        /// The error.
        source: CallError,
    },
}

/// What a run did.
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// Accounts considered (skipped ones included).
    pub accounts: usize,
    /// Files written (for an S3 output, as `s3://bucket/key`).
    pub files: Vec<PathBuf>,
    /// What happened to each part.
    pub ledger: Ledger,
}

/// Something the caller may show while the run goes on.
#[derive(Debug, Clone)]
pub enum Progress {
    /// The accounts are known.
    Accounts(usize),
    /// One account-region's file is written.
    Written(PathBuf),
    /// One account is done (or skipped).
    AccountDone(AccountId),
}

struct Shared<'a> {
    base: &'a SdkConfig,
    caller: &'a Caller,
    opts: &'a CollectOptions,
    permits: Semaphore,
    ledger: Mutex<Vec<Entry>>,
    files: Mutex<Vec<PathBuf>>,
    on_progress: &'a (dyn Fn(Progress) + Sync),
    limits: Arc<RateLimits>,
}

impl Shared<'_> {
    /// The rate-limit scope of an account's global calls (`region: None`) or of a region's.
    fn scope(&self, account: AccountId, region: Option<&Region>) -> Scope {
        Scope {
            limits: self.limits.clone(),
            account,
            region: region.map(|r| r.as_str().to_owned()),
        }
    }

    fn record(&self, e: Entry) {
        tracing::debug!(entry = %e, "ledger");
        if let Ok(mut l) = self.ledger.lock() {
            l.push(e);
        }
    }
}

/// Runs a collection with the base configuration `base`.
pub async fn run(
    base: &SdkConfig,
    opts: &CollectOptions,
    on_progress: &(dyn Fn(Progress) + Sync),
) -> Result<Report, CollectError> {
    let caller = accounts::caller(base).await.map_err(CollectError::Caller)?;
    let mut targets = match &opts.accounts {
        accounts::Selection::Caller => vec![Target::bare(caller.account, true)],
        accounts::Selection::List(ids) => ids
            .iter()
            .map(|id| Target::bare(*id, *id == caller.account))
            .collect(),
        accounts::Selection::Organization => accounts::organization(base, &caller)
            .await
            .map_err(CollectError::Organization)?,
    };
    // Only Organizations knows OUs: with --account or the caller's own account, none.
    let ou_failures = if opts.accounts == accounts::Selection::Organization {
        accounts::ou_paths(base, &mut targets).await
    } else {
        Vec::new()
    };
    on_progress(Progress::Accounts(targets.len()));
    let shared = Shared {
        base,
        caller: &caller,
        opts,
        permits: Semaphore::new(opts.concurrency.max(1)),
        ledger: Mutex::new(Vec::new()),
        files: Mutex::new(Vec::new()),
        on_progress,
        limits: Arc::new(RateLimits::new(&opts.rate_limits)),
    };
    for (account, e) in &ou_failures {
        let mut entry = Entry::failed(*account, None, "organization", e);
        entry.reason = Some(format!("OU path not read (the files have none): {e}"));
        shared.record(entry);
    }
    let count = targets.len();
    let results: Vec<Result<(), CollectError>> = stream::iter(targets)
        .map(|t| account(&shared, t))
        .buffer_unordered(opts.concurrency.max(1))
        .collect()
        .await;
    results.into_iter().collect::<Result<(), _>>()?;
    let mut entries = shared.ledger.into_inner().unwrap_or_default();
    entries.sort_by(|a, b| (a.account, &a.region, a.part).cmp(&(b.account, &b.region, b.part)));
    let mut files = shared.files.into_inner().unwrap_or_default();
    files.sort();
    Ok(Report {
        accounts: count,
        files,
        ledger: Ledger { entries },
    })
}

async fn account(shared: &Shared<'_>, target: Target) -> Result<(), CollectError> {
    let id = target.id;
    // Boxed, as are the regions' reads below: an account's future holds every category's
    // state, too large for a thread's stack in a debug build.
    let done = limit::in_scope(
        shared.scope(id, None),
        Box::pin(account_inner(shared, target)),
    )
    .await;
    shared.limits.forget_idle();
    (shared.on_progress)(Progress::AccountDone(id));
    done
}

async fn account_inner(shared: &Shared<'_>, target: Target) -> Result<(), CollectError> {
    let id = target.id;
    if !target.is_active() {
        shared.record(Entry {
            account: id,
            region: None,
            part: "account",
            status: Status::Skipped,
            items: 0,
            reason: Some(format!(
                "the account is {} in Organizations",
                target.status.as_deref().unwrap_or("not active")
            )),
        });
        return Ok(());
    }
    let periods = Periods::of(shared.opts.run_date, shared.opts.granularity);
    let (config, regions, account, global_reads) = {
        let Ok(_permit) = shared.permits.acquire().await else {
            return Ok(());
        };
        let Some(config) = member_config(shared, &target).await else {
            return Ok(());
        };
        let account_client = aws_sdk_account::Client::new(&config);
        let regions = match &shared.opts.regions {
            regions::Selection::List(r) => r.clone(),
            regions::Selection::All => match regions::enabled(&account_client).await {
                Ok(r) => r,
                Err(e) => {
                    shared.record(Entry::failed(id, None, "regions", &e));
                    return Ok(());
                }
            },
        };
        // Global: once per account, then copied into each region's file (as the sender does).
        let account = category::account::collect(&account_client, &target).await;
        // Cost Explorer, the Support API and Health answer in us-east-1 (global endpoints).
        let us_east_1 = aws::in_region(&config, "us-east-1");
        let ce = aws_sdk_costexplorer::Client::new(&us_east_1);
        let support = aws_sdk_support::Client::new(&us_east_1);
        let health = aws_sdk_health::Client::new(&us_east_1);
        let window = file_window(shared);
        let (cost, trusted_advisor, support_tickets, health) = tokio::join!(
            category::cost::collect(&ce, id, periods),
            category::support::trusted_advisor(&support, window),
            category::support::tickets(&support, window),
            category::health::collect(&health, window),
        );
        let support = Support {
            trusted_advisor,
            support_tickets,
            health,
        };
        (config, regions, account, (cost, support))
    };
    let account = match account {
        Ok(c) => {
            shared.record(Entry::read(id, None, "account", 1, &c.problems));
            c
        }
        Err(e) => {
            shared.record(Entry::failed(id, None, "account", &e));
            Collected {
                items: category::account::from_target(&target),
                problems: vec![e],
            }
        }
    };
    let global = Global::new(shared, account, periods, global_reads);
    let results: Vec<Result<(), CollectError>> = stream::iter(regions)
        .map(|r| {
            let scope = shared.scope(id, Some(&r));
            limit::in_scope(
                scope,
                Box::pin(region(shared, &config, &global, target.ou.as_ref(), r)),
            )
        })
        .buffer_unordered(shared.opts.concurrency.max(1))
        .collect()
        .await;
    results.into_iter().collect()
}

/// What is read once per account and copied into each of its regions' files.
struct Global {
    account: Collected<Account>,
    /// The sender's periods of Cost Explorer and Config.
    periods: Periods,
    service: Option<Vec<ServiceCost>>,
    cost: Option<CostReport>,
    trusted_advisor: Option<Vec<TrustedAdvisorCheck>>,
    support_tickets: Option<Vec<SupportTicket>>,
    health: Option<Vec<HealthEvent>>,
    /// The statuses and messages of the global categories (the account's are in `account`).
    log: CollectionLog,
}

/// What the Support API and Health gave for an account (both need a support plan).
struct Support {
    trusted_advisor: Result<Collected<Vec<TrustedAdvisorCheck>>, CallError>,
    support_tickets: Result<Collected<Vec<SupportTicket>>, CallError>,
    health: Result<Collected<Vec<HealthEvent>>, CallError>,
}

/// The window of the run's files, `[start 00:00 UTC, end 00:00 UTC)` of their period: the
/// same for every account and region, and for the global categories read once per account.
fn file_window(shared: &Shared<'_>) -> Window {
    let (start, end) = period_of(shared.opts.run_date, shared.opts.granularity);
    Window {
        start: start.midnight().assume_utc(),
        end: end.midnight().assume_utc(),
    }
}

/// Records a category of its own (not a `security` part) in the ledger (`count` items), its
/// status and its messages in `log`, and gives what the file holds (absent when it failed).
/// `region`: `None` for a global one, read once per account and copied into each region's
/// file.
fn read_part<T>(
    shared: &Shared<'_>,
    account: AccountId,
    region: Option<&str>,
    category: Category,
    read: Result<Collected<T>, CallError>,
    count: impl FnOnce(&T) -> usize,
    log: &mut CollectionLog,
) -> Option<T> {
    let key = category.key();
    match read {
        Ok(c) => {
            shared.record(Entry::read(
                account,
                region,
                key,
                count(&c.items),
                &c.problems,
            ));
            let status = if c.problems.is_empty() {
                CollectionStatus::Pass
            } else {
                CollectionStatus::Fail
            };
            log.statuses.insert(category, status);
            for p in &c.problems {
                log.messages.push(message(key, &p.to_string()));
            }
            Some(c.items)
        }
        Err(e) => {
            shared.record(Entry::failed(account, region, key, &e));
            log.statuses.insert(category, CollectionStatus::Fail);
            log.messages.push(message(key, &e.to_string()));
            None
        }
    }
}

impl Global {
    /// Records `cost` and `service` in the ledger once for the account, and keeps what
    /// each region's file says of them.
    fn new(
        shared: &Shared<'_>,
        account: Collected<Account>,
        periods: Periods,
        (cost, support): (CostAndServices, Support),
    ) -> Global {
        let id = account.items.account_id;
        let mut log = CollectionLog::default();
        let service = read_part(
            shared,
            id,
            None,
            Category::Service,
            cost.service.map(Collected::clean),
            Vec::len,
            &mut log,
        );
        let cost = match cost.cost {
            Ok(c) => {
                shared.record(Entry::read(id, None, "cost", 1, &c.problems));
                // A missing forecast leaves `cost` "Pass", as the sender has it: the rest is
                // complete, and readers run the month on without it (the Cost page).
                log.statuses.insert(Category::Cost, CollectionStatus::Pass);
                for p in &c.problems {
                    log.messages.push(message(
                        category::cost::FORECAST_UNAVAILABLE,
                        &p.to_string(),
                    ));
                }
                Some(c.items)
            }
            Err(e) => {
                shared.record(Entry::failed(id, None, "cost", &e));
                log.statuses.insert(Category::Cost, CollectionStatus::Fail);
                log.messages.push(message("cost", &e.to_string()));
                None
            }
        };
        let trusted_advisor = read_part(
            shared,
            id,
            None,
            Category::TrustedAdvisor,
            support.trusted_advisor,
            Vec::len,
            &mut log,
        );
        let support_tickets = read_part(
            shared,
            id,
            None,
            Category::SupportTickets,
            support.support_tickets,
            Vec::len,
            &mut log,
        );
        let health = read_part(
            shared,
            id,
            None,
            Category::Health,
            support.health,
            Vec::len,
            &mut log,
        );
        Global {
            account,
            periods,
            service,
            cost,
            trusted_advisor,
            support_tickets,
            health,
            log,
        }
    }
}

/// The configuration for the target's account: the base one for the caller's own account,
/// else the member role's, checked with one GetCallerIdentity so that a missing or denied
/// role is reported once, as such, and the account skipped.
async fn member_config(shared: &Shared<'_>, target: &Target) -> Option<SdkConfig> {
    if target.is_caller {
        return Some(shared.base.clone());
    }
    let partition = aws::partition_of(&shared.caller.arn);
    let config = aws::assume_role(shared.base, &shared.opts.role, partition, &target.id).await;
    let role_arn = shared.opts.role.role_arn(partition, &target.id);
    match accounts::caller(&config).await {
        Ok(who) if who.account == target.id => Some(config),
        Ok(who) => {
            shared.record(Entry {
                account: target.id,
                region: None,
                part: "role",
                status: Status::Failed(Failure::Error),
                items: 0,
                reason: Some(format!(
                    "the role {role_arn} gave credentials of account {}; skipped",
                    who.account
                )),
            });
            None
        }
        Err(e) => {
            shared.record(Entry {
                account: target.id,
                region: None,
                part: "role",
                status: Status::Failed(e.failure),
                items: 0,
                reason: Some(format!("cannot use the role {role_arn}; skipped: {e}")),
            });
            None
        }
    }
}

async fn region(
    shared: &Shared<'_>,
    config: &SdkConfig,
    global: &Global,
    organization: Option<&Organization>,
    region: Region,
) -> Result<(), CollectError> {
    let Ok(_permit) = shared.permits.acquire().await else {
        return Ok(());
    };
    let id = global.account.items.account_id;
    let r = region.as_str();
    let conf = aws::in_region(config, r);
    // Findings are read for the file's period.
    let window = file_window(shared);
    let config_client = aws_sdk_config::Client::new(&conf);
    let resilience_client = aws_sdk_resiliencehub::Client::new(&conf);
    let (hub, gd, kms, waf, sm, acm, ct, insp) = (
        aws_sdk_securityhub::Client::new(&conf),
        aws_sdk_guardduty::Client::new(&conf),
        aws_sdk_kms::Client::new(&conf),
        aws_sdk_wafv2::Client::new(&conf),
        aws_sdk_secretsmanager::Client::new(&conf),
        aws_sdk_acm::Client::new(&conf),
        aws_sdk_cloudtrail::Client::new(&conf),
        aws_sdk_inspector2::Client::new(&conf),
    );
    let (config_read, resilience, hub, guard_duty, kms, waf, secrets, certs, trails, inspector) = tokio::join!(
        category::config::collect(&config_client, global.periods),
        category::resilience_hub::collect(&resilience_client, window),
        category::security_hub::collect(&hub, id, window),
        category::guard_duty::collect(&gd, window),
        category::kms::collect(&kms),
        category::waf::collect(&waf, r),
        category::secrets_manager::collect(&sm),
        category::certificate_manager::collect(&acm),
        category::cloudtrail::collect(&ct),
        category::inspector::collect(&insp, window),
    );
    let mut log = CollectionLog::default();
    // Config is regional and apart from `security`: its own status, ledger line (counted in
    // rules) and key.
    let config_report = read_part(
        shared,
        id,
        Some(r),
        Category::Config,
        config_read,
        |c| c.rules,
        &mut log,
    )
    .map(|c| c.report);
    let resilience_hub = read_part(
        shared,
        id,
        Some(r),
        Category::ResilienceHub,
        resilience,
        Vec::len,
        &mut log,
    );
    let mut security = Security::default();
    let mut security_failed = 0;
    let mut security_problems = false;
    // A part that failed stays absent from `security` (None), so a reader sees "not
    // collected", never an empty list; its reason goes to `logs.message` and the ledger.
    let mut part = |name: &'static str, result: Result<(usize, Vec<CallError>), CallError>| {
        let key = name.trim_start_matches("security.");
        match result {
            Ok((n, problems)) => {
                shared.record(Entry::read(id, Some(r), name, n, &problems));
                security_problems |= !problems.is_empty();
                for p in problems {
                    log.messages.push(message(key, &p.to_string()));
                }
            }
            Err(e) => {
                shared.record(Entry::failed(id, Some(r), name, &e));
                security_failed += 1;
                log.messages.push(message(key, &e.to_string()));
            }
        }
    };
    fn keep<T>(slot: &mut Option<Vec<T>>, c: Collected<Vec<T>>) -> (usize, Vec<CallError>) {
        let n = c.items.len();
        *slot = Some(c.items);
        (n, c.problems)
    }
    part(
        "security.security_hub",
        hub.map(|c| {
            // Counted in findings, not in product summaries.
            let n = c.items.iter().map(|s| s.findings.len()).sum::<usize>();
            let (_, problems) = keep(&mut security.security_hub, c);
            (n, problems)
        }),
    );
    part(
        "security.guard_duty",
        guard_duty.map(|c| keep(&mut security.guard_duty, c)),
    );
    part("security.kms", kms.map(|c| keep(&mut security.kms, c)));
    part(
        "security.waf",
        waf.map(|c| {
            let n = c.items.acls.len();
            security.waf = Some(c.items.acls);
            security.waf_rules = Some(c.items.rules);
            (n, c.problems)
        }),
    );
    part(
        "security.secrets_manager",
        secrets.map(|c| keep(&mut security.secrets_manager, c)),
    );
    part(
        "security.certificate_manager",
        certs.map(|c| keep(&mut security.certificate_manager, c)),
    );
    part(
        "security.cloudtrail",
        trails.map(|c| keep(&mut security.cloudtrail, c)),
    );
    part(
        "security.inspector",
        inspector.map(|c| keep(&mut security.inspector, c)),
    );
    let security_ok = security_failed == 0 && !security_problems;
    let security = (security_failed < SECURITY_PARTS.len()).then_some(security);
    let mut snapshot = assemble(global, &region, config_report, security, security_ok, log);
    snapshot.resilience_hub = resilience_hub;
    snapshot.organization = organization.cloned();
    let location = location(shared, id, &region);
    let path = shared
        .opts
        .out
        .write(shared.base, &location, &snapshot)
        .await?;
    (shared.on_progress)(Progress::Written(path.clone()));
    if let Ok(mut f) = shared.files.lock() {
        f.push(path);
    }
    Ok(())
}

/// Where an account-region's file goes (and so which window it covers).
fn location(shared: &Shared<'_>, account: AccountId, region: &Region) -> SnapshotLocation {
    SnapshotLocation {
        account,
        region: Some(region.clone()),
        run_date: shared.opts.run_date,
        granularity: shared.opts.granularity,
    }
}

fn message(key: &str, text: &str) -> LogMessage {
    LogMessage {
        key: key.to_owned(),
        text: text.to_owned(),
    }
}

/// The reason written to `logs` for what this version does not read.
pub const NOT_COLLECTED: &str =
    "not collected: orgwatch collect does not read this yet (see docs/collect.md)";

/// One account-region's document: the account record, `service` and `cost` (global, read
/// once per account), `security` (with the parts read, the others absent; `[]` when every
/// part failed), and `logs` with a status for each category read and a message for each
/// failure and for each category and `security` part not read by this version.
fn assemble(
    global: &Global,
    region: &Region,
    config: Option<ConfigReport>,
    security: Option<Security>,
    security_ok: bool,
    mut log: CollectionLog,
) -> Snapshot {
    let account = &global.account;
    let mut record = account.items.clone();
    record.region = Some(region.as_str().to_owned());
    let pass = |ok: bool| {
        if ok {
            CollectionStatus::Pass
        } else {
            CollectionStatus::Fail
        }
    };
    log.statuses
        .insert(Category::Account, pass(account.problems.is_empty()));
    log.statuses.insert(Category::Security, pass(security_ok));
    log.statuses
        .extend(global.log.statuses.iter().map(|(c, s)| (*c, s.clone())));
    let mut messages: Vec<LogMessage> = account
        .problems
        .iter()
        .map(|p| message("account", &p.to_string()))
        .collect();
    messages.extend(global.log.messages.iter().cloned());
    messages.append(&mut log.messages);
    for c in Category::ALL {
        if !COLLECTED.contains(&c) {
            messages.push(message(c.key(), NOT_COLLECTED));
        }
    }
    log.messages = messages;
    Snapshot {
        account: record,
        config,
        service: global.service.clone(),
        cost: global.cost.clone(),
        security,
        inventory: None,
        marketplace: None,
        trusted_advisor: global.trusted_advisor.clone(),
        health: global.health.clone(),
        application: None,
        resilience_hub: None,
        service_resources: None,
        compute_optimizer: None,
        ri_sp_savings: None,
        config_inventory: None,
        support_tickets: global.support_tickets.clone(),
        logs: log,
        organization: None,
    }
}
