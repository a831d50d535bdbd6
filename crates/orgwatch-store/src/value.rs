//! Column values and row batches: the one shape every category loader produces, so that bulk
//! writing (COPY on PostgreSQL, multi-row INSERT on SQLite) is written once per backend.

use orgwatch_model::{Day, Timestamp};
use std::borrow::Cow;
use std::collections::HashMap;
use time::Date;

/// One column value, typed enough for both backends to bind or encode it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Val {
    Null,
    Text(String),
    Int(i64),
    Real(f64),
    Bool(bool),
    Date(Date),
    Ts(Timestamp),
    /// JSON text (JSONB on PostgreSQL, TEXT on SQLite).
    Json(String),
    /// Binary (BYTEA on PostgreSQL, BLOB on SQLite).
    Bytes(Vec<u8>),
}

impl Val {
    pub(crate) fn text(v: &Option<String>) -> Val {
        v.as_ref().map_or(Val::Null, |s| Val::Text(s.clone()))
    }
    pub(crate) fn str(v: &str) -> Val {
        Val::Text(v.to_owned())
    }
    pub(crate) fn int(v: Option<i64>) -> Val {
        v.map_or(Val::Null, Val::Int)
    }
    pub(crate) fn real(v: Option<f64>) -> Val {
        v.filter(|x| x.is_finite()).map_or(Val::Null, Val::Real)
    }
    pub(crate) fn bool(v: Option<bool>) -> Val {
        v.map_or(Val::Null, Val::Bool)
    }
    pub(crate) fn ts(v: Option<Timestamp>) -> Val {
        v.map_or(Val::Null, Val::Ts)
    }
    pub(crate) fn day(v: Option<Day>) -> Val {
        v.map_or(Val::Null, |d| Val::Date(d.0))
    }
    /// JSON text of a document value; JSON `null` is SQL NULL. (Typed to what cannot fail
    /// to serialise, so no failure is ever turned into NULL.)
    pub(crate) fn json(v: &serde_json::Value) -> Val {
        match v {
            serde_json::Value::Null => Val::Null,
            j => Val::Json(j.to_string()),
        }
    }
    /// A JSON array of strings.
    pub(crate) fn json_strings(v: &[String]) -> Val {
        Val::Json(serde_json::Value::from(v.to_vec()).to_string())
    }
}

/// Rows for one table, deduplicated on an optional natural key (the last row for a key wins,
/// as a later line of the same file is the later observation).
pub(crate) struct Batch {
    pub(crate) table: &'static str,
    pub(crate) columns: Vec<&'static str>,
    pub(crate) rows: Vec<Vec<Val>>,
    prefix: Vec<Val>,
    seen: HashMap<String, usize>,
}

impl Batch {
    /// A batch whose rows all start with the given leading values (e.g. snapshot and account).
    pub(crate) fn new(
        table: &'static str,
        leading: &[(&'static str, Val)],
        columns: &[&'static str],
    ) -> Batch {
        let mut all: Vec<&'static str> = leading.iter().map(|(c, _)| *c).collect();
        all.extend_from_slice(columns);
        Batch {
            table,
            columns: all,
            rows: Vec::new(),
            prefix: leading.iter().map(|(_, v)| v.clone()).collect(),
            seen: HashMap::new(),
        }
    }

    /// A batch of ready rows (leading values included), for merging batches of one table.
    pub(crate) fn from_rows(
        table: &'static str,
        columns: Vec<&'static str>,
        rows: Vec<Vec<Val>>,
    ) -> Batch {
        Batch {
            table,
            columns,
            rows,
            prefix: Vec::new(),
            seen: HashMap::new(),
        }
    }

    /// Adds a row (without the leading values); a row with the key of an earlier one replaces it.
    pub(crate) fn push(&mut self, key: Option<String>, values: Vec<Val>) {
        debug_assert_eq!(
            self.prefix.len() + values.len(),
            self.columns.len(),
            "row width of {}",
            self.table
        );
        let mut row = Vec::with_capacity(self.columns.len());
        row.extend(self.prefix.iter().cloned());
        row.extend(values);
        match key {
            Some(k) => match self.seen.get(&k) {
                Some(&i) => self.rows[i] = row,
                None => {
                    self.seen.insert(k, self.rows.len());
                    self.rows.push(row);
                }
            },
            None => self.rows.push(row),
        }
    }
}

/// Rows of one table as a bulk write reads them: a statement's worth at a time, so rows that
/// are made from data held elsewhere (activity events) need not all exist at once.
pub(crate) trait Rows: Sync {
    /// The table the rows go to.
    fn table(&self) -> &'static str;
    /// Its columns, in the order of each row's values.
    fn columns(&self) -> &[&'static str];
    /// How many rows there are.
    fn len(&self) -> usize;
    /// Row `i` (below [`Rows::len`]): borrowed when it is held, owned when made on demand.
    fn row(&self, i: usize) -> Cow<'_, [Val]>;
    /// Whether there are no rows.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl Rows for Batch {
    fn table(&self) -> &'static str {
        self.table
    }
    fn columns(&self) -> &[&'static str] {
        &self.columns
    }
    fn len(&self) -> usize {
        self.rows.len()
    }
    fn row(&self, i: usize) -> Cow<'_, [Val]> {
        Cow::Borrowed(&self.rows[i])
    }
}

/// A composite natural key; `None` when any part is missing (such rows are never merged).
pub(crate) fn key(parts: &[&Option<String>]) -> Option<String> {
    let mut out = String::new();
    for p in parts {
        out.push_str(p.as_deref()?);
        out.push('\u{1f}');
    }
    Some(out)
}
