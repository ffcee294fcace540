//! Users in the memory backend.

use super::Tx;
use super::state::State;
use crate::error::{Entity, Result, StorageError};
use crate::event::Event;
use crate::id::UserId;
use crate::model::{NewUser, User, UserPatch, user_terms};
use crate::page::{List, Ordered, Seek, SortValue, Window, anchor, check_seek, paginate_keys};
use crate::repo::{SearchHit, SearchIndexing};
use crate::text;

impl State {
    pub(super) fn user(&self, id: UserId) -> Result<&User> {
        self.users
            .get(&id)
            .ok_or_else(|| StorageError::not_found(Entity::User, id))
    }

    pub(super) fn user_by_username(&self, username: &str) -> Result<&User> {
        self.usernames
            .get(&username.to_ascii_lowercase())
            .and_then(|id| self.users.get(id))
            .ok_or_else(|| StorageError::not_found(Entity::User, username))
    }

    pub(super) fn user_by_email(&self, email: &str) -> Result<&User> {
        self.emails
            .get(&email.to_ascii_lowercase())
            .and_then(|id| self.users.get(id))
            .ok_or_else(|| StorageError::not_found(Entity::User, email))
    }

    fn check_unique(
        &self,
        id: Option<UserId>,
        username: Option<&str>,
        email: Option<&str>,
    ) -> Result<()> {
        if let Some(u) = username
            && let Some(owner) = self.usernames.get(&u.to_ascii_lowercase())
            && Some(*owner) != id
        {
            return Err(StorageError::conflict("username", u));
        }
        if let Some(e) = email
            && let Some(owner) = self.emails.get(&e.to_ascii_lowercase())
            && Some(*owner) != id
        {
            return Err(StorageError::conflict("email", e));
        }
        Ok(())
    }

    /// Records `u`'s username and email (uniqueness, always at once) and, under inline
    /// indexing, its searchable text.
    fn index_user(&mut self, u: &User) {
        self.usernames.insert(u.username.to_ascii_lowercase(), u.id);
        self.emails.insert(u.email.to_ascii_lowercase(), u.id);
        if self.search == SearchIndexing::Inline {
            self.user_index.insert(u.id, user_terms(u));
        }
    }

    /// Indexes `id`'s current text, or forgets it when the user is gone.
    pub(super) fn reindex_user(&mut self, id: UserId) {
        match self.users.get(&id) {
            Some(u) => {
                let terms = user_terms(u);
                self.user_index.insert(id, terms);
            }
            None => self.user_index.remove(id),
        }
    }

    fn unindex_user(&mut self, u: &User) {
        self.usernames.remove(&u.username.to_ascii_lowercase());
        self.emails.remove(&u.email.to_ascii_lowercase());
        self.user_index.remove(u.id);
    }

    pub(super) fn create_user(&mut self, tx: &Tx<'_>, new: NewUser) -> Result<User> {
        // The id is minted before the uniqueness check, as PostgreSQL does (it learns of a
        // conflict from the insert), so both backends consume ids identically.
        let id = UserId(tx.ids.next_at(tx.now));
        self.check_unique(None, Some(&new.username), Some(&new.email))?;
        let display_name = if new.display_name.is_empty() {
            new.username.clone()
        } else {
            new.display_name
        };
        let user = User {
            id,
            username: new.username,
            email: new.email,
            password_hash: new.password_hash,
            display_name,
            bio: new.bio,
            avatar_url: new.avatar_url,
            verified: false,
            created_at: tx.now,
            updated_at: tx.now,
        };
        self.index_user(&user);
        self.users.insert(user.id, user.clone());
        self.emit(
            tx,
            Event::UserCreated {
                user: user.id,
                username: user.username.clone(),
            },
        );
        Ok(user)
    }

