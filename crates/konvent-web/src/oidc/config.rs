//! The providers konvent offers for signing in (`[[oidc]]` in konvent.toml, or one
//! provider from `KONVENT_OIDC_*`), checked when the server starts.

use std::collections::BTreeMap;
use std::fmt;

use konvent_core::authz::{Grant, Role, Scope};
use serde::Deserialize;

/// One OpenID provider.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProviderSettings {
    /// Short name in URLs (`/anmelden/oidc/<id>`), lower-case letters, digits and `-`.
    pub id: String,
    /// The button's text on the sign-in page ("Anmelden mit …").
    pub label: String,
    /// The issuer URL; `<issuer>/.well-known/openid-configuration` must answer.
    pub issuer: String,
    pub client_id: String,
    #[serde(default)]
    pub client_secret: String,
    /// Scopes asked for; `openid` is always added.
    #[serde(default = "default_scopes")]
    pub scopes: Vec<String>,
    /// The claim whose values map to grants, a path with dots for nested claims
    /// (`groups`, `roles`, Keycloak's `realm_access.roles`); empty: no roles from claims.
    #[serde(default)]
    pub role_claim: String,
    /// Claim value → grants, each written `role` or `role scope`
    /// (`"fachmk-DMK-sprecher" = ["spokesperson conference:DMK"]`).
    #[serde(default)]
    pub roles: BTreeMap<String, Vec<String>>,
    /// Only people whose claims map to a grant (or whose linked account holds one given
    /// in konvent) may sign in; the others are told they have no role here.
    #[serde(default)]
    pub require_role: bool,
}

fn default_scopes() -> Vec<String> {
    vec!["openid".into(), "email".into(), "profile".into()]
}

impl fmt::Debug for ProviderSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ProviderSettings")
            .field("id", &self.id)
            .field("label", &self.label)
            .field("issuer", &self.issuer)
            .field("client_id", &self.client_id)
            .field(
                "client_secret",
                &if self.client_secret.is_empty() {
                    ""
                } else {
                    "[redacted]"
                },
            )
            .field("scopes", &self.scopes)
            .field("role_claim", &self.role_claim)
            .field("roles", &self.roles)
            .field("require_role", &self.require_role)
            .finish()
    }
}

/// Parses `role` or `role scope` (`spokesperson conference:DMK`).
pub fn parse_grant(text: &str) -> Result<Grant, String> {
    let text = text.trim();
    let (role, scope) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let role: Role = role.parse()?;
    let scope: Scope = scope.parse()?;
    Grant::new(role, scope)
}

