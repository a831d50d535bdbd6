//! Which accounts a run reads: the organisation's ACTIVE accounts (`--organization`), a list
//! (`--account`), or the caller's own account; and what Organizations says of each.

use crate::aws_call;
use crate::call::CallError;
use aws_config::SdkConfig;
use aws_sdk_organizations::types::ParentType;
use orgwatch_model::category::organization::Organization;
use orgwatch_model::{AccountId, Timestamp};
use std::collections::{BTreeMap, HashMap};

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
    /// Its organisational unit, when discovered through Organizations (`--organization`).
    pub ou: Option<Organization>,
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
            ou: None,
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
                ou: None,
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

/// What Organizations says of one OU: its name and its parent (`None`: the root).
#[derive(Debug, Clone)]
struct Unit {
    name: String,
    parent: Option<String>,
}

/// The OU paths of the organisation's accounts, read with the collector's credentials:
/// organizations:ListParents of each account, then, for each OU on the way up to the root,
/// DescribeOrganizationalUnit (its name) and ListParents (its parent), each OU asked once per
/// run (cached), so an organisation of N accounts in K OUs costs N + 2K calls.
///
/// An account whose path cannot be read keeps `ou: None` and its failure is returned; the
/// run goes on (its file then has no `organization` key, and the store keeps the path it
/// knew).
pub async fn ou_paths(base: &SdkConfig, targets: &mut [Target]) -> Vec<(AccountId, CallError)> {
    let org = aws_sdk_organizations::Client::new(base);
    let mut units: HashMap<String, Unit> = HashMap::new();
    let mut failed = Vec::new();
    for target in targets.iter_mut().filter(|t| t.is_active()) {
        match ou_of(&org, target.id.as_str(), &mut units).await {
            Ok(ou) => target.ou = Some(ou),
            Err(e) => failed.push((target.id, e)),
        }
    }
    failed
}

/// The parent of an account or OU: `Some(ou id)`, or `None` for the root.
async fn parent(
    org: &aws_sdk_organizations::Client,
    child: &str,
) -> Result<Option<String>, CallError> {
    // An account or OU has exactly one parent; the answer is one short page.
    let page = aws_call!(
        "organizations:ListParents",
        org.list_parents().child_id(child)
    )?;
    let ou = page
        .parents()
        .iter()
        .find(|p| p.r#type() == Some(&ParentType::OrganizationalUnit))
        .and_then(|p| p.id())
        .map(str::to_owned);
    Ok(ou)
}

async fn ou_of(
    org: &aws_sdk_organizations::Client,
    account: &str,
    units: &mut HashMap<String, Unit>,
) -> Result<Organization, CallError> {
    let first = parent(org, account).await?;
    let mut names = Vec::new();
    let mut next = first.clone();
    // An OU tree is at most five levels deep; the bound only guards against a cycle in a
    // misbehaving answer.
    for _ in 0..16 {
        let Some(id) = next else { break };
        let unit = match units.get(&id) {
            Some(u) => u.clone(),
            None => {
                let described = aws_call!(
                    "organizations:DescribeOrganizationalUnit",
                    org.describe_organizational_unit()
                        .organizational_unit_id(&id)
                )?;
                let name = described
                    .organizational_unit()
                    .and_then(|u| u.name())
                    .unwrap_or(&id)
                    .to_owned();
                let unit = Unit {
                    name,
                    parent: parent(org, &id).await?,
                };
                units.insert(id.clone(), unit.clone());
                unit
            }
        };
        names.push(unit.name);
        next = unit.parent;
    }
    names.reverse();
    Ok(Organization {
        ou_id: first,
        ou_path: Some(names.join("/")),
    })
}
