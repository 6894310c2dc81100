//! The engine's DCC server over UDP: the requests of the per-message
//! decision sent with `tally-client`, its answers and failures turned into
//! what the decision and the X-DCC header need.
//!
//! - [`DccClient`]: asynchronous, for front ends running on tokio (dccm,
//!   dccifd); one client serves concurrent messages. Callers on threads of
//!   their own can wait for the answer on that thread
//!   ([`DccClient::ask_blocking`]).
//! - [`BlockingDccClient`]: the same behind [`DccServer`], with its own
//!   single-threaded runtime, for dccproc and tests.
//!
//! As in the original, a message is never held because DCC is
//! unreachable: a failure becomes an [`AskError`] worded like the
//! original's complaints, and the decision then delivers the message with
//! its local counts. After all servers failed the client backs off (32
//! seconds, doubling up to 512) and fails at once meanwhile; a client
//! opened from a map file saves that state back to the file
//! ([`DccClient::save_map`]) so that the next process remembers it, as
//! the original's shared map does.

use crate::map_save::{self, Saved, Stamp};
use crate::server::{Answer, AskError, ClientInfo, Count, DccServer, Op, Request};
use crate::tgts::{INVALID, SPAM};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use tally_client::error::NoServerReason;
use tally_client::map::file;
use tally_client::{Client, ClientError, DccAnswer, Map, Wait};
use tally_wire::WireCk;

/// The map file a client was opened from, as it was read.
#[derive(Debug)]
struct MapFile {
    path: PathBuf,
    loaded: Map,
    stamp: Option<Stamp>,
}

/// A DCC client for the per-message decision.
#[derive(Debug)]
pub struct DccClient {
    client: Client,
    hostname: String,
    file: Option<MapFile>,
    /// The server that answered last, for the brand in the header.
    last: Mutex<Option<SocketAddr>>,
}

impl DccClient {
    /// A client over a map, for this host name (the client name of the
    /// X-DCC header).
    pub fn new(map: Map, hostname: &str) -> DccClient {
        DccClient {
            client: Client::new(map),
            hostname: hostname.to_string(),
            file: None,
            last: Mutex::new(None),
        }
    }

    /// A client over the map file at `path`; the complaint when it cannot
    /// be read or parsed.
    pub fn open(path: &Path, hostname: &str) -> Result<DccClient, String> {
        let stamp = Stamp::of(path);
        let map = file::load(path).map_err(|e| e.to_string())?;
        let mut c = DccClient::new(map.clone(), hostname);
        c.file = Some(MapFile {
            path: path.to_path_buf(),
            loaded: map,
            stamp,
        });
        Ok(c)
    }

    /// The underlying client.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// This host's name and the brand of the server in use (the one that
    /// answered last, else the chosen one).
    pub fn client_info(&self) -> ClientInfo {
        let map = self.client.map();
        let last = *self.last.lock().unwrap_or_else(|e| e.into_inner());
        let class = &map.dcc;
        let addr = last
            .and_then(|sa| class.addrs.iter().find(|a| a.addr == sa))
            .or_else(|| class.chosen.and_then(|i| class.addrs.get(i)));
        ClientInfo {
            hostname: self.hostname.clone(),
            brand: addr.map(|a| a.brand.clone()).unwrap_or_default(),
        }
    }

    /// Send a query or report and wait for the counts (at most the
    /// client's time budget of 16 seconds; at once while backing off).
    pub async fn ask(&self, req: &Request) -> Result<Answer, AskError> {
        self.ask_with(req, Wait::Runtime).await
    }

    /// [`DccClient::ask`] for a caller on a thread of its own that may
    /// block (such as a dccifd job), never a runtime worker: the rare
    /// preparations that need the runtime (resolving host names,
    /// measuring RTTs) run on `rt`, and the UDP answer is awaited on the
    /// calling thread, which saves the thread switches of being woken by
    /// the runtime for every message.
    pub fn ask_blocking(
        &self,
        rt: &tokio::runtime::Handle,
        req: &Request,
    ) -> Result<Answer, AskError> {
        rt.block_on(self.ask_with(req, Wait::Thread))
    }

    async fn ask_with(&self, req: &Request, wait: Wait) -> Result<Answer, AskError> {
        let cks: Vec<WireCk> = req.cks.iter().map(|&(t, s)| WireCk::new(t, s)).collect();
        let res = match req.op {
            Op::Query => self.client.query_with(&cks, wait).await,
            Op::Report => {
                let n = req.tgts & !SPAM;
                self.client
                    .report_with(&cks, n, req.tgts & SPAM != 0, wait)
                    .await
            }
        };
        match res {
            Ok(a) => {
                *self.last.lock().unwrap_or_else(|e| e.into_inner()) = Some(a.server);
                to_answer(req, &a)
            }
            Err(e) => Err(to_ask_error(&e, &self.client.map())),
        }
    }

