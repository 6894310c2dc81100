#![no_main]
//! The flood stream decoders of dccd: arbitrary bytes as an originator's
//! stream (version header, checks, report records and what each does to
//! the database), as a listener's answers, and as a `flod` file. Never a
//! panic; a stream ends with an END text or more bytes wanted.
use libfuzzer_sys::fuzz_target;
use tally_dccd::flood::file::parse;
use tally_dccd::flood::proto::{check_header, decode_in, incoming};
use tally_wire::flood::{ListenerMsg, VersionHeader, VERS_HDR_LEN};
use tally_wire::ids::Ids;

fuzz_target!(|data: &[u8]| {
    let (peers, _) = parse(b"127.0.0.1,6277 1101\nh 1102 1500 leaf=1 traps,del,1000-1099->self\n");
    let (ids, _) = Ids::parse_lenient(b"1101 pw\n1500 pw2\n");
    let _ = parse(data);
    if let Ok(h) = VersionHeader::decode(data) {
        let _ = check_header(&h, &peers, &ids, "flod");
    }
    let stream = data.get(VERS_HDR_LEN.min(data.len())..).unwrap_or_default();
    let mut off = 0;
    let mut nth = 0;
    while let Ok(Some((r, n))) = decode_in(&stream[off..], nth) {
        assert!(n > 0);
        off += n;
        nth += 1;
        for p in &peers {
            let _ = incoming(&r, 1100, p, nth % 2 == 0, nth % 3 == 0, &|_| true);
        }
    }
    let mut b = data;
    while let Ok(Some((_, n))) = ListenerMsg::decode(b, true) {
        if n == 0 || n > b.len() {
            break;
        }
        b = &b[n..];
    }
});
