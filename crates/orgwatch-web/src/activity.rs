//! The live Activity page (`/activity`), its JSON (`/api/activity`, one table as CSV with
//! `/api/activity.csv?table=ID`), the drill-down (`/activity/events`,
//! `/api/activity/events`) and the server-sent events that keep the page live
//! (`/api/activity/stream`).
//!
//! Every figure is the store's `activity_report` for the caller's access and the page's
//! filter (in the SQL); a stream computes each message with its own connection's access.
//! Requests for the same view share one computation at a time (`shared`); the API, the page
//! and the CSV take the latest report after `STALE_AFTER` while a newer one is computed, the
//! stream always waits for the fresh one. The page's and the API's answers are shared too
//! (`responses`), each kept for the version of the report it was made of.

use crate::query::PageQuery;
use crate::responses::MadeOf;
use crate::session::CurrentUser;
use crate::shared::{Wait, STALE_AFTER};
use crate::table::{flag, num, text, Cell, Row, Table};
use crate::{report, AppState, WebError};
use askama::Template;
use axum::extract::{Extension, RawQuery, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{Html, IntoResponse, Response};
use axum::Json;
use futures_util::stream::Stream;
use orgwatch_model::activity::{from_epoch_s, NONE};
use orgwatch_model::Timestamp;
use orgwatch_store::{
    Access, ActivityReport, ActivityVersion, Cursor, EventFilter, RecentEvent, TopItem, MAX_PAGE,
};
use serde_json::{json, Value};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

/// How long one stream lasts before the browser reconnects (and the session and the user's
/// access are checked again, as every request checks them).
pub const STREAM_LIFETIME: Duration = Duration::from_secs(300);

/// Keep-alive comments on an idle stream.
pub const KEEP_ALIVE: Duration = Duration::from_secs(15);

/// Least time between two messages of a stream.
pub const MIN_INTERVAL: Duration = Duration::from_millis(250);

/// Events per drill-down page by default.
pub const DEFAULT_PAGE: u32 = 100;

fn rfc3339(t: Timestamp) -> String {
    t.to_string()
}

fn secs(t: Timestamp) -> i64 {
    orgwatch_model::activity::epoch_ms(t).div_euclid(1000)
}

/// The drill-down URL of the events matching `pairs` within the report's range and the
/// page's account filter.
fn drill(q: &PageQuery, since: i64, until: i64, pairs: &[(&str, &str)]) -> String {
    let f = &q.filter;
    let mut all: Vec<(&str, String)> = Vec::new();
    all.extend(f.accounts.iter().map(|a| ("account", a.to_string())));
    all.extend(f.ous.iter().map(|o| ("ou", o.clone())));
    all.extend(f.environments.iter().map(|e| ("environment", e.clone())));
    all.extend(pairs.iter().map(|(k, v)| (*k, (*v).to_owned())));
    all.push(("since", since.to_string()));
    all.push(("until", until.to_string()));
    format!(
        "/activity/events?{}",
        serde_urlencoded::to_string(&all).unwrap_or_default()
    )
}

/// Why the page has nothing to show, if it has nothing.
fn empty_reason(r: &ActivityReport, access: &Access, q: &PageQuery) -> Option<String> {
    if !r.any_stored {
        return Some(
            "No activity is stored yet: store CloudTrail with `orgwatch activity --from DIR` \
             (or `--follow` to keep reading), or try `orgwatch demo`."
                .to_owned(),
        );
    }
    if r.newest.is_none() {
        return Some(match (access, q.filter.is_empty()) {
            (_, false) => "No stored event is of an account you may see and the filter names: \
                widen or reset the filter."
                .to_owned(),
            (Access::All, true) => "No event is stored.".to_owned(),
            (Access::Limited(_), true) => {
                "No stored event is of an account your access covers.".to_owned()
            }
        });
    }
    if r.events == 0 && r.alarms.is_empty() {
        return Some(
            "No event of the accounts you see is in this range (the page reads the recent \
             events, kept `--keep-events`, 7 days by default): choose another range, or reset \
             it for the last hour."
                .to_owned(),
        );
    }
    None
}

fn top_table(
    id: &'static str,
    caption: &str,
    label: &'static str,
    items: &[TopItem],
    empty: &str,
) -> Table {
    Table {
        id,
        caption: caption.to_owned(),
        columns: vec![text("item", label), num("calls", "Calls")],
        rows: items
            .iter()
            .map(|i| Row::new(vec![Cell::Text(i.item.clone()), Cell::Int(i.calls as i64)]))
            .collect(),
        empty: empty.to_owned(),
        page_rows: None,
    }
}

fn tables(r: &ActivityReport, why: Option<&str>) -> Vec<Table> {
    let none = why.unwrap_or("No event in this range.");
    let calls = Table {
        id: "calls",
        caption: format!(
            "Calls per {} with the anomaly score of the total",
            match r.range.map(|g| g.bucket) {
                Some(3600) => "hour",
                _ => "minute",
            }
        ),
        columns: vec![
            text("time", "Time (UTC)"),
            num("calls", "Calls"),
            num("errors", "Errors"),
            num("score", "Anomaly score"),
            flag("alarm", "Alarm"),
        ],
        rows: r
            .calls
            .iter()
            .map(|p| {
                let mut row = Row::new(vec![
                    Cell::Text(rfc3339(p.time)),
                    Cell::Int(p.calls as i64),
                    Cell::Int(p.errors as i64),
                    p.score.map_or(Cell::Missing, Cell::Ratio),
                    Cell::Bool(p.alarm),
                ]);
                if p.alarm {
                    row.mark = Some("bad");
                }
                row
            })
            .collect(),
        empty: none.to_owned(),
        page_rows: None,
    };
    let alarms = Table {
        id: "alarms",
        caption: "Alarms, newest first: who called what, where, and against what".to_owned(),
        columns: vec![
            text("time", "Minute (UTC)"),
            text("scope", "Account"),
            text("kind", "Kind"),
            text("principal", "Principal"),
            text("api", "API"),
            text("region", "Region"),
            text("source_ip", "Source IP"),
            num("observed", "Calls"),
            num("expected", "Expected"),
            num("minutes", "Over minutes"),
            num("score", "Score"),
            text("explanation", "Explanation"),
        ],
        rows: r
            .alarms
            .iter()
            .map(|a| {
                let mut row = Row::new(vec![
                    Cell::Text(rfc3339(a.time)),
                    Cell::Text(a.scope.clone()),
                    Cell::opt_text(a.kind.map(|k| k.as_str().to_owned())),
                    Cell::opt_text(a.principal.clone()),
                    Cell::opt_text(a.api.clone()),
                    Cell::opt_text(a.region.clone()),
                    Cell::opt_text(a.source_ip.clone()),
                    a.observed.map_or(Cell::Missing, |n| Cell::Int(n as i64)),
                    a.expected.map_or(Cell::Missing, Cell::Ratio),
                    a.minutes.map_or(Cell::Missing, |m| Cell::Int(i64::from(m))),
                    Cell::Ratio(a.score),
                    Cell::Text(explain(a)),
                ]);
                row.mark = Some("bad");
                row
            })
            .collect(),
        empty: why.unwrap_or("No alarm in this range.").to_owned(),
        page_rows: Some(100),
    };
    vec![
        calls,
        alarms,
        top_table("services", "Top 10 services", "Service", &r.services, none),
        top_table("apis", "Top 10 APIs", "API", &r.apis, none),
        top_table(
            "principals",
            "Top 10 principals",
            "Principal",
            &r.principals,
            none,
        ),
        top_table(
            "source_ips",
            "Top 10 source IPs",
            "Source IP",
            &r.source_ips,
            none,
        ),
        top_table(
            "ec2_outcomes",
            "EC2 calls by outcome",
            "Outcome",
            &r.ec2_outcomes,
            why.unwrap_or("No EC2 call in this range."),
        ),
        top_table(
            "console_sign_ins",
            "Console sign-ins",
            "Outcome",
            &r.console_sign_ins,
            why.unwrap_or("No console sign-in in this range."),
        ),
        top_table(
            "error_codes",
            "Top 10 error codes",
            "Error code",
            &r.error_codes,
            why.unwrap_or("No failed call in this range."),
        ),
    ]
}

/// An alarm in one sentence: what grew, against what.
fn explain(a: &orgwatch_store::ActivityAlarm) -> String {
    let who = a.principal.as_deref().unwrap_or("(unknown principal)");
    let what = a.api.as_deref().unwrap_or("(unknown API)");
    let minutes = a.minutes.unwrap_or(1);
    match (a.kind, a.observed, a.expected) {
        (Some(kind), Some(observed), Some(expected)) => format!(
            "{kind}: {who} called {what} {observed} times in {minutes} min (expected {expected:.1})",
            kind = kind.as_str()
        ),
        (Some(kind), _, _) => format!("{}: {who} called {what}", kind.as_str()),
        _ => format!("score {:.2}: {who} called {what}", a.score),
    }
}

/// The chart items of a top list, each with its drill-down URL.
fn chart_items(
    q: &PageQuery,
    range: (i64, i64),
    items: &[TopItem],
    key: impl Fn(&TopItem) -> Vec<(&'static str, String)>,
) -> Value {
    Value::Array(
        items
            .iter()
            .map(|i| {
                let pairs = key(i);
                let refs: Vec<(&str, &str)> = pairs.iter().map(|(k, v)| (*k, v.as_str())).collect();
                json!({"item": i.item, "calls": i.calls, "drill": drill(q, range.0, range.1, &refs)})
            })
            .collect(),
    )
}

/// The page's document: what `/api/activity` answers, the page embeds and every stream
/// message carries.
fn document(r: &ActivityReport, access: &Access, q: &PageQuery) -> (Value, Vec<Table>) {
    let why = empty_reason(r, access, q);
    let t = tables(r, why.as_deref());
    let range = r.range.map(|g| (g.since, g.until));
    let (since, until) = range.unwrap_or((0, 0));
    let width = r.range.map_or(60, |g| g.bucket);
    let calls: Vec<Value> = r
        .calls
        .iter()
        .map(|p| {
            json!({
                "time": rfc3339(p.time),
                "calls": p.calls,
                "errors": p.errors,
                "score": p.score,
                "alarm": p.alarm,
                "drill": drill(q, secs(p.time), secs(p.time) + width, &[]),
            })
        })
        .collect();
    let alarms: Vec<Value> = r
        .alarms
        .iter()
        .map(|a| {
            let mut pairs: Vec<(&str, &str)> = Vec::new();
            if a.scope != "org" {
                pairs.push(("account", a.scope.as_str()));
            }
            if let Some(p) = &a.principal {
                pairs.push(("principal", p.as_str()));
            }
            if let Some((service, api)) = a.api.as_deref().and_then(|x| x.split_once(':')) {
                pairs.push(("service", service));
                pairs.push(("api", api));
            }
            let start = secs(a.time);
            let minutes = i64::from(a.minutes.unwrap_or(1));
            json!({
                "time": rfc3339(a.time),
                "account": a.scope,
                "series": a.series,
                "score": a.score,
                "kind": a.kind.map(|k| k.as_str()),
                "principal": a.principal,
                "api": a.api,
                "region": a.region,
                "source_ip": a.source_ip,
                "observed": a.observed,
                "expected": a.expected,
                "minutes": a.minutes,
                "explanation": explain(a),
                "drill": drill(q, start - (minutes - 1) * 60, start + 60, &pairs),
            })
        })
        .collect();
    let g = (since, until);
    let one = |k: &'static str| move |i: &TopItem| vec![(k, i.item.clone())];
    let charts = json!({
        "services": chart_items(q, g, &r.services, one("service")),
        "apis": chart_items(q, g, &r.apis, |i| vec![
            ("service", i.service.clone().unwrap_or_default()),
            ("api", i.api.clone().unwrap_or_default()),
        ]),
        "principals": chart_items(q, g, &r.principals, one("principal")),
        "source_ips": chart_items(q, g, &r.source_ips, one("source_ip")),
        "error_codes": chart_items(q, g, &r.error_codes, one("error_code")),
        "ec2_outcomes": chart_items(q, g, &r.ec2_outcomes, |i| vec![
            ("service", "ec2.amazonaws.com".to_owned()),
            ("error_code", if i.item == "success" { NONE.to_owned() } else { i.item.clone() }),
        ]),
        "console_sign_ins": chart_items(q, g, &r.console_sign_ins, |_| vec![
            ("api", "ConsoleLogin".to_owned()),
        ]),
    });
    let doc = json!({
        "range": r.range.map(|g| json!({
            "since": from_epoch_s(g.since).ok().map(rfc3339),
            "until": from_epoch_s(g.until).ok().map(rfc3339),
            "bucket_seconds": g.bucket,
        })),
        "newest_event": r.newest.map(rfc3339),
        "empty": why,
        "totals": {
            "events": r.events,
            "errors": r.errors,
            "accounts": r.accounts,
            "alarms": r.alarms.len(),
        },
        "calls": calls,
        "alarms": alarms,
        "charts": charts,
    });
    (doc, t)
}

/// The shared report of the view (`shared`): a request of the API, the page or the CSV takes
/// the latest one after [`STALE_AFTER`] while a newer one is computed. With the version it
/// was computed from, for the answer made of it ([`MadeOf`]).
async fn read(
    state: &AppState,
    access: &Access,
    q: &PageQuery,
    wait: Wait,
) -> Result<(MadeOf<ActivityVersion>, Arc<ActivityReport>), WebError> {
    let (version, report) = state
        .activity_reports()
        .get(state.store(), access, &q.filter, wait)
        .await
        .map_err(WebError::Shared)?;
    Ok((MadeOf(version), report))
}

/// The whole document with its tables, as the stream sends it: always of a report at least
/// as new as the call (the stream is woken because events were stored).
async fn full_document(
    state: &AppState,
    access: &Access,
    q: &PageQuery,
) -> Result<Value, WebError> {
    let (_, r) = read(state, access, q, Wait::Fresh).await?;
    let (mut doc, mut t) = document(&r, access, q);
    report::sort(&mut t, q)?;
    let all: serde_json::Map<String, Value> =
        t.iter().map(|t| (t.id.to_owned(), t.to_json())).collect();
    if let Value::Object(m) = &mut doc {
        m.insert("tables".to_owned(), Value::Object(all));
    }
    Ok(doc)
}

/// The page's tables with no row: their ids and columns, for the OpenAPI document.
pub(crate) fn shapes() -> Vec<Table> {
    tables(&ActivityReport::default(), None)
}

/// `GET /api/activity`: the figures, charts and a page of every table as JSON, or one table
/// as CSV (`format=csv&table=ID`).
#[utoipa::path(get, path = "/api/activity", operation_id = "activity", tag = "pages",
    params(crate::openapi::Filter, crate::openapi::Sort, crate::openapi::Tables),
    responses((status = 200, description = "The Activity page's figures and a page of rows of \
        each table (JSON), or one table as CSV (`format=csv&table=ID`)")))]
