//! The command line, converted once into a validated [`Config`]: defaults resolved, paths
//! checked, conflicting options refused, before any database is opened.

use crate::cli::{
    ActivityArgs, Cli, CollectArgs, Command, DemoArgs, IamPolicyArgs, IngestArgs, OidcArgs,
    PeriodArg, ReportFormat, RoleArg, ScopeArgs, TokensCommand, UsersCommand, WebArgs,
};
use crate::demo::generate::DemoOptions;
use crate::demo::replay::{Bursts, ReplayOptions};
use anyhow::{bail, Result};
use orgwatch_model::activity::AlarmKind;
use orgwatch_model::Timestamp;
use orgwatch_store::activity::Retention;
use orgwatch_store::auth::Role;
use orgwatch_store::{Access, Limits};
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Everything a run needs, validated.
#[derive(Debug)]
pub struct Config {
    /// `--database-url` (or its environment variable); `None`: the default SQLite file.
    pub database_url: Option<String>,
    /// Show progress bars (stderr is a terminal).
    pub progress: bool,
    /// Worker threads for reading, parsing and decoding.
    pub threads: usize,
    /// `-v` count.
    pub verbose: u8,
    /// The command.
    pub task: Task,
}

/// What to do.
#[derive(Debug)]
pub enum Task {
    /// `orgwatch demo`.
    Demo(DemoConfig),
    /// `orgwatch ingest`.
    Ingest(IngestConfig),
    /// `orgwatch activity`.
    Activity(ActivityConfig),
    /// `orgwatch migrate`.
    Migrate,
    /// `orgwatch serve`.
    Serve(ServeConfig),
    /// `orgwatch users …`.
    Users(UsersTask),
    /// `orgwatch tokens …`.
    Tokens(TokensTask),
    /// `orgwatch collect`.
    Collect(Box<CollectConfig>),
    /// `orgwatch iam-policy`.
    IamPolicy(IamPolicyConfig),
}

/// `orgwatch collect`, validated.
#[derive(Debug)]
pub struct CollectConfig {
    /// How to reach AWS.
    pub aws: orgwatch_collect::aws::AwsOptions,
    /// What to read and where to write it.
    pub options: orgwatch_collect::CollectOptions,
    /// `--ingest`: load what was written into the database too.
    pub ingest: bool,
}

/// `orgwatch iam-policy`, validated.
#[derive(Debug)]
pub struct IamPolicyConfig {
    /// The account orgwatch runs in.
    pub collector_account: orgwatch_model::AccountId,
    /// The member role's name.
    pub role_name: String,
    /// The external id, if any.
    pub external_id: Option<String>,
}

/// Where and how the web app listens.
#[derive(Debug, Clone)]
pub struct ServeConfig {
    /// The address (port 0: any free port).
    pub listen: std::net::SocketAddr,
    /// When session cookies are Secure.
    pub secure: orgwatch_web::SecureCookies,
    /// Where `/metrics` is served (no session: a private address), if anywhere.
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// The load bench's baseline route (hidden `--bench-static-bytes`; 0: off).
    pub bench_static_bytes: usize,
    /// Single sign-on, if configured (discovered at startup: [`crate::serve::sso`]).
    pub oidc: Option<OidcConfig>,
}

/// Single sign-on, validated (but not discovered yet).
#[derive(Debug, Clone)]
pub struct OidcConfig {
    /// The provider and the mappings; `redirect_url` empty until the listener is bound when
    /// it derives from the listen address.
    pub settings: orgwatch_web::oidc::OidcSettings,
    /// Derive the redirect URL from the bound address (no `--oidc-redirect-url`).
    pub derive_redirect: bool,
}

/// The environment variable of the OIDC client secret.
pub const OIDC_SECRET_ENV: &str = "ORGWATCH_OIDC_CLIENT_SECRET";

/// `orgwatch users …`, validated.
#[derive(Debug)]
pub enum UsersTask {
    /// Add a user.
    Add {
        /// Login name.
        name: String,
        /// Role.
        role: Role,
        /// What a viewer may see.
        access: Access,
        /// Read the password from stdin (else generate and print one).
        password_stdin: bool,
    },
    /// List users.
    List,
    /// Remove a user.
    Remove {
        /// Login name.
        name: String,
    },
    /// Set a password.
    Passwd {
        /// Login name.
        name: String,
        /// Read the password from stdin (else generate and print one).
        password_stdin: bool,
    },
    /// Set a role and limits.
    Grant {
        /// Login name.
        name: String,
        /// Role.
        role: Role,
        /// What a viewer may see.
        access: Access,
    },
}

/// `orgwatch tokens …`, validated.
#[derive(Debug)]
pub enum TokensTask {
    /// Make a token.
    Create {
        /// Its user's login name.
        user: String,
        /// Its name.
        name: String,
        /// Days until it expires (`None`: never).
        expires_in_days: Option<u32>,
    },
    /// List tokens (of one user).
    List {
        /// Only this user's.
        user: Option<String>,
    },
    /// Revoke a token.
    Revoke {
        /// Its id.
        id: orgwatch_store::auth::TokenId,
    },
}

