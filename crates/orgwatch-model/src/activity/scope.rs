//! The scope of activity counts and scores (an account, the organisation, or no account) and
//! the sentinels written for them.

use crate::AccountId;
use std::cmp::Ordering;
use std::fmt;
use std::str::FromStr;

/// Key of a count whose record has no value for it (no 12-digit `recipientAccountId`, no
/// `awsRegion`, no `sourceIPAddress`), and the text of [`Scope::NoAccount`].
pub const NONE: &str = "(none)";

/// Text of [`Scope::Org`]: the organisation-wide counts and scores.
pub const ORG: &str = "org";

/// Whose activity a window or a score covers. Written as text (`"org"`, the 12-digit id, or
/// `"(none)"`), which is how it is stored and serialised; sorted as that text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scope {
    /// The whole organisation ([`ORG`]).
    Org,
    /// One account.
    Account(AccountId),
    /// Events without a 12-digit account id ([`NONE`]): counted and scored together.
    NoAccount,
}

/// Text that is not a [`Scope`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an activity scope (expected \"org\", \"(none)\" or a 12-digit account id)")]
pub struct InvalidScope(pub String);

impl Scope {
    /// The scope of an event's account (`None`: [`Scope::NoAccount`]).
    pub fn of_account(account: Option<AccountId>) -> Scope {
        account.map_or(Scope::NoAccount, Scope::Account)
    }

    /// The scope as text.
    pub fn as_str(&self) -> &str {
        match self {
            Scope::Org => ORG,
            Scope::Account(a) => a.as_str(),
            Scope::NoAccount => NONE,
        }
    }
}

impl From<AccountId> for Scope {
    fn from(a: AccountId) -> Self {
        Scope::Account(a)
    }
}

impl Ord for Scope {
    fn cmp(&self, other: &Self) -> Ordering {
        // As text, so that maps keyed by scope keep the order of the stored strings.
        self.as_str().cmp(other.as_str())
    }
}

impl PartialOrd for Scope {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Scope {
    type Err = InvalidScope;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            ORG => Ok(Scope::Org),
            NONE => Ok(Scope::NoAccount),
            _ => AccountId::parse(s)
                .map(Scope::Account)
                .map_err(|_| InvalidScope(s.to_owned())),
        }
    }
}

serde_as_text!(Scope);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_round_trips() {
        for text in ["org", "(none)", "123456789012", "000000000000"] {
            let scope: Scope = text.parse().unwrap();
            assert_eq!(scope.to_string(), text);
            assert_eq!(scope.as_str(), text);
            let json = serde_json::to_string(&scope).unwrap();
            assert_eq!(json, format!("{text:?}"));
            assert_eq!(serde_json::from_str::<Scope>(&json).unwrap(), scope);
        }
        assert_eq!("org".parse(), Ok(Scope::Org));
        assert_eq!("(none)".parse(), Ok(Scope::NoAccount));
        assert_eq!(
            Scope::of_account(Some(AccountId::parse("123456789012").unwrap())),
            "123456789012".parse().unwrap()
        );
        assert_eq!(Scope::of_account(None), Scope::NoAccount);
    }

    #[test]
    fn other_text_is_refused() {
        for text in ["", "ORG", "none", "12345678901234", "12345678901a", " org"] {
            assert_eq!(text.parse::<Scope>(), Err(InvalidScope(text.to_owned())));
        }
        assert!(serde_json::from_str::<Scope>("\"12345678901234\"").is_err());
    }

    #[test]
    fn scopes_sort_as_their_text() {
        let mut scopes: Vec<Scope> = ["org", "222222222222", "(none)", "111111111111"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        scopes.sort();
        let text: Vec<String> = scopes.iter().map(Scope::to_string).collect();
        let mut sorted = text.clone();
        sorted.sort();
        assert_eq!(text, sorted);
        assert_eq!(format!("{:<8}|", Scope::Org), "org     |");
    }
}
