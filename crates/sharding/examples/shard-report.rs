//! The sharding report: balance, movement, speed and memory of every strategy.
//!
//! Run: `cargo run --release -p keel-sharding --example shard-report [-- --svg <path>]`
//!
//! For each strategy at 10, 100 and 1,000 shards over 1M keys (`user:0` .. `user:999999`):
//! max/mean load, coefficient of variation, fraction of keys moved from N to N+1 shards beside
//! the ideal 1/(N+1), lookup time (a timed pass over 200k keys, so it includes cache misses on
//! the strategy's tables) and heap memory. It also writes an SVG of the load spread at 100
//! shards (default `target/shard-report.svg`).
#![allow(clippy::print_stdout, missing_docs)]

use std::{hint::black_box, time::Instant};

use keel_sharding::{
    BoundedLoads, HashMod, HashSharder, Jump, Maglev, Memento, Rendezvous, Ring, ShardId,
    ShardingError, WeightedShard, stable_hash,
};

const KEYS: usize = 1_000_000;
const TIMED: usize = 200_000;
const SIZES: [u32; 3] = [10, 100, 1000];

/// A built strategy: where keys go, which shards are live, how much memory it holds.
struct Built {
    place: Box<dyn FnMut(u64) -> ShardId>,
    live: Vec<ShardId>,
    memory: usize,
}

fn plain<S: HashSharder + 'static>(s: S, live: Vec<ShardId>, memory: usize) -> Built {
    Built {
        place: Box::new(move |h| s.shard_for_hash(h)),
        live,
        memory,
    }
}

type Make = fn(u32) -> Result<Built, ShardingError>;

fn ids(n: u32) -> Vec<ShardId> {
    (0..n).map(ShardId).collect()
}

fn hashmod(n: u32) -> Result<Built, ShardingError> {
    let s = HashMod::new(n)?;
    Ok(plain(s, ids(n), s.memory_bytes()))
}

fn jump(n: u32) -> Result<Built, ShardingError> {
    let s = Jump::new(n)?;
    Ok(plain(s, ids(n), s.memory_bytes()))
}

/// Memento with `n` working buckets out of `n + n/10`: a tenth removed, scattered. Growing to
/// `n + 1` restores the last removed bucket.
fn memento_state(n: u32) -> Result<Memento, ShardingError> {
    let extra = (n / 10).max(1);
    let mut m = Memento::new(n + extra)?;
    for i in 0..extra {
        m.remove_bucket(ShardId(i * 10 % (n + extra)))?;
    }
    Ok(m)
}

fn memento(n: u32) -> Result<Built, ShardingError> {
    let m = memento_state(n)?;
    let live = m.buckets();
    let memory = m.memory_bytes();
    Ok(plain(m, live, memory))
}

fn memento_grown(n: u32) -> Result<Built, ShardingError> {
    let mut m = memento_state(n)?;
    m.add_bucket();
    let live = m.buckets();
    let memory = m.memory_bytes();
    Ok(plain(m, live, memory))
}

fn rendezvous(n: u32) -> Result<Built, ShardingError> {
    let s = Rendezvous::new(ids(n))?;
    let memory = s.memory_bytes();
    Ok(plain(s, ids(n), memory))
}

fn maglev(n: u32) -> Result<Built, ShardingError> {
    // The table size is fixed by the N-shard topology, so N and N+1 use the same table.
    let m = Maglev::weighted(
        ids(n).into_iter().map(|id| WeightedShard::new(id, 1)),
        Some(maglev_size(n)),
    )?;
    let memory = m.memory_bytes();
    Ok(plain(m, ids(n), memory))
}

fn maglev_grown(n: u32) -> Result<Built, ShardingError> {
    let m = Maglev::weighted(
        ids(n + 1).into_iter().map(|id| WeightedShard::new(id, 1)),
        Some(maglev_size(n)),
    )?;
    let memory = m.memory_bytes();
    Ok(plain(m, ids(n + 1), memory))
}

