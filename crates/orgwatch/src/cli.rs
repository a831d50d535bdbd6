//! Command-line arguments as clap parses them; `config` turns them, once, into a validated
//! [`crate::config::Config`].

use clap::{Args, Parser, Subcommand, ValueEnum};
use orgwatch_model::activity::AlarmKind;
use std::path::PathBuf;

/// See every AWS account of an organisation at once: cost, security posture, compliance and
/// inventory snapshots (A360 format) in one database.
#[derive(Debug, Parser)]
#[command(name = "orgwatch", version, about, propagate_version = true)]
pub struct Cli {
    /// Options every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command to run.
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Database URL: sqlite://PATH or postgres://USER@HOST:PORT/DB. Default: a SQLite file in
    /// the platform data directory (printed at start).
    #[arg(
        long,
        env = "ORGWATCH_DATABASE_URL",
        global = true,
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Log format on stderr.
    #[arg(long, value_enum, default_value_t = LogFormat::Text, global = true)]
    pub log_format: LogFormat,
    /// More logging (-v info, -vv debug); RUST_LOG overrides. -v also lists every file
    /// ignored for its name.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Threads reading, parsing and decoding input. Default: one per CPU.
    #[arg(long, global = true, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub threads: Option<u16>,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line.
    Json,
}

/// What to do.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Generate a synthetic organisation, load it into the database and summarise it.
    Demo(DemoArgs),
    /// Load every A360 snapshot under DIR/data/ or s3://BUCKET/PREFIX/data/ (moving each to
    /// loaded/ or failed/), or those a queue of S3 notifications names.
    Ingest(IngestArgs),
    /// Read CloudTrail (S3 log files, EventBridge envelopes, NDJSON) into the database with
    /// live windows and anomaly scores, or print a triage report (--no-store, or from the
    /// database without --from).
    Activity(ActivityArgs),
    /// Apply database migrations and report the schema version.
    Migrate,
    /// Serve the web app (Overview page and JSON API) until Ctrl-C. With no user yet, it
    /// creates `admin` with a random password and prints it once.
    Serve(ServeArgs),
    /// Manage the web app's local users.
    Users(UsersArgs),
    /// Manage API tokens (`Authorization: Bearer` on the web app's JSON API).
    Tokens(TokensArgs),
    /// Read AWS accounts (the caller's, a list, or the organisation's) through the AWS SDK
    /// and write A360 snapshots under DIR/data/ (or s3://BUCKET/PREFIX/data/) for `ingest`.
    Collect(CollectArgs),
    /// Print the least-privilege IAM policies for `collect`: the collector's, the member
    /// role's, and the member role's trust policy.
    IamPolicy(IamPolicyArgs),
}

/// `orgwatch collect`
#[derive(Debug, Args)]
pub struct CollectArgs {
    /// Every ACTIVE account of the organisation (run in its management or a delegated
    /// administrator account).
    #[arg(long, conflicts_with = "accounts")]
    pub organization: bool,
    /// Read this account (repeatable, or a comma list). Default: the caller's own account.
    #[arg(long = "account", value_name = "ACCOUNT_ID", value_delimiter = ',')]
    pub accounts: Vec<String>,
    /// The role assumed in each member account.
    #[arg(long, default_value = "OrgwatchReadOnly")]
    pub role_name: String,
    /// The external id the member role's trust policy requires.
    #[arg(long, env = "ORGWATCH_EXTERNAL_ID", hide_env_values = true)]
    pub external_id: Option<String>,
    /// Regions to read: `all` (each account's enabled regions) or a comma list.
    #[arg(long, default_value = "all")]
    pub regions: String,
    /// Account-regions read at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
    /// The interval in the file names: daily or monthly.
    #[arg(long, value_enum, default_value_t = PeriodArg::Daily)]
    pub period: PeriodArg,
    /// Directory the files are written under (DIR/data/{account}/{region}/{date}_{INTERVAL}.json),
    /// or a bucket `s3://BUCKET/PREFIX` (the same layout under PREFIX/, one PutObject per file).
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX")]
    pub out: PathBuf,
    /// With --out s3://: encrypt each file with this KMS key (SSE-KMS; key id, ARN or alias).
    #[arg(long, value_name = "KEY")]
    pub kms_key: Option<String>,
    /// Also load what was collected into the database, as `ingest --from OUT` does (files
    /// move to OUT's loaded/ or failed/).
    #[arg(long)]
    pub ingest: bool,
    /// A profile of the AWS config files; default: the standard credential chain.
    #[arg(long)]
    pub profile: Option<String>,
    /// The home region (discovery, global calls); default: the profile's, AWS_REGION, or us-east-1.
    #[arg(long)]
    pub region: Option<String>,
    /// Calls per second per account and region to one service, as SERVICE=N with the
    /// service as in IAM actions (`securityhub=3`); repeatable, or a comma list. Overrides
    /// the defaults (docs/collect.md).
    #[arg(long = "rate-limit", value_name = "SERVICE=N", value_delimiter = ',')]
    pub rate_limits: Vec<String>,
}

