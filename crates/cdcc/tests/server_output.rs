//! The built cdcc against a fake server on loopback: what it prints for
//! stats, clients, stop and the other server commands.

mod common;

use common::{cdcc, err, home, out, start, STATS_TEXT};
use std::net::Ipv4Addr;
use tally_cdcc::clients::last_used;
use tally_cdcc::resolve::name_of;

const SRV: &str = "id 1100; password vectorserverpw";

/// Run with the temporary map pointing at the fake server.
fn run(port: u16, cmds: &str) -> std::process::Output {
    let h = home("out");
    let o = cdcc(&h, &[&format!("host 127.0.0.1; port {port}; {cmds}")]);
    let _ = std::fs::remove_dir_all(&h);
    o
}

/// The heading naming the server: address, then IDs and a time.
fn check_heading(lines: &[&str], port: u16, ids: &str) {
    assert_eq!(lines[0], format!("127.0.0.1,{port}"));
    let l = lines[1];
    let prefix = format!("        server-ID 1100{ids}  ");
    assert!(l.starts_with(&prefix), "{l:?}");
    let time = &l[prefix.len()..];
    assert_eq!(time.len(), 8, "{l:?}");
    assert_eq!(time.as_bytes()[2], b':');
}

#[test]
fn stats_prints_the_server_text() {
    let fake = start(1100);
    let port = fake.addr.port();
    let o = run(port, &format!("{SRV}; stats"));
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    check_heading(&lines, port, "  client-ID 1100");
    let rest = lines[2..].join("\n");
    assert_eq!(rest, format!("{STATS_TEXT}\n"));
    assert!(text.ends_with("\n\n"));

    // Anonymous: no client-ID in the heading.
    let o = run(port, "stats");
    assert!(o.status.success());
    let text = out(&o);
    check_heading(&text.lines().collect::<Vec<_>>(), port, "");
}

#[test]
fn stop_prints_only_the_heading() {
    let fake = start(1100);
    let port = fake.addr.port();
    let o = run(port, &format!("{SRV}; stop"));
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3, "{text}");
    check_heading(&lines, port, "  client-ID 1100");
    assert_eq!(lines[2], "");
}

#[test]
fn clients_list() {
    let fake = start(1100);
    let port = fake.addr.port();
    let o = run(port, &format!("{SRV}; clients"));
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    check_heading(&lines, port, "  client-ID 1100");
    let now = tally_client::clock::now_secs();
    let d = |s: u64| last_used(s, now);
    // the name of 127.0.0.1 from the hosts file (no DNS question)
    let lo = name_of(Ipv4Addr::LOCALHOST.into()).expect("a name for 127.0.0.1");
    let expect = [
        "    ops nops    last           ID ".to_string(),
        format!(
            "      6    3{}   1100 127.0.0.1        {lo}",
            d(1_795_348_632)
        ),
        format!("      6    2{} 32800* 127.0.0.0/24", d(1_795_348_616)),
        format!(
            "      2    1{} 32800* 127.0.0.1        {lo}",
            d(1_795_348_616)
        ),
        format!(
            "      4    1{}      1 127.0.0.1        {lo}",
            d(1_795_348_611)
        ),
        format!(
            "      6    2{}  32800 127.0.0.1        {lo}",
            d(1_795_348_588)
        ),
        String::new(),
    ];
    assert_eq!(lines[2..], expect, "{text}");

    // -n: the addresses alone, unpadded
    let o = run(port, &format!("{SRV}; clients -n"));
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    let expect = [
        "    ops nops    last           ID ".to_string(),
        format!("      6    3{}   1100 127.0.0.1", d(1_795_348_632)),
        format!("      6    2{} 32800* 127.0.0.0/24", d(1_795_348_616)),
        format!("      2    1{} 32800* 127.0.0.1", d(1_795_348_616)),
        format!("      4    1{}      1 127.0.0.1", d(1_795_348_611)),
        format!("      6    2{}  32800 127.0.0.1", d(1_795_348_588)),
        String::new(),
    ];
    assert_eq!(lines[2..], expect, "{text}");

    let o = run(port, &format!("{SRV}; clients -ns 3"));
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    let expect = [
        "              ops nops    last       ".to_string(),
        format!(" 25%  25%       6    3{} 127.0.0.1", d(1_795_348_632)),
        format!(" 25%  50%       6    2{} 127.0.0.0/24", d(1_795_348_616)),
        format!(" 25%  75%       6    2{} 127.0.0.1", d(1_795_348_588)),
        String::new(),
    ];
    assert_eq!(lines[2..], expect, "{text}");
}

