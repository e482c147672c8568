//! The building blocks of the OParl output: the object kinds with their URL segments and
//! type URLs, the URLs of objects and lists, timestamps in Europe/Berlin, and [`Item`],
//! one served object together with the times the list filters look at.

use std::fmt::Display;
use std::sync::OnceLock;

use jiff::civil::{Date, Time};
use jiff::tz::TimeZone;
use serde_json::{Map, Value};

/// The namespace of the OParl 1.1 types; also the value of `oparlVersion`.
pub const SCHEMA: &str = "https://schema.oparl.org/1.1/";

/// The path under which everything is served.
pub const PREFIX: &str = "/oparl/v1";

/// The one body of this system: the IT-Planungsrat.
pub const BODY_KEY: &str = "1";

/// The object types konvent serves (System is served on its own).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Body,
    Organization,
    Person,
    Membership,
    Meeting,
    AgendaItem,
    Paper,
    Consultation,
    File,
    Location,
    LegislativeTerm,
}

impl Kind {
    const ALL: [Kind; 11] = [
        Self::Body,
        Self::Organization,
        Self::Person,
        Self::Membership,
        Self::Meeting,
        Self::AgendaItem,
        Self::Paper,
        Self::Consultation,
        Self::File,
        Self::Location,
        Self::LegislativeTerm,
    ];

    /// The type name as in the schema, e.g. `AgendaItem`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Body => "Body",
            Self::Organization => "Organization",
            Self::Person => "Person",
            Self::Membership => "Membership",
            Self::Meeting => "Meeting",
            Self::AgendaItem => "AgendaItem",
            Self::Paper => "Paper",
            Self::Consultation => "Consultation",
            Self::File => "File",
            Self::Location => "Location",
            Self::LegislativeTerm => "LegislativeTerm",
        }
    }

    /// The URL segment of objects and lists of this kind, e.g. `agendaitem`.
    pub fn segment(self) -> &'static str {
        match self {
            Self::Body => "body",
            Self::Organization => "organization",
            Self::Person => "person",
            Self::Membership => "membership",
            Self::Meeting => "meeting",
            Self::AgendaItem => "agendaitem",
            Self::Paper => "paper",
            Self::Consultation => "consultation",
            Self::File => "file",
            Self::Location => "location",
            Self::LegislativeTerm => "legislativeterm",
        }
    }

    pub fn from_segment(segment: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.segment() == segment)
    }

    pub fn type_url(self) -> String {
        format!("{SCHEMA}{}", self.name())
    }
}

/// Where things are: `site` is the server's base (`http://host:port`), `api` the OParl
/// base below it.
#[derive(Debug, Clone)]
pub struct Urls {
    pub site: String,
    pub api: String,
}

impl Urls {
    pub fn new(site: &str) -> Self {
        let site = site.trim_end_matches('/').to_owned();
        Self {
            api: format!("{site}{PREFIX}"),
            site,
        }
    }

    pub fn system(&self) -> String {
        format!("{}/system", self.api)
    }

    pub fn bodies(&self) -> String {
        format!("{}/bodies", self.api)
    }

    pub fn body(&self) -> String {
        self.object(Kind::Body, BODY_KEY)
    }

    /// The external list of the body holding all objects of `kind`.
    pub fn list(&self, kind: Kind) -> String {
        format!("{}/{}", self.body(), kind.segment())
    }

    pub fn object(&self, kind: Kind, key: impl Display) -> String {
        format!("{}/{}/{key}", self.api, kind.segment())
    }

    /// A page of konvent's own web interface.
    pub fn web(&self, path: &str) -> String {
        format!("{}{path}", self.site)
    }
}

/// One object as served, with its creation and modification time (Unix microseconds)
/// for the list filters.
#[derive(Debug, Clone)]
pub struct Item {
    pub id: String,
    pub created: i64,
    pub modified: i64,
    pub deleted: bool,
    pub json: Value,
}

/// Builds the JSON of one object; absent optional values are left out, not `null`.
#[derive(Debug, Clone)]
pub struct Obj(Map<String, Value>);

impl Obj {
    pub fn new(kind: Kind, id: &str) -> Self {
        let mut map = Map::new();
        map.insert("id".into(), Value::String(id.to_owned()));
        map.insert("type".into(), Value::String(kind.type_url()));
        Self(map)
    }

