//! `Access`: which accounts a caller may see, applied by every read model in its SQL, so that
//! a viewer limited to some accounts receives no row of another (not only hidden in a page).

use crate::value::Val;
use orgwatch_model::AccountId;

/// What the caller of a read model may see.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Access {
    /// Every account (admins, and viewers without limits).
    #[default]
    All,
    /// Only the accounts these limits name.
    Limited(Limits),
}

/// The accounts a limited viewer sees: those listed, those in a listed OU and those of a
/// listed environment (their union). Empty limits see nothing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Limits {
    /// Accounts by id.
    pub accounts: Vec<AccountId>,
    /// Organizational units, each an OU path from the root (`Sales`, `Sales/EU`): an OU
    /// covers the accounts directly in it and in every OU nested in it (see
    /// [`ou_condition`](super::filter::ou_condition)). Only files of `orgwatch collect
    /// --organization` record an account's OU; an account with none is in no OU (the limit
    /// fails closed).
    pub ous: Vec<String>,
    /// Environments (the account's `account_type`, compared without case).
    pub environments: Vec<String>,
}

impl Limits {
    /// No limit names anything (such a viewer sees no account).
    pub fn is_empty(&self) -> bool {
        self.accounts.is_empty() && self.ous.is_empty() && self.environments.is_empty()
    }
}

impl Access {
    /// A SQL condition on the `accounts` row aliased `alias`, with its arguments: true for
    /// the accounts this access may see. Values are bound, never spliced into the text.
    pub(crate) fn condition(&self, alias: &str) -> (String, Vec<Val>) {
        let limits = match self {
            Access::All => return ("1 = 1".to_owned(), Vec::new()),
            Access::Limited(limits) => limits,
        };
        let mut parts = Vec::new();
        let mut args = Vec::new();
        if !limits.accounts.is_empty() {
            parts.push(format!(
                "{alias}.account_id IN ({})",
                placeholders(limits.accounts.len())
            ));
            args.extend(limits.accounts.iter().map(|a| Val::str(a.as_str())));
        }
        if !limits.environments.is_empty() {
            parts.push(format!(
                "UPPER(COALESCE({alias}.account_type, '')) IN ({})",
                placeholders(limits.environments.len())
            ));
            args.extend(
                limits
                    .environments
                    .iter()
                    .map(|e| Val::Text(e.to_uppercase())),
            );
        }
        if !limits.ous.is_empty() {
            let (sql, more) = super::filter::ou_condition("aou.ou_path", &limits.ous);
            parts.push(format!(
                "{alias}.id IN (SELECT aou.account_id FROM account_ous aou WHERE {sql})"
            ));
            args.extend(more);
        }
        if parts.is_empty() {
            return ("1 = 0".to_owned(), Vec::new());
        }
        (format!("({})", parts.join(" OR ")), args)
    }
}

fn placeholders(n: usize) -> String {
    vec!["?"; n].join(", ")
}