/// `orgwatch demo`, validated.
#[derive(Debug)]
pub struct DemoConfig {
    /// The organisation to generate.
    pub options: DemoOptions,
    /// Where the files go; `None`: `demo/` in the data directory.
    pub dir: Option<PathBuf>,
    /// Write the files only.
    pub generate_only: bool,
    /// Serve the web app after loading (`None`: `--no-serve` or `--generate-only`).
    pub serve: Option<ServeConfig>,
    /// Replay synthetic CloudTrail while serving (`None`: `--no-replay`, or not serving).
    pub replay: Option<ReplayOptions>,
}

/// A place on AWS a source reads (`--from s3://…` or `sqs://…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Remote {
    /// A bucket and prefix, listed.
    S3(orgwatch_collect::remote::S3Url),
    /// A queue of S3 event notifications, by its URL (`https://sqs.REGION.amazonaws.com/ACCOUNT/NAME`).
    Sqs(String),
}

impl Remote {
    /// How to reach it: the standard chain, in the queue's own region when its URL names one.
    pub fn aws(&self) -> orgwatch_collect::aws::AwsOptions {
        let region = match self {
            Remote::Sqs(url) => queue_region(url),
            Remote::S3(_) => None,
        };
        orgwatch_collect::aws::AwsOptions {
            profile: None,
            region,
        }
    }
}

impl std::fmt::Display for Remote {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Remote::S3(url) => write!(f, "{url}"),
            Remote::Sqs(url) => write!(f, "sqs://{url}"),
        }
    }
}

/// The region in a queue URL's host (`sqs.REGION.amazonaws.com`, or the legacy
/// `REGION.queue.amazonaws.com`).
fn queue_region(url: &str) -> Option<String> {
    let host = url.split("://").nth(1)?.split('/').next()?;
    let parts: Vec<&str> = host.split('.').collect();
    let region = match parts.as_slice() {
        ["sqs", region, "amazonaws", ..] => region,
        [region, "queue", "amazonaws", ..] => region,
        _ => return None,
    };
    orgwatch_model::Region::parse(region)
        .ok()
        .map(|r| r.as_str().to_owned())
}

/// The remote place a `--from` names (`s3://BUCKET[/PREFIX]`, `sqs://QUEUE_URL`, where the
/// queue URL's `https://` may be left out), `None` for a local path.
fn remote(from: &Path) -> Result<Option<Remote>> {
    let Some(text) = from.to_str() else {
        return Ok(None);
    };
    if text.starts_with("s3://") {
        return Ok(Some(Remote::S3(orgwatch_collect::remote::S3Url::parse(
            text,
        )?)));
    }
    let Some(rest) = text.strip_prefix("sqs://") else {
        return Ok(None);
    };
    let url = if rest.starts_with("https://") || rest.starts_with("http://") {
        rest.to_owned()
    } else {
        format!("https://{rest}")
    };
    // https://HOST/ACCOUNT/NAME
    let path: Vec<&str> = url
        .split("://")
        .nth(1)
        .unwrap_or("")
        .split('/')
        .skip(1)
        .collect();
    let valid = matches!(path.as_slice(), [account, name]
        if account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit()) && !name.is_empty());
    if !valid {
        bail!("{text:?} is not sqs://QUEUE_URL (https://sqs.REGION.amazonaws.com/ACCOUNT/NAME)");
    }
    Ok(Some(Remote::Sqs(url)))
}

/// Where `orgwatch ingest` reads snapshots.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IngestFrom {
    /// The directory holding `data/` (it exists and has `data/`).
    Dir(PathBuf),
    /// A bucket's `PREFIX/data/`, or a queue of its notifications.
    Remote(Remote),
}

/// `orgwatch ingest`, validated.
#[derive(Debug)]
pub struct IngestConfig {
    /// Where the snapshots are.
    pub from: IngestFrom,
    /// With `--from sqs://`: how long a message stays invisible while its file is loaded
    /// (extended every half of it).
    pub visibility: Duration,
    /// With `--watch`, the pause between passes.
    pub watch: Option<Duration>,
    /// Files above this size are quarantined unread.
    pub max_file_bytes: u64,
    /// `--jobs`; `None`: the backend's default ([`crate::default_jobs`]).
    pub jobs: Option<usize>,
    /// Most files per transaction.
    pub batch_files: usize,
}

/// Where `orgwatch activity` reads from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReadFrom {
    /// Standard input (`--from -`).
    Stdin,
    /// A file or a directory (it exists).
    Path(PathBuf),
    /// An organisation trail's bucket, or a queue of its notifications (into the store only).
    Remote(Remote),
}

