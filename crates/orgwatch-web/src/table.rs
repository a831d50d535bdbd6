//! One shape for every figure table of the Cost and Security pages: built once from a read
//! model, then sorted (by a query parameter: no JavaScript), rendered as HTML, written as CSV
//! or as JSON. A table is the same rows in all three.

use serde_json::{Map, Value};
use std::cmp::Ordering;

/// A column: its key (in `sort=`, CSV headers and JSON), its label, whether it holds
/// numbers (aligned right, sorted as numbers) and what its cells are in JSON (the OpenAPI
/// document's row schema says so).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Column {
    pub(crate) key: &'static str,
    pub(crate) label: &'static str,
    pub(crate) numeric: bool,
    pub(crate) kind: Kind,
}

/// What a column's cells are in JSON (each may also be `null`: not reported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Strings (names, ids, dates, times).
    Text,
    /// Numbers (money, ratios, counts).
    Number,
    /// Booleans.
    Flag,
}

impl Kind {
    /// The JSON Schema type of a cell of this kind.
    pub(crate) fn json_type(self) -> &'static str {
        match self {
            Kind::Text => "string",
            Kind::Number => "number",
            Kind::Flag => "boolean",
        }
    }
}

/// A text column.
pub(crate) const fn text(key: &'static str, label: &'static str) -> Column {
    Column {
        key,
        label,
        numeric: false,
        kind: Kind::Text,
    }
}

/// A number column.
pub(crate) const fn num(key: &'static str, label: &'static str) -> Column {
    Column {
        key,
        label,
        numeric: true,
        kind: Kind::Number,
    }
}

/// A yes/no column (`true`/`false` in JSON and CSV).
pub(crate) const fn flag(key: &'static str, label: &'static str) -> Column {
    Column {
        key,
        label,
        numeric: false,
        kind: Kind::Flag,
    }
}

/// One cell.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Cell {
    /// Text from the data (names, ids, dates).
    Text(String),
    /// Money, shown with two decimals.
    Money(f64),
    /// A percentage or other ratio, shown with one decimal.
    Ratio(f64),
    /// A count.
    Int(i64),
    /// Yes or no.
    Bool(bool),
    /// Not reported.
    Missing,
}

impl Cell {
    /// Text, or [`Cell::Missing`] when absent.
    pub(crate) fn opt_text(v: Option<String>) -> Cell {
        v.map_or(Cell::Missing, Cell::Text)
    }
    /// Money, or [`Cell::Missing`] when absent.
    pub(crate) fn opt_money(v: Option<f64>) -> Cell {
        v.map_or(Cell::Missing, Cell::Money)
    }
    /// A ratio, or [`Cell::Missing`] when absent.
    pub(crate) fn opt_ratio(v: Option<f64>) -> Cell {
        v.map_or(Cell::Missing, Cell::Ratio)
    }
    /// Yes/no, or [`Cell::Missing`] when absent.
    pub(crate) fn opt_bool(v: Option<bool>) -> Cell {
        v.map_or(Cell::Missing, Cell::Bool)
    }

    /// As the page shows it.
    fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Money(x) => format!("{x:.2}"),
            Cell::Ratio(x) => format!("{x:.1}"),
            Cell::Int(n) => n.to_string(),
            Cell::Bool(b) => if *b { "yes" } else { "no" }.to_owned(),
            Cell::Missing => "–".to_owned(),
        }
    }

    /// As a CSV field (unquoted): text is made safe for spreadsheets, numbers are written
    /// plainly (one we formatted cannot be a formula).
    fn csv(&self) -> String {
        match self {
            Cell::Text(s) => spreadsheet_safe(s),
            Cell::Money(x) => format!("{x:.2}"),
            Cell::Ratio(x) => format!("{x:.1}"),
            Cell::Int(n) => n.to_string(),
            Cell::Bool(b) => b.to_string(),
            Cell::Missing => String::new(),
        }
    }

    /// As a JSON value (money unrounded).
    fn json(&self) -> Value {
        match self {
            Cell::Text(s) => Value::from(s.as_str()),
            Cell::Money(x) | Cell::Ratio(x) => Value::from(*x),
            Cell::Int(n) => Value::from(*n),
            Cell::Bool(b) => Value::from(*b),
            Cell::Missing => Value::Null,
        }
    }

    fn compare(&self, other: &Cell) -> Ordering {
        let number = |c: &Cell| match c {
            Cell::Money(x) | Cell::Ratio(x) => Some(*x),
            Cell::Int(n) => Some(*n as f64),
            Cell::Bool(b) => Some(f64::from(u8::from(*b))),
            Cell::Text(_) | Cell::Missing => None,
        };
        match (self, other) {
            // Missing values sort last either way round.
            (Cell::Missing, Cell::Missing) => Ordering::Equal,
            (Cell::Missing, _) => Ordering::Greater,
            (_, Cell::Missing) => Ordering::Less,
            (Cell::Text(a), Cell::Text(b)) => a.cmp(b),
            _ => match (number(self), number(other)) {
                (Some(a), Some(b)) => a.total_cmp(&b),
                _ => self.display().cmp(&other.display()),
            },
        }
    }
}

