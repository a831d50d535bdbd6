//! The Ingest status page, `GET /api/ingest` (JSON, or one table as CSV with `format=csv`)
//! and `GET /api/ingest.csv`: the store's `ingest_report` for the caller's access and the
//! page's filter: loads per account and category, failed files, the CloudTrail ledger and
//! the ingest lag (the app's clock minus the newest stored event time).

use crate::compliance::instant;
use crate::query::PageQuery;
use crate::report::{self, Figure, PageParts};
use crate::session::CurrentUser;
use crate::table::{num, text, Cell, Row, Table};
use crate::{AppState, WebError};
use axum::extract::{RawQuery, State};
use axum::response::{Html, Response};
use orgwatch_model::{Day, Timestamp};
use orgwatch_store::{IngestReport, LoadStatus, LEDGER_ROWS};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};

/// The headline figures, derived from the report and the clock (epoch seconds).
struct Totals {
    last_loaded: Option<Timestamp>,
    files_loaded: u64,
    files_failed: u64,
    accounts_failing: usize,
    ledger_files: u64,
    newest_event: Option<Timestamp>,
    /// Now minus the newest stored event time, in seconds.
    lag_seconds: Option<i64>,
    events_stored: u64,
}

fn totals_of(r: &IngestReport, now: i64) -> Totals {
    let accounts_failing: BTreeSet<&str> = r
        .loads
        .iter()
        .filter(|l| l.outcome() == LoadStatus::Fail)
        .map(|l| l.account_id.as_str())
        .collect();
    Totals {
        last_loaded: r.last_loaded,
        files_loaded: r.files_loaded,
        files_failed: r.failed.len() as u64,
        accounts_failing: accounts_failing.len(),
        ledger_files: r.ledger_files,
        newest_event: r.newest_event,
        lag_seconds: r.newest_event.map(|t| now - t.get().unix_timestamp()),
        events_stored: r.events_stored,
    }
}

/// A lag as people read it: `45 s`, `12 min`, `3 h 20 min`, `2 d 4 h`; a negative lag (an
/// event stamped ahead of the clock) as `0 s`.
fn lag_text(seconds: i64) -> String {
    let s = seconds.max(0);
    match s {
        0..60 => format!("{s} s"),
        60..3600 => format!("{} min", s / 60),
        3600..86400 => format!("{} h {} min", s / 3600, s % 3600 / 60),
        _ => format!("{} d {} h", s / 86400, s % 86400 / 3600),
    }
}

fn time_text(t: Option<Timestamp>) -> String {
    match instant(t) {
        Cell::Text(s) => s,
        _ => "none".to_owned(),
    }
}

