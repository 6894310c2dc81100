#![no_main]
//! Configuration parsers on arbitrary text: the server map (`cdcc info` /
//! `cdcc load` format) and client thresholds (`-c type,[log,]rej`, `-g`).
//! Never a panic; a map that parses prints back to a map that parses.
use libfuzzer_sys::fuzz_target;
use tally_client::map::parse::parse_map;
use tally_engine::tholds::Thresholds;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(map) = parse_map(text, Some("map")) {
        let printed = tally_client::map::print::print_map(&map, 0, true);
        assert!(parse_map(&printed, Some("map")).is_ok(), "printed map does not parse");
    }
    let mut t = Thresholds::default();
    let _ = t.parse("-c ", text);
    let _ = t.parse_honor(text);
});
