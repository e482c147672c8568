//! The mails of reminders and notifications: one template (text and HTML) for every
//! kind, in the recipient's language, with a link to what the mail is about and, in
//! the footer, a link to the page where the person turns such mails off.

use askama::Template;
use konvent_store::{NewMail, Notice, NoticeTopic};

use crate::Settings;
use crate::i18n::{Lang, Tr};
use crate::layout::{date_de, datetime_de};
use crate::mail::Outbox;

/// Where a person turns reminders and notifications off.
pub const PREFERENCES_PATH: &str = "/konto/benachrichtigungen";

/// The texts of a reminder or notification.
pub struct NoticeMail {
    pub lang: &'static str,
    pub subject: String,
    pub greeting: String,
    pub lead: String,
    /// Further lines: a task, an answer, the resolution a duty belongs to.
    pub details: Vec<String>,
    pub action: String,
    pub link: String,
    /// Why the person gets this mail and where to turn it off.
    pub why: String,
    pub opt_out: String,
    pub opt_out_link: String,
    pub footer: String,
}

#[derive(Template)]
#[template(path = "mail/notice.txt")]
struct NoticeText<'a> {
    m: &'a NoticeMail,
}

#[derive(Template)]
#[template(path = "mail/notice.html")]
struct NoticeHtml<'a> {
    m: &'a NoticeMail,
}

/// The mail of `notice`, rendered and ready to queue.
pub fn notice_mail(
    outbox: &Outbox,
    settings: &Settings,
    notice: &Notice,
) -> Result<NewMail, askama::Error> {
    let lang = Lang::parse(&notice.recipient.language).unwrap_or_default();
    let t = Tr::new(lang);
    let base = settings.public_base();
    let (subject, lead, mut details, path) = texts(&t, &notice.topic);
    details.retain(|line| !line.trim().is_empty());
    let prefix = format!("mail-{}", notice.kind.as_str().replace('_', "-"));
    let m = NoticeMail {
        lang: lang.code(),
        subject,
        greeting: t.get("mail-greeting"),
        lead,
        details,
        action: t.get(&format!("{prefix}-action")),
        link: format!("{base}{path}"),
        why: t.with(
            "mail-notice-why",
            &[(
                "kind",
                t.get(&format!(
                    "notice-kind-{}",
                    notice.kind.as_str().replace('_', "-")
                ))
                .as_str(),
            )],
        ),
        opt_out: t.get("mail-notice-opt-out"),
        opt_out_link: format!("{base}{PREFERENCES_PATH}"),
        footer: t.with("mail-footer", &[("base", base.as_str())]),
    };
    Ok(NewMail {
        message_id: outbox.new_message_id(),
        kind: notice.kind.as_str().to_owned(),
        recipient: notice.recipient.email.clone(),
        language: lang.code().to_owned(),
        subject: m.subject.clone(),
        body_text: NoticeText { m: &m }.render()?,
        body_html: NoticeHtml { m: &m }.render()?,
        calendar: None,
    })
}