impl ProviderSettings {
    /// The single provider of `KONVENT_OIDC_ISSUER`, `_CLIENT_ID`, `_CLIENT_SECRET`,
    /// `_LABEL`, `_ID`, `_SCOPES` (separated by spaces or commas), `_ROLE_CLAIM` and
    /// `_ROLES` (`value=grant;value=grant`), read through `var`.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Option<Self>, String> {
        let Some(issuer) = var("KONVENT_OIDC_ISSUER").filter(|i| !i.is_empty()) else {
            return Ok(None);
        };
        let mut roles: BTreeMap<String, Vec<String>> = BTreeMap::new();
        for pair in var("KONVENT_OIDC_ROLES")
            .unwrap_or_default()
            .split(';')
            .filter(|p| !p.trim().is_empty())
        {
            let (value, grant) = pair.split_once('=').ok_or_else(|| {
                format!("KONVENT_OIDC_ROLES: {pair:?} is not written claim-value=role scope")
            })?;
            roles
                .entry(value.trim().to_owned())
                .or_default()
                .push(grant.trim().to_owned());
        }
        Ok(Some(Self {
            id: var("KONVENT_OIDC_ID").unwrap_or_else(|| "sso".into()),
            label: var("KONVENT_OIDC_LABEL").unwrap_or_else(|| "Single Sign-on".into()),
            issuer,
            client_id: var("KONVENT_OIDC_CLIENT_ID").unwrap_or_default(),
            client_secret: var("KONVENT_OIDC_CLIENT_SECRET").unwrap_or_default(),
            scopes: match var("KONVENT_OIDC_SCOPES") {
                Some(s) => s
                    .split([' ', ','])
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect(),
                None => default_scopes(),
            },
            role_claim: var("KONVENT_OIDC_ROLE_CLAIM").unwrap_or_default(),
            roles,
            require_role: match var("KONVENT_OIDC_REQUIRE_ROLE").as_deref() {
                None | Some("" | "false" | "0") => false,
                Some("true" | "1") => true,
                Some(other) => {
                    return Err(format!(
                        "KONVENT_OIDC_REQUIRE_ROLE: {other:?} is neither true nor false"
                    ));
                }
            },
        }))
    }

    /// Checks one provider; the message names it and the key at fault.
    pub fn check(&self) -> Result<(), String> {
        let at = |m: String| format!("oidc provider {:?}: {m}", self.id);
        let id_ok = !self.id.is_empty()
            && self.id.len() <= 32
            && self
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !id_ok {
            return Err(at(
                "id must be 1 to 32 lower-case letters, digits or -".into()
            ));
        }
        if self.label.trim().is_empty() {
            return Err(at("label is empty".into()));
        }
        let issuer = url::Url::parse(&self.issuer)
            .map_err(|e| at(format!("issuer {:?} is not a URL: {e}", self.issuer)))?;
        let loopback = matches!(
            issuer.host(),
            Some(url::Host::Ipv4(ip)) if ip.is_loopback()
        ) || matches!(issuer.host(), Some(url::Host::Ipv6(ip)) if ip.is_loopback())
            || issuer.host_str() == Some("localhost");
        if issuer.scheme() != "https" && !(issuer.scheme() == "http" && loopback) {
            return Err(at(format!(
                "issuer {:?} must use https (http only on this machine)",
                self.issuer
            )));
        }
        if self.client_id.trim().is_empty() {
            return Err(at("client_id is empty".into()));
        }
        for (value, grants) in &self.roles {
            for grant in grants {
                parse_grant(grant).map_err(|e| at(format!("roles.{value:?}: {e}")))?;
            }
        }
        if !self.roles.is_empty() && self.role_claim.trim().is_empty() {
            return Err(at("roles are mapped but role_claim names no claim".into()));
        }
        if self.require_role && self.roles.is_empty() {
            return Err(at("require_role is set but no roles are mapped".into()));
        }
        Ok(())
    }

    /// The scopes to ask for, `openid` first.
    pub fn scopes(&self) -> Vec<String> {
        let mut scopes = vec!["openid".to_owned()];
        for s in &self.scopes {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        scopes
    }

    /// The grants the claim values map to (unknown values give none).
    pub fn grants_for(&self, values: &[String]) -> Vec<Grant> {
        let mut grants = Vec::new();
        for value in values {
            for text in self.roles.get(value).into_iter().flatten() {
                if let Ok(g) = parse_grant(text)
                    && !grants.contains(&g)
                {
                    grants.push(g);
                }
            }
        }
        grants
    }
}

/// Checks every provider and that no two share an id.
pub fn check_all(providers: &[ProviderSettings]) -> Result<(), String> {
    for (i, p) in providers.iter().enumerate() {
        p.check()?;
        if providers[..i].iter().any(|q| q.id == p.id) {
            return Err(format!("oidc provider id {:?} is used twice", p.id));
        }
    }
    Ok(())
}

