//! Differential test of the sharded store: the same random operations on the memory backend
//! and on 4 sharded databases give the same results. Ids differ (a sharded id also names its
//! shard), so each side's ids are renamed by order of first appearance before comparing.

use std::collections::HashMap;

use super::*;

/// `s` with every UUID replaced by `#n`, `n` its order of first appearance in `seen`.
fn canon(s: &str, seen: &mut HashMap<String, usize>) -> String {
    let is_uuid = |c: &[u8]| {
        c.len() == 36
            && c.iter().enumerate().all(|(i, b)| match i {
                8 | 13 | 18 | 23 => *b == b'-',
                _ => b.is_ascii_hexdigit(),
            })
    };
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        if let Some(c) = bytes.get(i..i + 36)
            && is_uuid(c)
        {
            let next = seen.len();
            let n = *seen.entry(s[i..i + 36].to_owned()).or_insert(next);
            out.push_str(&format!("#{n}"));
            i += 36;
        } else {
            out.push(char::from(bytes[i]));
            i += 1;
        }
    }
    out
}

async fn run_sharded(ops: Vec<Op>) -> Result<(), TestCaseError> {
    let start = Timestamp::from_millis(1_700_000_000_000);
    let mem_clock = Arc::new(ManualClock::new(start));
    let sh_clock = Arc::new(ManualClock::new(start));
    let mem = MemoryStore::with_clock(mem_clock.clone(), IdGenerator::seeded(7));
    let Some((sh, url, names)) = crate::sharded::store(sh_clock.clone()).await else {
        return Ok(());
    };
    // The databases go whatever the outcome (a failing case is shrunk many times).
    let result = compare(&mem, &mem_clock, &sh, &sh_clock, ops).await;
    crate::sharded::drop_all(sh, url, names).await;
    result
}

async fn compare(
    mem: &MemoryStore,
    mem_clock: &ManualClock,
    sh: &keel_storage::ShardedPgStore,
    sh_clock: &ManualClock,
    ops: Vec<Op>,
) -> Result<(), TestCaseError> {
    let (mut mem_ids, mut sh_ids) = (Ids::default(), Ids::default());
    let (mut mem_seen, mut sh_seen) = (HashMap::new(), HashMap::new());
    for (n, op) in ops.iter().enumerate() {
        let a = apply(mem, mem_clock, &mem_ids, op).await;
        let b = apply(sh, sh_clock, &sh_ids, op).await;
        record(&mut mem_ids, &a, op);
        record(&mut sh_ids, &b, op);
        let (a, b) = (canon(&a, &mut mem_seen), canon(&b, &mut sh_seen));
        prop_assert_eq!(&a, &b, "op {} {:?}", n, op);
    }
    let lease = Duration::from_secs(60);
    let events = |records: Vec<keel_storage::OutboxRecord>| {
        records.into_iter().map(|r| r.event).collect::<Vec<_>>()
    };
    let a = events(mem.claim_outbox(1000, lease).await.unwrap());
    let b = events(sh.claim_outbox(1000, lease).await.unwrap());
    prop_assert_eq!(
        canon(&format!("{a:?}"), &mut mem_seen),
        canon(&format!("{b:?}"), &mut sh_seen),
        "outbox"
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 8,
        max_shrink_iters: 32,
        ..ProptestConfig::default()
    })]

    #[test]
    fn memory_and_sharded_agree(ops in proptest::collection::vec(op(), 1..60)) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(run_sharded(ops))?;
    }
}

#[test]
fn canon_renames_ids_by_first_appearance() {
    let mut seen = HashMap::new();
    let a = "00000000-0000-0000-0000-000000000001";
    let b = "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b";
    assert_eq!(canon(&format!("x{b} {a}-{b}"), &mut seen), "x#0 #1-#0");
    assert_eq!(canon(a, &mut seen), "#1");
}
