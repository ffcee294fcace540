//! Operations: `/healthz` (alive), `/readyz` (backends reachable), `/metrics` (Prometheus).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::state::AppState;

/// Alive: answers as long as the process serves HTTP.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready: storage, Redis (when configured) and the bus answer. 503 otherwise.
pub async fn readyz(State(s): State<AppState>) -> Response {
    let storage = s.store.pending_outbox().await.is_ok();
    let redis = match &s.backends.redis {
        Some(conn) => {
            let mut conn = conn.clone();
            Some(
                redis::cmd("PING")
                    .query_async::<String>(&mut conn)
                    .await
                    .is_ok(),
            )
        }
        None => None,
    };
    let ok = storage && redis.unwrap_or(true);
    let body = json!({
        "status": if ok { "ready" } else { "unavailable" },
        "storage": { "backend": s.backends.storage, "ok": storage },
        "redis": redis.map(|ok| json!({ "ok": ok })),
        "bus": { "backend": s.backends.bus_kind },
    });
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// Prometheus text format.
pub async fn metrics() -> Response {
    let text = crate::metrics::handle()
        .map(|h| h.render())
        .unwrap_or_default();
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], text).into_response()
}
