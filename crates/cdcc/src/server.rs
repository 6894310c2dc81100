//! Commands sent to a DCC server: the fixed operations (`stop`,
//! `flood check`, `trace query on` ...) and `stats`, `flood stats`,
//! `flood rewind`, `delck`, `anon delay`, `clock check`, `trace default`
//! and `RTT`. Each answer is shown as the reference shows it: a heading
//! naming the server, then the server's text as received.

use crate::request::{self, aop_str};
use crate::state::{State, Which};
use crate::table::trace;
use crate::Ret;
use std::time::Instant;
use tally_client::clock::{now_secs, time_of_day};
use tally_client::map::ClassKind;
use tally_client::{ClientError, Reply};
use tally_wire::admn::{AdmnRequest, Aop, FlodAop};
use tally_wire::header::ID_ANON;
use tally_wire::packet::{AdmnAnswer, Response};

/// The date put in requests: now, moved by `clock kludge`.
pub fn req_date(st: &State) -> u32 {
    let d = i64::try_from(now_secs())
        .unwrap_or(0)
        .saturating_add(st.clock_kludge);
    u32::try_from(d.max(0)).unwrap_or(u32::MAX)
}

/// Send one request to the chosen server (or to address `at` of the
/// class).
pub fn send(st: &mut State, req: AdmnRequest, at: Option<usize>) -> Result<Reply, ClientError> {
    let kind = st.kind();
    let client = st.ready().map_err(ClientError::BadRequest)?;
    let fut = async {
        match at {
            Some(i) => client.admn_at(kind, i, req).await,
            None => client.admn(kind, req).await,
        }
    };
    let r = st.rt.block_on(fut);
    st.save_state();
    r
}

/// The message for a failed operation, in the original's words: the
/// operation (`ADMN STATS`), then the server's complaint or why no server
/// answered.
pub fn op_error(st: &State, aop: Aop, val1: u32, e: &ClientError) -> String {
    let what = aop_str(aop, val1);
    match e {
        ClientError::Server { message, .. } => format!("{what}: {message}"),
        e => format!("{what}: {}", client_error(st, e)),
    }
}

/// The text of a client failure; "no working DCC server" and "no DCC
/// answer" name the servers and addresses as the original's client does.
pub fn client_error(st: &State, e: &ClientError) -> String {
    let Some((c, _, _)) = &st.client else {
        return e.to_string();
    };
    tally_client::words::unanswered(e, &c.map()).unwrap_or_else(|| e.to_string())
}

/// The heading naming the server that answered: its name (unless it is
/// the address itself or `localhost`), address, server-ID, our client-ID,
/// the map file and the time.
pub fn print_heading(st: &State, reply: &Reply, started: u64) {
    let ip = reply.server.ip().to_string();
    let mut s = String::new();
    let named = st.client.as_ref().and_then(|(c, _, _)| {
        let map = c.map();
        let class = map.class(st.kind());
        let a = class.addrs.iter().find(|a| a.addr == reply.server)?;
        let n = class.names.get(a.name)?;
        Some((n.host.clone(), a.srvr_id.unwrap_or(reply.server_id)))
    });
    match named {
        Some((host, id)) => {
            if host != ip && host != "localhost" {
                s.push_str(&host);
                s.push(' ');
            }
            s.push_str(&format!(
                "{ip},{}\n        server-ID {id}",
                reply.server.port()
            ));
        }
        None => s.push_str(&format!(
            "{ip},{}\n        server-ID {}",
            reply.server.port(),
            reply.server_id
        )),
    }
    if st.cur_id != ID_ANON {
        s.push_str(&format!("  client-ID {}", st.cur_id));
    }
    if st.which == Which::Info {
        s.push_str(&format!("  {}", st.map_path().display()));
    }
    s.push_str(&format!("  {}", time_of_day(started)));
    println!("{s}");
}

