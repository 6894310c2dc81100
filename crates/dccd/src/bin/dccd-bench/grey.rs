//! The greylist mode of the bench (`dccd-bench grey [seconds-per-run]`):
//! a greylist dccd (`-G on,20`) answering GREY_REPORT and GREY_QUERY
//! requests as dccm and dccifd send them (the message's checksums, then
//! the grey msg and grey triple checksums), each request a new triple, so
//! that every GREY_REPORT starts an embargo and writes a record before it
//! is answered.

use tally_ck::CkType;
use tally_wire::packet::{CkRequest, Request};
use tally_wire::{Tgts, WireCk};

use crate::memory::rss_kib;
use crate::original::start_or_exit;
use crate::{run, signed_pool, sum_of, Kind};

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

/// The greylist mode: GREY_QUERY and GREY_REPORT at 16 and 64 in flight,
/// then the memory per recorded GREY_REPORT.
pub fn runs(tally: &std::path::Path, secs: f64) {
    let s = start_or_exit(tally, "grey", true);
    let rss0 = rss_kib(s.pid());
    let mut run_id = 1;
    let mut reports = 0;
    for kind in [Kind::GreyQuery, Kind::GreyReport] {
        for shape in [(2, 8), (4, 16)] {
            let (n, _) = run(&s, "", shape, secs, kind, run_id);
            if matches!(kind, Kind::GreyReport) {
                reports += n;
            }
            run_id += 1;
        }
    }
    let grown = rss_kib(s.pid()).saturating_sub(rss0);
    println!(
        "memory: {reports} GREY_REPORTs recorded; RSS grew {:.1} MiB = {:.0} bytes per record \
         (retransmission cache included)",
        grown as f64 / 1024.0,
        grown as f64 * 1024.0 / reports.max(1) as f64
    );
}
