//! The command loop and the local commands as the original reads them:
//! a start of a command name with an argument, the words of `quiet`,
//! `grey` and `debug`, `libexecdir`, and lines read from standard input
//! in pieces of the original's buffer.

mod common;

use common::{cdcc, cdcc_stdin, err, home, out};

#[test]
fn start_of_a_name_with_an_argument() {
    let h = home("abbrev");
    // `i` alone could be `id` or `info`; with an argument it is the first
    // of them in the original's table, `id`; `ho=DIR` is `homedir DIR`.
    let o = cdcc(&h, &["-q", "i 32800; id"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "    ID=32800\n");
    let o = cdcc(&h, &["-q", &format!("ho={}", h.display())]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), format!("    homedir={}\n", h.display()));
    // `deb` differs from `delete` before its blank: `debug`
    let o = cdcc(&h, &["-q", "deb on; debug"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "    debug on\n");
    // text that is no start of a name stays unknown
    let o = cdcc(&h, &["-q", "ix 1"]);
    assert_eq!(err(&o), "unrecognized command \"ix 1\"\n ?\n");
    let _ = std::fs::remove_dir_all(&h);
}

#[test]
fn words_of_local_commands() {
    let h = home("words");
    // quiet looks at how the word starts, without regard to case
    let o = cdcc(&h, &["-q", "quiet OFFSET; quiet; quiet onward; quiet"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "    off\n    on\n");
    // grey takes on and off in lower case only
    let o = cdcc(&h, &["-q", "grey ON"]);
    assert_eq!(o.status.code(), Some(69));
    assert_eq!(out(&o), "usage: grey [on|off]\n");
    // debug above 1: the original's line ends before the TTL
    let o = cdcc(&h, &["-q", "debug 3 TTL=9; debug"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "    debug on+2\n    debug on+2\n    TTL=9\n");
    // a TTL makes the map temporary
    let map = h.join("map");
    std::fs::write(&map, "").unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&map, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let o = cdcc(&h, &["-q", "file; debug TTL=5; file"]);
    assert!(o.status.success(), "{}", err(&o));
    let m = map.display();
    assert_eq!(
        out(&o),
        format!("    using map file {m}\n    map file {m} but using temporary file\n")
    );
    // the original's built-in directory, whatever the home directory
    let o = cdcc(&h, &["-q", "libexecdir"]);
    assert_eq!(out(&o), "    libexecdir=/var/dcc/libexec\n");
    let _ = std::fs::remove_dir_all(&h);
}

#[test]
fn long_lines_read_in_pieces() {
    let h = home("long");
    // 499 bytes at a time, as the original's fgets into 500 bytes: the
    // rest of a long comment line is read as a line of its own
    let input = format!("#{}id 32800\nid\n", "x".repeat(498));
    let o = cdcc_stdin(&h, &["-q"], &input);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "cdcc -> cdcc -> cdcc ->     ID=32800\ncdcc -> \n");
    let _ = std::fs::remove_dir_all(&h);
}

/// The ids file's complaints in the original's words before the
/// privilege complaint; once for an operation anyone may ask.
#[test]
fn ids_file_complaints() {
    let h = home("ids");
    let ids = h.join("ids");
    let d = ids.display();
    let privileged = format!(
        "\"stop\" is a privileged operation.   Use the \"id server-ID\" command\n   and \"password secret\" command or `su` to read passwords from {d}\n ?\n"
    );
    let o = cdcc(&h, &["-q", "id 1100; stop"]);
    assert_eq!(o.status.code(), Some(69));
    assert_eq!(
        err(&o),
        format!("fopen({d}): No such file or directory\n{privileged}")
    );
    let o = cdcc(&h, &["-q", "id 32800; info"]);
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        err(&o),
        format!("fopen({d}): No such file or directory\nusing the anonymous client-ID\n")
    );
    let private = |text: &str| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::write(&ids, text).unwrap();
        std::fs::set_permissions(&ids, std::fs::Permissions::from_mode(0o600)).unwrap();
    };
    private("1100 secret\n");
    let o = cdcc(&h, &["-q", "id 1101; stop"]);
    assert_eq!(
        err(&o),
        format!("{d} does not contain the password for ID 1101\n{privileged}")
    );
    private("1100\n");
    let o = cdcc(&h, &["-q", "id 1100; stop"]);
    assert_eq!(err(&o), format!("{d} contains no passwords\n{privileged}"));
    let _ = std::fs::remove_dir_all(&h);
}