/// The subject, the lead, further lines and the path of the link.
fn texts(t: &Tr, topic: &NoticeTopic) -> (String, String, Vec<String>, String) {
    match topic {
        NoticeTopic::Report {
            session_number,
            session_date,
            conference,
            conference_name,
        } => {
            let n = session_number.to_string();
            let date = date_de(session_date);
            (
                t.with(
                    "mail-report-due-subject",
                    &[("conference", conference), ("session", &n)],
                ),
                t.with(
                    "mail-report-due-lead",
                    &[
                        ("conference", conference_name),
                        ("session", &n),
                        ("date", &date),
                    ],
                ),
                Vec::new(),
                format!("/gremien/sitzungen/{session_number}/berichte/{conference}"),
            )
        }
        NoticeTopic::Duty {
            task,
            conference,
            conference_name,
            due_on,
            resolution,
            ..
        } => {
            let date = date_de(due_on);
            let mut details = vec![task.clone()];
            details.extend(resolution.as_ref().map(|r| {
                t.with(
                    "mail-duty-resolution",
                    &[("reference", &r.reference), ("title", &r.title)],
                )
            }));
            (
                t.with(
                    "mail-duty-due-subject",
                    &[("conference", conference), ("date", &date)],
                ),
                t.with(
                    "mail-duty-due-lead",
                    &[("conference", conference_name), ("date", &date)],
                ),
                details,
                "/gremien/aufgaben".to_owned(),
            )
        }
        NoticeTopic::Event {
            slug,
            title,
            starts_at,
        } => (
            t.with("mail-event-tomorrow-subject", &[("title", title)]),
            t.with(
                "mail-event-tomorrow-lead",
                &[("title", title), ("when", &datetime_de(*starts_at))],
            ),
            Vec::new(),
            format!("/konvent/{slug}"),
        ),
        NoticeTopic::ConcernAnswered {
            concern_id,
            title,
            conference,
            answer,
        } => (
            t.with("mail-concern-answered-subject", &[("title", title)]),
            t.with(
                "mail-concern-answered-lead",
                &[("title", title), ("conference", conference)],
            ),
            vec![answer.clone()],
            format!("/gremien/anliegen/{concern_id}"),
        ),
        NoticeTopic::DutiesAssigned {
            conference,
            conference_name,
            tasks,
            resolution,
        } => (
            t.with("mail-duty-assigned-subject", &[("conference", conference)]),
            t.with(
                "mail-duty-assigned-lead",
                &[
                    ("conference", conference_name),
                    ("count", &tasks.to_string()),
                ],
            ),
            vec![match resolution {
                Some(r) => t.with(
                    "mail-duty-resolution",
                    &[("reference", &r.reference), ("title", &r.title)],
                ),
                None => t.get("mail-duty-assigned-in-preparation"),
            }],
            "/gremien/aufgaben".to_owned(),
        ),
        NoticeTopic::ResolutionPublished {
            year,
            number,
            title,
            conferences,
        } => {
            let reference = format!("{year}/{number:02}");
            (
                t.with(
                    "mail-resolution-published-subject",
                    &[("reference", &reference), ("title", title)],
                ),
                t.with(
                    "mail-resolution-published-lead",
                    &[
                        ("reference", &reference),
                        ("title", title),
                        ("conferences", &conferences.join(", ")),
                    ],
                ),
                Vec::new(),
                format!("/gremien/beschluesse/{year}/{number:02}"),
            )
        }
        NoticeTopic::WrittenProcedure { vote_id, deadline } => {
            let when = datetime_de(*deadline);
            (
                t.get("mail-written-procedure-subject"),
                t.with("mail-written-procedure-lead", &[("deadline", &when)]),
                Vec::new(),
                format!("/gremien/umlaufverfahren#vote-{vote_id}"),
            )
        }
        NoticeTopic::StopRequested { vote_id, seat } => (
            t.get("mail-stop-requested-subject"),
            t.with("mail-stop-requested-lead", &[("seat", seat)]),
            Vec::new(),
            format!("/gremien/umlaufverfahren#vote-{vote_id}"),
        ),
        NoticeTopic::ProcedureStopped {
            session_number,
            session_date,
        } => (
            t.get("mail-procedure-stopped-subject"),
            t.with(
                "mail-procedure-stopped-lead",
                &[
                    ("number", &session_number.to_string()),
                    ("date", &date_de(session_date)),
                ],
            ),
            Vec::new(),
            format!("/gremien/sitzungen/{session_number}"),
        ),
        NoticeTopic::ProcedureContinued { vote_id, deadline } => (
            t.get("mail-procedure-continued-subject"),
            t.with(
                "mail-procedure-continued-lead",
                &[("deadline", &datetime_de(*deadline))],
            ),
            Vec::new(),
            format!("/gremien/umlaufverfahren#vote-{vote_id}"),
        ),
        NoticeTopic::MinutesReleased {
            session_number,
            version,
        } => {
            let args = [
                ("session", session_number.to_string()),
                ("version", version.to_string()),
            ];
            let args: Vec<(&str, &str)> = args.iter().map(|(k, v)| (*k, v.as_str())).collect();
            (
                t.with("mail-minutes-released-subject", &args),
                t.with("mail-minutes-released-lead", &args),
                Vec::new(),
                format!("/gremien/sitzungen/{session_number}/niederschrift/fassungen/{version}"),
            )
        }
    }
}

