//! Single sign-on with OpenID Connect (issue 19, A3): the authorization code flow with
//! PKCE against the configured providers, roles from their claims, RP-initiated and
//! back-channel logout.

pub mod config;

pub use config::ProviderSettings;
