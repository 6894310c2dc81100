//! The project's dccd as a greylist server (`dccd -G on`) on a loopback
//! port for `dccifd-bench -G`: its own home (ids file and greylist
//! database) in a temporary directory and its rate limits lifted, so that
//! the figures are dccifd's.

use std::net::UdpSocket;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use tally_wire::sign::{Passwd, Signer};
use tally_wire::{OpNums, Packet, Request};

/// The client-ID dccifd uses with the greylist server and its password.
const CLIENT_ID: u32 = 32800;
const CLIENT_PW: &str = "benchclientpw";
/// The greylist server's own ID.
const SERVER_ID: u32 = 1102;

/// A running greylist dccd, stopped and its directory removed when
/// dropped.
pub struct GreyDccd {
    child: Child,
    port: u16,
    home: PathBuf,
}

impl GreyDccd {
    /// Start the `dccd` program `exe` as a greylist server with its home
    /// in `home` (created) and wait until it answers a NOP signed as the
    /// client (greylist servers ignore anonymous requests).
    pub fn start(exe: &Path, home: &Path) -> Result<GreyDccd, String> {
        std::fs::create_dir_all(home).map_err(|e| format!("{}: {e}", home.display()))?;
        let ids = home.join("ids");
        std::fs::write(
            &ids,
            format!("{CLIENT_ID} {CLIENT_PW}\n{SERVER_ID} benchgreypw\n"),
        )
        .map_err(|e| e.to_string())?;
        std::fs::set_permissions(&ids, std::fs::Permissions::from_mode(0o600))
            .map_err(|e| e.to_string())?;
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .map_err(|e| e.to_string())?
            .port();
        let child = Command::new(exe)
            .args(["-b", "-i", &SERVER_ID.to_string(), "-n", "benchgrey"])
            .args(["-G", "on", "-R", "10000000,10000000,10000000"])
            .arg("-h")
            .arg(home)
            .args(["-a", &format!("127.0.0.1,{port}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("{}: {e}", exe.display()))?;
        let d = GreyDccd {
            child,
            port,
            home: home.to_path_buf(),
        };
        let sock = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        sock.set_read_timeout(Some(Duration::from_millis(100)))
            .map_err(|e| e.to_string())?;
        let pw = Passwd::new(CLIENT_PW.as_bytes()).ok_or("bad password")?;
        let mut nop = Packet::request(
            12,
            CLIENT_ID,
            OpNums::from_le_words(1, 1, 1, 1),
            Request::Nop,
        );
        let bytes = nop.sign(&Signer::Passwd(pw));
        let mut buf = [0u8; 2048];
        for _ in 0..100 {
            let _ = sock.send_to(&bytes, ("127.0.0.1", port));
            if sock.recv_from(&mut buf).is_ok() {
                return Ok(d);
            }
        }
        Err("the greylist dccd did not answer".into())
    }

    /// The line of a map file naming this greylist server.
    pub fn map_line(&self) -> String {
        format!("127.0.0.1,{} Greylist {CLIENT_ID} {CLIENT_PW}\n", self.port)
    }

    /// The server's process-ID.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for GreyDccd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.home);
    }
}