fn maglev_minimal_grown(n: u32) -> Result<Built, ShardingError> {
    let mut m = Maglev::weighted(
        ids(n).into_iter().map(|id| WeightedShard::new(id, 1)),
        Some(maglev_size(n)),
    )?;
    m.add_shard_minimal(WeightedShard::new(n, 1))?;
    let memory = m.memory_bytes();
    Ok(plain(m, ids(n + 1), memory))
}

fn maglev_size(n: u32) -> u64 {
    (128 * u64::from(n)).max(65_537)
}

fn ring100(n: u32) -> Result<Built, ShardingError> {
    let s = Ring::new(ids(n), 100)?;
    let memory = s.memory_bytes();
    Ok(plain(s, ids(n), memory))
}

fn ring1000(n: u32) -> Result<Built, ShardingError> {
    let s = Ring::new(ids(n), 1000)?;
    let memory = s.memory_bytes();
    Ok(plain(s, ids(n), memory))
}

fn bounded(n: u32) -> Result<Built, ShardingError> {
    let mut s = BoundedLoads::new(Ring::new(ids(n), 100)?, 0.25)?;
    let memory = s.memory_bytes();
    Ok(Built {
        place: Box::new(move |h| s.assign_hash(h)),
        live: ids(n),
        memory,
    })
}

struct Row {
    name: &'static str,
    n: u32,
    max_mean: f64,
    cv: f64,
    moved: f64,
    ns: f64,
    memory: usize,
    normalised_loads: Vec<f64>,
}

fn loads(b: &mut Built, hashes: &[u64]) -> (Vec<ShardId>, Vec<u64>) {
    let max_id = b.live.iter().map(|s| s.0).max().unwrap_or(0) as usize;
    let mut counts = vec![0u64; max_id + 1];
    let mut placed = Vec::with_capacity(hashes.len());
    for &h in hashes {
        let s = (b.place)(h);
        if let Some(c) = counts.get_mut(s.0 as usize) {
            *c += 1;
        }
        placed.push(s);
    }
    let live_loads = b
        .live
        .iter()
        .map(|s| counts.get(s.0 as usize).copied().unwrap_or(0))
        .collect();
    (placed, live_loads)
}

fn measure(
    name: &'static str,
    make: Make,
    grow: Make,
    n: u32,
    hashes: &[u64],
) -> Result<Row, ShardingError> {
    let mut built = make(n)?;
    let memory = built.memory;
    let (placed, live_loads) = loads(&mut built, hashes);
    let mean = hashes.len() as f64 / live_loads.len() as f64;
    let max = live_loads.iter().copied().max().unwrap_or(0) as f64;
    let var = live_loads
        .iter()
        .map(|&l| (l as f64 - mean).powi(2))
        .sum::<f64>()
        / live_loads.len() as f64;
    // Lookup time on a fresh instance (bounded loads keeps counting, like in production).
    let mut timed = make(n)?;
    let sample = hashes.get(..TIMED).unwrap_or(hashes);
    let start = Instant::now();
    let mut acc = 0u64;
    for &h in sample {
        acc = acc.wrapping_add(u64::from((timed.place)(black_box(h)).0));
    }
    black_box(acc);
    let ns = start.elapsed().as_nanos() as f64 / sample.len() as f64;
    let mut grown = grow(n)?;
    let (placed2, _) = loads(&mut grown, hashes);
    let moved = placed.iter().zip(&placed2).filter(|(a, b)| a != b).count();
    Ok(Row {
        name,
        n,
        max_mean: max / mean,
        cv: var.sqrt() / mean,
        moved: moved as f64 / hashes.len() as f64,
        ns,
        memory,
        normalised_loads: live_loads.iter().map(|&l| l as f64 / mean).collect(),
    })
}

