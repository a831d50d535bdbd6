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
use crate::category::service_resources::Listing;
use crate::category::{self, Collected};
use crate::ledger::{Entry, Ledger, Status};
use crate::limit::{self, RateLimits, Scope};
use crate::regions;
use aws_config::SdkConfig;
use futures_util::stream::{self, StreamExt};
use orgwatch_model::category::account::Account;
use orgwatch_model::category::application::ApplicationSignal;
use orgwatch_model::category::config_inventory::ConfigInventoryItem;
use orgwatch_model::category::cost::CostReport;
use orgwatch_model::category::health::HealthEvent;
use orgwatch_model::category::inventory::Inventory;
use orgwatch_model::category::logs::{CollectionLog, CollectionStatus, LogMessage};
use orgwatch_model::category::marketplace::MarketplaceUsage;
use orgwatch_model::category::organization::Organization;
use orgwatch_model::category::resilience_hub::ResilienceHubApp;
use orgwatch_model::category::security::{
    Certificate, GuardDutyFinding, InspectorFinding, KmsKey, Secret, Security, SecurityHubSummary,
    Trail,
};
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
    let (config, regions, account, global_reads, ce) = {
        let Ok(_permit) = shared.permits.acquire().await else {
            return Ok(());
        };
        let Some(config) = member_config(shared, &target).await else {
            return Ok(());
        };
        let account_client = crate::aws_client!(aws_sdk_account, &config);
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
        let ce = crate::aws_client!(aws_sdk_costexplorer, &us_east_1);
        let support = crate::aws_client!(aws_sdk_support, &us_east_1);
        let health = crate::aws_client!(aws_sdk_health, &us_east_1);
        let s3 = crate::aws_client!(aws_sdk_s3, &us_east_1);
        let savings_plans = crate::aws_client!(aws_sdk_savingsplans, &us_east_1);
        let window = file_window(shared);
        let (cost, trusted_advisor, support_tickets, health, buckets, savings_plans) = tokio::join!(
            category::cost::collect(&ce, id, periods),
            category::support::trusted_advisor(&support, window),
            category::support::tickets(&support, window),
            category::health::collect(&health, window),
            category::service_resources::buckets(&s3),
            category::ri_sp_savings::savings_plans(&savings_plans, &ce, window),
        );
        let support = Support {
            trusted_advisor,
            support_tickets,
            health,
            buckets,
            savings_plans,
        };
        (config, regions, account, (cost, support), ce)
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
                Box::pin(region(shared, &config, &ce, &global, target.ou.as_ref(), r)),
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
    marketplace: Option<Vec<MarketplaceUsage>>,
    /// The account's S3 buckets (part of each region's `service_resources`).
    buckets: Listing,
    /// The account's Savings Plans (part of each region's `ri_sp_savings`).
    savings_plans: category::ri_sp_savings::Read,
    /// The statuses and messages of the global categories (the account's are in `account`).
    log: CollectionLog,
}

/// What the Support API and Health gave for an account (both need a support plan), and
/// its S3 buckets.
struct Support {
    trusted_advisor: Result<Collected<Vec<TrustedAdvisorCheck>>, CallError>,
    support_tickets: Result<Collected<Vec<SupportTicket>>, CallError>,
    health: Result<Collected<Vec<HealthEvent>>, CallError>,
    buckets: Listing,
    savings_plans: category::ri_sp_savings::Read,
}

/// The window of the run's files, `[start 00:00 UTC, end 00:00 UTC)` of their period: the
/// same for every account and region, and for the global categories read once per account.
fn file_window(shared: &Shared<'_>) -> Window {
    let (start, end) = period_of(shared.opts.run_date, shared.opts.granularity);
    Window::days(start, end)
}

/// Records the categories of its own (not `security` parts) of one account and one region
/// (or, `region: None`, the global ones, read once per account and copied into each region's
/// file) in the ledger and in `log`.
struct Recorder<'r, 's> {
    shared: &'r Shared<'s>,
    account: AccountId,
    region: Option<&'r str>,
    log: &'r mut CollectionLog,
}