pub(crate) async fn api(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    report::sort(&mut tables(&ActivityReport::default(), None), &q)?;
    let access = &user.user.access;
    let (made_of, r) = read(&state, access, &q, Wait::AtMost(STALE_AFTER)).await?;
    let (doc, t) = document(&r, access, &q);
    let mut response = report::respond("activity", &q, t, doc, false)?;
    response.extensions_mut().insert(made_of);
    Ok(response)
}

async fn csv_of(state: &AppState, user: &CurrentUser, q: &PageQuery) -> Result<Response, WebError> {
    let (_, r) = read(state, &user.user.access, q, Wait::AtMost(STALE_AFTER)).await?;
    let (_, t) = document(&r, &user.user.access, q);
    report::respond("activity", q, t, Value::Null, true)
}

/// `GET /api/activity.csv?table=ID`: one table as CSV.
#[utoipa::path(get, path = "/api/activity.csv", operation_id = "activity_csv", tag = "csv",
    params(crate::openapi::Filter, crate::openapi::Sort, crate::openapi::CsvTable),
    responses((status = 200, description = "One table of the Activity page as CSV, every row")))]
pub(crate) async fn csv(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    report::sort(&mut tables(&ActivityReport::default(), None), &q)?;
    csv_of(&state, &user, &q).await
}

