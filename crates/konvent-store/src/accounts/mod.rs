//! Accounts, their grants, sessions, and the single-use links that create accounts
//! (invitations) or sign people in (sign-in links). Links and session cookies carry a
//! random token; only its SHA-256 hash is stored.
//!
//! - [`account`]: accounts, their principal and whether they are disabled
//! - [`grants`]: the roles an account holds, in a scope
//! - [`links`]: single-use invitation and sign-in links
//! - [`session`]: signing in and out, session cookies, failed sign-ins and known devices

mod account;
mod grants;
mod links;
mod session;

use sha2::{Digest, Sha256};

pub use account::Account;
pub(crate) use grants::grant_by_email;
pub(crate) use links::insert_login_token;
pub use links::{InvitationInfo, LoginToken, TokenPurpose};
pub use session::SIGN_IN_WINDOW;

type Tx = sqlx::Transaction<'static, sqlx::Any>;

/// 32 random bytes, hex-encoded.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    // The OS random source failing is not recoverable for a server that signs people in.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the operating system's random source works");
    hex::encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}
