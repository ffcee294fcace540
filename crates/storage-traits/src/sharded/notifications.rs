//! Notifications on their recipient's home shard: adding and listing are one-shard calls.

use async_trait::async_trait;

use super::ShardedPgStore;
use crate::error::Result;
use crate::id::UserId;
use crate::model::Notification;
use crate::page::{Seek, Window};
use crate::repo::NotificationRepo;

#[async_trait]
impl NotificationRepo for ShardedPgStore {
    async fn add_notification(&self, n: Notification) -> Result<bool> {
        self.at(n.recipient.0)?.add_notification(n).await
    }

    async fn notifications(&self, user: UserId, seek: &Seek) -> Result<Window<Notification>> {
        self.at(user.0)?.notifications(user, seek).await
    }
}
