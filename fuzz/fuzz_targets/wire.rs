#![no_main]
//! The packet decoders on arbitrary datagrams: never a panic, and whatever
//! decodes encodes back to the same bytes.
use libfuzzer_sys::fuzz_target;
use tally_wire::packet::{Expect, Packet, Request, Response};

fuzz_target!(|data: &[u8]| {
    if let Ok(req) = Packet::<Request>::decode(data) {
        assert_eq!(req.encode(), data, "request re-encoding differs");
        let _ = tally_wire::validate::check_request(&req);
    }
    for expect in [Expect::Dcc, Expect::Grey] {
        if let Ok(resp) = Packet::<Response>::decode(data, expect) {
            assert_eq!(resp.encode(), data, "response re-encoding differs");
        }
    }
    let _ = tally_wire::flood::FloodReport::decode(data);
    let _ = tally_wire::flood::ListenerMsg::decode(data, true);
    let _ = tally_wire::ids::Ids::parse_lenient(data);
});
