//! The HTTP side: routes, cookies, CSRF checks, size limits, the
//! security headers of every answer and the `header` and `footer` files
//! of every page.
//!
//! | route | what |
//! | --- | --- |
//! | `GET /signin`, `POST /signin` | sign in (rate limited) |
//! | `POST /signout` | sign out |
//! | `GET /log?page=N` | the user's logged messages, newest first |
//! | `GET /msg?id=ID` | one logged message, its checksums, one-click buttons |
//! | `GET /raw?id=ID` | the log file as it is, as plain text |
//! | `POST /white` | add or remove a whiteclnt entry |
//! | `POST /grey` | end a logged message's greylist embargo ([`crate::greyrelease`]) |
//! | `GET /whiteclnt` | the whiteclnt file and its entries |
//! | `GET /options`, `POST /options` | the per-user options |
//! | `GET /password`, `POST /password` | the user's own password ([`crate::chgpasswd`]) |

use crate::auth::{same, Htpasswd};
use crate::frame::{self, Frames};
use crate::listing::{valid_id, Listings};
use crate::logparse::{self, LogMsg};
use crate::opts::Opts;
use crate::pages::{self, Row, Target};
use crate::ratelimit::{Limiter, Limits};
use crate::session::{token, Session, Sessions};
use crate::whiteedit::{self, Kind, List};
use crate::{userdir, useropts};
use axum::body::Body;
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, DefaultBodyLimit, Form, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::Router;
use maud::Markup;
use serde::Deserialize;
use std::collections::HashMap;
use std::io::Read;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

/// Largest request body accepted.
pub const MAX_BODY: usize = 16 * 1024;
/// Messages per page of the listing.
pub const PAGE: usize = 50;
/// Most bytes read of a log file (dccm copies at most 32 KBytes of the
/// message, the rest is the envelope and the table).
pub const MAX_LOG_READ: u64 = 256 * 1024;
/// Largest htpasswd file read.
pub const MAX_HTPASSWD: u64 = 4 * 1024 * 1024;

pub(crate) const COOKIE: &str = "dccweb";
const PRE_COOKIE: &str = "dccweb_signin";

/// The state shared by all requests.
pub struct App {
    pub opts: Opts,
    pub sessions: Sessions,
    pub limiter: Limiter,
    pub listings: Listings,
    /// The `header` and `footer` files, kept by stamp.
    pub frames: Frames,
    /// One whiteclnt edit at a time, so that two edits cannot lose one.
    edit: tokio::sync::Mutex<()>,
}

impl App {
    /// The state for `opts`, with the default sign-in limits.
    pub fn new(opts: Opts) -> App {
        App::with_limits(opts, Limits::default())
    }

    /// The state for `opts` and sign-in `limits`.
    pub fn with_limits(opts: Opts, limits: Limits) -> App {
        let idle = Duration::from_secs(opts.idle_minutes * 60);
        App {
            opts,
            sessions: Sessions::new(idle),
            limiter: Limiter::new(limits),
            listings: Listings::new(),
            frames: Frames::new(),
            edit: tokio::sync::Mutex::new(()),
        }
    }
}

pub(crate) type Shared = State<Arc<App>>;

/// The routes of the service.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/log") }))
        .route("/signin", get(signin_page).post(signin))
        .route("/signout", post(signout))
        .route("/log", get(log_list))
        .route("/msg", get(message))
        .route("/raw", get(raw))
        .route("/white", post(white))
        .route("/grey", post(crate::greyrelease::release))
        .route("/whiteclnt", get(whiteclnt))
        .route("/options", get(options_page).post(options_save))
        .route(
            "/password",
            get(crate::chgpasswd::form).post(crate::chgpasswd::save),
        )
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn_with_state(app.clone(), framed))
        .layer(axum::middleware::map_response(security_headers))
        .with_state(app)
}

/// Every HTML page with the site's or the signed-in user's own `header`
/// and `footer` files ([`crate::frame`]). Their stamps are asked here
/// (a few `lstat`s of names the kernel has cached); a file that changed
/// is read on a blocking thread, off the runtime's workers.
async fn framed(State(app): Shared, req: Request, next: Next) -> Response {
    let dir = cookie(req.headers(), COOKIE)
        .and_then(|t| app.sessions.get(&t))
        .map(|s| s.dir);
    let r = next.run(req).await;
    let html = r
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if !html {
        return r;
    }
    let site = app.opts.home.join(frame::SITE_DIR);
    let f = match app.frames.cached(dir.as_deref(), &site) {
        Some(f) => f,
        None => {
            let app = app.clone();
            tokio::task::spawn_blocking(move || app.frames.load(dir.as_deref(), &site))
                .await
                .unwrap_or_default()
        }
    };
    if f.is_empty() {
        return r;
    }
    let (mut parts, body) = r.into_parts();
    let Ok(b) = axum::body::to_bytes(body, usize::MAX).await else {
        return refuse(StatusCode::INTERNAL_SERVER_ERROR, None, "the page failed");
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(f.wrap(&String::from_utf8_lossy(&b))))
}