    /// Make sure a DCC server is chosen before asking (see
    /// [`Client::ready_to_ask`]); the complaint as the original words it.
    pub async fn ready(&self) -> Result<(), AskError> {
        self.client
            .ready_to_ask(tally_client::map::ClassKind::Dcc)
            .await
            .map_err(|e| to_ask_error(&e, &self.client.map()))
    }

    /// Write the map's server state back to the file the client was
    /// opened from, if it changed (see [`crate::map_save`]).
    pub fn save_map(&self) -> Result<Saved, String> {
        let Some(f) = &self.file else {
            return Ok(Saved::Unchanged);
        };
        let now = tally_client::clock::now_secs();
        let after = self.client.map();
        if !map_save::differs(&f.loaded, &after, now) {
            return Ok(Saved::Unchanged);
        }
        map_save::replace(&f.path, &after, now, f.stamp.as_ref())
    }
}

/// The counts of an answer in the order of the request.
pub fn to_answer(req: &Request, a: &DccAnswer) -> Result<Answer, AskError> {
    let mut counts = Vec::with_capacity(req.cks.len());
    for (ty, sum) in &req.cks {
        let Some(c) = a.counts.iter().find(|c| c.ck.ty == *ty && c.ck.sum == *sum) else {
            return Err(AskError {
                msg: format!("DCC server {} sent no count for {}", a.server_id, ty.name()),
                srvr_id: 0,
            });
        };
        counts.push(Count {
            prev: c.prev.map_or(INVALID, |p| p.0),
            cur: c.count.0,
        });
    }
    Ok(Answer {
        srvr_id: a.server_id,
        counts,
    })
}

/// A client failure as the decision's complaint, worded as the original.
pub fn to_ask_error(e: &ClientError, map: &Map) -> AskError {
    let msg = tally_client::words::unanswered(e, map).unwrap_or_else(|| match e {
        ClientError::NoServer {
            class,
            reason: NoServerReason::BackingOff { secs, failures },
        } => format!(
            "continue not asking {} {secs} seconds after {failures} failures",
            class.name()
        ),
        ClientError::Server { server_id, message } => {
            format!("DCC server {server_id}: {message}")
        }
        other => other.to_string(),
    });
    AskError { msg, srvr_id: 0 }
}

/// [`DccClient`] behind the blocking [`DccServer`] interface.
#[derive(Debug)]
pub struct BlockingDccClient {
    inner: DccClient,
    /// Always present until dropped.
    rt: Option<tokio::runtime::Runtime>,
}

impl BlockingDccClient {
    /// Wrap a client with a single-threaded runtime of its own.
    pub fn new(inner: DccClient) -> std::io::Result<BlockingDccClient> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(BlockingDccClient {
            inner,
            rt: Some(rt),
        })
    }

    /// The asynchronous client.
    pub fn inner(&self) -> &DccClient {
        &self.inner
    }

    /// [`DccClient::ready`], waited for.
    pub fn ready(&self) -> Result<(), AskError> {
        match &self.rt {
            Some(rt) => rt.block_on(self.inner.ready()),
            None => Err(AskError {
                msg: "no working DCC servers".into(),
                srvr_id: 0,
            }),
        }
    }

    /// [`DccClient::grey`], waited for.
    pub fn grey(&self, req: &crate::grey::GreyRequest) -> Result<crate::grey::GreyAnswer, String> {
        match &self.rt {
            Some(rt) => rt.block_on(self.inner.grey(req)),
            None => Err("no working greylist servers".into()),
        }
    }
}

impl Drop for BlockingDccClient {
    /// Do not wait for a host name lookup that is still running (it was
    /// given up after its time limit): the message is done.
    fn drop(&mut self) {
        if let Some(rt) = self.rt.take() {
            rt.shutdown_background();
        }
    }
}

impl DccServer for BlockingDccClient {
    fn start(&mut self) -> Result<ClientInfo, String> {
        Ok(self.inner.client_info())
    }

    fn ask(&mut self, req: &Request) -> Result<Answer, AskError> {
        match &self.rt {
            Some(rt) => rt.block_on(self.inner.ask(req)),
            None => Err(AskError {
                msg: "no working DCC servers".into(),
                srvr_id: 0,
            }),
        }
    }