/// The Activity page.
#[derive(Template)]
#[template(path = "activity.html")]
struct ActivityPage<'a> {
    user_name: &'a str,
    role: &'a str,
    csrf_token: &'a str,
    current: &'static str,
    form: crate::query::FilterForm,
    path: &'static str,
    csv_path: &'static str,
    empty: Option<String>,
    range: String,
    newest: String,
    figures: Vec<report::Figure>,
    tables: Vec<crate::table::TableView>,
    /// The document as JSON, safe inside a `<script type="application/json">` element.
    data: String,
    /// The stream's URL, with the page's filter.
    stream: String,
}

/// JSON made safe to sit in a `<script type="application/json">` element: no `<`, `>` or
/// `&` (escaped as `\u003c`…, which only occur inside JSON strings), so no `</script>`.
fn script_safe(v: &Value) -> String {
    v.to_string()
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// `GET /activity`: the live Activity page.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<(Extension<MadeOf<ActivityVersion>>, Html<String>), WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let access = &user.user.access;
    let (made_of, r) = read(&state, access, &q, Wait::AtMost(STALE_AFTER)).await?;
    let (mut doc, mut t) = document(&r, access, &q);
    report::sort(&mut t, &q)?;
    let all: serde_json::Map<String, Value> =
        t.iter().map(|t| (t.id.to_owned(), t.to_json())).collect();
    if let Value::Object(m) = &mut doc {
        m.insert("tables".to_owned(), Value::Object(all));
    }
    let query = q.filter_query();
    let f = |label, id, value: u64| report::Figure {
        label,
        id,
        value: value.to_string(),
    };
    let range = r
        .range
        .map(|g| {
            format!(
                "{} to {}",
                from_epoch_s(g.since).map(rfc3339).unwrap_or_default(),
                from_epoch_s(g.until).map(rfc3339).unwrap_or_default()
            )
        })
        .unwrap_or_default();
    let html = ActivityPage {
        user_name: &user.user.name,
        role: user.user.role.as_str(),
        csrf_token: &user.csrf_token,
        current: "activity",
        form: q.form(),
        path: "/activity",
        csv_path: "/api/activity.csv",
        empty: doc["empty"].as_str().map(str::to_owned),
        range,
        newest: r.newest.map(rfc3339).unwrap_or_default(),
        figures: vec![
            f("Calls", "events", r.events),
            f("Failed calls", "errors", r.errors),
            f("Accounts", "accounts", r.accounts),
            f("Alarms", "alarms", r.alarms.len() as u64),
        ],
        tables: t.iter().map(|t| t.view(&query, q.sort_of(t.id))).collect(),
        data: script_safe(&doc),
        stream: format!(
            "/api/activity/stream{}{query}",
            if query.is_empty() { "" } else { "?" }
        ),
    }
    .render()?;
    Ok((Extension(made_of), Html(html)))
}

