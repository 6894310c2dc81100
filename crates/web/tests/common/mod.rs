//! Shared by the tests: a DCC home with users, log files and an htpasswd
//! file, and a running `dcc-web`.
#![allow(dead_code)]

pub mod mail;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, SystemTime};
use tally_web::client::{enc, Client};

/// The password of every test user.
pub const PASSWORD: &str = "correct horse";

/// A fresh home directory `dcc-web-<tag>-<pid>` under the temporary directory.
pub fn home(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("dcc-web-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("userdirs")).unwrap();
    d
}

/// Make `userdirs/local/<name>` with a whiteclnt file and a log directory.
pub fn add_user(home: &Path, name: &str, whiteclnt: &str) -> PathBuf {
    let d = home.join("userdirs/local").join(name);
    std::fs::create_dir_all(d.join("log")).unwrap();
    std::fs::write(d.join("whiteclnt"), whiteclnt).unwrap();
    d
}

/// Write the htpasswd file with bcrypt hashes of [`PASSWORD`] for `users`
/// and any `extra` lines.
pub fn htpasswd(home: &Path, users: &[&str], extra: &str) {
    let mut t = String::from("# test users\n");
    for u in users {
        t.push_str(&format!(
            "{u}:{}\n",
            bcrypt::hash(PASSWORD, 4)
                .unwrap()
                .replacen("$2b$", "$2y$", 1)
        ));
    }
    t.push_str(extra);
    std::fs::write(home.join("userdirs/webusers"), t).unwrap();
}

/// A log file as dccm writes it.
pub fn log_text(date: &str, from: &str, subject: &str, body: &str, result: &str) -> String {
    let host = from.rsplit('@').next().unwrap_or("");
    format!(
        "VERSION: 3\nDATE: {date}\nIP: mail.example.com ::ffff:203.0.113.80\nHELO: mail.example.com\n\
env_From: <{from}>  mail_host={host}\nenv_To: <bob@example.net>  addr=bob  dir=userdirs/local/bob\n\n\
From: Sender <{from}>\nTo: bob@example.net\nSubject: {subject}\nMessage-ID: <1@example.com>\n\n{body}\n\
\n### end of message body ########################\nDCC-->spam  dccm  per-user-log\n\n\
X-DCC-test-Metrics: vm 1200; bulk Body=many\n\
                            reported: 1               checksum  server thold\n\
                       IP: 9851468b 5f521b33 8306d82a 30592607\n\
     substitute mail_host: 38ed1912 6579adab f1ccb212 3de2d732\n\
                     Body: 5c525331 d559d9bb c626b5ed cf330c15    many     3\n\n\
result: {result}\n"
    )
}

/// Write log file `name` in `dir/log` with modification time `secs`.
pub fn add_log(dir: &Path, name: &str, secs: u64, text: &str) {
    let f = dir.join("log").join(name);
    std::fs::write(&f, text).unwrap();
    let t = SystemTime::UNIX_EPOCH + Duration::from_secs(secs);
    std::fs::File::options()
        .write(true)
        .open(&f)
        .unwrap()
        .set_modified(t)
        .unwrap();
}

/// A running dcc-web; when dropped after a passing test its home
/// directory is removed too (kept after a failure, to look at).
pub struct Web {
    pub child: Child,
    pub addr: SocketAddr,
    pub home: PathBuf,
}

impl Drop for Web {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.home);
        }
    }
}

/// Start dcc-web on a free loopback port with `-h home` and `extra`.
pub fn start(home: &Path, extra: &[&str]) -> Web {
    let mut child = Command::new(env!("CARGO_BIN_EXE_dcc-web"))
        .args(["-h", &home.display().to_string(), "-p", "0"])
        .args(extra)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(std::fs::File::create(home.join("web-stderr.txt")).unwrap())
        .spawn()
        .expect("start dcc-web");
    let out = child.stdout.take().unwrap();
    let mut line = String::new();
    BufReader::new(out).read_line(&mut line).unwrap();
    let addr = line
        .trim()
        .strip_prefix("dcc-web listening on ")
        .unwrap_or_else(|| panic!("dcc-web said {line:?}"))
        .parse()
        .unwrap();
    Web {
        child,
        addr,
        home: home.to_path_buf(),
    }
}

/// Sign in as `user`; the answer to the POST.
pub fn sign_in(c: &mut Client, user: &str, password: &str) -> tally_web::client::Answer {
    let p = c.get("/signin").unwrap();
    let csrf = p.csrf().unwrap();
    c.post(
        "/signin",
        &format!(
            "csrf={}&user={}&password={}",
            enc(&csrf),
            enc(user),
            enc(password)
        ),
    )
    .unwrap()
}

/// A signed-in client and its CSRF token.
pub fn signed_in(addr: SocketAddr, user: &str) -> (Client, String) {
    let mut c = Client::new(addr);
    let a = sign_in(&mut c, user, PASSWORD);
    assert_eq!(a.status, 303, "sign-in of {user}: {}", a.body);
    let p = c.get("/log").unwrap();
    assert_eq!(p.status, 200);
    let csrf = p.csrf().unwrap();
    (c, csrf)
}
