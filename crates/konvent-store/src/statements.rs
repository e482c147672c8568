//! Counts the SQL statements the store runs, so that tests can hold a page to a fixed
//! number of statements whatever the size of the data (no query per row).
//!
//! sqlx reports every statement it runs as a `tracing` event with the target
//! `sqlx::query`, on both backends and inside transactions alike; on SQLite the event
//! comes from the connection's worker thread, which enters the caller's span first. A
//! [`StatementCounter`] is a `tracing` layer that counts those events, in total and per
//! root span: for the server that is the span `TraceLayer` opens for each request, so a
//! request's count holds exactly its own statements, not those of background tasks.
//!
//! Transaction control (`BEGIN`, `COMMIT`, `ROLLBACK`, savepoints) is not counted: sqlx
//! reports it on PostgreSQL but not on SQLite, and the same code should count the same
//! on both.
//!
//! Counting needs the events, so the counter is installed as the process's global
//! subscriber ([`StatementCounter::install`]); the server itself never installs it.

use std::fmt::Debug;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use tracing::field::{Field, Visit};
use tracing::span::{Attributes, Id};
use tracing::subscriber::Interest;
use tracing::{Event, Metadata, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use tracing_subscriber::registry::LookupSpan;

/// The target under which sqlx reports the statements it runs.
const TARGET: &str = "sqlx::query";

/// Counts the statements sqlx reports (see the module's documentation).
#[derive(Clone, Default)]
pub struct StatementCounter {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    total: AtomicU64,
    finished: Mutex<Vec<Finished>>,
}

/// A root span that ended (for the server: a request answered), with the statements run
/// inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finished {
    /// The span's name (`request` for `TraceLayer`'s spans).
    pub name: String,
    /// Its `method` and `uri` fields, where it has them (empty otherwise).
    pub method: String,
    pub uri: String,
    pub statements: u64,
}

/// What a root span carries while it is open.
struct Open {
    method: String,
    uri: String,
    statements: u64,
}

impl StatementCounter {
    /// The process's counter, installed as the global subscriber on first use.
    ///
    /// # Panics
    /// When another global subscriber was installed before: the counter would see nothing.
    pub fn install() -> &'static StatementCounter {
        static COUNTER: OnceLock<StatementCounter> = OnceLock::new();
        COUNTER.get_or_init(|| {
            let counter = StatementCounter::default();
            let subscriber = tracing_subscriber::registry().with(counter.clone());
            #[allow(clippy::expect_used)] // a test set-up that cannot count must stop
            tracing::subscriber::set_global_default(subscriber)
                .expect("no other global tracing subscriber is installed");
            counter
        })
    }

    /// Statements counted so far, in every span and outside any.
    pub fn total(&self) -> u64 {
        self.inner.total.load(Ordering::Relaxed)
    }

    /// The root spans that ended so far with a `uri` field (requests), oldest first.
    pub fn finished(&self) -> Vec<Finished> {
        self.inner
            .finished
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The statements of the last finished root span with this `method` and `uri`.
    pub fn last(&self, method: &str, uri: &str) -> Option<u64> {
        self.inner
            .finished
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .rev()
            .find(|f| f.method == method && f.uri == uri)
            .map(|f| f.statements)
    }

    /// Forgets the finished spans recorded so far.
    pub fn clear(&self) {
        self.inner
            .finished
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .clear();
    }

    fn wanted(metadata: &Metadata<'_>) -> bool {
        metadata.is_span() || metadata.target() == TARGET
    }
}

impl<S> Layer<S> for StatementCounter
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    fn register_callsite(&self, metadata: &'static Metadata<'static>) -> Interest {
        if Self::wanted(metadata) {
            Interest::always()
        } else {
            Interest::never()
        }
    }

    fn enabled(&self, metadata: &Metadata<'_>, _ctx: Context<'_, S>) -> bool {
        Self::wanted(metadata)
    }

    fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(id) else { return };
        if span.parent().is_some() {
            return;
        }
        let mut fields = Fields::default();
        attrs.record(&mut fields);
        span.extensions_mut().insert(Open {
            method: fields.method,
            uri: fields.uri,
            statements: 0,
        });
    }

    fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
        if event.metadata().target() != TARGET {
            return;
        }
        let mut fields = Fields::default();
        event.record(&mut fields);
        if is_transaction_control(&fields.summary) {
            return;
        }
        self.inner.total.fetch_add(1, Ordering::Relaxed);
        if let Some(root) = ctx.event_scope(event).and_then(|s| s.from_root().next())
            && let Some(open) = root.extensions_mut().get_mut::<Open>()
        {
            open.statements += 1;
        }
    }

    fn on_close(&self, id: Id, ctx: Context<'_, S>) {
        let Some(span) = ctx.span(&id) else { return };
        let Some(open) = span.extensions_mut().remove::<Open>() else {
            return;
        };
        if open.uri.is_empty() {
            return;
        }
        self.inner
            .finished
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Finished {
                name: span.name().to_owned(),
                method: open.method,
                uri: open.uri,
                statements: open.statements,
            });
    }
}

/// `BEGIN`, `COMMIT`, `ROLLBACK` and savepoints, by the summary sqlx logs (the
/// statement's first words).
fn is_transaction_control(summary: &str) -> bool {
    let first = summary
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .trim_matches(|c| c == '"' || c == ';')
        .to_ascii_uppercase();
    matches!(
        first.as_str(),
        "BEGIN" | "COMMIT" | "END" | "ROLLBACK" | "SAVEPOINT" | "RELEASE"
    )
}

/// The fields read from spans (`method`, `uri`) and from sqlx's events (`summary`).
#[derive(Default)]
struct Fields {
    method: String,
    uri: String,
    summary: String,
}

impl Visit for Fields {
    fn record_str(&mut self, field: &Field, value: &str) {
        match field.name() {
            "method" => self.method = value.to_owned(),
            "uri" => self.uri = value.to_owned(),
            "summary" => self.summary = value.to_owned(),
            _ => {}
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn Debug) {
        if matches!(field.name(), "method" | "uri" | "summary") {
            self.record_str(field, &format!("{value:?}"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transaction_control_is_told_from_statements() {
        for control in [
            "BEGIN",
            "BEGIN IMMEDIATE",
            "commit",
            "\"ROLLBACK\"",
            "SAVEPOINT s1",
        ] {
            assert!(is_transaction_control(control), "{control}");
        }
        for statement in ["SELECT 1", "INSERT INTO begin_x", "UPDATE a SET b = 1", ""] {
            assert!(!is_transaction_control(statement), "{statement}");
        }
    }
}
