//! The A360 snapshot samples in `testdata/`.

/// The genuine A360 sender's daily file.
pub const DAILY: &[u8] = include_bytes!(
    "../../../testdata/a360-sample/data/210987654321/us-east-1/2026-11-24_DAILY.json"
);
/// Where [`DAILY`] lies under a sender's `data/` directory.
pub const DAILY_PATH: &str = "210987654321/us-east-1/2026-11-24_DAILY.json";
/// The genuine A360 sender's monthly file.
pub const MONTHLY: &[u8] = include_bytes!(
    "../../../testdata/a360-sample/data/210987654321/us-east-1/2026-11-24_MONTHLY.json"
);
/// Where [`MONTHLY`] lies under a sender's `data/` directory.
pub const MONTHLY_PATH: &str = "210987654321/us-east-1/2026-11-24_MONTHLY.json";
/// A snapshot with every category filled in (account 123456789012).
pub const EVERY: &[u8] = include_bytes!("../../../testdata/snapshots/every-category.json");