#[test]
fn other_server_commands() {
    let fake = start(1100);
    let port = fake.addr.port();
    let o = run(port, &format!("{SRV}; flood list"));
    assert!(o.status.success(), "{}", err(&o));
    assert!(out(&o).contains(&format!("\n{}\n\n", common::FLOOD_LIST)));

    let o = run(port, &format!("{SRV}; flood stats all"));
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    assert!(
        text.contains("\n server-ID 1101  127.0.0.1,16278\n    0 reports sent\n\n"),
        "{text}"
    );

    let o = run(port, "anon delay");
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(out(&o), "    anon delay is 50\n");

    let o = run(port, &format!("{SRV}; trace default"));
    assert!(o.status.success(), "{}", err(&o));

    let o = run(port, &format!("{SRV}; clock check"));
    assert!(out(&o).contains("\nclock ok\n"));

    let o = run(
        port,
        &format!("{SRV}; delck fuz1 00000001 00000002 00000003 00000004"),
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        out(&o),
        " deleting Fuz1  00000001 00000002 00000003 00000004\n"
    );
    let sent = fake.ops(8);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0][28..30], [8, 18]);

    // In greylist mode the greylist server is asked.
    let o = run(
        port,
        &format!("grey on; port {port}; {SRV}; delck body 00000001 00000002 00000003 00000004"),
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(fake.ops(8).len(), 2);
}

#[test]
fn server_refusal_names_the_operation() {
    let fake = start(1100);
    // A server-ID the fake server's ids file does not know: the answer
    // is still an answer; a refused request is an ERROR.
    let o = run(fake.addr.port(), &format!("{SRV}; trace admn on"));
    assert!(o.status.success(), "{}", err(&o));
    // Privileged operations without an ID are refused before sending.
    let o = run(fake.addr.port(), "stop");
    assert_eq!(o.status.code(), Some(69));
    assert!(
        err(&o).contains("\"stop\" is a privileged operation"),
        "{}",
        err(&o)
    );
}

#[test]
fn stats_through_the_map_file() {
    let fake = start(1100);
    let port = fake.addr.port();
    let h = home("mapstats");
    let map = h.join("map");
    std::fs::write(&map, format!("127.0.0.1,{port} 32800 vectorclientpw\n")).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&map, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    let o = cdcc(&h, &["stats"]);
    assert!(o.status.success(), "{}", err(&o));
    let text = out(&o);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], format!("127.0.0.1,{port}"));
    let prefix = format!("        server-ID 1100  {}  ", map.display());
    assert!(lines[1].starts_with(&prefix), "{text}");
    // What was learned about the server is kept in the map file.
    let saved = std::fs::read_to_string(&map).unwrap();
    assert!(saved.contains("fakebrand ID 1100"), "{saved}");
    assert!(saved.contains("32800 vectorclientpw"), "{saved}");
    let _ = std::fs::remove_dir_all(&h);
}

