//! `Collection`: whether the sender collected a category in the files a figure reads, so an
//! empty table can say why it is empty (not collected, failed, or collected and empty).

use crate::conn::Conn;
use crate::value::Val;

/// What the loaded files' `logs` say of one category.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Collection {
    /// Files read.
    pub files: u64,
    /// Files whose log reports the category (`Pass` or anything else).
    pub reported: u64,
    /// Files whose log reports it as anything but `Pass`.
    pub failed: u64,
}

/// Why a table of a category has no row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Empty {
    /// No file in the range reports the category: the sender did not collect it (or no file
    /// was loaded at all).
    NotCollected,
    /// Every file that reports it reports a failure.
    Failed,
    /// It was collected and holds nothing.
    NoData,
}

impl Collection {
    /// Why a table built from these files is empty.
    pub fn why_empty(&self) -> Empty {
        if self.reported == 0 {
            Empty::NotCollected
        } else if self.failed == self.reported {
            Empty::Failed
        } else {
            Empty::NoData
        }
    }

    /// Reads the `status` column (one of the `logs.*_status` columns, a `'static` name) of
    /// the logs of the snapshots `snapshots` selects (SQL selecting snapshot ids, with `args`).
    pub(crate) async fn read<C: Conn>(
        c: &mut C,
        status: &'static str,
        snapshots: &str,
        args: &[Val],
    ) -> Result<Collection, sqlx::Error> {
        let sql = format!(
            "SELECT COUNT(*), COUNT(l.{status}), \
             COALESCE(SUM(CASE WHEN l.{status} IS NOT NULL AND UPPER(l.{status}) <> 'PASS' \
                          THEN 1 ELSE 0 END), 0) \
             FROM logs l WHERE l.outcome = 'LOADED' AND l.snapshot_id IN ({snapshots})"
        );
        let row: Option<(i64, i64, i64)> = c.fetch_optional(&sql, args).await?;
        let (files, reported, failed) = row.unwrap_or_default();
        let n = |v: i64| u64::try_from(v).map_err(|e| sqlx::Error::Decode(Box::new(e)));
        Ok(Collection {
            files: n(files)?,
            reported: n(reported)?,
            failed: n(failed)?,
        })
    }
}
