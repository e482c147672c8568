//! Duties of the spokespersons per relevant resolution, concerns of the conferences and
//! their triage, and workshops with their work results (G3, G7).
//!
//! - [`duties`]: the spokespersons' duties per relevant resolution
//! - [`duty_listing`]: a page of the duties list with what it shows beside, kept by node
//! - [`concerns`]: the conferences' concerns and their triage
//! - [`workshops`]: workshops with their questions and work results

mod concerns;
mod duties;
mod duty_listing;
mod workshops;

pub use concerns::Concern;
pub(crate) use duties::ensure_duties;
pub use duties::{Duty, DutyListQuery, DutyPage, DutyResolution, DutyStatus};
pub use duty_listing::DutyListing;
pub use workshops::{Workshop, WorkshopQuestion};

type Tx = sqlx::Transaction<'static, sqlx::Any>;