/// What `orgwatch activity` does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActivityMode {
    /// `--no-store`: a report of what was read; no database.
    Triage {
        /// The input.
        from: ReadFrom,
        /// How the report is printed.
        report: ReportFormat,
    },
    /// `--from` into the database.
    Store {
        /// The input.
        from: ReadFrom,
        /// Keep reading until interrupted.
        follow: bool,
        /// Also print a report of what was read.
        report: Option<ReportFormat>,
    },
    /// No `--from`: a report of the database.
    Stored {
        /// Events at or after this time.
        since: Option<Timestamp>,
        /// Events before this time.
        until: Option<Timestamp>,
        /// How the report is printed (a table unless `--report json`).
        report: ReportFormat,
    },
}

/// `orgwatch activity`, validated.
#[derive(Debug, Clone)]
pub struct ActivityConfig {
    /// What to do.
    pub mode: ActivityMode,
    /// How late an event may arrive and still count in its open window.
    pub lateness: Duration,
    /// Files (or stdin chunks) per transaction.
    pub batch_files: usize,
    /// With `--from sqs://`: how long a message stays invisible while what it names is read
    /// (extended every half of it).
    pub visibility: Duration,
    /// Longest record (or NDJSON line) read; longer ones are skipped and counted.
    pub max_record_bytes: usize,
    /// How long each tier is kept.
    pub retention: Retention,
    /// Most detector scopes held in memory (the others are parked in the store).
    pub resident_scopes: usize,
    /// New-behaviour alarm kinds switched on (`true`) or off by `--alarm`/`--no-alarm`; the
    /// others keep the detector's setting.
    pub alarm_switches: Vec<(AlarmKind, bool)>,
}

impl ActivityConfig {
    /// What `orgwatch activity --from -` runs with by default (the demo's replay reads with
    /// these, so it stores exactly as the command would).
    pub fn stream_defaults() -> Result<ActivityConfig> {
        use clap::Parser;
        match Cli::try_parse_from(["orgwatch", "activity", "--from", "-"])?.command {
            Command::Activity(args) => activity(args),
            _ => bail!("`activity --from -` did not parse as the activity command"),
        }
    }
}

impl Config {
    /// Validates a parsed command line.
    pub fn from_cli(cli: Cli) -> Result<Config> {
        let task = match cli.command {
            Command::Demo(args) => Task::Demo(demo(args)?),
            Command::Ingest(args) => Task::Ingest(ingest(args)?),
            Command::Activity(args) => Task::Activity(activity(args)?),
            Command::Migrate => Task::Migrate,
            Command::Serve(args) => Task::Serve(web(&args.web)?),
            Command::Users(args) => Task::Users(users(args.command)?),
            Command::Tokens(args) => Task::Tokens(tokens(args.command)?),
            Command::Collect(args) => Task::Collect(Box::new(collect(args)?)),
            Command::IamPolicy(args) => Task::IamPolicy(iam_policy(args)?),
        };
        Ok(Config {
            database_url: cli.global.database_url,
            progress: std::io::stderr().is_terminal(),
            threads: cli
                .global
                .threads
                .map_or_else(crate::pool::available, usize::from),
            verbose: cli.global.verbose,
            task,
        })
    }
}

