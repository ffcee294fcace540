//! Notifications in the memory backend.

use async_trait::async_trait;

use super::MemoryStore;
use super::state::{MAX_ID, MAX_TS, MIN_ID, MIN_TS, State, newest_first_of_user};
use crate::error::Result;
use crate::id::UserId;
use crate::model::Notification;
use crate::page::{List, RangeFn, Seek, Window};
use crate::repo::{MAX_NOTIFICATIONS_PER_USER, NotificationRepo};

use super::state::UserTimeKey as Key;

impl State {
    /// Drops the notifications addressed to `user` (their account is deleted).
    pub(super) fn remove_notifications(&mut self, user: UserId) {
        let keys: Vec<Key> = self
            .notification_idx
            .range((user, MIN_TS, MIN_ID)..=(user, MAX_TS, MAX_ID))
            .copied()
            .collect();
        for k in keys {
            self.notification_idx.remove(&k);
            self.notifications.remove(&k.2);
        }
    }

    fn add_notification(&mut self, n: Notification) -> Result<bool> {
        self.user(n.recipient)?;
        if n.actor == n.recipient || self.notifications.contains_key(&n.id) {
            return Ok(false);
        }
        let user = n.recipient;
        self.notification_idx.insert((user, n.created_at, n.id));
        self.notifications.insert(n.id, n);
        let mut mine = self
            .notification_idx
            .range((user, MIN_TS, MIN_ID)..=(user, MAX_TS, MAX_ID));
        let over = mine
            .clone()
            .count()
            .saturating_sub(MAX_NOTIFICATIONS_PER_USER);
        let oldest: Vec<Key> = mine.by_ref().take(over).copied().collect();
        for k in oldest {
            self.notification_idx.remove(&k);
            self.notifications.remove(&k.2);
        }
        Ok(true)
    }

    fn notifications_of(&self, user: UserId, seek: &Seek) -> Result<Window<Notification>> {
        let range: &RangeFn<'_, Key, &Key> = &|a, b| Box::new(self.notification_idx.range((a, b)));
        newest_first_of_user(range, user, List::Notifications, seek, |(_, _, id)| {
            self.notifications.get(id).cloned()
        })
    }
}

#[async_trait]
impl NotificationRepo for MemoryStore {
    async fn add_notification(&self, n: Notification) -> Result<bool> {
        self.write(|s, _| s.add_notification(n))
    }

    async fn notifications(&self, user: UserId, seek: &Seek) -> Result<Window<Notification>> {
        self.read(|s| s.notifications_of(user, seek))
    }
}