/// `GET /api/activity/stream`: server-sent events. The first message is the current
/// document (a client that reconnects gets the current state); then one each time events
/// are stored, computed for this connection's access and filter. Keep-alive comments every
/// [`KEEP_ALIVE`]; the stream ends after [`STREAM_LIFETIME`] and the browser reconnects.
#[utoipa::path(get, path = "/api/activity/stream", operation_id = "activity_stream",
    tag = "pages", params(crate::openapi::Filter, crate::openapi::Sort),
    responses((status = 200, description = "Server-sent events: `summary` messages, each the \
        whole `/api/activity` document with every table whole (not paged); `failed` when one \
        cannot be read. Ends after 5 minutes.", content_type = "text/event-stream", body = String)))]
pub(crate) async fn stream(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    report::sort(&mut tables(&ActivityReport::default(), None), &q)?;
    let rx = state.activity_signal().subscribe();
    let access = user.user.access.clone();
    let deadline = tokio::time::Instant::now() + STREAM_LIFETIME;
    let stream = futures_util::stream::unfold(
        (state, access, q, rx, true),
        move |(state, access, q, mut rx, first)| async move {
            if !first {
                tokio::select! {
                    changed = rx.changed() => changed.ok()?,
                    () = tokio::time::sleep_until(deadline) => return None,
                    () = state.stopping().cancelled() => return None,
                }
                // A writer storing many batches a second wakes us for each: the ones that
                // come meanwhile are taken in the next message (at most one per interval).
                tokio::time::sleep(MIN_INTERVAL).await;
            }
            let generation = *rx.borrow_and_update();
            let event = match full_document(&state, &access, &q).await {
                Ok(doc) => Event::default()
                    .event("summary")
                    .id(generation.to_string())
                    .data(doc.to_string()),
                Err(e) => {
                    tracing::error!(error = %e, "activity stream: cannot read the summary");
                    Event::default().event("failed").data("internal error")
                }
            };
            Some((Ok(event), (state, access, q, rx, false)))
        },
    );
    Ok(Sse::new(stream).keep_alive(KeepAlive::new().interval(KEEP_ALIVE)))
}

