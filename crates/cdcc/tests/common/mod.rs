//! A fake DCC server on 127.0.0.1 for the cdcc tests: it records every
//! datagram, authenticates requests against an ids file and answers NOP,
//! ADMN and DELETE requests like the reference server would.

#![allow(dead_code)]

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tally_wire::admn::{AnonDelay, Aop, FlodAop};
use tally_wire::clients::ClientEntry;
use tally_wire::ids::Ids;
use tally_wire::packet::{AdmnAnswer, OkBody, Response};
use tally_wire::sign::authenticate;
use tally_wire::{Packet, Request};

/// The ids file of the recorded runs.
pub const IDS: &str = "32800 vectorclientpw\n1100 vectorserverpw\n1101 vectorserver2pw\n";

/// The stats text the recording's server sent.
pub const STATS_TEXT: &str = "    version 2.3.167  tracing ADMN ANON CLNT QUERY FLOOD1 FLOOD2 WLIST \n 196604 hash entries     14 used      1296 DB bytes\n    0 ms delay  5 NOPs  1 ADMN  4 query  4 clients since 11:55:15";

/// The flood list text of the recording.
pub const FLOOD_LIST: &str = " 1101       127.0.0.1                   127.0.0.1,16278       ";

/// The packed clients list of the recording (protocol version 12).
pub const CLIENTS_HEX: &str = "0098b18bd806cc0806037f0000018088b18bd806a080820806027f0000000000a080820802017f0000010883b18bd80604017f00000120ecb08bd806a0800206027f000001";

pub fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

pub fn recorded_clients() -> Vec<ClientEntry> {
    tally_wire::clients::decode(&unhex(CLIENTS_HEX), 12).unwrap()
}

pub struct Fake {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Vec<u8>>>>,
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<()>>,
}

impl Drop for Fake {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl Fake {
    /// Every datagram received so far.
    pub fn seen(&self) -> Vec<Vec<u8>> {
        self.seen.lock().unwrap().clone()
    }

    /// The received datagrams with this operation code.
    pub fn ops(&self, op: u8) -> Vec<Vec<u8>> {
        self.seen()
            .into_iter()
            .filter(|d| d.get(3) == Some(&op))
            .collect()
    }
}

fn answer(req: &Packet<Request>) -> Response {
    match &req.body {
        // a checksum starting with 0xee is one the server does not have
        Request::Delete(d) if d.ck.sum.0[0] == 0xee => Response::Error(
            format!("\"{} {}\" not found to delete", d.ck.ty, d.ck.sum).into_bytes(),
        ),
        Request::Nop | Request::Delete(_) => {
            Response::Ok(OkBody::new(12.min(req.pkt_vers), 0, "fakebrand"))
        }
        Request::Admn(a) => match a.aop {
            Aop::Stats | Aop::StatsClear => {
                Response::Admn(AdmnAnswer::Text(STATS_TEXT.as_bytes().to_vec()))
            }
            Aop::Clients | Aop::ClientsId => {
                let list = if a.clients_offset() == 0 {
                    recorded_clients()
                } else {
                    Vec::new()
                };
                Response::Admn(AdmnAnswer::Clients(list))
            }
            Aop::Flod => match FlodAop::from_u32(a.val1 & 0xff) {
                Some(FlodAop::List) => {
                    Response::Admn(AdmnAnswer::Text(FLOOD_LIST.as_bytes().to_vec()))
                }
                Some(FlodAop::Stats | FlodAop::StatsClear) => {
                    let id = a.val1 >> 8;
                    let text = if id > 32767 && id - 32768 < 1101 {
                        " server-ID 1101  127.0.0.1,16278\n    0 reports sent".to_string()
                    } else {
                        format!(" server-ID {id} ")
                    };
                    Response::Admn(AdmnAnswer::Text(text.into_bytes()))
                }
                _ => Response::Ok(OkBody::new(12, 0, "fakebrand")),
            },
            Aop::AnonDelay => Response::Admn(AdmnAnswer::AnonDelay(AnonDelay {
                inflate: 0,
                delay_ms: 50,
            })),
            Aop::ClockCheck => Response::Admn(AdmnAnswer::Text(b"clock ok".to_vec())),
            Aop::DbClean => Response::Error(b"database cleaning not now".to_vec()),
            Aop::TraceOn | Aop::TraceOff if a.val1 & !0x0eff != 0 => {
                Response::Error(format!("invalid trace bits {:#x}", a.val1).into_bytes())
            }
            _ => Response::Ok(OkBody::new(12, 0, "fakebrand")),
        },
        _ => Response::Error(b"not supported".to_vec()),
    }
}

/// Start a fake server with server-ID `id` on a random loopback port.
pub fn start(id: u32) -> Fake {
    start_with(id, false)
}

/// A fake server that answers NOPs but never an ADMN request, as a
/// server does for a wrong password.
pub fn start_deaf_to_admn(id: u32) -> Fake {
    start_with(id, true)
}

fn start_with(id: u32, deaf_to_admn: bool) -> Fake {
    let sock = UdpSocket::bind("127.0.0.1:0").unwrap();
    sock.set_read_timeout(Some(Duration::from_millis(20)))
        .unwrap();
    let addr = sock.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let stop = Arc::new(AtomicBool::new(false));
    let (seen2, stop2) = (seen.clone(), stop.clone());
    let ids = Ids::parse(IDS.as_bytes()).unwrap();
    let handle = std::thread::spawn(move || {
        let mut buf = vec![0u8; 2048];
        while !stop2.load(Ordering::Relaxed) {
            let Ok((n, from)) = sock.recv_from(&mut buf) else {
                continue;
            };
            let d = &buf[..n];
            seen2.lock().unwrap().push(d.to_vec());
            let Ok(req) = Packet::<Request>::decode(d) else {
                continue;
            };
            if deaf_to_admn && matches!(req.body, Request::Admn(_)) {
                continue;
            }
            let auth = authenticate(&ids, req.sender, d);
            let mut resp = Packet::response_to(&req, id, answer(&req));
            let bytes = resp.sign(&auth.answer_signer(req.pkt_vers, &req.op_nums));
            let _ = sock.send_to(&bytes, from);
        }
    });
    Fake {
        addr,
        seen,
        stop,
        handle: Some(handle),
    }
}

/// A fresh, empty home directory.
pub fn home(name: &str) -> PathBuf {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let n = N.fetch_add(1, Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("tally-cdcc-{}-{name}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Run the built cdcc with a home directory and arguments.
pub fn cdcc(home: &Path, args: &[&str]) -> Output {
    cdcc_stdin(home, args, "")
}

/// Run the built cdcc with text on its standard input.
pub fn cdcc_stdin(home: &Path, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_cdcc"))
        .arg("-h")
        .arg(home)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

pub fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}