fn svg(rows: &[Row]) -> String {
    let at100: Vec<&Row> = rows.iter().filter(|r| r.n == 100).collect();
    let (w, h, left, top, bottom) = (900.0, 60.0 + 40.0 * at100.len() as f64, 170.0, 40.0, 20.0);
    let (lo, hi) = (0.7, 1.3);
    let x = |v: f64| left + (v.clamp(lo, hi) - lo) / (hi - lo) * (w - left - 30.0);
    let mut out = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n<text x=\"10\" y=\"20\">Load per shard \
         / mean, 100 shards, 1M keys (clamped to {lo}..{hi})</text>\n"
    );
    for t in [0.8, 0.9, 1.0, 1.1, 1.2] {
        out.push_str(&format!(
            "<line x1=\"{0}\" x2=\"{0}\" y1=\"{top}\" y2=\"{1}\" stroke=\"#ccc\"/><text x=\"{0}\" \
             y=\"{2}\" text-anchor=\"middle\">{t}</text>\n",
            x(t),
            h - bottom,
            h - 4.0
        ));
    }
    for (i, r) in at100.iter().enumerate() {
        let y = top + 20.0 + 40.0 * i as f64;
        out.push_str(&format!(
            "<text x=\"10\" y=\"{}\">{}</text>\n",
            y + 4.0,
            r.name
        ));
        for &l in &r.normalised_loads {
            out.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{y}\" r=\"3\" fill=\"#3366cc\" fill-opacity=\"0.4\"/>\n",
                x(l)
            ));
        }
    }
    out.push_str("</svg>\n");
    out
}

fn main() -> Result<(), ShardingError> {
    let args: Vec<String> = std::env::args().collect();
    let svg_path = args
        .iter()
        .position(|a| a == "--svg")
        .and_then(|i| args.get(i + 1).cloned())
        .unwrap_or_else(|| "target/shard-report.svg".to_owned());
    let hashes: Vec<u64> = (0..KEYS)
        .map(|i| stable_hash(format!("user:{i}").as_bytes()))
        .collect();
    let strategies: [(&'static str, Make, Make); 9] = [
        ("hash-mod", hashmod, |n| hashmod(n + 1)),
        ("jump", jump, |n| jump(n + 1)),
        ("memento (10% removed)", memento, memento_grown),
        ("rendezvous", rendezvous, |n| rendezvous(n + 1)),
        ("maglev (rebuilt)", maglev, maglev_grown),
        ("maglev (minimal update)", maglev, maglev_minimal_grown),
        ("ring, 100 vnodes", ring100, |n| ring100(n + 1)),
        ("ring, 1000 vnodes", ring1000, |n| ring1000(n + 1)),
        ("bounded loads e=0.25", bounded, |n| bounded(n + 1)),
    ];
    println!("keel-sharding report: {KEYS} keys, lookups timed over {TIMED} keys\n");
    println!(
        "| strategy | shards | max/mean | CV | moved N->N+1 | ideal 1/(N+1) | lookup ns | memory |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let mut rows = Vec::new();
    for (name, make, grow) in strategies {
        for n in SIZES {
            let r = measure(name, make, grow, n, &hashes)?;
            println!(
                "| {} | {} | {:.3} | {:.4} | {:.5} | {:.5} | {:.1} | {} |",
                r.name,
                r.n,
                r.max_mean,
                r.cv,
                r.moved,
                1.0 / f64::from(n + 1),
                r.ns,
                human(r.memory)
            );
            rows.push(r);
        }
    }
    match std::fs::write(&svg_path, svg(&rows)) {
        Ok(()) => println!("\nload spread at 100 shards written to {svg_path}"),
        Err(e) => println!("\ncould not write {svg_path}: {e}"),
    }
    Ok(())
}

fn human(bytes: usize) -> String {
    if bytes >= 1 << 20 {
        format!("{:.1} MiB", bytes as f64 / f64::from(1 << 20))
    } else if bytes >= 1 << 10 {
        format!("{:.1} KiB", bytes as f64 / 1024.0)
    } else {
        format!("{bytes} B")
    }
}
