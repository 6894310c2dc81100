//! The dccd of the request fuzz targets (`dccd_request`,
//! `dccd_grey_request`): one server per fuzzing process with a real store
//! in a temporary home, whose ids file knows client 32800 (`clientpw`)
//! and server 1100 (`serverpw`).

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Instant;
use tally_dccd::server::{Action, Server};
use tally_wire::sign::{Passwd, Signer};

/// The server of this process, built on first use with its home named
/// after `tag` and greylisting with `grey` (a `-G` argument) if given;
/// a greylist server's clock is set to 1,000,000 (the target moves it).
pub fn server(tag: &str, grey: Option<&str>) -> MutexGuard<'static, Server> {
    static S: OnceLock<Mutex<Server>> = OnceLock::new();
    S.get_or_init(|| {
        let home = std::env::temp_dir().join(format!("tally-fuzz-{tag}-{}", std::process::id()));
        std::fs::create_dir_all(&home).unwrap();
        let ids = home.join("ids");
        std::fs::write(&ids, "32800 clientpw\n1100 serverpw\n").unwrap();
        std::fs::set_permissions(&ids, std::fs::Permissions::from_mode(0o600)).unwrap();
        let o = tally_dccd::opts::Opts {
            srvr_id: Some(1100),
            home,
            grey_params: grey.map(|g| tally_grey::Params::default().parse_arg(g).unwrap()),
            ..Default::default()
        };
        let mut s = tally_dccd::net::build_server(&o).unwrap();
        if grey.is_some() {
            s.clock = Some(1_000_000);
        }
        Mutex::new(s)
    })
    .lock()
    .unwrap_or_else(|e| e.into_inner())
}

/// Make `pkt` a well-formed frame from `id`: its true length, the
/// sender, and signed with `pw`.
pub fn frame(pkt: &mut [u8], id: u32, pw: &[u8]) {
    let len = pkt.len() as u16;
    pkt[..2].copy_from_slice(&len.to_be_bytes());
    pkt[4..8].copy_from_slice(&id.to_be_bytes());
    if let Some(p) = Passwd::new(pw) {
        Signer::Passwd(p).sign(pkt);
    }
}

/// Hand `pkt` to the server: never a panic, and every answer is at
/// least a header.
pub fn handle(s: &mut Server, pkt: &[u8]) {
    let from: SocketAddr = "127.0.0.1:6000".parse().unwrap();
    if let Action::Send(answer, _) = s.handle(pkt, from, Instant::now()) {
        assert!(answer.len() >= 24, "answer shorter than a header");
    }
}
