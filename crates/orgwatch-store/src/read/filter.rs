//! `PageFilter`: what a page narrows the caller's view to (accounts, OUs, environments, a date
//! range). It only narrows: the accounts a read model covers are those the caller's
//! [`Access`] sees *and* the filter names, in the SQL.

use super::Access;
use crate::value::Val;
use orgwatch_model::AccountId;
use time::Date;

/// A page's filter. Each list that is not empty must match (an account named in `accounts`
/// and of an environment in `environments`); an empty list matches every account.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageFilter {
    /// Only these accounts.
    pub accounts: Vec<AccountId>,
    /// Only accounts in these organizational units, each an OU path from the root
    /// (`Sales`, `Sales/EU`; see [`ou_condition`]). Accounts whose OU no file recorded
    /// (the A360 format has none; `orgwatch collect --organization` writes it) match none.
    pub ous: Vec<String>,
    /// Only accounts of these environments (`account_type`, compared without case).
    pub environments: Vec<String>,
    /// First day of the range (inclusive); each read model says its default.
    pub from: Option<Date>,
    /// Last day of the range (inclusive); each read model says its default.
    pub to: Option<Date>,
}

impl PageFilter {
    /// Names no account, OU or environment (the dates aside).
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.ous.is_empty() && self.environments.is_empty()
    }

    /// A SQL condition on the `accounts` row aliased `alias`, with its arguments.
    fn condition(&self, alias: &str) -> (String, Vec<Val>) {
        let mut parts = Vec::new();
        let mut args = Vec::new();
        if !self.accounts.is_empty() {
            parts.push(format!(
                "{alias}.account_id IN ({})",
                placeholders(self.accounts.len())
            ));
            args.extend(self.accounts.iter().map(|a| Val::str(a.as_str())));
        }
        if !self.environments.is_empty() {
            parts.push(format!(
                "UPPER(COALESCE({alias}.account_type, '')) IN ({})",
                placeholders(self.environments.len())
            ));
            args.extend(
                self.environments
                    .iter()
                    .map(|e| Val::Text(e.to_uppercase())),
            );
        }
        if !self.ous.is_empty() {
            let (sql, more) = ou_condition("aou.ou_path", &self.ous);
            parts.push(format!(
                "{alias}.id IN (SELECT aou.account_id FROM account_ous aou WHERE {sql})"
            ));
            args.extend(more);
        }
        if parts.is_empty() {
            return ("1 = 1".to_owned(), args);
        }
        (parts.join(" AND "), args)
    }
}

/// The accounts aliased `alias` that `access` sees and `filter` names, as a SQL condition and
/// its arguments (bound, never spliced).
pub(crate) fn visible(access: &Access, filter: &PageFilter, alias: &str) -> (String, Vec<Val>) {
    let (seen, mut args) = access.condition(alias);
    let (named, more) = filter.condition(alias);
    args.extend(more);
    (format!("({seen} AND {named})"), args)
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}

/// True for the accounts whose OU path (`column`) is one of `ous` or nested in one: `Sales`
/// covers `Sales` and `Sales/EU`, not `SalesOps`. Paths compare exactly (OU names keep their
/// case); slashes around a given path are ignored and a blank one names nothing. An account
/// with no recorded path (NULL) matches none: the condition fails closed.
///
/// Written with `substr` rather than `LIKE`, which is case-insensitive on SQLite and
/// case-sensitive on PostgreSQL and would read `_` and `%` in a name as wildcards.
pub(crate) fn ou_condition(column: &str, ous: &[String]) -> (String, Vec<Val>) {
    let mut parts = Vec::new();
    let mut args = Vec::new();
    for ou in ous {
        let ou = ou.trim().trim_matches('/');
        if ou.is_empty() {
            continue;
        }
        let prefix = format!("{ou}/");
        parts.push(format!(
            "({column} = ? OR substr({column}, 1, CAST(? AS INTEGER)) = ?)"
        ));
        args.extend([
            Val::str(ou),
            Val::Int(prefix.chars().count() as i64),
            Val::Text(prefix),
        ]);
    }
    if parts.is_empty() {
        return ("1 = 0".to_owned(), Vec::new());
    }
    (format!("({})", parts.join(" OR ")), args)
}

/// Decodes a stored 12-digit account id: the schema checks it, so another value is a corrupt
/// row, an error.
pub(crate) fn account_id(s: &str) -> Result<AccountId, sqlx::Error> {
    AccountId::parse(s).map_err(|e| sqlx::Error::Decode(Box::new(e)))
}

/// The rows whose account id is in `column` (a text column of account ids, such as
/// `activity_events.account` or `activity_anomalies.scope`) that `access` sees and `filter`
/// names, as a SQL condition and its arguments (bound, never spliced). Unlike [`visible`],
/// an account named by id needs no row in `accounts` (activity is stored from CloudTrail
/// alone); environments are looked up there. `(none)` and `org` are seen only without
/// limits and filter.
pub(crate) fn account_condition(
    access: &Access,
    filter: &PageFilter,
    column: &str,
) -> (String, Vec<Val>) {
    let of_environments = |n: usize| {
        format!(
            "{column} IN (SELECT e.account_id FROM accounts e \
             WHERE UPPER(COALESCE(e.account_type, '')) IN ({}))",
            placeholders(n)
        )
    };
    let of_ous = |ous: &[String], args: &mut Vec<Val>| {
        let (sql, more) = ou_condition("aou.ou_path", ous);
        args.extend(more);
        format!(
            "{column} IN (SELECT e.account_id FROM accounts e \
             JOIN account_ous aou ON aou.account_id = e.id WHERE {sql})"
        )
    };
    let upper =
        |v: &[String]| -> Vec<Val> { v.iter().map(|e| Val::Text(e.to_uppercase())).collect() };
    let ids = |v: &[AccountId]| -> Vec<Val> { v.iter().map(|a| Val::str(a.as_str())).collect() };
    let mut args = Vec::new();
    let seen = match access {
        Access::All => "1 = 1".to_owned(),
        Access::Limited(limits) => {
            let mut parts = Vec::new();
            if !limits.accounts.is_empty() {
                parts.push(format!(
                    "{column} IN ({})",
                    placeholders(limits.accounts.len())
                ));
                args.extend(ids(&limits.accounts));
            }
            if !limits.environments.is_empty() {
                parts.push(of_environments(limits.environments.len()));
                args.extend(upper(&limits.environments));
            }
            if !limits.ous.is_empty() {
                parts.push(of_ous(&limits.ous, &mut args));
            }
            if parts.is_empty() {
                "1 = 0".to_owned()
            } else {
                format!("({})", parts.join(" OR "))
            }
        }
    };
    let mut named = vec![seen];
    if !filter.accounts.is_empty() {
        named.push(format!(
            "{column} IN ({})",
            placeholders(filter.accounts.len())
        ));
        args.extend(ids(&filter.accounts));
    }
    if !filter.environments.is_empty() {
        named.push(of_environments(filter.environments.len()));
        args.extend(upper(&filter.environments));
    }
    if !filter.ous.is_empty() {
        named.push(of_ous(&filter.ous, &mut args));
    }
    (format!("({})", named.join(" AND ")), args)
}
