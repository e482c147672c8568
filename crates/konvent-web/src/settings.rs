//! The server's settings, layered: defaults in code, then a TOML file, then environment
//! variables, then command-line flags (the binary applies those last two).
//! `konvent.example.toml` documents every key with its default; a test keeps them equal.

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::path::PathBuf;

use serde::Deserialize;

/// The commented example configuration, printed by `konvent default-config`.
pub const EXAMPLE_TOML: &str = include_str!("../../../konvent.example.toml");

#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Settings {
    pub bind: SocketAddr,
    pub data_dir: PathBuf,
    /// Empty: embedded SQLite in `data_dir`.
    pub database_url: String,
    /// NATS between several nodes (`nats://host:4222`); empty: this node alone.
    pub nats_url: String,
    /// The deployment's name in NATS subjects: nodes with the same name share events.
    pub nats_deployment: String,
    /// Base of printed links; empty: `http://` + bind address.
    pub public_url: String,
    pub secure_cookies: bool,
    pub session_hours: u32,
    pub invitation_hours: u32,
    pub sign_in_link_hours: u32,
    pub sign_in_attempts: u32,
    pub max_body_bytes: usize,
    /// Largest file of a document (G12), in bytes; its upload routes take this much
    /// (plus the form around it) whatever `max_body_bytes` says.
    pub max_document_bytes: usize,
    /// Days from a council session to its follow-up meeting (moved to a working day).
    pub follow_up_offset_days: i64,
    /// Video rooms (K5): "jitsi", "bigbluebutton", or empty for none.
    pub video_backend: String,
    /// Jitsi Meet with token authentication: its address, app id and app secret.
    pub jitsi_url: String,
    pub jitsi_app_id: String,
    pub jitsi_app_secret: String,
    /// BigBlueButton: the API address (…/bigbluebutton/api) and the shared secret.
    pub bbb_api_url: String,
    pub bbb_secret: String,
    /// Durable live commands one person may send within 10 seconds: every command that
    /// writes to the event's live log (chat lines, hands, votes, seats, questions,
    /// upvotes, impulses, pins, messages, …). Organizers and helpers get ten times as
    /// many. 0: no limit.
    pub live_writes_per_10s: u32,
    // The HTTP edge (issue 14): timeouts, connection limits, listen backlog, /metrics.
    /// Seconds to send a request's head, from when the server waits for it (also the
    /// idle time allowed between requests on a kept-alive connection); 0: none.
    pub header_timeout_secs: u32,
    /// Seconds for a request body to arrive whole; 0: none.
    pub body_timeout_secs: u32,
    /// Seconds a connection may make no progress while no request is handled; 0: none.
    pub send_timeout_secs: u32,
    /// Open connections (WebSockets included) in total; 0: no limit.
    pub max_connections: u32,
    /// Open connections from one client address; 0: no limit.
    pub max_connections_per_address: u32,
    /// Client addresses not limited per address (reverse proxies in front).
    pub connection_limit_exempt: Vec<IpAddr>,
    /// Length of the queue of connections not yet accepted; 0: the system's maximum.
    pub listen_backlog: u32,
    /// Bearer token a scraper sends for /metrics; empty: none.
    pub metrics_token: String,
    /// Serve /metrics to clients on this machine without a token.
    pub metrics_loopback: bool,
    /// The mail server (`smtp://user:pass@host:587` STARTTLS, `smtps://…:465` implicit
    /// TLS, `smtp://host:25?tls=none` a local relay without TLS); empty: mails are
    /// written as `.eml` files into `data_dir/outbox-files/`.
    pub smtp_url: String,
    /// A PEM file of further root certificates the mail server's certificate may chain
    /// to (an authority of the operator's own), trusted beside Mozilla's; empty: none.
    pub smtp_ca_file: String,
    /// The sender of every mail, a mailbox such as `konvent <noreply@example.org>`.
    pub mail_from: String,
    /// Days before a report's session or a duty's date on which its spokespersons are
    /// reminded; empty: no reminders.
    pub reminder_days: Vec<u32>,
    /// Single sign-on (issue 19): the OpenID providers offered on the sign-in page,
    /// `[[oidc]]` tables in konvent.toml (or one from `KONVENT_OIDC_*`).
    pub oidc: Vec<crate::oidc::ProviderSettings>,
    /// What a public body must publish (issue 21): the `[legal]` table.
    pub legal: crate::legal::LegalSettings,
    /// How long what is kept (issue 21): the `[retention]` table.
    pub retention: crate::legal::RetentionSettings,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from(([127, 0, 0, 1], 8080)),
            data_dir: PathBuf::from("./konvent-data"),
            database_url: String::new(),
            nats_url: String::new(),
            nats_deployment: "default".to_owned(),
            public_url: String::new(),
            secure_cookies: false,
            session_hours: 12,
            invitation_hours: 168,
            sign_in_link_hours: 24,
            sign_in_attempts: 5,
            max_body_bytes: 6 * 1024 * 1024,
            max_document_bytes: 20 * 1024 * 1024,
            follow_up_offset_days: 21,
            video_backend: String::new(),
            jitsi_url: String::new(),
            jitsi_app_id: String::new(),
            jitsi_app_secret: String::new(),
            bbb_api_url: String::new(),
            bbb_secret: String::new(),
            live_writes_per_10s: konvent_core::convention::live::WRITE_LIMIT as u32,
            header_timeout_secs: 10,
            body_timeout_secs: 60,
            send_timeout_secs: 60,
            max_connections: 20_000,
            max_connections_per_address: 1_000,
            connection_limit_exempt: vec![
                IpAddr::from([127, 0, 0, 1]),
                IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
            ],
            listen_backlog: 0,
            metrics_token: String::new(),
            metrics_loopback: true,
            smtp_url: String::new(),
            smtp_ca_file: String::new(),
            mail_from: "konvent <noreply@localhost>".to_owned(),
            reminder_days: vec![7, 1],
            oidc: Vec::new(),
            legal: crate::legal::LegalSettings::default(),
            retention: crate::legal::RetentionSettings::default(),
        }
    }
}

