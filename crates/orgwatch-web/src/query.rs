//! The query parameters the Cost and Security pages and their API share: the filter
//! (`account`, `ou`, `environment`, each repeatable or comma-separated, `from`, `to` as
//! `YYYY-MM-DD`), `sort=TABLE.COLUMN` with `dir=asc|desc`, for downloads `table=ID`
//! and `format=csv|json`, and for the API's pages of rows `limit` and `cursor` (checked
//! where the tables are known: `report::respond`).

use crate::WebError;
use orgwatch_model::AccountId;
use orgwatch_store::PageFilter;
use time::macros::format_description;
use time::Date;

/// Longest range a page reads, in days (a year and a day: a leap year's worth).
pub(crate) const MAX_RANGE_DAYS: i64 = 366;

/// The parameters that may not be empty (the filter's may: an empty form field).
const STRICT: &[&str] = &["sort", "dir", "table", "format", "limit", "cursor"];

/// A page's parsed query.
#[derive(Debug, Clone, Default)]
pub(crate) struct PageQuery {
    pub(crate) filter: PageFilter,
    /// `(table, column, descending)`.
    pub(crate) sort: Option<(String, String, bool)>,
    pub(crate) table: Option<String>,
    pub(crate) csv: bool,
    /// `limit=`, as given (the API checks it: `report::Paging`).
    pub(crate) limit: Option<String>,
    /// `cursor=`, as given (opaque: the API decodes it).
    pub(crate) cursor: Option<String>,
}

fn day(key: &str, v: &str) -> Result<Date, WebError> {
    Date::parse(v, format_description!("[year]-[month]-[day]"))
        .map_err(|_| WebError::BadRequest(format!("{key}={v:?} is not a date (YYYY-MM-DD)")))
}

impl PageQuery {
    /// Parses a raw query string; a value that does not parse is a 400 that names it.
    pub(crate) fn parse(raw: Option<&str>) -> Result<PageQuery, WebError> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
            .map_err(|_| WebError::BadRequest("the query string does not parse".to_owned()))?;
        let mut q = PageQuery::default();
        let mut sort = None;
        let mut desc = false;
        for (key, value) in &pairs {
            // ASCII white space only, as the OpenAPI document's patterns say.
            let values = value
                .split(',')
                .map(|v| v.trim_matches(|c: char| c.is_ascii_whitespace()))
                .filter(|v| !v.is_empty());
            // Links set these (never a form's empty field): empty is a mistake, not "none".
            if value.is_empty() && STRICT.contains(&key.as_str()) {
                return Err(WebError::BadRequest(format!(
                    "{key}= is empty: give a value or leave {key} out"
                )));
            }
            match key.as_str() {
                "account" => {
                    for v in values {
                        q.filter.accounts.push(AccountId::parse(v).map_err(|_| {
                            WebError::BadRequest(format!(
                                "account={v:?} is not a 12-digit account id"
                            ))
                        })?);
                    }
                }
                "ou" => q.filter.ous.extend(values.map(str::to_owned)),
                "environment" => q.filter.environments.extend(values.map(str::to_owned)),
                "from" if !value.is_empty() => q.filter.from = Some(day(key, value)?),
                "to" if !value.is_empty() => q.filter.to = Some(day(key, value)?),
                "sort" => sort = Some(value.clone()),
                "dir" => {
                    desc = match value.as_str() {
                        "desc" => true,
                        "asc" => false,
                        other => {
                            return Err(WebError::BadRequest(format!(
                                "dir={other:?}: use asc or desc"
                            )))
                        }
                    }
                }
                "limit" => q.limit = Some(value.clone()),
                "cursor" => q.cursor = Some(value.clone()),
                "table" => q.table = Some(value.clone()),
                "format" => match value.as_str() {
                    "csv" => q.csv = true,
                    "json" => q.csv = false,
                    other => {
                        return Err(WebError::BadRequest(format!(
                            "format={other:?}: use csv or json"
                        )))
                    }
                },
                _ => {}
            }
        }
        if let Some(s) = sort {
            let (table, column) = s.split_once('.').ok_or_else(|| {
                WebError::BadRequest(format!("sort={s:?}: use sort=TABLE.COLUMN"))
            })?;
            q.sort = Some((table.to_owned(), column.to_owned(), desc));
        }
        if let (Some(from), Some(to)) = (q.filter.from, q.filter.to) {
            if from > to {
                return Err(WebError::BadRequest(format!(
                    "from={from} is after to={to}"
                )));
            }
            if (to - from).whole_days() >= MAX_RANGE_DAYS {
                return Err(WebError::BadRequest(format!(
                    "the range {from} to {to} is longer than {MAX_RANGE_DAYS} days"
                )));
            }
        }
        Ok(q)
    }

    /// The filter as a query string, for links and forms that keep it.
    pub(crate) fn filter_query(&self) -> String {
        let f = &self.filter;
        let mut pairs: Vec<(&str, String)> = Vec::new();
        pairs.extend(f.accounts.iter().map(|a| ("account", a.to_string())));
        pairs.extend(f.ous.iter().map(|o| ("ou", o.clone())));
        pairs.extend(f.environments.iter().map(|e| ("environment", e.clone())));
        if let Some(d) = f.from {
            pairs.push(("from", orgwatch_model::Day(d).to_string()));
        }
        if let Some(d) = f.to {
            pairs.push(("to", orgwatch_model::Day(d).to_string()));
        }
        serde_urlencoded::to_string(&pairs).unwrap_or_default()
    }

    /// The sort asked for `table`: (column, descending).
    pub(crate) fn sort_of(&self, table: &str) -> Option<(&str, bool)> {
        self.sort
            .as_ref()
            .filter(|(t, _, _)| t == table)
            .map(|(_, c, d)| (c.as_str(), *d))
    }

    /// The filter's fields as the form shows them.
    pub(crate) fn form(&self) -> FilterForm {
        let f = &self.filter;
        let join = |v: Vec<String>| v.join(", ");
        FilterForm {
            account: join(f.accounts.iter().map(ToString::to_string).collect()),
            ou: join(f.ous.clone()),
            environment: join(f.environments.clone()),
            from: f
                .from
                .map(|d| orgwatch_model::Day(d).to_string())
                .unwrap_or_default(),
            to: f
                .to
                .map(|d| orgwatch_model::Day(d).to_string())
                .unwrap_or_default(),
        }
    }
}

