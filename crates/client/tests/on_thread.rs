//! Requests whose answer is awaited on the calling thread
//! ([`Wait::Thread`]), as a dccifd job asks, against scripted servers on
//! 127.0.0.1: the same answers, retransmissions, time-outs and refusals as
//! when the runtime waits.

mod common;

use common::{cks, start, Behaviour};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tally_client::{Client, ClientError, NoServerReason, Wait};
use tally_wire::{Op, Tgts};
use tokio::runtime::Handle;

/// Run `f` on a blocking thread of the test's runtime, as a job does.
async fn on_thread<T: Send + 'static>(f: impl FnOnce(&Handle) -> T + Send + 'static) -> T {
    let h = Handle::current();
    tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || f(&h)),
    )
    .await
    .expect("within 30 s")
    .expect("thread")
}

fn client_for(srv: &common::Fake) -> Arc<Client> {
    Arc::new(Client::new(common::map_for(&[(srv.addr, "32800 secret")])))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_and_report_answered_on_the_thread() {
    let srv = start(Behaviour::default()).await;
    let c = client_for(&srv);
    let c2 = c.clone();
    let (q, r) = on_thread(move |h| {
        let q = h.block_on(c2.query_with(&cks(), Wait::Thread));
        let r = h.block_on(c2.report_with(&cks(), 3, false, Wait::Thread));
        (q, r)
    })
    .await;
    let q = q.expect("query");
    assert!(q.authenticated);
    assert_eq!(q.server_id, 1100);
    assert!(q.counts.iter().all(|c| c.count == Tgts(0)));
    let r = r.expect("report");
    assert!(r
        .counts
        .iter()
        .all(|c| c.count == Tgts(3) && c.prev == Some(Tgts(0))));
    // the answers went into the RTT bookkeeping as usual
    assert!(c.map().dcc.addrs[0].rtt < 250_000);
    assert_eq!(srv.ops(Op::Report).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_request_is_sent_again_from_the_same_port() {
    let srv = start(Behaviour {
        drop_first: 2,
        ..Behaviour::default()
    })
    .await;
    let c = client_for(&srv);
    let a = on_thread(move |h| h.block_on(c.report_with(&cks(), 1, true, Wait::Thread)))
        .await
        .expect("answer to the third transmission");
    assert!(a.counts.iter().all(|c| c.count == Tgts(1)));
    let r = srv.ops(Op::Report);
    assert_eq!(r.iter().map(|s| s.t).collect::<Vec<_>>(), vec![1, 2, 3]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_deaf_to_queries_times_out_within_the_budget() {
    let srv = start(Behaviour {
        ignore: &[Op::Query],
        ..Behaviour::default()
    })
    .await;
    let c = client_for(&srv);
    let t0 = Instant::now();
    let e = on_thread(move |h| h.block_on(c.query_with(&cks(), Wait::Thread)))
        .await
        .expect_err("no answer");
    let took = t0.elapsed();
    assert!(matches!(e, ClientError::Timeout { .. }), "{e}");
    assert!(
        took >= Duration::from_millis(6000) && took < Duration::from_secs(16),
        "{took:?}"
    );
    let q = srv.ops(Op::Query);
    assert_eq!(q.iter().map(|s| s.t).collect::<Vec<_>>(), vec![1, 2, 3, 4]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_gone_is_refused_at_once() {
    let srv = start(Behaviour::default()).await;
    let c = client_for(&srv);
    c.query(&cks()).await.expect("first answer");
    drop(srv);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let t0 = Instant::now();
    let e = on_thread(move |h| h.block_on(c.query_with(&cks(), Wait::Thread)))
        .await
        .expect_err("port closed");
    assert!(
        matches!(
            e,
            ClientError::NoServer {
                reason: NoServerReason::NotAnswering,
                ..
            }
        ),
        "{e}"
    );
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
}