fn demo(args: DemoArgs) -> Result<DemoConfig> {
    let regions = args
        .regions
        .iter()
        .map(|r| orgwatch_model::Region::parse(r.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let end_date = args
        .end_date
        .unwrap_or_else(|| time::OffsetDateTime::now_utc().date());
    let serving = !args.no_serve && !args.generate_only;
    Ok(DemoConfig {
        options: DemoOptions {
            accounts: args.accounts as usize,
            days: args.days,
            seed: args.seed,
            end_date,
            regions,
        },
        dir: args.dir,
        generate_only: args.generate_only,
        serve: if serving { Some(web(&args.web)?) } else { None },
        replay: (serving && !args.no_replay).then(|| ReplayOptions {
            bursts: Bursts {
                every_minutes: args.burst_every,
                ..Bursts::default()
            },
            speed: args.replay_speed,
            ..ReplayOptions::default()
        }),
    })
}

/// An IAM role name: 1-64 of `[A-Za-z0-9+=,.@_-]` (a path is not part of the name).
fn valid_role_name(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+=,.@_-".contains(&b))
}

fn collect(args: CollectArgs) -> Result<CollectConfig> {
    use orgwatch_collect::{accounts, regions};
    let ids = args
        .accounts
        .iter()
        .map(|a| orgwatch_model::AccountId::parse(a.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    let selection = if args.organization {
        accounts::Selection::Organization
    } else if ids.is_empty() {
        accounts::Selection::Caller
    } else {
        accounts::Selection::List(ids)
    };
    if !valid_role_name(&args.role_name) {
        bail!(
            "--role-name {:?} is not an IAM role name (1-64 letters, digits and +=,.@_-)",
            args.role_name
        );
    }
    let regions = if args.regions.trim().eq_ignore_ascii_case("all") {
        regions::Selection::All
    } else {
        let list = args
            .regions
            .split(',')
            .map(str::trim)
            .filter(|r| !r.is_empty())
            .map(orgwatch_model::Region::parse)
            .collect::<Result<Vec<_>, _>>()?;
        if list.is_empty() {
            bail!("--regions needs `all` or a comma list of regions");
        }
        regions::Selection::List(list)
    };
    // A service given twice keeps its last rate, as a later flag overrides an earlier one.
    let rate_limits = args
        .rate_limits
        .iter()
        .map(|r| orgwatch_collect::limit::parse_override(r))
        .collect::<Result<_, _>>()?;
    let run_date = time::OffsetDateTime::now_utc().date();
    let out = match args.out.to_str().filter(|o| o.starts_with("s3://")) {
        Some(url) => orgwatch_collect::write::Out::S3 {
            url: orgwatch_collect::remote::S3Url::parse(url)?,
            kms_key: args.kms_key,
        },
        None => {
            if args.kms_key.is_some() {
                bail!("--kms-key encrypts objects in S3: it needs --out s3://BUCKET/PREFIX");
            }
            if args.out.exists() && !args.out.is_dir() {
                bail!("--out {} is not a directory", args.out.display());
            }
            orgwatch_collect::write::Out::Dir(args.out)
        }
    };
    Ok(CollectConfig {
        ingest: args.ingest,
        aws: orgwatch_collect::aws::AwsOptions {
            profile: args.profile,
            region: args.region,
        },
        options: orgwatch_collect::CollectOptions {
            accounts: selection,
            role: orgwatch_collect::aws::RoleOptions {
                role_name: args.role_name,
                external_id: args.external_id,
                // Shown in the member accounts' CloudTrail: who and which run.
                session_name: format!("orgwatch-collect-{}", orgwatch_model::Day(run_date)),
            },
            regions,
            concurrency: usize::from(args.concurrency),
            granularity: match args.period {
                PeriodArg::Daily => orgwatch_model::Granularity::Daily,
                PeriodArg::Monthly => orgwatch_model::Granularity::Monthly,
            },
            run_date,
            out,
            rate_limits,
        },
    })
}

fn iam_policy(args: IamPolicyArgs) -> Result<IamPolicyConfig> {
    if !valid_role_name(&args.role_name) {
        bail!(
            "--role-name {:?} is not an IAM role name (1-64 letters, digits and +=,.@_-)",
            args.role_name
        );
    }
    Ok(IamPolicyConfig {
        collector_account: orgwatch_model::AccountId::parse(args.collector_account.trim())?,
        role_name: args.role_name,
        external_id: args.external_id,
    })
}

fn web(args: &WebArgs) -> Result<ServeConfig> {
    let secret = std::env::var(OIDC_SECRET_ENV).ok();
    Ok(ServeConfig {
        listen: args.listen,
        metrics_listen: args.metrics_listen,
        bench_static_bytes: usize::try_from(args.bench_static_bytes).unwrap_or(usize::MAX),
        secure: match args.secure_cookies {
            crate::cli::SecureCookies::Auto => orgwatch_web::SecureCookies::Auto,
            crate::cli::SecureCookies::Always => orgwatch_web::SecureCookies::Always,
        },
        oidc: oidc(&args.oidc, args.listen, secret)?,
    })
}

/// Single sign-on from its flags and the secret of the environment: `None` without
/// `--oidc-issuer`; an error naming the flag when something is missing or does not parse.
fn oidc(
    args: &OidcArgs,
    listen: std::net::SocketAddr,
    secret: Option<String>,
) -> Result<Option<OidcConfig>> {
    let Some(issuer) = &args.oidc_issuer else {
        return Ok(None);
    };
    let Some(client_id) = args.oidc_client_id.clone().filter(|c| !c.trim().is_empty()) else {
        bail!("--oidc-issuer needs --oidc-client-id (orgwatch's client id at the provider)");
    };
    let Some(client_secret) = secret.filter(|s| !s.is_empty()) else {
        bail!(
            "--oidc-issuer needs the client secret in the environment variable \
             {OIDC_SECRET_ENV} (never on the command line)"
        );
    };
    if args.oidc_groups.is_empty() {
        bail!(
            "--oidc-issuer needs at least one --oidc-group GROUP=admin|viewer[:LIMITS]: \
             without one, nobody could log in by single sign-on"
        );
    }
    let groups = args
        .oidc_groups
        .iter()
        .map(|g| g.parse())
        .collect::<Result<Vec<orgwatch_web::oidc::GroupMapping>, _>>()
        .map_err(|e| anyhow::anyhow!("--oidc-group: {e}"))?;
    let derive_redirect = args.oidc_redirect_url.is_none();
    if derive_redirect && listen.ip().is_unspecified() {
        bail!(
            "--oidc-redirect-url is needed when listening on {}: the redirect URL must be \
             the address browsers reach this app at (…/login/oidc/callback)",
            listen.ip()
        );
    }
    let scopes = if args.oidc_scopes.is_empty() {
        vec!["profile".to_owned(), "email".to_owned()]
    } else {
        args.oidc_scopes.clone()
    };
    if args.oidc_groups_claim.trim().is_empty() {
        bail!("--oidc-groups-claim is empty");
    }
    Ok(Some(OidcConfig {
        settings: orgwatch_web::oidc::OidcSettings {
            issuer: issuer.clone(),
            client_id,
            client_secret,
            redirect_url: args.oidc_redirect_url.clone().unwrap_or_default(),
            groups_claim: args.oidc_groups_claim.clone(),
            scopes,
            groups,
        },
        derive_redirect,
    }))
}

fn role(r: RoleArg) -> Role {
    match r {
        RoleArg::Admin => Role::Admin,
        RoleArg::Viewer => Role::Viewer,
    }
}

/// A login name: 1 to 64 characters, no spaces or control characters.
fn user_name(name: String) -> Result<String> {
    if let Some(problem) = orgwatch_store::auth::user_name_problem(&name) {
        bail!("{problem}");
    }
    Ok(name)
}

/// What the scope options give a user of `role`: every account without limits.
fn access(role: Role, scope: ScopeArgs) -> Result<Access> {
    let ScopeArgs {
        accounts,
        ous,
        environments,
    } = scope;
    if accounts.is_empty() && ous.is_empty() && environments.is_empty() {
        return Ok(Access::All);
    }
    if role == Role::Admin {
        bail!("an admin sees every account: --account, --ou and --environment are for viewers");
    }
    let accounts = accounts
        .iter()
        .map(|a| orgwatch_model::AccountId::parse(a.trim()))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Access::Limited(Limits {
        accounts,
        ous,
        environments,
    }))
}

fn users(command: UsersCommand) -> Result<UsersTask> {
    Ok(match command {
        UsersCommand::Add {
            name,
            role: r,
            scope,
            password_stdin,
        } => UsersTask::Add {
            name: user_name(name)?,
            role: role(r),
            access: access(role(r), scope)?,
            password_stdin,
        },
        UsersCommand::List => UsersTask::List,
        UsersCommand::Remove { name } => UsersTask::Remove { name },
        UsersCommand::Passwd {
            name,
            password_stdin,
        } => UsersTask::Passwd {
            name,
            password_stdin,
        },
        UsersCommand::Grant {
            name,
            role: r,
            scope,
        } => UsersTask::Grant {
            name,
            role: role(r),
            access: access(role(r), scope)?,
        },
    })
}

fn tokens(command: TokensCommand) -> Result<TokensTask> {
    Ok(match command {
        TokensCommand::Create {
            user,
            name,
            expires_in,
        } => {
            let name = name.trim().to_owned();
            if let Some(problem) = orgwatch_web::token_name_problem(&name) {
                bail!("--name: {problem}");
            }
            TokensTask::Create {
                user,
                name,
                expires_in_days: expires_in,
            }
        }
        TokensCommand::List { user } => TokensTask::List { user },
        TokensCommand::Revoke { id } => TokensTask::Revoke {
            id: orgwatch_store::auth::TokenId(id),
        },
    })
}

/// Refuses a `--from` path that is not there, before anything is opened.
fn must_exist(path: &Path) -> Result<()> {
    if !path.exists() {
        bail!("--from {} does not exist", path.display());
    }
    Ok(())
}

fn ingest(args: IngestArgs) -> Result<IngestConfig> {
    let from = match remote(&args.from)? {
        Some(r) => IngestFrom::Remote(r),
        None => {
            must_exist(&args.from)?;
            if !args.from.join("data").is_dir() {
                bail!(
                    "{} has no data/ directory (expected DIR/data/{{account}}/...)",
                    args.from.display()
                );
            }
            IngestFrom::Dir(args.from)
        }
    };
    Ok(IngestConfig {
        from,
        visibility: Duration::from_secs(args.visibility_timeout),
        watch: args.watch.then(|| Duration::from_secs(args.poll_seconds)),
        max_file_bytes: args.max_file_bytes,
        jobs: args.jobs.map(usize::from),
        batch_files: usize::from(args.batch_files),
    })
}

fn activity(args: ActivityArgs) -> Result<ActivityConfig> {
    let retention = Retention {
        minutes: args.keep_minutes.0,
        hours: args.keep_hours.0,
        days: args.keep_days.0,
        events: args.keep_events.0,
    };
    let events_shorter = match (retention.events, retention.minutes) {
        (Some(e), Some(m)) => e < m,
        (Some(_), None) => true,
        (None, _) => false,
    };
    if events_shorter {
        bail!(
            "--keep-events must be at least --keep-minutes: per-minute API, principal and \
             source IP counts are read from the recent events"
        );
    }
    let from = match args.from {
        None => None,
        Some(p) if p.as_os_str() == "-" => Some(ReadFrom::Stdin),
        Some(p) => match remote(&p)? {
            Some(_) if args.no_store => {
                bail!("--no-store reads local files or stdin; s3:// and sqs:// are read into the database")
            }
            Some(r) => Some(ReadFrom::Remote(r)),
            None => {
                must_exist(&p)?;
                Some(ReadFrom::Path(p))
            }
        },
    };
    let mode = match from {
        Some(from) if args.no_store => ActivityMode::Triage {
            from,
            report: args.report.unwrap_or(ReportFormat::Table),
        },
        Some(from) => ActivityMode::Store {
            from,
            follow: args.follow,
            report: args.report,
        },
        // A table, not a line of JSON, unless asked: this is the form a person types.
        None => ActivityMode::Stored {
            since: args.since,
            until: args.until,
            report: args.report.unwrap_or(ReportFormat::Table),
        },
    };
    if let Some(kind) = args.alarm.iter().find(|k| args.no_alarm.contains(k)) {
        bail!("--alarm {kind} and --no-alarm {kind} contradict each other");
    }
    let alarm_switches = (args.alarm.iter().map(|&k| (k, true)))
        .chain(args.no_alarm.iter().map(|&k| (k, false)))
        .collect();
    Ok(ActivityConfig {
        mode,
        alarm_switches,
        lateness: args.lateness,
        batch_files: usize::from(args.batch_files),
        visibility: Duration::from_secs(args.visibility_timeout),
        // At most 1 GiB (clap's range), so it fits.
        max_record_bytes: usize::try_from(args.max_record_bytes).unwrap_or(usize::MAX),
        retention,
        resident_scopes: args.resident_scopes as usize,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    fn config(args: &[&str]) -> Result<Config> {
        Config::from_cli(Cli::try_parse_from(args)?)
    }

    #[test]
    fn threads_default_to_the_cpus_and_the_flag_overrides() {
        let c = config(&["orgwatch", "migrate"]).unwrap();
        assert_eq!(c.threads, crate::pool::available());
        let c = config(&["orgwatch", "--threads", "3", "migrate"]).unwrap();
        assert_eq!(c.threads, 3);
    }

    #[test]
    fn metrics_listen_is_off_unless_given_to_serve_or_demo() {
        let listen = |args: &[&str]| match config(args).unwrap().task {
            Task::Serve(s) => s.metrics_listen,
            Task::Demo(d) => d.serve.unwrap().metrics_listen,
            other => panic!("{other:?}"),
        };
        assert_eq!(listen(&["orgwatch", "serve"]), None);
        assert_eq!(listen(&["orgwatch", "demo"]), None);
        let at: std::net::SocketAddr = "10.0.0.5:9464".parse().unwrap();
        for command in ["serve", "demo"] {
            let args = ["orgwatch", command, "--metrics-listen", "10.0.0.5:9464"];
            assert_eq!(listen(&args), Some(at), "{command}");
        }
        let bad = config(&["orgwatch", "serve", "--metrics-listen", "localhost"]);
        assert!(bad.unwrap_err().to_string().contains("--metrics-listen"));
    }

    /// The single sign-on part of `serve ARGS` (or `demo ARGS`) with this secret in the
    /// environment.
    fn sso(command: &str, args: &[&str], secret: Option<&str>) -> Result<Option<OidcConfig>> {
        let cli = Cli::try_parse_from([&["orgwatch", command], args].concat())?;
        let web = match cli.command {
            Command::Serve(a) => a.web,
            Command::Demo(a) => a.web,
            _ => unreachable!(),
        };
        oidc(&web.oidc, web.listen, secret.map(str::to_owned))
    }

    const SSO: [&str; 8] = [
        "--oidc-issuer",
        "https://id.example.com/realms/ops",
        "--oidc-client-id",
        "orgwatch",
        "--oidc-group",
        "ops=admin",
        "--oidc-group",
        "cn=sales,ou=groups=viewer:account=111111111111,environment=prod",
    ];

    #[test]
    fn single_sign_on_is_configured_alike_for_serve_and_demo() {
        for command in ["serve", "demo"] {
            assert!(sso(command, &[], None).unwrap().is_none(), "off by default");
            let c = sso(command, &SSO, Some("s3cret")).unwrap().unwrap();
            let s = &c.settings;
            assert_eq!(s.issuer, "https://id.example.com/realms/ops");
            assert_eq!(
                (s.client_id.as_str(), s.client_secret.as_str()),
                ("orgwatch", "s3cret")
            );
            assert_eq!(s.groups_claim, "groups");
            assert_eq!(s.scopes, ["profile", "email"]);
            assert_eq!(s.groups.len(), 2);
            assert_eq!(s.groups[1].group, "cn=sales,ou=groups");
            assert!(c.derive_redirect, "from the bound listener");
            assert!(
                !format!("{c:?}").contains("s3cret"),
                "the secret is never shown"
            );
            let more = [
                "--oidc-redirect-url",
                "https://ow.example.com/login/oidc/callback",
                "--oidc-groups-claim",
                "roles",
                "--oidc-scope",
                "openid-groups",
                "--listen",
                "0.0.0.0:8080",
            ];
            let c = sso(command, &[&SSO[..], &more].concat(), Some("s"))
                .unwrap()
                .unwrap();
            assert_eq!(
                c.settings.redirect_url,
                "https://ow.example.com/login/oidc/callback"
            );
            assert_eq!(c.settings.groups_claim, "roles");
            assert_eq!(c.settings.scopes, ["openid-groups"]);
            assert!(!c.derive_redirect);
        }
    }

    #[test]
    fn single_sign_on_settings_that_cannot_work_are_refused_by_name() {
        let err = |args: &[&str], secret: Option<&str>| {
            sso("serve", args, secret).unwrap_err().to_string()
        };
        let e = err(&SSO, None);
        assert!(e.contains("ORGWATCH_OIDC_CLIENT_SECRET"), "{e}");
        assert!(err(&SSO, Some("")).contains("ORGWATCH_OIDC_CLIENT_SECRET"));
        let e = err(&[&SSO[..2], &SSO[4..]].concat(), Some("s"));
        assert!(e.contains("--oidc-client-id"), "{e}");
        let e = err(&SSO[..4], Some("s"));
        assert!(e.contains("at least one --oidc-group"), "{e}");
        let e = err(
            &[&SSO[..4], &["--oidc-group", "ops=superuser"]].concat(),
            Some("s"),
        );
        assert!(
            e.contains("--oidc-group") && e.contains("ops=superuser"),
            "{e}"
        );
        let e = err(
            &[&SSO[..], &["--listen", "0.0.0.0:8080"]].concat(),
            Some("s"),
        );
        assert!(e.contains("--oidc-redirect-url is needed"), "{e}");
        // The other flags mean nothing without an issuer.
        let e = err(&["--oidc-client-id", "orgwatch"], Some("s"));
        assert!(e.contains("--oidc-issuer"), "{e}");
    }

    #[test]
    fn the_demo_replays_while_it_serves_unless_told_not_to() {
        let demo = |args: &[&str]| match config(&[&["orgwatch", "demo"], args].concat()) {
            Ok(Config {
                task: Task::Demo(d),
                ..
            }) => Ok(d),
            Ok(c) => panic!("{:?}", c.task),
            Err(e) => Err(e.to_string()),
        };
        let d = demo(&[]).unwrap();
        assert_eq!(d.replay, Some(ReplayOptions::default()));
        assert_eq!(d.replay.unwrap().bursts.every_minutes, 6);
        assert_eq!(demo(&["--no-replay"]).unwrap().replay, None);
        assert_eq!(
            demo(&["--no-serve"]).unwrap().replay,
            None,
            "only while serving"
        );
        assert_eq!(demo(&["--generate-only"]).unwrap().replay, None);
        let d = demo(&["--burst-every", "15", "--replay-speed", "60"]).unwrap();
        let r = d.replay.unwrap();
        assert_eq!((r.bursts.every_minutes, r.speed), (15, 60.0));
        assert!(demo(&["--burst-every", "0"]).is_err());
        assert!(demo(&["--replay-speed", "0.5"])
            .unwrap_err()
            .contains("speed from 1"));
        assert!(demo(&["--replay-speed", "NaN"]).is_err());
    }

    #[test]
    fn the_replay_reads_with_the_stream_defaults_of_activity() {
        let a = ActivityConfig::stream_defaults().unwrap();
        let Task::Activity(cli) = config(&["orgwatch", "activity", "--from", "-"])
            .unwrap()
            .task
        else {
            panic!("not activity")
        };
        assert_eq!(a.lateness, Duration::from_secs(15 * 60));
        assert_eq!(
            (
                a.batch_files,
                a.max_record_bytes,
                a.retention,
                a.resident_scopes
            ),
            (
                cli.batch_files,
                cli.max_record_bytes,
                cli.retention,
                cli.resident_scopes
            )
        );
    }

    #[test]
    fn a_missing_from_is_refused() {
        let e = config(&["orgwatch", "activity", "--from", "/no/such/dir"]).unwrap_err();
        assert_eq!(e.to_string(), "--from /no/such/dir does not exist");
        let e = config(&["orgwatch", "ingest", "--from", "/no/such/dir"]).unwrap_err();
        assert_eq!(e.to_string(), "--from /no/such/dir does not exist");
    }

    #[test]
    fn buckets_and_queues_are_read_from_their_urls() {
        let ingest = |from: &str| match config(&["orgwatch", "ingest", "--from", from]) {
            Ok(Config {
                task: Task::Ingest(i),
                ..
            }) => Ok(i.from),
            Ok(_) => panic!("not ingest"),
            Err(e) => Err(e.to_string()),
        };
        let s3 = |bucket: &str, prefix: &str| {
            IngestFrom::Remote(Remote::S3(orgwatch_collect::remote::S3Url {
                bucket: bucket.into(),
                prefix: prefix.into(),
            }))
        };
        assert_eq!(
            ingest("s3://org-posture/a/b/"),
            Ok(s3("org-posture", "a/b"))
        );
        let aws = "https://sqs.eu-west-1.amazonaws.com/123456789012/snapshots";
        let queue = IngestFrom::Remote(Remote::Sqs(aws.into()));
        assert_eq!(ingest(&format!("sqs://{aws}")), Ok(queue.clone()));
        assert_eq!(
            ingest("sqs://sqs.eu-west-1.amazonaws.com/123456789012/snapshots"),
            Ok(queue)
        );
        assert_eq!(
            ingest("sqs://http://127.0.0.1:5000/123456789012/q"),
            Ok(IngestFrom::Remote(Remote::Sqs(
                "http://127.0.0.1:5000/123456789012/q".into()
            )))
        );
        assert!(ingest("sqs://sqs.eu-west-1.amazonaws.com/snapshots")
            .unwrap_err()
            .contains("is not sqs://QUEUE_URL"));
        assert!(ingest("s3://Bad_Bucket/x")
            .unwrap_err()
            .contains("is not s3://BUCKET"));
        assert_eq!(queue_region(aws).as_deref(), Some("eu-west-1"));
        assert_eq!(
            queue_region("https://us-west-2.queue.amazonaws.com/123456789012/q").as_deref(),
            Some("us-west-2")
        );
        assert_eq!(queue_region("http://127.0.0.1:5000/123456789012/q"), None);
        let e =
            config(&["orgwatch", "activity", "--from", "s3://trail", "--no-store"]).unwrap_err();
        assert!(
            e.to_string().starts_with("--no-store reads local files"),
            "{e}"
        );
        let e = config(&["orgwatch", "collect", "--out", "/tmp", "--kms-key", "k"]).unwrap_err();
        assert!(e.to_string().contains("needs --out s3://"), "{e}");
    }

    #[test]
    fn a_queue_message_stays_invisible_for_the_visibility_timeout_given_to_either_reader() {
        let visibility = |args: &[&str]| -> Result<Duration> {
            Ok(match config(args)?.task {
                Task::Activity(a) => a.visibility,
                Task::Ingest(i) => i.visibility,
                t => panic!("{t:?}"),
            })
        };
        let queue = "sqs://http://127.0.0.1:5000/123456789012/q";
        for command in ["activity", "ingest"] {
            let base = ["orgwatch", command, "--from", queue];
            assert_eq!(
                visibility(&base).unwrap(),
                Duration::from_secs(300),
                "{command}: the default"
            );
            let given = [&base[..], &["--visibility-timeout", "4"]].concat();
            assert_eq!(visibility(&given).unwrap(), Duration::from_secs(4));
            let longest = [&base[..], &["--visibility-timeout", "43200"]].concat();
            assert_eq!(visibility(&longest).unwrap(), Duration::from_secs(43_200));
            // SQS refuses a visibility over 12 hours, and under 2 s the extension (every
            // half of it) would be due before it could be sent.
            for bad in ["1", "43201"] {
                let args = [&base[..], &["--visibility-timeout", bad]].concat();
                let e = visibility(&args).unwrap_err().to_string();
                assert!(
                    e.contains("--visibility-timeout") && e.contains("2..=43200"),
                    "{command} {bad}: {e}"
                );
            }
        }
    }

    #[test]
    fn rate_limits_are_service_equals_n_the_last_given_winning_and_bad_ones_name_the_flag() {
        let limits = |extra: &[&str]| {
            let args = [&["orgwatch", "collect", "--out", "/tmp"][..], extra].concat();
            match config(&args) {
                Ok(Config {
                    task: Task::Collect(c),
                    ..
                }) => Ok(c
                    .options
                    .rate_limits
                    .into_iter()
                    .map(|(s, n)| (s, n.get()))
                    .collect::<Vec<_>>()),
                Ok(other) => panic!("{other:?}"),
                Err(e) => Err(e.to_string()),
            }
        };
        assert_eq!(limits(&[]), Ok(vec![]));
        assert_eq!(
            limits(&["--rate-limit", "kms=5,ACM=2", "--rate-limit", "kms=7"]),
            Ok(vec![("acm".to_owned(), 2), ("kms".to_owned(), 7)])
        );
        let e = limits(&["--rate-limit", "kms=0"]).unwrap_err();
        assert!(
            e.starts_with("--rate-limit \"kms=0\": the rate must be"),
            "{e}"
        );
        let e = limits(&["--rate-limit", "kms"]).unwrap_err();
        assert!(e.contains("expected SERVICE=N"), "{e}");
    }

    #[test]
    fn the_database_report_is_a_table_unless_json_is_asked() {
        let mode = |args: &[&str]| match config(args).unwrap().task {
            Task::Activity(a) => a.mode,
            t => panic!("{t:?}"),
        };
        assert!(matches!(
            mode(&["orgwatch", "activity"]),
            ActivityMode::Stored {
                report: ReportFormat::Table,
                ..
            }
        ));
        assert!(matches!(
            mode(&["orgwatch", "activity", "--report", "json"]),
            ActivityMode::Stored {
                report: ReportFormat::Json,
                ..
            }
        ));
    }
}
