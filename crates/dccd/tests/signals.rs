//! SIGHUP reloads the server whitelist (and ids); SIGTERM stops in order.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::{free_port, query_one, temp_home, Dccd};
use tally_ck::simple::str_sum;
use tally_ck::CkType;
use tally_wire::WireCk;

fn query_env_from(d: &Dccd, r: u32) -> (u32, u32) {
    let ck = WireCk::new(CkType::EnvFrom, str_sum(None, b"spam@example.com"));
    query_one(d.addr, ck, r)
}

fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .args([sig, &pid.to_string()])
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill {sig}");
}

#[test]
fn hup_reloads_whitelist_and_term_stops() {
    let home = temp_home("signals");
    let mut d = Dccd::start(&home, free_port(), &[]);
    // not kept, not whitelisted: 0 and "no value"
    assert_eq!(query_env_from(&d, 1), (0, 0x0100_0000));
    std::fs::write(home.join("whitelist"), "many env_from spam@example.com\n").unwrap();
    signal(d.child.id(), "-HUP");
    let deadline = Instant::now() + Duration::from_secs(5);
    let mut r = 2;
    while query_env_from(&d, r) != (0x00ff_fff0, 0x00ff_fff0) {
        assert!(Instant::now() < deadline, "whitelist not reloaded");
        std::thread::sleep(Duration::from_millis(50));
        r += 1;
    }
    assert!(home.join("dccd.pid").exists());
    signal(d.child.id(), "-TERM");
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        if let Ok(Some(st)) = d.child.try_wait() {
            assert!(st.success());
            break;
        }
        assert!(Instant::now() < deadline, "dccd did not stop on SIGTERM");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!home.join("dccd.pid").exists());
    let _ = std::fs::remove_dir_all(&home);
}
