//! A greylist server for `dccm-bench -G pass`: it answers every greylist
//! request at once with "no embargo" (the triple is familiar), signed for
//! the bench's client-ID, so that every message is delivered and the
//! figures show what greylisting costs dccm: one more request and its
//! round trip per recipient.

use crate::fake_dccd::udp_serve::Served;
use tally_wire::packet::{OkBody, Response};
use tally_wire::{Packet, Request, Tgts};

/// The bench's client-ID and password (as in `local_dccd.rs`).
const CLIENT_ID: u32 = 32800;
const CLIENT_PW: &str = "benchclientpw";
const SERVER_ID: u32 = 1102;
/// The triple value of "no embargo".
const PASS: u32 = 0x00ff_fff0;

/// The running server; stopped when dropped.
pub struct GreyPass(Served);

impl GreyPass {
    /// Start on a free loopback port.
    pub fn start() -> std::io::Result<GreyPass> {
        let ids = format!("{CLIENT_ID} {CLIENT_PW}\n");
        Served::start(SERVER_ID, &ids, |req, _| answer(req)).map(GreyPass)
    }

    /// The line of a map file naming this greylist server.
    pub fn map_line(&self) -> String {
        format!(
            "{},{} Greylist {CLIENT_ID} {CLIENT_PW}\n",
            self.0.addr.ip(),
            self.0.addr.port()
        )
    }
}

fn answer(req: &Packet<Request>) -> Option<Response> {
    Some(match req.body {
        Request::Nop | Request::GreySpam(_) => {
            Response::Ok(OkBody::new(req.pkt_vers.min(12), 0, "benchgrey"))
        }
        Request::GreyReport(_) | Request::GreyQuery(_) | Request::GreyWhite(_) => {
            Response::GreyAnswer {
                msg: Tgts(1),
                triple: Tgts(PASS),
            }
        }
        _ => return None,
    })
}
