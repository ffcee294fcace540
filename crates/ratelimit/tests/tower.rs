//! The tower layer, in process (`oneshot`) on a manual clock, and over a real Redis.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use http::{Request, Response, StatusCode};
use keel_ratelimit::ManualClock;
use keel_ratelimit::tower::{
    ApiKey, ClientIp, InProcess, RateLimit, RateLimitLayer, Route, Rule, User,
};
use tower::{Layer, Service, ServiceExt};

type Svc = RateLimit<
    tower::util::ServiceFn<
        fn(Request<String>) -> std::future::Ready<Result<Response<String>, Infallible>>,
    >,
>;

fn hello(_req: Request<String>) -> std::future::Ready<Result<Response<String>, Infallible>> {
    std::future::ready(Ok(Response::new("hello".to_owned())))
}

fn service(layer: &RateLimitLayer) -> Svc {
    layer.layer(tower::service_fn(
        hello as fn(Request<String>) -> std::future::Ready<Result<Response<String>, Infallible>>,
    ))
}

fn request(peer: &str, path: &str) -> Request<String> {
    let mut r = Request::builder().uri(path).body(String::new()).unwrap();
    r.extensions_mut()
        .insert(peer.parse::<SocketAddr>().unwrap());
    r
}

async fn send(svc: &mut Svc, req: Request<String>) -> Response<String> {
    svc.ready().await.unwrap().call(req).await.unwrap()
}

