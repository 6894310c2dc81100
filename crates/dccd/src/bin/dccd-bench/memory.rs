//! The memory part of the bench: the server's RSS per million stored
//! checksums; with `--original`, the original's too, and what each
//! server's files take (see `original.rs`).

use std::net::UdpSocket;
use std::path::Path;
use std::time::{Duration, Instant};

use tally_ck::CkType;
use tally_wire::packet::{CkRequest, Packet, Request};
use tally_wire::sign::{Passwd, Signer};
use tally_wire::{OpNums, Tgts, WireCk};

use crate::original::{files_line, start};
use crate::{sum_of, Server, ID, PW};

pub fn rss_kib(pid: u32) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// Send reports `from..to` of three new kept checksums each (Body, Fuz1,
/// Fuz2).
pub fn memory(s: &Server, from: u32, to: u32) {
    let pw = Passwd::new(PW).unwrap_or_else(|| unreachable!());
    let reports = to;
    let threads = 8u32;
    let mut hs = Vec::new();
    for t in 0..threads {
        let pw = pw.clone();
        let addr = s.addr();
        hs.push(std::thread::spawn(move || {
            let signer = Signer::Passwd(pw);
            let Ok(sock) = UdpSocket::bind("127.0.0.1:0") else {
                return;
            };
            let _ = sock.set_read_timeout(Some(Duration::from_millis(500)));
            let mut buf = [0u8; 2048];
            let mut i = from + t;
            while i < reports {
                let r = CkRequest {
                    tgts: Tgts(1),
                    cks: vec![
                        WireCk::new(CkType::Body, sum_of(i, 0x4d45_4d00, 7)),
                        WireCk::new(CkType::Fuz1, sum_of(i, 0x4d45_4d00, 8)),
                        WireCk::new(CkType::Fuz2, sum_of(i, 0x4d45_4d00, 9)),
                    ],
                };
                let mut p = Packet::request(
                    12,
                    ID,
                    OpNums::from_le_words(t, 99, i, 1),
                    Request::Report(r),
                );
                let bytes = p.sign(&signer);
                if sock.send_to(&bytes, addr).is_ok() && sock.recv_from(&mut buf).is_ok() {
                    i += threads;
                }
            }
        }));
    }
    for h in hs {
        let _ = h.join();
    }
}

/// One report, so that the server expires its retransmission cache.
pub fn memory_touch(s: &Server) {
    let Some(pw) = Passwd::new(PW) else { return };
    let Ok(sock) = UdpSocket::bind("127.0.0.1:0") else {
        return;
    };
    let _ = sock.set_read_timeout(Some(Duration::from_millis(500)));
    let r = CkRequest {
        tgts: Tgts(1),
        cks: vec![WireCk::new(CkType::Body, sum_of(1, 2, 3))],
    };
    let mut p = Packet::request(
        12,
        ID,
        OpNums::from_le_words(5, 5, 5, 1),
        Request::Report(r),
    );
    let bytes = p.sign(&Signer::Passwd(pw));
    let mut buf = [0u8; 2048];
    let _ = sock.send_to(&bytes, s.addr());
    let _ = sock.recv_from(&mut buf);
}

/// One server being filled: its tag, the server, its RSS before the
/// fill and the time spent filling it.
struct Filled {
    tag: &'static str,
    server: Server,
    before: u64,
    took: Duration,
}

/// Memory on fresh servers as the database grows: at 1, 2, 5, 10 ...
/// million checksums up to `million` (the 32-second retransmission cache
/// then holds the latest reports, up to its million entries), and, for a
/// fill of a million or more, at the end once the cache has expired.
/// With `original`, the original's `dccd` is filled alike after tally's
/// at each step and both lines also give what the servers' files take.
/// `Err` when a server does not start (those started are stopped).
pub fn report(tally: &Path, original: Option<&Path>, million: f64) -> Result<(), String> {
    let mut servers = vec![("tally", tally)];
    servers.extend(original.map(|p| ("original", p)));
    let compare = servers.len() > 1;
    let mut filled: Vec<Filled> = servers
        .into_iter()
        .map(|(tag, exe)| {
            let server = start(exe, tag, false)?;
            let before = rss_kib(server.pid());
            Ok(Filled {
                tag,
                server,
                before,
                took: Duration::ZERO,
            })
        })
        .collect::<Result<_, String>>()?;
    let line = |f: &Filled, what: &str, cks: u32| {
        let kib = rss_kib(f.server.pid());
        let grown = kib.saturating_sub(f.before) as f64 * 1024.0;
        let reports = f64::from(cks / 3 + 1);
        let label = if compare {
            format!("{:9}", f.tag)
        } else {
            String::new()
        };
        let files = if compare {
            format!(
                "; {}",
                files_line(f.tag, f.tag == "original", f64::from(cks), reports)
            )
        } else {
            String::new()
        };
        println!(
            "{label}memory: {:5.2}M checksums ({:.2}M reports) {what}: RSS {:7.1} MiB, grown {:7.1} MiB \
             = {:5.1} bytes per checksum = {:5.1} bytes per report{files}",
            f64::from(cks) / 1e6,
            reports / 1e6,
            kib as f64 / 1024.0,
            grown / 1048576.0,
            grown / f64::from(cks.max(1)),
            grown / reports,
        );
    };
    let total = (million * 1e6).round() as u32;
    let mut loaded = 0u32;
    for point in [1u32, 2, 5, 10, 20, 50, 100]
        .into_iter()
        .map(|p| p * 1_000_000)
        .filter(|&p| p < total)
        .chain([total])
    {
        let to = point / 3 + 1;
        for f in filled.iter_mut() {
            let t = Instant::now();
            memory(&f.server, loaded, to);
            f.took += t.elapsed();
            line(f, &format!("after {:5.1} s", f.took.as_secs_f64()), point);
        }
        loaded = to;
    }
    if million < 1.0 {
        return Ok(());
    }
    std::thread::sleep(Duration::from_secs(33));
    for f in &filled {
        memory_touch(&f.server);
        line(f, "cache expired", total);
    }
    Ok(())
}