async fn security_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    for (k, v) in [
        ("content-security-policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"),
        ("x-frame-options", "DENY"),
        ("x-content-type-options", "nosniff"),
        ("referrer-policy", "no-referrer"),
        ("cache-control", "no-store"),
    ] {
        h.insert(k, HeaderValue::from_static(v));
    }
    r
}

pub(crate) fn page(status: StatusCode, m: Markup) -> Response {
    (status, axum::response::Html(m.into_string())).into_response()
}

pub(crate) fn refuse(status: StatusCode, s: Option<&Session>, msg: &str) -> Response {
    let title = match status {
        StatusCode::FORBIDDEN => "Refused",
        StatusCode::TOO_MANY_REQUESTS => "Too many attempts",
        StatusCode::PAYLOAD_TOO_LARGE => "Too large",
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::UNAUTHORIZED => "Sign-in failed",
        StatusCode::SERVICE_UNAVAILABLE => "Busy",
        _ => "Error",
    };
    page(
        status,
        pages::error(title, msg, s.map(|s| (s.user.as_str(), s.csrf.as_str()))),
    )
}

fn form_refused(e: FormRejection, s: Option<&Session>) -> Response {
    let status = e.status();
    let msg = if status == StatusCode::PAYLOAD_TOO_LARGE {
        format!("refused: the request is larger than {MAX_BODY} bytes")
    } else {
        format!("refused: bad form: {}", e.body_text())
    };
    refuse(status, s, &msg)
}

pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    for v in headers.get_all(header::COOKIE) {
        let Ok(v) = v.to_str() else { continue };
        for part in v.split(';') {
            if let Some((k, val)) = part.trim().split_once('=') {
                if k == name {
                    return Some(val.to_string());
                }
            }
        }
    }
    None
}

fn set_cookie(app: &App, name: &str, value: &str, max_age: Option<u64>) -> HeaderValue {
    let mut c = format!("{name}={value}; Path=/; HttpOnly; SameSite=Strict");
    if app.opts.secure_cookies {
        c.push_str("; Secure");
    }
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    HeaderValue::from_str(&c).unwrap_or_else(|_| HeaderValue::from_static("x=; Path=/"))
}

pub(crate) fn session(app: &App, headers: &HeaderMap) -> Result<Session, Response> {
    cookie(headers, COOKIE)
        .and_then(|t| app.sessions.get(&t))
        .ok_or_else(|| Redirect::to("/signin").into_response())
}

fn csrf_ok(s: &Session, given: &str) -> Result<(), Response> {
    if !given.is_empty() && same(s.csrf.as_bytes(), given.as_bytes()) {
        Ok(())
    } else {
        Err(refuse(
            StatusCode::FORBIDDEN,
            Some(s),
            "refused: the form's CSRF token is missing or wrong; nothing was changed (reload the page and try again)",
        ))
    }
}

/// The prologue of a form that changes something: the signed-in session
/// (else a redirect to the sign-in page), the well-formed form and its
/// CSRF token (which `csrf` picks out of it) checked; or the answer that
/// refuses the request.
pub(crate) fn signed_form<T>(
    app: &App,
    headers: &HeaderMap,
    form: Result<Form<T>, FormRejection>,
    csrf: impl Fn(&T) -> &str,
) -> Result<(Session, T), Response> {
    let s = session(app, headers)?;
    let f = match form {
        Ok(Form(f)) => f,
        Err(e) => return Err(form_refused(e, Some(&s))),
    };
    csrf_ok(&s, csrf(&f))?;
    Ok((s, f))
}

pub(crate) fn client_addr(app: &App, peer: SocketAddr, headers: &HeaderMap) -> String {
    if app.opts.trust_forwarded {
        if let Some(v) = headers.get("x-forwarded-for").and_then(|v| v.to_str().ok()) {
            if let Some(last) = v.rsplit(',').next() {
                return last.trim().to_string();
            }
        }
    }
    peer.ip().to_string()
}

