//! External object lists (OParl 1.1, "Objektlisten und Paginierung"): the filters
//! `created_since`, `created_until`, `modified_since`, `modified_until` (full date-times
//! with offset), `omit_deleted`, the page size `elementsPerPage` (a wish the server caps)
//! and `page` (1-based); the answer is `{data, pagination, links}`, and every link keeps
//! the filters. The lists are small, so they are filtered and cut in memory.

use serde_json::{Value, json};

use super::model::Item;

/// The largest (and default) page.
pub const PAGE_SIZE: usize = 100;

/// A list request, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListQuery {
    /// Bounds in whole seconds, as the objects show their times.
    created_since: Option<i64>,
    created_until: Option<i64>,
    modified_since: Option<i64>,
    modified_until: Option<i64>,
    omit_deleted: bool,
    page: usize,
    per_page: usize,
    /// The parameters every page link repeats, in a fixed order.
    carried: Vec<(&'static str, String)>,
}

fn seconds(micros: i64) -> i64 {
    micros.div_euclid(1_000_000)
}

/// A date-time with offset, e.g. `2024-01-01T00:00:00+01:00`. A `+` that arrived
/// unencoded (and so became a space) is taken back.
fn parse_time(name: &str, value: &str) -> Result<i64, String> {
    let text = value.trim().replace(' ', "+");
    text.parse::<jiff::Timestamp>()
        .map(|t| t.as_second())
        .map_err(|_| {
            format!(
                "{name}: „{value}“ ist keine vollständige Datums- und Zeitangabe mit Zeitzone \
                 (z. B. 2024-01-01T00:00:00+01:00)."
            )
        })
}

fn parse_bool(name: &str, value: &str) -> Result<bool, String> {
    match value.trim() {
        "true" | "1" => Ok(true),
        "false" | "0" => Ok(false),
        _ => Err(format!("{name}: erwartet wird true oder false.")),
    }
}

fn parse_count(name: &str, value: &str) -> Result<usize, String> {
    value
        .trim()
        .parse::<usize>()
        .ok()
        .filter(|n| *n >= 1)
        .ok_or_else(|| format!("{name}: erwartet wird eine ganze Zahl ab 1."))
}

impl ListQuery {
    /// Reads the query string; unknown parameters are ignored, bad values refused with a
    /// German message.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        let pairs: Vec<(String, String)> = serde_urlencoded::from_str(raw.unwrap_or(""))
            .map_err(|_| "Die Abfrageparameter sind nicht lesbar.".to_owned())?;
        let mut q = Self {
            created_since: None,
            created_until: None,
            modified_since: None,
            modified_until: None,
            omit_deleted: false,
            page: 1,
            per_page: PAGE_SIZE,
            carried: Vec::new(),
        };
        let mut carried: Vec<(&'static str, String)> = Vec::new();
        for (name, value) in &pairs {
            let key: &'static str = match name.as_str() {
                "created_since" => {
                    q.created_since = Some(parse_time(name, value)?);
                    "created_since"
                }
                "created_until" => {
                    q.created_until = Some(parse_time(name, value)?);
                    "created_until"
                }
                "modified_since" => {
                    q.modified_since = Some(parse_time(name, value)?);
                    "modified_since"
                }
                "modified_until" => {
                    q.modified_until = Some(parse_time(name, value)?);
                    "modified_until"
                }
                "omit_deleted" => {
                    q.omit_deleted = parse_bool(name, value)?;
                    "omit_deleted"
                }
                "elementsPerPage" => {
                    q.per_page = parse_count(name, value)?.min(PAGE_SIZE);
                    "elementsPerPage"
                }
                "page" => {
                    q.page = parse_count(name, value)?;
                    continue;
                }
                _ => continue,
            };
            carried.retain(|(k, _)| *k != key);
            carried.push((key, value.clone()));
        }
        carried.sort_by_key(|(k, _)| CARRIED.iter().position(|c| c == k));
        q.carried = carried;
        Ok(q)
    }

    fn admits(&self, item: &Item) -> bool {
        let (created, modified) = (seconds(item.created), seconds(item.modified));
        self.created_since.is_none_or(|t| created >= t)
            && self.created_until.is_none_or(|t| created <= t)
            && self.modified_since.is_none_or(|t| modified >= t)
            && self.modified_until.is_none_or(|t| modified <= t)
            && !(self.omit_deleted && item.deleted)
    }

    fn link(&self, list_url: &str, page: usize) -> String {
        let mut pairs: Vec<(&str, String)> =
            self.carried.iter().map(|(k, v)| (*k, v.clone())).collect();
        pairs.push(("page", page.to_string()));
        let query = serde_urlencoded::to_string(&pairs).unwrap_or_default();
        format!("{list_url}?{query}")
    }

    /// One page of the filtered list, in the order given (which must be stable).
    pub fn page(&self, items: Vec<Item>, list_url: &str) -> Value {
        let matching: Vec<Item> = items.into_iter().filter(|i| self.admits(i)).collect();
        let total = matching.len();
        let total_pages = total.div_ceil(self.per_page).max(1);
        let data: Vec<Value> = matching
            .into_iter()
            .skip((self.page - 1).saturating_mul(self.per_page))
            .take(self.per_page)
            .map(|i| i.json)
            .collect();
        let mut links = serde_json::Map::new();
        links.insert("first".into(), self.link(list_url, 1).into());
        if self.page > 1 {
            let prev = (self.page - 1).min(total_pages);
            links.insert("prev".into(), self.link(list_url, prev).into());
        }
        links.insert("self".into(), self.link(list_url, self.page).into());
        if self.page < total_pages {
            links.insert("next".into(), self.link(list_url, self.page + 1).into());
        }
        links.insert("last".into(), self.link(list_url, total_pages).into());
        json!({
            "data": data,
            "pagination": {
                "totalElements": total,
                "elementsPerPage": self.per_page,
                "currentPage": self.page,
                "totalPages": total_pages,
            },
            "links": links,
        })
    }
}

