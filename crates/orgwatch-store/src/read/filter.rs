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
    /// Only accounts in these organizational units. The A360 format carries no OU, so a
    /// filter on one matches no account (as an OU limit of [`Access`] does).
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
            // No account records an OU (see `ous`): the filter fails closed.
            parts.push("1 = 0".to_owned());
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
            // OUs: no account records one yet (see `Limits::ous`): they add no account.
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
        named.push("1 = 0".to_owned());
    }
    (format!("({})", named.join(" AND ")), args)
}
