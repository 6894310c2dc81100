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
    assert_eq!(
        err(&o),
        format!("open({}): File exists\n ?\n", h.join("map").display())
    );
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
    let bad = h3.join("bad.txt").display().to_string();
    assert!(err(&o).contains(&format!("line 1 of {bad}")), "{}", err(&o));
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
            // an IPv4 source needs IPv4: back to `IPv6 on` first
            "IPv6; IPv6 only; IPv6; IPv6 on; SOCKS; src; src 192.0.2.7; src",
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
        // three blanks: the original's src= of info
        "   src=192.0.2.7".into(),
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

/// `add` and `load` as the original: an RTT adjustment beyond ±2000 ms is
/// clamped with an indented warning and a password with the anonymous ID
/// only warned about, the entries added all the same; errors in bare
/// words (`load` adds the file, absolute, and the line).
#[test]
fn add_and_load_warnings_and_errors() {
    let h = home("warn");
    let o = cdcc(
        &h,
        &[
            "-q",
            "new map",
            "add h1 RTT+5000 32800 pw",
            "add h2 anon pw",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        err(&o),
        "    invalid RTT adjustment\n    password invalid for h2 with anonymous client-ID\n"
    );
    let info = out(&cdcc(&h, &["info"]));
    let line = |host: &str| {
        server_lines(&info)
            .into_iter()
            .find(|l| l.starts_with(host))
            .unwrap_or_default()
    };
    assert!(line("h1,").contains("RTT+2000 ms  32800 pw"), "{info}");
    assert!(line("h2,").trim_end().ends_with("ms    anon"), "{info}");
    for (cmd, want) in [
        ("add h3 x", "invalid ID \"x\""),
        ("add h3 7 pw", "invalid ID \"7\""),
        ("add h3 1100 pw", "server-ID 1100 is not a client-ID"),
        (
            "add h3 32800 pw extra",
            "invalid password server h3, client-ID 32800",
        ),
    ] {
        let o = cdcc(&h, &["-q", cmd]);
        assert_eq!(o.status.code(), Some(69), "{cmd}");
        assert_eq!(err(&o), format!("{want}\n ?\n"), "{cmd}");
    }

    let file = h.join("servers");
    write_private(&file, "h4 RTT-3000 32800 pw\nh5 anon pw extra\n");
    let o = cdcc(&h, &["-q", "load servers"]);
    assert!(o.status.success(), "{}", err(&o));
    let f = file.display();
    assert_eq!(
        err(&o),
        format!(
            "    invalid RTT adjustment in line 1 of {f}\n    password invalid for h5 with anonymous client-ID in line 2 of {f}\n"
        )
    );
    write_private(&file, "h6 32800 pw\nh7 32800\n");
    let o = cdcc(&h, &["-q", "load servers"]);
    assert_eq!(o.status.code(), Some(69));
    assert_eq!(
        err(&o),
        format!("invalid null password for client-ID 32800 for h7 in line 2 of {f}\n ?\n")
    );
    let o = cdcc(&h, &["-q", "load nosuchfile"]);
    assert_eq!(
        err(&o),
        format!(
            "fopen({}): No such file or directory\n ?\n",
            h.join("nosuchfile").display()
        )
    );
    let _ = std::fs::remove_dir_all(&h);
}

/// A home directory that cannot be entered is told as the original's
/// `chdir` complaint, at start (the default is tried instead) and by
/// `homedir`, which takes a relative name in the current one.
#[test]
fn bad_home_directory() {
    let h = home("badhome");
    let o = cdcc(&h, &["-q", "homedir nosuchdir"]);
    assert_eq!(o.status.code(), Some(69));
    assert_eq!(
        err(&o),
        format!(
            "chdir({}): No such file or directory\n ?\n",
            h.join("nosuchdir").display()
        )
    );
    write_private(&h.join("plain"), "");
    let o = cdcc(&h, &["-q", "homedir plain"]);
    assert_eq!(
        err(&o),
        format!(
            "chdir({}): Not a directory\n ?\n",
            h.join("plain").display()
        )
    );
    std::fs::create_dir(h.join("sub")).unwrap();
    let o = cdcc(&h, &["-q", "homedir sub"]);
    assert_eq!(
        out(&o),
        format!("    homedir={}\n", h.join("sub").display())
    );
    // at start
    let missing = h.join("missing");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cdcc"))
        .arg("-h")
        .arg(&missing)
        .args(["-q", "quiet"])
        .output()
        .unwrap();
    let e = err(&o);
    assert!(
        e.starts_with(&format!(
            "chdir({}): No such file or directory\n",
            missing.display()
        )),
        "{e}"
    );
    let _ = std::fs::remove_dir_all(&h);
}

/// `info` as the original prints it with -q, in greylist mode implied by
/// a map of greylist servers only, with -d, and for a temporary map.
#[test]
fn info_forms() {
    let h = home("infoforms");
    let o = cdcc(
        &h,
        &[
            "new map",
            "add 127.0.0.1,16277 32800 pw",
            "add 127.0.0.1 Greylist 32800 gpw",
        ],
    );
    assert!(o.status.success(), "{}", err(&o));
    // -q: the text `load` reads, nothing else
    let o2 = cdcc(&h, &["-q", "info"]);
    assert!(o2.status.success(), "{}", err(&o2));
    assert_eq!(
        out(&o2),
        "IPv6 on   version=3\n\
         127.0.0.1,16277             32800 pw\n\
         127.0.0.1,-                 Greylist 32800 gpw\n"
    );
    let o = cdcc(&h, &["quiet on; info"]);
    assert_eq!(out(&o), out(&o2));
    // -d: the heading's times although they are past
    let o = cdcc(&h, &["-d", "info"]);
    assert!(
        out(&o)
            .lines()
            .nth(1)
            .unwrap()
            .starts_with("# Re-resolve names after "),
        "{}",
        out(&o)
    );

    // Only greylist servers: greylist mode, no DCC part, no separator.
    let o = cdcc(&h, &["delete 127.0.0.1,16277", "info"]);
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(text.starts_with("# "), "{text}");
    assert!(!text.contains("################"), "{text}");
    assert!(!text.contains("version=3"), "{text}");
    assert!(
        text.lines()
            .next()
            .unwrap()
            .ends_with(&format!("  greylist {}", h.join("map").display())),
        "{text}"
    );

    // A temporary map: no heading.
    let o = cdcc(&h, &["grey off; host 127.0.0.1,16277; info"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "127.0.0.1,16277             anon\n\n");
    let _ = std::fs::remove_dir_all(&h);
}