/// `--period`
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum PeriodArg {
    /// `{date}_DAILY.json`
    Daily,
    /// `{date}_MONTHLY.json`
    Monthly,
}

/// `orgwatch iam-policy`
#[derive(Debug, Args)]
pub struct IamPolicyArgs {
    /// The account orgwatch runs in (for the trust policy's principal).
    #[arg(long, value_name = "ACCOUNT_ID", default_value = "111122223333")]
    pub collector_account: String,
    /// The member role's name.
    #[arg(long, default_value = "OrgwatchReadOnly")]
    pub role_name: String,
    /// The external id the trust policy requires.
    #[arg(long)]
    pub external_id: Option<String>,
}

/// Where and how the web app listens (`serve`, and `demo` unless `--no-serve`).
#[derive(Debug, Args)]
pub struct WebArgs {
    /// Address to listen on; port 0 picks a free port (the printed URL shows the real one).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: std::net::SocketAddr,
    /// When session cookies get the Secure attribute: `auto` when a proxy in front says the
    /// request came over HTTPS (X-Forwarded-Proto: https), `always` when the app is only
    /// reached over HTTPS.
    #[arg(long, value_enum, default_value_t = SecureCookies::Auto)]
    pub secure_cookies: SecureCookies,
    /// Also serve `GET /metrics` (Prometheus text) on this address, with no login: for a
    /// scraper on a private network; never expose it publicly. Off by default.
    #[arg(long, value_name = "ADDR")]
    pub metrics_listen: Option<std::net::SocketAddr>,
    /// For `bench/web` only: also serve `GET /bench/static/{bytes}`, that many bytes (up to
    /// this many) from memory behind the same session check, the baseline of the load bench.
    #[arg(long, hide = true, default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=64 * 1024 * 1024))]
    pub bench_static_bytes: u64,
    /// Single sign-on.
    #[command(flatten)]
    pub oidc: OidcArgs,
}

/// Single sign-on with OpenID Connect (`serve` and `demo`); the client secret is read from
/// ORGWATCH_OIDC_CLIENT_SECRET, never from the command line.
#[derive(Debug, Args)]
#[command(next_help_heading = "Single sign-on (OpenID Connect)")]
pub struct OidcArgs {
    /// The OpenID provider's issuer URL (its discovery document is at
    /// ISSUER/.well-known/openid-configuration): turns single sign-on on, beside local users.
    /// The client secret comes from the environment variable ORGWATCH_OIDC_CLIENT_SECRET.
    #[arg(long, value_name = "URL")]
    pub oidc_issuer: Option<String>,
    /// orgwatch's client id at the provider.
    #[arg(long, value_name = "ID", requires = "oidc_issuer")]
    pub oidc_client_id: Option<String>,
    /// Where the provider sends the browser back, as browsers reach this app (default:
    /// http://LISTEN-ADDRESS/login/oidc/callback; needed behind a proxy or when listening on
    /// 0.0.0.0).
    #[arg(long, value_name = "URL", requires = "oidc_issuer")]
    pub oidc_redirect_url: Option<String>,
    /// The claim that lists a user's groups, in the ID token or at userinfo.
    #[arg(
        long,
        value_name = "NAME",
        default_value = "groups",
        requires = "oidc_issuer"
    )]
    pub oidc_groups_claim: String,
    /// What a provider group gives (repeatable): GROUP=admin, GROUP=viewer (every account)
    /// or GROUP=viewer:account=ID,ou=OU,environment=ENV (only those). An admin group wins;
    /// viewer groups add up; a user in no mapped group is refused.
    #[arg(
        long = "oidc-group",
        value_name = "GROUP=ROLE[:LIMITS]",
        requires = "oidc_issuer"
    )]
    pub oidc_groups: Vec<String>,
    /// A scope to ask for besides `openid` (repeatable; default: profile and email; some
    /// providers need one, e.g. `groups`, for the groups claim: give them all then).
    #[arg(long = "oidc-scope", value_name = "SCOPE", requires = "oidc_issuer")]
    pub oidc_scopes: Vec<String>,
}