/// A cell that a spreadsheet would read as a formula (`=`, `+`, `-`, `@`, or a tab or
/// carriage return that some strip first) gets a leading `'`, so it stays text (CSV
/// injection, OWASP).
pub(crate) fn spreadsheet_safe(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

/// One CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180).
fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

/// One row: its cells, and a class that marks it (e.g. a certificate about to expire).
#[derive(Debug, Clone)]
pub(crate) struct Row {
    pub(crate) cells: Vec<Cell>,
    pub(crate) mark: Option<&'static str>,
}

impl Row {
    /// A row without mark.
    pub(crate) fn new(cells: Vec<Cell>) -> Row {
        Row { cells, mark: None }
    }
}

/// A figure table.
#[derive(Debug, Clone)]
pub(crate) struct Table {
    /// Its id: the HTML id, `table=` of the CSV download, the key in the JSON.
    pub(crate) id: &'static str,
    /// What it shows.
    pub(crate) caption: String,
    pub(crate) columns: Vec<Column>,
    pub(crate) rows: Vec<Row>,
    /// Why it has no row, when it has none.
    pub(crate) empty: String,
    /// Rows the page shows (all when `None`; CSV and JSON always hold them all).
    pub(crate) page_rows: Option<usize>,
}

impl Table {
    /// Sorts by `column` (a key of this table), descending when `desc`; an unknown column
    /// leaves the order as built.
    pub(crate) fn sort(&mut self, column: &str, desc: bool) -> bool {
        let Some(i) = self.columns.iter().position(|c| c.key == column) else {
            return false;
        };
        self.rows.sort_by(|a, b| {
            let (x, y) = (&a.cells[i], &b.cells[i]);
            match (x, y) {
                (Cell::Missing, _) | (_, Cell::Missing) => x.compare(y),
                _ if desc => y.compare(x),
                _ => x.compare(y),
            }
        });
        true
    }

    /// The table as CSV: a header of column keys, then every row.
    pub(crate) fn to_csv(&self) -> String {
        let mut out = String::new();
        let header: Vec<String> = self.columns.iter().map(|c| csv_field(c.key)).collect();
        out.push_str(&header.join(","));
        out.push_str("\r\n");
        for row in &self.rows {
            let fields: Vec<String> = row.cells.iter().map(|c| csv_field(&c.csv())).collect();
            out.push_str(&fields.join(","));
            out.push_str("\r\n");
        }
        out
    }

    /// The table as JSON: `{"rows": [{column: value, …}], "empty": why or null}`.
    pub(crate) fn to_json(&self) -> Value {
        self.slice_json(0, self.rows.len())
    }

    /// Rows `start .. end` (clamped to the rows there are) as [`Table::to_json`] writes
    /// them; `empty` says why only of a table with no row at all.
    pub(crate) fn slice_json(&self, start: usize, end: usize) -> Value {
        let end = end.min(self.rows.len());
        let start = start.min(end);
        let rows: Vec<Value> = self.rows[start..end]
            .iter()
            .map(|r| {
                let mut m = Map::new();
                for (c, cell) in self.columns.iter().zip(&r.cells) {
                    m.insert(c.key.to_owned(), cell.json());
                }
                Value::Object(m)
            })
            .collect();
        let empty = if self.rows.is_empty() {
            Value::from(self.empty.as_str())
        } else {
            Value::Null
        };
        serde_json::json!({ "rows": rows, "empty": empty })
    }

    /// A digest of the rows in their order (hex, 64 bits): a cursor carries it, so a page
    /// asked after the table changed is refused rather than skipping or repeating rows.
    pub(crate) fn fingerprint(&self) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for row in &self.rows {
            for cell in &row.cells {
                // The JSON form is exact (money unrounded) and tells the kinds apart.
                h.update(cell.json().to_string().as_bytes());
                h.update([0x1f]);
            }
            h.update([0x1e]);
        }
        hex::encode(&h.finalize()[..8])
    }

    /// The table as the page renders it, with header links that sort it (keeping `query`,
    /// the page's filter as a query string).
    pub(crate) fn view(&self, query: &str, sorted: Option<(&str, bool)>) -> TableView {
        let headers = self
            .columns
            .iter()
            .map(|c| {
                let current = sorted.filter(|(k, _)| *k == c.key).map(|(_, d)| d);
                // A click on the sorted column reverses it; numbers start largest first.
                let desc = match current {
                    Some(d) => !d,
                    None => c.numeric,
                };
                let sep = if query.is_empty() { "" } else { "&" };
                Header {
                    key: c.key,
                    label: c.label,
                    numeric: c.numeric,
                    href: format!(
                        "?{query}{sep}sort={}.{}&dir={}#{}",
                        self.id,
                        c.key,
                        if desc { "desc" } else { "asc" },
                        self.id
                    ),
                    aria_sort: match current {
                        Some(true) => "descending",
                        Some(false) => "ascending",
                        None => "none",
                    },
                }
            })
            .collect();
        let shown = self.page_rows.unwrap_or(self.rows.len());
        TableView {
            id: self.id,
            caption: self.caption.clone(),
            headers,
            rows: self
                .rows
                .iter()
                .take(shown)
                .map(|r| RowView {
                    mark: r.mark.unwrap_or(""),
                    cells: self
                        .columns
                        .iter()
                        .zip(&r.cells)
                        .map(|(c, cell)| (cell.display(), c.numeric))
                        .collect(),
                })
                .collect(),
            more: self.rows.len().saturating_sub(shown),
            empty: self.empty.clone(),
            // The download keeps the order the page shows.
            csv: format!(
                "{query}{}table={}{}",
                if query.is_empty() { "" } else { "&" },
                self.id,
                sorted.map_or_else(String::new, |(k, d)| format!(
                    "&sort={}.{k}&dir={}",
                    self.id,
                    if d { "desc" } else { "asc" }
                ))
            ),
        }
    }
}