fn tables(r: &IngestReport) -> Vec<Table> {
    let names: BTreeMap<&str, &str> = r
        .accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a.name.as_str()))
        .collect();
    let name = |id: &str| Cell::Text(names.get(id).copied().unwrap_or_default().to_owned());
    let loads = Table {
        id: "loads",
        caption: "Loads per account, region and category: the newest daily file's status \
            (pass, fail, not collected) and the sender's messages"
            .to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("region", "Region"),
            text("category", "Category"),
            text("status", "Status"),
            text("message", "Message"),
            text("day", "Day of data"),
            text("file", "File"),
            text("loaded", "Loaded"),
        ],
        rows: r
            .loads
            .iter()
            .map(|l| {
                let outcome = l.outcome();
                let mut row = Row::new(vec![
                    Cell::Text(l.account_id.to_string()),
                    name(l.account_id.as_str()),
                    Cell::Text(l.region.clone()),
                    Cell::Text(l.category.to_string()),
                    Cell::Text(outcome.as_str().to_owned()),
                    Cell::Text(l.messages.join(" | ")),
                    Cell::Text(Day(l.day).to_string()),
                    Cell::Text(l.file.clone()),
                    instant(l.loaded),
                ]);
                if outcome == LoadStatus::Fail {
                    row.mark = Some("bad");
                }
                row
            })
            .collect(),
        empty: if r.accounts.is_empty() {
            "No account matches the filter within your access.".to_owned()
        } else {
            "No daily file is loaded for these accounts.".to_owned()
        },
        page_rows: Some(100),
    };
    let failed = Table {
        id: "failed_files",
        caption: "Files that failed to load (quarantined to failed/) in the range, with the \
            reason, newest first"
            .to_owned(),
        columns: vec![
            text("account_id", "Account"),
            text("name", "Name"),
            text("file", "File"),
            text("failed", "Failed"),
            text("reason", "Reason"),
        ],
        rows: r
            .failed
            .iter()
            .map(|f| {
                let id = f.account_id.as_ref().map(|a| a.to_string());
                let mut row = Row::new(vec![
                    id.clone().map_or(Cell::Missing, Cell::Text),
                    id.as_deref().map_or(Cell::Missing, name),
                    Cell::Text(f.file.clone()),
                    instant(f.at),
                    Cell::Text(f.reasons.join(" | ")),
                ]);
                row.mark = Some("bad");
                row
            })
            .collect(),
        empty: match (r.from, r.to) {
            (Some(from), Some(to)) => format!(
                "No file failed to load from {} to {} for these accounts.",
                Day(from),
                Day(to)
            ),
            _ => "No file was loaded or failed for these accounts yet.".to_owned(),
        },
        page_rows: Some(100),
    };
    let ledger = Table {
        id: "cloudtrail_files",
        caption: format!(
            "CloudTrail files read (the activity ledger), newest first: {} of {} here, every \
             one in the CSV",
            r.ledger.len(),
            r.ledger_files
        ),
        columns: vec![
            text("file", "File"),
            num("size", "Size (bytes)"),
            num("events", "Events"),
            num("new_events", "Stored"),
            num("undecodable", "Undecodable"),
            num("skipped", "Skipped"),
            text("newest_event", "Newest event"),
            text("read", "First read"),
            text("state", "State"),
        ],
        rows: r
            .ledger
            .iter()
            .map(|f| {
                let count = |v: u64| Cell::Int(i64::try_from(v).unwrap_or(i64::MAX));
                let mut row = Row::new(vec![
                    Cell::Text(f.path.clone()),
                    f.size.map_or(Cell::Missing, count),
                    count(f.events),
                    count(f.new_events),
                    count(f.undecodable),
                    count(f.skipped),
                    instant(f.last_event),
                    instant(f.read_at),
                    Cell::Text(f.state()),
                ]);
                if f.error.is_some() {
                    row.mark = Some("bad");
                } else if f.size.is_none() || f.undecodable > 0 {
                    row.mark = Some("warn");
                }
                row
            })
            .collect(),
        empty: "No CloudTrail file of these accounts has been read (orgwatch activity).".to_owned(),
        page_rows: Some(100),
    };
    vec![loads, failed, ledger]
}

fn figures(t: &Totals) -> Vec<Figure> {
    let f = |label, id, value: String| Figure { label, id, value };
    vec![
        f(
            "Last successful load",
            "last-load",
            time_text(t.last_loaded),
        ),
        f("Files loaded", "files-loaded", t.files_loaded.to_string()),
        f("Files failed", "files-failed", t.files_failed.to_string()),
        f(
            "Accounts with a failed category on their newest file",
            "accounts-failing",
            t.accounts_failing.to_string(),
        ),
        f(
            "CloudTrail files in the ledger",
            "ledger-files",
            t.ledger_files.to_string(),
        ),
        f("Newest event", "newest-event", time_text(t.newest_event)),
        f(
            "Ingest lag",
            "ingest-lag",
            t.lag_seconds.map_or_else(|| "none".to_owned(), lag_text),
        ),
        f(
            "Events stored",
            "events-stored",
            t.events_stored.to_string(),
        ),
    ]
}

