#![no_main]
//! The greylist request path of dccd -G: arbitrary datagrams through the
//! server's one-datagram-in, one-answer-out function, with a real
//! greylist store in a temporary home. Most inputs get a correct length,
//! a greylist operation (GREY_REPORT, GREY_QUERY, GREY_WHITE, GREY_SPAM)
//! and a valid client signature, so that fuzzing reaches past the checks
//! into the greylist decisions; the clock moves with the input so that
//! embargoes end. Never a panic; every answer is at least a header.
mod dccd_server;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut pkt = rest.to_vec();
    if mode & 1 == 1 && pkt.len() >= 40 && pkt.len() <= 1500 {
        pkt[2] = 12;
        // GREY_REPORT 9, GREY_QUERY 10, GREY_SPAM 11, GREY_WHITE 12
        pkt[3] = 9 + ((mode >> 1) & 3);
        dccd_server::frame(&mut pkt, 32800, b"clientpw");
    }
    let mut s = dccd_server::server("grey", Some("on,20"));
    s.clock = s.clock.map(|t| t + u64::from(mode >> 3));
    dccd_server::handle(&mut s, &pkt);
});