/// The text of an answer, if it is printable text.
pub fn answer_text(reply: &Reply) -> Option<String> {
    match &reply.response {
        Response::Admn(AdmnAnswer::Text(t)) => {
            let end = t.iter().position(|&c| c == 0).unwrap_or(t.len());
            let t = t.get(..end)?;
            match t.first() {
                Some(&c) if (b' '..0x7f).contains(&c) => {
                    Some(String::from_utf8_lossy(t).into_owned())
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// Show an answer as the reference does (nothing when quiet).
pub fn fin(st: &State, reply: &Reply, heading: bool, started: u64, elapsed: Instant) {
    if st.quiet && st.debug == 0 {
        return;
    }
    if heading {
        print_heading(st, reply, started);
    }
    if let Some(t) = answer_text(reply) {
        println!("{t}");
    }
    if st.debug > 0 {
        println!("{:.2} ms", elapsed.elapsed().as_secs_f64() * 1000.0);
    }
    println!();
}

/// Send an operation and show the answer; false on failure.
pub fn do_aop(st: &mut State, aop: Aop, val1: u32, at: Option<usize>, heading: bool) -> bool {
    let started = now_secs();
    let t = Instant::now();
    let req = request::simple(req_date(st), aop, val1);
    match send(st, req, at) {
        Ok(r) => {
            fin(st, &r, heading, started, t);
            true
        }
        Err(e) => {
            st.server_error(&op_error(st, aop, val1, &e));
            false
        }
    }
}

/// `stats [clear|all]`.
pub fn stats(st: &mut State, arg: &str) -> Ret {
    let (mut clear, mut all) = (false, false);
    for w in arg.split_whitespace() {
        if !all && w.eq_ignore_ascii_case("clear") {
            clear = true;
            if !st.get_passwd(3, "stats clear", "operation") {
                return Ret::Fail;
            }
        } else if !clear && w.eq_ignore_ascii_case("all") {
            all = true;
        } else {
            return Ret::Usage;
        }
    }
    if !clear && !st.get_passwd(1, "stats clear", "operation") {
        return Ret::Fail;
    }
    let aop = if clear { Aop::StatsClear } else { Aop::Stats };
    if !all {
        do_aop(st, aop, request::RESP_BUF, None, true);
        return Ret::Ok;
    }
    let kind = st.kind();
    let client = match st.ready() {
        Ok(c) => c,
        Err(e) => {
            st.error(&e);
            return Ret::Fail;
        }
    };
    if let Err(e) = st.rt.block_on(client.measure_rtt(kind)) {
        st.error(&e.to_string());
    }
    let n = st
        .client
        .as_ref()
        .map_or(0, |(c, _, _)| c.map().class(kind).addrs.len());
    for i in 0..n {
        let answered = st.client.as_ref().is_some_and(|(c, _, _)| {
            c.map()
                .class(kind)
                .addrs
                .get(i)
                .is_some_and(|a| a.srvr_id.is_some())
        });
        if answered {
            do_aop(st, aop, request::RESP_BUF, Some(i), true);
        }
    }
    Ret::Ok
}

/// `flood rewind ID`, `flood FFWD in ID`, `flood FFWD out ID`.
pub fn flood_peer(st: &mut State, arg: &str, op: FlodAop) -> Ret {
    let Some(id) = request::parse_id(arg) else {
        return Ret::Usage;
    };
    let req = request::flood(0, op, id);
    if do_aop(st, Aop::Flod, req.val1, None, true) {
        Ret::Ok
    } else {
        Ret::Fail
    }
}

/// `flood stats [clear] {ID|all}`; for all peers, asks peer after peer
/// starting above the highest server-ID, each answer naming the next.
pub fn flood_stats(st: &mut State, arg: &str) -> Ret {
    let Ok((clear, id)) = request::parse_flood_stats(arg) else {
        return Ret::Usage;
    };
    let op = if clear {
        FlodAop::StatsClear
    } else {
        FlodAop::Stats
    } as u32;
    if let Some(id) = id {
        return single_flood_stats(st, id, op);
    }
    let mut id = request::FLOOD_ALL_START;
    let mut heading = true;
    // Each answer names a peer; bounded by the number of possible IDs.
    for _ in 0..=request::FLOOD_ALL_START {
        let val1 = id.wrapping_mul(256).wrapping_add(op);
        let started = now_secs();
        let t = Instant::now();
        let req = request::simple(req_date(st), Aop::Flod, val1);
        let reply = match send(st, req, None) {
            Ok(r) => r,
            Err(e) => {
                st.server_error(&op_error(st, Aop::Flod, val1, &e));
                return Ret::Fail;
            }
        };
        let text = answer_text(&reply).unwrap_or_default();
        let next = request::flood_stats_id(&text);
        if next == Some(id) {
            if id == request::FLOOD_ALL_START && !(st.quiet && st.debug == 0) {
                print_heading(st, &reply, started);
                println!(" (no flooding peers)\n");
            }
            return Ret::Ok;
        }
        fin(st, &reply, heading, started, t);
        heading = false;
        let Some(n) = next else {
            return Ret::Fail;
        };
        id = n.saturating_add(request::FLOOD_ALL_START);
    }
    Ret::Ok
}

fn single_flood_stats(st: &mut State, id: u32, op: u32) -> Ret {
    if do_aop(
        st,
        Aop::Flod,
        id.wrapping_mul(256).wrapping_add(op),
        None,
        true,
    ) {
        Ret::Ok
    } else {
        Ret::Fail
    }
}

/// `delck type hex1 hex2 hex3 hex4`.
pub fn delck(st: &mut State, arg: &str) -> Ret {
    let kind = st.kind();
    if arg.trim().is_empty() {
        return Ret::Usage;
    }
    // a checksum the original cannot read: its complaint alone, no usage
    let ck = match request::parse_delck(arg, kind) {
        Ok(ck) => ck,
        Err(e) => {
            st.error(&e);
            return Ret::Fail;
        }
    };
    let name = if kind == ClassKind::Grey {
        ck.ty.grey_name()
    } else {
        ck.ty.name()
    };
    println!(" deleting {name}  {}", ck.sum);
    let t = Instant::now();
    let client = match st.ready() {
        Ok(c) => c,
        Err(e) => {
            st.error(&e);
            return Ret::Fail;
        }
    };
    // The client library deletes from the DCC servers; in greylist mode
    // the greylist servers take their place.
    let client = if kind == ClassKind::Grey {
        let mut m = client.map();
        m.dcc = m.grey.clone();
        m.dcc.kind = ClassKind::Dcc;
        std::sync::Arc::new(tally_client::Client::new(m))
    } else {
        client
    };
    let res = st.rt.block_on(client.delete(ck));
    st.save_state();
    let ok = match res {
        Ok(r) => match r.response {
            Response::Ok(_) => true,
            other => {
                st.error(&format!("unexpected response: {}", other.op().name()));
                false
            }
        },
        Err(ClientError::Server { message, .. }) => {
            st.server_error(&format!("   {message}"));
            false
        }
        Err(e) => {
            st.error(&e.to_string());
            false
        }
    };
    if st.debug > 0 {
        println!("{:.2} ms", t.elapsed().as_secs_f64() * 1000.0);
    }
    if ok {
        Ret::Ok
    } else {
        Ret::Fail
    }
}

/// `anon delay [delay[,inflate]]`.
pub fn anon_delay(st: &mut State, arg: &str) -> Ret {
    let (delay, inflate) = match request::parse_anon_delay(arg) {
        Ok(x) => x,
        Err(e) => {
            st.error(&e);
            return Ret::Fail;
        }
    };
    if delay != request::NO_ANON_DELAY && !st.get_passwd(1, "anon delay", "command") {
        return Ret::Fail;
    }
    let req = request::anon_delay(req_date(st), delay, inflate);
    let r = match send(st, req, None) {
        Ok(r) => r,
        Err(e) => {
            st.server_error(&op_error(st, Aop::AnonDelay, inflate, &e));
            return Ret::Fail;
        }
    };
    let Response::Admn(AdmnAnswer::AnonDelay(d)) = r.response else {
        st.error("ANON DELAY: unexpected response");
        return Ret::Fail;
    };
    let verb = if delay != request::NO_ANON_DELAY {
        "was"
    } else {
        "is"
    };
    if d.delay_ms == request::ANON_DELAY_FOREVER {
        println!("    anon delay {verb} FOREVER");
    } else if d.inflate != 0 {
        println!("    anon delay {verb} {},{}", d.delay_ms, d.inflate);
    } else {
        println!("    anon delay {verb} {}", d.delay_ms);
    }
    Ret::Ok
}

/// `trace default`: the default trace bits on, the others off.
pub fn trace_default(st: &mut State) -> Ret {
    let ok = do_aop(st, Aop::TraceOn, trace::DEFAULT, None, true)
        && do_aop(st, Aop::TraceOff, trace::ALL & !trace::DEFAULT, None, true);
    if ok {
        Ret::Ok
    } else {
        Ret::Fail
    }
}

/// `RTT [-N]`: forget what is known and measure all servers again.
pub fn rtt(st: &mut State, arg: &str) -> Ret {
    if !arg.is_empty() && arg != "-N" {
        return Ret::Usage;
    }
    let kind = st.kind();
    let client = match st.ready() {
        Ok(c) => c,
        Err(e) => {
            st.error(&e);
            return Ret::Fail;
        }
    };
    if let Err(e) = st.rt.block_on(client.measure_rtt(kind)) {
        st.error(&e.to_string());
    }
    st.save_state();
    crate::local::info(st, arg)
}