#[test]
fn server_error_packets() {
    let fake = start(1100);
    let port = fake.addr.port();
    let h = home("b");
    let cmds = format!("host 127.0.0.1; port {port}; {SRV}; DB clean");
    let o = cdcc(&h, &["-q", &cmds]);
    assert_eq!(o.status.code(), Some(69));
    // the operation named as the original's dcc_aop2str
    assert_eq!(err(&o), "ADMN DB CLEAN: database cleaning not now\n ?\n");
    assert_eq!(out(&o), "");
    // -B: also on stdout.
    let o = cdcc(&h, &["-q", "-B", &cmds]);
    assert_eq!(out(&o), "ADMN DB CLEAN: database cleaning not now\n");

    let _ = std::fs::remove_dir_all(&h);
}

#[test]
fn dead_server_fails_with_a_message() {
    let sock = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
    let port = sock.local_addr().unwrap().port();
    drop(sock);
    // Like the reference, `stats` reports the failure but is not a
    // failing command; `stop` is.
    let o = run(port, &format!("{SRV}; stats"));
    assert_eq!(o.status.code(), Some(0));
    // As the original: the operation (`ADMN STATS`), then the servers
    // and the addresses tried, the port when it is not the default.
    let e = err(&o);
    assert!(
        e.ends_with(&format!(
            "\nADMN STATS: no working DCC server at 127.0.0.1,{port}\n"
        )),
        "{e}"
    );
    let o = run(port, &format!("{SRV}; stop"));
    assert_eq!(o.status.code(), Some(69));
    let e = err(&o);
    assert!(
        e.ends_with(&format!(
            "\nADMN STOP: no working DCC server at 127.0.0.1,{port}\n ?\n"
        )),
        "{e}"
    );
}

/// `delck` reads checksums as the original (words of one to eight hex
/// digits, a header name before those of `substitute`, server-ID
/// declarations) and fails with the server's complaint when the server
/// does not have the checksum.
#[test]
fn delck_values_and_a_checksum_the_server_lacks() {
    use tally_wire::packet::{Packet, Request};
    let fake = start(1100);
    let port = fake.addr.port();
    let deleted = |fake: &common::Fake| -> Vec<String> {
        fake.ops(8)
            .iter()
            .filter_map(|d| match Packet::<Request>::decode(d).ok()?.body {
                Request::Delete(d) => Some(format!("{} {}", d.ck.ty, d.ck.sum)),
                _ => None,
            })
            .collect()
    };
    let o = run(
        port,
        &format!("{SRV}; delck body 1 2 3 4; delck substitute List-ID a bc def 12345678"),
    );
    assert!(o.status.success(), "{}", err(&o));
    assert_eq!(
        deleted(&fake),
        [
            "Body 00000001 00000002 00000003 00000004",
            "substitute 0000000a 000000bc 00000def 12345678"
        ]
    );
    let o = run(port, &format!("{SRV}; delck body ee000000 0 0 0; stats"));
    assert_eq!(o.status.code(), Some(69));
    assert_eq!(
        out(&o),
        " deleting Body  ee000000 00000000 00000000 00000000\n"
    );
    assert!(
        err(&o).ends_with(
            "\n   \"Body ee000000 00000000 00000000 00000000\" not found to delete\n ?\n"
        ),
        "{}",
        err(&o)
    );
}

/// A server that answers NOPs but not the request (a wrong password):
/// the original's "no DCC answer from ADDR,PORT after N ms", the server's
/// name before the address when it is a name.
#[test]
fn unanswered_request_names_the_server() {
    let fake = common::start_deaf_to_admn(1100);
    let port = fake.addr.port();
    let h = home("deaf");
    let o = cdcc(
        &h,
        &[
            "-q",
            &format!("host 127.0.0.1; port {port}; id 1100; password wrong; stop"),
        ],
    );
    assert_eq!(o.status.code(), Some(69));
    let e = err(&o);
    let want = format!("ADMN STOP: no DCC answer from 127.0.0.1,{port} after ");
    assert!(e.starts_with(&want), "{e}");
    assert!(e.ends_with(" ms\n ?\n"), "{e}");
    let _ = std::fs::remove_dir_all(&h);
}
