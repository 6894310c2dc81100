//! The command line of `dcc-web`, in the style of the other programs:
//!
//! `dcc-web [-RST] [-h homedir] [-U userdirs] [-P htpasswd] [-p [addr,]port] [-i minutes]`
//!
//! - `-h homedir`: the DCC home directory (default `/var/dcc`); relative
//!   names below are relative to it.
//! - `-U userdirs`: the per-user directories of dccm and dccifd `-U`
//!   (default `userdirs`).
//! - `-P htpasswd`: the password file (default `userdirs/webusers`, where
//!   the original's scripts had Apache look).
//! - `-p [addr,]port`: where to listen (default `127.0.0.1,8025`: loopback
//!   only, behind the site's HTTPS reverse proxy). Port 0 picks a free
//!   port; the address used is printed on standard output.
//! - `-R`: no password page: users cannot change their passwords (the
//!   htpasswd file is then only read).
//! - `-S`: plain HTTP testing: session cookies without `Secure`.
//! - `-T`: trust the last `X-Forwarded-For` address of the reverse proxy
//!   as the client's address (for the per-address sign-in limit).
//! - `-i minutes`: a session ends after this long without a request
//!   (default 30).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use tally_getopt::{getopt, Item, Style};

/// The settings of a running `dcc-web`.
#[derive(Debug, Clone)]
pub struct Opts {
    pub home: PathBuf,
    pub userdirs: PathBuf,
    pub htpasswd: PathBuf,
    pub listen: SocketAddr,
    pub secure_cookies: bool,
    pub trust_forwarded: bool,
    pub idle_minutes: u64,
    /// Users may change their passwords (no `-R`).
    pub password_change: bool,
}

/// The usage line.
pub const USAGE: &str =
    "usage: dcc-web [-RST] [-h homedir] [-U userdirs] [-P htpasswd] [-p [addr,]port] [-i minutes]";

fn rel(home: &Path, p: &str) -> PathBuf {
    let p = Path::new(p);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        home.join(p)
    }
}

fn listen(arg: &str) -> Result<SocketAddr, String> {
    let (addr, port) = match arg.rsplit_once(',') {
        Some((a, p)) => (a, p),
        None => ("", arg),
    };
    let port: u16 = port
        .parse()
        .map_err(|_| format!("-p {arg}: bad port {port:?}"))?;
    let ip = if addr.is_empty() {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        addr.parse()
            .map_err(|_| format!("-p {arg}: bad address {addr:?}"))?
    };
    Ok(SocketAddr::new(ip, port))
}

/// Parse the arguments (without the program name).
pub fn parse(args: &[String]) -> Result<Opts, String> {
    let scan = getopt(args, "RSTh:U:P:p:i:", Style::Posix);
    let mut home = PathBuf::from("/var/dcc");
    let mut userdirs = None;
    let mut htpasswd = None;
    let mut o = Opts {
        home: PathBuf::new(),
        userdirs: PathBuf::new(),
        htpasswd: PathBuf::new(),
        listen: SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), 8025),
        secure_cookies: true,
        trust_forwarded: false,
        idle_minutes: 30,
        password_change: true,
    };
    for it in &scan.items {
        match it {
            Item::Opt('R', _) => o.password_change = false,
            Item::Opt('S', _) => o.secure_cookies = false,
            Item::Opt('T', _) => o.trust_forwarded = true,
            Item::Opt('h', Some(v)) => home = PathBuf::from(v),
            Item::Opt('U', Some(v)) => userdirs = Some(v.clone()),
            Item::Opt('P', Some(v)) => htpasswd = Some(v.clone()),
            Item::Opt('p', Some(v)) => o.listen = listen(v)?,
            Item::Opt('i', Some(v)) => {
                o.idle_minutes = v
                    .parse()
                    .ok()
                    .filter(|m| (1..=24 * 60).contains(m))
                    .ok_or_else(|| format!("-i {v}: not minutes from 1 to 1440"))?;
            }
            Item::Unknown(c) => return Err(format!("unknown option -{c}\n{USAGE}")),
            Item::MissingArg(c) => return Err(format!("option -{c} needs an argument\n{USAGE}")),
            Item::Opt(c, _) => return Err(format!("option -{c} not handled\n{USAGE}")),
        }
    }
    if let Some(w) = scan.operands.first() {
        return Err(format!("unexpected argument {w:?}\n{USAGE}"));
    }
    o.userdirs = rel(&home, userdirs.as_deref().unwrap_or("userdirs"));
    o.htpasswd = match htpasswd {
        Some(p) => rel(&home, &p),
        None => o.userdirs.join("webusers"),
    };
    o.home = home;
    Ok(o)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    #[test]
    fn options() {
        let o = parse(&a("-h /h -p 0")).unwrap();
        assert_eq!(o.userdirs, PathBuf::from("/h/userdirs"));
        assert_eq!(o.htpasswd, PathBuf::from("/h/userdirs/webusers"));
        assert_eq!(o.listen.to_string(), "127.0.0.1:0");
        assert!(o.secure_cookies && o.password_change);
        assert!(!parse(&a("-R")).unwrap().password_change);
        let o = parse(&a("-S -h /h -U u -P /etc/pw -p ::1,8080 -i 5")).unwrap();
        assert_eq!(o.userdirs, PathBuf::from("/h/u"));
        assert_eq!(o.htpasswd, PathBuf::from("/etc/pw"));
        assert_eq!(o.listen.to_string(), "[::1]:8080");
        assert!(!o.secure_cookies);
        assert!(parse(&a("-p x")).is_err());
        assert!(parse(&a("-q")).is_err());
        assert!(parse(&a("-i 0")).is_err());
        assert!(parse(&a("extra")).is_err());
    }
}
