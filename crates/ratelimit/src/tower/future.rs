//! [`ResponseFuture`]: waits for the limiter, then for the inner service (or answers `429`).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use http::header::{CONTENT_TYPE, HeaderMap, HeaderValue};
use http::{Request, Response, StatusCode};
use pin_project_lite::pin_project;
use tower::Service;

use super::headers::{self, Outcome};

/// The limiter's verdict on a request: the outcome of each rule, and whether legacy headers are
/// wanted.
pub(crate) type Verdict = (Vec<Outcome>, bool);
type CheckFuture = Pin<Box<dyn Future<Output = Verdict> + Send>>;

pin_project! {
    /// The future of a [`RateLimit`](super::RateLimit) service call.
    pub struct ResponseFuture<F, S, ReqB> {
        #[pin]
        state: State<F, S, ReqB>,
    }
}

pin_project! {
    #[project = StateProj]
    enum State<F, S, ReqB> {
        Checking {
            check: CheckFuture,
            service: Option<S>,
            request: Option<Request<ReqB>>,
        },
        Calling {
            #[pin]
            future: F,
            headers: Option<HeaderMap>,
        },
    }
}

impl<F, S, ReqB> std::fmt::Debug for ResponseFuture<F, S, ReqB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture").finish_non_exhaustive()
    }
}

impl<F, S, ReqB> ResponseFuture<F, S, ReqB> {
    pub(crate) fn checking(check: CheckFuture, service: S, request: Request<ReqB>) -> Self {
        Self {
            state: State::Checking {
                check,
                service: Some(service),
                request: Some(request),
            },
        }
    }

    pub(crate) fn calling(future: F, headers: Option<HeaderMap>) -> Self {
        Self {
            state: State::Calling { future, headers },
        }
    }
}

impl<F, S, ReqB, ResB, E> Future for ResponseFuture<F, S, ReqB>
where
    F: Future<Output = Result<Response<ResB>, E>>,
    S: Service<Request<ReqB>, Future = F, Response = Response<ResB>, Error = E>,
    ResB: From<String>,
{
    type Output = Result<Response<ResB>, E>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        loop {
            match self.as_mut().project().state.project() {
                StateProj::Checking {
                    check,
                    service,
                    request,
                } => {
                    let (outcomes, legacy) = ready!(check.as_mut().poll(cx));
                    let headers = headers::headers(&outcomes, legacy);
                    if outcomes.iter().any(|o| !o.decision.allowed) {
                        return Poll::Ready(Ok(too_many_requests(&outcomes, headers)));
                    }
                    let (Some(mut service), Some(request)) = (service.take(), request.take())
                    else {
                        // Only reachable if polled again after completion, which futures must
                        // not be; answer rather than panic.
                        return Poll::Ready(Ok(too_many_requests(&outcomes, headers)));
                    };
                    let future = service.call(request);
                    self.as_mut().project().state.set(State::Calling {
                        future,
                        headers: Some(headers),
                    });
                }
                StateProj::Calling { future, headers } => {
                    let mut response = ready!(future.poll(cx))?;
                    if let Some(headers) = headers.take() {
                        response.headers_mut().extend(headers);
                    }
                    return Poll::Ready(Ok(response));
                }
            }
        }
    }
}

fn too_many_requests<B: From<String>>(outcomes: &[Outcome], headers: HeaderMap) -> Response<B> {
    let mut response = Response::new(B::from(headers::problem(outcomes)));
    *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
    let map = response.headers_mut();
    map.extend(headers);
    map.insert(
        CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}
