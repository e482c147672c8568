//! How mails leave konvent: over SMTP with lettre, or, without `smtp_url`, as `.eml`
//! files in `data_dir/outbox-files/`. Parses the mail settings and tells a temporary
//! failure (try again later) from a refusal (give up, with the server's reason).
//!
//! `smtp_url` schemes, chosen so that the short form is the safe one:
//! - `smtp://[user:pass@]host[:port]`: STARTTLS, required (port 587 unless given);
//! - `smtps://[user:pass@]host[:port]`: TLS from the first byte (port 465);
//! - `smtp://host[:port]?tls=none`: no TLS, for a relay on this machine or network
//!   (port 25); a password is refused there, it would travel in clear text.
//!
//! The SMTP connection is kept open between mails ([`Connection`]: one per node, since
//! the node's worker sends one mail at a time; closed with QUIT after [`POOL_IDLE`]
//! without a mail, tested with NOOP before reuse): a list of thousands of invitations costs one
//! TCP and TLS handshake and one login, not one per mail. konvent opens the socket
//! itself with `TCP_NODELAY`: lettre 0.11.23 writes a message's closing `.` apart from
//! its body and leaves Nagle's algorithm on, so every mail waited 40 ms for the server's
//! delayed ACK (20 mails a second; BENCHMARKS.md, issue 18). With `smtps://` (TLS from
//! the first byte) lettre opens the socket, and that wait stays.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lettre::Message;
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Attachment, Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, DEFAULT_MECHANISMS};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;

use konvent_store::{CalendarPart, ClaimedMail};

use crate::Settings;

/// How long one SMTP conversation may take; well below the worker's lease.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);
/// How long an open connection waits for the next mail before it is closed (mail
/// servers close idle clients after a few minutes; RFC 5321 § 4.5.3.2.7).
pub const POOL_IDLE: Duration = Duration::from_secs(60);

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Security {
    StartTls,
    Tls,
    Plain,
}

/// A parsed `smtp_url`.
#[derive(Clone, PartialEq, Eq)]
pub struct SmtpServer {
    pub host: String,
    pub port: u16,
    pub security: Security,
    pub credentials: Option<(String, String)>,
    /// Further root certificates (PEM, from `smtp_ca_file`).
    pub roots: Option<Vec<u8>>,
}

impl fmt::Debug for SmtpServer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpServer")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("user", &self.credentials.as_ref().map(|(u, _)| u))
            .finish_non_exhaustive()
    }
}