/// The drill-down's query: the page filter, the event filter, the range, the cursor.
struct EventsQuery {
    page: PageQuery,
    filter: EventFilter,
    after: Option<Cursor>,
    limit: u32,
}

fn parse_events_query(raw: Option<&str>) -> Result<EventsQuery, WebError> {
    let page = PageQuery::parse(raw)?;
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
        .map_err(|_| WebError::BadRequest("the query string does not parse".to_owned()))?;
    let mut filter = EventFilter::default();
    let mut after = None;
    let mut limit = DEFAULT_PAGE;
    let epoch = |k: &str, v: &str| -> Result<Timestamp, WebError> {
        let digits = v.strip_prefix('-').unwrap_or(v);
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .then(|| v.parse::<i64>().ok())
            .flatten()
            .and_then(|s| from_epoch_s(s).ok())
            .ok_or_else(|| WebError::BadRequest(format!("{k}={v:?} is not a time (epoch seconds)")))
    };
    for (k, v) in pairs {
        if v.is_empty() {
            // Links set these: empty is a mistake. (An empty text filter is no filter.)
            if matches!(k.as_str(), "since" | "until" | "after" | "cursor" | "limit") {
                return Err(WebError::BadRequest(format!(
                    "{k}= is empty: give a value or leave {k} out"
                )));
            }
            continue;
        }
        match k.as_str() {
            "service" => filter.service = Some(v),
            "api" => filter.api = Some(v),
            "principal" => filter.principal = Some(v),
            "source_ip" => filter.source_ip = Some(v),
            "error_code" => filter.error_code = Some(v),
            "since" => filter.since = Some(epoch(&k, &v)?),
            "until" => filter.until = Some(epoch(&k, &v)?),
            // `cursor` as every API calls it; `after` as the drill-down's links did.
            "after" | "cursor" => {
                after = Some(
                    v.parse::<Cursor>()
                        .map_err(|e| WebError::BadRequest(format!("{k}: {e}")))?,
                )
            }
            "limit" => {
                limit = v
                    .bytes()
                    .all(|b| b.is_ascii_digit())
                    .then(|| v.parse::<u32>().ok())
                    .flatten()
                    .filter(|n| (1..=MAX_PAGE).contains(n))
                    .ok_or_else(|| {
                        WebError::BadRequest(format!("limit={v:?}: use 1 to {MAX_PAGE}"))
                    })?
            }
            _ => {}
        }
    }
    // The page's days, when no finer range is given.
    let day = |d: time::Date| Timestamp::new(d.midnight().assume_utc());
    if filter.since.is_none() {
        filter.since = page.filter.from.map(day);
    }
    if filter.until.is_none() {
        filter.until = page
            .filter
            .to
            .map(|d| Timestamp::new(d.midnight().assume_utc() + time::Duration::DAY));
    }
    Ok(EventsQuery {
        page,
        filter,
        after,
        limit,
    })
}

