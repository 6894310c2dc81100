//! Reports whose checksums are whitelisted by the server's `whitelist`
//! file are not flooded, as the original's `oflod_ck_put` decides, and a
//! flooded report whose checksum is whitelisted here is neither counted
//! nor passed on (its `iflod_rpt`).

mod flood_util;

use flood_util::*;
use tally_wire::WireCk;

/// The server whitelist line of a body checksum of [`body`].
fn white_line(ck: &WireCk) -> String {
    let words: Vec<String> = ck
        .sum
        .0
        .chunks(4)
        .map(|w| format!("{:08x}", u32::from_be_bytes([w[0], w[1], w[2], w[3]])))
        .collect();
    format!("ok hex body {}\n", words.join(" "))
}

/// The whitelist value of a checksum.
const OK: u32 = 0x00ff_fff1;

#[test]
fn whitelisted_reports_are_not_flooded() {
    let (pa, pb) = (free_port(), free_port());
    let (ha, hb) = (home("wla"), home("wlb"));
    // A whitelists body 1, B body 3
    std::fs::write(ha.join("whitelist"), white_line(&body(1))).unwrap();
    std::fs::write(hb.join("whitelist"), white_line(&body(3))).unwrap();
    flod(&ha, &[format!("127.0.0.1,{pb} 1101")]);
    flod(&hb, &[format!("127.0.0.1,{pa} 1100")]);
    let a = Server::start(&ha, 1100, pa, &[]);
    let b = Server::start(&hb, 1101, pb, &["-T", "FLOOD2"]);
    assert_eq!(query(a.addr(), &[body(1)]).unwrap()[0], OK);
    assert_eq!(query(b.addr(), &[body(3)]).unwrap()[0], OK);
    // reported at A one after the other; body 2 last, as a marker
    report(a.addr(), 30, &[body(1)]).unwrap();
    report(a.addr(), 30, &[body(3)]).unwrap();
    report(a.addr(), 30, &[body(2)]).unwrap();
    assert_eq!(wait_count(b.addr(), body(2), 30, 30), 30);
    // A did not send its whitelisted report
    assert_eq!(query(b.addr(), &[body(1)]).unwrap()[0], 0);
    // B refused the one whitelisted there
    assert!(b.wait_log("whitelisted ", 10), "{}", b.log());
    // a report of a whitelisted body with a fuzzier checksum that is not
    // whitelisted goes, whitelisted checksum and all
    let fuz1 = WireCk::new(tally_ck::CkType::Fuz1, body(5).sum);
    report(a.addr(), 30, &[body(1), fuz1]).unwrap();
    assert_eq!(wait_count(b.addr(), fuz1, 30, 30), 30);
    assert_eq!(query(b.addr(), &[body(1)]).unwrap()[0], 30);
}