/// `--secure-cookies`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SecureCookies {
    /// Secure when X-Forwarded-Proto is https.
    Auto,
    /// Always Secure.
    Always,
}

/// `orgwatch serve`
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Listening options.
    #[command(flatten)]
    pub web: WebArgs,
}

/// `orgwatch users`
#[derive(Debug, Args)]
pub struct UsersArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: UsersCommand,
}

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Sees every account and manages users.
    Admin,
    /// Reads; may be limited with --account, --ou, --environment.
    Viewer,
}

/// What a viewer may see (all given limits together; none: every account).
#[derive(Debug, Args, Default)]
pub struct ScopeArgs {
    /// Limit to this account (repeatable).
    #[arg(long = "account", value_name = "ACCOUNT_ID")]
    pub accounts: Vec<String>,
    /// Limit to the accounts of this organizational unit (repeatable).
    #[arg(long = "ou", value_name = "OU")]
    pub ous: Vec<String>,
    /// Limit to the accounts of this environment, e.g. PRODUCTION (repeatable).
    #[arg(long = "environment", value_name = "ENV")]
    pub environments: Vec<String>,
}

/// `orgwatch users …`
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Add a user; prints a random password unless --password-stdin.
    Add {
        /// Login name.
        name: String,
        /// Role.
        #[arg(long, value_enum, default_value_t = RoleArg::Viewer)]
        role: RoleArg,
        /// Limits of a viewer.
        #[command(flatten)]
        scope: ScopeArgs,
        /// Read the password from the first line of stdin instead (at least 12 characters).
        #[arg(long)]
        password_stdin: bool,
    },
    /// List users, their roles and what they may see.
    List,
    /// Remove a user (and end their sessions).
    Remove {
        /// Login name.
        name: String,
    },
    /// Set a new password (printed, or read with --password-stdin); ends the user's sessions.
    Passwd {
        /// Login name.
        name: String,
        /// Read the password from the first line of stdin.
        #[arg(long)]
        password_stdin: bool,
    },
    /// Set a user's role and limits (replacing earlier limits; none: every account).
    Grant {
        /// Login name.
        name: String,
        /// Role.
        #[arg(long, value_enum)]
        role: RoleArg,
        /// Limits of a viewer.
        #[command(flatten)]
        scope: ScopeArgs,
    },
}

/// `orgwatch tokens`
#[derive(Debug, Args)]
pub struct TokensArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: TokensCommand,
}

/// `orgwatch tokens …`
#[derive(Debug, Subcommand)]
pub enum TokensCommand {
    /// Make an API token for a user and print it (once: only its hash is stored). It acts
    /// with the user's role and limits as they are at each request.
    Create {
        /// Login name of the token's user.
        user: String,
        /// What the token is for (e.g. ci, grafana).
        #[arg(long)]
        name: String,
        /// Days until it stops working. Default: never (until revoked).
        #[arg(long, value_name = "DAYS",
              value_parser = clap::value_parser!(u32).range(1..=i64::from(orgwatch_web::MAX_EXPIRY_DAYS)))]
        expires_in: Option<u32>,
    },
    /// List tokens (of one user, or all): id, user, name, prefix, times; never the token.
    List {
        /// Only this user's.
        user: Option<String>,
    },
    /// Revoke a token (by the id `tokens list` shows): it opens nothing from then on.
    Revoke {
        /// Token id.
        id: i64,
    },
}