/// One recent event, as `/api/activity/events` lists it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct EventJson {
    /// When (RFC 3339, UTC).
    time: String,
    /// The account (12 digits).
    account: String,
    event_id: String,
    region: String,
    /// The service (`ec2.amazonaws.com`).
    service: String,
    /// The API (`RunInstances`).
    api: String,
    principal: String,
    principal_type: String,
    source_ip: Option<String>,
    user_agent_family: String,
    /// None when the call succeeded.
    error_code: Option<String>,
    read_only: Option<bool>,
    event_type: Option<String>,
}

/// A page of recent events.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct EventsJson {
    /// The events, newest first.
    events: Vec<EventJson>,
    /// The next page's `cursor`; null on the last page.
    next_cursor: Option<String>,
    /// The next page's URL (this query with `cursor` set); null on the last page.
    next_url: Option<String>,
}

fn event_json(e: &RecentEvent) -> EventJson {
    EventJson {
        time: rfc3339(e.time),
        account: e.account.clone(),
        event_id: e.event_id.clone(),
        region: e.region.clone(),
        service: e.service.clone(),
        api: e.api.clone(),
        principal: e.principal.clone(),
        principal_type: e.principal_type.clone(),
        source_ip: e.source_ip.clone(),
        user_agent_family: e.user_agent_family.clone(),
        error_code: e.error_code.clone(),
        read_only: e.read_only,
        event_type: e.event_type.clone(),
    }
}

