#![no_main]
//! The dccd request path: arbitrary datagrams through the server's
//! one-datagram-in, one-answer-out function, with a real store in a
//! temporary home. Half of the inputs get a correct length field and a valid
//! signature of a known client or server-ID, so that fuzzing reaches past
//! authentication into counting and the administrative requests. Never a
//! panic; every answer decodes.
mod dccd_server;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut pkt = rest.to_vec();
    if mode & 1 == 1 && pkt.len() >= 40 && pkt.len() <= 1500 {
        // a well-formed frame: true length, signed as client 32800 or server 1100
        let (id, pw): (u32, &[u8]) = if mode & 2 == 0 {
            (32800, b"clientpw")
        } else {
            (1100, b"serverpw")
        };
        dccd_server::frame(&mut pkt, id, pw);
    }
    let mut s = dccd_server::server("dccd", None);
    dccd_server::handle(&mut s, &pkt);
});