/// A column header as rendered.
pub(crate) struct Header {
    /// The column's key (`data-key`: a script redrawing the rows finds the columns).
    pub(crate) key: &'static str,
    pub(crate) label: &'static str,
    pub(crate) numeric: bool,
    pub(crate) href: String,
    pub(crate) aria_sort: &'static str,
}

/// A row as rendered: each cell's text and whether it is a number.
pub(crate) struct RowView {
    pub(crate) mark: &'static str,
    pub(crate) cells: Vec<(String, bool)>,
}

/// A table as rendered.
pub(crate) struct TableView {
    pub(crate) id: &'static str,
    pub(crate) caption: String,
    pub(crate) headers: Vec<Header>,
    pub(crate) rows: Vec<RowView>,
    /// Rows left out of the page (in the CSV).
    pub(crate) more: usize,
    pub(crate) empty: String,
    /// The query string of its CSV download (without the path), in the page's order.
    pub(crate) csv: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: Vec<Vec<Cell>>) -> Table {
        Table {
            id: "t",
            caption: "t".to_owned(),
            columns: vec![text("name", "Name"), num("cost", "Cost $")],
            rows: rows.into_iter().map(Row::new).collect(),
            empty: "nothing".to_owned(),
            page_rows: None,
        }
    }

    #[test]
    fn csv_cells_that_a_spreadsheet_would_run_are_prefixed() {
        for hostile in ["=1+1", "+cmd", "-2+3", "@SUM(A1)", "\t=x", "\r=x"] {
            let t = table(vec![vec![
                Cell::Text(hostile.to_owned()),
                Cell::Money(-3.5),
            ]]);
            let csv = t.to_csv();
            let line = csv.lines().nth(1).unwrap();
            assert!(
                line.starts_with('\'') || line.starts_with("\"'"),
                "{hostile:?} -> {line:?}"
            );
            // A negative amount we formatted is a number, left as it is.
            assert!(line.ends_with(",-3.50"), "{line}");
        }
        let t = table(vec![vec![
            Cell::Text("a, \"b\"\nc".to_owned()),
            Cell::Missing,
        ]]);
        assert_eq!(t.to_csv(), "name,cost\r\n\"a, \"\"b\"\"\nc\",\r\n");
        assert_eq!(spreadsheet_safe("plain -1"), "plain -1");
    }

    #[test]
    fn sorting_orders_numbers_as_numbers_and_keeps_missing_last() {
        let mut t = table(vec![
            vec![Cell::Text("b".into()), Cell::Money(9.0)],
            vec![Cell::Text("a".into()), Cell::Missing],
            vec![Cell::Text("c".into()), Cell::Money(10.0)],
        ]);
        assert!(t.sort("cost", true));
        let names =
            |t: &Table| -> Vec<String> { t.rows.iter().map(|r| r.cells[0].display()).collect() };
        assert_eq!(names(&t), ["c", "b", "a"]);
        t.sort("cost", false);
        assert_eq!(names(&t), ["b", "c", "a"]);
        t.sort("name", false);
        assert_eq!(names(&t), ["a", "b", "c"]);
        assert!(!t.sort("nope", false), "an unknown column is refused");
        // The page's links keep the filter; its download keeps the order too.
        let v = t.view("account=111111111111", Some(("name", false)));
        assert_eq!(v.csv, "account=111111111111&table=t&sort=t.name&dir=asc");
        assert_eq!(v.headers[0].aria_sort, "ascending");
        assert_eq!(
            v.headers[0].href, "?account=111111111111&sort=t.name&dir=desc#t",
            "a click on the sorted column reverses it"
        );
        assert_eq!(
            v.headers[1].href,
            "?account=111111111111&sort=t.cost&dir=desc#t"
        );
        assert_eq!(t.view("", None).csv, "table=t");
    }

    #[test]
    fn json_rows_carry_unrounded_values_and_the_reason_when_empty() {
        let t = table(vec![vec![Cell::Text("x".into()), Cell::Money(1.005)]]);
        assert_eq!(
            t.to_json(),
            serde_json::json!({"rows": [{"name": "x", "cost": 1.005}], "empty": null})
        );
        assert_eq!(
            table(Vec::new()).to_json(),
            serde_json::json!({"rows": [], "empty": "nothing"})
        );
    }
}
