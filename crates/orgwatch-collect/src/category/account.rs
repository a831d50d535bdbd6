//! `account`: who the account is (Organizations when discovered there, else the Account
//! API), its labels (from its Organizations tags), its contact and alternate contacts.

use super::Collected;
use crate::accounts::Target;
use crate::aws_call;
use crate::call::{is_not_found, CallError};
use aws_sdk_account::types::AlternateContactType;
use orgwatch_model::category::account::{
    Account, AlternateContact, AlternateContacts, ContactInfo,
};

/// Organizations tag keys read as the A360 labels (case-insensitive), as the sender's
/// environment variables set them.
pub const LABEL_TAGS: [(&str, &str); 5] = [
    ("partner", "partner_name"),
    ("customer", "customer_name"),
    ("category", "category"),
    ("environment", "account_type"),
    ("product", "product"),
];

/// The account record of `target`, read with its own credentials (account APIs without an
/// account id act on the caller's account). A failed contact call leaves its field empty and
/// is reported; an alternate contact that is not set is no failure. When every call failed,
/// the failure (a denial first) is the result: nothing was read.
pub async fn collect(
    client: &aws_sdk_account::Client,
    target: &Target,
) -> Result<Collected<Account>, CallError> {
    let out = read(client, target).await;
    let calls = if target.name.is_none() { 5 } else { 4 };
    if out.problems.len() < calls {
        return Ok(out);
    }
    let mut problems = out.problems;
    let first = problems
        .iter()
        .position(|p| p.failure == crate::call::Failure::Denied)
        .unwrap_or(0);
    Err(problems.swap_remove(first))
}

async fn read(client: &aws_sdk_account::Client, target: &Target) -> Collected<Account> {
    let mut out = Collected::clean(from_target(target));
    let account = &mut out.items;
    if account.account_name.is_none() {
        match aws_call!(
            "account:GetAccountInformation",
            client.get_account_information()
        ) {
            Ok(info) => {
                account.account_name = info.account_name().map(str::to_owned);
                account.account_status = info.account_state().map(|s| s.as_str().to_owned());
            }
            Err(e) => out.problems.push(e),
        }
    }
    let account = &mut out.items;
    match aws_call!(
        "account:GetContactInformation",
        client.get_contact_information()
    ) {
        Ok(c) => {
            account.contact_info = Some(match c.contact_information() {
                Some(c) => ContactInfo {
                    address_line1: Some(c.address_line1().to_owned()),
                    address_line2: c.address_line2().map(str::to_owned),
                    address_line3: c.address_line3().map(str::to_owned),
                    city: Some(c.city().to_owned()),
                    country_code: Some(c.country_code().to_owned()),
                    postal_code: Some(c.postal_code().to_owned()),
                    state_or_region: c.state_or_region().map(str::to_owned),
                    company_name: c.company_name().map(str::to_owned),
                    phone_number: Some(c.phone_number().to_owned()),
                    website_url: c.website_url().map(str::to_owned),
                    full_name: Some(c.full_name().to_owned()),
                },
                None => ContactInfo::default(),
            });
        }
        Err(e) => {
            account.contact_info = Some(ContactInfo::default());
            out.problems.push(e);
        }
    }
    let mut contacts = AlternateContacts::default();
    for kind in [
        AlternateContactType::Billing,
        AlternateContactType::Operations,
        AlternateContactType::Security,
    ] {
        let contact = match aws_call!(
            "account:GetAlternateContact",
            client
                .get_alternate_contact()
                .alternate_contact_type(kind.clone())
        ) {
            Ok(c) => c.alternate_contact().map(|c| AlternateContact {
                name: c.name().map(str::to_owned),
                title: c.title().map(str::to_owned),
                email: c.email_address().map(str::to_owned),
                phone: c.phone_number().map(str::to_owned),
            }),
            Err(e) if is_not_found(&e) => None,
            Err(e) => {
                out.problems.push(e);
                None
            }
        };
        match kind {
            AlternateContactType::Billing => contacts.billing = contact,
            AlternateContactType::Operations => contacts.operations = contact,
            _ => contacts.security = contact,
        }
    }
    out.items.alternate_contacts = Some(contacts);
    out
}

/// What Organizations said of the account, with its labels from the tags.
pub fn from_target(target: &Target) -> Account {
    let mut a = Account::new(target.id);
    a.account_name = target.name.clone();
    a.account_email = target.email.clone();
    a.account_status = target.status.clone();
    a.account_arn = target.arn.clone();
    a.joined_method = target.joined_method.clone();
    a.joined_timestamp = target.joined_timestamp;
    for (key, value) in &target.tags {
        let Some((_, field)) = LABEL_TAGS
            .iter()
            .find(|(tag, _)| tag.eq_ignore_ascii_case(key))
        else {
            continue;
        };
        let value = Some(value.clone());
        match *field {
            "partner_name" => a.partner_name = value,
            "customer_name" => a.customer_name = value,
            "category" => a.category = value,
            "account_type" => a.account_type = value,
            _ => {
                a.product = target.tags[key]
                    .split(',')
                    .map(|p| p.trim().to_owned())
                    .filter(|p| !p.is_empty())
                    .collect();
            }
        }
    }
    a
}

#[cfg(test)]
mod tests {
    use super::*;
    use orgwatch_model::AccountId;

    #[test]
    fn organization_tags_become_the_a360_labels() {
        let mut t = Target::bare(AccountId::parse("111122223333").unwrap(), false);
        t.tags.insert("Environment".into(), "PRODUCTION".into());
        t.tags.insert("customer".into(), "Example Corp".into());
        t.tags.insert("Product".into(), "orders, billing".into());
        t.tags.insert("CostCentre".into(), "42".into());
        let a = from_target(&t);
        assert_eq!(a.account_type.as_deref(), Some("PRODUCTION"));
        assert_eq!(a.customer_name.as_deref(), Some("Example Corp"));
        assert_eq!(a.product, vec!["orders".to_owned(), "billing".to_owned()]);
        assert_eq!(a.partner_name, None);
    }
}