/// The filter form's values.
pub(crate) struct FilterForm {
    pub(crate) account: String,
    pub(crate) ou: String,
    pub(crate) environment: String,
    pub(crate) from: String,
    pub(crate) to: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_query_reads_repeated_and_comma_separated_filters() {
        let q = PageQuery::parse(Some(
            "account=111111111111,222222222222&account=333333333333&environment=prod\
             &from=2026-11-01&to=2026-11-23&sort=accounts.cost&dir=desc&format=csv&table=daily",
        ))
        .unwrap();
        assert_eq!(q.filter.accounts.len(), 3);
        assert_eq!(q.filter.environments, ["prod"]);
        assert_eq!(
            q.sort,
            Some(("accounts".to_owned(), "cost".to_owned(), true))
        );
        assert!(q.csv);
        assert_eq!(q.table.as_deref(), Some("daily"));
        assert_eq!(
            q.filter_query(),
            "account=111111111111&account=222222222222&account=333333333333\
             &environment=prod&from=2026-11-01&to=2026-11-23"
        );
        // Empty fields of a submitted form are no filter.
        let q = PageQuery::parse(Some("account=&ou=&environment=&from=&to=")).unwrap();
        assert_eq!(q.filter, PageFilter::default());
    }

    #[test]
    fn a_bad_value_is_refused_by_name() {
        for (query, says) in [
            ("account=12", "account=\"12\""),
            ("from=2026-13-01", "from="),
            ("from=2026-11-02&to=2026-11-01", "is after"),
            ("from=2024-01-01&to=2025-12-31", "longer than 366 days"),
            ("sort=cost", "TABLE.COLUMN"),
            ("format=xml", "format=\"xml\""),
            ("dir=up", "dir=\"up\""),
            ("sort=", "sort= is empty"),
            ("limit=&account=", "limit= is empty"),
        ] {
            match PageQuery::parse(Some(query)) {
                Err(WebError::BadRequest(m)) => assert!(m.contains(says), "{query}: {m}"),
                other => panic!("{query}: {other:?}"),
            }
        }
    }
}
