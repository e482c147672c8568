//! Password hashing with Argon2id (the `argon2` crate's defaults, which follow the OWASP
//! recommendation). Hashing is deliberately slow: call these from a blocking task.

use argon2::Argon2;
use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};

/// The shortest password accepted.
pub const MIN_LENGTH: usize = 12;
/// The longest password accepted (hashing cost grows with length).
pub const MAX_LENGTH: usize = 256;

/// Checks the password rules; the message is German, for the form.
pub fn check_rules(password: &str) -> Result<(), &'static str> {
    let n = password.chars().count();
    if n < MIN_LENGTH {
        return Err("Das Passwort muss mindestens 12 Zeichen lang sein.");
    }
    if n > MAX_LENGTH {
        return Err("Das Passwort darf höchstens 256 Zeichen lang sein.");
    }
    Ok(())
}

/// A PHC string (`$argon2id$v=19$…`) for storage.
pub fn hash(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(Argon2::default()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

/// True when `password` matches the stored hash; false for a wrong password or a
/// malformed hash.
pub fn verify(password: &str, stored: &str) -> bool {
    PasswordHash::new(stored)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash of a random password, verified against when an e-mail address is unknown so
/// that the answer takes as long as for a known one.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash("konvent-dummy-password-for-timing").unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_password_verifies_and_a_wrong_one_does_not() {
        let h = hash("richtig-langes-passwort").expect("hash");
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("richtig-langes-passwort", &h));
        assert!(!verify("falsches-langes-passwort", &h));
        assert!(!verify("x", "not a hash"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(check_rules("kurz").is_err());
        assert!(check_rules("lang-genug-123").is_ok());
    }
}
