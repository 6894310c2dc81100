//! The project's dccd as a greylist server (`dccd -G on`) on a loopback
//! port for `dccifd-bench -G`: its own home (ids file and greylist
//! database) in a temporary directory and its rate limits lifted, so that
//! the figures are dccifd's.

use crate::local_dccd::bench_dccd::{BenchDccd, Start};
use std::path::Path;

/// The client-ID dccifd uses with the greylist server and its password.
const CLIENT_ID: u32 = 32800;
const CLIENT_PW: &str = "benchclientpw";
/// The greylist server's own ID.
const SERVER_ID: u32 = 1102;

/// A running greylist dccd, stopped and its directory removed when
/// dropped.
pub struct GreyDccd(BenchDccd);

impl GreyDccd {
    /// Start the `dccd` program `exe` as a greylist server with its home
    /// in `home` (created) and wait until it answers a NOP signed as the
    /// client (greylist servers ignore anonymous requests).
    pub fn start(exe: &Path, home: &Path) -> Result<GreyDccd, String> {
        let ids = format!("{CLIENT_ID} {CLIENT_PW}\n{SERVER_ID} benchgreypw\n");
        let id = SERVER_ID.to_string();
        BenchDccd::start(&Start {
            exe,
            home,
            ids: &ids,
            args: &[
                "-b",
                "-i",
                &id,
                "-n",
                "benchgrey",
                "-G",
                "on",
                "-R",
                "10000000,10000000,10000000",
            ],
            nop_as: Some((CLIENT_ID, CLIENT_PW.as_bytes())),
            pin_cpu0: false,
            what: "the greylist dccd",
        })
        .map(GreyDccd)
    }

    /// The line of a map file naming this greylist server.
    pub fn map_line(&self) -> String {
        format!(
            "127.0.0.1,{} Greylist {CLIENT_ID} {CLIENT_PW}\n",
            self.0.port()
        )
    }

    /// The server's process-ID.
    pub fn pid(&self) -> u32 {
        self.0.pid()
    }
}
