//! `POST /grey`: end the greylist embargo of a logged message for one of
//! its recipients, as the original's pages did with `dccsight -G`: the
//! triple checksum of the log file's `greylist recipient` lines is
//! whitelisted (GREY_WHITE) at the greylist server of the DCC home's map
//! file, so that the sender's next attempt is delivered at once.
//!
//! Only a triple of the user's own log file can be named (by its place
//! among the message's greylisted recipients), and only one under embargo.

use crate::logparse::GreyRow;
use crate::server::{read_log, refuse, signed_form, Shared};
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::path::Path;
use tally_client::Client;
use tally_wire::{CkType, Tgts, WireCk};

#[derive(Deserialize)]
pub(crate) struct GreyForm {
    #[serde(default)]
    csrf: String,
    /// The log file.
    #[serde(default)]
    msg: String,
    /// Which of its greylisted recipients.
    #[serde(default)]
    n: usize,
}

/// The note code for the greylist server's answer about the triple.
pub(crate) fn done_code(triple: Tgts) -> &'static str {
    match triple {
        // the embargo ended with this request
        Tgts::OK => "grey-ended",
        // no embargo (any more)
        Tgts::MANY => "grey-pass",
        // whitelisted at the greylist server
        Tgts::OK2 => "grey-white",
        _ => "grey-embargo",
    }
}

/// Whitelist the triple checksum `triple` (four hex words) at the
/// greylist server of the map file `map`; the server's word on it.
pub(crate) async fn whitelist_triple(map: &Path, triple: &str) -> Result<Tgts, String> {
    let sum = tally_white::hex_sum(triple.as_bytes())
        .ok_or_else(|| format!("{triple:?} is no greylist checksum"))?;
    let map = tally_client::map::file::load(map).map_err(|e| e.to_string())?;
    let client = Client::new(map);
    let a = client
        .grey_white(&[WireCk::new(CkType::GreyTriple, sum)])
        .await
        .map_err(|e| e.to_string())?;
    Ok(a.triple)
}

/// End the embargo of recipient `n` of the log file `msg`.
pub(crate) async fn release(
    State(app): Shared,
    headers: HeaderMap,
    form: Result<Form<GreyForm>, FormRejection>,
) -> Response {
    let (s, f) = match signed_form(&app, &headers, form, |f| f.csrf.as_str()) {
        Ok(x) => x,
        Err(r) => return r,
    };
    let m = match read_log(&s, &f.msg) {
        Ok(m) => m,
        Err((st, e)) => return refuse(st, Some(&s), &e),
    };
    let Some(row) = m.grey.get(f.n).filter(|r: &&GreyRow| r.embargoed()) else {
        return refuse(
            StatusCode::BAD_REQUEST,
            Some(&s),
            "refused: the message is under no greylist embargo for that recipient",
        );
    };
    match whitelist_triple(&app.opts.home.join("map"), &row.triple).await {
        Ok(t) => Redirect::to(&format!("/msg?id={}&done={}", f.msg, done_code(t))).into_response(),
        Err(e) => refuse(
            StatusCode::SERVICE_UNAVAILABLE,
            Some(&s),
            &format!("the greylist server could not be asked: {e}; nothing was changed"),
        ),
    }
}
