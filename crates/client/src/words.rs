//! What DCC clients say when servers fail, in the original client
//! library's words (`dcc_clnt_op` and `pick_srvr`): the same texts for the
//! engine's complaints (dccproc, dccm, dccifd) and for `cdcc`.

use crate::map::{Map, ServerClass};
use crate::{ClientError, NoServerReason};
use std::net::SocketAddr;

/// `addr,port` as the original prints server addresses in complaints.
fn ap_str(a: &SocketAddr) -> String {
    format!("{},{}", a.ip(), a.port())
}

/// An address of a class as the original lists it after `at` in "no
/// working ... server" complaints: without the port when it is the
/// class's usual one.
fn at_str(class: &ServerClass, a: &SocketAddr) -> String {
    if a.port() == class.kind.default_port() {
        a.ip().to_string()
    } else {
        ap_str(a)
    }
}

/// A server address as the original names it in "no ... answer from"
/// complaints: `host (addr,port)` when its map entry is a host name,
/// else `addr,port`.
pub fn server_str(class: &ServerClass, a: &SocketAddr) -> String {
    let name = class
        .addrs
        .iter()
        .find(|x| x.addr == *a)
        .and_then(|x| class.names.get(x.name))
        .map(|n| n.host.as_str())
        .filter(|h| h.parse::<std::net::IpAddr>().is_err());
    match name {
        Some(h) => format!("{h} ({})", ap_str(a)),
        None => ap_str(a),
    }
}

/// "no working DCC server ... at ..." as the original words it: the first
/// name unless it is an address, the second and third names, `...` for
/// more; then the first addresses, without the usual port, `...` for more
/// than three.
pub fn no_working(class: &ServerClass) -> String {
    let mut s = format!("no working {} server", class.kind.name());
    let first_is_addr = class
        .names
        .first()
        .is_none_or(|n| n.host.parse::<std::net::IpAddr>().is_ok());
    if !first_is_addr {
        s.push_str(if class.names.len() > 1 { "s " } else { " " });
        if let Some(n) = class.names.first() {
            s.push_str(&n.host);
        }
    }
    for n in class.names.iter().skip(1).take(2) {
        s.push(' ');
        s.push_str(&n.host);
    }
    if class.names.len() > 3 {
        s.push_str(" ...");
    }
    s.push_str(" at");
    for a in class.addrs.iter().take(3) {
        s.push(' ');
        s.push_str(&at_str(class, &a.addr));
    }
    if class.addrs.len() > 3 {
        s.push_str(" ...");
    }
    s
}

/// The original's text for a server that did not answer, or for no
/// server to ask; None for the other failures, which each caller words.
pub fn unanswered(e: &ClientError, map: &Map) -> Option<String> {
    match e {
        ClientError::NoServer {
            class,
            reason: NoServerReason::NotAnswering,
        } => Some(no_working(map.class(*class))),
        ClientError::Timeout {
            class,
            server,
            elapsed_ms,
        } => Some(format!(
            "no {} answer from {} after {elapsed_ms} ms",
            class.name(),
            server_str(map.class(*class), server)
        )),
        _ => None,
    }
}
