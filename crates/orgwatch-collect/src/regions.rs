//! Which regions of an account are read: a list, or every region enabled for the account
//! (account:ListRegions, which the Account API answers per account; EC2's DescribeRegions
//! would do too, but its SDK crate is by far the largest of all, for one call).

use crate::aws_call;
use crate::call::CallError;
use aws_sdk_account::types::RegionOptStatus;
use orgwatch_model::Region;

/// The regions to read in each account.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selection {
    /// These regions in every account.
    List(Vec<Region>),
    /// Every region enabled for each account.
    All,
}

/// Every region enabled for the account the client's credentials are in, sorted.
pub async fn enabled(client: &aws_sdk_account::Client) -> Result<Vec<Region>, CallError> {
    let mut out = Vec::new();
    let mut next: Option<String> = None;
    loop {
        let page = aws_call!(
            "account:ListRegions",
            client
                .list_regions()
                .region_opt_status_contains(RegionOptStatus::Enabled)
                .region_opt_status_contains(RegionOptStatus::EnabledByDefault)
                .set_next_token(next.take())
        )?;
        out.extend(
            page.regions()
                .iter()
                .filter_map(|r| r.region_name().and_then(|n| Region::parse(n).ok())),
        );
        next = page.next_token().map(str::to_owned);
        if next.is_none() {
            break;
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}