fn document(r: &IngestReport, t: &Totals) -> Value {
    let day = |d: Option<time::Date>| d.map(|d| Day(d).to_string());
    let time = |t: Option<Timestamp>| match instant(t) {
        Cell::Text(s) => Some(s),
        _ => None,
    };
    json!({
        "as_of": day(r.as_of),
        "from": day(r.from),
        "to": day(r.to),
        "totals": {
            "accounts": r.accounts.len(),
            "last_load": time(t.last_loaded),
            "files_loaded": t.files_loaded,
            "files_failed": t.files_failed,
            "accounts_failing": t.accounts_failing,
            "ledger_files": t.ledger_files,
            "newest_event": time(t.newest_event),
            "ingest_lag_seconds": t.lag_seconds,
            "events_stored": t.events_stored,
        },
    })
}

async fn read(
    state: &AppState,
    user: &CurrentUser,
    q: &PageQuery,
    ledger_limit: Option<u32>,
) -> Result<IngestReport, WebError> {
    Ok(state
        .store()
        .ingest_report(&user.user.access, &q.filter, ledger_limit)
        .await?)
}

/// The page's tables with no row: their ids and columns, for the OpenAPI document.
pub(crate) fn shapes() -> Vec<Table> {
    tables(&IngestReport::default())
}

/// `GET /api/ingest`: the figures and every table as JSON (the ledger's newest
/// [`LEDGER_ROWS`]), or one table as CSV (`format=csv&table=ID`, the whole ledger).
#[utoipa::path(get, path = "/api/ingest", operation_id = "ingest", tag = "pages",
    params(crate::openapi::Filter, crate::openapi::Sort, crate::openapi::Tables),
    responses((status = 200, description = "The Ingest status page's figures and a page of rows of \
        each table (JSON), or one table as CSV (`format=csv&table=ID`)")))]
pub(crate) async fn api(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let limit = if q.csv { None } else { Some(LEDGER_ROWS) };
    let r = read(&state, &user, &q, limit).await?;
    report::respond(
        "ingest",
        &q,
        tables(&r),
        document(&r, &totals_of(&r, state.now())),
        false,
    )
}

/// `GET /api/ingest.csv?table=ID`: one table as CSV (the whole ledger).
#[utoipa::path(get, path = "/api/ingest.csv", operation_id = "ingest_csv", tag = "csv",
    params(crate::openapi::Filter, crate::openapi::Sort, crate::openapi::CsvTable),
    responses((status = 200, description = "One table of the Ingest status page as CSV, every row")))]
pub(crate) async fn csv(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Response, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = read(&state, &user, &q, None).await?;
    report::respond("ingest", &q, tables(&r), Value::Null, true)
}

/// `GET /ingest`: the Ingest status page.
pub(crate) async fn page(
    State(state): State<AppState>,
    user: CurrentUser,
    RawQuery(raw): RawQuery,
) -> Result<Html<String>, WebError> {
    let q = PageQuery::parse(raw.as_deref())?;
    let r = read(&state, &user, &q, Some(LEDGER_ROWS)).await?;
    let parts = PageParts {
        current: "ingest",
        path: "/ingest",
        csv_path: "/api/ingest.csv",
        heading: "Ingest",
        as_of: r.as_of,
        as_of_note: "the newest daily file of each account and region up to it; files loaded \
            and failed: by load time in the range; CloudTrail: every file read, the lag from \
            the newest stored event to now",
        no_account: r.accounts.is_empty(),
        figures: figures(&totals_of(&r, state.now())),
    };
    report::render(&user, &q, parts, tables(&r))
}

#[cfg(test)]
mod tests {
    use super::lag_text;

    #[test]
    fn a_lag_reads_in_the_unit_that_fits() {
        assert_eq!(lag_text(-5), "0 s");
        assert_eq!(lag_text(59), "59 s");
        assert_eq!(lag_text(60), "1 min");
        assert_eq!(lag_text(3599), "59 min");
        assert_eq!(lag_text(3600 + 20 * 60 + 7), "1 h 20 min");
        assert_eq!(lag_text(2 * 86400 + 4 * 3600 + 59), "2 d 4 h");
    }
}
