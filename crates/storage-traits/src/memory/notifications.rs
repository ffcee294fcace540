//! Notifications in the memory backend.

use async_trait::async_trait;
use uuid::Uuid;

use super::MemoryStore;
use super::state::{MAX_ID, MAX_TS, MIN_ID, MIN_TS, State};
use crate::clock::Timestamp;
use crate::error::Result;
use crate::id::UserId;
use crate::model::Notification;
use crate::page::{List, Ordered, Seek, SortValue, Window, anchor, check_seek, paginate_keys};
use crate::repo::{MAX_NOTIFICATIONS_PER_USER, NotificationRepo};

type Key = (UserId, Timestamp, Uuid);

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
        check_seek(seek)?;
        let anchor = anchor(seek, |v| match v {
            [SortValue::I64(at), SortValue::Uuid(id)] => {
                Some((user, Timestamp::from_micros(*at), *id))
            }
            _ => None,
        })?;
        let index = Ordered {
            range: &|a, b| Box::new(self.notification_idx.range((a, b))),
            lo: (user, MIN_TS, MIN_ID),
            hi: (user, MAX_TS, MAX_ID),
            desc: true,
            key: |k: &&Key| **k,
        };
        paginate_keys(
            &index.slice(seek, anchor.as_ref()),
            List::Notifications,
            seek,
            |(_, at, id)| vec![SortValue::I64(at.as_micros()), SortValue::Uuid(*id)],
            |(_, _, id)| self.notifications.get(id).cloned(),
        )
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