/// The string values of the claim at `path` (dots go into objects): an array of
/// strings, or one string.
pub fn claim_values(
    claims: &serde_json::Map<String, serde_json::Value>,
    path: &str,
) -> Vec<String> {
    let mut parts = path.split('.');
    let Some(first) = parts.next() else {
        return vec![];
    };
    let mut value = claims.get(first);
    for part in parts {
        value = value.and_then(|v| v.get(part));
    }
    match value {
        Some(serde_json::Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        Some(serde_json::Value::String(s)) => vec![s.clone()],
        _ => vec![],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider() -> ProviderSettings {
        ProviderSettings {
            id: "land".into(),
            label: "Landesportal".into(),
            issuer: "https://sso.land.example/realms/konvent".into(),
            client_id: "konvent".into(),
            client_secret: "geheim".into(),
            scopes: default_scopes(),
            role_claim: "realm_access.roles".into(),
            roles: BTreeMap::from([
                ("konvent-admin".into(), vec!["admin".into()]),
                (
                    "fachmk-DMK-sprecher".into(),
                    vec!["spokesperson conference:DMK".into()],
                ),
            ]),
            require_role: false,
        }
    }

    #[test]
    fn a_complete_provider_passes_and_its_secret_is_not_printed() {
        assert_eq!(provider().check(), Ok(()));
        assert!(!format!("{:?}", provider()).contains("geheim"));
    }

    #[test]
    fn bad_providers_are_refused_with_the_key_at_fault() {
        type Case = (fn(&mut ProviderSettings), &'static str);
        let cases: [Case; 7] = [
            (|p| p.id = "Land X".into(), "id"),
            (|p| p.issuer = "http://sso.example".into(), "https"),
            (|p| p.issuer = "kein url".into(), "issuer"),
            (|p| p.client_id = String::new(), "client_id"),
            (
                |p| p.roles = BTreeMap::from([("x".into(), vec!["kaiser".into()])]),
                "unknown role",
            ),
            (|p| p.role_claim = String::new(), "role_claim"),
            (
                |p| {
                    p.roles.clear();
                    p.require_role = true;
                },
                "require_role",
            ),
        ];
        for (change, expected) in cases {
            let mut p = provider();
            change(&mut p);
            let message = p.check().expect_err("refused");
            assert!(message.contains(expected), "{message}");
        }
        let twice = [provider(), provider()];
        assert!(check_all(&twice).expect_err("refused").contains("twice"));
    }

    #[test]
    fn http_is_allowed_on_this_machine_only() {
        let mut p = provider();
        p.issuer = "http://127.0.0.1:4000".into();
        assert_eq!(p.check(), Ok(()));
    }

    #[test]
    fn claim_values_map_to_grants_through_nested_claims() {
        let claims = serde_json::json!({
            "realm_access": {"roles": ["fachmk-DMK-sprecher", "offline_access"]},
            "groups": "konvent-admin"
        });
        let claims = claims.as_object().expect("object");
        let values = claim_values(claims, "realm_access.roles");
        assert_eq!(values, ["fachmk-DMK-sprecher", "offline_access"]);
        let grants = provider().grants_for(&values);
        assert_eq!(
            grants,
            [parse_grant("spokesperson conference:DMK").expect("grant")]
        );
        assert_eq!(claim_values(claims, "groups"), ["konvent-admin"]);
        assert!(claim_values(claims, "missing.path").is_empty());
    }

    #[test]
    fn one_provider_comes_from_the_environment() {
        let env = |k: &str| match k {
            "KONVENT_OIDC_ISSUER" => Some("https://sso.example".to_owned()),
            "KONVENT_OIDC_CLIENT_ID" => Some("konvent".to_owned()),
            "KONVENT_OIDC_SCOPES" => Some("openid email,groups".to_owned()),
            "KONVENT_OIDC_ROLE_CLAIM" => Some("groups".to_owned()),
            "KONVENT_OIDC_ROLES" => {
                Some("konvent-admin=admin; dmk=spokesperson conference:DMK".to_owned())
            }
            "KONVENT_OIDC_REQUIRE_ROLE" => Some("true".to_owned()),
            _ => None,
        };
        let p = ProviderSettings::from_env(env)
            .expect("parses")
            .expect("configured");
        assert_eq!(p.id, "sso");
        assert_eq!(p.scopes, ["openid", "email", "groups"]);
        assert_eq!(p.roles["dmk"], ["spokesperson conference:DMK"]);
        assert!(p.require_role);
        assert_eq!(p.check(), Ok(()));
        let wrong = |k: &str| match k {
            "KONVENT_OIDC_REQUIRE_ROLE" => Some("ja".to_owned()),
            other => env(other),
        };
        assert!(
            ProviderSettings::from_env(wrong)
                .expect_err("refused")
                .contains("KONVENT_OIDC_REQUIRE_ROLE")
        );
        assert_eq!(ProviderSettings::from_env(|_| None), Ok(None));
    }
}
