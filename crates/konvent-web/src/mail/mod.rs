//! Mail (DESIGN A1): the mails konvent writes, in the recipient's language as plain text
//! and HTML from templates; the outbox worker that sends them (`worker`); how they
//! leave (`transport`); and the admin page that lists them (`admin`).
//!
//! A handler renders a mail here and hands it to one store method together with the
//! change that causes it (one transaction), then wakes the worker with
//! [`Outbox::wake`]. Mails carry no images and nothing from other hosts, only a link
//! back into konvent built from `public_url`.

pub mod admin;
pub mod transport;
pub mod worker;

use std::time::Duration;

use askama::Template;
use konvent_store::NewMail;
use tokio::sync::Notify;

use crate::Settings;
use crate::i18n::{Lang, Tr};
use crate::layout::datetime_de;
pub use transport::{Delivery, MailConfig, redact_url};

/// How the worker paces itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timing {
    /// The first wait after a temporary failure; doubled with each further one, at
    /// most 60 times as long.
    pub retry_base: Duration,
    /// How long a claim holds a mail; a node that dies while sending releases its mails
    /// when this runs out. Far above one SMTP conversation's timeout (30 s).
    pub lease: Duration,
    /// How often the worker looks for due mails without being woken (retries, and mails
    /// queued on other nodes).
    pub poll: Duration,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            retry_base: Duration::from_secs(60),
            lease: Duration::from_secs(300),
            poll: Duration::from_secs(5),
        }
    }
}

impl Timing {
    /// A test hook, like `KONVENT_TEST_DROP_PUBLISH`: with `KONVENT_TEST_MAIL_SECONDS=n`
    /// retries start after n seconds, leases last 10 n seconds and the worker looks
    /// every n seconds, so that the tests need not wait minutes. Not for production.
    pub fn from_env() -> Self {
        match std::env::var("KONVENT_TEST_MAIL_SECONDS")
            .ok()
            .and_then(|n| n.parse::<u64>().ok())
            .filter(|n| *n > 0)
        {
            Some(n) => {
                tracing::warn!(seconds = n, "test hook: mail retries and leases shortened");
                Self {
                    retry_base: Duration::from_secs(n),
                    lease: Duration::from_secs(10 * n),
                    poll: Duration::from_secs(n),
                }
            }
            None => Self::default(),
        }
    }
}

/// The mail side of the application state: how mails leave, and the bell that wakes
/// this node's worker.
pub struct Outbox {
    /// The checked settings, or why they are unusable (the binary checks them before
    /// it starts; a library user who skipped that gets no sending and this message on
    /// the admin page and in the log).
    pub config: Result<MailConfig, String>,
    pub timing: Timing,
    wake: Notify,
    /// The domain of Message-IDs: the sender's.
    domain: String,
}

impl Outbox {
    pub fn new(settings: &Settings) -> Self {
        let config = MailConfig::from_settings(settings);
        if let Err(e) = &config {
            tracing::error!(error = %e, "mail settings unusable: no mail is sent");
        }
        let domain = config
            .as_ref()
            .ok()
            .map(|c| c.from.email.domain().to_owned())
            .unwrap_or_else(|| "konvent.invalid".to_owned());
        Self {
            config,
            timing: Timing::from_env(),
            wake: Notify::new(),
            domain,
        }
    }

    /// Tells this node's worker that a mail was queued. A wake-up while the worker is
    /// busy is kept for when it next waits, never lost.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(crate) async fn woken(&self) {
        self.wake.notified().await;
    }

    /// A new Message-ID: random, in the sender's domain. It stays with the mail through
    /// every attempt.
    pub fn new_message_id(&self) -> String {
        format!("<{}@{}>", &konvent_store::new_token()[..32], self.domain)
    }

    /// The domain of Message-IDs and calendar UIDs: the sender's.
    pub fn domain(&self) -> &str {
        &self.domain
    }

    /// The sender, as organizer of calendar entries.
    pub(crate) fn organizer(&self) -> crate::ics::Person {
        match &self.config {
            Ok(c) => crate::ics::Person {
                name: c.from.name.clone().unwrap_or_default(),
                email: c.from.email.to_string(),
            },
            Err(_) => crate::ics::Person {
                name: "konvent".to_owned(),
                email: format!("noreply@{}", self.domain),
            },
        }
    }

    /// Whether mails go to files instead of a mail server.
    pub fn writes_files(&self) -> Option<&std::path::Path> {
        match &self.config {
            Ok(MailConfig {
                delivery: Delivery::Files(dir),
                ..
            }) => Some(dir),
            _ => None,
        }
    }
}

/// The texts of a mail that carries one single-use link.
pub struct LinkMail {
    pub lang: &'static str,
    pub subject: String,
    pub greeting: String,
    pub lead: String,
    pub action: String,
    pub link: String,
    pub expires: String,
    pub ignore: String,
    pub footer: String,
}