impl SmtpServer {
    pub fn parse(text: &str) -> Result<Self, String> {
        let url = url::Url::parse(text).map_err(|e| format!("smtp_url is not a URL: {e}"))?;
        let mut tls_none = false;
        for (key, value) in url.query_pairs() {
            match (key.as_ref(), value.as_ref()) {
                ("tls", "none") => tls_none = true,
                _ => {
                    return Err(format!(
                        "smtp_url: unknown parameter {key}={value} (only tls=none is known)"
                    ));
                }
            }
        }
        let (security, default_port) = match (url.scheme(), tls_none) {
            ("smtp", false) => (Security::StartTls, 587),
            ("smtp", true) => (Security::Plain, 25),
            ("smtps", false) => (Security::Tls, 465),
            ("smtps", true) => {
                return Err("smtp_url: smtps:// is always TLS; tls=none contradicts it".into());
            }
            (scheme, _) => {
                return Err(format!(
                    "smtp_url must start with smtp:// or smtps://, not {scheme}://"
                ));
            }
        };
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or("smtp_url names no host")?
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned();
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(s)
                .decode_utf8()
                .map(|c| c.into_owned())
                .map_err(|_| "smtp_url: the user name or password is not UTF-8".to_owned())
        };
        let credentials = match (url.username(), url.password()) {
            ("", None) => None,
            (user, Some(password)) => Some((decode(user)?, decode(password)?)),
            (_, None) => return Err("smtp_url names a user but no password".into()),
        };
        if security == Security::Plain && credentials.is_some() {
            return Err(
                "smtp_url: a password is not sent without TLS (drop tls=none or the password)"
                    .into(),
            );
        }
        Ok(Self {
            host,
            port: url.port().unwrap_or(default_port),
            security,
            credentials,
            roots: None,
        })
    }

    fn tls(&self) -> Result<Tls, String> {
        let tls = |host: &str| {
            let mut builder = TlsParameters::builder(host.to_owned());
            if let Some(pem) = &self.roots {
                let roots = Certificate::from_pem(pem)
                    .map_err(|e| format!("smtp_ca_file holds no usable certificate: {e}"))?;
                builder = builder.add_root_certificate(roots);
            }
            builder
                .build_rustls()
                .map_err(|e| format!("TLS set-up failed: {e}"))
        };
        Ok(match self.security {
            Security::StartTls => Tls::Required(tls(&self.host)?),
            Security::Tls => Tls::Wrapper(tls(&self.host)?),
            Security::Plain => Tls::None,
        })
    }

    /// A new connection: greeted, TLS as configured, logged in.
    async fn connect(&self) -> Result<AsyncSmtpConnection, Outcome> {
        let hello = ClientId::default();
        let tls = self.tls().map_err(Outcome::Retry)?;
        let mut connection = match &tls {
            Tls::Wrapper(parameters) => AsyncSmtpConnection::connect_tokio1(
                (self.host.as_str(), self.port),
                Some(SMTP_TIMEOUT),
                &hello,
                Some(parameters.clone()),
                None,
            )
            .await
            .map_err(outcome)?,
            _ => {
                let unreachable = |e: std::io::Error| {
                    Outcome::Retry(format!(
                        "the mail server {}:{} cannot be reached: {e}",
                        self.host, self.port
                    ))
                };
                let socket = tokio::net::TcpStream::connect((self.host.as_str(), self.port))
                    .await
                    .map_err(unreachable)?;
                socket.set_nodelay(true).map_err(unreachable)?;
                AsyncSmtpConnection::connect_with_transport(Box::new(socket), &hello)
                    .await
                    .map_err(outcome)?
            }
        };
        if let Tls::Required(parameters) = &tls {
            connection
                .starttls(parameters.clone(), &hello)
                .await
                .map_err(outcome)?;
        }
        if let Some((user, password)) = &self.credentials {
            connection
                .auth(
                    DEFAULT_MECHANISMS,
                    &Credentials::new(user.clone(), password.clone()),
                )
                .await
                .map_err(outcome)?;
        }
        Ok(connection)
    }
}

/// The node's open SMTP connection and when it last carried a mail.
#[derive(Default)]
pub struct Connection {
    open: tokio::sync::Mutex<Option<(AsyncSmtpConnection, Instant)>>,
    /// A task closes the connection once it sat idle for [`POOL_IDLE`].
    closing: AtomicBool,
}

impl Connection {
    /// Sends one mail over the open connection (after a NOOP shows it still works), or
    /// over a new one.
    async fn send(self: &Arc<Self>, server: &SmtpServer, message: &Message) -> Outcome {
        let mut open = self.open.lock().await;
        let reused = match open.take() {
            Some((mut c, used)) => {
                if used.elapsed() < POOL_IDLE && c.test_connected().await {
                    Some(c)
                } else {
                    c.abort().await;
                    None
                }
            }
            None => None,
        };
        let mut connection = match reused {
            Some(c) => c,
            None => match server.connect().await {
                Ok(c) => c,
                Err(outcome) => return outcome,
            },
        };
        let sent = connection
            .send(message.envelope(), &message.formatted())
            .await;
        if !connection.has_broken() {
            *open = Some((connection, Instant::now()));
            self.close_when_idle();
        }
        match sent {
            Ok(_) => Outcome::Sent,
            Err(e) => outcome(e),
        }
    }

