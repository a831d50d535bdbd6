//! `organization`: where the account sits in its AWS Organization. Not an A360 key:
//! `orgwatch collect --organization` adds it at the top level of the document, because the
//! A360 receiver turns every key of `account` into a column of its `accounts` upsert (an
//! unknown one there would fail the account and misfile the rest), while it ignores unknown
//! top-level keys.

use crate::lenient::record;

record! {
    /// The account's organisational unit.
    pub struct Organization {
        /// The OU's id (`ou-abcd-12345678`), `null` for an account directly under the root.
        ou_id: Option<String>,
        /// OU names from the root down, joined by `/` (`Sales/EU`); `""` directly under the
        /// root.
        ou_path: Option<String>,
    }
}