async fn signin_page(State(app): Shared) -> Response {
    let pre = token();
    let mut r = page(StatusCode::OK, pages::signin(&pre, None));
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&app, PRE_COOKIE, &pre, Some(3600)),
    );
    r
}

#[derive(Deserialize)]
struct SigninForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    password: String,
}

fn signin_again(app: &App, status: StatusCode, msg: &str) -> Response {
    let pre = token();
    let mut r = page(status, pages::signin(&pre, Some(msg)));
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(app, PRE_COOKIE, &pre, Some(3600)),
    );
    r
}

async fn signin(
    State(app): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<SigninForm>, FormRejection>,
) -> Response {
    let f = match form {
        Ok(Form(f)) => f,
        Err(e) => return form_refused(e, None),
    };
    let pre = cookie(&headers, PRE_COOKIE).unwrap_or_default();
    if pre.is_empty() || !same(pre.as_bytes(), f.csrf.as_bytes()) {
        return signin_again(
            &app,
            StatusCode::FORBIDDEN,
            "refused: the sign-in form's CSRF token is missing or wrong; please sign in again",
        );
    }
    let addr = client_addr(&app, peer, &headers);
    if let Err(wait) = app.limiter.check(&f.user, &addr) {
        return signin_again(
            &app,
            StatusCode::TOO_MANY_REQUESTS,
            &format!("refused: too many failed sign-ins for this user or address; try again in {wait} seconds"),
        );
    }
    let path = app.opts.htpasswd.clone();
    let (user, password) = (f.user.clone(), f.password);
    let good = tokio::task::spawn_blocking(move || {
        let text = read_limited(&path, MAX_HTPASSWD)?;
        let h = Htpasswd::parse(&path.display().to_string(), &text);
        for e in &h.errors {
            eprintln!("dcc-web: {e}");
        }
        Ok::<bool, String>(h.check(&user, &password))
    })
    .await
    .unwrap_or_else(|e| Err(format!("password check failed: {e}")));
    match good {
        Err(e) => {
            eprintln!("dcc-web: {e}");
            return signin_again(
                &app,
                StatusCode::INTERNAL_SERVER_ERROR,
                "the password file cannot be read; tell the postmaster",
            );
        }
        Ok(false) => {
            app.limiter.failed(&f.user, &addr);
            return signin_again(
                &app,
                StatusCode::UNAUTHORIZED,
                "wrong user name or password",
            );
        }
        Ok(true) => {}
    }
    let dir = match userdir::resolve(&app.opts.userdirs, &f.user) {
        Ok(d) => d,
        Err(e) => return signin_again(&app, StatusCode::FORBIDDEN, &format!("refused: {e}")),
    };
    let bg = app.clone();
    let log = dir.join("log");
    tokio::task::spawn_blocking(move || bg.listings.list(&log));
    let Some(tok) = app.sessions.create(&f.user, dir) else {
        return signin_again(
            &app,
            StatusCode::INTERNAL_SERVER_ERROR,
            "no session could be made",
        );
    };
    let mut r = Redirect::to("/log").into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&app, COOKIE, &tok, None));
    r.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&app, PRE_COOKIE, "", Some(0)),
    );
    r
}

#[derive(Deserialize)]
struct CsrfOnly {
    #[serde(default)]
    csrf: String,
}

async fn signout(
    State(app): Shared,
    headers: HeaderMap,
    form: Result<Form<CsrfOnly>, FormRejection>,
) -> Response {
    if let Err(r) = signed_form(&app, &headers, form, |f| f.csrf.as_str()) {
        return r;
    }
    if let Some(t) = cookie(&headers, COOKIE) {
        app.sessions.remove(&t);
    }
    let mut r = Redirect::to("/signin").into_response();
    r.headers_mut()
        .append(header::SET_COOKIE, set_cookie(&app, COOKIE, "", Some(0)));
    r
}

/// Read at most `max` bytes of a file; more is an error.
pub fn read_limited(path: &Path, max: u64) -> Result<Vec<u8>, String> {
    let f = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut b = Vec::new();
    f.take(max + 1)
        .read_to_end(&mut b)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if b.len() as u64 > max {
        return Err(format!("{}: larger than {max} bytes", path.display()));
    }
    Ok(b)
}

fn logdir(s: &Session) -> PathBuf {
    s.dir.join("log")
}

#[derive(Deserialize)]
struct PageQuery {
    page: Option<usize>,
}

