//! The requests the reference cdcc sent in the recorded runs, compared
//! with what this cdcc sends for the same commands to a fake server on
//! loopback: header (length, version, operation, sender) and body are
//! byte-identical apart from the date; op_nums and signatures differ by
//! nature, and our signature is checked with the password instead.

mod common;

use common::{cdcc, home, start, unhex};
use serde_json::Value;
use tally_wire::admn::Aop;
use tally_wire::header::OpNums;
use tally_wire::{Packet, Passwd, Request, Signer};

const OP_NOP: u8 = 1;
const OP_ADMN: u8 = 5;
const OP_DELETE: u8 = 8;

fn vectors() -> Vec<Value> {
    let p = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/cdcc_vectors.json");
    serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap()
}

fn vector(name: &str) -> (Vec<u8>, Option<String>) {
    let v = vectors();
    let e = v
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no vector {name}"));
    (
        unhex(e["request_hex"].as_str().unwrap()),
        e["password"].as_str().map(str::to_string),
    )
}

/// Compare our datagram with the recorded one: everything but op_nums
/// and the signature, with the recorded date put into ours (dated
/// requests only); our signature must verify with the password.
fn same_request(name: &str, ours: &[u8], date_shift: i64) {
    let (rec, pw) = vector(name);
    assert_eq!(ours.len(), rec.len(), "{name}: length");
    assert_eq!(ours[..8], rec[..8], "{name}: len, version, op, sender");
    let n = ours.len() - 16;
    let mut body = ours[24..n].to_vec();
    if matches!(ours[3], OP_ADMN | OP_DELETE) {
        let date = |b: &[u8]| i64::from(u32::from_be_bytes([b[0], b[1], b[2], b[3]]));
        let now = tally_client::clock::now_secs() as i64;
        let d = date(&body) - now - date_shift;
        assert!(d.abs() <= 5, "{name}: date off by {d}");
        body[..4].copy_from_slice(&rec[24..28]);
    }
    assert_eq!(body, rec[24..n], "{name}: body");
    let sender = u32::from_be_bytes([ours[4], ours[5], ours[6], ours[7]]);
    let pw = pw.and_then(|p| Passwd::new(p.as_bytes()));
    let signer = Signer::for_request(sender, pw.as_ref());
    assert!(signer.verify(ours), "{name}: signature");
}

/// Run commands against a fresh fake server with the temporary map
/// (`host`, `port`, then `cmds`); returns the server's datagrams.
fn run(cmds: &str, srvr_id: u32) -> (Vec<Vec<u8>>, std::process::Output) {
    let fake = start(srvr_id);
    let h = home("vec");
    let line = format!("host 127.0.0.1; port {}; {cmds}", fake.addr.port());
    let o = cdcc(&h, &["-q", &line]);
    let _ = std::fs::remove_dir_all(&h);
    (fake.seen(), o)
}

fn first(seen: &[Vec<u8>], op: u8) -> Vec<u8> {
    seen.iter()
        .find(|d| d.get(3) == Some(&op))
        .cloned()
        .unwrap_or_else(|| panic!("no op {op} sent"))
}

const SRV: &str = "id 1100; password vectorserverpw";

#[test]
fn admn_stats() {
    let (seen, o) = run(&format!("{SRV}; stats"), 1100);
    assert!(o.status.success(), "{o:?}");
    for v in ["admn_stats", "admn_stats_400ms"] {
        same_request(&format!("{v}#1_NOP"), &first(&seen, OP_NOP), 0);
        same_request(&format!("{v}#2_ADMN"), &first(&seen, OP_ADMN), 0);
    }
    // The reference server accepts stats from anyone; the hand-built
    // probes are what cdcc sends with other credentials.
    let (seen, _) = run("stats", 1100);
    same_request("probe_admn_stats_anon#1_ADMN", &first(&seen, OP_ADMN), 0);
    let (seen, _) = run("id 32800; password vectorclientpw; stats", 1100);
    same_request("probe_admn_stats_client#1_ADMN", &first(&seen, OP_ADMN), 0);
    let (seen, _) = run("id 1100; password wrongpassword; stats", 1100);
    same_request("probe_admn_badpw_stats#1_ADMN", &first(&seen, OP_ADMN), 0);
}

/// The password comes from the ids file when none is given, as with
/// `cdcc "id 1100; stop"` on the server's host; `-c` names another file.
#[test]
fn password_from_the_ids_file() {
    for (file, args) in [
        ("ids", vec!["-q"]),
        ("other-ids", vec!["-q", "-c", "other-ids"]),
    ] {
        let fake = start(1101);
        let h = home("ids");
        let p = h.join(file);
        std::fs::write(&p, common::IDS).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        let line = format!("host 127.0.0.1; port {}; id 1101; stop", fake.addr.port());
        let mut a = args.clone();
        a.push(&line);
        let o = cdcc(&h, &a);
        assert!(o.status.success(), "{o:?}");
        same_request("admn_stop_server2#2_ADMN", &first(&fake.seen(), OP_ADMN), 0);
        let _ = std::fs::remove_dir_all(&h);
    }
}

