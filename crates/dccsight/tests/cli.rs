//! dccsight against DCC and greylist servers on the loopback interface:
//! the checksums of a `dccproc -C` table reported or queried, the X-DCC
//! header and the table printed, whiteclnt files, targets, and the
//! complaints and exit codes of bad input and missing servers.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use tally_testkit::{closed_port, grey_map_text, scratch, write_map, FakeDccd, FakeGrey};
use tally_wire::{CkType, Op, Sum};

/// A log file's table as the original wrote it (the recorded dccm
/// scenario h1, crates/dccm/tests/data/dccm/h1-logdir/logs/msg.1csV60).
const TABLE: &str = include_str!("data/h1-table.txt");

fn sum(s: &str) -> Sum {
    let w: Vec<u32> = s
        .split_whitespace()
        .map(|x| u32::from_str_radix(x, 16).expect("hex"))
        .collect();
    let mut b = [0u8; 16];
    for (i, x) in w.iter().enumerate() {
        b[4 * i..4 * i + 4].copy_from_slice(&x.to_be_bytes());
    }
    Sum(b)
}

fn body() -> Sum {
    sum("e7ab4056 66b5f492 922c6974 e3be4999")
}

fn host() -> String {
    tally_engine::home::hostname()
}

fn run(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dccsight"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dccsight");
    let mut stdin = child.stdin.take().expect("stdin");
    let data = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&data);
    });
    let out = child.wait_with_output().expect("wait for dccsight");
    let _ = writer.join();
    out
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn code(o: &Output) -> i32 {
    o.status.code().unwrap_or(-1)
}

/// A home directory whose map names the server at `addr`.
fn home(name: &str, addr: std::net::SocketAddr) -> (PathBuf, String) {
    let h = scratch("dccsight", name);
    write_map(&h, addr);
    let s = h.to_string_lossy().into_owned();
    (h, s)
}

#[test]
fn reports_the_table_and_prints_the_header() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (_h, hs) = home("report", srv.addr);
    let out = run(&["-h", &hs], TABLE.as_bytes());
    assert_eq!(text(&out.stderr), "");
    assert_eq!(code(&out), 0);
    assert_eq!(
        text(&out.stdout),
        format!(
            "X-DCC-behbrand-Metrics: {} 1200; Body=1 Fuz1=1 Fuz2=1\n",
            host()
        )
    );
    assert_eq!(srv.count(CkType::Body, body()), 1);
    assert_eq!(srv.ops(Op::Report).len(), 1);
    // reported again, with the table after the header
    let out = run(&["-h", &hs, "-C"], TABLE.as_bytes());
    let t = text(&out.stdout);
    let mut lines = t.lines();
    assert_eq!(
        lines.next(),
        Some(
            format!(
                "X-DCC-behbrand-Metrics: {} 1200; Body=2 Fuz1=2 Fuz2=2",
                host()
            )
            .as_str()
        )
    );
    assert_eq!(
        lines.next(),
        Some("                            reported: 1               checksum  server")
    );
    assert!(
        // the server's count before this report
        t.contains("\n                     Body: e7ab4056 66b5f492 922c6974 e3be4999       1\n"),
        "{t}"
    );
    assert!(t.contains("\n                      rep: 3e63dc0d da76f064 8704670e 45076b06"));
    // the output of -C is input again
    let out = run(&["-h", &hs, "-Q"], &out.stdout);
    assert_eq!(
        text(&out.stdout),
        format!(
            "X-DCC-behbrand-Metrics: {} 1200; Body=2 Fuz1=2 Fuz2=2\n",
            host()
        )
    );
    assert_eq!(srv.count(CkType::Body, body()), 2);
    assert_eq!(srv.ops(Op::Query).len(), 1);
}

