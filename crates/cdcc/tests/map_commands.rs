//! Map commands on a temporary home directory: new map, add, delete,
//! info, load, and the switches.

mod common;

use common::{cdcc, cdcc_stdin, err, home, out};

/// The server lines of an info dump (the configuration, without the
/// dated comments).
fn server_lines(info: &str) -> Vec<String> {
    info.lines()
        .filter(|l| !l.starts_with('#') && !l.starts_with("    ") && !l.trim().is_empty())
        .map(str::to_string)
        .collect()
}

/// Write a file readable by its owner only, as `load` requires.
fn write_private(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
}

#[test]
fn new_add_delete_info() {
    let h = home("map");
    let o = cdcc(
        &h,
        &[
            "new map",
            "add 127.0.0.1,16277 32800 secretpw; add dcc.example.com RTT+20 ms anon",
            "add 127.0.0.1 Greylist 32800 greypw",
            "info",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(text.starts_with(&format!("    created {}\n", h.join("map").display())));
    assert_eq!(
        server_lines(&text),
        [
            "IPv6 on   version=3",
            "127.0.0.1,16277             RTT+0 ms    32800 secretpw",
            "dcc.example.com,-           RTT+20 ms   anon",
            "127.0.0.1,-                 Greylist 32800 greypw",
        ]
    );
    assert!(text.contains(&format!("UTC  {}\n", h.join("map").display())));
    assert!(text.contains(&format!("UTC  greylist {}\n", h.join("map").display())));

    // Overwrite, delete without a port, delete an unknown server.
    let o = cdcc(
        &h,
        &[
            "add 127.0.0.1,16277 32801 otherpw",
            "delete dcc.example.com",
            "info",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(text.starts_with("    overwriting existing entry\n"));
    assert_eq!(
        server_lines(&text)[..2],
        [
            "IPv6 on   version=3",
            "127.0.0.1,16277             32801 otherpw"
        ]
    );
    let o = cdcc(&h, &["delete nowhere.example.com"]);
    assert_eq!(o.status.code(), Some(69));
    assert!(
        err(&o).contains("server \"nowhere.example.com\" not found"),
        "{}",
        err(&o)
    );

    // The greylist entry is deleted in greylist mode.
    let o = cdcc(&h, &["grey on; delete 127.0.0.1", "info"]);
    assert!(o.status.success(), "{}", err(&o));
    assert!(!out(&o).contains("Greylist 32800"), "{}", out(&o));

    // A second new map of the same name is refused.
    let o = cdcc(&h, &["new map"]);
    assert_eq!(o.status.code(), Some(69));
    assert!(err(&o).contains("new map:"), "{}", err(&o));
    let _ = std::fs::remove_dir_all(&h);
}

#[test]
fn load_round_trip() {
    let h = home("load");
    let o = cdcc(
        &h,
        &[
            "new map; IPv6 off; SOCKS on",
            "add 192.0.2.1,6000 RTT-30 ms 32800 pw1",
            "add 192.0.2.2 anon",
            "add 192.0.2.3 Greylist 32802 pw3",
            "info",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let first = out(&o);
    let dump: String = first
        .lines()
        .skip_while(|l| !l.starts_with('#'))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(dump.contains("IPv6 off   use SOCKS   version=3"), "{dump}");

    // Load the dump into another home: same configuration.
    let h2 = home("load2");
    write_private(&h2.join("dump.txt"), &dump);
    let o = cdcc(&h2, &["load dump.txt"]);
    assert!(o.status.success(), "{}", err(&o));
    let loaded = out(&o);
    assert!(loaded.starts_with(&format!("    created {}\n", h2.join("map").display())));
    assert_eq!(server_lines(&loaded), server_lines(&dump));

    // Loading again merges: nothing changes.
    let o = cdcc(&h2, &["-q", "load dump.txt", "info"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(server_lines(&out(&o)), server_lines(&dump));

    // From standard input.
    let h3 = home("load3");
    let o = cdcc_stdin(&h3, &["load -"], &dump);
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(text.contains("##################\n\n"), "{text}");
    assert_eq!(server_lines(&text)[..4], server_lines(&dump)[..4]);

    // Bad lines are reported with their line number.
    write_private(&h3.join("bad.txt"), "192.0.2.9 32800\n");
    let o = cdcc(&h3, &["load bad.txt"]);
    assert_eq!(o.status.code(), Some(69));
    assert!(err(&o).contains("line 1 of bad.txt"), "{}", err(&o));
    write_private(&h3.join("empty.txt"), "# nothing\n");
    let o = cdcc(&h3, &["load empty.txt"]);
    assert!(
        err(&o).contains("no DCC server names or options"),
        "{}",
        err(&o)
    );
    for d in [h, h2, h3] {
        let _ = std::fs::remove_dir_all(d);
    }
}

#[test]
fn settings_commands() {
    let h = home("set");
    let o = cdcc(
        &h,
        &[
            "new map",
            "IPv6; IPv6 only; IPv6; SOCKS; src; src 192.0.2.7; src",
            "grey; grey on; grey",
            "id; id 32800; id; port; host; password; password pw; password",
            "debug; quiet; clock kludge; clock kludge +5; clock kludge",
            "file; host -; file",
            "homedir",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    let home_s = h.display().to_string();
    let map_s = h.join("map").display().to_string();
    let expect = [
        format!("    created {map_s}"),
        "    IPv6 on".into(),
        "    IPv6 only".into(),
        "    SOCKS off".into(),
        "    no source address specified".into(),
        "    src=192.0.2.7".into(),
        "    Greylist mode off by default".into(),
        "    Greylist mode on".into(),
        "    ID=1".into(),
        "    ID=32800".into(),
        "    port=6276".into(),
        "    greylist server name \"localhost\"".into(),
        "    password not set".into(),
        "    password pw".into(),
        "    debug off".into(),
        "    off".into(),
        "    clock kludge=0".into(),
        "    clock kludge=5".into(),
        format!("    map file {map_s} but using temporary file"),
        format!("    using map file {map_s}"),
        format!("    homedir={home_s}"),
    ];
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines, expect);
    let _ = std::fs::remove_dir_all(&h);
}

/// At start: a missing map file is named as the original names it (the
/// call and the C library's text), and a map file the group may read is
/// refused as not private; both leave cdcc on a temporary map.
#[test]
fn map_file_start_up_messages() {
    let h = home("mapstart");
    let map = h.join("map");
    let o = cdcc(&h, &["file"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        err(&o),
        format!("open({}): No such file or directory\n", map.display())
    );
    assert!(out(&o).contains("but using temporary file"), "{}", out(&o));
    write_private(&map, "127.0.0.1,16277 32800 secretpw\n");
    let o = cdcc(&h, &["file"]);
    assert_eq!(err(&o), "");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&map, std::fs::Permissions::from_mode(0o640)).unwrap();
        let o = cdcc(&h, &["file"]);
        assert_eq!(err(&o), format!("{} is not private\n", map.display()));
        // readable by others (but not by the group) is allowed, as the original
        std::fs::set_permissions(&map, std::fs::Permissions::from_mode(0o604)).unwrap();
        let o = cdcc(&h, &["file"]);
        assert_eq!(err(&o), "");
    }
    let _ = std::fs::remove_dir_all(&h);
}