    pub fn set(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.0.insert(key.to_owned(), value.into());
        self
    }

    pub fn opt<V: Into<Value>>(self, key: &str, value: Option<V>) -> Self {
        match value {
            Some(v) => self.set(key, v),
            None => self,
        }
    }

    /// Sets an array only when it has elements.
    pub fn list(self, key: &str, values: Vec<Value>) -> Self {
        if values.is_empty() {
            self
        } else {
            self.set(key, values)
        }
    }

    /// Sets `created` and `modified` and turns the object into an [`Item`].
    pub fn item(self, created: i64, modified: i64) -> Item {
        let json = self
            .set("created", datetime(created))
            .set("modified", datetime(modified.max(created)))
            .0;
        Item {
            id: json
                .get("id")
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned(),
            created,
            modified: modified.max(created),
            deleted: false,
            json: Value::Object(json),
        }
    }
}

/// German local time. The system's time zone database is used when it has
/// Europe/Berlin; otherwise the same rules written as a POSIX TZ string.
fn berlin() -> &'static TimeZone {
    static TZ: OnceLock<TimeZone> = OnceLock::new();
    TZ.get_or_init(|| {
        TimeZone::get("Europe/Berlin")
            .or_else(|_| TimeZone::posix("CET-1CEST,M3.5.0,M10.5.0/3"))
            .unwrap_or(TimeZone::UTC)
    })
}

const FORMAT: &str = "%Y-%m-%dT%H:%M:%S%:z";

/// A stored timestamp as ISO 8601 with the German offset, whole seconds:
/// `2025-03-26T10:00:00+01:00`.
pub fn datetime(micros: i64) -> String {
    konvent_store::timestamp(micros)
        .to_zoned(berlin().clone())
        .strftime(FORMAT)
        .to_string()
}

/// A German wall-clock time on a day, with its offset.
pub fn local(date: Date, time: Time) -> String {
    match date.to_datetime(time).to_zoned(berlin().clone()) {
        Ok(z) => z.strftime(FORMAT).to_string(),
        // Unreachable for real dates; a floating time is still better than nothing.
        Err(_) => date
            .to_datetime(time)
            .strftime("%Y-%m-%dT%H:%M:%S")
            .to_string(),
    }
}

/// The latest of several modification times.
pub fn latest(times: impl IntoIterator<Item = i64>) -> i64 {
    times.into_iter().max().unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_carry_the_german_offset() {
        // 2025-03-26 09:00 UTC is 10:00 CET; 2025-06-26 08:00 UTC is 10:00 CEST.
        assert_eq!(datetime(1_742_979_600_000_000), "2025-03-26T10:00:00+01:00");
        assert_eq!(datetime(1_750_924_800_000_000), "2025-06-26T10:00:00+02:00");
        let date: Date = "2025-06-26".parse().expect("date");
        let time: Time = "16:00".parse().expect("time");
        assert_eq!(local(date, time), "2025-06-26T16:00:00+02:00");
    }

    #[test]
    fn urls_are_built_below_the_prefix() {
        let urls = Urls::new("http://example.org/");
        assert_eq!(urls.system(), "http://example.org/oparl/v1/system");
        assert_eq!(
            urls.list(Kind::AgendaItem),
            "http://example.org/oparl/v1/body/1/agendaitem"
        );
        assert_eq!(
            urls.object(Kind::Meeting, "follow-up-3"),
            "http://example.org/oparl/v1/meeting/follow-up-3"
        );
        assert_eq!(Kind::from_segment("paper"), Some(Kind::Paper));
        assert_eq!(Kind::from_segment("system"), None);
    }

    #[test]
    fn absent_values_are_left_out() {
        let item = Obj::new(Kind::Location, "http://x/oparl/v1/location/1")
            .opt::<String>("description", None)
            .list("meetings", vec![])
            .item(0, 0);
        let map = item.json.as_object().expect("object");
        assert!(!map.contains_key("description"));
        assert!(!map.contains_key("meetings"));
        assert_eq!(item.id, "http://x/oparl/v1/location/1");
        assert_eq!(map["type"], "https://schema.oparl.org/1.1/Location");
    }
}
