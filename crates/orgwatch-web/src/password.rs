//! Passwords: argon2id hashes (PHC strings, the crate's default parameters: 19 MiB, 2
//! passes, 1 lane, as OWASP recommends), checked in constant time, and a dummy check for
//! unknown users so that a wrong name costs as long as a wrong password.

use argon2::password_hash::{PasswordHash, SaltString};
use argon2::{Argon2, PasswordHasher, PasswordVerifier};
use rand::distr::{Alphanumeric, SampleString};
use std::sync::OnceLock;

/// A password that could not be hashed.
#[derive(Debug, thiserror::Error)]
#[error("cannot hash the password: {0}")]
pub struct HashError(String);

/// Shortest password accepted.
pub const MIN_LENGTH: usize = 12;

/// The argon2id PHC string of `password`, with a fresh random salt.
pub fn hash(password: &str) -> Result<String, HashError> {
    let salt_bytes: [u8; 16] = rand::random();
    let salt = SaltString::encode_b64(&salt_bytes).map_err(|e| HashError(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Whether `password` matches the PHC string `hash` (`false` for a malformed hash).
pub fn verify(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    })
}

/// Checks `password` against a hash of nothing, taking as long as [`verify`] does, and
/// returns `false`: the failure path for a user name that does not exist.
pub fn verify_dummy(password: &str) -> bool {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let dummy = DUMMY.get_or_init(|| hash(&generate()).unwrap_or_default());
    let _ = verify(password, dummy);
    false
}

/// A random password of 20 letters and digits (about 119 bits).
pub fn generate() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 20)
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_hash_checks_its_password_only() {
        let h = super::hash("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(super::verify("correct horse battery", &h));
        assert!(!super::verify("correct horse batterz", &h));
        assert!(!super::verify("x", "not a hash"));
        assert!(!super::verify_dummy("correct horse battery"));
        assert_ne!(super::generate(), super::generate());
        assert_eq!(super::generate().len(), 20);
    }
}
