//! Which accounts a run reads: the organisation's ACTIVE accounts (`--organization`), a list
//! (`--account`), or the caller's own account; and what Organizations says of each.

use crate::aws_call;
use crate::call::CallError;
use aws_config::SdkConfig;
use orgwatch_model::{AccountId, Timestamp};
use std::collections::BTreeMap;

/// Which accounts to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// The caller's own account, with the base credentials.
    Caller,
    /// These accounts, each through the member role (the caller's own with base credentials).
    List(Vec<AccountId>),
    /// Every ACTIVE account of the caller's organisation, through the member role.
    Organization,
}

/// The caller: who orgwatch runs as (sts:GetCallerIdentity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// Its account.
    pub account: AccountId,
    /// Its ARN (gives the partition of the role ARNs).
    pub arn: String,
}

/// Who the base credentials are.
pub async fn caller(base: &SdkConfig) -> Result<Caller, CallError> {
    let sts = aws_sdk_sts::Client::new(base);
    let out = aws_call!("sts:GetCallerIdentity", sts.get_caller_identity())?;
    let account = out
        .account()
        .and_then(|a| AccountId::parse(a).ok())
        .ok_or_else(|| CallError {
            action: "sts:GetCallerIdentity",
            failure: crate::call::Failure::Error,
            code: None,
            message: format!("no valid account id in the answer: {:?}", out.account()),
        })?;
    Ok(Caller {
        account,
        arn: out.arn().unwrap_or_default().to_owned(),
    })
}

/// One account to read, with what Organizations says of it (empty when not discovered there).
#[derive(Debug, Clone, PartialEq)]
pub struct Target {
    /// The account.
    pub id: AccountId,
    /// Its name.
    pub name: Option<String>,
    /// Its root e-mail.
    pub email: Option<String>,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`, ...
    pub status: Option<String>,
    /// Its Organizations ARN.
    pub arn: Option<String>,
    /// `INVITED` or `CREATED`.
    pub joined_method: Option<String>,
    /// When it joined.
    pub joined_timestamp: Option<Timestamp>,
    /// Its organisational path(s) (`o-.../r-.../ou-.../`), when Organizations returns them.
    pub paths: Vec<String>,
    /// Its tags in Organizations.
    pub tags: BTreeMap<String, String>,
    /// True for the caller's own account (read with the base credentials, no role).
    pub is_caller: bool,
}

impl Target {
    /// An account known only by its id.
    pub fn bare(id: AccountId, is_caller: bool) -> Self {
        Target {
            id,
            name: None,
            email: None,
            status: None,
            arn: None,
            joined_method: None,
            joined_timestamp: None,
            paths: Vec::new(),
            tags: BTreeMap::new(),
            is_caller,
        }
    }

    /// True unless Organizations reports it as anything but ACTIVE.
    pub fn is_active(&self) -> bool {
        self.status.as_deref().is_none_or(|s| s == "ACTIVE")
    }
}

/// Every account of the organisation (all states: the caller reports and skips inactive
/// ones), with its tags, read page by page.
pub async fn organization(base: &SdkConfig, caller: &Caller) -> Result<Vec<Target>, CallError> {
    let org = aws_sdk_organizations::Client::new(base);
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "organizations:ListAccounts",
            org.list_accounts().set_next_token(next.take())
        )?;
        for a in page.accounts() {
            let Some(id) = a.id().and_then(|i| AccountId::parse(i).ok()) else {
                continue;
            };
            // `State` replaces the deprecated `Status`; either may be the one sent.
            let status = a
                .state()
                .map(|s| s.as_str().to_owned())
                .or_else(|| a.status().map(|s| s.as_str().to_owned()));
            out.push(Target {
                is_caller: id == caller.account,
                id,
                name: a.name().map(str::to_owned),
                email: a.email().map(str::to_owned),
                status,
                arn: a.arn().map(str::to_owned),
                joined_method: a.joined_method().map(|m| m.as_str().to_owned()),
                joined_timestamp: crate::sdk_time::opt(a.joined_timestamp()),
                paths: a.paths().to_vec(),
                tags: BTreeMap::new(),
            });
        }
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    for target in &mut out {
        target.tags = tags(&org, &target.id).await?;
    }
    Ok(out)
}

async fn tags(
    org: &aws_sdk_organizations::Client,
    id: &AccountId,
) -> Result<BTreeMap<String, String>, CallError> {
    let mut tags = BTreeMap::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "organizations:ListTagsForResource",
            org.list_tags_for_resource()
                .resource_id(id.as_str())
                .set_next_token(next.take())
        )?;
        for t in page.tags() {
            tags.insert(t.key().to_owned(), t.value().to_owned());
        }
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            return Ok(tags);
        }
    }
}
