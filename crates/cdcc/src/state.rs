//! What `cdcc` remembers between commands: the home directory, which map
//! is in use (the map file or a temporary one-server map built with
//! `host`, `port`, `id` and `password`), the switches, and the client
//! talking to the servers.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tally_client::map::{file, ClassKind, Ipv6Mode, Map};
use tally_client::Client;
use tally_wire::header::{ID_ANON, SRVR_ID_MAX};
use tally_wire::ids::Ids;
use tally_wire::Passwd;

/// The default DCC home directory.
pub const DEFAULT_HOME: &str = "/var/dcc";
/// The map file name in the home directory.
pub const MAP_NAME: &str = "map";
/// Largest ids file read.
const MAX_IDS_FILE: u64 = 1 << 20;

/// Files holding passwords must not be readable or writable by the
/// group nor writable by others, as the reference requires.
pub fn check_private(path: &Path, meta: &std::fs::Metadata) -> Result<(), String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if meta.permissions().mode() & 0o063 != 0 {
            return Err(format!("{} is not private", path.display()));
        }
    }
    let _ = (path, meta);
    Ok(())
}

/// The C library's text of a failed system call, as the original prints
/// it: without Rust's "(os error N)".
pub use tally_client::error::os_text;

/// A home directory (`-h`, `homedir`) as the original's `dcc_cdhome`
/// takes it: one that can be entered, made absolute; else its complaint
/// `chdir(DIR): <error>`.
pub fn check_home(dir: &Path) -> Result<PathBuf, String> {
    let e = match std::fs::metadata(dir) {
        Ok(m) if m.is_dir() => {
            return Ok(std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf()))
        }
        // listing a file gets the system's "Not a directory"
        Ok(_) => std::fs::read_dir(dir)
            .err()
            .map_or_else(|| "Not a directory".to_string(), |e| os_text(&e)),
        Err(e) => os_text(&e),
    };
    Err(format!("chdir({}): {e}", dir.display()))
}

/// Which map the commands use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// A map built from `host`, `port`, `id` and `password`.
    Tmp,
    /// The map file.
    Info,
}

/// The state of one `cdcc` run.
pub struct State {
    pub homedir: PathBuf,
    /// `-c`: the ids file as given.
    pub ids_arg: Option<String>,
    /// The map file name (relative to the home directory unless absolute).
    pub map_name: String,
    pub which: Which,
    /// Server for the temporary map.
    pub host: String,
    pub port: u16,
    pub port_set: bool,
    /// ID set with `id`.
    pub id: u32,
    /// Password set with `password`.
    pub passwd: Option<Passwd>,
    /// ID and password chosen for the current command.
    pub cur_id: u32,
    pub cur_passwd: Option<Passwd>,
    pub anon_complained: bool,
    pub grey: bool,
    pub grey_set: bool,
    pub quiet: bool,
    pub debug: u32,
    pub ttl: u32,
    pub clock_kludge: i64,
    /// `-B`: server complaints on stdout too.
    pub dup_errors: bool,
    /// Switches of the temporary map.
    pub tmp_ipv6: Ipv6Mode,
    pub tmp_socks: bool,
    pub tmp_src: Option<String>,
    /// The client and the credentials it was built with.
    pub client: Option<(Arc<Client>, u32, Option<Vec<u8>>)>,
    pub rt: tokio::runtime::Runtime,
}

impl State {
    /// A fresh state with the defaults of the reference.
    pub fn new(rt: tokio::runtime::Runtime) -> State {
        State {
            homedir: PathBuf::from(DEFAULT_HOME),
            ids_arg: None,
            map_name: MAP_NAME.to_string(),
            which: Which::Info,
            host: "localhost".to_string(),
            port: tally_client::map::DCC_PORT,
            port_set: false,
            id: ID_ANON,
            passwd: None,
            cur_id: ID_ANON,
            cur_passwd: None,
            anon_complained: false,
            grey: false,
            grey_set: false,
            quiet: false,
            debug: 0,
            ttl: 0,
            clock_kludge: 0,
            dup_errors: false,
            tmp_ipv6: Ipv6Mode::On,
            tmp_socks: false,
            tmp_src: None,
            client: None,
            rt,
        }
    }

    /// The class commands talk to.
    pub fn kind(&self) -> ClassKind {
        if self.grey {
            ClassKind::Grey
        } else {
            ClassKind::Dcc
        }
    }

    /// A complaint on stderr.
    pub fn error(&self, msg: &str) {
        let _ = std::io::stdout().flush();
        eprintln!("{msg}");
    }

    /// A complaint about a server operation: also on stdout with `-B`.
    pub fn server_error(&self, msg: &str) {
        if self.dup_errors {
            println!("{msg}");
        }
        self.error(msg);
    }

    /// A path relative to the home directory.
    pub fn in_home(&self, p: &str) -> PathBuf {
        let p = Path::new(p);
        if p.is_absolute() {
            p.to_path_buf()
        } else {
            self.homedir.join(p)
        }
    }

    /// The map file's path.
    pub fn map_path(&self) -> PathBuf {
        if self.map_name == "-" {
            return self.homedir.join(MAP_NAME);
        }
        self.in_home(&self.map_name)
    }

    /// The ids file's path.
    pub fn ids_path(&self) -> PathBuf {
        self.in_home(self.ids_arg.as_deref().unwrap_or("ids"))
    }

    /// Switch maps; forgets the client so that the next server command
    /// starts afresh.
    pub fn set_which(&mut self, w: Which) {
        self.client = None;
        self.which = w;
        if w == Which::Info {
            self.passwd = None;
            self.tmp_src = None;
        }
    }

