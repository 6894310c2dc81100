//! The client against scripted servers on 127.0.0.1.

mod common;

use common::{cks, closed_port, map_for, start, Behaviour, Fake};
use std::time::{Duration, Instant};
use tally_client::{ClassKind, Client, ClientError, NoServerReason};
use tally_wire::admn::Aop;
use tally_wire::packet::{AdmnAnswer, Response};
use tally_wire::sign::Auth;
use tally_wire::{Op, Tgts};
use tokio::time::timeout;

/// Every test ends well within this.
const LIMIT: Duration = Duration::from_secs(30);

/// A client whose map names only `srv`, with client-ID 32800 and its
/// password.
fn signed_client(srv: &Fake) -> Client {
    Client::new(map_for(&[(srv.addr, "32800 secret")]))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn query_and_report_signed_both_ways() {
    let srv = start(Behaviour::default()).await;
    let client = signed_client(&srv);
    timeout(LIMIT, async {
        let a = client.query(&cks()).await.unwrap();
        assert!(a.authenticated);
        assert_eq!(a.server_id, 1100);
        assert_eq!(a.counts.len(), 3);
        assert!(a.counts.iter().all(|c| c.count == Tgts(0)));
        // Sorted by type as the server requires.
        assert!(a.counts.windows(2).all(|w| w[0].ck.ty < w[1].ck.ty));

        let r = client.report(&cks(), 3, false).await.unwrap();
        assert!(r
            .counts
            .iter()
            .all(|c| c.count == Tgts(3) && c.prev == Some(Tgts(0))));
        let q = client.query(&cks()).await.unwrap();
        assert!(q.counts.iter().all(|c| c.count == Tgts(3)));

        let stats = client
            .admn_op(ClassKind::Dcc, Aop::Stats, 1024)
            .await
            .unwrap();
        assert_eq!(
            stats.response,
            Response::Admn(AdmnAnswer::Text(b"fake stats".to_vec()))
        );
        match client.admn_op(ClassKind::Dcc, Aop::Stop, 0).await {
            Err(ClientError::Server { server_id, message }) => {
                assert_eq!((server_id, message.as_str()), (1100, "not supported"));
            }
            other => panic!("{other:?}"),
        }
        let del = client.delete(cks()[0]).await.unwrap();
        assert!(matches!(del.response, Response::Ok(_)));
    })
    .await
    .unwrap();

    // Every request was signed with the password, and the NOP measured the RTT.
    let seen = srv.seen();
    assert_eq!(seen[0].op, Op::Nop);
    assert_eq!(seen[0].pkt_vers, 12);
    assert!(seen
        .iter()
        .all(|s| s.sender == 32800 && matches!(s.auth, Auth::Verified { .. })));
    let map = client.map();
    assert_eq!(map.dcc.chosen, Some(0));
    assert_eq!(map.dcc.addrs[0].srvr_id, Some(1100));
    assert_eq!(map.dcc.addrs[0].brand, "fakebrand");
    assert!(map.dcc.addrs[0].rtt < 1_000_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_password_and_anonymous() {
    let srv = start(Behaviour::default()).await;
    let bad = Client::new(map_for(&[(srv.addr, "32800 wrong")]));
    let a = timeout(LIMIT, bad.query(&cks())).await.unwrap().unwrap();
    // Answered like an anonymous client: no signature with our password.
    assert!(!a.authenticated);
    assert!(srv.seen().iter().all(|s| s.auth == Auth::BadPasswd));

    let anon = Client::new(map_for(&[(srv.addr, "anon")]));
    let a = timeout(LIMIT, anon.query(&cks())).await.unwrap().unwrap();
    assert!(!a.authenticated);
    let last = srv.seen().pop().unwrap();
    assert_eq!((last.sender, last.auth), (1, Auth::Anonymous));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dead_server_is_no_server_quickly() {
    let client = Client::new(map_for(&[(closed_port(), "32800 secret")]));
    let t0 = Instant::now();
    let e = timeout(LIMIT, client.query(&cks()))
        .await
        .unwrap()
        .unwrap_err();
    assert!(e.is_no_server() && e.deliver_anyway(), "{e}");
    assert!(t0.elapsed() < Duration::from_secs(1), "{:?}", t0.elapsed());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn silent_server_then_back_off() {
    let srv = start(Behaviour {
        answer_nops: false,
        ..Behaviour::default()
    })
    .await;
    let client = signed_client(&srv);
    let t0 = Instant::now();
    let e = timeout(LIMIT, client.query(&cks()))
        .await
        .unwrap()
        .unwrap_err();
    let took = t0.elapsed();
    assert!(matches!(
        e,
        ClientError::NoServer {
            reason: NoServerReason::NotAnswering,
            ..
        }
    ));
    // Four NOPs, waiting 350 + 600 + 1100 + 2100 ms.
    assert_eq!(srv.ops(Op::Nop).len(), 4);
    assert!(
        took >= Duration::from_millis(4100) && took < Duration::from_secs(6),
        "{took:?}"
    );

    // Failure memory: the next request does not wait at all.
    let t1 = Instant::now();
    let e = client.report(&cks(), 1, false).await.unwrap_err();
    assert!(t1.elapsed() < Duration::from_millis(500));
    match e {
        ClientError::NoServer {
            reason: NoServerReason::BackingOff { secs, failures },
            ..
        } => assert!((1..=32).contains(&secs) && failures == 1),
        other => panic!("{other:?}"),
    }
    assert_eq!(srv.seen().len(), 4);
    assert!(client.map().dcc.fail.fail_exp == 1);
}

/// `-x` of dccm and dccifd: after a failure the next request asks the
/// servers again instead of failing at once for the back-off.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trying_hard_asks_again_within_the_back_off() {
    let srv = start(Behaviour {
        answer_nops: false,
        ..Behaviour::default()
    })
    .await;
    let client = signed_client(&srv);
    client.set_try_hard(true);
    for round in 1..=2 {
        let e = timeout(LIMIT, client.query(&cks()))
            .await
            .unwrap()
            .unwrap_err();
        assert!(
            matches!(
                e,
                ClientError::NoServer {
                    reason: NoServerReason::NotAnswering,
                    ..
                }
            ),
            "round {round}: {e:?}"
        );
        assert_eq!(srv.ops(Op::Nop).len(), 4 * round);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_deaf_to_queries_times_out_within_budget() {
    let srv = start(Behaviour {
        ignore: &[Op::Query],
        ..Behaviour::default()
    })
    .await;
    let client = signed_client(&srv);
    let t0 = Instant::now();
    let e = timeout(LIMIT, client.query(&cks()))
        .await
        .unwrap()
        .unwrap_err();
    let took = t0.elapsed();
    assert!(matches!(e, ClientError::Timeout { .. }), "{e}");
    assert!(e.deliver_anyway());
    // 350 + 600 + 1100 ms and a last wait of 4 s, within the 16 s budget.
    assert!(
        took >= Duration::from_millis(6000) && took < Duration::from_secs(16),
        "{took:?}"
    );
    let q = srv.ops(Op::Query);
    assert_eq!(q.iter().map(|s| s.t).collect::<Vec<_>>(), vec![1, 2, 3, 4]);

    let t1 = Instant::now();
    let e = client.query(&cks()).await.unwrap_err();
    assert!(e.is_no_server(), "{e}");
    assert!(t1.elapsed() < Duration::from_millis(500));
    assert_eq!(srv.ops(Op::Query).len(), 4);

    // Administrative requests are still sent while backing off, as by cdcc,
    // to the chosen server or to a given address.
    let stats = timeout(LIMIT, client.admn_op(ClassKind::Dcc, Aop::Stats, 1024))
        .await
        .unwrap()
        .unwrap();
    assert!(matches!(stats.response, Response::Admn(_)));
    let req = tally_wire::admn::AdmnRequest::new(0, Aop::Stats, 1024);
    let at = timeout(LIMIT, client.admn_at(ClassKind::Dcc, 0, req.clone()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(at.server, srv.addr);
    assert!(matches!(
        client.admn_at(ClassKind::Dcc, 5, req).await,
        Err(ClientError::BadRequest(_))
    ));
}

#[test]
fn futures_are_send() {
    fn send<T: Send>(_: T) {}
    let client = Client::new(map_for(&[(closed_port(), "anon")]));
    let cks = cks();
    send(client.query(&cks));
    send(client.report(&cks, 1, false));
    send(client.grey_report(&cks));
    send(client.measure_rtt(ClassKind::Dcc));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lossy_server_answers_a_retransmission() {
    let srv = start(Behaviour {
        drop_first: 2,
        ..Behaviour::default()
    })
    .await;
    let client = signed_client(&srv);
    let a = timeout(LIMIT, client.report(&cks(), 1, true))
        .await
        .unwrap()
        .unwrap();
    assert!(a.authenticated);
    assert!(a.counts.iter().all(|c| c.count == Tgts(1)));
    let r = srv.ops(Op::Report);
    assert_eq!(r.iter().map(|s| s.t).collect::<Vec<_>>(), vec![1, 2, 3]);
    // The answer is used: the client is not backing off.
    assert_eq!(client.map().dcc.fail.fail_exp, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faster_server_is_chosen() {
    let slow = start(Behaviour {
        id: 1101,
        delay: Duration::from_millis(200),
        ..Behaviour::default()
    })
    .await;
    let fast = start(Behaviour {
        id: 1102,
        ..Behaviour::default()
    })
    .await;
    for order in [[&slow, &fast], [&fast, &slow]] {
        let client = Client::new(map_for(&[
            (order[0].addr, "32800 secret"),
            (order[1].addr, "32800 secret"),
        ]));
        let a = timeout(LIMIT, client.query(&cks())).await.unwrap().unwrap();
        assert_eq!(a.server_id, 1102);
        assert_eq!(a.server, fast.addr);
        let map = client.map();
        assert_eq!(map.dcc.working(), 2);
        let chosen = &map.dcc.addrs[map.dcc.chosen.unwrap()];
        assert_eq!(chosen.addr, fast.addr);
    }
    assert!(slow.ops(Op::Query).is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_protocol_version_is_negotiated() {
    let srv = start(Behaviour {
        max_vers: 5,
        ..Behaviour::default()
    })
    .await;
    let client = signed_client(&srv);
    let a = timeout(LIMIT, client.query(&cks())).await.unwrap().unwrap();
    assert!(a.counts.iter().all(|c| c.prev.is_none()));
    let q = srv.ops(Op::Query);
    assert_eq!(q[0].pkt_vers, 5);
    assert_eq!(client.map().dcc.addrs[0].pkt_vers, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn greylist_requests_use_the_greylist_servers() {
    let dcc = start(Behaviour::default()).await;
    let grey = start(Behaviour {
        brand: "greybrand",
        ..Behaviour::default()
    })
    .await;
    let text = format!(
        "127.0.0.1,{} 32800 secret\n127.0.0.1,{} Greylist 32800 secret\n",
        dcc.addr.port(),
        grey.addr.port()
    );
    let map = tally_client::map::parse::parse_map(&text, None).unwrap();
    let client = Client::new(map);
    let g = timeout(LIMIT, client.grey_report(&cks()))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((g.msg, g.triple), (Tgts(1), Tgts(0)));
    assert!(g.authenticated);
    assert_eq!(grey.ops(Op::GreyReport).len(), 1);
    assert!(dcc.seen().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ipv6_loopback_when_available() {
    let Ok(sock) = tokio::net::UdpSocket::bind("[::1]:0").await else {
        eprintln!("no IPv6 loopback; skipped");
        return;
    };
    let port = sock.local_addr().unwrap().port();
    drop(sock);
    // A closed IPv6 port is refused at once, and "IPv6 off" skips the address.
    let text = format!("::1,{port} 32800 secret\n");
    let client = Client::new(tally_client::map::parse::parse_map(&text, None).unwrap());
    let e = timeout(LIMIT, client.query(&cks()))
        .await
        .unwrap()
        .unwrap_err();
    assert!(e.is_no_server(), "{e}");
    let off = format!("IPv6 off\n::1,{port} 32800 secret\n");
    let client = Client::new(tally_client::map::parse::parse_map(&off, None).unwrap());
    match timeout(LIMIT, client.query(&cks())).await.unwrap() {
        Err(ClientError::NoServer {
            reason: NoServerReason::NoAddresses(_),
            ..
        }) => {}
        other => panic!("{other:?}"),
    }
}

/// When the chosen server does not answer a report, the retry at the
/// other server is a query of the same checksums, as the reference
/// client's callers send it (clntlib/ask.c): the silent server may have
/// counted the report, and a second server counting it too would count
/// the message twice once they flood.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_retried_elsewhere_as_a_query() {
    let deaf = start(Behaviour {
        id: 1101,
        ignore: &[Op::Report],
        ..Behaviour::default()
    })
    .await;
    let other = start(Behaviour {
        id: 1102,
        delay: Duration::from_millis(150),
        ..Behaviour::default()
    })
    .await;
    let client = Client::new(map_for(&[
        (deaf.addr, "32800 secret"),
        (other.addr, "32800 secret"),
    ]));
    let a = timeout(LIMIT, client.report(&cks(), 1, false))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.server_id, 1102);
    assert_eq!(deaf.ops(Op::Report).len(), 4);
    assert!(other.ops(Op::Report).is_empty());
    assert_eq!(other.ops(Op::Query).len(), 1);
    // The query did not count: the other server still knows nothing.
    assert!(a.counts.iter().all(|c| c.count == Tgts(0)));
    assert_eq!(client.map().dcc.fail.fail_exp, 0);
}

/// After a failure the RTTs are measured again before the first request
/// that follows the back-off (clnt_send.c, fail_more), also by the next
/// process that reads the saved map, rather than sending the request
/// straight to the server that failed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rtts_measured_again_after_the_back_off() {
    let srv = start(Behaviour {
        ignore: &[Op::Query],
        ..Behaviour::default()
    })
    .await;
    let client = signed_client(&srv);
    let e = timeout(LIMIT, client.query(&cks()))
        .await
        .unwrap()
        .unwrap_err();
    assert!(matches!(e, ClientError::Timeout { .. }), "{e}");
    assert_eq!(srv.ops(Op::Nop).len(), 1);
    let mut map = client.map();
    assert_eq!(map.dcc.fail.fail_exp, 1);
    assert_eq!(map.dcc.measure_at, 0);
    // The back-off is over.
    map.dcc.fail.fail_time = tally_client::clock::now_secs() - 1;
    let client = Client::new(map);
    let a = timeout(LIMIT, client.report(&cks(), 1, false))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(a.server, srv.addr);
    assert_eq!(srv.ops(Op::Nop).len(), 2);
    assert_eq!(srv.ops(Op::Report).len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_leave_from_the_maps_src_address() {
    // `src=` names the address to send from (IPv4 and IPv6 in either
    // order); one this host does not have is passed over, and the
    // request still goes out
    let srv = start(Behaviour::default()).await;
    let mut map = map_for(&[(srv.addr, "32800 secret")]);
    map.src = Some("::1,127.0.0.2".to_string());
    assert_eq!(map.src_for(false), Some("127.0.0.2".parse().unwrap()));
    assert_eq!(map.src_for(true), Some("::1".parse().unwrap()));
    let client = Client::new(map);
    timeout(LIMIT, client.query(&cks()))
        .await
        .expect("in time")
        .expect("query");
    let seen = srv.seen();
    assert!(!seen.is_empty());
    assert!(
        seen.iter().all(|s| s.from.ip().to_string() == "127.0.0.2"),
        "{seen:?}"
    );

    let srv = start(Behaviour::default()).await;
    let mut map = map_for(&[(srv.addr, "32800 secret")]);
    map.src = Some("192.0.2.1 but unused".to_string());
    let client = Client::new(map);
    timeout(LIMIT, client.query(&cks()))
        .await
        .expect("in time")
        .expect("query from the address the system chooses");
    assert!(srv.seen().iter().all(|s| s.from.ip().is_loopback()));
}