#[test]
fn targets_and_queries() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (_h, hs) = home("targets", srv.addr);
    let out = run(&["-h", &hs, "-t", "5"], TABLE.as_bytes());
    assert!(text(&out.stdout).contains("; Body=5 Fuz1=5 Fuz2=5\n"));
    // -t 0 is a query
    let out = run(&["-h", &hs, "-t", "0"], TABLE.as_bytes());
    assert!(text(&out.stdout).contains("; Body=5 Fuz1=5 Fuz2=5\n"));
    // -t and -Q: a complaint, and a query
    let out = run(&["-h", &hs, "-Q", "-t", "3"], TABLE.as_bytes());
    assert_eq!(text(&out.stderr), "\"-t 3\" is incompatible with \"-Q\"\n");
    assert!(text(&out.stdout).contains("; Body=5 Fuz1=5 Fuz2=5\n"));
    assert_eq!(srv.count(CkType::Body, body()), 5);
    // a bad count is complained about; one target is reported
    let out = run(&["-h", &hs, "-t", "lots"], TABLE.as_bytes());
    assert_eq!(text(&out.stderr), "invalid count \"lots\"\n");
    assert_eq!(code(&out), 0);
    assert_eq!(srv.count(CkType::Body, body()), 6);
    // many: spam, the header says bulk and (without -P) Body=many
    let out = run(&["-h", &hs, "-t", "many"], TABLE.as_bytes());
    let t = text(&out.stdout);
    assert!(t.contains("; bulk Body=many Fuz1=many Fuz2=many\n"), "{t}");
    let out = run(&["-h", &hs, "-t", "many", "-P", "-C"], TABLE.as_bytes());
    let t = text(&out.stdout);
    assert!(t.contains("reported: 1 spam "), "{t}");
}

#[test]
fn thresholds_and_whiteclnt() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (h, hs) = home("white", srv.addr);
    srv.preload(CkType::Body, body(), 20);
    let out = run(&["-h", &hs, "-Q", "-c", "CMN,10"], TABLE.as_bytes());
    let t = text(&out.stdout);
    assert!(t.contains("; bulk Body=20 "), "{t}");
    // the sender of the table (alice@example.com) whitelisted: not reported
    std::fs::write(h.join("whiteclnt"), "ok env_From alice@example.com\n").expect("whiteclnt");
    let out = run(&["-h", &hs, "-w", "whiteclnt", "-C"], TABLE.as_bytes());
    let t = text(&out.stdout);
    assert!(
        t.starts_with(&format!("X-DCC--Metrics: {}; whitelist\n", host())),
        "{t}"
    );
    assert!(t.contains(" wlist\n"), "{t}");
    assert_eq!(srv.count(CkType::Body, body()), 20);
    // blacklisted: reported as spam
    std::fs::write(h.join("whiteclnt"), "many env_From alice@example.com\n").expect("whiteclnt");
    let out = run(&["-h", &hs, "-w", "whiteclnt"], TABLE.as_bytes());
    let t = text(&out.stdout);
    assert!(t.contains("; bulk Body=many "), "{t}");
    // the name of its hash table (or of one being built) names the file
    for name in ["whiteclnt.dccw", "whiteclnt.dccx"] {
        let out = run(&["-h", &hs, "-w", name, "-Q"], TABLE.as_bytes());
        let t = text(&out.stdout);
        assert!(t.contains("; bulk Body=many "), "{name}: {t}");
    }
    // a complaint about the file names its line; the run goes on
    std::fs::write(h.join("whiteclnt"), "bogus line\n").expect("whiteclnt");
    let out = run(&["-h", &hs, "-w", "whiteclnt", "-Q"], TABLE.as_bytes());
    assert!(
        text(&out.stderr).contains(" in line 1 of "),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(code(&out), 0);
}

