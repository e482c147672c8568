//! Every URL of konvent in one table. German paths for pages (they are what people
//! see and bookmark), English for the JSON API.

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use tower_http::trace::TraceLayer;

use crate::documents;
use crate::error::AppError;
use crate::{
    AppState, accounts, assets, council, ctx, directory, events, invitations, layout, legal, live,
    mail, metrics, networking, notifications, oidc, pages, session, strategy,
};

pub fn router(state: AppState) -> Router {
    let body_limit = state.settings.max_body_bytes;
    // A document's file plus the form around it (title, token, part headers).
    let document_limit = DefaultBodyLimit::max(state.settings.max_document_bytes + 64 * 1024);
    Router::new()
        // The three areas.
        .route("/", get(pages::home))
        // What a public body must offer (A4, issue 21), linked from every page's footer.
        .route("/barrierefreiheit", get(legal::statement))
        .route("/barrierefreiheit/meldung", post(legal::feedback::submit))
        .route("/impressum", get(legal::imprint))
        .route("/datenschutz", get(legal::privacy))
        .route("/leichte-sprache", get(legal::easy))
        .route("/gebaerdensprache/video", get(legal::sign_language_file))
        .route("/konto/daten", get(legal::export::page))
        .route("/konto/daten.json", get(legal::export::json))
        .route("/admin/aufbewahrung", get(legal::retention::page))
        .route(
            "/konto/loeschen",
            get(legal::deletion::page).post(legal::deletion::request),
        )
        .route("/admin/loeschantraege", get(legal::deletion::list))
        .route(
            "/admin/loeschantraege/{id}/loeschen",
            post(legal::deletion::confirm),
        )
        // The live convention (K1–K7, K12–K15).
        .route("/konvent", get(events::list))
        .route("/konvent/{event}", get(events::lobby::lobby))
        .route("/konvent/{event}/live", get(live::socket::upgrade))
        .route("/konvent/{event}/anmelden", post(events::lobby::register))
        // Registration through the public form, and the organizers' list (issue 18).
        .route(
            "/konvent/{event}/anmeldung",
            get(events::registration::form::form).post(events::registration::form::submit),
        )
        .route(
            "/konvent/{event}/anmeldung/bestaetigen/{token}",
            get(events::registration::links::confirm_form)
                .post(events::registration::links::confirm),
        )
        .route(
            "/konvent/{event}/anmeldung/stornieren/{token}",
            get(events::registration::links::cancel_form).post(events::registration::links::cancel),
        )
        .route(
            "/konvent/{event}/anmeldungen",
            get(events::registration::list::list),
        )
        .route(
            "/konvent/{event}/anmeldungen/einstellungen",
            post(events::registration::list::save_settings),
        )
        .route(
            "/konvent/{event}/anmeldungen/export.csv",
            get(events::registration::list::export_csv),
        )
        .route(
            "/konvent/{event}/anmeldungen/{id}/zulassen",
            post(events::registration::list::approve),
        )
        .route(
            "/konvent/{event}/anmeldungen/{id}/ablehnen",
            post(events::registration::list::decline),
        )
        .route("/konvent/{event}/aktion", post(events::commands::action))
        .route(
            "/konvent/{event}/raeume",
            post(events::organize::create_room),
        )
        .route("/konvent/{event}/raeume/{room}", get(events::room::room))
        .route(
            "/konvent/{event}/raeume/{room}/video",
            get(events::video::video),
        )
        .route(
            "/konvent/{event}/organisation",
            get(events::organize::organize),
        )
        .route("/konvent/{event}/moderation", get(events::moderation::page))
        .route("/konvent/{event}/fragen", get(events::questions::questions))
        .route(
            "/konvent/{event}/nachrichten",
            get(events::messages::messages),
        )
        .route(
            "/konvent/{event}/feedback",
            get(events::feedback::feedback_form).post(events::feedback::submit_feedback),
        )
        .route(
            "/konvent/{event}/feedback/freigabe",
            post(events::feedback::toggle_feedback),
        )
        .route(
            "/konvent/{event}/feedback/ergebnisse",
            get(events::feedback::feedback_results),
        )
        // Networking (K15+): profiles, who is here, contacts.
        .route(
            "/konvent/{event}/profil",
            get(networking::event_profile).post(networking::save_event_profile),
        )
        .route("/konvent/{event}/teilnehmende", get(networking::people))
        // Pseudonymous participation (issue 21).
        .route(
            "/konvent/{event}/pseudonym",
            get(events::pseudonym::show).post(events::pseudonym::save),
        )
        .route(
            "/konvent/{event}/pseudonym/einstellung",
            post(events::pseudonym::setting),
        )
        .route(
            "/konvent/{event}/teilnehmende/liste",
            get(networking::people_fragment),
        )
        .route("/konvent/{event}/kontakte", get(networking::contacts::page))
        .route(
            "/konvent/{event}/kontakte/anfrage",
            post(networking::contacts::request),
        )
        .route(
            "/konvent/{event}/kontakte/sperren",
            post(networking::contacts::block),
        )
        .route(
            "/konvent/{event}/kontakte/{id}/antwort",
            post(networking::contacts::answer),
        )
        .route(
            "/konto/profil",
            get(networking::own_profile).post(networking::save_own_profile),
        )
        .route("/konto/kontakte.vcf", get(networking::contacts::vcard))
        // One's contacts outside any event: requests from "Meine Ergebnisse" have none.
        .route("/konto/kontakte", get(networking::contacts::own_page))
        .route(
            "/konto/kontakte/sperren",
            post(networking::contacts::block_own),
        )
        .route(
            "/konto/kontakte/{id}/antwort",
            post(networking::contacts::answer_own),
        )
        .route(
            "/meine-ergebnisse/gruppen/{id}/termin",
            post(networking::groups::propose_meeting),
        )
        .route(
            "/meine-ergebnisse/gruppen/{id}/raum",
            post(networking::groups::set_room),
        )
        .route(
            "/konto/kontakte/anfrage",
            post(networking::contacts::request_peer),
        )
        .route(
            "/meine-ergebnisse/gruppen",
            post(networking::groups::start_group),
        )
        .route("/konvent/{event}/cafe", get(events::cafe::cafe))
        .route("/konvent/{event}/cafe/platz", post(events::cafe::seat))
        .route(
            "/konvent/{event}/cafe/runden",
            post(events::cafe::create_round),
        )
        .route(
            "/konvent/{event}/cafe/tische/{table}",
            get(events::cafe::table),
        )
        .route("/konvent/{event}/pinnwand", get(events::cafe::pinboard))
        .route("/konvent/{event}/karte", get(events::map::map_page))
        .route("/konvent/{event}/karte.json", get(events::map::map_json))
        .route("/konvent/{event}/karte/gehen", post(events::map::goto))
        .route("/konvent/{event}/karte/import", post(events::map::import))
        .route("/konvent/{event}/karte/standard", post(events::map::reset))
        .route("/konvent/{event}/podium", get(events::podium::podium))
        .route(
            "/konvent/{event}/podium/titel",
            post(events::podium::name_group),
        )
        .route(
            "/konvent/{event}/ergebnisse.md",
            get(events::results::export_md),
        )
        .route(
            "/konvent/{event}/ergebnisse.csv",
            get(events::results::export_csv),
        )
        .route(
            "/konvent/{event}/ergebnisse.pdf",
            get(events::results::export_pdf),
        )
        // The strategy process (S1–S4, K16).
        .route("/suche", get(crate::search::page))
        .route("/strategie", get(strategy::topics))
        .route("/strategie/themen/{slug}", get(strategy::topic))
        .route(
            "/strategie/themen/{slug}/konsolidierung",
            get(strategy::consolidation::show).post(strategy::consolidation::step),
        )
        .route("/strategie/folgen", post(strategy::follow))
        .route("/strategie/anknuepfungspunkte", get(strategy::points))
        .route("/meine-ergebnisse", get(strategy::mine))
        .route("/gremien", get(pages::gremien))
        // Directory of conferences (G1, G2).
        .route("/gremien/konferenzen", get(directory::conferences))
        .route(
            "/gremien/konferenzen/neu",
            get(directory::edit::conferences::new_conference)
                .post(directory::edit::conferences::create_conference),
        )
        .route("/gremien/konferenzen/{abbr}", get(directory::conference))
        .route(
            "/gremien/konferenzen/{abbr}/bearbeiten",
            get(directory::edit::conferences::edit_conference)
                .post(directory::edit::conferences::update_conference),
        )
        .route(
            "/gremien/konferenzen/{abbr}/rollen/neu",
            get(directory::edit::assignments::new_assignment)
                .post(directory::edit::assignments::create_assignment),
        )
        .route(
            "/gremien/konferenzen/{abbr}/protokoll",
            get(directory::audit::audit),
        )
        .route(
            "/gremien/rollen/{id}/bearbeiten",
            get(directory::edit::assignments::edit_assignment)
                .post(directory::edit::assignments::update_assignment),
        )
        .route(
            "/gremien/rollen/{id}/beenden",
            get(directory::edit::assignments::end_assignment_form)
                .post(directory::edit::assignments::end_assignment),
        )
        .route("/gremien/personen", get(directory::persons))
        .route(
            "/gremien/personen/neu",
            get(directory::edit::persons::new_person).post(directory::edit::persons::create_person),
        )
        .route("/gremien/personen/{id}", get(directory::person))
        .route(
            "/gremien/personen/{id}/bearbeiten",
            get(directory::edit::persons::edit_person)
                .post(directory::edit::persons::update_person),
        )
        .route(
            "/gremien/import",
            get(directory::transfer::form).post(directory::transfer::upload),
        )
        .route(
            "/gremien/verzeichnis.csv",
            get(directory::transfer::export_csv),
        )
        .route(
            "/gremien/verzeichnis.xlsx",
            get(directory::transfer::export_xlsx),
        )
        // Council sessions, resolutions, reports, follow-up meetings (G4–G6).
        .route("/gremien/sitzungen", get(council::sessions))
        .route(
            "/gremien/sitzungen/neu",
            get(council::edit::new_session).post(council::edit::create_session),
        )
        .route("/gremien/sitzungen/{n}", get(council::session))
        .route(
            "/gremien/sitzungen/{n}/bearbeiten",
            get(council::edit::edit_session).post(council::edit::update_session),
        )
        .route(
            "/gremien/sitzungen/{n}/tagesordnung",
            post(council::edit::add_agenda_item),
        )
        .route(
            "/gremien/sitzungen/{n}/tagesordnung/{item}/verschieben",
            post(council::edit::move_agenda_item),
        )
        .route(
            "/gremien/sitzungen/{n}/tagesordnung/{item}/entfernen",
            get(council::edit::remove_agenda_item_form).post(council::edit::remove_agenda_item),
        )
        .route(
            "/gremien/sitzungen/{n}/berichte/{abbr}",
            get(council::reports::report_form).post(council::reports::save_report),
        )
        .route(
            "/gremien/sitzungen/{n}/berichte/{abbr}/kein-austausch",
            post(council::reports::no_exchange),
        )
        .route(
            "/gremien/sitzungen/{n}/nachbesprechung/bearbeiten",
            get(council::edit::edit_follow_up).post(council::edit::update_follow_up),
        )
        .route(
            "/gremien/sitzungen/{n}/nachbesprechung/bestaetigen",
            post(council::edit::confirm_follow_up),
        )
        .route(
            "/gremien/sitzungen/{n}/kalender.ics",
            get(council::feeds::session),
        )
        .route(
            "/gremien/sitzungen/{n}/nachbesprechung.ics",
            get(council::feeds::follow_up),
        )
        .route("/gremien/nachbesprechungen", get(council::follow_ups))
        // The council's votes (G9).
        .route("/gremien/stimmen", get(council::seats::setup))
        .route("/gremien/stimmen/sitze", post(council::seats::assign_seat))
        .route(
            "/gremien/stimmen/sitze/{account}/entfernen",
            post(council::seats::unassign_seat),
        )
        .route(
            "/gremien/stimmen/schluessel",
            post(council::seats::save_key),
        )
        .route(
            "/gremien/sitzungen/{n}/abstimmungen",
            post(council::votes::open_vote),
        )
        .route(
            "/gremien/sitzungen/{n}/live",
            get(council::votes_live::session_socket),
        )
        .route(
            "/gremien/umlaufverfahren",
            get(council::written::written).post(council::written::start),
        )
        .route(
            "/gremien/umlaufverfahren/live",
            get(council::votes_live::written_socket),
        )
        .route(
            "/gremien/abstimmungen/{id}/stimme",
            post(council::votes::cast_ballot),
        )
        .route(
            "/gremien/abstimmungen/{id}/schliessen",
            post(council::votes::close_vote),
        )
        .route(
            "/gremien/sitzungen/{number}/anwesenheit",
            post(council::attendance::record),
        )
        .route(
            "/gremien/sitzungen/{number}/anwesenheit/{account}/entfernen",
            post(council::attendance::remove),
        )
        // The minutes of a session (G11): the office generates, edits, finalises and
        // releases them; members read the released versions.
        .route(
            "/gremien/sitzungen/{number}/niederschrift",
            get(council::minutes::show::show),
        )
        .route(
            "/gremien/sitzungen/{number}/niederschrift/erzeugen",
            post(council::minutes::edit::generate),
        )
        .route(
            "/gremien/sitzungen/{number}/niederschrift/bearbeiten",
            get(council::minutes::edit::edit).post(council::minutes::edit::save),
        )
        .route(
            "/gremien/sitzungen/{number}/niederschrift/abschliessen",
            post(council::minutes::edit::finalise),
        )
        .route(
            "/gremien/sitzungen/{number}/niederschrift/freigeben",
            post(council::minutes::edit::release),
        )
        .route(
            "/gremien/sitzungen/{number}/niederschrift/fassungen/{version}",
            get(council::minutes::show::show_version),
        )
        .route(
            "/gremien/sitzungen/{number}/niederschrift/fassungen/{version}/niederschrift.pdf",
            get(council::minutes::pdf::pdf),
        )
        .route(
            "/gremien/abstimmungen/{id}/abbruch-antrag",
            post(council::written::request_stop),
        )
        .route(
            "/gremien/abstimmungen/{id}/abbrechen",
            post(council::written::stop),
        )
        .route(
            "/gremien/abstimmungen/{id}/fortsetzen",
            post(council::written::resume),
        )
        .route(
            "/gremien/beschluesse",
            get(council::resolutions::resolutions),
        )
        .route(
            "/gremien/beschluesse/neu",
            get(council::resolutions::new_resolution).post(council::resolutions::create_resolution),
        )
        .route(
            "/gremien/beschluesse/{year}/{nn}",
            get(council::resolutions::resolution),
        )
        .route(
            "/gremien/beschluesse/{year}/{nn}/bearbeiten",
            get(council::resolutions::edit_resolution)
                .post(council::resolutions::update_resolution),
        )
        .route("/calendar.ics", get(council::feeds::all))
        .route(
            "/gremien/aufgaben",
            get(council::cooperation::duties::duties),
        )
        .route(
            "/gremien/aufgaben/{id}/erledigt",
            post(council::cooperation::duties::set_duty_done),
        )
        .route(
            "/gremien/anliegen",
            get(council::cooperation::concerns::concerns),
        )
        .route(
            "/gremien/anliegen/neu",
            get(council::cooperation::concerns::new_concern)
                .post(council::cooperation::concerns::submit_concern),
        )
        .route(
            "/gremien/anliegen/{id}",
            get(council::cooperation::concerns::concern)
                .post(council::cooperation::concerns::triage_concern),
        )
        // Meeting invitations as calendar entries (issue 18).
        .route(
            "/gremien/sitzungen/{id}/einladungen",
            post(council::invitations::send_for_session),
        )
        .route(
            "/gremien/sitzungen/{id}/nachbesprechung/einladungen",
            post(council::invitations::send_for_follow_up),
        )
        .route(
            "/gremien/workshops",
            get(council::cooperation::workshops::workshops),
        )
        .route(
            "/gremien/workshops/{id}",
            get(council::cooperation::workshops::workshop),
        )
        .route(
            "/gremien/workshops/{id}/ergebnisse.md",
            get(council::cooperation::workshops::export_workshop),
        )
        .route(
            "/gremien/workshops/{id}/fragen/{question}/ergebnisse",
            post(council::cooperation::workshops::add_work_result),
        )
        // Signing in and out.
        .route(
            "/anmelden",
            get(session::password::sign_in_form).post(session::password::sign_in),
        )
        .route("/abmelden", post(session::sign_out))
        // Single sign-on (issue 19).
        .route(
            "/anmelden/oidc/{id}",
            get(oidc::start).post(oidc::start_link),
        )
        .route("/anmelden/oidc/{id}/zurueck", get(oidc::callback))
        .route(
            "/oidc/{id}/backchannel-logout",
            post(oidc::logout::backchannel_logout),
        )
        .route(
            "/admin/anmeldung",
            get(session::local_passwords::admin_sign_in_form)
                .post(session::local_passwords::admin_sign_in_switch),
        )
        .route(
            "/anmelden/link/{token}",
            get(session::link::link_form).post(session::link::link_sign_in),
        )
        .route(
            "/einladung/{token}",
            get(session::invitation::invitation_form).post(session::invitation::accept_invitation),
        )
        .route("/sprache/{lang}", get(session::language::switch_language))
        // Accounts (admins).
        .route("/admin/konten", get(accounts::list))
        .route("/admin/konten/einladen", post(accounts::invite))
        .route("/admin/konten/{id}/rollen", post(accounts::add_grant))
        .route(
            "/admin/konten/{id}/rollen/entfernen",
            post(accounts::remove_grant),
        )
        .route("/admin/konten/{id}/sperren", post(accounts::set_disabled))
        .route("/admin/konten/{id}/verbinden", post(accounts::allow_link))
        // Reminders and notifications: what a person's mails are and which they get.
        .route(
            "/konto/benachrichtigungen",
            get(notifications::preferences).post(notifications::save_preferences),
        )
        // The mail outbox (admins).
        .route("/admin/mails", get(mail::admin::list))
        .route("/admin/mails/{id}/erneut-senden", post(mail::admin::resend))
        // Bulk invitations (admins; an event's organizers for their event).
        .route(
            "/admin/einladungen",
            get(invitations::upload::admin_form).post(invitations::upload::admin_upload),
        )
        .route(
            "/konvent/{event}/einladungen",
            get(invitations::upload::event_form).post(invitations::upload::event_upload),
        )
        .route("/einladungen/{id}", get(invitations::progress))
        // JSON API.
        .route("/api/v1/openapi.json", get(directory::api::openapi))
        .route("/api/v1/conferences", get(directory::api::conferences))
        .route(
            "/api/v1/conferences/{abbr}",
            get(directory::api::conference),
        )
        .route("/api/v1/persons/{id}", get(directory::api::person))
        .route("/api/v1/sessions", get(council::api::sessions))
        .route("/api/v1/sessions/{n}", get(council::api::session))
        .route("/api/v1/resolutions", get(council::api::resolutions))
        .route("/api/v1/search", get(crate::search::api))
        .route(
            "/api/v1/resolutions/{year}/{number}",
            get(council::api::resolution),
        )
        // Documents (G12): files of agenda items, resolutions, target pictures, workshops.
        .route(
            "/dokumente/neu/{kind}/{id}",
            get(documents::upload::new_form)
                .post(documents::upload::upload)
                .layer(document_limit),
        )
        .route("/dokumente/{id}", get(documents::download::download))
        .route(
            "/dokumente/{id}/versionen/{version}",
            get(documents::download::download_version),
        )
        .route(
            "/dokumente/{id}/ersetzen",
            get(documents::upload::replace_form)
                .post(documents::upload::replace)
                .layer(document_limit),
        )
        .route(
            "/dokumente/{id}/loeschen",
            get(documents::delete::delete_form).post(documents::delete::delete),
        )
        .route(
            "/api/v1/documents/{kind}/{id}",
            get(documents::api::api_list),
        )
        .route(
            "/api/v1/events/{event}/people",
            get(networking::api::people),
        )
        .route("/api/v1/contacts", get(networking::api::contacts))
        .route("/api/v1/contact-requests", get(networking::api::requests))
        // Operations.
        .route("/healthz", get(metrics::health))
        .route("/metrics", get(metrics::render))
        .route("/static/{version}/{name}", get(assets::serve))
        .merge(crate::oparl::routes())
        .fallback(async || AppError::NotFound)
        .route_layer(from_fn_with_state(state.clone(), metrics::track))
        .layer(from_fn(layout::error_pages))
        .layer(from_fn_with_state(state.clone(), ctx::context))
        .layer(from_fn_with_state(state.clone(), layout::security_headers))
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(TraceLayer::new_for_http())
        .with_state(state)
}
