//! The project's dccd started on a loopback port for the front-end
//! benchmarks (dccm-bench, dccifd-bench): its own home directory (ids
//! file and store) in a temporary directory, the per-client rate limits
//! lifted so that the figures are those of the front end, and one
//! client-ID with a password for the map file of the front end.
//!
//! Also the CPU time of a process from `/proc`, so that each bench can
//! say what each program spent per message.

#[path = "../../../../testkit/src/bench_dccd.rs"]
#[allow(dead_code)]
pub mod bench_dccd;

pub use bench_dccd::cpu_ms;
use bench_dccd::{BenchDccd, Start};
use std::path::Path;

/// The client-ID the front end uses and its password.
const CLIENT_ID: u32 = 32800;
const CLIENT_PW: &str = "benchclientpw";
/// The server's own ID (needed by dccd, which signs with its password),
/// and that of the greylist server.
const SERVER_ID: u32 = 1100;
const GREY_SERVER_ID: u32 = 1102;

/// A running dccd, stopped and its directory removed when dropped.
pub struct LocalDccd {
    d: BenchDccd,
    grey: bool,
}

impl LocalDccd {
    /// Start the `dccd` program `exe` with its home in `home` (created)
    /// and wait until it answers a NOP.
    pub fn start(exe: &Path, home: &Path) -> Result<LocalDccd, String> {
        LocalDccd::start_as(exe, home, false)
    }

    /// Start the `dccd` program `exe` as a greylist server (`-G on`) with
    /// its home in `home` (created) and wait until it answers a NOP signed
    /// as the client (greylist servers ignore anonymous requests).
    pub fn start_grey(exe: &Path, home: &Path) -> Result<LocalDccd, String> {
        LocalDccd::start_as(exe, home, true)
    }

    fn start_as(exe: &Path, home: &Path, grey: bool) -> Result<LocalDccd, String> {
        let (server_id, name, server_pw) = if grey {
            (GREY_SERVER_ID, "benchgrey", "benchgreypw")
        } else {
            (SERVER_ID, "bench", "benchserverpw")
        };
        let ids = format!("{CLIENT_ID} {CLIENT_PW}\n{server_id} {server_pw}\n");
        let id = server_id.to_string();
        let mut args = vec!["-b", "-i", &id, "-n", name];
        if grey {
            args.extend(["-G", "on"]);
        }
        args.extend(["-R", "10000000,10000000,10000000"]);
        let d = BenchDccd::start(&Start {
            exe,
            home,
            ids: &ids,
            args: &args,
            nop_as: grey.then_some((CLIENT_ID, CLIENT_PW.as_bytes())),
            pin_cpu0: false,
            what: if grey { "the greylist dccd" } else { "dccd" },
        })?;
        Ok(LocalDccd { d, grey })
    }

    /// The line of a map file naming this server with the client-ID.
    pub fn map_line(&self) -> String {
        let kind = if self.grey { "Greylist " } else { "" };
        format!(
            "127.0.0.1,{} {kind}{CLIENT_ID} {CLIENT_PW}\n",
            self.d.port()
        )
    }

    /// The server's process-ID.
    pub fn pid(&self) -> u32 {
        self.d.pid()
    }
}

/// Context switches (voluntary and forced) of all threads of a process
/// so far; threads that ended are not counted.
pub fn switches(pid: u32) -> u64 {
    let Ok(rd) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    rd.flatten()
        .filter_map(|t| std::fs::read_to_string(t.path().join("status")).ok())
        .flat_map(|s| {
            s.lines()
                .filter(|l| l.contains("ctxt_switches:"))
                .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
                .collect::<Vec<_>>()
        })
        .sum()
}

/// The DCC server of a bench run and the map line that names it: the
/// project's dccd `exe` (home in `home`), or without one the counting
/// server of the tests. Keep the pair alive for the run.
pub fn start_server(
    exe: Option<&Path>,
    home: &Path,
) -> (
    (Option<crate::fake_dccd::FakeDccd>, Option<LocalDccd>),
    String,
) {
    match exe {
        None => {
            let srv = crate::fake_dccd::FakeDccd::start(1200, "bench");
            let map = crate::fake_dccd::map_text(srv.addr);
            ((Some(srv), None), map)
        }
        Some(exe) => {
            let d = LocalDccd::start(exe, home).unwrap_or_else(|e| panic!("{e}"));
            let map = d.map_line();
            ((None, Some(d)), map)
        }
    }
}

/// A loopback TCP port free at the moment.
pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// What the processes of a bench run have used so far: CPU milliseconds
/// of this program, of the front end (`daemon`) and of the DCC server,
/// and the front end's thread switches.
pub struct Usage {
    bench: u64,
    daemon: u64,
    server: u64,
    switches: u64,
}

impl Usage {
    /// The counts now.
    pub fn now(daemon: u32, server: Option<u32>) -> Usage {
        Usage {
            bench: cpu_ms(std::process::id()),
            daemon: cpu_ms(daemon),
            server: server.map_or(0, cpu_ms),
            switches: switches(daemon),
        }
    }

    /// Per message since `self`, for `n` messages: CPU ms of the bench,
    /// the front end and the server, and the front end's switches.
    pub fn per_message(&self, daemon: u32, server: Option<u32>, n: usize) -> [f64; 4] {
        let now = Usage::now(daemon, server);
        let n = n.max(1) as f64;
        let per = |a: u64, b: u64| a.saturating_sub(b) as f64 / n;
        [
            per(now.bench, self.bench),
            per(now.daemon, self.daemon),
            per(now.server, self.server),
            per(now.switches, self.switches),
        ]
    }
}