/// `orgwatch demo`
#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Number of accounts in the synthetic organisation.
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub accounts: u32,
    /// Days of history per account.
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u32).range(1..=3660))]
    pub days: u32,
    /// Random seed: the same seed and end date give the same organisation, byte for byte.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Last run date (YYYY-MM-DD); default today (UTC).
    #[arg(long, value_parser = parse_date)]
    pub end_date: Option<time::Date>,
    /// Regions each account reports from (comma list).
    #[arg(long, value_delimiter = ',', default_value = "us-east-1")]
    pub regions: Vec<String>,
    /// Where the generated files go (DIR/data, then DIR/loaded). Default: a `demo` folder in
    /// the platform data directory.
    #[arg(long)]
    pub dir: Option<PathBuf>,
    /// Only write the files under DIR/data/; load nothing (to feed another tool or a later
    /// `orgwatch ingest`).
    #[arg(long)]
    pub generate_only: bool,
    /// Only load: do not serve the web app afterwards.
    #[arg(long)]
    pub no_serve: bool,
    /// While serving, do not replay synthetic CloudTrail for the accounts (by default it
    /// backfills 3 hours, then stores new calls every few seconds).
    #[arg(long)]
    pub no_replay: bool,
    /// Minutes between the replay's injected bursts (one principal calling one API at 10
    /// times its account's rate for up to 5 minutes), which the anomaly detector should flag.
    #[arg(long, value_name = "MINUTES", default_value_t = 6,
          value_parser = clap::value_parser!(u32).range(1..=1440))]
    pub burst_every: u32,
    /// Simulated seconds per real second of the replay once live (tests).
    #[arg(long, hide = true, default_value_t = 1.0, value_parser = parse_speed)]
    pub replay_speed: f64,
    /// Where the web app listens after loading.
    #[command(flatten)]
    pub web: WebArgs,
}

/// A replay speed: a finite number from 1 to 10,000.
fn parse_speed(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if (1.0..=10_000.0).contains(&x) => Ok(x),
        _ => Err(format!("{s:?} is not a speed from 1 to 10000")),
    }
}

/// `orgwatch ingest`
#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Directory holding data/ (A360 layout: data/{account}/[{region}/]{date}_{INTERVAL}.json),
    /// a bucket `s3://BUCKET/PREFIX` (its PREFIX/data/, objects moved to loaded/ or failed/),
    /// or `sqs://QUEUE_URL`, a queue of the bucket's S3 event notifications.
    #[arg(long, value_name = "DIR|s3://BUCKET/PREFIX|sqs://QUEUE_URL")]
    pub from: PathBuf,
    /// With sqs://: seconds a received message stays invisible to other readers, extended
    /// every half of it while its file is loaded.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(2..=43_200))]
    pub visibility_timeout: u64,
    /// Keep polling for new files until interrupted.
    #[arg(long)]
    pub watch: bool,
    /// Seconds between polls with --watch.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub poll_seconds: u64,
    /// Files larger than this are quarantined unread (a real A360 file is tens of KB).
    #[arg(long, default_value_t = 32 * 1024 * 1024)]
    pub max_file_bytes: u64,
    /// Files loaded at once, each worker taking whole accounts. Default: 1 on SQLite (one
    /// writer), 3 on PostgreSQL.
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: Option<u16>,
    /// Most files a worker loads in one transaction (each file stays all-or-nothing; a batch
    /// the database refuses is retried file by file). 1 gives a transaction per file.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1000))]
    pub batch_files: u16,
}