#[test]
fn bad_input_and_missing_servers() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (h, hs) = home("bad", srv.addr);
    let out = run(&["-h", &hs], b"Body: 1 2 3\n");
    assert_eq!(code(&out), 65);
    assert_eq!(
        text(&out.stderr),
        "unrecognized checksum value \"1 2 3\" in line 1 of stdin; fatal error\n"
    );
    assert!(out.stdout.is_empty());
    let out = run(
        &["-h", &hs],
        b"X-DCC-x-Metrics: h 1; Body=1\n\nenv_To: 1 2 3 4\n",
    );
    assert_eq!(code(&out), 65);
    assert_eq!(text(&out.stderr), "no reportable checksums; fatal error\n");
    // -i names the file in complaints
    let f = h.join("cks");
    std::fs::write(&f, "\n\nFrom 1 2 3 4\nwhat: 1 2 3 4\n").expect("input");
    let fs = f.to_string_lossy().into_owned();
    let out = run(&["-h", &hs, "-i", &fs], b"");
    assert_eq!(
        text(&out.stderr),
        format!("unrecognized checksum type \"what:\" in line 4 of {fs}; fatal error\n")
    );
    let out = run(&["-h", &hs, "-z"], b"");
    assert_eq!(code(&out), 64);
    // named as the C library's getopt names it: as started
    assert!(text(&out.stderr).starts_with(&format!(
        "{}: invalid option -- 'z'\nusage: ",
        env!("CARGO_BIN_EXE_dccsight")
    )));
    // no map file
    let empty = scratch("dccsight", "nomap");
    let es = empty.to_string_lossy().into_owned();
    let out = run(&["-h", &es], TABLE.as_bytes());
    assert_eq!(code(&out), 66);
    assert_eq!(
        text(&out.stderr),
        format!(
            "open({}): No such file or directory; fatal error\n",
            empty.join("map").display()
        )
    );
    // no working server: nothing is read or printed
    let dead = closed_port();
    let (_d, ds) = home("dead", dead);
    let out = run(&["-h", &ds], TABLE.as_bytes());
    assert_eq!(code(&out), 68);
    assert_eq!(
        text(&out.stderr),
        format!(
            "no working DCC server at {},{}; fatal error\n",
            dead.ip(),
            dead.port()
        )
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn greylist_triples() {
    let dcc = FakeDccd::start(1200, "behbrand");
    let grey = FakeGrey::start(1202, "grey", "on,5");
    let (h, hs) = home("grey", dcc.addr);
    let mut map = std::fs::read_to_string(h.join("map")).expect("map");
    map.push_str(&grey_map_text(grey.addr));
    std::fs::write(h.join("map"), map).expect("map");
    let triple = "0a0b0c0d 01020304 05060708 090a0b0c";
    // no embargo known for it yet
    let out = run(&["-h", &hs, "-Q", "-G", triple], b"");
    assert_eq!(
        (text(&out.stdout).as_str(), code(&out)),
        ("Embargo\n", 0),
        "{}",
        text(&out.stderr)
    );
    // whitelisted: no embargo from now on
    let out = run(&["-h", &hs, "-G", triple], b"");
    assert_eq!(text(&out.stdout), "Pass\n", "{}", text(&out.stderr));
    let out = run(&["-h", &hs, "-Q", "-G", triple], b"");
    assert_eq!(text(&out.stdout), "Pass\n", "{}", text(&out.stderr));
    let seen = grey.ops(Op::GreyWhite);
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].cks, vec![(CkType::GreyTriple, sum(triple))]);
    let out = run(&["-h", &hs, "-G", "0a0b0c0d 1 2"], b"");
    assert_eq!(code(&out), 64);
    assert_eq!(
        text(&out.stderr),
        "unrecognized greylist checksum; fatal error\n"
    );
    let f = h.join("in");
    std::fs::write(&f, "").expect("input");
    let out = run(&["-h", &hs, "-i", &f.to_string_lossy(), "-G", triple], b"");
    assert_eq!(text(&out.stderr), "-i and -G incompatible; fatal error\n");
}

/// SpamAssassin's DCC plugin learns spam by giving dccsight the checksum
/// lines it kept from dccproc or dccifd, without the header and the
/// heading and with the first colon of each line removed, and `-t many`.
#[test]
fn spamassassin_learning() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (_h, hs) = home("sa", srv.addr);
    let kept: String = TABLE
        .lines()
        .skip(2)
        .map(|l| format!("{}\n", l.replacen(':', "", 1)))
        .collect();
    let out = run(&["-h", &hs, "-t", "many"], kept.as_bytes());
    assert_eq!((text(&out.stderr).as_str(), code(&out)), ("", 0));
    let t = text(&out.stdout);
    assert!(t.starts_with("X-DCC-behbrand-Metrics: "), "{t}");
    assert!(t.contains("; bulk Body=many Fuz1=many Fuz2=many"), "{t}");
    assert_eq!(
        srv.count(CkType::Body, body()),
        tally_engine::tgts::TOO_MANY
    );
}

/// `-V` as the original's dccsight: the version alone on standard error,
/// each further `-V` how it was built, and a successful exit without
/// reading the checksums or asking a server.
#[test]
fn version() {
    let o = run(&["-V"], b"");
    assert_eq!(code(&o), 0);
    assert_eq!(text(&o.stderr), "2.3.167\n");
    assert_eq!(text(&o.stdout), "");
    let o = run(&["-V", "-V", "-V", "-m", "/nonexistent/map"], b"garbage\n");
    assert_eq!(code(&o), 0);
    assert_eq!(
        text(&o.stderr),
        "2.3.167\nbuilt with cargo\nbuilt with cargo\n"
    );
    assert_eq!(text(&o.stdout), "");
}