    /// Starts the task that says QUIT to the open connection once no mail used it for
    /// [`POOL_IDLE`] (one task at a time).
    fn close_when_idle(self: &Arc<Self>) {
        if self.closing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = Arc::downgrade(self);
        tokio::spawn(async move {
            let mut wait = POOL_IDLE;
            loop {
                tokio::time::sleep(wait).await;
                let Some(this) = this.upgrade() else { return };
                let mut open = this.open.lock().await;
                match open.as_ref().map(|(_, used)| used.elapsed()) {
                    Some(idle) if idle < POOL_IDLE => wait = POOL_IDLE - idle,
                    _ => {
                        if let Some((mut connection, _)) = open.take() {
                            let _ = tokio::time::timeout(SMTP_TIMEOUT, connection.quit()).await;
                        }
                        this.closing.store(false, Ordering::Release);
                        return;
                    }
                }
            }
        });
    }
}

/// A refusal for good (5xx) or a reason to try again later.
fn outcome(e: lettre::transport::smtp::Error) -> Outcome {
    if e.is_permanent() {
        Outcome::Failed(e.to_string())
    } else {
        Outcome::Retry(e.to_string())
    }
}

/// `smtp_url` for logs and `Debug`: the password replaced.
pub fn redact_url(text: &str) -> String {
    if text.is_empty() {
        return String::new();
    }
    match url::Url::parse(text) {
        Ok(mut url) => {
            if url.password().is_some() {
                let _ = url.set_password(Some("[redacted]"));
            }
            url.to_string()
        }
        Err(_) => "[unparsable]".to_owned(),
    }
}

/// Where mails go.
pub enum Delivery {
    Smtp {
        server: SmtpServer,
        /// The open connection (none before the first mail).
        connection: Arc<Connection>,
    },
    /// No `smtp_url`: `.eml` files in this folder.
    Files(PathBuf),
}

/// The checked mail settings.
pub struct MailConfig {
    pub from: Mailbox,
    pub delivery: Delivery,
}

impl MailConfig {
    pub fn from_settings(settings: &Settings) -> Result<Self, String> {
        let from: Mailbox = settings.mail_from.parse().map_err(|e| {
            format!(
                "mail_from {:?} is not a mailbox such as \"konvent <noreply@example.org>\": {e}",
                settings.mail_from
            )
        })?;
        let delivery = if settings.smtp_url.is_empty() {
            Delivery::Files(settings.data_dir.join("outbox-files"))
        } else {
            let mut server = SmtpServer::parse(&settings.smtp_url)?;
            if !settings.smtp_ca_file.is_empty() {
                let pem = std::fs::read(&settings.smtp_ca_file).map_err(|e| {
                    format!(
                        "smtp_ca_file {:?} cannot be read: {e}",
                        settings.smtp_ca_file
                    )
                })?;
                if !pem.windows(27).any(|w| w == b"-----BEGIN CERTIFICATE-----") {
                    return Err(format!(
                        "smtp_ca_file {:?} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                        settings.smtp_ca_file
                    ));
                }
                server.roots = Some(pem);
            }
            // Checked now, used at the first mail.
            server.tls()?;
            Delivery::Smtp {
                server,
                connection: Arc::default(),
            }
        };
        Ok(Self { from, delivery })
    }
}

/// What became of one attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Try again later: the server was unreachable or answered 4xx.
    Retry(String),
    /// Refused for good (5xx, or a recipient that is no address): the reason.
    Failed(String),
}

impl MailConfig {
    /// One attempt at delivering `mail`.
    pub async fn deliver(&self, mail: &ClaimedMail) -> Outcome {
        let message = match self.message(mail) {
            Ok(message) => message,
            Err(reason) => return Outcome::Failed(reason),
        };
        match &self.delivery {
            Delivery::Smtp { server, connection } => {
                match tokio::time::timeout(SMTP_TIMEOUT, connection.send(server, &message)).await {
                    Ok(outcome) => outcome,
                    Err(_) => Outcome::Retry(format!(
                        "the mail server did not finish within {} s",
                        SMTP_TIMEOUT.as_secs()
                    )),
                }
            }
            Delivery::Files(dir) => match write_eml(dir, mail.id.get(), &message.formatted()).await
            {
                Ok(()) => Outcome::Sent,
                Err(e) => Outcome::Retry(format!("cannot write to {}: {e}", dir.display())),
            },
        }
    }

