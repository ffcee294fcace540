//! The asynchronous fan-out pool (feature `tokio`): publishing returns at once, a bounded queue
//! applies backpressure, a fixed number of workers run the fan-outs and background rebuilds.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use tokio::sync::{Mutex, mpsc};
use tokio::task::JoinHandle;

use crate::engine::FeedEngine;
use crate::error::{FeedError, Result};
use crate::metrics as m;
use crate::model::{Post, UserId};

#[derive(Debug)]
enum Job {
    Publish { post: Post, enqueued_ms: u64 },
    Regenerate(UserId),
}

/// Whether [`FanoutPool::try_submit`] queued the post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Submit {
    /// Queued; a worker will fan it out.
    Queued,
    /// The queue is full: retry later, or use [`FanoutPool::submit`] to wait for room.
    Full,
}

#[derive(Debug, Default)]
struct Shared {
    depth: AtomicUsize,
    stop: AtomicBool,
}

/// A bounded pool of fan-out workers over one [`FeedEngine`].
///
/// Dropping the pool stops the workers after their current job (queued jobs are dropped;
/// re-publishing is idempotent); [`shutdown`](Self::shutdown) drains the queue first and waits.
/// While the pool lives, timelines that need rebuilding on read are rebuilt by its workers.
#[derive(Debug)]
pub struct FanoutPool {
    engine: Arc<FeedEngine>,
    tx: Option<mpsc::Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
    shared: Arc<Shared>,
}

impl FanoutPool {
    /// Starts `workers` workers sharing a queue of `capacity` jobs, on the current tokio
    /// runtime.
    ///
    /// # Errors
    /// [`FeedError::InvalidConfig`] when `workers` or `capacity` is zero or when called outside
    /// a tokio runtime.
    pub fn start(engine: Arc<FeedEngine>, workers: usize, capacity: usize) -> Result<Self> {
        if workers == 0 || capacity == 0 {
            return Err(FeedError::InvalidConfig(
                "a fan-out pool needs at least one worker and a queue of at least one job",
            ));
        }
        let handle = tokio::runtime::Handle::try_current().map_err(|_| {
            FeedError::InvalidConfig("FanoutPool::start must be called inside a tokio runtime")
        })?;
        let (tx, rx) = mpsc::channel::<Job>(capacity);
        let rx = Arc::new(Mutex::new(rx));
        let shared = Arc::new(Shared::default());
        let handles = (0..workers)
            .map(|_| handle.spawn(work(engine.clone(), rx.clone(), shared.clone())))
            .collect();
        let weak = tx.downgrade();
        let sched_shared = shared.clone();
        engine.set_scheduler(Some(Box::new(move |user| {
            let Some(tx) = weak.upgrade() else {
                return false;
            };
            let queued = tx.try_send(Job::Regenerate(user)).is_ok();
            if queued {
                m::queue_depth(sched_shared.depth.fetch_add(1, Ordering::SeqCst) + 1);
            }
            queued
        })));
        Ok(Self {
            engine,
            tx: Some(tx),
            workers: handles,
            shared,
        })
    }

    fn sender(&self) -> Result<&mpsc::Sender<Job>> {
        self.tx.as_ref().ok_or(FeedError::PoolClosed)
    }

    fn job(&self, post: Post) -> Job {
        Job::Publish {
            post,
            enqueued_ms: self.engine.clock_now_ms(),
        }
    }

    /// Queues the fan-out of `post`, waiting while the queue is full (backpressure).
    ///
    /// # Errors
    /// [`FeedError::PoolClosed`] when the pool is shutting down.
    pub async fn submit(&self, post: Post) -> Result<()> {
        self.sender()?
            .send(self.job(post))
            .await
            .map_err(|_| FeedError::PoolClosed)?;
        m::queue_depth(self.shared.depth.fetch_add(1, Ordering::SeqCst) + 1);
        Ok(())
    }

    /// Queues the fan-out of `post` if there is room, without waiting.
    ///
    /// # Errors
    /// [`FeedError::PoolClosed`] when the pool is shutting down.
    pub fn try_submit(&self, post: Post) -> Result<Submit> {
        match self.sender()?.try_send(self.job(post)) {
            Ok(()) => {
                m::queue_depth(self.shared.depth.fetch_add(1, Ordering::SeqCst) + 1);
                Ok(Submit::Queued)
            }
            Err(mpsc::error::TrySendError::Full(_)) => Ok(Submit::Full),
            Err(mpsc::error::TrySendError::Closed(_)) => Err(FeedError::PoolClosed),
        }
    }

    /// Jobs waiting in the queue.
    pub fn queue_depth(&self) -> usize {
        self.shared.depth.load(Ordering::SeqCst)
    }

    /// Stops accepting jobs, lets the workers finish every queued job, and waits for them.
    pub async fn shutdown(mut self) {
        self.engine.set_scheduler(None);
        self.tx = None;
        for w in std::mem::take(&mut self.workers) {
            let _ = w.await;
        }
    }
}

impl Drop for FanoutPool {
    fn drop(&mut self) {
        self.engine.set_scheduler(None);
        self.shared.stop.store(true, Ordering::SeqCst);
        self.tx = None;
    }
}

async fn work(engine: Arc<FeedEngine>, rx: Arc<Mutex<mpsc::Receiver<Job>>>, shared: Arc<Shared>) {
    loop {
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let job = rx.lock().await.recv().await;
        let Some(job) = job else { return };
        m::queue_depth(
            shared
                .depth
                .fetch_sub(1, Ordering::SeqCst)
                .saturating_sub(1),
        );
        if shared.stop.load(Ordering::SeqCst) {
            return;
        }
        let result = match job {
            Job::Publish { post, enqueued_ms } => {
                m::fanout_lag(engine.clock_now_ms().saturating_sub(enqueued_ms));
                engine.publish_since(&post, enqueued_ms).await.map(|_| ())
            }
            Job::Regenerate(user) => engine.regenerate(user).await.map(|_| ()),
        };
        if result.is_err() {
            m::fanout_failed();
        }
    }
}
