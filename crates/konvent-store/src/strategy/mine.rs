//! What "Meine Ergebnisse" shows a person (K16, S1–S4): the topics and their target
//! pictures, what became of their impulses and pins, what they follow, whom they met
//! and the follow-up groups they are in. The page reads a dozen tables; everybody opens
//! it in the same minutes before and after an event, when nothing of it changes. So each
//! node keeps what it read for a person and reads it again only when the lists' change
//! counter moved (see `kept`): one small statement per request while nothing
//! changed, instead of fifteen.

use std::collections::HashMap;
use std::sync::Arc;

use konvent_core::ids::{AccountId, TopicId};

use crate::{
    ConnectionPoint, ContactOverview, FollowUpGroup, Impulse, Pin, PointPeers, Result, RoomChoice,
    SavedGroup, Store, TargetPicture, Topic,
};

/// Everything "Meine Ergebnisse" shows one person.
pub struct MyResults {
    /// Every topic, in their order.
    pub topics: Vec<Topic>,
    /// Every target-picture version by topic, the confidential ones too: the page shows
    /// only the published ones and the numbers of the others.
    pub target_pictures: HashMap<TopicId, Vec<TargetPicture>>,
    /// Every saved group of impulses (S3), for what became of the person's impulses.
    pub saved_groups: Vec<SavedGroup>,
    /// The person's impulses.
    pub impulses: Vec<Impulse>,
    /// The person's pins.
    pub pins: Vec<Pin>,
    /// What the person follows.
    pub connection_points: Vec<ConnectionPoint>,
    /// Who else follows the same.
    pub peers: Vec<PointPeers>,
    /// The person's contacts and contact requests.
    pub contacts: ContactOverview,
    /// The follow-up groups the person is in.
    pub groups: Vec<FollowUpGroup>,
    /// The rooms the person may give a group.
    pub rooms: Vec<RoomChoice>,
}

impl Store {
    /// What "Meine Ergebnisse" shows `account`, from this node's copy while no write
    /// touched the tables it comes from.
    #[tracing::instrument(level = "debug", skip_all, fields(account = %account))]
    pub async fn my_results(&self, account: AccountId) -> Result<Arc<MyResults>> {
        let generation = self.lists_generation().await?;
        let key = account.to_string();
        if let Some(kept) = self.kept.mine.get(&key, generation) {
            return Ok(kept);
        }
        let results = MyResults {
            topics: self.topics().await?,
            target_pictures: self.target_pictures_by_topic(true).await?,
            saved_groups: self.all_saved_groups().await?,
            impulses: self.impulses_by(account).await?,
            pins: self.pins_by(account).await?,
            connection_points: self.connection_points(Some(account)).await?,
            peers: self.point_peers(account).await?,
            contacts: self.contact_overview(account).await?,
            groups: self.groups_of(account).await?,
            rooms: self.group_room_choices(account).await?,
        };
        Ok(self.kept.mine.keep(key, generation, results))
    }
}