    /// Read the map file.
    pub fn load_map(&self) -> Result<Map, String> {
        file::load_private(&self.map_path()).map_err(|e| e.to_string())
    }

    /// Write the map file.
    pub fn save_map(&self, map: &Map) -> Result<(), String> {
        file::save(&self.map_path(), map).map_err(|e| e.to_string())
    }

    /// Make sure the map file can be used; on failure complain (if asked)
    /// and return false.
    pub fn init_map(&mut self, complain: bool) -> bool {
        match self.load_map() {
            Ok(_) => true,
            Err(e) => {
                if complain {
                    self.error(&e);
                }
                false
            }
        }
    }

    fn privileged_fail(&self, privileged: u8, op: &str, what: &str) {
        let srv = if privileged < 3 { "" } else { "server-" };
        self.error(&format!(
            "\"{op}\" is a privileged {what}.   Use the \"id {srv}ID\" command\n   and \"password secret\" command or `su` to read passwords from {}",
            self.ids_path().display()
        ));
    }

    /// Read the ids file, with the original's complaints (`fopen(PATH):
    /// ...`, `PATH contains no passwords`).
    fn read_ids(&self) -> Result<Ids, String> {
        let p = self.ids_path();
        let meta = std::fs::metadata(&p)
            .map_err(|e| format!("fopen({}): {}", p.display(), os_text(&e)))?;
        if meta.len() > MAX_IDS_FILE {
            return Err(format!("{}: too large", p.display()));
        }
        check_private(&p, &meta)?;
        let text =
            std::fs::read(&p).map_err(|e| format!("fopen({}): {}", p.display(), os_text(&e)))?;
        let ids = Ids::parse(&text).map_err(|e| format!("{}: {e}", p.display()))?;
        if !ids.has_passwords() {
            return Err(format!("{} contains no passwords", p.display()));
        }
        Ok(ids)
    }

    /// Choose the ID and password for a command that needs the given
    /// privilege (0 = none, 1 = anonymous is fine, 2 = a client-ID,
    /// 3 = the server's own ID), as the reference does: an explicit
    /// password, else the ids file.
    pub fn get_passwd(&mut self, privileged: u8, op: &str, what: &str) -> bool {
        self.cur_id = ID_ANON;
        self.cur_passwd = None;
        if privileged == 0 {
            return true;
        }
        if let Some(pw) = self.passwd.clone() {
            if self.id == ID_ANON {
                if privileged > 1 {
                    self.privileged_fail(privileged, op, what);
                    return false;
                }
                if !self.anon_complained {
                    self.error("ID not specified, so not using the password");
                    self.anon_complained = true;
                }
                return true;
            }
            if self.id > SRVR_ID_MAX && privileged > 2 {
                self.privileged_fail(privileged, op, what);
                return false;
            }
            self.cur_id = self.id;
            self.cur_passwd = Some(pw);
            self.anon_complained = false;
            return true;
        }
        if self.id == ID_ANON {
            if privileged <= 1 {
                return true;
            }
            self.privileged_fail(privileged, op, what);
            return false;
        }
        let pw = self.read_ids().and_then(|ids| {
            ids.passwd(self.id).cloned().ok_or_else(|| {
                format!(
                    "{} does not contain the password for ID {}",
                    self.ids_path().display(),
                    self.id
                )
            })
        });
        match pw {
            Err(e) => {
                if privileged < 2 {
                    if !self.anon_complained {
                        self.anon_complained = true;
                        self.error(&e);
                        self.error("using the anonymous client-ID");
                    }
                    return true;
                }
                self.error(&e);
                self.privileged_fail(privileged, op, what);
                false
            }
            Ok(pw) => {
                if self.id > SRVR_ID_MAX && privileged > 2 {
                    self.privileged_fail(privileged, op, what);
                    return false;
                }
                self.cur_id = self.id;
                self.cur_passwd = Some(pw);
                self.anon_complained = false;
                true
            }
        }
    }

    /// The map a server command uses.
    fn build_map(&mut self) -> Result<Map, String> {
        match self.which {
            Which::Info => self.load_map(),
            Which::Tmp => {
                let kind = self.kind();
                let mut m = Map::single(
                    kind,
                    &self.host,
                    self.port,
                    self.cur_id,
                    self.cur_passwd.clone(),
                );
                m.label = String::new();
                m.ipv6 = self.tmp_ipv6;
                m.socks = self.tmp_socks;
                m.src = self.tmp_src.clone();
                Ok(m)
            }
        }
    }

    /// Get ready to talk to a server: the client, built on the map in use.
    pub fn ready(&mut self) -> Result<Arc<Client>, String> {
        let pw_key = self.cur_passwd.as_ref().map(|p| p.as_bytes().to_vec());
        let stale = match &self.client {
            Some((_, id, pw)) => self.which == Which::Tmp && (*id != self.cur_id || *pw != pw_key),
            None => true,
        };
        if stale {
            let map = self.build_map()?;
            if !self.grey_set
                && !self.grey
                && map.dcc.names.is_empty()
                && !map.grey.names.is_empty()
            {
                self.grey = true;
            }
            self.client = Some((Arc::new(Client::new(map)), self.cur_id, pw_key));
        }
        match &self.client {
            Some((c, _, _)) => Ok(c.clone()),
            None => Err("no client".into()),
        }
    }

    /// Keep what was learned about the servers in the map file.
    pub fn save_state(&self) {
        if self.which != Which::Info {
            return;
        }
        if let Some((c, _, _)) = &self.client {
            let mut m = c.map();
            m.label = self.map_path().display().to_string();
            let _ = self.save_map(&m);
        }
    }
}
