//! The map text against `cdcc info` output recorded from the reference.

use std::path::PathBuf;
use tally_client::clock;
use tally_client::map::file;
use tally_client::map::parse::{parse_map, parse_server, parse_server_warn};
use tally_client::map::print::print_map;
use tally_client::map::{ClassKind, Ipv6Mode, Map};
use tally_client::timing::RTT_BAD;

fn data(name: &str) -> String {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name);
    std::fs::read_to_string(p).unwrap()
}

/// The date in the first heading of an info text.
fn heading_date(text: &str) -> u64 {
    let toks: Vec<&str> = text.lines().next().unwrap().split_whitespace().collect();
    clock::parse_date_time(toks[1], toks[2]).unwrap()
}

#[test]
fn recorded_info_round_trips() {
    for name in [
        "map.info.txt",
        "map-anon.info.txt",
        "map-badpw.info.txt",
        "map-grey.info.txt",
    ] {
        let text = data(name);
        let map = parse_map(&text, Some(name)).unwrap();
        let printed = print_map(&map, heading_date(&text), true);
        assert_eq!(printed, text, "{name}");
        // And once more from the printed text.
        assert_eq!(parse_map(&printed, None).unwrap(), map, "{name}");
    }
}

#[test]
fn recorded_state_is_read() {
    let m = parse_map(&data("map.info.txt"), None).unwrap();
    assert_eq!(m.label, "HOME1/map");
    assert_eq!(m.ipv6, Ipv6Mode::On);
    let n = &m.dcc.names[0];
    assert_eq!(
        (n.host.as_str(), n.port, n.client_id),
        ("127.0.0.1", 16277, 32800)
    );
    assert_eq!(n.passwd.as_ref().unwrap().as_bytes(), b"vectorclientpw");
    let a = &m.dcc.addrs[0];
    assert_eq!(m.dcc.chosen, Some(0));
    assert_eq!(a.addr, "127.0.0.1:16277".parse().unwrap());
    assert_eq!((a.srvr_id, a.brand.as_str()), (Some(1100), "vecbrand"));
    assert_eq!((a.rtt, a.srvr_wait), (432_350, 400_000));
    assert_eq!((a.total_xmits, a.total_resps), (19, 18));
    let base = heading_date(&data("map.info.txt"));
    assert_eq!(m.dcc.measure_at - base, 12 * 60 + 30);
    assert_eq!(m.dcc.resolve_at - base, 3600 + 57 * 60 + 30);

    let g = parse_map(&data("map-grey.info.txt"), None).unwrap();
    assert_eq!(g.grey.names.len(), 1);
    assert_eq!(g.grey.names[0].port, 16276);
    assert_eq!(g.grey.addrs[0].brand, "vecgrey");
    assert_eq!(g.grey.addrs[0].rtt, RTT_BAD);
    assert_eq!(g.grey.fail.fail_exp, 1);
    let base = heading_date(&data("map-grey.info.txt"));
    assert_eq!(g.dcc.fail.waiting(base), Some(31));
    assert_eq!(g.grey.fail.waiting(base), Some(32));

    let anon = parse_map(&data("map-anon.info.txt"), None).unwrap();
    assert!(anon.dcc.names[0].is_anon());
}

#[test]
fn load_lines() {
    let (k, n) = parse_server("dcc.example.com RTT-300 ms Greylist 32800 pw").unwrap();
    assert_eq!(k, ClassKind::Grey);
    assert_eq!((n.port, n.rtt_adj, n.client_id), (6276, -300_000, 32800));
    let (k, n) = parse_server("dcc.example.com,- RTT+20").unwrap();
    assert_eq!((k, n.port, n.client_id), (ClassKind::Dcc, 6277, 1));
    assert!(parse_server("h,70000").is_err());
    assert!(parse_server("h RTT+3000").is_err());
    // what `cdcc add` only warns about, corrected
    let (_, n, w) = parse_server_warn("h RTT-3000 ms").unwrap();
    assert_eq!(
        (n.rtt_adj, w.as_deref()),
        (-2_000_000, Some("invalid RTT adjustment"))
    );
    let (_, n, w) = parse_server_warn("h anon pw").unwrap();
    assert_eq!(n.passwd, None);
    assert_eq!(
        w.unwrap(),
        "password invalid for h with anonymous client-ID"
    );
    assert_eq!(parse_server_warn("h 32800 pw").unwrap().2, None);
    assert!(parse_server("h 0").is_err());
    assert!(parse_server("h 32800 pw extra").is_err());

    let text =
        "# comment\n\nIPv6 off   use SOCKS   version=3\nh1,- 32800 pw\nh2,7000 RTT+5 ms anon\n";
    let m = parse_map(text, None).unwrap();
    assert_eq!((m.ipv6, m.socks), (Ipv6Mode::Off, true));
    assert_eq!(m.dcc.names.len(), 2);
    // Printed with the adjustment column, and read back the same.
    let printed = print_map(&m, 1_000_000, true);
    assert!(
        printed.contains("h2,7000                     RTT+5 ms    anon\n"),
        "{printed}"
    );
    let again = parse_map(&printed, None).unwrap();
    assert_eq!(again.dcc.names, m.dcc.names);

    let e = parse_map("h1 32800 pw\nh2,port\n", Some("mapfile")).unwrap_err();
    assert_eq!((e.file.as_deref(), e.line), (Some("mapfile"), 2));
    assert!(e.to_string().starts_with("mapfile line 2: bad port"), "{e}");
}

