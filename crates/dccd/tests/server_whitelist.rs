//! The server `whitelist` is built as dbclean builds it (audit finding 1):
//! an address block of 4096 addresses is expanded, a host name is
//! resolved, `mx` and `mxdcc` lines count as `ok` and `submit` lines are
//! ignored, at start and again on SIGHUP.

mod common;

use std::net::IpAddr;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{free_port, query_one, temp_home, Dccd};
use tally_ck::simple::ip_sum;
use tally_ck::CkType;
use tally_wire::WireCk;

/// The answer to a signed QUERY of the IP checksum of `ip` (request `r`).
fn query_ip(d: &Dccd, ip: &str, r: u32) -> (u32, u32) {
    let ip: IpAddr = ip.parse().unwrap();
    query_one(d.addr, WireCk::new(CkType::Ip, ip_sum(ip)), r)
}

const OK: (u32, u32) = (0x00ff_fff1, 0x00ff_fff1);
/// An IP checksum not whitelisted: the type is not kept by default.
const NONE: (u32, u32) = (0, 0x0100_0000);

#[test]
fn whitelist_built_as_dbclean_builds_it() {
    let home = temp_home("srvwhite");
    std::fs::write(
        home.join("whitelist"),
        "ok ip 10.2.0.0/20\n\
         ok ip localhost\n\
         mx ip 10.5.5.5\n\
         mxdcc ip 10.5.5.6\n\
         submit ip 10.6.6.6\n",
    )
    .unwrap();
    let d = Dccd::start(&home, free_port(), &[]);
    let want = [
        ("10.2.0.0", OK),
        ("10.2.5.5", OK),
        ("10.2.15.255", OK),
        ("10.2.16.0", NONE),
        ("127.0.0.1", OK),
        ("10.5.5.5", OK),
        ("10.5.5.6", OK),
        ("10.6.6.6", NONE),
    ];
    for (r, (ip, w)) in want.iter().enumerate() {
        assert_eq!(query_ip(&d, ip, r as u32), *w, "{ip}");
    }

    // SIGHUP builds the new file the same way: the largest block allowed
    std::fs::write(home.join("whitelist"), "ok ip 10.9.0.0/16\n").unwrap();
    let hup = Command::new("kill")
        .args(["-HUP", &d.child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(hup, "kill -HUP");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut r = 100;
    while query_ip(&d, "10.9.200.1", r) != OK {
        assert!(Instant::now() < deadline, "whitelist not rebuilt");
        std::thread::sleep(Duration::from_millis(50));
        r += 1;
    }
    assert_eq!(query_ip(&d, "10.2.5.5", r + 1), NONE);
    assert_eq!(query_ip(&d, "127.0.0.1", r + 2), NONE);
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
}
