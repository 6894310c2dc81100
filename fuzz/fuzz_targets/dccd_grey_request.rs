#![no_main]
//! The greylist request path of dccd -G: arbitrary datagrams through the
//! server's one-datagram-in, one-answer-out function, with a real
//! greylist store in a temporary home. Most inputs get a correct length,
//! a greylist operation (GREY_REPORT, GREY_QUERY, GREY_WHITE, GREY_SPAM)
//! and a valid client signature, so that fuzzing reaches past the checks
//! into the greylist decisions; the clock moves with the input so that
//! embargoes end. Never a panic; every answer is at least a header.
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
        let home = std::env::temp_dir().join(format!("tally-fuzz-grey-{}", std::process::id()));
        std::fs::create_dir_all(&home).unwrap();
        let ids = home.join("ids");
        std::fs::write(&ids, "32800 clientpw\n1100 serverpw\n").unwrap();
        std::fs::set_permissions(&ids, std::fs::Permissions::from_mode(0o600)).unwrap();
        let o = tally_dccd::opts::Opts {
            srvr_id: Some(1100),
            home,
            grey_params: Some(tally_grey::Params::default().parse_arg("on,20").unwrap()),
            ..Default::default()
        };
        let mut s = tally_dccd::net::build_server(&o).unwrap();
        s.clock = Some(1_000_000);
        Mutex::new(s)
    })
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut pkt = rest.to_vec();
    if mode & 1 == 1 && pkt.len() >= 40 && pkt.len() <= 1500 {
        let len = pkt.len() as u16;
        pkt[..2].copy_from_slice(&len.to_be_bytes());
        pkt[2] = 12;
        // GREY_REPORT 9, GREY_QUERY 10, GREY_SPAM 11, GREY_WHITE 12
        pkt[3] = 9 + ((mode >> 1) & 3);
        pkt[4..8].copy_from_slice(&32800u32.to_be_bytes());
        if let Some(p) = Passwd::new(b"clientpw") {
            Signer::Passwd(p).sign(&mut pkt);
        }
    }
    let from: SocketAddr = "127.0.0.1:6000".parse().unwrap();
    let mut s = server().lock().unwrap_or_else(|e| e.into_inner());
    s.clock = s.clock.map(|t| t + u64::from(mode >> 3));
    if let Action::Send(answer, _) = s.handle(&pkt, from, Instant::now()) {
        assert!(answer.len() >= 24, "answer shorter than a header");
    }
});