async fn log_list(State(app): Shared, headers: HeaderMap, q: Query<PageQuery>) -> Response {
    let s = match session(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let dir = logdir(&s);
    let app2 = app.clone();
    let pg = q.page.unwrap_or(0);
    let res = tokio::task::spawn_blocking(move || {
        let list = app2.listings.list(&dir);
        let pages = list.len().div_ceil(PAGE);
        let pg = pg.min(pages.saturating_sub(1));
        let msgs: Vec<LogMsg> = list
            .iter()
            .skip(pg * PAGE)
            .take(PAGE)
            .map(|e| {
                read_limited(&dir.join(&*e.id), MAX_LOG_READ)
                    .map(|b| logparse::parse_summary(&b))
                    .unwrap_or_default()
            })
            .collect();
        (list, msgs, pg, pages)
    })
    .await;
    let Ok((list, msgs, pg, pages)) = res else {
        return refuse(
            StatusCode::INTERNAL_SERVER_ERROR,
            Some(&s),
            "the listing failed",
        );
    };
    let rows: Vec<Row<'_>> = list
        .iter()
        .skip(pg * PAGE)
        .zip(msgs)
        .map(|(entry, msg)| Row { entry, msg })
        .collect();
    page(
        StatusCode::OK,
        pages::log_list((&s.user, &s.csrf), &rows, pg, pages, list.len()),
    )
}

/// The log file `id` of the session's user, refusing names that are not
/// log files and files outside the log directory.
fn log_file(s: &Session, id: &str) -> Result<PathBuf, (StatusCode, String)> {
    if !valid_id(id) {
        return Err((
            StatusCode::FORBIDDEN,
            format!("refused: {id:?} is not the name of a log file"),
        ));
    }
    let dir = logdir(s).canonicalize().map_err(|_| {
        (
            StatusCode::NOT_FOUND,
            "you have no log directory".to_string(),
        )
    })?;
    let file = dir
        .join(id)
        .canonicalize()
        .map_err(|_| (StatusCode::NOT_FOUND, format!("no log file {id}")))?;
    if !file.starts_with(&dir) {
        return Err((
            StatusCode::FORBIDDEN,
            format!("refused: {id:?} is outside your log directory"),
        ));
    }
    Ok(file)
}

/// Read and parse the log file `id` of the session's user ([`log_file`]).
pub(crate) fn read_log(s: &Session, id: &str) -> Result<LogMsg, (StatusCode, String)> {
    let b =
        read_limited(&log_file(s, id)?, MAX_LOG_READ).map_err(|e| (StatusCode::NOT_FOUND, e))?;
    Ok(logparse::parse(&b))
}

/// The values of a message a user can list with one click.
fn values(m: &LogMsg) -> Vec<(Kind, String)> {
    let mut v = Vec::new();
    if !m.env_from.is_empty() {
        v.push((Kind::EnvFrom, m.env_from.clone()));
    }
    let from = m.from_addr();
    if !from.is_empty() && !from.eq_ignore_ascii_case(&m.env_from) {
        v.push((Kind::From, from));
    }
    // a `substitute mail_host` entry only acts where the program computes
    // that checksum (dccm or dccifd run with `-S mail_host`); its row in
    // the log file's table says so
    if !m.mail_host.is_empty() && logs_sub(m, "mail_host") {
        v.push((Kind::Domain, m.mail_host.to_ascii_lowercase()));
    }
    // the same for the HELO name (`-S HELO`), as the original's list-msg
    if !m.helo.is_empty() && logs_sub(m, "HELO") {
        v.push((Kind::Helo, m.helo.clone()));
    }
    if !m.ip().is_empty() {
        v.push((Kind::Ip, m.ip().to_string()));
    }
    // each envelope recipient, as the original's list-msg offered them
    for r in m.rcpts() {
        if !v
            .iter()
            .any(|(k, x)| *k == Kind::EnvTo && x.eq_ignore_ascii_case(&r))
        {
            v.push((Kind::EnvTo, r));
        }
    }
    // the body checksums of the table, as the original's list-msg offered
    // them (a checksum not computed is all zeros and refused below)
    for r in &m.table {
        if let Some(k) = Kind::of_row(&r.name) {
            if !v.iter().any(|(x, _)| *x == k) {
                v.push((k, r.sum.to_ascii_lowercase()));
            }
        }
    }
    v.retain(|(k, val)| whiteedit::check_value(*k, val).is_ok());
    v
}

/// Whether the log file's checksum table has the checksum `substitute
/// NAME`, i.e. whether a whiteclnt entry for it (the sender's domain, the
/// HELO name) would be looked up for this user's mail.
fn logs_sub(m: &LogMsg, name: &str) -> bool {
    m.table.iter().any(|r| {
        r.name
            .strip_prefix("substitute ")
            .is_some_and(|n| n.eq_ignore_ascii_case(name))
    })
}

fn whiteclnt_path(s: &Session) -> PathBuf {
    s.dir.join("whiteclnt")
}

fn read_white(s: &Session) -> Result<Vec<u8>, String> {
    let p = whiteclnt_path(s);
    match std::fs::metadata(&p) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        _ => read_limited(&p, whiteedit::MAX_FILE as u64),
    }
}

