#![no_main]
//! dcc-web's readers of user files on arbitrary bytes: the log file
//! parser (whole file and listing summary), the whiteclnt entry and
//! option scanners, and removing an entry (which must only drop lines).
use libfuzzer_sys::fuzz_target;
use tally_web::whiteedit::{entries, remove, Kind};
use tally_web::{logparse, useropts};

fuzz_target!(|data: &[u8]| {
    let m = logparse::parse(data);
    let _ = (m.ip(), m.from_addr());
    let _ = logparse::parse_summary(data);
    let _ = useropts::current(data);
    for (kind, value, _) in entries(data) {
        let out = remove(data, kind, &value);
        assert!(out.len() <= data.len());
    }
    let _ = remove(data, Kind::Ip, "192.0.2.1");
});
