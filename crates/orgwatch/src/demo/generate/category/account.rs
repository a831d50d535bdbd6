//! The `account` object: what the organisation knows of the account.

use super::Ctx;
use crate::demo::generate::calendar::at;
use orgwatch_model::category::account::Account;

impl Ctx<'_> {
    pub(super) fn account(&self) -> Account {
        let p = self.p;
        Account {
            account_name: Some(p.account.name.clone()),
            account_status: Some("ACTIVE".to_owned()),
            partner_name: p.partner.map(str::to_owned),
            customer_name: p.customer.map(str::to_owned),
            category: Some(p.category.to_owned()),
            account_type: Some(p.account.environment.clone()),
            joined_timestamp: Some(at(p.created, 37_800)),
            region: Some(self.region()),
            product: p
                .account
                .product
                .split(',')
                .map(|s| s.trim().to_owned())
                .collect(),
            contact_info: Some(p.contact_info.clone()),
            alternate_contacts: Some(p.contacts.clone()),
            ..Account::new(p.account.id)
        }
    }
}