/// The parameters carried into page links, in this order.
const CARRIED: [&str; 6] = [
    "created_since",
    "created_until",
    "modified_since",
    "modified_until",
    "omit_deleted",
    "elementsPerPage",
];

#[cfg(test)]
mod tests {
    use super::*;

    fn item(n: i64, created: i64, modified: i64) -> Item {
        Item {
            id: format!("http://x/oparl/v1/person/{n}"),
            created: created * 1_000_000,
            modified: modified * 1_000_000,
            deleted: n == 3,
            json: json!({ "n": n }),
        }
    }

    fn items() -> Vec<Item> {
        (1..=5).map(|n| item(n, n * 100, n * 1000)).collect()
    }

    fn numbers(page: &Value) -> Vec<i64> {
        page["data"]
            .as_array()
            .expect("data")
            .iter()
            .filter_map(|v| v["n"].as_i64())
            .collect()
    }

    #[test]
    fn pages_link_to_each_other_and_keep_the_filters() {
        let q = ListQuery::parse(Some(
            "elementsPerPage=2&created_since=1970-01-01T00%3A00%3A00%2B00%3A00&page=2",
        ))
        .expect("valid");
        let page = q.page(items(), "http://x/list");
        assert_eq!(numbers(&page), vec![3, 4]);
        assert_eq!(page["pagination"]["totalPages"], 3);
        assert_eq!(page["pagination"]["totalElements"], 5);
        assert_eq!(page["pagination"]["currentPage"], 2);
        let next = page["links"]["next"].as_str().expect("next");
        assert_eq!(
            next,
            "http://x/list?created_since=1970-01-01T00%3A00%3A00%2B00%3A00&elementsPerPage=2&page=3"
        );
        assert!(
            page["links"]["prev"]
                .as_str()
                .expect("prev")
                .ends_with("page=1")
        );
        let last = ListQuery::parse(Some("elementsPerPage=2&page=3"))
            .expect("valid")
            .page(items(), "http://x/list");
        assert_eq!(numbers(&last), vec![5]);
        assert!(last["links"].get("next").is_none());
    }

    #[test]
    fn time_filters_are_inclusive_and_an_unencoded_plus_is_forgiven() {
        let q = ListQuery::parse(Some(
            "created_since=1970-01-01T00:03:20+00:00&modified_until=1970-01-01T01:06:40Z",
        ))
        .expect("valid");
        // created >= 200 s and modified <= 4000 s
        assert_eq!(numbers(&q.page(items(), "http://x/list")), vec![2, 3, 4]);
    }

    #[test]
    fn deleted_objects_are_listed_unless_omitted() {
        let all = ListQuery::parse(None).expect("valid");
        assert_eq!(numbers(&all.page(items(), "u")), vec![1, 2, 3, 4, 5]);
        let omit = ListQuery::parse(Some("omit_deleted=true")).expect("valid");
        assert_eq!(numbers(&omit.page(items(), "u")), vec![1, 2, 4, 5]);
    }

    #[test]
    fn bad_values_are_refused_and_the_page_size_is_capped() {
        for bad in [
            "created_since=2024-01-01",
            "modified_until=gestern",
            "page=0",
            "elementsPerPage=x",
            "omit_deleted=vielleicht",
        ] {
            assert!(ListQuery::parse(Some(bad)).is_err(), "{bad}");
        }
        let q = ListQuery::parse(Some("elementsPerPage=5000&foo=bar")).expect("valid");
        let page = q.page(items(), "u");
        assert_eq!(page["pagination"]["elementsPerPage"], PAGE_SIZE);
    }

    #[test]
    fn an_empty_list_has_one_empty_page() {
        let page = ListQuery::parse(None).expect("valid").page(vec![], "u");
        assert_eq!(page["data"], json!([]));
        assert_eq!(page["pagination"]["totalPages"], 1);
        assert!(page["links"].get("next").is_none());
    }
}