    pub(super) fn update_user(
        &mut self,
        tx: &Tx<'_>,
        id: UserId,
        patch: UserPatch,
    ) -> Result<User> {
        let old = self.user(id)?.clone();
        if patch.is_empty() {
            return Ok(old);
        }
        self.check_unique(Some(id), patch.username.as_deref(), patch.email.as_deref())?;
        let mut new = old.clone();
        crate::model::apply_user_patch(&mut new, patch, tx.now);
        self.usernames.remove(&old.username.to_ascii_lowercase());
        self.emails.remove(&old.email.to_ascii_lowercase());
        if self.search == SearchIndexing::Inline {
            self.user_index.remove(old.id);
        }
        self.index_user(&new);
        self.users.insert(id, new.clone());
        self.emit(tx, Event::UserUpdated { user: id });
        Ok(new)
    }

    pub(super) fn delete_user(&mut self, tx: &Tx<'_>, id: UserId) -> Result<()> {
        let user = self.user(id)?.clone();
        let own_posts: Vec<_> = self
            .posts_by_author
            .range(
                (
                    id,
                    super::state::MIN_TS,
                    crate::PostId(super::state::MIN_ID),
                )
                    ..=(
                        id,
                        super::state::MAX_TS,
                        crate::PostId(super::state::MAX_ID),
                    ),
            )
            .map(|(_, _, p)| *p)
            .collect();
        for p in own_posts {
            self.remove_post(p);
        }
        let liked: Vec<_> = self
            .likes_by_user
            .range(
                (id, crate::PostId(super::state::MIN_ID))
                    ..=(id, crate::PostId(super::state::MAX_ID)),
            )
            .map(|(_, p)| *p)
            .collect();
        let mut touched = Vec::new();
        for p in liked {
            self.remove_like(id, p);
            touched.push(p);
        }
        let comments: Vec<_> = self
            .comments_by_author
            .range(
                (id, crate::CommentId(super::state::MIN_ID))
                    ..=(id, crate::CommentId(super::state::MAX_ID)),
            )
            .map(|(_, c)| *c)
            .collect();
        for c in comments {
            if let Some(post) = self.comments.get(&c).map(|c| c.post) {
                self.remove_comment_tree(c);
                touched.push(post);
            }
        }
        for p in touched {
            self.recount(p);
        }
        let follows: Vec<_> = self
            .follows
            .keys()
            .filter(|(a, b)| *a == id || *b == id)
            .copied()
            .collect();
        for (a, b) in follows {
            self.remove_follow(a, b);
        }
        self.unindex_user(&user);
        self.users.remove(&id);
        self.remove_credentials(id);
        self.remove_notifications(id);
        self.emit(tx, Event::UserDeleted { user: id });
        Ok(())
    }

    pub(super) fn users_by_prefix(&self, prefix: &str, seek: &Seek) -> Result<Window<User>> {
        check_seek(seek)?;
        let prefix = prefix.to_ascii_lowercase();
        let anchor = anchor(seek, |v| match v {
            [SortValue::Text(k)] => Some(k.clone()),
            _ => None,
        })?;
        // Lowercased usernames hold only [a-z0-9_], all below '{': [prefix, prefix + "{"]
        // holds exactly the usernames that start with the prefix.
        let index = Ordered {
            range: &|a, b| Box::new(self.usernames.range::<String, _>((a, b))),
            lo: prefix.clone(),
            hi: format!("{prefix}{{"),
            desc: false,
            key: |(k, _): &(&String, &UserId)| (*k).clone(),
        };
        paginate_keys(
            &index.slice(seek, anchor.as_ref()),
            List::UsersByPrefix,
            seek,
            |(k, _)| vec![SortValue::Text((*k).clone())],
            |(_, id)| self.users.get(id).cloned(),
        )
    }

    pub(super) fn search_users(&self, query: &str, seek: &Seek) -> Result<Window<SearchHit<User>>> {
        let hits = super::posts::rank(self.user_index.search(&text::query_terms(query)), |_| true);
        paginate_keys(
            &hits,
            List::SearchUsers,
            seek,
            |(score, id)| vec![SortValue::F64(*score), SortValue::Uuid(id.0)],
            |(score, id)| {
                self.users.get(id).map(|u| SearchHit {
                    item: u.clone(),
                    score: *score,
                })
            },
        )
    }
}
