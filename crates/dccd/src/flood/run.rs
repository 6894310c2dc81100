//! Starting the floods of a running server: the TCP listeners on the
//! server's addresses, and a supervisor that re-reads the `flod` file and
//! keeps one outgoing stream per peer.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use super::file::Peer;
use super::state::Flood;
use crate::server::Server;
use crate::trace::log;

/// How often the supervisor looks at the `flod` file.
const CHECK: Duration = Duration::from_secs(1);

/// Listen for incoming floods on `addrs` and keep the outgoing ones going.
/// Must be called inside the tokio runtime.
pub fn start(
    addrs: &[SocketAddr],
    server: Arc<Mutex<Server>>,
    flood: Arc<Mutex<Flood>>,
) -> Result<(), String> {
    for a in addrs {
        let std_l = match std::net::TcpListener::bind(a) {
            Ok(l) => l,
            Err(e) => {
                // flooding in is off on this address; the UDP service goes on
                log(&format!("bind(flood {a}): {e}"));
                continue;
            }
        };
        std_l.set_nonblocking(true).map_err(|e| e.to_string())?;
        let l = TcpListener::from_std(std_l).map_err(|e| e.to_string())?;
        let (server, flood) = (server.clone(), flood.clone());
        tokio::spawn(async move {
            loop {
                match l.accept().await {
                    Ok((s, from)) => {
                        let _ = s.set_nodelay(true);
                        tokio::spawn(super::incoming::accepted(
                            s,
                            from,
                            server.clone(),
                            flood.clone(),
                        ));
                    }
                    Err(e) => {
                        log(&format!("accept(flood): {e}"));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                }
            }
        });
    }
    tokio::spawn(supervise(server, flood));
    Ok(())
}

async fn supervise(server: Arc<Mutex<Server>>, flood: Arc<Mutex<Flood>>) {
    let mut running: HashMap<u16, (Peer, JoinHandle<()>)> = HashMap::new();
    let mut reversed: HashMap<u16, (Peer, JoinHandle<()>)> = HashMap::new();
    let mut next_claim = Instant::now();
    loop {
        let peers = match flood.lock() {
            Ok(mut f) => {
                f.reload(false);
                f.peers.clone()
            }
            Err(_) => return,
        };
        // while we have peers, claim our server-ID at start and every 12
        // hours; greylist servers too, as the original's do
        if !peers.is_empty() && Instant::now() >= next_claim {
            next_claim = Instant::now() + Duration::from_secs(super::records::CLAIM_SECS);
            claim(&server);
        }
        running.retain(|id, (p, h)| {
            let keep = peers.iter().any(|q| q == p) && !h.is_finished();
            if !keep {
                h.abort();
                log(&format!("stop flood to server-ID {id}"));
            }
            keep
        });
        reversed.retain(|_, (p, h)| {
            let keep = peers.iter().any(|q| q == p) && !h.is_finished();
            if !keep {
                h.abort();
            }
            keep
        });
        for p in &peers {
            // behind a firewall: we make the peer's connection to us too
            if (p.out.socks || p.out.nat) && !p.inc.off && !reversed.contains_key(&p.rem_id) {
                let h = tokio::spawn(super::incoming::reverse(
                    p.clone(),
                    server.clone(),
                    flood.clone(),
                ));
                reversed.insert(p.rem_id, (p.clone(), h));
            }
        }
        for p in peers {
            if p.out.off || p.out.passive || running.contains_key(&p.rem_id) {
                continue;
            }
            let h = tokio::spawn(super::outgoing::run(
                p.clone(),
                server.clone(),
                flood.clone(),
            ));
            running.insert(p.rem_id, (p, h));
        }
        tokio::time::sleep(CHECK).await;
    }
}

/// Add our server-ID claim (our host name) to the database, to be flooded.
fn claim(server: &Arc<Mutex<Server>>) {
    let host = super::incoming::hostname();
    let Ok(mut sv) = server.lock() else { return };
    let r = tally_store::Report::new(
        tally_store::Ts::now(),
        sv.cfg.srvr_id,
        1,
        vec![tally_store::Ck::new(
            tally_ck::CkType::SrvrId,
            super::records::claim_sum(&host),
        )],
    );
    if let Err(e) = sv.counter.store.add(&r) {
        log(&format!("server-ID claim: {e}"));
    }
}