    fn current_info(&self) -> Option<ClientInfo> {
        Some(self.inner.client_info())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tally_ck::{CkType, Sum};
    use tally_client::error::NoServerReason;
    use tally_client::map::{ClassKind, ServerAddr, ServerName};
    use tally_client::CkCount;
    use tally_wire::Tgts;

    fn map(names: &[&str], addrs: &[&str]) -> Map {
        let mut m = Map::new("map");
        for n in names {
            assert!(m.dcc.add(ServerName::new(n, 6277)).is_ok());
        }
        for a in addrs {
            let sa: SocketAddr = a.parse().expect("address");
            m.dcc.addrs.push(ServerAddr::new(sa, 0));
        }
        m
    }

    fn not_answering() -> ClientError {
        ClientError::NoServer {
            class: ClassKind::Dcc,
            reason: NoServerReason::NotAnswering,
        }
    }

    #[test]
    fn complaints_are_worded_as_the_original() {
        let m = map(&["127.0.0.1"], &["127.0.0.1:26299"]);
        assert_eq!(
            to_ask_error(&not_answering(), &m).msg,
            "no working DCC server at 127.0.0.1,26299"
        );
        let m = map(
            &["dcc1.example.com", "dcc2.example.com"],
            &["192.0.2.1:6277", "192.0.2.2:6277"],
        );
        assert_eq!(
            to_ask_error(&not_answering(), &m).msg,
            "no working DCC servers dcc1.example.com dcc2.example.com at 192.0.2.1 192.0.2.2"
        );
        let e = ClientError::NoServer {
            class: ClassKind::Dcc,
            reason: NoServerReason::BackingOff {
                secs: 32,
                failures: 1,
            },
        };
        assert_eq!(
            to_ask_error(&e, &m).msg,
            "continue not asking DCC 32 seconds after 1 failures"
        );
        let e = ClientError::Timeout {
            class: ClassKind::Dcc,
            server: "127.0.0.1:26277".parse().expect("address"),
            elapsed_ms: 6055,
        };
        let a = to_ask_error(&e, &m);
        assert_eq!(a.msg, "no DCC answer from 127.0.0.1,26277 after 6055 ms");
        assert_eq!(a.srvr_id, 0);
        assert!(e.deliver_anyway());
    }

    /// The original (clnt_send.c) leaves the usual port out of the
    /// addresses of "no working ... server", lists the second and third
    /// names even when the first is an address, and names the host of a
    /// server that did not answer.
    #[test]
    fn complaints_name_servers_as_the_original() {
        let m = map(
            &["a.example", "b.example", "c.example", "d.example"],
            &[
                "192.0.2.1:6277",
                "192.0.2.2:6277",
                "[2001:db8::3]:6277",
                "192.0.2.4:6277",
            ],
        );
        assert_eq!(
            to_ask_error(&not_answering(), &m).msg,
            "no working DCC servers a.example b.example c.example ... \
             at 192.0.2.1 192.0.2.2 2001:db8::3 ..."
        );
        let m = map(&["192.0.2.9", "dcc.example"], &["192.0.2.9:6277"]);
        assert_eq!(
            to_ask_error(&not_answering(), &m).msg,
            "no working DCC server dcc.example at 192.0.2.9"
        );
        let mut m = Map::new("map");
        assert!(m.grey.add(ServerName::new("127.0.0.1", 6276)).is_ok());
        m.grey.addrs.push(ServerAddr::new(
            "127.0.0.1:6276".parse().expect("address"),
            0,
        ));
        let e = ClientError::NoServer {
            class: ClassKind::Grey,
            reason: NoServerReason::NotAnswering,
        };
        assert_eq!(
            to_ask_error(&e, &m).msg,
            "no working greylist server at 127.0.0.1"
        );
        let m = map(&["dcc1.example.com"], &["192.0.2.1:6277"]);
        let e = ClientError::Timeout {
            class: ClassKind::Dcc,
            server: "192.0.2.1:6277".parse().expect("address"),
            elapsed_ms: 16000,
        };
        assert_eq!(
            to_ask_error(&e, &m).msg,
            "no DCC answer from dcc1.example.com (192.0.2.1,6277) after 16000 ms"
        );
    }

    #[test]
    fn counts_follow_the_request() {
        let body = (CkType::Body, Sum([7; 16]));
        let ip = (CkType::Ip, Sum([1; 16]));
        let req = Request {
            op: Op::Report,
            tgts: 1,
            cks: vec![ip, body],
        };
        let server: SocketAddr = "127.0.0.1:6277".parse().expect("address");
        let count = |(ty, sum): (CkType, Sum), c: u32, p: Option<u32>| CkCount {
            ck: WireCk::new(ty, sum),
            count: Tgts(c),
            prev: p.map(Tgts),
        };
        let a = DccAnswer {
            server_id: 1200,
            server,
            authenticated: true,
            counts: vec![count(body, 5, Some(4)), count(ip, 0, None)],
        };
        let got = to_answer(&req, &a).expect("answer");
        assert_eq!(got.srvr_id, 1200);
        assert_eq!(
            got.counts,
            [
                Count {
                    prev: INVALID,
                    cur: 0
                },
                Count { prev: 4, cur: 5 }
            ]
        );
        let short = DccAnswer {
            counts: vec![count(body, 5, Some(4))],
            ..a
        };
        assert!(to_answer(&req, &short).is_err());
    }
}
