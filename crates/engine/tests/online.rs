//! The decision against a DCC server on the loopback interface, through
//! the UDP client: blocking (as dccproc) and asynchronous (as the daemons),
//! the header in the original's form, failures and the saved map state.

use std::sync::Arc;
use tally_ck::{CkType, Sum};
use tally_client::map::parse::parse_map;
use tally_engine::ask::Decision;
use tally_engine::cks::MsgCks;
use tally_engine::dcc_client::{BlockingDccClient, DccClient};
use tally_engine::map_save::Saved;
use tally_engine::server::DccServer;
use tally_engine::tholds::Thresholds;
use tally_testkit::{closed_port, map_text, FakeDccd};
use tally_wire::Op;

/// The header the original dccm added to a first message with server 1200
/// of brand "behbrand", on the host "vm" (recorded behaviour, scenario
/// a-defaults).
const RECORDED: &str = "X-DCC-behbrand-Metrics: vm 1200; Body=1 Fuz1=1 Fuz2=1\n";

fn cks(n: u8) -> MsgCks {
    let mut c = MsgCks::new();
    let s = |k: u8| Sum([k ^ n; 16]);
    c.set_ip(s(1));
    c.set(CkType::EnvFrom, s(2), true);
    c.set(CkType::From, s(3), true);
    c.set(CkType::MessageId, s(5), true);
    c.set(CkType::Body, s(7), true);
    c.set(CkType::Fuz1, s(8), true);
    c.set(CkType::Fuz2, s(9), true);
    c
}

fn header(d: &Decision) -> String {
    d.header
        .as_ref()
        .map(|h| h.as_str().to_string())
        .unwrap_or_default()
}

fn blocking(addr: std::net::SocketAddr) -> BlockingDccClient {
    let map = parse_map(&map_text(addr), None).expect("map");
    BlockingDccClient::new(DccClient::new(map, "vm")).expect("runtime")
}

/// One message through the blocking interface.
fn check(srv: &mut BlockingDccClient, c: &mut MsgCks, query: bool, tgts: u32) -> Decision {
    let t = Thresholds::default();
    let info = srv.start().expect("client");
    let mut d = Decision::new(query);
    d.ask_white(&t, None);
    d.ask_dcc(&t, true, srv, &info, c, false, tgts);
    d
}

#[test]
fn header_has_the_recorded_form() {
    let fake = FakeDccd::start(1200, "behbrand");
    let mut srv = blocking(fake.addr);
    let mut c = cks(0);
    let d = check(&mut srv, &mut c, false, 1);
    assert_eq!(header(&d), RECORDED);
    assert!(d.errors.is_empty(), "{:?}", d.errors);
    // the previous counts go to the checksum table
    assert_eq!(c.of_type(CkType::Body).map(|s| s.srvr_prev), Some(0));
    let d = check(&mut srv, &mut cks(0), false, 1);
    assert_eq!(
        header(&d),
        "X-DCC-behbrand-Metrics: vm 1200; Body=2 Fuz1=2 Fuz2=2\n"
    );
    let d = check(&mut srv, &mut cks(0), true, 1);
    assert_eq!(
        header(&d),
        "X-DCC-behbrand-Metrics: vm 1200; Body=2 Fuz1=2 Fuz2=2\n"
    );
    assert_eq!(fake.ops(Op::Report).len(), 2);
    assert_eq!(fake.ops(Op::Query).len(), 1);
}

#[test]
fn asynchronous_front_ends_drive_the_decision_themselves() {
    let fake = FakeDccd::start(1300, "asyncbrand");
    let map = parse_map(&map_text(fake.addr), None).expect("map");
    let client = Arc::new(DccClient::new(map, "vm"));
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let headers = rt.block_on(async {
        let mut tasks = Vec::new();
        for n in 0..4u8 {
            let client = client.clone();
            tasks.push(tokio::spawn(async move {
                let t = Thresholds::default();
                let mut c = cks(n % 2);
                let mut d = Decision::new(false);
                d.ask_white(&t, None);
                let info = client.client_info();
                if let Some(req) = d.dcc_request(&t, &info, &c, false, 1) {
                    let answer = client.ask(&req).await;
                    d.apply_answer(&t, true, &client.client_info(), &mut c, answer);
                }
                header(&d)
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.expect("task"));
        }
        out
    });
    // two messages, each reported twice: counts 1 and 2 for each
    let mut got = headers.clone();
    got.sort();
    let one = "X-DCC-asyncbrand-Metrics: vm 1300; Body=1 Fuz1=1 Fuz2=1\n";
    let two = "X-DCC-asyncbrand-Metrics: vm 1300; Body=2 Fuz1=2 Fuz2=2\n";
    assert_eq!(got, [one, one, two, two], "{headers:?}");
}

#[test]
fn failures_deliver_with_local_counts_and_back_off() {
    let dead = closed_port();
    let mut srv = blocking(dead);
    let d = check(&mut srv, &mut cks(0), false, 2);
    assert_eq!(header(&d), "X-DCC--Metrics: vm 0; Body=2 Fuz1=2 Fuz2=2\n");
    assert_eq!(
        d.errors,
        [format!(
            "no working DCC server at {},{}",
            dead.ip(),
            dead.port()
        )]
    );
    let d = check(&mut srv, &mut cks(0), false, 1);
    assert_eq!(header(&d), "X-DCC--Metrics: vm 0; Body=1 Fuz1=1 Fuz2=1\n");
    let e = d.errors.first().cloned().unwrap_or_default();
    assert!(
        e.starts_with("continue not asking DCC ") && e.ends_with(" seconds after 1 failures"),
        "{e}"
    );
}

#[test]
fn the_map_file_remembers_the_servers() {
    let fake = FakeDccd::start(1200, "behbrand");
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("engine-online-map-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let path = dir.join("map");
    std::fs::write(&path, map_text(fake.addr)).expect("map");

    let first = DccClient::open(&path, "vm").expect("open");
    // nothing learnt yet: nothing to save
    assert_eq!(first.save_map(), Ok(Saved::Unchanged));
    let mut srv = BlockingDccClient::new(first).expect("runtime");
    let d = check(&mut srv, &mut cks(0), false, 1);
    assert_eq!(header(&d), RECORDED);
    assert_eq!(srv.inner().save_map(), Ok(Saved::Written));
    let nops = fake.ops(Op::Nop).len();
    assert!(nops >= 1);

    // the next process knows the server, its brand and its RTT: no NOPs
    let second = DccClient::open(&path, "vm").expect("open again");
    assert_eq!(second.client_info().brand, "behbrand");
    let mut srv = BlockingDccClient::new(second).expect("runtime");
    let d = check(&mut srv, &mut cks(0), false, 1);
    assert_eq!(
        header(&d),
        "X-DCC-behbrand-Metrics: vm 1200; Body=2 Fuz1=2 Fuz2=2\n"
    );
    assert_eq!(fake.ops(Op::Nop).len(), nops);
    let _ = std::fs::remove_dir_all(&dir);
}
