//! The memory outbox: leases, per-aggregate claim order, release.

use std::sync::Arc;

use keel_events::*;

use crate::support::{PostCreated, post};

fn outbox_with(n: u64) -> (Arc<MemoryOutbox>, ManualClock) {
    let clock = ManualClock::new(1_000);
    let outbox = Arc::new(MemoryOutbox::new(Arc::new(clock.clone())));
    for i in 1..=n {
        outbox.append(Envelope::new(&post(i), &clock).unwrap());
    }
    (outbox, clock)
}

#[tokio::test]
async fn claims_are_leases_that_expire() {
    let (outbox, clock) = outbox_with(10);
    let first = outbox.claim(100, 5_000).await.unwrap();
    assert_eq!(first.len(), 10);
    // Held: a second relay gets nothing.
    assert!(outbox.claim(100, 5_000).await.unwrap().is_empty());
    // The first relay died: after the lease, everything is claimable again.
    clock.advance(5_001);
    assert_eq!(outbox.claim(100, 5_000).await.unwrap().len(), 10);
}

#[tokio::test]
async fn an_aggregate_held_by_one_claim_is_not_claimed_by_another() {
    let clock = ManualClock::new(0);
    let outbox = MemoryOutbox::new(Arc::new(clock.clone()));
    let ev = |post_id, author_id| {
        Envelope::new(
            &PostCreated {
                post_id,
                author_id,
                poison: false,
            },
            &clock,
        )
        .unwrap()
    };
    outbox.append(ev(1, 1));
    outbox.append(ev(2, 2));
    outbox.append(ev(3, 1));
    let a = outbox.claim(1, 10_000).await.unwrap();
    assert_eq!(a[0].seq, 1);
    // Entry 3 (author 1) must wait for entry 1: the second relay only gets author 2's event.
    let b = outbox.claim(10, 10_000).await.unwrap();
    assert_eq!(b.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![2]);
    outbox.mark_published(1).await.unwrap();
    let c = outbox.claim(10, 10_000).await.unwrap();
    assert_eq!(c.iter().map(|e| e.seq).collect::<Vec<_>>(), vec![3]);
}

#[tokio::test]
async fn release_makes_entries_claimable_at_once_and_marks_are_individual() {
    let (outbox, _clock) = outbox_with(3);
    let claimed = outbox.claim(3, 60_000).await.unwrap();
    outbox.mark_published(claimed[1].seq).await.unwrap();
    outbox
        .release(&[claimed[0].seq, claimed[2].seq])
        .await
        .unwrap();
    let again = outbox.claim(10, 60_000).await.unwrap();
    assert_eq!(
        again.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![claimed[0].seq, claimed[2].seq]
    );
    assert_eq!(outbox.published(), 1);
    assert_eq!(outbox.pending(), 2);
}

#[test]
fn envelopes_round_trip_and_refuse_bad_input() {
    let clock = ManualClock::new(42);
    let env = Envelope::new(&post(5), &clock).unwrap();
    assert_eq!(env.occurred_at_ms, 42);
    let bytes = env.to_bytes().unwrap();
    let back = Envelope::from_bytes(&bytes).unwrap();
    assert_eq!(back, env);
    assert_eq!(back.decode::<PostCreated>().unwrap(), post(5));

    assert!(matches!(
        Envelope::from_bytes(b"{not json"),
        Err(EnvelopeError::Decode(_))
    ));
    assert!(matches!(
        Envelope::from_bytes(&vec![b' '; envelope_max() + 1]),
        Err(EnvelopeError::TooLarge { .. })
    ));
    let mut newer = env.clone();
    newer.version = 9;
    assert!(matches!(
        newer.decode::<PostCreated>(),
        Err(EnvelopeError::UnsupportedVersion { version: 9, .. })
    ));
    let mut other = env;
    other.event_type = "PostDeleted".into();
    assert!(matches!(
        other.decode::<PostCreated>(),
        Err(EnvelopeError::WrongType { .. })
    ));
    let mut bad_family = Envelope::from_bytes(&bytes).unwrap();
    bad_family.family = "Posts.>".into();
    assert!(matches!(
        Envelope::from_bytes(&bad_family.to_bytes().unwrap()),
        Err(EnvelopeError::InvalidFamily { .. })
    ));
}

fn envelope_max() -> usize {
    envelope::MAX_ENCODED_LEN
}