#[tokio::test]
async fn per_ip_limit_answers_429_with_headers_and_problem_details() {
    let clock = ManualClock::starting_now();
    let layer = RateLimitLayer::builder()
        .backend(InProcess::with_clock(clock.clone()))
        .rule(Rule::new("per-ip", "2/10s".parse().unwrap(), ClientIp::new()).unwrap())
        .legacy_headers(true)
        .build()
        .unwrap();
    let mut svc = service(&layer);
    let first = send(&mut svc, request("198.51.100.1:1", "/")).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(first.headers()["ratelimit-policy"], "\"per-ip\";q=2;w=10");
    assert_eq!(first.headers()["ratelimit"], "\"per-ip\";r=1;t=5");
    assert_eq!(first.headers()["x-ratelimit-remaining"], "1");
    assert!(first.headers().get("retry-after").is_none());
    assert_eq!(
        send(&mut svc, request("198.51.100.1:2", "/"))
            .await
            .status(),
        200
    );

    let denied = send(&mut svc, request("198.51.100.1:3", "/")).await;
    assert_eq!(denied.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(denied.headers()["retry-after"], "5");
    assert_eq!(denied.headers()["ratelimit"], "\"per-ip\";r=0;t=10");
    assert_eq!(denied.headers()["content-type"], "application/problem+json");
    let body = denied.body();
    assert!(
        body.contains("\"status\":429") && body.contains("\"per-ip\""),
        "{body}"
    );

    // Another client has its own allowance; a clone of the layer shares the limiter.
    let mut other = service(&layer.clone());
    assert_eq!(
        send(&mut other, request("198.51.100.2:1", "/"))
            .await
            .status(),
        200
    );
    assert_eq!(
        send(&mut other, request("198.51.100.1:4", "/"))
            .await
            .status(),
        429
    );

    clock.advance(Duration::from_secs(5));
    assert_eq!(
        send(&mut svc, request("198.51.100.1:5", "/"))
            .await
            .status(),
        200
    );
}

#[tokio::test]
async fn a_client_cannot_choose_its_key_through_forwarded_for() {
    let clock = ManualClock::starting_now();
    let ip = ClientIp::new().trust("10.0.0.0/8").unwrap();
    let layer = RateLimitLayer::builder()
        .backend(InProcess::with_clock(clock))
        .rule(Rule::new("per-ip", "1/m".parse().unwrap(), ip).unwrap())
        .build()
        .unwrap();
    let mut svc = service(&layer);
    for (i, forged) in ["1.1.1.1", "2.2.2.2", "3.3.3.3"].into_iter().enumerate() {
        let mut r = request("10.0.0.5:443", "/");
        r.headers_mut().insert(
            "x-forwarded-for",
            format!("{forged}, 203.0.113.50").parse().unwrap(),
        );
        let status = send(&mut svc, r).await.status();
        assert_eq!(status == 200, i == 0, "forged {forged}");
    }
}

#[derive(Clone, Debug)]
struct UserId(u64);

impl std::fmt::Display for UserId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[tokio::test]
async fn rules_per_user_per_route_and_per_tier_compose() {
    let clock = ManualClock::starting_now();
    let tier = |parts: &http::request::Parts| {
        parts
            .headers
            .get("x-tier")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let layer = RateLimitLayer::builder()
        .backend(InProcess::with_clock(clock.clone()))
        .rule(Rule::new("per-user", "3/m".parse().unwrap(), User::<UserId>::new()).unwrap())
        .rule(
            Rule::new("search", "1/m".parse().unwrap(), Route)
                .unwrap()
                .route_prefix("/search"),
        )
        .rule(
            Rule::tiered(
                "tier",
                ApiKey::header(http::HeaderName::from_static("x-api-key")),
                tier,
                [
                    ("free", "1/h".parse().unwrap()),
                    ("pro", "100/h".parse().unwrap()),
                ],
            )
            .unwrap(),
        )
        .build()
        .unwrap();
    let mut svc = service(&layer);
    let as_user = |path: &str, id: u64| {
        let mut r = request("203.0.113.1:1", path);
        r.extensions_mut().insert(UserId(id));
        r
    };
    // Anonymous requests are not under the per-user rule (and no other rule applies).
    let anon = send(&mut svc, request("203.0.113.1:1", "/")).await;
    assert!(anon.headers().get("ratelimit").is_none());

    assert_eq!(send(&mut svc, as_user("/search", 1)).await.status(), 200);
    // The search route is spent; the denial costs nothing under the per-user rule...
    let denied = send(&mut svc, as_user("/search", 2)).await;
    assert_eq!(denied.status(), 429);
    assert!(denied.body().contains("[\"search\"]"));
    // ...so user 2 still has three requests elsewhere.
    for _ in 0..3 {
        let ok = send(&mut svc, as_user("/feed", 2)).await;
        assert_eq!(ok.status(), 200);
    }
    let spent = send(&mut svc, as_user("/feed", 2)).await;
    assert_eq!(spent.status(), 429);
    assert_eq!(spent.headers()["ratelimit"], "\"per-user\";r=0;t=60");

    // Tiers: free keys get one an hour, pro keys a hundred.
    let keyed = |tier: &str, key: &str| {
        let mut r = request("203.0.113.1:1", "/");
        r.headers_mut().insert("x-tier", tier.parse().unwrap());
        r.headers_mut().insert("x-api-key", key.parse().unwrap());
        r
    };
    assert_eq!(send(&mut svc, keyed("free", "a")).await.status(), 200);
    assert_eq!(send(&mut svc, keyed("free", "a")).await.status(), 429);
    for _ in 0..5 {
        let ok = send(&mut svc, keyed("pro", "b")).await;
        assert_eq!(ok.status(), 200);
        assert!(
            ok.headers()["ratelimit-policy"]
                .to_str()
                .unwrap()
                .contains("q=100;w=3600")
        );
    }
}

#[test]
fn configuration_mistakes_are_errors() {
    let q = "1/s".parse().unwrap();
    assert!(Rule::new("bad name", q, Route).is_err());
    assert!(Rule::new("", q, Route).is_err());
    assert!(Rule::new("a\"b", q, Route).is_err());
    let dup = RateLimitLayer::builder()
        .rule(Rule::new("x", q, Route).unwrap())
        .rule(Rule::new("x", q, Route).unwrap())
        .build();
    assert!(dup.is_err());
    assert!(ClientIp::new().trust("10.0.0.0/40").is_err());
    let none: [(&str, keel_ratelimit::Quota); 0] = [];
    assert!(Rule::tiered("t", Route, |_: &http::request::Parts| None, none).is_err());
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn a_core_policy_limits_by_scope_with_every_quota() {
    let clock = ManualClock::starting_now();
    // The same description could build an in-process `Policy`; here it drives the layer.
    let policy = keel_ratelimit::PolicyBuilder::new()
        .rule(
            "free:search".to_owned(),
            &["2/s".parse().unwrap(), "3/h".parse().unwrap()],
        )
        .rule("free:read".to_owned(), &["5/s".parse().unwrap()]);
    let layer = RateLimitLayer::builder()
        .backend(InProcess::with_clock(clock.clone()))
        .rule(
            Rule::from_policy(
                "api",
                ClientIp::new(),
                |parts| {
                    let class = if parts.uri.path().starts_with("/search") {
                        "search"
                    } else {
                        "read"
                    };
                    Some(format!("free:{class}"))
                },
                policy,
            )
            .unwrap(),
        )
        .build()
        .unwrap();
    let mut svc = service(&layer);
    let ip = "198.51.100.9:1";
    let first = send(&mut svc, request(ip, "/search")).await;
    assert_eq!(first.status(), StatusCode::OK);
    assert_eq!(
        first.headers()["ratelimit-policy"],
        "\"api.1\";q=2;w=1, \"api.2\";q=3;w=3600"
    );
    assert_eq!(send(&mut svc, request(ip, "/search")).await.status(), 200);
    // The per-second quota denies; the hourly one is not charged for the denial.
    let denied = send(&mut svc, request(ip, "/search")).await;
    assert_eq!(denied.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(denied.headers()["retry-after"], "1");
    clock.advance(Duration::from_secs(1));
    assert_eq!(send(&mut svc, request(ip, "/search")).await.status(), 200);
    clock.advance(Duration::from_secs(1));
    // Three in the hour now: the hourly quota denies.
    let hourly = send(&mut svc, request(ip, "/search")).await;
    assert_eq!(hourly.status(), StatusCode::TOO_MANY_REQUESTS);
    // Another scope keeps its own counts, under its single quota's plain name.
    let read = send(&mut svc, request(ip, "/posts")).await;
    assert_eq!(read.status(), StatusCode::OK);
    assert_eq!(read.headers()["ratelimit-policy"], "\"api\";q=5;w=1");
    assert_eq!(read.headers()["ratelimit"], "\"api\";r=4;t=1");
}

#[test]
fn a_policy_rule_needs_a_scope_and_a_short_name() {
    let empty = keel_ratelimit::PolicyBuilder::<String>::new();
    assert!(Rule::from_policy("api", ClientIp::new(), |_| None, empty).is_err());
    let two = keel_ratelimit::PolicyBuilder::new()
        .default_rule(&["1/s".parse().unwrap(), "2/m".parse().unwrap()]);
    assert!(Rule::from_policy(&"a".repeat(64), ClientIp::new(), |_| None, two).is_err());
}

#[cfg(feature = "redis")]
#[tokio::test]
async fn through_redis_two_layers_share_one_limit() {
    use keel_ratelimit::redis::{RedisAlgorithm, RedisConfig, RedisLimiter};
    use keel_ratelimit::tower::RedisBackend;
    let Some(url) = keel_testkit::require(keel_testkit::Service::Redis).await else {
        return;
    };
    let prefix = keel_testkit::unique_prefix("tower");
    // Two "instances", each with its own limiter and layer.
    let layers: Vec<RateLimitLayer> = (0..2)
        .map(|_| {
            let limiter = RedisLimiter::new(&url, RedisConfig::new(prefix.clone())).unwrap();
            RateLimitLayer::builder()
                .backend(RedisBackend::new(limiter, RedisAlgorithm::Gcra))
                .rule(Rule::new("per-ip", "4/h".parse().unwrap(), ClientIp::new()).unwrap())
                .rule(
                    Rule::new("per-user", "100/h".parse().unwrap(), User::<UserId>::new()).unwrap(),
                )
                .build()
                .unwrap()
        })
        .collect();
    let mut a = service(&layers[0]);
    let mut b = service(&layers[1]);
    let mut admitted = 0;
    for i in 0..10 {
        let svc = if i % 2 == 0 { &mut a } else { &mut b };
        let mut r = request("192.0.2.1:1", "/");
        r.extensions_mut().insert(UserId(9));
        let resp = send(svc, r).await;
        if resp.status() == 200 {
            admitted += 1;
            assert!(
                resp.headers()["ratelimit"]
                    .to_str()
                    .unwrap()
                    .contains("\"per-user\";r=")
            );
        } else {
            assert_eq!(resp.status(), 429);
            assert!(resp.headers().contains_key("retry-after"));
        }
    }
    assert_eq!(admitted, 4, "the fleet admits the quota once");
}