/// `orgwatch activity`
#[derive(Debug, Args)]
pub struct ActivityArgs {
    /// A CloudTrail file, a directory read recursively (e.g. an S3 export under
    /// AWSLogs/{account}/CloudTrail/...), `-` for stdin, an organisation trail's bucket
    /// `s3://BUCKET[/PREFIX]`, or `sqs://QUEUE_URL` (its S3 event notifications, and
    /// EventBridge CloudTrail events an EventBridge rule sends to it). Without it, the report
    /// comes from the database.
    #[arg(long, value_name = "FILE|DIR|-|s3://…|sqs://…")]
    pub from: Option<PathBuf>,
    /// Only report on what was read; open no database.
    #[arg(long, requires = "from")]
    pub no_store: bool,
    /// Keep reading: poll the directory for new files (every 2 s), or stdin for new lines,
    /// until Ctrl-C.
    #[arg(long, requires = "from", conflicts_with = "no_store")]
    pub follow: bool,
    /// Report on stdout: of what was read (with --from), else of the database (a table
    /// unless --report json). With --from into the database and without it, only a summary
    /// is printed (on stderr).
    #[arg(long, value_enum)]
    pub report: Option<ReportFormat>,
    /// With a report from the database: events at or after this time (RFC 3339 or a date).
    #[arg(long, value_parser = parse_time, conflicts_with = "from")]
    pub since: Option<orgwatch_model::Timestamp>,
    /// With a report from the database: events before this time.
    #[arg(long, value_parser = parse_time, conflicts_with = "from")]
    pub until: Option<orgwatch_model::Timestamp>,
    /// How late an event may arrive and still count in its window before the window closes
    /// and is scored (later events still amend the stored counts).
    #[arg(long, value_parser = humantime::parse_duration, default_value = "15m")]
    pub lateness: std::time::Duration,
    /// Files (or stdin chunks) stored per database transaction.
    #[arg(long, default_value_t = 64, value_parser = clap::value_parser!(u16).range(1..=1024))]
    pub batch_files: u16,
    /// With sqs://: seconds a received message stays invisible to other readers, extended
    /// every half of it while its file (or batch of events) is read; after a crash, how long
    /// until its message is received again.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(2..=43_200))]
    pub visibility_timeout: u64,
    /// Records (and NDJSON lines) longer than this are skipped unread and counted as
    /// oversized, with their file and byte offset; CloudTrail events are at most 256 KB.
    #[arg(long, value_name = "BYTES", default_value_t = orgwatch_activity::DEFAULT_MAX_RECORD_BYTES as u64,
          value_parser = clap::value_parser!(u64).range(1024..=1 << 30))]
    pub max_record_bytes: u64,
    /// Keep per-minute counts this long (back from the newest event), or `forever`.
    #[arg(long, value_parser = parse_keep, default_value = "48h")]
    pub keep_minutes: Keep,
    /// Keep per-hour counts and anomaly scores this long, or `forever`.
    #[arg(long, value_parser = parse_keep, default_value = "90d")]
    pub keep_hours: Keep,
    /// Keep per-day counts this long, or `forever`.
    #[arg(long, value_parser = parse_keep, default_value = "forever")]
    pub keep_days: Keep,
    /// Keep recent events (drill-down, and the de-duplication horizon) this long.
    #[arg(long, value_parser = parse_keep, default_value = "7d")]
    pub keep_events: Keep,
    /// Most account scopes the anomaly detector holds in memory (about 0.25 MB each): when
    /// more are active, the longest idle are saved to the database and read back when their
    /// account is active again, with the same scores.
    #[arg(long, value_name = "N", default_value_t = 256,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub resident_scopes: u32,
    /// Switch a new-behaviour alarm kind off (repeatable): new_api, root, new_source,
    /// sign_in_failures, access_denied or unused_region. Applies to a new detector and to the
    /// saved one, which keeps it (switch it on again with --alarm).
    #[arg(long = "no-alarm", value_name = "KIND", value_parser = parse_behaviour_kind,
          requires = "from", conflicts_with = "no_store")]
    pub no_alarm: Vec<AlarmKind>,
    /// Switch a new-behaviour alarm kind on (repeatable; all are on in a new detector): for a
    /// saved detector that has it off.
    #[arg(long = "alarm", value_name = "KIND", value_parser = parse_behaviour_kind,
          requires = "from", conflicts_with = "no_store")]
    pub alarm: Vec<AlarmKind>,
}

/// A new-behaviour [`AlarmKind`] (the burst detectors, `forest` and `count`, have no switch).
fn parse_behaviour_kind(s: &str) -> Result<AlarmKind, String> {
    let kinds: Vec<&str> = AlarmKind::ALL
        .into_iter()
        .filter(|k| k.is_behaviour())
        .map(AlarmKind::as_str)
        .collect();
    s.parse::<AlarmKind>()
        .ok()
        .filter(|k| k.is_behaviour())
        .ok_or_else(|| {
            format!(
                "{s:?} is not a new-behaviour alarm kind ({})",
                kinds.join(", ")
            )
        })
}

/// A retention: a duration, or `None` for forever.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keep(pub Option<std::time::Duration>);

fn parse_keep(s: &str) -> Result<Keep, String> {
    if s.eq_ignore_ascii_case("forever") {
        return Ok(Keep(None));
    }
    humantime::parse_duration(s)
        .map(|d| Keep(Some(d)))
        .map_err(|e| format!("{s:?}: {e} (use e.g. 48h, 90d or forever)"))
}

fn parse_time(s: &str) -> Result<orgwatch_model::Timestamp, String> {
    orgwatch_model::Timestamp::parse(s)
        .map_err(|_| format!("{s:?} is not a time (use 2024-03-01T10:00:00Z or 2024-03-01)"))
}

/// How `orgwatch activity` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// A human table with the top 10 of each count.
    Table,
    /// One JSON object with every count.
    Json,
}

fn parse_date(s: &str) -> Result<time::Date, String> {
    orgwatch_model::time::parse_date(s).ok_or_else(|| format!("{s:?} is not a YYYY-MM-DD date"))
}
