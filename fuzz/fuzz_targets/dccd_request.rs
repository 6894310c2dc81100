#![no_main]
//! The dccd request path: arbitrary datagrams through the server's
//! one-datagram-in, one-answer-out function, with a real store in a
//! temporary home. Half of the inputs get a correct length field and a valid
//! signature of a known client or server-ID, so that fuzzing reaches past
//! authentication into counting and the administrative requests. Never a
//! panic; every answer decodes.
use libfuzzer_sys::fuzz_target;
use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;
use tally_dccd::server::{Action, Server};
use tally_wire::sign::{Passwd, Signer};

fn server() -> &'static Mutex<Server> {
    static S: OnceLock<Mutex<Server>> = OnceLock::new();
    S.get_or_init(|| {
        let home = std::env::temp_dir().join(format!("tally-fuzz-dccd-{}", std::process::id()));
        std::fs::create_dir_all(&home).unwrap();
        let ids = home.join("ids");
        std::fs::write(&ids, "32800 clientpw\n1100 serverpw\n").unwrap();
        std::fs::set_permissions(&ids, std::fs::Permissions::from_mode(0o600)).unwrap();
        let o = tally_dccd::opts::Opts {
            srvr_id: Some(1100),
            home,
            ..Default::default()
        };
        Mutex::new(tally_dccd::net::build_server(&o).unwrap())
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut pkt = rest.to_vec();
    if mode & 1 == 1 && pkt.len() >= 40 && pkt.len() <= 1500 {
        // a well-formed frame: true length, signed as client 32800 or server 1100
        let len = pkt.len() as u16;
        pkt[..2].copy_from_slice(&len.to_be_bytes());
        let (id, pw): (u32, &[u8]) = if mode & 2 == 0 {
            (32800, b"clientpw")
        } else {
            (1100, b"serverpw")
        };
        pkt[4..8].copy_from_slice(&id.to_be_bytes());
        if let Some(p) = Passwd::new(pw) {
            Signer::Passwd(p).sign(&mut pkt);
        }
    }
    let from: SocketAddr = "127.0.0.1:6000".parse().unwrap();
    let mut s = server().lock().unwrap_or_else(|e| e.into_inner());
    if let Action::Send(answer, _) = s.handle(&pkt, from, Instant::now()) {
        assert!(answer.len() >= 24, "answer shorter than a header");
    }
});
