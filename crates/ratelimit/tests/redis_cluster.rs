//! The Redis backend on a real Redis Cluster of three primaries that the test starts on free
//! ports: every key routed to its slot, exact under concurrency, batches across slots,
//! multi-limit checks within one slot, and the tower backend across slots.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use keel_ratelimit::Quota;
use keel_ratelimit::redis::{
    Check, FailurePolicy, NativeGcra, RedisAlgorithm, RedisConfig, RedisLimitError, RedisLimiter,
};

/// Three cluster-enabled redis-servers joined into one cluster (all 16,384 slots covered).
struct OwnCluster {
    ports: Vec<u16>,
    children: Vec<Child>,
    dir: PathBuf,
}

fn free_port() -> u16 {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    l.local_addr().unwrap().port()
}

fn on_path(binary: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {binary}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

impl OwnCluster {
    // Children are killed and waited for in `Drop`.
    #[allow(clippy::zombie_processes, clippy::panic)]
    async fn start() -> Option<Self> {
        if !on_path("redis-server") || !on_path("redis-cli") {
            assert!(
                !keel_testkit::in_ci(),
                "redis-server and redis-cli must be installed under CI"
            );
            eprintln!("skipped: redis-server or redis-cli not found on PATH");
            return None;
        }
        let dir = std::env::temp_dir().join(keel_testkit::unique_prefix("keel-cluster"));
        std::fs::create_dir_all(&dir).unwrap();
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let mut children = Vec::new();
        for port in &ports {
            children.push(
                Command::new("redis-server")
                    .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                    .args(["--cluster-enabled", "yes"])
                    .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
                    .args(["--dir", dir.to_str().unwrap()])
                    .args(["--save", "", "--appendonly", "no"])
                    .stdout(Stdio::null())
                    .stderr(Stdio::null())
                    .spawn()
                    .unwrap(),
            );
        }
        let cluster = Self {
            ports,
            children,
            dir,
        };
        for port in &cluster.ports {
            let mut up = false;
            for _ in 0..100 {
                if tokio::net::TcpStream::connect(("127.0.0.1", *port))
                    .await
                    .is_ok()
                {
                    up = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
            assert!(up, "redis-server did not start on port {port}");
        }
        let nodes: Vec<String> = cluster
            .ports
            .iter()
            .map(|p| format!("127.0.0.1:{p}"))
            .collect();
        let created = Command::new("redis-cli")
            .arg("--cluster")
            .arg("create")
            .args(&nodes)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap();
        assert!(created.success(), "redis-cli --cluster create failed");
        for port in &cluster.ports {
            let mut ok = false;
            for _ in 0..200 {
                let info = Command::new("redis-cli")
                    .args(["-p", &port.to_string(), "cluster", "info"])
                    .output()
                    .unwrap();
                if String::from_utf8_lossy(&info.stdout).contains("cluster_state:ok") {
                    ok = true;
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert!(
                ok,
                "the cluster did not reach cluster_state:ok on port {port}"
            );
        }
        Some(cluster)
    }

    fn urls(&self) -> Vec<String> {
        self.ports
            .iter()
            .map(|p| format!("redis://127.0.0.1:{p}"))
            .collect()
    }

    async fn limiter(&self, prefix: &str) -> RedisLimiter {
        let config = RedisConfig::new(prefix)
            .timeout(Duration::from_secs(5))
            .native_gcra(NativeGcra::Never)
            .deny_cache(0)
            .failure_policy(FailurePolicy::Closed {
                retry_after: Duration::from_secs(1),
            });
        RedisLimiter::cluster(self.urls(), config).await.unwrap()
    }

    /// Keys stored on each node.
    fn keys_per_node(&self) -> Vec<u64> {
        self.ports
            .iter()
            .map(|p| {
                let out = Command::new("redis-cli")
                    .args(["-p", &p.to_string(), "dbsize"])
                    .output()
                    .unwrap();
                String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
            })
            .collect()
    }
}

impl Drop for OwnCluster {
    fn drop(&mut self) {
        for child in &mut self.children {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One cluster for the whole test (starting one costs about a second).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_redis_cluster() {
    let Some(cluster) = OwnCluster::start().await else {
        return;
    };
    three_instances_admit_exactly_the_allowance(&cluster).await;
    batches_span_slots_and_multi_limit_checks_need_one(&cluster).await;
    the_tower_backend_checks_rules_across_slots(&cluster).await;
}

/// Three limiters with their own cluster connections, 16 tasks each, 12 keys spread over the
/// nodes: every key admits exactly its allowance.
async fn three_instances_admit_exactly_the_allowance(cluster: &OwnCluster) {
    let allowance = 40u64;
    let quota = Quota::new(allowance, Duration::from_secs(86_400)).unwrap();
    for algorithm in [RedisAlgorithm::Gcra, RedisAlgorithm::SlidingWindowCounter] {
        let prefix = keel_testkit::unique_prefix("cluster-exact");
        let mut limiters = Vec::new();
        for _ in 0..3 {
            limiters.push(cluster.limiter(&prefix).await);
        }
        let admitted: Arc<Vec<AtomicU64>> = Arc::new((0..12).map(|_| AtomicU64::new(0)).collect());
        let mut tasks = Vec::new();
        for limiter in &limiters {
            for t in 0..16u64 {
                let (limiter, admitted) = (limiter.clone(), Arc::clone(&admitted));
                tasks.push(tokio::spawn(async move {
                    for i in 0..12u64 {
                        let k = ((t + i) % 12) as usize;
                        let d = limiter
                            .check(algorithm, quota, &format!("user{k}"), 1)
                            .await
                            .unwrap();
                        if d.allowed {
                            admitted[k].fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }));
            }
        }
        for t in tasks {
            t.await.unwrap();
        }
        // 3 x 16 x 12 / 12 = 48 attempts per key, 40 allowed.
        for (k, n) in admitted.iter().enumerate() {
            assert_eq!(
                n.load(Ordering::Relaxed),
                allowance,
                "{algorithm:?} user{k}"
            );
        }
        for l in &limiters {
            assert_eq!(
                l.stats().failures,
                0,
                "no call failed (no MOVED, no CROSSSLOT)"
            );
        }
    }
    let per_node = cluster.keys_per_node();
    assert!(
        per_node.iter().filter(|&&n| n > 0).count() >= 2,
        "keys spread over the nodes: {per_node:?}"
    );
}

async fn batches_span_slots_and_multi_limit_checks_need_one(cluster: &OwnCluster) {
    let limiter = cluster
        .limiter(&keel_testkit::unique_prefix("cluster-batch"))
        .await;
    let quota = Quota::per_hour(2).unwrap();
    let keys: Vec<String> = (0..20).map(|i| format!("caller{i}")).collect();
    let checks: Vec<Check<'_>> = keys
        .iter()
        .map(|k| Check::new(RedisAlgorithm::Gcra, quota, k))
        .collect();
    for round in 0..3 {
        let decisions = limiter.check_batch(&checks).await.unwrap();
        assert_eq!(decisions.len(), 20);
        assert!(
            decisions.iter().all(|d| d.allowed == (round < 2)),
            "round {round}: {decisions:?}"
        );
    }
    assert_eq!(limiter.stats().failures, 0);

    // Several quotas on one caller key share its slot: one atomic script run.
    let both = [
        Check::new(RedisAlgorithm::Gcra, Quota::per_second(5).unwrap(), "solo"),
        Check::new(
            RedisAlgorithm::TokenBucket,
            Quota::per_hour(1).unwrap(),
            "solo",
        ),
    ];
    assert!(
        limiter
            .check_all(&both)
            .await
            .unwrap()
            .iter()
            .all(|d| d.allowed)
    );
    let second = limiter.check_all(&both).await.unwrap();
    assert!(second[0].allowed && !second[1].allowed, "{second:?}");

    // Keys in different slots cannot meet in one script: a typed error, nothing consumed.
    let spread = [
        Check::new(RedisAlgorithm::Gcra, quota, "alpha"),
        Check::new(RedisAlgorithm::Gcra, quota, "beta"),
    ];
    assert!(matches!(
        limiter.check_all(&spread).await,
        Err(RedisLimitError::CrossSlot(2))
    ));
    let alpha = limiter
        .check(RedisAlgorithm::Gcra, quota, "alpha", 1)
        .await
        .unwrap();
    assert!(alpha.allowed && alpha.remaining == 1, "{alpha:?}");
}

#[cfg(feature = "tower")]
async fn the_tower_backend_checks_rules_across_slots(cluster: &OwnCluster) {
    use keel_ratelimit::tower::{Backend, LimitCheck, RedisBackend};
    let backend = RedisBackend::new(
        cluster
            .limiter(&keel_testkit::unique_prefix("cluster-tower"))
            .await,
        RedisAlgorithm::Gcra,
    );
    let quota = Quota::per_hour(1).unwrap();
    let checks = [
        LimitCheck {
            policy: "per-ip",
            quota,
            key: "203.0.113.5",
        },
        LimitCheck {
            policy: "per-user",
            quota,
            key: "42",
        },
    ];
    let first = backend.check(&checks).await;
    assert!(first.iter().all(|d| d.allowed), "{first:?}");
    let second = backend.check(&checks).await;
    assert!(second.iter().all(|d| !d.allowed), "{second:?}");
}

#[cfg(not(feature = "tower"))]
async fn the_tower_backend_checks_rules_across_slots(_cluster: &OwnCluster) {}