/// The query string of the next page: this one's, with `after` replaced.
fn next_query(raw: Option<&str>, cursor: &Cursor) -> String {
    let mut pairs: Vec<(String, String)> =
        serde_urlencoded::from_str(raw.unwrap_or("")).unwrap_or_default();
    pairs.retain(|(k, _)| k != "after" && k != "cursor");
    pairs.push(("cursor".to_owned(), cursor.to_string()));
    serde_urlencoded::to_string(&pairs).unwrap_or_default()
}

async fn events_of(
    state: &AppState,
    access: &Access,
    q: &EventsQuery,
) -> Result<orgwatch_store::Page<RecentEvent>, WebError> {
    Ok(state
        .store()
        .recent_events(access, &q.page.filter, &q.filter, q.after.as_ref(), q.limit)
        .await?)
}

/// `GET /api/activity/events`: the matching recent events, newest first, a page at a time
/// (`limit`, default 100, at most 1000; `cursor` = the previous page's `next_cursor`).
#[utoipa::path(get, path = "/api/activity/events", operation_id = "activity_events",
    tag = "pages", params(crate::openapi::Filter, crate::openapi::Sort, crate::openapi::Events),
    responses((status = 200, description = "The matching recent events, newest first, a page at \
        a time (JSON), or this page of them as CSV (`format=csv` or `table=events`)",
        body = EventsJson)))]
pub(crate) async fn events_api(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let q = parse_events_query(raw.as_deref())?;
    // The sort orders the CSV (the JSON is newest first); a bad one is a 400 either way.
    report::sort(&mut [events_table(&[])], &q.page)?;
    let page = events_of(&state, &user.user.access, &q).await?;
    if q.page.csv || q.page.table.is_some() {
        // This page of events as CSV (`table=events`), in the order asked.
        return report::respond(
            "activity-events",
            &q.page,
            vec![events_table(&page.items)],
            Value::Null,
            true,
        );
    }
    let next_url = page
        .next
        .as_ref()
        .map(|c| format!("/api/activity/events?{}", next_query(raw.as_deref(), c)));
    Ok(Json(EventsJson {
        events: page.items.iter().map(event_json).collect(),
        next_cursor: page.next.as_ref().map(ToString::to_string),
        next_url,
    })
    .into_response())
}

/// The drill-down page.
#[derive(Template)]
#[template(path = "events.html")]
struct EventsPage<'a> {
    user_name: &'a str,
    role: &'a str,
    csrf_token: &'a str,
    current: &'static str,
    what: Vec<(String, String)>,
    table: crate::table::TableView,
    csv_path: &'static str,
    next: Option<String>,
    back: String,
}

/// The drill-down's table with no row, for the OpenAPI document.
pub(crate) fn events_shape() -> Table {
    events_table(&[])
}

fn events_table(items: &[RecentEvent]) -> Table {
    Table {
        id: "events",
        caption: "Matching events, newest first".to_owned(),
        columns: vec![
            text("time", "Time (UTC)"),
            text("account", "Account"),
            text("region", "Region"),
            text("service", "Service"),
            text("api", "API"),
            text("principal", "Principal"),
            text("principal_type", "Principal type"),
            text("source_ip", "Source IP"),
            text("user_agent_family", "Tool"),
            text("error_code", "Error code"),
            text("event_type", "Event type"),
            text("event_id", "Event id"),
        ],
        rows: items
            .iter()
            .map(|e| {
                let mut row = Row::new(vec![
                    Cell::Text(rfc3339(e.time)),
                    Cell::Text(e.account.clone()),
                    Cell::Text(e.region.clone()),
                    Cell::Text(e.service.clone()),
                    Cell::Text(e.api.clone()),
                    Cell::Text(e.principal.clone()),
                    Cell::Text(e.principal_type.clone()),
                    Cell::opt_text(e.source_ip.clone()),
                    Cell::Text(e.user_agent_family.clone()),
                    Cell::opt_text(e.error_code.clone()),
                    Cell::opt_text(e.event_type.clone()),
                    Cell::Text(e.event_id.clone()),
                ]);
                if e.error_code.is_some() {
                    row.mark = Some("warn");
                }
                row
            })
            .collect(),
        empty: "No stored event of the accounts you see matches (the recent events are kept \
            `--keep-events`, 7 days by default)."
            .to_owned(),
        page_rows: None,
    }
}

