//! Header fields as the original dccm takes them, through the milter
//! protocol: `dccm_header()` gets each field's name and value as C strings
//! from libmilter and gives the whole value to the checksums, whatever its
//! length and bytes (`get_cks()` keeps the first 1024 normalised bytes of
//! the value, `ck_get_sub()` the same for a substitute). The expected
//! checksums are computed here from that rule and read back from the
//! checksum table of the log file.

mod common;

use common::milter::{connect, envelope, Client};
use common::{local_args, make_home, start_dccm};
use std::path::Path;
use tally_ck::simple::str_sum;
use tally_ck::Sum;
use tally_testkit::{write_map, FakeDccd};

/// A value of `n` letters that differ along the way.
fn letters(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

/// Send header packets (name NUL value NUL; a NUL inside the value stays
/// in the packet), the end of the header, a body and the end.
fn message(c: &mut Client, fields: &[(&[u8], &[u8])]) {
    for (n, v) in fields {
        c.send(b'L', &[*n, b"\0", *v, b"\0"].concat()).unwrap();
        c.replies().unwrap();
    }
    c.send(b'N', b"").unwrap();
    c.replies().unwrap();
    c.send(
        b'B',
        b"A body long enough for the body checksums of this test.\r\n",
    )
    .unwrap();
    c.replies().unwrap();
    c.send(b'E', b"").unwrap();
    c.replies().unwrap();
}

/// The log file of the one message logged in `dir` (waiting for it).
fn the_log(dir: &Path) -> String {
    for _ in 0..250 {
        let files: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .flatten()
            .filter(|e| e.path().is_file())
            .collect();
        if let [f] = &files[..] {
            let text = String::from_utf8_lossy(&std::fs::read(f.path()).unwrap()).into_owned();
            if text.contains("\nresult: ") {
                return text;
            }
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    panic!("no log file in {}", dir.display());
}

/// The checksum of type `label` in the log file's checksum table.
fn sum(log: &str, label: &str) -> Option<Sum> {
    let sep = log.find("### end of message body")?;
    let want = format!("{label}:");
    log[sep..].lines().find_map(|l| {
        let l = l.trim_start();
        let rest = l.strip_prefix(&want)?;
        let hex: Vec<&str> = rest.split_whitespace().take(4).collect();
        Sum::parse_hex(&hex.join(" "))
    })
}

#[test]
fn whole_values() {
    let home = make_home("framing");
    std::fs::write(home.join("whiteclnt"), "option log-all\n").unwrap();
    let srv = FakeDccd::start(1200, "behbrand");
    write_map(&home, srv.addr);
    let logs = home.join("logs");
    let l = logs.display().to_string();
    let d = start_dccm(
        &home,
        &local_args(&home, &["-w", "whiteclnt", "-l", &l, "-S", "Subject"]),
    );
    let mut c = connect(&d.sock, "192.0.2.60");
    envelope(&mut c, "FR0001", &["bob"]);

    // a From value of 3000 bytes: the whole value goes to the checksum,
    // which keeps its first 1024 normalised bytes (dccproc would keep only
    // the first 1024 bytes of the field)
    let mut from = b"Someone <".to_vec();
    from.extend(letters(3000));
    from.extend_from_slice(b"@example.com>");
    // a NUL ends the value as libmilter hands it over: what follows in
    // the packet, a folded line here, is not part of it
    let msgid: &[u8] = b"<abc\0\r\n\t<def@example.com>";
    // bytes that are not UTF-8 are checksummed as they came
    let subject: &[u8] = b"caf\xe9 \xff\xfe";
    message(
        &mut c,
        &[
            (b"From", &from),
            (b"Message-ID", msgid),
            (b"Subject", subject),
        ],
    );
    drop(c);
    let log = the_log(&logs);
    drop(d);
    let _ = std::fs::remove_dir_all(&home);

    assert_eq!(sum(&log, "From"), Some(str_sum(None, &from)), "{log}");
    let normalised = [&b"someone"[..], &letters(1017)].concat();
    assert_eq!(sum(&log, "From"), Some(str_sum(None, &normalised)));
    assert_eq!(sum(&log, "Message-ID"), Some(str_sum(None, b"<abc")));
    assert_eq!(
        sum(&log, "substitute subject"),
        Some(str_sum(Some(b"subject"), subject))
    );
}
