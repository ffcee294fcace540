//! The HTTP server: the router with its middleware stack, served by hyper with a header-read
//! timeout (a slow-headers client cannot hold a connection forever) and a graceful shutdown
//! that drains in-flight requests, then the event consumers.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{Next, from_fn, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use tower::Service;
use tower_http::compression::CompressionLayer;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

use crate::error::ApiError;
use crate::events::EventPipeline;
use crate::state::AppState;
use crate::{limits, metrics, openapi, request_id, routes};

/// The full router over `state`.
pub fn router(state: &AppState) -> Router {
    let config = &state.config;
    let api = routes::api()
        .route_layer(state.rate_limit.clone())
        .route_layer(from_fn_with_state(state.clone(), limits::identify));
    Router::new()
        .merge(api)
        .route("/healthz", get(routes::ops::healthz))
        .route("/readyz", get(routes::ops::readyz))
        .route("/metrics", get(routes::ops::metrics))
        .route("/openapi.json", get(openapi::json))
        .route("/docs", get(openapi::docs))
        .route("/docs/app.js", get(openapi::docs_js))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn(metrics::layer))
        .layer(DefaultBodyLimit::max(config.body_limit))
        .layer(RequestBodyLimitLayer::new(config.body_limit))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            config.request_timeout(),
        ))
        .layer(from_fn(error_shape))
        .layer(CompressionLayer::new())
        .layer(from_fn(request_id::layer))
        .with_state(state.clone())
}

async fn not_found() -> ApiError {
    ApiError::not_found("route")
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "method not allowed on this route; see /openapi.json",
    )
}

fn code_of(status: StatusCode) -> &'static str {
    match status.as_u16() {
        400 => "bad_request",
        401 => "unauthorized",
        403 => "forbidden",
        404 => "not_found",
        405 => "method_not_allowed",
        408 => "request_timeout",
        413 => "payload_too_large",
        415 => "unsupported_media_type",
        429 => "rate_limited",
        500..=599 => "internal",
        _ => "error",
    }
}

/// Middleware: any error response that is not already the JSON error shape (a framework or
/// tower-http rejection: 408, 413, 405...) gets it, keeping its other headers.
///
/// A 408 or 413 may leave the request body unread, so the connection cannot be reused; on
/// HTTP/1 it says `Connection: close`, otherwise a keep-alive client could send its next
/// request on a connection the server is about to close.
async fn error_shape(request: Request, next: Next) -> Response {
    let http1 = request.version() <= axum::http::Version::HTTP_11;
    let mut response = next.run(request).await;
    let status = response.status();
    if http1 && matches!(status.as_u16(), 408 | 413) {
        response
            .headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("close"));
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if status.as_u16() < 400 || is_json {
        return response;
    }
    let (mut parts, _) = response.into_parts();
    let message = match status.as_u16() {
        408 => "the request took too long; retry".to_owned(),
        413 => "request body too large".to_owned(),
        s if s >= 500 => "internal server error; quote the request id when reporting it".to_owned(),
        _ => status.canonical_reason().unwrap_or("error").to_lowercase(),
    };
    let shaped = ApiError::new(status, code_of(status), message).into_response();
    let (shaped_parts, body) = shaped.into_parts();
    parts.headers.remove(header::CONTENT_LENGTH);
    parts.headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    for (k, v) in &shaped_parts.headers {
        if k != header::CONTENT_TYPE {
            parts.headers.insert(k.clone(), v.clone());
        }
    }
    Response::from_parts(parts, body)
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains in-flight requests
/// (up to the configured drain time) and stops `events`.
///
/// # Errors
/// Never in practice: accept errors are logged and retried.
pub async fn run(
    listener: tokio::net::TcpListener,
    state: AppState,
    events: EventPipeline,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let router = router(&state);
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(state.config.header_timeout());
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(error) => {
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let router = router.clone();
        let service = hyper::service::service_fn(
            move |mut request: hyper::Request<hyper::body::Incoming>| {
                request
                    .extensions_mut()
                    .insert(ConnectInfo::<SocketAddr>(peer));
                // The rate limiter's `ClientIp` reads the bare peer address.
                request.extensions_mut().insert(peer);
                let mut router = router.clone();
                async move {
                    let response: Result<Response, Infallible> =
                        router.call(request.map(Body::new)).await;
                    response
                }
            },
        );
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service)
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(%error, %peer, "connection ended with an error");
            }
        });
    }
    drop(listener);
    tracing::info!("draining in-flight requests");
    let drain = Duration::from_millis(state.config.drain_ms);
    if tokio::time::timeout(drain, graceful.shutdown())
        .await
        .is_err()
    {
        tracing::warn!("drain timed out; closing remaining connections");
    }
    events.shutdown().await;
    Ok(())
}
