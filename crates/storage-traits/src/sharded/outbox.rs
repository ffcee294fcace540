//! One outbox view over every shard's outbox (one relay per shard scales better: see
//! [`ShardedPgStore::shard_outboxes`]).

use std::time::Duration;

use async_trait::async_trait;

use super::ShardedPgStore;
use crate::error::{Entity, Result, StorageError};
use crate::event::OutboxRecord;
use crate::id::MAX_ID_SHARDS;
use crate::postgres::error::DbResultExt;
use crate::repo::OutboxRepo;

/// The store-wide `seq` of shard `shard`'s record `seq`.
fn global_seq(seq: i64, shard: u32) -> i64 {
    seq.saturating_mul(i64::from(MAX_ID_SHARDS))
        .saturating_add(i64::from(shard))
}

/// The shard and local `seq` of a store-wide `seq` (`None` for a negative one).
fn local_seq(seq: i64) -> Option<(usize, i64)> {
    if seq < 0 {
        return None;
    }
    let n = i64::from(MAX_ID_SHARDS);
    Some((usize::try_from(seq % n).ok()?, seq / n))
}

#[async_trait]
impl OutboxRepo for ShardedPgStore {
    async fn claim_outbox(&self, limit: u32, lease: Duration) -> Result<Vec<OutboxRecord>> {
        let wanted = crate::validate::claim_limit(limit)?;
        let claimed = self
            .gather(|i, s| async move {
                let records = s.claim_outbox(limit, lease).await?;
                Ok(records.into_iter().map(move |r| (i, r)).collect::<Vec<_>>())
            })
            .await?;
        let mut all: Vec<(u32, OutboxRecord)> = claimed.into_iter().flatten().collect();
        // Record ids come from one shared generator: their order is the creation order.
        all.sort_by_key(|(_, r)| r.id);
        let extra = all.split_off(wanted.min(all.len()));
        // Give the surplus back as if never claimed (attempts too). A shard's surplus is its
        // newest claimed records, so per-aggregate order still holds.
        let mut back: Vec<Vec<i64>> = vec![Vec::new(); self.shard_count()];
        for (i, r) in &extra {
            if let Some(seqs) = back.get_mut(*i as usize) {
                seqs.push(r.seq);
            }
        }
        let back = &back;
        self.gather(|i, s| async move {
            let seqs = back.get(i as usize).cloned().unwrap_or_default();
            if !seqs.is_empty() {
                sqlx::query(
                    "UPDATE outbox SET leased_until = NULL, attempts = greatest(attempts - 1, 0) \
                     WHERE seq = ANY($1) AND published_at IS NULL",
                )
                .bind(seqs)
                .execute(s.pool())
                .await
                .db()?;
            }
            Ok(())
        })
        .await?;
        Ok(all
            .into_iter()
            .map(|(i, mut r)| {
                r.seq = global_seq(r.seq, i);
                r
            })
            .collect())
    }

    async fn mark_published(&self, seq: i64) -> Result<bool> {
        let (shard, local) =
            local_seq(seq).ok_or_else(|| StorageError::not_found(Entity::OutboxEvent, seq))?;
        let store = self
            .shard(shard)
            .ok_or_else(|| StorageError::not_found(Entity::OutboxEvent, seq))?;
        store.mark_published(local).await.map_err(|e| match e {
            StorageError::NotFound { .. } => StorageError::not_found(Entity::OutboxEvent, seq),
            other => other,
        })
    }

    async fn mark_published_many(&self, seqs: &[i64]) -> Result<u64> {
        let by_shard = self.by_shard(seqs);
        let by_shard = &by_shard;
        let counts = self
            .gather(|i, s| async move {
                let seqs = by_shard.get(i as usize).cloned().unwrap_or_default();
                if seqs.is_empty() {
                    return Ok(0);
                }
                s.mark_published_many(&seqs).await
            })
            .await?;
        Ok(counts.into_iter().sum())
    }

    async fn release_outbox(&self, seqs: &[i64]) -> Result<()> {
        let by_shard = self.by_shard(seqs);
        let by_shard = &by_shard;
        self.gather(|i, s| async move {
            let seqs = by_shard.get(i as usize).cloned().unwrap_or_default();
            if seqs.is_empty() {
                return Ok(());
            }
            s.release_outbox(&seqs).await
        })
        .await?;
        Ok(())
    }

    async fn pending_outbox(&self) -> Result<u64> {
        let counts = self
            .gather(|_, s| async move { s.pending_outbox().await })
            .await?;
        Ok(counts.into_iter().sum())
    }
}

impl ShardedPgStore {
    /// Store-wide `seq`s split into each shard's local ones (unknown shards dropped).
    fn by_shard(&self, seqs: &[i64]) -> Vec<Vec<i64>> {
        let mut by_shard: Vec<Vec<i64>> = vec![Vec::new(); self.shard_count()];
        for (shard, local) in seqs.iter().filter_map(|s| local_seq(*s)) {
            if let Some(v) = by_shard.get_mut(shard) {
                v.push(local);
            }
        }
        by_shard
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn seqs_round_trip(seq in 0i64..(1 << 50), shard in 0u32..MAX_ID_SHARDS) {
            prop_assert_eq!(local_seq(global_seq(seq, shard)), Some((shard as usize, seq)));
        }
    }

    #[test]
    fn negative_seqs_name_no_record() {
        assert_eq!(local_seq(-1), None);
    }
}