/// `GET /activity/events`: the drill-down page.
pub(crate) async fn events_page(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, WebError> {
    let q = parse_events_query(raw.as_deref())?;
    let page = events_of(&state, &user.user.access, &q).await?;
    let f = &q.filter;
    let mut what: Vec<(String, String)> = Vec::new();
    for (k, v) in [
        ("Service", &f.service),
        ("API", &f.api),
        ("Principal", &f.principal),
        ("Source IP", &f.source_ip),
        ("Error code", &f.error_code),
    ] {
        if let Some(v) = v {
            what.push((k.to_owned(), v.clone()));
        }
    }
    for a in &q.page.filter.accounts {
        what.push(("Account".to_owned(), a.to_string()));
    }
    if let Some(t) = f.since {
        what.push(("From".to_owned(), rfc3339(t)));
    }
    if let Some(t) = f.until {
        what.push(("Until".to_owned(), rfc3339(t)));
    }
    let mut t = [events_table(&page.items)];
    report::sort(&mut t, &q.page)?;
    let table = t[0].view(raw.as_deref().unwrap_or(""), q.page.sort_of("events"));
    let html = EventsPage {
        user_name: &user.user.name,
        role: user.user.role.as_str(),
        csrf_token: &user.csrf_token,
        current: "activity",
        what,
        table,
        csv_path: "/api/activity/events",
        next: page
            .next
            .as_ref()
            .map(|c| format!("/activity/events?{}", next_query(raw.as_deref(), c))),
        back: {
            let query = q.page.filter_query();
            format!(
                "/activity{}{query}",
                if query.is_empty() { "" } else { "?" }
            )
        },
    }
    .render()?;
    Ok(Html(html))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_in_a_script_element_cannot_close_it() {
        let v = json!({"principal": "</script><script>alert(1)</script>", "n": 1});
        let s = script_safe(&v);
        assert!(
            !s.contains('<') && !s.contains('>') && !s.contains('&'),
            "{s}"
        );
        assert_eq!(serde_json::from_str::<Value>(&s).unwrap(), v);
    }

    #[test]
    fn a_drill_down_query_is_refused_by_name_when_it_does_not_parse() {
        for (query, says) in [
            ("since=yesterday", "since=\"yesterday\""),
            ("limit=0", "limit=\"0\""),
            ("limit=1001", "limit=\"1001\""),
            ("limit=%2B5", "limit=\"+5\""),
            ("since=", "since= is empty"),
            ("until=%2B1", "until=\"+1\""),
            ("after=nonsense", "after:"),
            ("account=12", "account=\"12\""),
        ] {
            match parse_events_query(Some(query)) {
                Err(WebError::BadRequest(m)) => assert!(m.contains(says), "{query}: {m}"),
                Err(e) => panic!("{query}: {e}"),
                Ok(_) => panic!("{query} accepted"),
            }
        }
        let q = parse_events_query(Some(
            "service=ec2.amazonaws.com&api=RunInstances&since=1709280000&until=1709280060\
             &account=111111111111&limit=5",
        ))
        .unwrap();
        assert_eq!(q.filter.service.as_deref(), Some("ec2.amazonaws.com"));
        assert_eq!(q.filter.since.map(secs), Some(1_709_280_000));
        assert_eq!(q.filter.until.map(secs), Some(1_709_280_060));
        assert_eq!(q.page.filter.accounts.len(), 1);
        assert_eq!(q.limit, 5);
    }
}
