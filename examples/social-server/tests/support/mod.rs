//! Starting a server on port 0 and calling it.

use std::time::Duration;

use keel_social_server::{App, Config};
use reqwest::{Method, StatusCode, header::HeaderMap};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// The admin token the test servers are configured with.
pub(crate) const ADMIN_TOKEN: &str = "test-admin-token-of-at-least-32-bytes";

/// Fast hashes and memory backends.
pub(crate) fn config() -> Config {
    let mut c = Config::memory();
    c.admin_token = Some(ADMIN_TOKEN.to_owned());
    c.argon2_memory_kib = 1024;
    c.argon2_iterations = 1;
    // Generous limits: the rate-limit tests set their own.
    for q in [
        &mut c.limit_anonymous,
        &mut c.limit_user,
        &mut c.limit_register,
        &mut c.limit_login,
        &mut c.limit_post,
        &mut c.limit_search,
    ] {
        *q = "100000/s burst 10000".to_owned();
    }
    c
}

pub(crate) struct Server {
    pub(crate) base: String,
    pub(crate) addr: std::net::SocketAddr,
    pub(crate) client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<std::io::Result<()>>>,
}

pub(crate) struct Reply {
    pub(crate) status: StatusCode,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Value,
}

impl Reply {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    #[track_caller]
    pub(crate) fn expect(self, status: u16) -> Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        self
    }

    /// Asserts the JSON error shape with this status and code.
    #[track_caller]
    pub(crate) fn error(self, status: u16, code: &str) -> Self {
        assert_eq!(self.status.as_u16(), status, "body: {}", self.body);
        assert_eq!(self.body["error"]["status"], status, "{}", self.body);
        assert_eq!(self.body["error"]["code"], code, "{}", self.body);
        assert!(self.body["error"]["message"].is_string(), "{}", self.body);
        self
    }
}

impl Server {
    pub(crate) async fn start(config: Config) -> Self {
        let app = App::build(config).await.unwrap();
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let handle = tokio::spawn(app.serve(listener, async {
            let _ = stopped.await;
        }));
        Self {
            base: format!("http://{addr}"),
            addr,
            client: reqwest::Client::builder().no_proxy().build().unwrap(),
            stop: Some(stop),
            handle: Some(handle),
        }
    }

    pub(crate) async fn call(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut r = self.client.request(method, format!("{}{path}", self.base));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let headers = resp.headers().clone();
        let bytes = resp.bytes().await.unwrap();
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Reply {
            status,
            headers,
            body,
        }
    }

    pub(crate) async fn get(&self, path: &str, token: Option<&str>) -> Reply {
        self.call(Method::GET, path, token, None).await
    }

    pub(crate) async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Reply {
        self.call(Method::POST, path, token, Some(body)).await
    }

    /// Registers and logs in; returns (id, access token, refresh token).
    pub(crate) async fn user(&self, name: &str) -> (String, String, String) {
        let r = self
            .post(
                "/users",
                None,
                serde_json::json!({"username": name, "email": format!("{name}@example.com"), "password": "password-123"}),
            )
            .await
            .expect(201);
        let id = r.body["id"].as_str().unwrap().to_owned();
        let t = self
            .post(
                "/auth/login",
                None,
                serde_json::json!({"login": name, "password": "password-123"}),
            )
            .await
            .expect(200);
        (
            id,
            t.body["access_token"].as_str().unwrap().to_owned(),
            t.body["refresh_token"].as_str().unwrap().to_owned(),
        )
    }

    /// Polls `path` until `pred` holds (consumers run asynchronously), up to 20 s (the whole
    /// suite runs in parallel on a 2-core CI machine).
    pub(crate) async fn eventually(
        &self,
        path: &str,
        token: Option<&str>,
        pred: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        loop {
            let r = self.get(path, token).await.expect(200);
            if pred(&r.body) {
                return r.body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{path} never satisfied: {}",
                r.body
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub(crate) async fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(h) = self.handle.take() {
            tokio::time::timeout(Duration::from_secs(15), h)
                .await
                .expect("server stops after the shutdown signal")
                .unwrap()
                .unwrap();
        }
    }
}

pub(crate) fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}
