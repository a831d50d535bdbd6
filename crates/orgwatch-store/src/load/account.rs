//! `account`: the account row, its contacts and product links.
//!
//! The account's attributes follow its newest file (by run date), so loading an old backfill
//! never rolls a renamed account back. Unlike the A360 receiver, a product's owner is never
//! overwritten, and the "None" label is not a product.

use super::Ctx;
use crate::conn::Conn;
use crate::value::Val;
use orgwatch_model::{Snapshot, Timestamp};
use time::Date;

/// The surrogate id of the document's account, creating the row if needed.
pub(super) async fn upsert_id<C: Conn>(c: &mut C, snap: &Snapshot) -> Result<i64, sqlx::Error> {
    let aws_id = Val::str(snap.account.account_id.as_str());
    c.exec(
        "INSERT INTO accounts (account_id) VALUES (?) ON CONFLICT (account_id) DO NOTHING",
        std::slice::from_ref(&aws_id),
    )
    .await?;
    c.fetch_i64("SELECT id FROM accounts WHERE account_id = ?", &[aws_id])
        .await?
        .ok_or(sqlx::Error::RowNotFound)
}

pub(super) async fn load<C: Conn>(
    c: &mut C,
    ctx: &mut Ctx,
    snap: &Snapshot,
    run_date: Date,
) -> Result<(), sqlx::Error> {
    let a = &snap.account;
    let newest = c
        .exec(
            "UPDATE accounts SET account_name = ?, account_email = ?, account_status = ?, \
             account_arn = ?, joined_method = ?, joined_timestamp = ?, partner_name = ?, \
             customer_name = ?, account_type = ?, category = ?, last_run_date = ?, \
             updated_at = ? \
             WHERE id = ? AND (last_run_date IS NULL OR last_run_date <= ?)",
            &[
                Val::text(&a.account_name),
                Val::text(&a.account_email),
                Val::text(&a.account_status),
                Val::text(&a.account_arn),
                Val::text(&a.joined_method),
                Val::ts(a.joined_timestamp),
                Val::text(&a.partner_name),
                Val::text(&a.customer_name),
                Val::text(&a.account_type),
                Val::text(&a.category),
                Val::Date(run_date),
                Val::Ts(Timestamp::new(time::OffsetDateTime::now_utc())),
                Val::Int(ctx.account),
                Val::Date(run_date),
            ],
        )
        .await?
        == 1;
    if !newest {
        return Ok(());
    }

    // `{}` means the call failed: keep what we had.
    if let Some(ci) = a.contact_info.as_ref().filter(|ci| !ci.is_empty()) {
        c.exec(
            "DELETE FROM contact_info WHERE account_id = ?",
            &[Val::Int(ctx.account)],
        )
        .await?;
        c.exec(
            "INSERT INTO contact_info (account_id, address_line1, address_line2, address_line3, \
             city, country_code, postal_code, state_or_region, company_name, phone_number, \
             website_url, full_name) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            &[
                Val::Int(ctx.account),
                Val::text(&ci.address_line1),
                Val::text(&ci.address_line2),
                Val::text(&ci.address_line3),
                Val::text(&ci.city),
                Val::text(&ci.country_code),
                Val::text(&ci.postal_code),
                Val::text(&ci.state_or_region),
                Val::text(&ci.company_name),
                Val::text(&ci.phone_number),
                Val::text(&ci.website_url),
                Val::text(&ci.full_name),
            ],
        )
        .await?;
        ctx.rows += 1;
    }

    if let Some(contacts) = &a.alternate_contacts {
        c.exec(
            "DELETE FROM alternate_contacts WHERE account_id = ?",
            &[Val::Int(ctx.account)],
        )
        .await?;
        for (kind, contact) in contacts.iter() {
            c.exec(
                "INSERT INTO alternate_contacts (account_id, contact_type, full_name, title, \
                 email, phone_number) VALUES (?, ?, ?, ?, ?, ?)",
                &[
                    Val::Int(ctx.account),
                    Val::str(kind),
                    Val::text(&contact.name),
                    Val::text(&contact.title),
                    Val::text(&contact.email),
                    Val::text(&contact.phone),
                ],
            )
            .await?;
            ctx.rows += 1;
        }
    }

    c.exec(
        "DELETE FROM product_accounts WHERE account_id = ?",
        &[Val::Int(ctx.account)],
    )
    .await?;
    for product in &a.product {
        c.exec(
            "INSERT INTO products (name) SELECT ? WHERE NOT EXISTS \
             (SELECT 1 FROM products WHERE lower(name) = lower(?))",
            &[Val::str(product), Val::str(product)],
        )
        .await?;
        c.exec(
            "INSERT INTO product_accounts (product_id, account_id) \
             SELECT id, ? FROM products WHERE lower(name) = lower(?) \
             ON CONFLICT (product_id, account_id) DO NOTHING",
            &[Val::Int(ctx.account), Val::str(product)],
        )
        .await?;
        ctx.rows += 1;
    }
    Ok(())
}