/// Fixed notes after an edit, chosen by a code in the address.
pub(crate) fn note(code: Option<&str>) -> Option<&'static str> {
    Some(match code? {
        "add-ok" => "Whitelisted. The mail system uses the change from its next message on.",
        "add-many" => "Blacklisted. The mail system uses the change from its next message on.",
        "remove" => "Removed from your whiteclnt file.",
        "options" => "Options saved.",
        "password" => "Password changed. Your other sessions were signed out.",
        "grey-ended" | "grey-pass" => {
            "The greylist embargo ended: the sender's next attempt is delivered at once."
        }
        "grey-white" => "The greylist server already lets this mail through.",
        "grey-embargo" => "The greylist server keeps the embargo.",
        _ => return None,
    })
}

#[derive(Deserialize)]
struct MsgQuery {
    #[serde(default)]
    id: String,
    done: Option<String>,
}

async fn message(State(app): Shared, headers: HeaderMap, q: Query<MsgQuery>) -> Response {
    let s = match session(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let m = match read_log(&s, &q.id) {
        Ok(m) => m,
        Err((st, e)) => return refuse(st, Some(&s), &e),
    };
    let white = read_white(&s).unwrap_or_default();
    let targets: Vec<Target> = values(&m)
        .into_iter()
        .map(|(kind, value)| Target {
            listed: whiteedit::current(&white, kind, &value),
            kind,
            value,
        })
        .collect();
    page(
        StatusCode::OK,
        pages::message(
            (&s.user, &s.csrf),
            &q.id,
            &m,
            &targets,
            note(q.done.as_deref()),
        ),
    )
}

/// The log file as it is, for reporting or analysis (the original's
/// "literal log file"): plain text, which with `nosniff` and the content
/// security policy a browser never runs.
async fn raw(State(app): Shared, headers: HeaderMap, q: Query<MsgQuery>) -> Response {
    let s = match session(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let b = match log_file(&s, &q.id)
        .and_then(|f| read_limited(&f, MAX_LOG_READ).map_err(|e| (StatusCode::NOT_FOUND, e)))
    {
        Ok(b) => b,
        Err((st, e)) => return refuse(st, Some(&s), &e),
    };
    ([(header::CONTENT_TYPE, "text/plain")], b).into_response()
}

#[derive(Deserialize)]
struct WhiteForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    op: String,
    #[serde(default)]
    list: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    msg: String,
    #[serde(default)]
    value: String,
}

async fn white(
    State(app): Shared,
    headers: HeaderMap,
    form: Result<Form<WhiteForm>, FormRejection>,
) -> Response {
    let (s, f) = match signed_form(&app, &headers, form, |f| f.csrf.as_str()) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let bad = |m: String| refuse(StatusCode::BAD_REQUEST, Some(&s), &m);
    let Some(kind) = Kind::parse(&f.kind) else {
        return bad(format!("refused: unknown kind of entry {:?}", f.kind));
    };
    let value = if f.msg.is_empty() {
        f.value.clone()
    } else {
        let m = match read_log(&s, &f.msg) {
            Ok(m) => m,
            Err((st, e)) => return refuse(st, Some(&s), &e),
        };
        // the message's value of that kind; where it has several (its
        // recipients), the one the form names
        let found = values(&m)
            .into_iter()
            .filter(|(k, _)| *k == kind)
            .find(|(_, v)| f.value.is_empty() || v.eq_ignore_ascii_case(&f.value));
        match found {
            Some((_, v)) => v,
            None if kind == Kind::Domain && !m.mail_host.is_empty() => {
                return bad(
                    "refused: a sender's domain entry needs the substitute mail_host \
                     checksum, which this message's log does not show (the mail system \
                     runs without -S mail_host)"
                        .to_string(),
                )
            }
            None if !f.value.is_empty() => {
                return bad(format!(
                    "refused: the message has no {} {:?}",
                    kind.label(),
                    f.value
                ))
            }
            None => return bad(format!("refused: the message has no {}", kind.label())),
        }
    };
    if let Err(e) = whiteedit::check_value(kind, &value) {
        return bad(format!("refused: {e}"));
    }
    let _one = app.edit.lock().await;
    let old = match read_white(&s) {
        Ok(t) => t,
        Err(e) => return bad(format!("refused: {e}")),
    };
    let (new, code) = match f.op.as_str() {
        "add" => {
            let Some(list) = List::parse(&f.list) else {
                return bad(format!("refused: unknown list {:?}", f.list));
            };
            match whiteedit::add(&old, list, kind, &value) {
                Ok(n) => (
                    n,
                    if list == List::Ok {
                        "add-ok"
                    } else {
                        "add-many"
                    },
                ),
                Err(e) => return bad(format!("refused: {e}")),
            }
        }
        "remove" => (whiteedit::remove(&old, kind, &value), "remove"),
        other => return bad(format!("refused: unknown operation {other:?}")),
    };
    if let Err(e) = whiteedit::check_edit(&old, &new) {
        return bad(e);
    }
    if new != old {
        if let Err(e) = crate::write::replace(&whiteclnt_path(&s), &new) {
            eprintln!("dcc-web: {e}");
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(&s),
                "the whiteclnt file could not be written; tell the postmaster",
            );
        }
    }
    let to = if f.msg.is_empty() {
        format!("/whiteclnt?done={code}")
    } else {
        format!("/msg?id={}&done={code}", f.msg)
    };
    Redirect::to(&to).into_response()
}

