//! The minutes as shown: a version turned into headings, items and resolutions in the
//! reader's language, for the page and the PDF alike.

use konvent_core::gremien::majority::Seat;
use konvent_core::ids::AgendaItemId;
use konvent_store::{Minutes, MinutesResolution, Presence};

use super::state_label;
use crate::council::session_title;
use crate::i18n::Tr;
use crate::layout::datetime_de;

/// A resolution in the minutes, as shown.
pub struct ResolutionView {
    pub heading: String,
    pub kind: String,
    pub body_html: String,
    pub body: String,
    pub result: Option<(String, String)>,
}

pub struct ItemView {
    pub id: AgendaItemId,
    pub title: String,
    pub notes: String,
    pub resolutions: Vec<ResolutionView>,
}

/// One version of the minutes, as shown (and as the PDF is written).
pub struct View {
    pub title: String,
    pub date: String,
    pub version: i64,
    pub state: String,
    pub stamp: String,
    /// Seat, how it was there, who.
    pub seats: Vec<(String, String, String)>,
    /// Guests: name and conference.
    pub guests: Vec<String>,
    pub items: Vec<ItemView>,
    pub resolutions: Vec<ResolutionView>,
    /// Status label and the conferences with that status.
    pub reports: Vec<(String, String)>,
    pub remarks: String,
}

pub(super) fn resolution_view(t: &Tr, r: &MinutesResolution) -> ResolutionView {
    ResolutionView {
        heading: t.with(
            "resolution-heading",
            &[("number", &r.reference), ("title", &r.title)],
        ),
        kind: crate::council::votes::kind_label(t, r.kind),
        body_html: crate::markdown::to_html(&r.body),
        body: r.body.clone(),
        result: r.result.as_ref().map(|tally| {
            (
                crate::council::votes::result_line(t, tally),
                crate::council::votes::reading(t, tally),
            )
        }),
    }
}

pub(super) fn view(t: &Tr, date: String, m: &Minutes) -> View {
    let c = &m.content;
    let name = |a: &konvent_store::MinutesAttendee| {
        if a.name.is_empty() {
            t.get("minutes-unknown-person")
        } else {
            a.name.clone()
        }
    };
    let recorded = c
        .attendance
        .iter()
        .any(|a| matches!(a.presence, Presence::Member | Presence::Deputy));
    let seats = Seat::ALL
        .into_iter()
        .map(|seat| {
            let of = |p: Presence| {
                c.attendance
                    .iter()
                    .find(|a| a.seat == Some(seat) && a.presence == p)
            };
            let (how, who) = if let Some(a) = of(Presence::Member) {
                (t.get("attendance-present"), name(a))
            } else if let Some(a) = of(Presence::Deputy) {
                (t.get("attendance-role-deputy"), name(a))
            } else if let Some(a) = of(Presence::Apology) {
                (t.get("attendance-apologised"), name(a))
            } else if recorded {
                (t.get("attendance-absent"), "–".to_owned())
            } else {
                (t.get("minutes-not-recorded"), "–".to_owned())
            };
            (seat.name().to_owned(), how, who)
        })
        .collect();
    let guests = c
        .attendance
        .iter()
        .filter(|a| a.presence == Presence::Guest)
        .map(|a| format!("{} ({})", name(a), a.conference.clone().unwrap_or_default()))
        .collect();
    let reports = ["filed", "none", "open"]
        .into_iter()
        .map(|status| {
            let list: Vec<&str> = c
                .reports
                .iter()
                .filter(|r| r.status == status)
                .map(|r| r.conference.as_str())
                .collect();
            (
                t.get(&format!("report-status-{status}")),
                if list.is_empty() {
                    "–".to_owned()
                } else {
                    list.join(", ")
                },
            )
        })
        .collect();
    let stamp = match (m.released_at, m.finalised_at) {
        (Some(at), _) => t.with("minutes-released-at", &[("at", &datetime_de(at))]),
        (None, Some(at)) => t.with("minutes-finalised-at", &[("at", &datetime_de(at))]),
        _ => t.with(
            "minutes-modified-at",
            &[("at", &datetime_de(m.modified_at))],
        ),
    };
    View {
        title: t.with(
            "minutes-title",
            &[("session", &session_title(t, m.session_number))],
        ),
        date,
        version: m.version,
        state: state_label(t, m.state),
        stamp,
        seats,
        guests,
        items: c
            .items
            .iter()
            .map(|i| ItemView {
                id: i.agenda_item_id,
                title: i.title.clone(),
                notes: i.notes.clone(),
                resolutions: i
                    .resolutions
                    .iter()
                    .map(|r| resolution_view(t, r))
                    .collect(),
            })
            .collect(),
        resolutions: c
            .resolutions
            .iter()
            .map(|r| resolution_view(t, r))
            .collect(),
        reports,
        remarks: c.remarks.clone(),
    }
}
