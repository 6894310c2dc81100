#![no_main]
//! The whiteclnt parser and the verdict on arbitrary files: never a panic.
use libfuzzer_sys::fuzz_target;
use tally_ck::{simple::str_sum, CkType};
use tally_white::{parse_file, FileKind, NoIncludes, Resolutions};

fuzz_target!(|data: &[u8]| {
    let parsed = parse_file("whiteclnt", data, FileKind::Global, &mut NoIncludes);
    let built = parsed.build(&Resolutions::new());
    let sums = [
        (CkType::EnvFrom, str_sum(None, b"alice@example.com")),
        (CkType::From, str_sum(None, b"bob@example.com")),
    ];
    let _ = built.list.check(&sums, "192.0.2.1".parse().ok());
});
