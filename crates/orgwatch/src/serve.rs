//! `orgwatch serve` (and the end of `orgwatch demo`): the web app on a listener, until
//! Ctrl-C or SIGTERM, with the way in printed.

use crate::config::ServeConfig;
use anyhow::{Context, Result};
use orgwatch_store::auth::{NewUser, Role};
use orgwatch_store::{Access, Store};
use orgwatch_web::oidc::Oidc;
use orgwatch_web::{ActivitySignal, AppState, SessionConfig, WebConfig};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

/// The first administrator's name.
pub const ADMIN: &str = "admin";

/// The app's listener and, with `--metrics-listen`, the metrics listener.
#[derive(Debug)]
pub struct Listeners {
    /// The web app's.
    pub app: TcpListener,
    /// `/metrics`' (no session), if asked for.
    pub metrics: Option<TcpListener>,
}

/// Opens the listeners (before any slow work, so a taken port fails at once).
pub async fn bind(config: &ServeConfig) -> Result<Listeners> {
    let app = orgwatch_web::bind(config.listen).await?;
    let metrics = match config.metrics_listen {
        Some(addr) => Some(orgwatch_web::bind(addr).await.map_err(|e| match e {
            // The web crate's message names --listen: this one is the other flag.
            orgwatch_web::BindError::InUse(addr) => anyhow::anyhow!(
                "cannot serve metrics on {addr}: the address is already in use; choose \
                 another with --metrics-listen"
            ),
            other => anyhow::Error::new(other).context("the metrics listener (--metrics-listen)"),
        })?),
        None => None,
    };
    Ok(Listeners { app, metrics })
}

/// Discovers the single sign-on provider, if configured (after binding: the default redirect
/// URL is the bound address's); an unreachable issuer or one that is not an OpenID provider
/// is an error naming `--oidc-issuer`.
pub async fn sso(config: &ServeConfig, listeners: &Listeners) -> Result<Option<Arc<Oidc>>> {
    let Some(oidc) = &config.oidc else {
        return Ok(None);
    };
    let mut settings = oidc.settings.clone();
    if oidc.derive_redirect {
        let addr = listeners
            .app
            .local_addr()
            .context("cannot read the listening address")?;
        settings.redirect_url = format!("http://{addr}{}", orgwatch_web::oidc::CALLBACK_PATH);
    }
    let redirect = settings.redirect_url.clone();
    let discovered = Oidc::discover(settings)
        .await
        .context("single sign-on (--oidc-issuer) cannot start")?;
    eprintln!(
        "orgwatch: single sign-on with {} (redirect URL {redirect})",
        discovered.issuer()
    );
    Ok(Some(Arc::new(discovered)))
}

/// With no user at all, creates `admin` with a random password; returns that password.
pub async fn first_admin(store: &Store) -> Result<Option<String>> {
    if store.user_count().await? > 0 {
        return Ok(None);
    }
    let password = orgwatch_web::password::generate();
    let hash = orgwatch_web::password::hash(&password)?;
    let added = store
        .add_user(&NewUser {
            name: ADMIN,
            password_hash: &hash,
            role: Role::Admin,
            access: &Access::All,
            now: now(),
        })
        .await?;
    // Another process may have created the first user in between: then it printed it.
    Ok(added.map(|_| password))
}

/// Sets a fresh random password on `admin` (creating it, an administrator, if needed), so
/// that a demo always says how to get in; returns the password.
pub async fn reset_admin(store: &Store) -> Result<String> {
    let password = orgwatch_web::password::generate();
    let hash = orgwatch_web::password::hash(&password)?;
    let new = NewUser {
        name: ADMIN,
        password_hash: &hash,
        role: Role::Admin,
        access: &Access::All,
        now: now(),
    };
    if store.add_user(&new).await?.is_none() {
        store.set_password(ADMIN, &hash, now()).await?;
        store.grant(ADMIN, Role::Admin, &Access::All, now()).await?;
    }
    Ok(password)
}

/// Epoch seconds now.
pub fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

/// Prints the URL (and the credentials, when there are new ones; and the metrics URL, with
/// `--metrics-listen`) and serves until `stop` is
/// cancelled (see [`crate::shutdown::on_signal`]); the live pages are also woken by `signal`,
/// which whatever stores events in this process (the demo's replay) raises after each commit.
/// The caller closes the store.
pub async fn run(
    store: &Store,
    listeners: Listeners,
    config: &ServeConfig,
    password: Option<String>,
    stop: CancellationToken,
    signal: ActivitySignal,
    oidc: Option<Arc<Oidc>>,
) -> Result<()> {
    let Listeners { app, metrics } = listeners;
    let addr = app
        .local_addr()
        .context("cannot read the listening address")?;
    if let Some(password) = password {
        crate::outln!("user: {ADMIN}")?;
        crate::outln!("password: {password}")?;
    }
    if let Some(metrics) = &metrics {
        let at = metrics
            .local_addr()
            .context("cannot read the metrics listener's address")?;
        crate::outln!("metrics: http://{at}{}", orgwatch_web::METRICS_PATH)?;
        eprintln!(
            "orgwatch: serving Prometheus metrics on http://{at}{} with no login: keep this \
             address private",
            orgwatch_web::METRICS_PATH
        );
    }
    // Last, so that what reads the output knows all is said once it sees the URL.
    crate::outln!("url: http://{addr}/")?;
    eprintln!("orgwatch: serving the web app on http://{addr}/ (Ctrl-C stops it)");
    let web = WebConfig {
        session: SessionConfig {
            secure: config.secure,
            ..SessionConfig::default()
        },
        bench_static_bytes: config.bench_static_bytes,
        oidc,
        ..WebConfig::default()
    };
    let state = AppState::with_signal(store.clone(), web, orgwatch_web::system_clock(), signal);
    let scraped = async {
        let Some(metrics) = metrics else {
            return Ok(());
        };
        let served = orgwatch_web::serve_metrics(metrics, state.clone(), stop.clone()).await;
        // The app stops with it: one token for both listeners.
        stop.cancel();
        served.context("the metrics server failed")
    };
    let served = async {
        orgwatch_web::serve(app, state.clone(), stop.clone())
            .await
            .context("the web server failed")
    };
    let (served, scraped) = tokio::join!(served, scraped);
    served.and(scraped)
}
