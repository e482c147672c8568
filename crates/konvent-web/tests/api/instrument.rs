//! The spans of handlers and store methods (issue 17, "`#[instrument]` on every handler
//! and store method with the ids as fields"): a request opens a span for its handler
//! with the path's ids and the signed-in account's id as fields, the store's methods
//! open theirs inside it, and no field carries what identifies a person beyond an id —
//! no e-mail address, no name, no session token, nothing typed into a form.
//!
//! The spans are recorded by a layer installed for the test's thread only
//! ([`tracing::subscriber::set_default`]): the test runs on tokio's current-thread
//! runtime, so the server it spawns creates its spans on this thread too, and the
//! process's global subscriber (the statement counter, where another test installed it)
//! stays as it is.

use std::fmt::Debug;
use std::sync::{Arc, Mutex};

use konvent_core::authz::{Grant, Role, Scope};
use konvent_core::demo;
use konvent_store::EventRole;
use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id, Record};
use tracing::{Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

use crate::helpers::spawn_app;
use crate::leaks::user_with;

const EVENT: &str = "/konvent/strategiekonvent-2025";

/// One span as it was opened, with the fields recorded on it since.
#[derive(Debug, Clone)]
struct Recorded {
    name: String,
    target: String,
    fields: Vec<(String, String)>,
}

impl Recorded {
    fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Records every span opened while it is the thread's subscriber.
#[derive(Clone, Default)]
struct SpanRecorder {
    spans: Arc<Mutex<Vec<Recorded>>>,
}

/// Where a span's record sits in [`SpanRecorder::spans`].
struct Index(usize);

impl SpanRecorder {
    fn take(&self) -> Vec<Recorded> {
        std::mem::take(&mut *self.spans.lock().expect("recorder"))
    }
}

impl<S> Layer<S> for SpanRecorder
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        metadata.is_span()
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        let mut spans = self.spans.lock().expect("recorder");
        spans.push(Recorded {
            name: attrs.metadata().name().to_owned(),
            target: attrs.metadata().target().to_owned(),
            fields: fields.0,
        });
        if let Some(span) = ctx.span(id) {
            span.extensions_mut().insert(Index(spans.len() - 1));
        }
    }

    fn on_record(&self, id: &Id, values: &Record<'_>, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        let Some(i) = span.extensions().get::<Index>().map(|i| i.0) else {
            return;
        };
        let mut fields = Fields::default();
        values.record(&mut fields);
        if let Some(recorded) = self.spans.lock().expect("recorder").get_mut(i) {
            recorded.fields.extend(fields.0);
        }
    }
}

/// Every field of a span, its value as `Debug` prints it.
#[derive(Default)]
struct Fields(Vec<(String, String)>);

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        self.0.push((field.name().to_owned(), value.to_owned()));
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        self.0.push((field.name().to_owned(), format!("{value:?}")));
    }
}

/// The session token in a test user's cookie.
fn session_token(cookie: &str) -> &str {
    cookie
        .split("konvent_session=")
        .nth(1)
        .expect("a signed-in user")
        .split(';')
        .next()
        .expect("token")
}

/// Lets every callsite be seen by this thread's recorder. tracing caches each callsite's
/// interest when a thread first meets it, and other tests' threads meet callsites (the
/// demo data's store methods, say) while this test installs its subscriber. Once, in a
/// full `cargo test` run, `set_pseudonym` went unrecorded here. The likely reason, not
/// reproduced: a callsite met in the instant the recorder was being installed kept the
/// interest it got without it. Rebuilding the cache takes every subscriber alive now into
/// account.
fn see_every_callsite() {
    tracing::callsite::rebuild_interest_cache();
}

#[tokio::test]
async fn handlers_and_store_methods_open_spans_with_ids_and_no_personal_data() {
    let app = spawn_app().await;
    let event = app.store.event(demo::KONVENT_SLUG).await.expect("event");
    let grant = Grant::new(Role::Participant, Scope::Global).expect("grant");
    let (id, anna) = user_with(&app, "Anna Echtname", &[grant]).await;
    app.store
        .add_to_event(event.id, id, EventRole::Participant)
        .await
        .expect("registered");
    let email = "anna.echtname@test.example";
    let token = session_token(&anna.cookie).to_owned();

    let recorder = SpanRecorder::default();
    let _guard =
        tracing::subscriber::set_default(tracing_subscriber::registry().with(recorder.clone()));

    // The lobby: the handler's span carries the event's slug and the account's id, and
    // the store's spans open inside the request.
    see_every_callsite();
    let (status, _) = anna.get_text(EVENT).await;
    assert_eq!(status, 200);
    let spans = recorder.take();
    let lobby = spans
        .iter()
        .find(|s| s.name == "lobby" && s.target == "konvent_web::events::lobby")
        .unwrap_or_else(|| panic!("a span for the lobby's handler: {spans:#?}"));
    assert_eq!(lobby.field("slug"), Some(demo::KONVENT_SLUG), "{lobby:?}");
    assert_eq!(
        lobby.field("account"),
        Some(id.to_string().as_str()),
        "{lobby:?}"
    );
    assert!(
        spans
            .iter()
            .any(|s| s.name == "signed_in" && s.target.starts_with("konvent_store")),
        "the store's span for the session: {spans:#?}"
    );
    let mut all = spans;

    // A room: both slugs.
    see_every_callsite();
    let (status, _) = anna.get_text(&format!("{EVENT}/raeume/plenum")).await;
    assert_eq!(status, 200);
    let spans = recorder.take();
    let room = spans
        .iter()
        .find(|s| s.name == "room" && s.target == "konvent_web::events::room")
        .unwrap_or_else(|| panic!("a span for the room's handler: {spans:#?}"));
    assert_eq!(room.field("slug"), Some(demo::KONVENT_SLUG), "{room:?}");
    assert_eq!(room.field("room"), Some("plenum"), "{room:?}");
    all.extend(spans);

    // A form with a text typed in: the handler's and the store's spans have the ids,
    // not the text.
    see_every_callsite();
    let r = anna
        .post(
            &format!("{EVENT}/pseudonym"),
            &[("pseudonym", "Nachtfalter"), ("action", "save")],
        )
        .await;
    assert!(r.status().is_redirection(), "{}", r.status());
    let spans = recorder.take();
    let save = spans
        .iter()
        .find(|s| s.name == "set_pseudonym" && s.target.starts_with("konvent_store"))
        .unwrap_or_else(|| panic!("a span for the store's method: {spans:#?}"));
    assert_eq!(save.field("event_id"), Some(event.id.to_string().as_str()));
    assert_eq!(save.field("account_id"), Some(id.to_string().as_str()));
    all.extend(spans);

    for span in &all {
        for (name, value) in &span.fields {
            for personal in [email, "Anna Echtname", "Nachtfalter", token.as_str()] {
                assert!(
                    !value.contains(personal),
                    "{}::{} records {name} = {value:?}",
                    span.target,
                    span.name
                );
            }
        }
    }
}
