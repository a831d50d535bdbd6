//! Numbers and ARNs written the way the sender writes them.

/// Rounds to `decimals` places. Kept short so that serde_json, which does not parse long
/// mantissas exactly without its `float_roundtrip` feature, reads back the same f64.
pub(super) fn round(x: f64, decimals: i32) -> f64 {
    let f = 10f64.powi(decimals);
    (x * f).round() / f
}

pub(super) fn money(x: f64) -> f64 {
    round(x, 6)
}

/// `arn:aws:{service}:{region}:{account}:{resource}`.
pub(super) fn arn(service: &str, region: &str, account: &str, resource: &str) -> String {
    format!("arn:aws:{service}:{region}:{account}:{resource}")
}