impl Recorder<'_, '_> {
    /// Records `category` (its ledger line counted by `count`, its status and messages) and
    /// gives what the file holds (absent when it failed).
    fn part<T>(
        &mut self,
        category: Category,
        read: Result<Collected<T>, CallError>,
        count: impl FnOnce(&T) -> usize,
    ) -> Option<T> {
        let (shared, account, region) = (self.shared, self.account, self.region);
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
                self.log.statuses.insert(category, status);
                for p in &c.problems {
                    self.log.messages.push(message(key, &p.to_string()));
                }
                Some(c.items)
            }
            Err(e) => {
                shared.record(Entry::failed(account, region, key, &e));
                self.log.statuses.insert(category, CollectionStatus::Fail);
                self.log.messages.push(message(key, &e.to_string()));
                None
            }
        }
    }
}

impl Global {
    /// Records the global categories in the ledger once for the account, and keeps what
    /// each region's file says of them.
    fn new(
        shared: &Shared<'_>,
        account: Collected<Account>,
        periods: Periods,
        (cost, support): (CostAndServices, Support),
    ) -> Global {
        let id = account.items.account_id;
        let mut log = CollectionLog::default();
        let cost_report = match cost.cost {
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
        let mut rec = Recorder {
            shared,
            account: id,
            region: None,
            log: &mut log,
        };
        let service = rec.part(
            Category::Service,
            cost.service.map(Collected::clean),
            Vec::len,
        );
        let marketplace = rec.part(
            Category::Marketplace,
            cost.marketplace.map(Collected::clean),
            Vec::len,
        );
        let trusted_advisor = rec.part(Category::TrustedAdvisor, support.trusted_advisor, Vec::len);
        let support_tickets = rec.part(Category::SupportTickets, support.support_tickets, Vec::len);
        let health = rec.part(Category::Health, support.health, Vec::len);
        Global {
            account,
            periods,
            service,
            cost: cost_report,
            trusted_advisor,
            support_tickets,
            health,
            marketplace,
            buckets: support.buckets,
            savings_plans: support.savings_plans,
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
    ce: &aws_sdk_costexplorer::Client,
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
    let (categories, security) = tokio::join!(
        Box::pin(RegionalReads::read(&conf, ce, global.periods, window, r)),
        Box::pin(SecurityReads::read(&conf, id, window, r)),
    );
    let mut log = CollectionLog::default();
    // The account record, labelled with the file's region (as the sender does).
    let mut record = global.account.items.clone();
    record.region = Some(r.to_owned());
    let mut snapshot = Snapshot::new(record);
    categories.record(shared, id, r, global, &mut log, &mut snapshot);
    let security_ok = security.record(shared, id, r, &mut log, &mut snapshot);
    assemble(global, security_ok, log, &mut snapshot);
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

/// What a region's categories of their own (not `security`) gave.
struct RegionalReads {
    config: Result<Collected<category::config::ConfigRead>, CallError>,
    config_inventory: Result<Collected<Vec<ConfigInventoryItem>>, CallError>,
    inventory: Result<Collected<Inventory>, CallError>,
    compute_optimizer: Vec<category::compute_optimizer::Listing>,
    application: Result<Collected<Vec<ApplicationSignal>>, CallError>,
    service_resources: Vec<Listing>,
    resilience_hub: Result<Collected<Vec<ResilienceHubApp>>, CallError>,
    /// EC2's and RDS's Reserved Instances.
    reserved: Vec<category::ri_sp_savings::Read>,
}

impl RegionalReads {
    /// Reads them all at once (each waits for its own service's rate limit). `ce` is the
    /// account's Cost Explorer client (in us-east-1, for every region's reservations).
    async fn read(
        conf: &SdkConfig,
        ce: &aws_sdk_costexplorer::Client,
        periods: Periods,
        window: Window,
        r: &str,
    ) -> Self {
        let config = crate::aws_client!(aws_sdk_config, conf);
        let resources = category::service_resources::Clients::new(conf);
        let (ec2, rds) = (resources.ec2(), resources.rds());
        let (ssm, optimizer, signals, resilience) = (
            crate::aws_client!(aws_sdk_ssm, conf),
            crate::aws_client!(aws_sdk_computeoptimizer, conf),
            crate::aws_client!(aws_sdk_applicationsignals, conf),
            crate::aws_client!(aws_sdk_resiliencehub, conf),
        );
        let (
            config_report,
            config_inventory,
            inventory,
            compute_optimizer,
            application,
            service_resources,
            resilience_hub,
            ec2_reserved,
            rds_reserved,
        ) = tokio::join!(
            category::config::collect(&config, periods),
            category::config_inventory::collect(&config),
            category::inventory::collect(&ssm, window),
            category::compute_optimizer::collect(&optimizer),
            category::application::collect(&signals, window),
            category::service_resources::regional(&resources, r),
            category::resilience_hub::collect(&resilience, window),
            category::ri_sp_savings::ec2_reserved(ec2, ce, window),
            category::ri_sp_savings::rds_reserved(rds, ce, window),
        );
        RegionalReads {
            config: config_report,
            config_inventory,
            inventory,
            compute_optimizer,
            application,
            service_resources,
            resilience_hub,
            reserved: vec![ec2_reserved, rds_reserved],
        }
    }

    /// Records each in the ledger and `log`, and puts what was read in the snapshot.
    fn record(
        self,
        shared: &Shared<'_>,
        id: AccountId,
        r: &str,
        global: &Global,
        log: &mut CollectionLog,
        snapshot: &mut Snapshot,
    ) {
        let mut rec = Recorder {
            shared,
            account: id,
            region: Some(r),
            log,
        };
        // Config's ledger line is counted in rules.
        snapshot.config = rec
            .part(Category::Config, self.config, |c| c.rules)
            .map(|c| c.report);
        snapshot.config_inventory =
            rec.part(Category::ConfigInventory, self.config_inventory, Vec::len);
        // Counted in instances (their applications and patches come with them).
        snapshot.inventory = rec.part(Category::Inventory, self.inventory, |i| i.instances.len());
        snapshot.compute_optimizer = rec.part(
            Category::ComputeOptimizer,
            category::combine(self.compute_optimizer),
            Vec::len,
        );
        snapshot.application = rec.part(Category::Application, self.application, Vec::len);
        let mut resources = self.service_resources;
        resources.push(category::service_resources::in_region(&global.buckets, r));
        snapshot.service_resources = rec.part(
            Category::ServiceResources,
            category::combine(resources),
            Vec::len,
        );
        snapshot.resilience_hub = rec.part(Category::ResilienceHub, self.resilience_hub, Vec::len);
        let mut reserved = self.reserved;
        reserved.push(global.savings_plans.clone());
        snapshot.ri_sp_savings = rec.part(
            Category::RiSpSavings,
            category::combine_read(reserved),
            Vec::len,
        );
    }
}

/// What a region's `security` parts gave.
struct SecurityReads {
    security_hub: Result<Collected<Vec<SecurityHubSummary>>, CallError>,
    guard_duty: Result<Collected<Vec<GuardDutyFinding>>, CallError>,
    kms: Result<Collected<Vec<KmsKey>>, CallError>,
    waf: Result<Collected<category::waf::Waf>, CallError>,
    secrets_manager: Result<Collected<Vec<Secret>>, CallError>,
    certificate_manager: Result<Collected<Vec<Certificate>>, CallError>,
    cloudtrail: Result<Collected<Vec<Trail>>, CallError>,
    inspector: Result<Collected<Vec<InspectorFinding>>, CallError>,
}

impl SecurityReads {
    /// Reads every part at once.
    async fn read(conf: &SdkConfig, id: AccountId, window: Window, r: &str) -> Self {
        let (hub, gd, kms, waf, sm, acm, ct, insp) = (
            crate::aws_client!(aws_sdk_securityhub, conf),
            crate::aws_client!(aws_sdk_guardduty, conf),
            crate::aws_client!(aws_sdk_kms, conf),
            crate::aws_client!(aws_sdk_wafv2, conf),
            crate::aws_client!(aws_sdk_secretsmanager, conf),
            crate::aws_client!(aws_sdk_acm, conf),
            crate::aws_client!(aws_sdk_cloudtrail, conf),
            crate::aws_client!(aws_sdk_inspector2, conf),
        );
        let (
            security_hub,
            guard_duty,
            kms,
            waf,
            secrets_manager,
            certificate_manager,
            cloudtrail,
            inspector,
        ) = tokio::join!(
            category::security_hub::collect(&hub, id, window),
            category::guard_duty::collect(&gd, window),
            category::kms::collect(&kms),
            category::waf::collect(&waf, r),
            category::secrets_manager::collect(&sm),
            category::certificate_manager::collect(&acm),
            category::cloudtrail::collect(&ct),
            category::inspector::collect(&insp, window),
        );
        SecurityReads {
            security_hub,
            guard_duty,
            kms,
            waf,
            secrets_manager,
            certificate_manager,
            cloudtrail,
            inspector,
        }
    }

    /// Records each part in the ledger and `log`, and puts `security` in the snapshot (with
    /// the parts read; `[]` when every part failed). True when every part was read fully.
    fn record(
        self,
        shared: &Shared<'_>,
        id: AccountId,
        r: &str,
        log: &mut CollectionLog,
        snapshot: &mut Snapshot,
    ) -> bool {
        let mut security = Security::default();
        let mut failed = 0;
        let mut problems_seen = false;
        // A part that failed stays absent from `security` (None), so a reader sees "not
        // collected", never an empty list; its reason goes to `logs.message` and the ledger.
        let mut part = |name: &'static str, result: Result<(usize, Vec<CallError>), CallError>| {
            let key = name.trim_start_matches("security.");
            match result {
                Ok((n, problems)) => {
                    shared.record(Entry::read(id, Some(r), name, n, &problems));
                    problems_seen |= !problems.is_empty();
                    for p in problems {
                        log.messages.push(message(key, &p.to_string()));
                    }
                }
                Err(e) => {
                    shared.record(Entry::failed(id, Some(r), name, &e));
                    failed += 1;
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
            self.security_hub.map(|c| {
                // Counted in findings, not in product summaries.
                let n = c.items.iter().map(|s| s.findings.len()).sum::<usize>();
                let (_, problems) = keep(&mut security.security_hub, c);
                (n, problems)
            }),
        );
        part(
            "security.guard_duty",
            self.guard_duty.map(|c| keep(&mut security.guard_duty, c)),
        );
        part("security.kms", self.kms.map(|c| keep(&mut security.kms, c)));
        part(
            "security.waf",
            self.waf.map(|c| {
                let n = c.items.acls.len();
                security.waf = Some(c.items.acls);
                security.waf_rules = Some(c.items.rules);
                (n, c.problems)
            }),
        );
        part(
            "security.secrets_manager",
            self.secrets_manager
                .map(|c| keep(&mut security.secrets_manager, c)),
        );
        part(
            "security.certificate_manager",
            self.certificate_manager
                .map(|c| keep(&mut security.certificate_manager, c)),
        );
        part(
            "security.cloudtrail",
            self.cloudtrail.map(|c| keep(&mut security.cloudtrail, c)),
        );
        part(
            "security.inspector",
            self.inspector.map(|c| keep(&mut security.inspector, c)),
        );
        snapshot.security = (failed < SECURITY_PARTS.len()).then_some(security);
        failed == 0 && !problems_seen
    }
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

/// Completes an account-region's document: the global categories
/// (read once per account), and `logs` with a status for each category and a message for
/// each failure.
fn assemble(global: &Global, security_ok: bool, mut log: CollectionLog, snapshot: &mut Snapshot) {
    let account = &global.account;
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
    log.messages = messages;
    snapshot.service = global.service.clone();
    snapshot.cost = global.cost.clone();
    snapshot.marketplace = global.marketplace.clone();
    snapshot.trusted_advisor = global.trusted_advisor.clone();
    snapshot.health = global.health.clone();
    snapshot.support_tickets = global.support_tickets.clone();
    snapshot.logs = log;
}
