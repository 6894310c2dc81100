//! Names through the system resolver, on loopback only: `info -N` and
//! `RTT -N` show the name of each server address (127.0.0.1 is
//! `localhost` in the hosts file), plain `info` leaves the column blank;
//! `src` takes a host name (`localhost`, asked for IPv4 only with
//! `IPv6 off`, so that no question leaves the machine).

mod common;

use common::{cdcc, err, home, out, start};

/// The address line of `a1` in an info dump.
fn addr_line<'a>(info: &'a str, a1: &str) -> &'a str {
    info.lines()
        .find(|l| l.starts_with("# ") && l[3..].starts_with(a1))
        .unwrap_or_else(|| panic!("no line of {a1}: {info}"))
}

#[test]
fn info_and_rtt_with_names() {
    let fake = start(1100);
    let port = fake.addr.port();
    let a1 = format!("127.0.0.1,{port}");
    let h = home("names");
    let o = cdcc(
        &h,
        &["new map", &format!("add 127.0.0.1,{port} anon"), "RTT -N"],
    );
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    // the address column is 22 wide with a name of 25 or less, the name
    // column 25 wide with an address of 22 or less
    let named = format!("# *{a1:<22} {:<25} ", "localhost");
    let line = addr_line(&text, &a1);
    assert!(line.starts_with(&named), "{line:?}");
    assert!(line.ends_with(" ID 1100"), "{line:?}");

    // from the map file: the name only with -N
    let plain = out(&cdcc(&h, &["info"]));
    let line = addr_line(&plain, &a1);
    assert!(
        line.starts_with(&format!("# *{a1:<22} {:<25} ", "")),
        "{line:?}"
    );
    assert!(!plain.contains("localhost"), "{plain}");
    let named_info = out(&cdcc(&h, &["info -N"]));
    assert!(addr_line(&named_info, &a1).starts_with(&named));
    // the names are not kept in the map file
    let map = std::fs::read_to_string(h.join("map")).unwrap();
    assert!(!map.contains("localhost"), "{map}");
    // no address lines with -q: nothing to name
    let quiet = out(&cdcc(&h, &["-q", "info -N"]));
    assert!(
        !quiet.contains("localhost") && !quiet.contains("# "),
        "{quiet}"
    );

    // a temporary map too
    let o = cdcc(&h, &[&format!("host 127.0.0.1; port {port}; RTT -N")]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(addr_line(&out(&o), &a1).starts_with(&named), "{}", out(&o));
    let _ = std::fs::remove_dir_all(&h);
}

#[test]
fn src_takes_host_names() {
    let h = home("srcname");
    let o = cdcc(
        &h,
        &[
            "new map; IPv6 off",
            "src localhost; src",
            "src 192.0.2.7,localhost; src",
            "src -; src",
            "src localhost,192.0.2.7",
            "info",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[1], "   src=127.0.0.1", "{text}");
    // the first of two IPv4 addresses counts
    assert_eq!(lines[2], "   src=192.0.2.7", "{text}");
    assert_eq!(lines[3], "    no source address specified", "{text}");
    assert!(
        text.contains("IPv6 off   src=127.0.0.1   version=3"),
        "{text}"
    );
    // `@` is the loopback addresses, without a look-up; IPv4 first
    let o = cdcc(&h, &["IPv6 on; src @; src; src ::1,127.0.0.1; src"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "   src=127.0.0.1,::1\n   src=127.0.0.1,::1\n");
    // an address of a family switched off is refused
    let o = cdcc(&h, &["IPv6 off; src ::1"]);
    assert_eq!(o.status.code(), Some(69));
    assert_eq!(
        err(&o),
        "cannot use IPv6 source address when IPv6 disabled\n ?\n"
    );
    let _ = std::fs::remove_dir_all(&h);
}
