//! `account`: the account row, its contacts and product links.
//!
//! The account's attributes follow its newest file (by run date), so loading an old backfill
//! never rolls a renamed account back. Unlike the A360 receiver, a product's owner is never
//! overwritten, and the "None" label is not a product.

use super::Ctx;
use crate::conn::Conn;
use crate::value::Val;
use orgwatch_model::{Snapshot, Timestamp};
use sha2::{Digest, Sha256};
use time::Date;

/// The document's account row: its surrogate id and the hash of the profile last written.
pub(super) struct AccountRow {
    pub(super) id: i64,
    profile_sha256: Option<String>,
}

/// A snapshot already loaded for the document's account and window.
pub(super) struct WindowSnapshot {
    pub(super) id: i64,
    pub(super) sha256: String,
    pub(super) run_date: Date,
    pub(super) file_name: String,
    pub(super) region: String,
}

/// The account row, then (when there is one) a snapshot of the window.
type FindRow = (
    i64,
    Option<String>,
    Option<i64>,
    Option<String>,
    Option<Date>,
    Option<String>,
    Option<String>,
);

/// Finds the document's account (creating the row if needed) together with its snapshots
/// of the window starting `period_start`.
pub(super) async fn find<C: Conn>(
    c: &mut C,
    snap: &Snapshot,
    period_start: Date,
    granularity: &str,
) -> Result<(AccountRow, Vec<WindowSnapshot>), sqlx::Error> {
    const FIND: &str = "SELECT a.id, a.profile_sha256, s.id, s.sha256, s.run_date, s.file_name, \
        s.region FROM accounts a \
        LEFT JOIN snapshots s ON s.account_id = a.id AND s.period_start = ? AND s.granularity = ? \
        WHERE a.account_id = ?";
    let args = [
        Val::Date(period_start),
        Val::str(granularity),
        Val::str(snap.account.account_id.as_str()),
    ];
    let mut rows: Vec<FindRow> = c.fetch_all(FIND, &args).await?;
    if rows.is_empty() {
        c.exec(
            "INSERT INTO accounts (account_id) VALUES (?) ON CONFLICT (account_id) DO NOTHING",
            &[Val::str(snap.account.account_id.as_str())],
        )
        .await?;
        rows = c.fetch_all(FIND, &args).await?;
    }
    let first = rows.first().ok_or(sqlx::Error::RowNotFound)?;
    let account = AccountRow {
        id: first.0,
        profile_sha256: first.1.clone(),
    };
    let snapshots = rows
        .into_iter()
        .filter_map(|(_, _, id, sha256, run_date, file_name, region)| {
            Some(WindowSnapshot {
                id: id?,
                sha256: sha256?,
                run_date: run_date?,
                file_name: file_name?,
                region: region?,
            })
        })
        .collect();
    Ok((account, snapshots))
}

/// Creates a product by name unless one with that name (in any case) exists.
pub(crate) async fn ensure_product<C: Conn>(c: &mut C, name: &str) -> Result<(), sqlx::Error> {
    c.exec(
        "INSERT INTO products (name) VALUES (?) ON CONFLICT DO NOTHING",
        &[Val::str(name)],
    )
    .await?;
    Ok(())
}

/// Moves the account's last run date forward to `run_date` (never back).
pub(super) async fn advance_run_date<C: Conn>(
    c: &mut C,
    account: i64,
    run_date: Date,
) -> Result<(), sqlx::Error> {
    c.exec(
        "UPDATE accounts SET last_run_date = ? WHERE id = ? AND last_run_date < ?",
        &[Val::Date(run_date), Val::Int(account), Val::Date(run_date)],
    )
    .await?;
    Ok(())
}

/// SHA-256 of the `account` object as orgwatch writes it, and of the `organization` object
/// when the file has one (so a file of the A360 sender hashes as before, and an account
/// moved to another OU is rewritten).
fn profile_sha256(snap: &Snapshot) -> String {
    let mut hash = Sha256::new();
    hash.update(serde_json::to_vec(&snap.account).unwrap_or_default());
    if let Some(org) = &snap.organization {
        hash.update(serde_json::to_vec(org).unwrap_or_default());
    }
    hex::encode(hash.finalize())
}

pub(super) async fn load<C: Conn>(
    c: &mut C,
    ctx: &mut Ctx<'_>,
    snap: &Snapshot,
    stored: &AccountRow,
    run_date: Date,
) -> Result<(), sqlx::Error> {
    let a = &snap.account;
    let profile = profile_sha256(snap);
    if stored.profile_sha256.as_deref() == Some(profile.as_str()) {
        // Same profile as the newest file so far: only move the run date forward.
        c.exec(
            "UPDATE accounts SET last_run_date = ? WHERE id = ? AND last_run_date < ?",
            &[
                Val::Date(run_date),
                Val::Int(ctx.account),
                Val::Date(run_date),
            ],
        )
        .await?;
        return Ok(());
    }
    let newest = c
        .exec(
            "UPDATE accounts SET account_name = ?, account_email = ?, account_status = ?, \
             account_arn = ?, joined_method = ?, joined_timestamp = ?, partner_name = ?, \
             customer_name = ?, account_type = ?, category = ?, last_run_date = ?, \
             updated_at = ?, profile_sha256 = ? \
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
                Val::Text(profile),
                Val::Int(ctx.account),
                Val::Date(run_date),
            ],
        )
        .await?
        == 1;
    if !newest {
        return Ok(());
    }

    // A file without an OU (the A360 sender's, `collect --account`) keeps the path a file
    // of `collect --organization` recorded.
    if let Some(path) = snap.organization.as_ref().and_then(|o| o.ou_path.as_ref()) {
        c.exec(
            "INSERT INTO account_ous (account_id, ou_path) VALUES (?, ?) \
             ON CONFLICT (account_id) DO UPDATE SET ou_path = excluded.ou_path",
            &[Val::Int(ctx.account), Val::str(path)],
        )
        .await?;
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
    // In name order, so that concurrent loads of two accounts sharing products never wait on
    // each other's new product rows in opposite orders.
    let mut products: Vec<&String> = a.product.iter().collect();
    products.sort_by_key(|p| p.to_lowercase());
    for product in products {
        ensure_product(c, product).await?;
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
