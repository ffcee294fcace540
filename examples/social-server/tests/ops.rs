//! Connection handling: header-read timeout, graceful shutdown, the demo dataset.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::support::{Server, config};

#[tokio::test]
async fn healthz_answers_over_real_http_and_shuts_down_gracefully() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(keel_social_server::serve(listener, async {
        let _ = stopped.await;
    }));

    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    assert!(response.contains(r#"{"status":"ok"}"#), "{response}");

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops after the shutdown signal")
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn a_slow_headers_client_is_cut_off() {
    let mut c = config();
    c.header_timeout_ms = 300;
    let s = Server::start(c).await;
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    stream
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // Never finish the headers: the server must close the connection on its own.
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "connection still open after 5 s");
    let text = String::from_utf8_lossy(&buf);
    assert!(
        text.is_empty() || text.starts_with("HTTP/1.1 408"),
        "{text}"
    );
    s.stop().await;
}

#[tokio::test]
async fn shutdown_drains_a_request_in_flight() {
    let s = Server::start(config()).await;
    let (_, token, _) = s.user("drainer").await;
    let body = json!({"content": "sent during shutdown"}).to_string();
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST /posts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(&body.as_bytes()[..5]).await.unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await; // the request is now in flight
    let stopping = tokio::spawn(s.stop());
    tokio::time::sleep(Duration::from_millis(100)).await;
    stream.write_all(&body.as_bytes()[5..]).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    assert!(response.starts_with("HTTP/1.1 201"), "{response}");
    tokio::time::timeout(Duration::from_secs(10), stopping)
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn the_demo_dataset_gives_a_feed_at_once() {
    let mut c = config();
    c.demo = true;
    c.no_demo = false;
    let s = Server::start(c).await;
    let t = s
        .post(
            "/auth/login",
            None,
            json!({"login": "ferris", "password": keel_social_server::demo::PASSWORD}),
        )
        .await
        .expect(200);
    let token = t.body["access_token"].as_str().unwrap().to_owned();
    s.eventually("/feed", Some(&token), |b| {
        b["items"].as_array().is_some_and(|i| i.len() >= 5)
    })
    .await;
    s.stop().await;
}

#[tokio::test]
async fn a_request_over_the_timeout_gets_408_in_the_error_shape() {
    let mut c = config();
    c.request_timeout_ms = 300;
    let s = Server::start(c).await;
    let (_, token, _) = s.user("slowbody").await;
    let mut stream = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let head = format!(
        "POST /posts HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: 100\r\nConnection: close\r\n\r\n{{\"content\":"
    );
    stream.write_all(head.as_bytes()).await.unwrap();
    // Never send the rest of the body.
    let mut response = String::new();
    tokio::time::timeout(Duration::from_secs(5), stream.read_to_string(&mut response))
        .await
        .expect("answered within 5 s")
        .unwrap();
    assert!(response.starts_with("HTTP/1.1 408"), "{response}");
    assert!(
        response.contains(r#""code":"request_timeout""#),
        "{response}"
    );
    assert!(response.contains("x-request-id"), "{response}");
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn administration_is_disabled_without_a_token_and_refuses_a_short_one() {
    let mut c = config();
    c.admin_token = None;
    let s = Server::start(c).await;
    let (bob, _, _) = s.user("bob").await;
    let r = s
        .client
        .put(format!("{}/admin/users/{bob}/verified", s.base))
        .header("x-admin-token", "anything")
        .json(&serde_json::json!({"verified": true}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 404);
    s.stop().await;
    let mut c = config();
    c.admin_token = Some("short".to_owned());
    let err = keel_social_server::App::build(c).await.unwrap_err();
    assert!(err.to_string().contains("KEEL_ADMIN_TOKEN"), "{err}");
}