/// A flat `oidc_*` value as its `KONVENT_OIDC_*` text: strings as they are, a list
/// of scopes joined by spaces, a table of roles as `value=grant;…`, a flag as
/// `true`/`false`; anything else as TOML text, which the provider's check refuses.
fn flat_value(value: &toml::Value) -> Option<String> {
    Some(match value {
        toml::Value::String(s) => s.clone(),
        toml::Value::Boolean(b) => b.to_string(),
        toml::Value::Array(items) => items
            .iter()
            .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
            .collect::<Vec<_>>()
            .join(" "),
        toml::Value::Table(roles) => roles
            .iter()
            .flat_map(|(claim, grants)| {
                let grants: Vec<String> = match grants {
                    toml::Value::Array(items) => items
                        .iter()
                        .map(|g| g.as_str().map_or_else(|| g.to_string(), str::to_owned))
                        .collect(),
                    other => vec![
                        other
                            .as_str()
                            .map_or_else(|| other.to_string(), str::to_owned),
                    ],
                };
                grants.into_iter().map(move |g| format!("{claim}={g}"))
            })
            .collect::<Vec<_>>()
            .join(";"),
        other => other.to_string(),
    })
}

impl Settings {
    /// Defaults overridden by a TOML document. One single sign-on provider may also be
    /// written with the flat keys `oidc_issuer`, `oidc_client_id`, `oidc_client_secret`,
    /// `oidc_label`, `oidc_id`, `oidc_scopes`, `oidc_role_claim`, `oidc_roles` and
    /// `oidc_require_role` (as with `KONVENT_OIDC_*`); it joins the `[[oidc]]` tables,
    /// replacing one of the same id.
    pub fn from_toml(text: &str) -> Result<Self, toml::de::Error> {
        let mut table: toml::Table = text.parse()?;
        let flat: Vec<String> = table
            .keys()
            .filter(|k| k.starts_with("oidc_"))
            .cloned()
            .collect();
        if flat.is_empty() {
            // The document as it is, so that errors name their line.
            return toml::from_str(text);
        }
        let mut keys = toml::Table::new();
        for key in flat {
            if let Some(value) = table.remove(&key) {
                keys.insert(key, value);
            }
        }
        let mut settings: Self = toml::Value::Table(table).try_into()?;
        let provider = crate::oidc::ProviderSettings::from_env(|var| {
            let key = var.strip_prefix("KONVENT_")?.to_ascii_lowercase();
            flat_value(keys.get(&key)?)
        })
        .map_err(<toml::de::Error as serde::de::Error>::custom)?;
        let known = [
            "oidc_issuer",
            "oidc_client_id",
            "oidc_client_secret",
            "oidc_label",
            "oidc_id",
            "oidc_scopes",
            "oidc_role_claim",
            "oidc_roles",
            "oidc_require_role",
        ];
        if let Some(unknown) = keys.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(serde::de::Error::custom(format!(
                "unknown key `{unknown}` (the flat single sign-on keys are {})",
                known.join(", ")
            )));
        }
        match provider {
            Some(provider) => {
                settings.oidc.retain(|p| p.id != provider.id);
                settings.oidc.push(provider);
            }
            None => {
                return Err(serde::de::Error::custom(
                    "the flat single sign-on keys need oidc_issuer",
                ));
            }
        }
        Ok(settings)
    }

    /// The base URL for links, without a trailing slash. A server listening on every
    /// address (0.0.0.0, ::) is named by its loopback address, which browsers open.
    pub fn public_base(&self) -> String {
        if self.public_url.is_empty() {
            let mut addr = self.bind;
            if addr.ip().is_unspecified() {
                addr.set_ip(match addr.ip() {
                    IpAddr::V4(_) => IpAddr::from([127, 0, 0, 1]),
                    IpAddr::V6(_) => IpAddr::from(std::net::Ipv6Addr::LOCALHOST),
                });
            }
            format!("http://{addr}")
        } else {
            self.public_url.trim_end_matches('/').to_owned()
        }
    }

    /// The configured video backend, if it is complete.
    pub fn video(&self) -> Option<Video> {
        use konvent_core::convention::video::{BigBlueButton, Jitsi};
        match self.video_backend.as_str() {
            "jitsi" if !self.jitsi_url.is_empty() && !self.jitsi_app_secret.is_empty() => {
                Some(Video::Jitsi(Jitsi {
                    base_url: self.jitsi_url.trim_end_matches('/').to_owned(),
                    app_id: self.jitsi_app_id.clone(),
                    app_secret: self.jitsi_app_secret.clone(),
                }))
            }
            "bigbluebutton" if !self.bbb_api_url.is_empty() && !self.bbb_secret.is_empty() => {
                Some(Video::BigBlueButton(BigBlueButton {
                    api_url: self.bbb_api_url.clone(),
                    secret: self.bbb_secret.clone(),
                }))
            }
            _ => None,
        }
    }

    /// The listen backlog: the configured one, else the system's maximum
    /// (`/proc/sys/net/core/somaxconn`, 4096 where that cannot be read).
    pub fn backlog(&self) -> u32 {
        if self.listen_backlog > 0 {
            return self.listen_backlog;
        }
        std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .filter(|n| *n > 0)
            .unwrap_or(4096)
    }

    /// Checks the mail settings: `smtp_url` (when set) and `mail_from` must parse. The
    /// server refuses to start otherwise, with this message.
    pub fn check_mail(&self) -> Result<(), String> {
        konvent_core::notifications::check_schedule(&self.reminder_days)
            .map_err(|e| format!("reminder_days: {e}"))?;
        crate::mail::MailConfig::from_settings(self).map(|_| ())
    }

    /// Checks the single sign-on providers; the server refuses to start otherwise.
    pub fn check_oidc(&self) -> Result<(), String> {
        crate::oidc::config::check_all(&self.oidc)
    }

    /// Parses `KONVENT_REMINDER_DAYS`: days separated by commas ("7,1"), or empty.
    pub fn parse_reminder_days(text: &str) -> Result<Vec<u32>, String> {
        text.split(',')
            .map(str::trim)
            .filter(|d| !d.is_empty())
            .map(|d| {
                d.parse::<u32>()
                    .map_err(|_| format!("reminder day {d:?} is not a number of days"))
            })
            .collect()
    }

    /// The database URL to connect to: the configured one or SQLite in the data folder.
    pub fn database(&self) -> Option<&str> {
        (!self.database_url.is_empty()).then_some(self.database_url.as_str())
    }
}

