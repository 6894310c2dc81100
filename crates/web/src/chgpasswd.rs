//! The password page, `GET /password` and `POST /password`, in place of
//! the original's `chgpasswd` script (the change itself is
//! [`crate::password`]). A wrong current password counts as a failed
//! sign-in of the user and the address; after a change the user's other
//! sessions end. With `-R` the page only says that passwords are changed
//! by the postmaster.

use crate::pages;
use crate::password::{self, Refused};
use crate::server::{client_addr, cookie, note, page, session, signed_form, Shared, COOKIE};
use axum::extract::rejection::FormRejection;
use axum::extract::{ConnectInfo, Form, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::net::SocketAddr;

const OFF: &str = "Passwords are not changed here; ask the postmaster.";

#[derive(Deserialize)]
pub(crate) struct Done {
    done: Option<String>,
}

/// The form.
pub(crate) async fn form(State(app): Shared, headers: HeaderMap, q: Query<Done>) -> Response {
    let s = match session(&app, &headers) {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (status, err) = if app.opts.password_change {
        (StatusCode::OK, None)
    } else {
        (StatusCode::NOT_FOUND, Some(OFF))
    };
    page(
        status,
        pages::password((&s.user, &s.csrf), err, note(q.done.as_deref())),
    )
}

#[derive(Deserialize)]
pub(crate) struct PasswordForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    current: String,
    #[serde(default)]
    new: String,
    #[serde(default)]
    again: String,
}

/// A change.
pub(crate) async fn save(
    State(app): Shared,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    form: Result<Form<PasswordForm>, FormRejection>,
) -> Response {
    let (s, f) = match signed_form(&app, &headers, form, |f| f.csrf.as_str()) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let again = |status: StatusCode, msg: &str| {
        page(status, pages::password((&s.user, &s.csrf), Some(msg), None))
    };
    if !app.opts.password_change {
        return again(StatusCode::NOT_FOUND, OFF);
    }
    if let Err(e) = password::check_new(&f.new, &f.again) {
        return again(StatusCode::BAD_REQUEST, &format!("refused: {e}"));
    }
    let addr = client_addr(&app, peer, &headers);
    if let Err(wait) = app.limiter.check(&s.user, &addr) {
        return again(
            StatusCode::TOO_MANY_REQUESTS,
            &format!("refused: too many wrong passwords for this user or address; try again in {wait} seconds"),
        );
    }
    let path = app.opts.htpasswd.clone();
    let user = s.user.clone();
    let done =
        tokio::task::spawn_blocking(move || password::change(&path, &user, &f.current, &f.new))
            .await
            .unwrap_or_else(|e| Err(Refused::Failed(format!("password change failed: {e}"))));
    match done {
        Ok(()) => {
            if let Some(t) = cookie(&headers, COOKIE) {
                app.sessions.end_others(&s.user, &t);
            }
            eprintln!("dcc-web: {} changed their password", s.user);
            Redirect::to("/password?done=password").into_response()
        }
        Err(Refused::Wrong) => {
            app.limiter.failed(&s.user, &addr);
            again(
                StatusCode::FORBIDDEN,
                "refused: the current password is wrong; nothing was changed",
            )
        }
        Err(Refused::Busy) => again(
            StatusCode::SERVICE_UNAVAILABLE,
            "the password file is being changed just now; nothing was changed, please try again",
        ),
        Err(Refused::Failed(e)) => {
            eprintln!("dcc-web: password of {}: {e}", s.user);
            again(
                StatusCode::INTERNAL_SERVER_ERROR,
                "the password file could not be changed; nothing was changed; tell the postmaster",
            )
        }
    }
}