/// Complaints as the original's 512-byte buffer holds them: a longer one
/// is cut to 508 bytes and `...`, before `; fatal error` when it ends the
/// run.
#[test]
fn long_complaints_are_cut() {
    let long = format!("/nonexistent/{}", "d".repeat(600));
    let out = run(&["-i", &long], b"");
    assert_eq!(code(&out), 64);
    let whole = format!("bad input file \"{long}\": No such file or directory");
    assert_eq!(
        text(&out.stderr),
        format!("{}...; fatal error\n", &whole[..508])
    );
    let many = "7".repeat(600);
    let out = run(&["-t", &many, "-V"], b"");
    assert_eq!(code(&out), 0);
    let whole = format!("invalid count \"{many}\"");
    assert_eq!(
        text(&out.stderr),
        format!("2.3.167\n{}...\n", &whole[..508])
    );
}

/// The original writes its output through stdio and exits with 0 without
/// looking at a failure to write it.
#[test]
fn output_that_cannot_be_written_is_not_noticed() {
    let dcc = FakeDccd::start(1200, "behbrand");
    let grey = FakeGrey::start(1202, "grey", "on,5");
    let (h, hs) = home("full", dcc.addr);
    let mut map = std::fs::read_to_string(h.join("map")).expect("map");
    map.push_str(&grey_map_text(grey.addr));
    std::fs::write(h.join("map"), map).expect("map");
    let full = || std::fs::File::create("/dev/full").expect("/dev/full");
    let mut child = Command::new(env!("CARGO_BIN_EXE_dccsight"))
        .args(["-h", &hs, "-C"])
        .stdin(Stdio::piped())
        .stdout(full())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start dccsight");
    let mut stdin = child.stdin.take().expect("stdin");
    stdin.write_all(TABLE.as_bytes()).expect("write table");
    drop(stdin);
    let out = child.wait_with_output().expect("wait for dccsight");
    assert_eq!((text(&out.stderr).as_str(), code(&out)), ("", 0));
    assert_eq!(dcc.count(CkType::Body, body()), 1);
    let out = Command::new(env!("CARGO_BIN_EXE_dccsight"))
        .args(["-h", &hs, "-G", "0a0b0c0d 01020304 05060708 090a0b0c"])
        .stdin(Stdio::null())
        .stdout(full())
        .stderr(Stdio::piped())
        .output()
        .expect("run dccsight");
    assert_eq!((text(&out.stderr).as_str(), code(&out)), ("", 0));
    assert_eq!(grey.ops(Op::GreyWhite).len(), 1);
}

/// The original resets its whiteclnt table just before it asks about the
/// checksums and takes the file's switches and thresholds from the empty
/// table, so `option threshold` and the spam-trap switches do not decide
/// dccsight's answer; the entries do, and a spam trap still blacklists the
/// body checksums.
#[test]
fn whiteclnt_options_do_not_decide() {
    let srv = FakeDccd::start(1200, "behbrand");
    let (h, hs) = home("wopts", srv.addr);
    srv.preload(CkType::Body, body(), 20);
    std::fs::write(h.join("whiteclnt"), "option threshold CMN,10\n").expect("whiteclnt");
    let out = run(&["-h", &hs, "-Q", "-w", "whiteclnt"], TABLE.as_bytes());
    let t = text(&out.stdout);
    assert!(t.contains("; Body=20 "), "{t}");
    assert!(!t.contains("bulk"), "{t}");
    assert_eq!(text(&out.stderr), "");
    // the same threshold on the command line counts
    let out = run(
        &["-h", &hs, "-Q", "-w", "whiteclnt", "-c", "CMN,10"],
        TABLE.as_bytes(),
    );
    assert!(text(&out.stdout).contains("; bulk Body=20 "));
    // a spam trap without body checksums: not spam
    std::fs::write(h.join("whiteclnt"), "option spam-trap-reject\n").expect("whiteclnt");
    let from = b"From: e347582a a46911ff b7dd7069 15e56dd8\n";
    let out = run(&["-h", &hs, "-Q", "-w", "whiteclnt"], from);
    let t = text(&out.stdout);
    assert!(t.starts_with("X-DCC-behbrand-Metrics: "), "{t}");
    assert!(!t.contains("bulk"), "{t}");
    // with them: their blacklisting makes it spam
    let out = run(&["-h", &hs, "-Q", "-w", "whiteclnt"], TABLE.as_bytes());
    let t = text(&out.stdout);
    assert!(t.contains("; bulk "), "{t}");
}
