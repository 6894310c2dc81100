//! The greylist mode of the bench (`dccd-bench grey [seconds-per-run]`):
//! a greylist dccd (`-G on,20`) answering GREY_REPORT and GREY_QUERY
//! requests as dccm and dccifd send them (the message's checksums, then
//! the grey msg and grey triple checksums), each request a new triple, so
//! that every GREY_REPORT starts an embargo and writes a record before it
//! is answered.

use tally_ck::CkType;
use tally_wire::packet::{CkRequest, Request};
use tally_wire::{Tgts, WireCk};

use crate::{signed_pool, sum_of};

/// The checksums of a greylist request for message `n` of client `client`.
fn grey_cks(n: u32, client: u32) -> Vec<WireCk> {
    let ip = sum_of(client, n % 251, 1);
    vec![
        WireCk::new(CkType::Ip, ip),
        WireCk::new(CkType::EnvFrom, sum_of(n, client, 2)),
        WireCk::new(CkType::From, sum_of(n, client, 3)),
        WireCk::new(CkType::MessageId, sum_of(n, client, 5)),
        WireCk::new(CkType::Body, sum_of(n % 5000, 7, 7)),
        WireCk::new(CkType::Fuz1, sum_of(n % 5000, 8, 8)),
        WireCk::new(CkType::Fuz2, sum_of(n % 5000, 9, 9)),
        WireCk::new(CkType::GreyMsg, sum_of(n, client, 10)),
        WireCk::new(CkType::GreyTriple, sum_of(n, client, 11)),
    ]
}

/// `POOL` signed GREY_REPORT (or GREY_QUERY) requests, entry `i` with
/// `r = i`.
pub fn pool(report: bool, run_id: u32) -> Vec<Vec<u8>> {
    signed_pool(run_id, |n| {
        let r = CkRequest {
            tgts: Tgts(0),
            cks: grey_cks(n, run_id),
        };
        if report {
            Request::GreyReport(r)
        } else {
            Request::GreyQuery(r)
        }
    })
}