#[test]
fn file_save_and_load() {
    let dir = std::env::temp_dir().join(format!("tally-client-map-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = file::default_path(&dir);
    let _ = std::fs::remove_file(&path);
    let mut map = file::create_new(&path).unwrap();
    assert!(file::create_new(&path).is_err());
    let (_, n) = parse_server("127.0.0.1,16277 32800 secret").unwrap();
    map.dcc.add(n).unwrap();
    file::save(&path, &map).unwrap();
    let back: Map = file::load(&path).unwrap();
    assert_eq!(back.dcc.names, map.dcc.names);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    assert!(map.dcc.delete("127.0.0.1", 16277));
    assert!(!map.dcc.delete("127.0.0.1", 16277));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The forms of `cdcc info` other than the map file's, as the original's
/// printer makes them from the same map.
#[test]
fn info_forms() {
    use tally_client::map::print::{print_info, InfoOpts};
    let text = data("map-grey.info.txt");
    let map = parse_map(&text, None).unwrap();
    let now = heading_date(&text);
    let full = InfoOpts {
        show_passwd: true,
        names: true,
        ..InfoOpts::default()
    };
    assert_eq!(print_info(&map, now, &full), text);

    // Without -N the name column stays empty, at the same widths.
    let plain = InfoOpts {
        names: false,
        ..full
    };
    assert_eq!(
        print_info(&map, now, &plain),
        text.replace("localhost", "         ")
    );

    // -q: the switches and the server lines only, the text `load` reads.
    let quiet = InfoOpts {
        quiet: true,
        ..full
    };
    assert_eq!(
        print_info(&map, now, &quiet),
        "IPv6 on   version=3\n\
         127.0.0.1,16277             32800 vectorclientpw\n\
         127.0.0.1,16276             Greylist 32800 vectorclientpw\n"
    );

    // -d: the times of the heading even when past.
    let debug = InfoOpts {
        debug: true,
        ..full
    };
    let later = now + 86_400;
    let d = print_info(&map, later, &debug);
    assert!(
        d.lines()
            .nth(1)
            .unwrap()
            .starts_with("# Re-resolve names after ")
            && d.lines().nth(1).unwrap().contains("  Check RTTs after "),
        "{d}"
    );
    assert!(!print_info(&map, later, &full)
        .lines()
        .nth(1)
        .unwrap()
        .contains("Re-resolve"));

    // A map with only greylist servers in greylist mode: no DCC part,
    // no separator, and so no switches.
    let mut grey_only = map.clone();
    grey_only.dcc.names.clear();
    grey_only.dcc.addrs.clear();
    let g = InfoOpts {
        grey_on: true,
        ..full
    };
    let gtext = print_info(&grey_only, now, &g);
    let grey_part = &text[text.find("################\n").unwrap() + 17..];
    assert_eq!(gtext, grey_part);
    // Greylist mode with no greylist server still shows its heading.
    let mut dcc_only = map.clone();
    dcc_only.grey.names.clear();
    dcc_only.grey.addrs.clear();
    let t = print_info(&dcc_only, now, &g);
    assert!(t.contains("################\n# "), "{t}");
    assert!(t.contains("  greylist HOME1/map-grey\n"), "{t}");

    // A temporary map: no heading, the switches only when not the
    // defaults, ended by the line break of the blank line.
    let mut tmp = Map::single(ClassKind::Dcc, "127.0.0.1", 16277, 1, None);
    let t = InfoOpts {
        temporary: true,
        ..full
    };
    assert_eq!(
        print_info(&tmp, now, &t),
        "127.0.0.1,16277             anon\n\n"
    );
    tmp.ipv6 = Ipv6Mode::Off;
    tmp.socks = true;
    assert_eq!(
        print_info(&tmp, now, &t),
        "IPv6 off   use SOCKS\n127.0.0.1,16277             anon\n\n"
    );
    let tg = Map::single(ClassKind::Grey, "127.0.0.1", 6276, 32800, None);
    assert_eq!(
        print_info(&tg, now, &InfoOpts { grey_on: true, ..t }),
        "127.0.0.1,-                 Greylist 32800 \n\n"
    );
}

#[test]
fn new_map_refuses_an_existing_file() {
    let dir = std::env::temp_dir().join(format!("tally-client-newmap-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = file::default_path(&dir);
    let _ = std::fs::remove_file(&path);
    file::create_new(&path).unwrap();
    let e = file::create_new(&path).unwrap_err();
    assert_eq!(
        e.to_string(),
        format!("open({}): File exists", path.display())
    );
    let _ = std::fs::remove_dir_all(&dir);
}
