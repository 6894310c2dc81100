//! Bad commands and options: a clear complaint naming the command, a
//! non-zero exit status for command-line operations, and never a panic.

mod common;

use common::{cdcc, cdcc_stdin, err, home, out};

#[test]
fn bad_options() {
    let h = home("opt");
    for args in [&["-x"][..], &["-h"][..], &["-c"][..], &["-Vz"][..]] {
        let o = std::process::Command::new(env!("CARGO_BIN_EXE_cdcc"))
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(64), "{args:?}");
        assert!(err(&o).contains("usage: [-VBdq]"), "{args:?}: {}", err(&o));
    }
    // The C library's complaint, then the usage as the original's fatal
    // message.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cdcc"))
        .arg("-x")
        .output()
        .unwrap();
    assert_eq!(
        err(&o),
        "cdcc: invalid option -- 'x'\nusage: [-VBdq] [-h homedir] [-c ids] [op1 [op2] ... ]\n; fatal error\n"
    );
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cdcc"))
        .args(["id", "-c"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(64));
    assert!(err(&o).starts_with("cdcc: option requires an argument -- 'c'\nusage: "));
    // As the GNU C library's getopt: options may follow the operations.
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cdcc"))
        .args(["-h", h.to_str().unwrap(), "id 32800; id", "-q"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "    ID=32800\n");
    assert_eq!(err(&o), "", "-q quiets the complaint about the map");
    // -V on stderr as the original; a second -V says how it was built
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cdcc"))
        .arg("-V")
        .output()
        .unwrap();
    assert!(o.status.success());
    assert_eq!(out(&o), "");
    assert_eq!(err(&o), "2.3.167\n");
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_cdcc"))
        .args(["-V", "-V"])
        .output()
        .unwrap();
    assert_eq!(err(&o), "2.3.167\nbuilt with cargo\n");
    let _ = std::fs::remove_dir_all(&h);
}

#[test]
fn bad_commands_name_the_command() {
    let h = home("cmd");
    // As the original: a wrong or ambiguous command shows its usage on
    // stdout and nothing but " ?" on stderr; an unknown one and a checksum
    // delck cannot read are named on stderr, without a usage.
    let usage: [(&str, &str); 7] = [
        ("delete", "usage: delete host[,port]\n"),
        ("exit now", "usage: exit\n"),
        (
            "id 32800; password pw; clients -Z",
            "usage: clients [-nsiaVAK]",
        ),
        ("sleep forever", "usage: sleep sec.onds\n"),
        ("debug sideways", "usage: debug [on|off|TTL=x|#]\n"),
        ("s", "usage: stats [clear|all]\n"),
        ("grey foo", "usage: grey [on|off]\n"),
    ];
    for (cmd, want) in usage {
        let o = cdcc(&h, &["-q", cmd]);
        assert_eq!(o.status.code(), Some(69), "{cmd}");
        assert!(out(&o).contains(want), "{cmd}: {}", out(&o));
        assert_eq!(err(&o), " ?\n", "{cmd}");
    }
    let named: [(&str, &str); 4] = [
        ("frobnicate", "unrecognized command \"frobnicate\"\n ?\n"),
        (
            "id 1100; password pw; delck body 1 2 3",
            "unrecognized checksum value \"1 2 3\"\n ?\n",
        ),
        (
            "id 1100; password pw; delck foo 1 2 3 4",
            "unrecognized checksum type \"foo\"\n ?\n",
        ),
        (
            "id 1100; password pw; delck body 1 2 3 zz",
            "unrecognized checksum value \"1 2 3 zz\"\n ?\n",
        ),
    ];
    for (cmd, want) in named {
        let o = cdcc(&h, &["-q", cmd]);
        assert_eq!(o.status.code(), Some(69), "{cmd}");
        assert_eq!(err(&o), want, "{cmd}");
        assert_eq!(out(&o), "", "{cmd}");
    }
    // A bad ID is named before the usage (the original's dcc_get_id); a
    // bad port or host is named without a usage; words after the host
    // fail the command silently.
    let o = cdcc(&h, &["-q", "id 0"]);
    assert_eq!(o.status.code(), Some(69));
    assert_eq!(err(&o), "invalid ID \"0\"\n ?\n");
    assert_eq!(
        out(&o),
        "usage: id [ID]\nusage: IPv6 [on|off|only]\nusage: info [-N]\n"
    );
    let o = cdcc(&h, &["-q", "id anonymous"]);
    assert_eq!(err(&o), "invalid ID \"anonymous\"\n ?\n");
    for (cmd, want) in [
        ("port 99999", "invalid port \"99999\"\n ?\n"),
        ("port 0", "invalid port \"0\"\n ?\n"),
        ("host 127.0.0.1,x", "invalid port \"x\"\n ?\n"),
        ("host 127.0.0.1 x", " ?\n"),
    ] {
        let o = cdcc(&h, &["-q", cmd]);
        assert_eq!(o.status.code(), Some(69), "{cmd}");
        assert_eq!(err(&o), want, "{cmd}");
        assert_eq!(out(&o), "", "{cmd}");
    }
    // Ports in C's notations, as dcc_get_port (service names: unit test).
    let o = cdcc(&h, &["-q", "port 0x1885; port; port 014205; port"]);
    assert_eq!(out(&o), "    port=6277\n    port=6277\n");
    // A password too long is named (its first 16 characters) before the
    // usage.
    let o = cdcc(&h, &["-q", &format!("password {}", "p".repeat(33))]);
    assert_eq!(o.status.code(), Some(69));
    assert_eq!(err(&o), "password \"pppppppppppppppp...\" too long\n ?\n");
    assert_eq!(out(&o), "usage: port #\nusage: password secret\n");
    // Usage lines go to stdout, as in the reference.
    let o = cdcc(&h, &["-q", "delete"]);
    assert_eq!(out(&o), "usage: delete host[,port]\n");
    // Commands after the failing one are not run.
    let o = cdcc(&h, &["-q", "frobnicate", "id"]);
    assert_eq!(out(&o), "");
    let _ = std::fs::remove_dir_all(&h);
}

#[test]
fn stdin_continues_after_errors() {
    let h = home("stdin");
    // a prompt before every line, as the original reading a file or pipe
    let o = cdcc_stdin(
        &h,
        &["-q"],
        "frobnicate\nid 32800; id\n# a comment; id 5\nexit\nid\n",
    );
    assert!(o.status.success());
    assert_eq!(out(&o), "cdcc -> cdcc ->     ID=32800\ncdcc -> cdcc -> ");
    assert!(err(&o).contains("unrecognized command \"frobnicate\"\n ?\n"));
    // A final "-" reads more commands from stdin; the end of the input
    // ends the prompt's line.
    let o = cdcc_stdin(&h, &["-q", "id 32801", "-"], "id\n");
    assert!(o.status.success());
    assert_eq!(out(&o), "cdcc ->     ID=32801\ncdcc -> \n");
    let _ = std::fs::remove_dir_all(&h);
}

#[test]
fn garbage_never_panics() {
    let h = home("junk");
    let lines = [
        "",
        ";;;",
        "#",
        "\t",
        "add",
        "add ,",
        "add x,0",
        "add x,-1 RTT+99999",
        "add x RTT",
        "add x 32800",
        "add x 7 pw",
        "add x anon pw",
        "add x Greylist anon",
        "load",
        "load /nonexistent",
        "new map /nonexistent/dir/map",
        "file",
        "file ;",
        "host ,",
        "host a,b",
        "host x y",
        "port -",
        "password a b",
        "password",
        "id anon",
        "id 99999999999",
        "IPv6 maybe",
        "SOCKS maybe",
        "src 1.2.3",
        "src 1.2.3.4,::1,x",
        "clock kludge x",
        "quiet maybe",
        "grey maybe",
        "homedir /nonexistent",
        "info -x",
        "RTT -x",
        "help",
        "help flood",
        "help zz",
        "?",
        "flood stats bogus",
        "flood rewind x",
        "flood FFWD in",
        "anon delay -5",
        "anon delay 5,x",
        "clients 0 0 0",
        "clients -I x",
        "clients 1.2.3.4/99",
        "delck nonsense",
        "delck body zz",
        "sleep 0",
        "trace",
        "trace x",
        "\u{fffd}\u{0}\u{7f}",
        "delete x,70000",
        "no fail extra",
        "new map",
        "add 127.0.0.1,1 32800 pw; delete 127.0.0.1,1; delete 127.0.0.1,1",
    ];
    let mut input = String::new();
    for l in lines {
        input.push_str(l);
        input.push('\n');
    }
    let long = "x".repeat(20_000);
    input.push_str(&long);
    input.push('\n');
    let o = cdcc_stdin(&h, &["-q"], &input);
    assert!(o.status.success(), "{}", err(&o));
    assert!(!err(&o).contains("panicked"), "{}", err(&o));
    // Every line again, each as a command-line operation.
    for l in lines.iter().filter(|l| !l.contains('\0')) {
        let o = cdcc(&h, &["-q", l]);
        assert!(
            matches!(o.status.code(), Some(0) | Some(69)),
            "{l:?}: {o:?}"
        );
        assert!(!err(&o).contains("panicked"), "{l:?}");
    }
    let _ = std::fs::remove_dir_all(&h);
}