#[derive(Deserialize)]
struct DoneQuery {
    done: Option<String>,
}

async fn whiteclnt(State(app): Shared, headers: HeaderMap, q: Query<DoneQuery>) -> Response {
    let s = match session(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let text = match read_white(&s) {
        Ok(t) => t,
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, Some(&s), &e),
    };
    let entries = whiteedit::entries(&text);
    page(
        StatusCode::OK,
        pages::whiteclnt(
            (&s.user, &s.csrf),
            &String::from_utf8_lossy(&text),
            &entries,
            note(q.done.as_deref()),
        ),
    )
}

async fn options_page(State(app): Shared, headers: HeaderMap, q: Query<DoneQuery>) -> Response {
    let s = match session(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let text = match read_white(&s) {
        Ok(t) => t,
        Err(e) => return refuse(StatusCode::INTERNAL_SERVER_ERROR, Some(&s), &e),
    };
    let mut cur = useropts::current(&text);
    let n = crate::notify::setting(&text);
    cur.insert("notify".into(), if n.on { "on" } else { "off" }.into());
    cur.insert("notifybox".into(), n.mailbox);
    page(
        StatusCode::OK,
        pages::options((&s.user, &s.csrf), &cur, note(q.done.as_deref())),
    )
}

async fn options_save(
    State(app): Shared,
    headers: HeaderMap,
    form: Result<Form<HashMap<String, String>>, FormRejection>,
) -> Response {
    let (s, mut f) = match signed_form(&app, &headers, form, |f| {
        f.get("csrf").map(String::as_str).unwrap_or("")
    }) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let (notify, notifybox) = (f.remove("notify"), f.remove("notifybox"));
    let _one = app.edit.lock().await;
    let old = match read_white(&s) {
        Ok(t) => t,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, Some(&s), &format!("refused: {e}")),
    };
    let new = match useropts::apply(&old, &f)
        .and_then(|n| crate::notify::apply_form(n, notify, notifybox))
    {
        Ok(n) => n,
        Err(e) => return refuse(StatusCode::BAD_REQUEST, Some(&s), &format!("refused: {e}")),
    };
    if let Err(e) = whiteedit::check_edit(&old, &new) {
        return refuse(StatusCode::BAD_REQUEST, Some(&s), &e);
    }
    if new != old {
        if let Err(e) = crate::write::replace(&whiteclnt_path(&s), &new) {
            eprintln!("dcc-web: {e}");
            return refuse(
                StatusCode::INTERNAL_SERVER_ERROR,
                Some(&s),
                "the whiteclnt file could not be written; tell the postmaster",
            );
        }
    }
    Redirect::to("/options?done=options").into_response()
}

/// Serve on `listener` until the process ends.
pub async fn serve(app: Arc<App>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
}
