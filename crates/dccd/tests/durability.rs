//! A report acknowledged to a client survives kill -9 of dccd.

mod common;

use std::net::UdpSocket;
use std::time::Duration;

use common::{exchange, free_port, passwd, temp_home, Dccd};
use tally_ck::{CkType, Sum};
use tally_wire::packet::{CkRequest, Expect, Packet, Request, Response};
use tally_wire::response::Answer;
use tally_wire::sign::Signer;
use tally_wire::{OpNums, Tgts, WireCk};

fn body_count(resp: &[u8], req: &Request) -> u32 {
    let p = Packet::<Response>::decode(resp, Expect::for_request(req)).unwrap();
    match p.body {
        Response::Answer(Answer::Pairs(v)) => v[0].c.0,
        other => panic!("unexpected {other:?}"),
    }
}

#[test]
fn reports_survive_kill9() {
    let home = temp_home("kill9");
    let port = free_port();
    let pw = passwd(32800).unwrap();
    let signer = Signer::for_request(32800, Some(&pw));
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    let n = 50u32;
    {
        let mut d = Dccd::start(&home, port, &[]);
        for i in 0..n {
            let ck = WireCk::new(CkType::Body, Sum([i as u8; 16]));
            let body = Request::Report(CkRequest {
                tgts: Tgts(i + 1),
                cks: vec![ck],
            });
            let mut p = Packet::request(
                12,
                32800,
                OpNums::from_le_words(1, 2, i + 10, 1),
                body.clone(),
            );
            let bytes = p.sign(&signer);
            let (ans, _) = exchange(&sock, d.addr, &bytes, Duration::from_secs(2)).expect("answer");
            assert_eq!(body_count(&ans, &body), i + 1);
        }
        d.kill9();
    }
    let d = Dccd::start(&home, port, &[]);
    for i in 0..n {
        let ck = WireCk::new(CkType::Body, Sum([i as u8; 16]));
        let body = Request::Query(CkRequest {
            tgts: Tgts(0),
            cks: vec![ck],
        });
        let mut p = Packet::request(
            12,
            32800,
            OpNums::from_le_words(3, 4, i + 1000, 1),
            body.clone(),
        );
        let bytes = p.sign(&signer);
        let (ans, _) = exchange(&sock, d.addr, &bytes, Duration::from_secs(2)).expect("answer");
        assert_eq!(body_count(&ans, &body), i + 1, "checksum {i} after kill -9");
    }
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn ids_readable_by_others_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let home = temp_home("idsmode");
    std::fs::set_permissions(home.join("ids"), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_dccd"))
        .args(["-b", "-i", "1100", "-h"])
        .arg(&home)
        .args(["-a", &format!("127.0.0.1,{}", free_port())])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("accessible by others"));
    let _ = std::fs::remove_dir_all(&home);
}
