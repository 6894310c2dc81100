//! The loopback HTTP listener of `-M`: `GET /metrics`, `GET /` (the graphs
//! page) and `GET /history.json` (`?points=N` or `?seconds=S`: the last
//! samples; `?max=M`: at most M of them), on its own thread with a small tokio
//! runtime that also takes the samples.
//!
//! Requests are bounded: only GET (405 otherwise), the request head read
//! within 5 s and at most 16 KB of it buffered, one request per connection,
//! each connection closed after 30 s, at most 16 connections at once (more
//! are closed at once).

use std::convert::Infallible;
use std::net::{SocketAddr, TcpListener as StdListener};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_TYPE};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::sync::Semaphore;

use crate::Exporter;

const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
const CONN_TIMEOUT: Duration = Duration::from_secs(30);
const MAX_BUF: usize = 16 * 1024;
const MAX_CONNS: usize = 16;

/// The graphs page.
pub const PAGE: &str = include_str!("page.html");

/// Bind `addr` (which the caller checked is loopback; checked again here),
/// then serve and sample on a thread of our own. Returns the bound address
/// (useful with port 0).
pub fn start(exporter: Arc<Exporter>, addr: SocketAddr) -> Result<SocketAddr, String> {
    if !addr.ip().is_loopback() {
        return Err(format!("-M: {} is not a loopback address", addr.ip()));
    }
    let listener = StdListener::bind(addr).map_err(|e| format!("-M: bind {addr}: {e}"))?;
    listener
        .set_nonblocking(true)
        .map_err(|e| format!("-M: {addr}: {e}"))?;
    let bound = listener
        .local_addr()
        .map_err(|e| format!("-M: {addr}: {e}"))?;
    // the first sample before any request can be answered, so that the
    // graphs page has a point from the start
    exporter.sample();
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("-M: runtime: {e}"))?;
    std::thread::Builder::new()
        .name("stats-http".into())
        .spawn(move || rt.block_on(run(exporter, listener)))
        .map_err(|e| format!("-M: thread: {e}"))?;
    Ok(bound)
}

async fn run(exporter: Arc<Exporter>, listener: StdListener) {
    let sampler = exporter.clone();
    tokio::spawn(async move {
        // the first sample was taken at start
        let every = sampler.interval();
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            sampler.sample();
        }
    });
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else {
        return;
    };
    let slots = Arc::new(Semaphore::new(MAX_CONNS));
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            // out of descriptors and the like: wait rather than spin
            tokio::time::sleep(Duration::from_millis(100)).await;
            continue;
        };
        let Ok(permit) = slots.clone().try_acquire_owned() else {
            drop(stream);
            continue;
        };
        let exp = exporter.clone();
        tokio::spawn(async move {
            let conn = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_TIMEOUT)
                .max_buf_size(MAX_BUF)
                .keep_alive(false)
                .serve_connection(
                    TokioIo::new(stream),
                    service_fn(move |req| {
                        let exp = exp.clone();
                        async move { Ok::<_, Infallible>(answer(&exp, &req)) }
                    }),
                );
            let _ = tokio::time::timeout(CONN_TIMEOUT, conn).await;
            drop(permit);
        });
    }
}

fn reply(status: StatusCode, ctype: &'static str, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(body.into()));
    *r.status_mut() = status;
    r.headers_mut()
        .insert(CONTENT_TYPE, HeaderValue::from_static(ctype));
    r.headers_mut()
        .insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// The number in `name=` of a query string.
fn query_num(query: Option<&str>, name: &str) -> Option<usize> {
    query?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == name)
        .and_then(|(_, v)| v.parse().ok())
}

fn answer(exp: &Exporter, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    if req.method() != Method::GET {
        let mut r = reply(
            StatusCode::METHOD_NOT_ALLOWED,
            "text/plain; charset=utf-8",
            "only GET\n",
        );
        r.headers_mut()
            .insert(ALLOW, HeaderValue::from_static("GET"));
        return r;
    }
    let q = req.uri().query();
    match req.uri().path() {
        "/metrics" => reply(
            StatusCode::OK,
            crate::text::CONTENT_TYPE,
            exp.metrics_text(),
        ),
        "/" => reply(StatusCode::OK, "text/html; charset=utf-8", PAGE),
        "/history.json" => {
            let points = query_num(q, "points").or_else(|| {
                query_num(q, "seconds")
                    .map(|s| s.div_ceil(exp.interval().as_secs().max(1) as usize))
            });
            let max = query_num(q, "max");
            reply(
                StatusCode::OK,
                "application/json",
                exp.history_json(points, max),
            )
        }
        _ => reply(
            StatusCode::NOT_FOUND,
            "text/plain; charset=utf-8",
            "not found: try /metrics, / or /history.json\n",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::query_num;

    #[test]
    fn query_numbers() {
        assert_eq!(query_num(Some("points=5"), "points"), Some(5));
        assert_eq!(query_num(Some("a=1&seconds=60"), "seconds"), Some(60));
        assert_eq!(query_num(Some("points=x"), "points"), None);
        assert_eq!(query_num(None, "points"), None);
    }
}
