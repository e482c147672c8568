//! A page of the duties list (G3) with what the page shows beside it: who speaks for
//! which conference and the conferences to filter by. Everybody who opens the list
//! asks the same few pages, and the tables behind it change seldom, so each node keeps
//! the pages it served and reads them again only when the lists' change counter moved
//! (see `kept`): one small statement per request instead of three large ones.

use konvent_core::ids::AccountId;

use crate::directory::ConferenceSummary;
use crate::{DutyListQuery, DutyPage, Result, Store};

/// A page of the duties list and what it shows beside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DutyListing {
    pub page: DutyPage,
    /// Who speaks for which conference now, as [`Store::spokespersons`] gives them.
    pub spokespersons: Vec<(String, AccountId, String)>,
    /// Every conference, as [`Store::conferences`] gives them (the page filters them
    /// by what the reader may see).
    pub conferences: Vec<ConferenceSummary>,
}

impl Store {
    /// [`Store::duty_page`] for `q`, with the spokespersons and conferences, from this
    /// node's copy while no write touched the tables they come from.
    #[tracing::instrument(level = "debug", skip_all, fields(page = q.page))]
    pub async fn duty_listing(&self, q: &DutyListQuery) -> Result<std::sync::Arc<DutyListing>> {
        let generation = self.lists_generation().await?;
        // The query's every field decides the page, so its whole description is the key.
        let key = format!("{q:?}");
        if let Some(kept) = self.kept.duties.get(&key, generation) {
            return Ok(kept);
        }
        let listing = DutyListing {
            page: self.duty_page(q).await?,
            spokespersons: self.spokespersons().await?,
            conferences: self.conferences().await?,
        };
        Ok(self.kept.duties.keep(key, generation, listing))
    }
}