/// A configured video backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Video {
    Jitsi(konvent_core::convention::video::Jitsi),
    BigBlueButton(konvent_core::convention::video::BigBlueButton),
}

/// Database URLs carry passwords: never print them.
impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Settings")
            .field("bind", &self.bind)
            .field("data_dir", &self.data_dir)
            .field(
                "database_url",
                &if self.database_url.is_empty() {
                    ""
                } else {
                    "[redacted]"
                },
            )
            .field(
                "nats_url",
                &if self.nats_url.is_empty() {
                    ""
                } else {
                    "[set]"
                },
            )
            .field("nats_deployment", &self.nats_deployment)
            .field("public_url", &self.public_url)
            .field("secure_cookies", &self.secure_cookies)
            .field("session_hours", &self.session_hours)
            .field("invitation_hours", &self.invitation_hours)
            .field("sign_in_link_hours", &self.sign_in_link_hours)
            .field("sign_in_attempts", &self.sign_in_attempts)
            .field("max_body_bytes", &self.max_body_bytes)
            .field("max_document_bytes", &self.max_document_bytes)
            .field("follow_up_offset_days", &self.follow_up_offset_days)
            .field("video_backend", &self.video_backend)
            .field("jitsi_url", &self.jitsi_url)
            .field("jitsi_app_id", &self.jitsi_app_id)
            .field("bbb_api_url", &self.bbb_api_url)
            .field("live_writes_per_10s", &self.live_writes_per_10s)
            .field("header_timeout_secs", &self.header_timeout_secs)
            .field("body_timeout_secs", &self.body_timeout_secs)
            .field("send_timeout_secs", &self.send_timeout_secs)
            .field("max_connections", &self.max_connections)
            .field(
                "max_connections_per_address",
                &self.max_connections_per_address,
            )
            .field("connection_limit_exempt", &self.connection_limit_exempt)
            .field("listen_backlog", &self.listen_backlog)
            .field(
                "metrics_token",
                &if self.metrics_token.is_empty() {
                    ""
                } else {
                    "[redacted]"
                },
            )
            .field("metrics_loopback", &self.metrics_loopback)
            .field("smtp_url", &crate::mail::redact_url(&self.smtp_url))
            .field("smtp_ca_file", &self.smtp_ca_file)
            .field("mail_from", &self.mail_from)
            .field("reminder_days", &self.reminder_days)
            .field("oidc", &self.oidc)
            .field("legal", &self.legal)
            .field("retention", &self.retention)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_states_exactly_the_defaults() {
        let parsed = Settings::from_toml(EXAMPLE_TOML).expect("example parses");
        assert_eq!(parsed, Settings::default());
        // Every key is written out, not left to the defaults.
        let table: toml::Table = EXAMPLE_TOML.parse().expect("valid TOML");
        assert_eq!(table.len(), 37);
        let retention = table["retention"]
            .as_table()
            .expect("[retention] is a table");
        assert_eq!(retention.len(), 5);
        let legal = table["legal"].as_table().expect("[legal] is a table");
        assert_eq!(legal.len(), 20);
    }

    #[test]
    fn one_provider_may_be_written_with_the_flat_oidc_keys() {
        let text = r#"
            session_hours = 9
            oidc_issuer = "https://sso.land.example/realms/konvent"
            oidc_client_id = "konvent"
            oidc_client_secret = "geheim"
            oidc_label = "Landesportal"
            oidc_scopes = ["openid", "email", "groups"]
            oidc_role_claim = "groups"
            oidc_roles = { "konvent-admin" = ["admin"], "dmk" = "spokesperson conference:DMK" }
            oidc_require_role = true
        "#;
        let settings = Settings::from_toml(text).expect("parses");
        assert_eq!(settings.session_hours, 9);
        let [p] = settings.oidc.as_slice() else {
            panic!("one provider: {:?}", settings.oidc);
        };
        assert_eq!(p.id, "sso");
        assert_eq!(p.label, "Landesportal");
        assert_eq!(p.client_secret, "geheim");
        assert_eq!(p.scopes, ["openid", "email", "groups"]);
        assert_eq!(p.roles["konvent-admin"], ["admin"]);
        assert_eq!(p.roles["dmk"], ["spokesperson conference:DMK"]);
        assert!(p.require_role);
        assert_eq!(p.check(), Ok(()));
        // A misspelt flat key, or flat keys without an issuer, are refused by name.
        let typo =
            Settings::from_toml("oidc_issuer = \"https://x.example\"\noidc_clientid = \"k\"");
        assert!(
            typo.expect_err("refused")
                .to_string()
                .contains("oidc_clientid")
        );
        let no_issuer = Settings::from_toml("oidc_client_id = \"k\"");
        assert!(
            no_issuer
                .expect_err("refused")
                .to_string()
                .contains("oidc_issuer")
        );
    }

    #[test]
    fn reminder_days_come_as_a_comma_list_and_are_checked_at_start() {
        assert_eq!(Settings::parse_reminder_days("7, 1"), Ok(vec![7, 1]));
        assert_eq!(Settings::parse_reminder_days(""), Ok(vec![]));
        assert!(Settings::parse_reminder_days("7,eins").is_err());
        let bad = Settings {
            reminder_days: vec![7, 0],
            ..Settings::default()
        };
        let message = bad.check_mail().expect_err("refused");
        assert!(message.contains("reminder_days"), "{message}");
        assert!(Settings::default().check_mail().is_ok());
    }

    #[test]
    fn links_name_public_url_or_the_bind_address_and_loopback_for_every_address() {
        let at = |bind: &str, public_url: &str| Settings {
            bind: bind.parse().expect("address"),
            public_url: public_url.to_owned(),
            ..Settings::default()
        };
        assert_eq!(
            at("127.0.0.1:8080", "").public_base(),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            at("10.1.2.3:9000", "").public_base(),
            "http://10.1.2.3:9000"
        );
        assert_eq!(
            at("0.0.0.0:9000", "").public_base(),
            "http://127.0.0.1:9000"
        );
        assert_eq!(at("[::]:9000", "").public_base(), "http://[::1]:9000");
        assert_eq!(
            at("0.0.0.0:9000", "https://konvent.example/").public_base(),
            "https://konvent.example"
        );
    }

    #[test]
    fn unknown_keys_are_refused() {
        assert!(Settings::from_toml("bnd = \"0.0.0.0:1\"").is_err());
    }

    #[test]
    fn debug_output_hides_the_database_password() {
        let s = Settings {
            database_url: "postgres://u:geheim@db/k".into(),
            ..Settings::default()
        };
        assert!(!format!("{s:?}").contains("geheim"));
    }

    #[test]
    fn debug_output_hides_the_metrics_token() {
        let s = Settings {
            metrics_token: "geheim-token".into(),
            ..Settings::default()
        };
        assert!(!format!("{s:?}").contains("geheim"));
    }

    #[test]
    fn debug_output_hides_the_smtp_password() {
        let s = Settings {
            smtp_url: "smtp://konvent:geheim@mail.example.org:587".into(),
            ..Settings::default()
        };
        let shown = format!("{s:?}");
        assert!(!shown.contains("geheim"), "{shown}");
        assert!(shown.contains("mail.example.org"), "{shown}");
    }

    #[test]
    fn the_default_mail_settings_pass_the_start_up_check() {
        assert_eq!(Settings::default().check_mail(), Ok(()));
        let bad = Settings {
            mail_from: "kein Postfach".into(),
            ..Settings::default()
        };
        let message = bad.check_mail().expect_err("refused");
        assert!(message.contains("mail_from"), "{message}");
    }

    #[test]
    fn the_system_backlog_is_used_unless_one_is_set() {
        let system = std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()
            .and_then(|s| s.trim().parse::<u32>().ok())
            .unwrap_or(4096);
        assert_eq!(Settings::default().backlog(), system);
        let s = Settings {
            listen_backlog: 64,
            ..Settings::default()
        };
        assert_eq!(s.backlog(), 64);
    }
}