    pub(crate) fn message(&self, mail: &ClaimedMail) -> Result<Message, String> {
        let to: Mailbox = mail
            .recipient
            .parse()
            .map_err(|e| format!("the recipient {:?} is no address: {e}", mail.recipient))?;
        let builder = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject.clone())
            .message_id(Some(mail.message_id.clone()))
            .date_now();
        let body = match mail.calendar() {
            None => {
                MultiPart::alternative_plain_html(mail.body_text.clone(), mail.body_html.clone())
            }
            Some(calendar) => with_calendar(mail, &calendar)?,
        };
        builder
            .multipart(body)
            .map_err(|e| format!("the mail could not be built: {e}"))
    }
}

/// A mail with a calendar entry, laid out as Outlook and Thunderbird expect an iMIP
/// message (RFC 6047 §2.4): `multipart/mixed` holding a `multipart/alternative` of text,
/// HTML and `text/calendar; method=…` (which the mail program shows as an invitation
/// with its buttons), and the same object again as an `.ics` attachment for programs
/// that only offer attachments. The calendar parts are base64: their CRLF line ends and
/// folded lines arrive exactly as written.
fn with_calendar(mail: &ClaimedMail, calendar: &CalendarPart) -> Result<MultiPart, String> {
    let method = match calendar.method.as_str() {
        m @ ("REQUEST" | "CANCEL" | "PUBLISH") => m,
        other => return Err(format!("unknown calendar method {other:?}")),
    };
    let inline = ContentType::parse(&format!("text/calendar; method={method}; charset=UTF-8"))
        .map_err(|e| format!("calendar content type: {e}"))?;
    let attached =
        ContentType::parse("application/ics").map_err(|e| format!("calendar content type: {e}"))?;
    let body = || Body::new_with_encoding(calendar.ics.clone(), ContentTransferEncoding::Base64);
    let file = match method {
        "CANCEL" => "cancel.ics",
        _ => "invite.ics",
    };
    let alternative = MultiPart::alternative()
        .singlepart(SinglePart::plain(mail.body_text.clone()))
        .singlepart(SinglePart::html(mail.body_html.clone()))
        .singlepart(
            SinglePart::builder()
                .header(inline)
                .body(body().map_err(|_| "the calendar part cannot be encoded".to_owned())?),
        );
    let attachment = Attachment::new(file.to_owned()).body(
        body().map_err(|_| "the calendar part cannot be encoded".to_owned())?,
        attached,
    );
    Ok(MultiPart::mixed()
        .multipart(alternative)
        .singlepart(attachment))
}

/// Writes `bytes` as `DIR/mail-ID.eml`, whole or not at all (a temporary file renamed),
/// so that a second attempt after a crash replaces the file instead of adding one.
async fn write_eml(dir: &Path, id: i64, bytes: &[u8]) -> std::io::Result<()> {
    tokio::fs::create_dir_all(dir).await?;
    let path = dir.join(format!("mail-{id:08}.eml"));
    let partial = dir.join(format!(".mail-{id:08}.eml.partial"));
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, &path).await
}

#[cfg(test)]
mod tests {
    use super::*;
    use konvent_core::ids::MailId;

    #[test]
    fn smtp_urls_say_how_the_server_is_reached() {
        let s = SmtpServer::parse("smtp://konvent:ge%40heim@mail.example.org").expect("ok");
        assert_eq!(s.security, Security::StartTls);
        assert_eq!(s.port, 587);
        assert_eq!(
            s.credentials,
            Some(("konvent".to_owned(), "ge@heim".to_owned()))
        );
        let s = SmtpServer::parse("smtps://u:p@mail.example.org").expect("ok");
        assert_eq!((s.security, s.port), (Security::Tls, 465));
        let s = SmtpServer::parse("smtp://127.0.0.1:2525?tls=none").expect("ok");
        assert_eq!((s.security, s.port), (Security::Plain, 2525));
        assert_eq!(s.credentials, None);
        let s = SmtpServer::parse("smtp://[::1]?tls=none").expect("ok");
        assert_eq!((s.host.as_str(), s.port), ("::1", 25));
    }