#[derive(Template)]
#[template(path = "mail/link.txt")]
struct LinkText<'a> {
    m: &'a LinkMail,
}

#[derive(Template)]
#[template(path = "mail/link.html")]
struct LinkHtml<'a> {
    m: &'a LinkMail,
}

/// What a link mail is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// Creates an account (a new address).
    Invitation,
    /// Signs an existing account in (the address has one already).
    SignIn,
}

impl LinkKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Invitation => "invitation",
            Self::SignIn => "sign_in",
        }
    }
}

/// A single-use link to mail.
#[derive(Debug, Clone, Copy)]
pub struct Link<'a> {
    pub kind: LinkKind,
    /// The recipient's language.
    pub lang: Lang,
    pub recipient: &'a str,
    /// Who sends it (the admin's name).
    pub inviter: &'a str,
    pub url: &'a str,
    pub expires_at: i64,
}

/// The mail that carries `link`, rendered and ready to queue.
pub fn link_mail(
    outbox: &Outbox,
    settings: &Settings,
    link: &Link<'_>,
) -> Result<NewMail, askama::Error> {
    let Link {
        kind,
        lang,
        recipient,
        inviter,
        url,
        expires_at,
    } = *link;
    let t = Tr::new(lang);
    let prefix = match kind {
        LinkKind::Invitation => "mail-invitation",
        LinkKind::SignIn => "mail-sign-in",
    };
    let m = LinkMail {
        lang: lang.code(),
        subject: t.get(&format!("{prefix}-subject")),
        greeting: t.get("mail-greeting"),
        lead: t.with(&format!("{prefix}-lead"), &[("inviter", inviter)]),
        action: t.get(&format!("{prefix}-action")),
        link: url.to_owned(),
        expires: t.with(
            "mail-link-expires",
            &[("until", datetime_de(expires_at).as_str())],
        ),
        ignore: t.get("mail-link-ignore"),
        footer: t.with("mail-footer", &[("base", settings.public_base().as_str())]),
    };
    Ok(NewMail {
        message_id: outbox.new_message_id(),
        kind: kind.as_str().to_owned(),
        recipient: recipient.to_owned(),
        language: lang.code().to_owned(),
        subject: m.subject.clone(),
        body_text: LinkText { m: &m }.render()?,
        body_html: LinkHtml { m: &m }.render()?,
        calendar: None,
    })
}

/// A mail of `kind` in the layout of a link mail (greeting, lead, one action with its
/// link, a closing line), optionally with a calendar entry.
pub fn composed_mail(
    outbox: &Outbox,
    kind: &str,
    recipient: &str,
    m: &LinkMail,
    calendar: Option<konvent_store::CalendarPart>,
) -> Result<NewMail, askama::Error> {
    Ok(NewMail {
        message_id: outbox.new_message_id(),
        kind: kind.to_owned(),
        recipient: recipient.to_owned(),
        language: m.lang.to_owned(),
        subject: m.subject.clone(),
        body_text: LinkText { m }.render()?,
        body_html: LinkHtml { m }.render()?,
        calendar,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn outbox() -> Outbox {
        Outbox::new(&Settings {
            mail_from: "konvent <noreply@fitko.example>".into(),
            ..Settings::default()
        })
    }

    #[test]
    fn an_invitation_reads_in_the_recipients_language_with_its_link_escaped() {
        let settings = Settings {
            public_url: "https://konvent.example".into(),
            ..Settings::default()
        };
        let link = "https://konvent.example/einladung/abc?x=<1>&y=2";
        let mut l = Link {
            kind: LinkKind::Invitation,
            lang: Lang::De,
            recipient: "a@b.example",
            inviter: "Eva <Admin>",
            url: link,
            expires_at: 0,
        };
        let de = link_mail(&outbox(), &settings, &l).expect("renders");
        assert!(de.subject.contains("Einladung"), "{}", de.subject);
        assert!(de.body_text.contains(link), "{}", de.body_text);
        assert!(de.body_text.contains("Eva <Admin>"), "{}", de.body_text);
        assert!(
            de.body_html.contains("Eva &#60;Admin&#62;")
                || de.body_html.contains("Eva &lt;Admin&gt;")
        );
        assert!(!de.body_html.contains("<1>"), "the link is escaped in HTML");
        assert!(de.body_html.contains("lang=\"de\""));
        assert!(!de.body_html.contains("<img"), "no images");
        assert!(
            de.message_id.ends_with("@fitko.example>"),
            "{}",
            de.message_id
        );
        l.kind = LinkKind::SignIn;
        l.lang = Lang::En;
        let en = link_mail(&outbox(), &settings, &l).expect("renders");
        assert!(en.subject.contains("sign-in"), "{}", en.subject);
        assert!(en.body_html.contains("lang=\"en\""));
        assert_eq!(en.kind, "sign_in");
        assert_ne!(de.message_id, en.message_id);
    }
}