/// Renders notices for the store (inside its transaction); a mail that cannot be
/// written is logged and left out, never a reason to refuse the change.
pub fn renderer<'a>(
    outbox: &'a Outbox,
    settings: &'a Settings,
) -> impl Fn(&Notice) -> Option<NewMail> + Sync + 'a {
    move |notice| match notice_mail(outbox, settings, notice) {
        Ok(mail) => Some(mail),
        Err(e) => {
            tracing::error!(error = %e, kind = %notice.kind, "cannot write a notification mail");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use konvent_core::ids::AccountId;
    use konvent_core::notifications::NoticeKind;
    use konvent_store::{DutyResolution, Recipient};

    fn notice(language: &str, topic: NoticeTopic) -> Notice {
        Notice {
            kind: NoticeKind::DutyAssigned,
            recipient: Recipient {
                account_id: AccountId::new(1),
                email: "a@b.example".into(),
                name: "A".into(),
                language: language.into(),
            },
            topic,
        }
    }

    #[test]
    fn a_notification_links_back_and_to_its_opt_out_page_in_both_languages() {
        let settings = Settings {
            public_url: "https://konvent.example".into(),
            ..Settings::default()
        };
        let outbox = Outbox::new(&settings);
        let topic = NoticeTopic::DutiesAssigned {
            conference: "DMK".into(),
            conference_name: "Digitalministerkonferenz".into(),
            tasks: 7,
            resolution: Some(DutyResolution {
                reference: "2024/15".into(),
                title: "Föderale <Digitalstrategie>".into(),
            }),
        };
        let de = notice_mail(&outbox, &settings, &notice("de", topic.clone())).expect("renders");
        assert!(de.subject.contains("DMK"), "{}", de.subject);
        assert!(
            de.body_text
                .contains("https://konvent.example/gremien/aufgaben")
        );
        assert!(
            de.body_text
                .contains("https://konvent.example/konto/benachrichtigungen"),
            "{}",
            de.body_text
        );
        assert!(de.body_html.contains("/konto/benachrichtigungen"));
        assert!(!de.body_html.contains("<Digitalstrategie>"), "escaped");
        assert!(!de.body_html.contains("<img"));
        assert_eq!(de.language, "de");
        let en = notice_mail(&outbox, &settings, &notice("en", topic)).expect("renders");
        assert_ne!(de.subject, en.subject);
        assert!(en.body_html.contains("lang=\"en\""));
        assert_eq!(en.kind, "duty_assigned");
    }
    /// A sample topic for every kind of notice, so that a new kind without its texts
    /// fails here rather than mailing a message id.
    fn samples() -> Vec<(NoticeKind, NoticeTopic)> {
        let date = jiff::civil::date(2026, 3, 25);
        vec![
            (
                NoticeKind::ReportDue,
                NoticeTopic::Report {
                    session_number: 49,
                    session_date: date,
                    conference: "DMK".into(),
                    conference_name: "Digitalministerkonferenz".into(),
                },
            ),
            (
                NoticeKind::DutyDue,
                NoticeTopic::Duty {
                    duty_id: 1,
                    task: "Beschluss vorstellen".into(),
                    conference: "DMK".into(),
                    conference_name: "Digitalministerkonferenz".into(),
                    due_on: date,
                    resolution: None,
                },
            ),
            (
                NoticeKind::EventTomorrow,
                NoticeTopic::Event {
                    slug: "strategiekonvent-2025".into(),
                    title: "Strategiekonvent".into(),
                    starts_at: 1_700_000_000_000_000,
                },
            ),
            (
                NoticeKind::ConcernAnswered,
                NoticeTopic::ConcernAnswered {
                    concern_id: 1,
                    title: "Anliegen".into(),
                    conference: "DMK".into(),
                    answer: "Antwort".into(),
                },
            ),
            (
                NoticeKind::DutyAssigned,
                NoticeTopic::DutiesAssigned {
                    conference: "DMK".into(),
                    conference_name: "Digitalministerkonferenz".into(),
                    tasks: 2,
                    resolution: None,
                },
            ),
            (
                NoticeKind::ResolutionPublished,
                NoticeTopic::ResolutionPublished {
                    year: 2026,
                    number: 3,
                    title: "Beschluss".into(),
                    conferences: vec!["DMK".into()],
                },
            ),
            (
                NoticeKind::WrittenProcedure,
                NoticeTopic::WrittenProcedure {
                    vote_id: 7,
                    deadline: 1_700_000_000_000_000,
                },
            ),
            (
                NoticeKind::StopRequested,
                NoticeTopic::StopRequested {
                    vote_id: 7,
                    seat: "Hessen".into(),
                },
            ),
            (
                NoticeKind::ProcedureStopped,
                NoticeTopic::ProcedureStopped {
                    session_number: 49,
                    session_date: date,
                },
            ),
            (
                NoticeKind::ProcedureContinued,
                NoticeTopic::ProcedureContinued {
                    vote_id: 7,
                    deadline: 1_700_000_000_000_000,
                },
            ),
            (
                NoticeKind::MinutesReleased,
                NoticeTopic::MinutesReleased {
                    session_number: 46,
                    version: 2,
                },
            ),
        ]
    }

    #[test]
    fn every_kind_of_notice_has_its_texts_in_both_languages() {
        let settings = Settings::default();
        let outbox = Outbox::new(&settings);
        let samples = samples();
        let kinds: Vec<NoticeKind> = samples.iter().map(|(k, _)| *k).collect();
        assert_eq!(kinds, NoticeKind::ALL, "one sample per kind, in order");
        for (kind, topic) in samples {
            for lang in ["de", "en"] {
                let mut n = notice(lang, topic.clone());
                n.kind = kind;
                let mail = notice_mail(&outbox, &settings, &n).expect("renders");
                for text in [&mail.subject, &mail.body_text] {
                    let id = text
                        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
                        .find(|w| w.starts_with("mail-") || w.starts_with("notice-kind-"));
                    assert_eq!(id, None, "{kind} ({lang}) shows a message id: {text}");
                }
            }
        }
    }
}