    #[test]
    fn unclear_or_unsafe_smtp_urls_are_refused_with_a_reason() {
        for (url, says) in [
            ("http://mail.example.org", "smtp://"),
            ("smtp://u:p@127.0.0.1?tls=none", "password"),
            ("smtps://mail.example.org?tls=none", "contradicts"),
            ("smtp://mail.example.org?tls=maybe", "tls=none"),
            ("smtp://user@mail.example.org", "no password"),
            ("mail.example.org", "URL"),
        ] {
            let e = SmtpServer::parse(url).expect_err(url);
            assert!(e.contains(says), "{url}: {e}");
        }
    }

    #[test]
    fn a_mail_with_a_calendar_entry_is_an_imip_message() {
        let config = MailConfig::from_settings(&Settings {
            mail_from: "konvent <noreply@konvent.example>".into(),
            ..Settings::default()
        })
        .expect("config");
        let ics = "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n";
        let mail = ClaimedMail {
            id: MailId::new(1),
            message_id: "<1@konvent.example>".into(),
            recipient: "eva@example.org".into(),
            subject: "Einladung".into(),
            body_text: "Text".into(),
            body_html: "<p>HTML</p>".into(),
            attempts: 1,
            calendar_method: Some("REQUEST".into()),
            calendar_ics: Some(ics.into()),
        };
        let raw =
            String::from_utf8(config.message(&mail).expect("built").formatted()).expect("ASCII");
        let mixed = raw.find("multipart/mixed").expect("mixed");
        let alternative = raw.find("multipart/alternative").expect("alternative");
        let inline = raw.find("Content-Type: text/calendar").expect("{raw}");
        let header = raw[inline..].lines().next().unwrap_or_default();
        assert!(
            header.contains("method=REQUEST") || header.contains("method=\"REQUEST\""),
            "{header}"
        );
        let attachment = raw.find("filename=\"invite.ics\"").expect("the attachment");
        assert!(
            mixed < alternative && alternative < inline && inline < attachment,
            "{raw}"
        );
        use base64::Engine;
        let encoded = base64::engine::general_purpose::STANDARD.encode(ics);
        assert_eq!(raw.matches(&encoded).count(), 2, "CRLF kept, twice: {raw}");

        let odd = ClaimedMail {
            calendar_method: Some("REPLY\r\nX: y".into()),
            ..mail
        };
        assert!(
            config.message(&odd).is_err(),
            "an unknown method is refused"
        );
    }

    #[test]
    fn an_authority_file_must_exist_and_hold_a_certificate() {
        let dir = std::env::temp_dir().join(format!("konvent-ca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let not_pem = dir.join("not.pem");
        std::fs::write(&not_pem, "kein Zertifikat").expect("file");
        for (path, says) in [
            (dir.join("missing.pem"), "cannot be read"),
            (not_pem, "holds no PEM certificate"),
        ] {
            let settings = Settings {
                smtp_url: "smtp://mail.example.org".into(),
                smtp_ca_file: path.to_string_lossy().into_owned(),
                ..Settings::default()
            };
            let Err(message) = MailConfig::from_settings(&settings) else {
                panic!("{path:?} accepted");
            };
            assert!(message.contains(says), "{message}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn the_password_never_shows() {
        let s = SmtpServer::parse("smtp://konvent:geheim@mail.example.org").expect("ok");
        assert!(!format!("{s:?}").contains("geheim"));
        let shown = redact_url("smtp://konvent:geheim@mail.example.org:587");
        assert!(!shown.contains("geheim"), "{shown}");
        assert!(shown.contains("mail.example.org:587"), "{shown}");
    }
}