#[test]
fn admn_clients_and_flood_list() {
    for (v, cmd) in [
        ("admn_clients", "clients"),
        ("admn_clients_vers", "clients -V -A"),
        ("admn_flood_list", "flood list"),
    ] {
        let (seen, o) = run(&format!("{SRV}; {cmd}"), 1100);
        assert!(o.status.success(), "{cmd}: {o:?}");
        same_request(&format!("{v}#1_NOP"), &first(&seen, OP_NOP), 0);
        same_request(&format!("{v}#2_ADMN"), &first(&seen, OP_ADMN), 0);
    }
}

#[test]
fn stop_and_delete() {
    let (seen, o) = run("id 1101; password vectorserver2pw; stop", 1101);
    assert!(o.status.success(), "{o:?}");
    same_request("admn_stop_server2#1_NOP", &first(&seen, OP_NOP), 0);
    same_request("admn_stop_server2#2_ADMN", &first(&seen, OP_ADMN), 0);
    let (seen, o) = run(
        &format!("{SRV}; delck body 3fb95638 8da952f7 b3c6a318 0abfa695"),
        1100,
    );
    assert!(o.status.success(), "{o:?}");
    same_request("delete_body#1_NOP", &first(&seen, OP_NOP), 0);
    same_request("delete_body#2_DELETE", &first(&seen, OP_DELETE), 0);
}

#[test]
fn trace_with_old_date() {
    // The probe's date was an hour old; `clock kludge` produces that.
    let (seen, o) = run(&format!("{SRV}; clock kludge -3600; trace query on"), 1100);
    assert!(o.status.success(), "{o:?}");
    same_request(
        "probe_admn_trace_old_date#1_ADMN",
        &first(&seen, OP_ADMN),
        -3600,
    );
}

#[test]
fn rtt_from_the_map_file() {
    let fake = start(1100);
    let h = home("rtt");
    let map = format!("127.0.0.1,{} 32800 vectorclientpw\n", fake.addr.port());
    std::fs::write(h.join("map"), map).unwrap();
    {
        use std::os::unix::fs::PermissionsExt;
        let private = std::fs::Permissions::from_mode(0o600);
        std::fs::set_permissions(h.join("map"), private).unwrap();
    }
    let o = cdcc(&h, &["rtt"]);
    assert!(o.status.success(), "{o:?}");
    same_request("nop_rtt#1_NOP", &first(&fake.seen(), OP_NOP), 0);
    let _ = std::fs::remove_dir_all(&h);
}

/// Requests no cdcc command produces, built by hand for the recording:
/// cdcc refuses `stop` with a client-ID; it never sends `val5` with
/// `stats` nor unknown trace bits. What it would send is compared.
#[test]
fn hand_built_probes() {
    let (seen, o) = run("id 32800; password vectorclientpw; stop", 1100);
    assert_eq!(o.status.code(), Some(69));
    assert!(common::err(&o).contains("\"stop\" is a privileged operation"));
    assert!(seen.iter().all(|d| d[3] != OP_ADMN));

    let build = |sender: u32, pw: &str, req: tally_wire::admn::AdmnRequest| {
        let mut p = Packet::request(
            12,
            sender,
            OpNums::from_le_words(1, 2, 3, 1),
            Request::Admn(req),
        );
        p.sign(&Signer::for_request(
            sender,
            Passwd::new(pw.as_bytes()).as_ref(),
        ))
    };
    let date = tally_client::clock::now_secs() as u32;
    let stop = build(
        32800,
        "vectorclientpw",
        tally_cdcc::request::simple(date, Aop::Stop, 0),
    );
    same_request("probe_admn_stop_client#1_ADMN", &stop, 0);

    let bits = 0x8000_0000;
    assert!(tally_cdcc::table::aops().iter().all(|a| a.val1 != bits));
    let bad = build(
        1100,
        "vectorserverpw",
        tally_cdcc::request::simple(date, Aop::TraceOn, bits),
    );
    same_request("probe_admn_trace_badbits#1_ADMN", &bad, 0);

    let (rec, _) = vector("probe_admn_bad_val5#1_ADMN");
    let stats = build(
        1100,
        "vectorserverpw",
        tally_cdcc::request::stats(date, false),
    );
    assert_eq!(stats[28..36], rec[28..36], "stats fixed fields");
    assert_eq!(rec.len(), stats.len() + 3, "the probe adds 3 val5 bytes");
}

#[test]
fn every_recorded_request_is_covered() {
    let covered = [
        "admn_clients#1_NOP",
        "admn_clients#2_ADMN",
        "admn_clients_vers#1_NOP",
        "admn_clients_vers#2_ADMN",
        "admn_flood_list#1_NOP",
        "admn_flood_list#2_ADMN",
        "admn_stats#1_NOP",
        "admn_stats#2_ADMN",
        "admn_stats_400ms#1_NOP",
        "admn_stats_400ms#2_ADMN",
        "admn_stop_server2#1_NOP",
        "admn_stop_server2#2_ADMN",
        "delete_body#1_NOP",
        "delete_body#2_DELETE",
        "nop_rtt#1_NOP",
        "probe_admn_bad_val5#1_ADMN",
        "probe_admn_badpw_stats#1_ADMN",
        "probe_admn_stats_anon#1_ADMN",
        "probe_admn_stats_client#1_ADMN",
        "probe_admn_stop_client#1_ADMN",
        "probe_admn_trace_badbits#1_ADMN",
        "probe_admn_trace_old_date#1_ADMN",
    ];
    let names: Vec<String> = vectors()
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(names, covered);
}
