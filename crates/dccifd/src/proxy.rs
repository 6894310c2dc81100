//! SMTP proxy mode (`-o`): dccifd between an SMTP client (normally
//! Postfix's `smtpd_proxy_filter`) and a downstream SMTP server.
//!
//! Commands are passed on and the downstream replies passed back, while
//! the envelope is noted: HELO/EHLO, the Postfix `XFORWARD` and `XCLIENT`
//! attributes (client address, name, HELO), `MAIL FROM` and the accepted
//! `RCPT TO`s (user names from `-D`). At `DATA` dccifd itself takes the
//! message, checks it with the shared engine and then either refuses it
//! (`550 5.7.1 mail %ID from %CIP rejected by DCC`, or the first `-r`),
//! drops it with `-a DISCARD`, or sends it on with the X-DCC header added
//! and passes the downstream's final reply back. With `-G`, a message
//! under a greylist embargo is deferred instead (`452 4.2.1 mail %ID from
//! %CIP temporary greylist embargoed`, or the second `-r`) and the
//! downstream transaction reset, as a rejection; see [`crate::replies`].
//!
//! `-o /dev/null` stands for a downstream that accepts everything. A
//! host of `@` (or empty) means the address the connection came from.
//! A client that greets with `LHLO` speaks LMTP through to an LMTP
//! server: after the message, one reply per recipient is passed back.
//!
//! A recipient whose whiteclnt setup is incompatible with the earlier
//! recipients' (`tally_white::compat`: different per-user files or
//! switches, or a lower threshold) is answered
//! `452 4.5.3 reject temporarily for incompatible whitelists` (for either
//! kind of conflict, as the original proxy) and not passed downstream, so
//! the message is delivered only to the accepted recipients and the
//! client tries the refused one again later.

use crate::check::{check_message, Servers};
use crate::config::Config;
use crate::proto::{Head, Rcpt, MAX_RCPTS};
use crate::smtpio::{read_line, read_line_unbounded, read_reply, DotStuff};
use std::io::{self, BufRead, BufReader, Read, Seek, Write};
use std::net::IpAddr;
use tally_white::compat::Transaction;

/// The answer to a recipient that cannot join the transaction.
const INCOMPAT_WLIST: &[u8] = b"452 4.5.3 reject temporarily for incompatible whitelists\r\n";
/// The answer to a recipient beyond the limit of one transaction.
const TOO_MANY_RCPTS: &[u8] = b"452 4.5.3 too many recipients\r\n";

/// Where the proxy sends mail.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Downstream {
    /// `/dev/null`: accept everything.
    Null,
    /// A unix domain socket.
    Unix(std::path::PathBuf),
    /// `host,port`; `None` host: the incoming connection's address.
    Tcp(Option<String>, u16),
}

/// Parse `-o`.
pub fn parse_downstream(arg: &str) -> Result<Downstream, String> {
    match arg.split_once(',') {
        None if arg == "/dev/null" => Ok(Downstream::Null),
        None => Ok(Downstream::Unix(arg.into())),
        Some((h, p)) => {
            let port = p
                .parse::<u16>()
                .ok()
                .filter(|&p| p != 0)
                .ok_or_else(|| format!("invalid IP address: \"{arg}\""))?;
            let host = (!h.is_empty() && h != "@").then(|| h.to_string());
            Ok(Downstream::Tcp(host, port))
        }
    }
}

/// The downstream connection.
struct Down {
    r: Box<dyn BufRead + Send>,
    w: Box<dyn Write + Send>,
}

fn connect(d: &Downstream, peer: Option<IpAddr>) -> io::Result<Option<Down>> {
    match d {
        Downstream::Null => Ok(None),
        Downstream::Unix(p) => {
            let s = std::os::unix::net::UnixStream::connect(p)?;
            let w = s.try_clone()?;
            Ok(Some(Down {
                r: Box::new(BufReader::new(s)),
                w: Box::new(io::BufWriter::new(w)),
            }))
        }
        Downstream::Tcp(h, port) => {
            let s = match (h, peer) {
                (Some(h), _) => std::net::TcpStream::connect((h.as_str(), *port))?,
                (None, Some(ip)) => std::net::TcpStream::connect((ip, *port))?,
                (None, None) => std::net::TcpStream::connect(("127.0.0.1", *port))?,
            };
            let w = s.try_clone()?;
            Ok(Some(Down {
                r: Box::new(BufReader::new(s)),
                w: Box::new(io::BufWriter::new(w)),
            }))
        }
    }
}

/// The envelope of the current SMTP transaction.
#[derive(Default)]
struct Envelope {
    /// The client greeted with LHLO: LMTP, one final reply per recipient.
    lmtp: bool,
    helo: String,
    addr: Option<IpAddr>,
    name: Option<String>,
    sender: Option<String>,
    rcpts: Vec<Rcpt>,
    /// The recipients as the joining rule sees them (refused ones left
    /// out, those the downstream refused kept but not compared).
    tx: Transaction,
}

impl Envelope {
    /// A new transaction starts: no recipients yet.
    fn clear_rcpts(&mut self) {
        self.rcpts.clear();
        self.tx = Transaction::new();
    }

    /// Ask the joining rule about the recipient of `RCPT TO` argument
    /// `rest`: `false` when it must be refused.
    fn admit(
        &mut self,
        cfg: &Config,
        peer: Option<IpAddr>,
        rest: &str,
        errors: &mut Vec<String>,
    ) -> bool {
        let client = self.addr.or(peer);
        crate::white::admit_rcpt(cfg, &mut self.tx, client, &path_arg(rest), errors)
    }
}

/// The value of `FROM:<...>` or `TO:<...>` (brackets kept).
fn path_arg(rest: &str) -> String {
    let r = rest.trim_start();
    let r = r.split_once(':').map_or(r, |(_, v)| v).trim_start();
    match r.find('>') {
        Some(e) if r.starts_with('<') => r.get(..=e).unwrap_or(r).to_string(),
        _ => r.split_whitespace().next().unwrap_or("").to_string(),
    }
}

/// Note `XFORWARD` / `XCLIENT` attributes.
fn attrs(env: &mut Envelope, rest: &str) {
    for kv in rest.split_whitespace() {
        let Some((k, v)) = kv.split_once('=') else {
            continue;
        };
        if v.starts_with('[') && v.ends_with(']') && v.contains("UNAVAIL") {
            continue;
        }
        match k.to_ascii_uppercase().as_str() {
            "ADDR" => {
                let v = v
                    .strip_prefix("IPv6:")
                    .or_else(|| v.strip_prefix("ipv6:"))
                    .unwrap_or(v);
                env.addr = v.parse().ok();
            }
            "NAME" => env.name = Some(v.to_string()),
            "HELO" => env.helo = v.to_string(),
            _ => {}
        }
    }
}

/// Carry one SMTP connection through the proxy. `peer` is the SMTP
/// client's address (TCP).
pub fn converse<R: Read, W: Write>(
    cfg: &Config,
    dest: &Downstream,
    peer: Option<IpAddr>,
    up_r: R,
    up_w: W,
    ask: &mut dyn Servers,
) -> Result<(Vec<String>, Vec<String>), String> {
    let mut up = BufReader::new(up_r);
    let mut out = io::BufWriter::new(up_w);
    let mut errors = Vec::new();
    let mut infos = Vec::new();
    let io_err = |e: io::Error| format!("SMTP proxy: {}", tally_engine::errno_str(&e));
    let mut down = match connect(dest, peer) {
        Ok(d) => d,
        Err(e) => {
            let _ = out.write_all(b"421 4.3.0 DCC proxy cannot reach its downstream server\r\n");
            let _ = out.flush();
            return Err(format!(
                "SMTP proxy: connect to downstream: {}",
                tally_engine::errno_str(&e)
            ));
        }
    };
    let mut env = Envelope::default();
    // the greeting
    match down.as_mut() {
        Some(d) => {
            let (g, _) = read_reply(&mut d.r).map_err(io_err)?;
            out.write_all(&g).map_err(io_err)?;
        }
        None => out
            .write_all(format!("220 {} ESMTP\r\n", cfg.hostname).as_bytes())
            .map_err(io_err)?,
    }
    out.flush().map_err(io_err)?;
    while let Some(line) = read_line(&mut up).map_err(io_err)? {
        let text = String::from_utf8_lossy(&line).trim_end().to_string();
        let (verb, rest) = text.split_once(' ').unwrap_or((text.as_str(), ""));
        let verb = verb.to_ascii_uppercase();
        let mut admitted = false;
        match verb.as_str() {
            "DATA" => {
                data(
                    cfg,
                    &mut env,
                    peer,
                    &mut up,
                    &mut out,
                    down.as_mut(),
                    ask,
                    &mut errors,
                    &mut infos,
                )?;
                env.sender = None;
                env.clear_rcpts();
                continue;
            }
            "EHLO" | "HELO" | "LHLO" => {
                env.lmtp = verb == "LHLO";
                env.helo = rest.trim().to_string();
                env.sender = None;
                env.clear_rcpts();
            }
            "XFORWARD" => attrs(&mut env, rest),
            "XCLIENT" => {
                attrs(&mut env, rest);
                env.sender = None;
                env.clear_rcpts();
            }
            "MAIL" => {
                env.sender = Some(path_arg(rest));
                env.clear_rcpts();
            }
            "RSET" => {
                env.sender = None;
                env.clear_rcpts();
            }
            "RCPT" if env.sender.is_some() && env.tx.len() >= MAX_RCPTS => {
                out.write_all(TOO_MANY_RCPTS).map_err(io_err)?;
                out.flush().map_err(io_err)?;
                continue;
            }
            "RCPT" if env.sender.is_some() => {
                if !env.admit(cfg, peer, rest, &mut errors) {
                    out.write_all(INCOMPAT_WLIST).map_err(io_err)?;
                    out.flush().map_err(io_err)?;
                    continue;
                }
                admitted = true;
            }
            _ => {}
        }
        let (reply, code) = relay(cfg, down.as_mut(), &line, &verb).map_err(io_err)?;
        if !(200..300).contains(&code) {
            if verb == "MAIL" {
                env.sender = None;
            }
            if admitted {
                env.tx.refused_downstream();
            }
        } else if verb == "RCPT" {
            env.rcpts.push(Rcpt {
                addr: path_arg(rest),
                user: String::new(),
            });
        }
        out.write_all(&reply).map_err(io_err)?;
        out.flush().map_err(io_err)?;
        if verb == "QUIT" {
            break;
        }
    }
    Ok((errors, infos))
}

/// Pass one command downstream and get its reply (made up for
/// `/dev/null`).
fn relay(
    cfg: &Config,
    down: Option<&mut Down>,
    line: &[u8],
    verb: &str,
) -> io::Result<(Vec<u8>, u16)> {
    let Some(d) = down else {
        let r = match verb {
            "EHLO" | "LHLO" => format!(
                "250-{}\r\n250-XFORWARD NAME ADDR HELO\r\n250 8BITMIME\r\n",
                cfg.hostname
            ),
            "HELO" => format!("250 {}\r\n", cfg.hostname),
            "QUIT" => "221 2.0.0 Bye\r\n".to_string(),
            _ => "250 2.0.0 Ok\r\n".to_string(),
        };
        let code = if verb == "QUIT" { 221 } else { 250 };
        return Ok((r.into_bytes(), code));
    };
    d.w.write_all(line)?;
    d.w.flush()?;
    read_reply(&mut d.r)
}

/// The DATA phase: take the message, decide, refuse or send it on.
#[allow(clippy::too_many_arguments)]
fn data<R: BufRead, W: Write>(
    cfg: &Config,
    env: &mut Envelope,
    peer: Option<IpAddr>,
    up: &mut R,
    out: &mut W,
    mut down: Option<&mut Down>,
    ask: &mut dyn Servers,
    errors: &mut Vec<String>,
    infos: &mut Vec<String>,
) -> Result<(), String> {
    let io_err = |e: io::Error| format!("SMTP proxy: {}", tally_engine::errno_str(&e));
    if env.sender.is_none() || env.rcpts.is_empty() {
        let r: &[u8] = if env.sender.is_none() {
            b"503 5.5.1 Error: need MAIL command\r\n"
        } else {
            b"503 5.5.1 Error: need RCPT command\r\n"
        };
        out.write_all(r).map_err(io_err)?;
        return out.flush().map_err(io_err);
    }
    out.write_all(b"354 End data with <CR><LF>.<CR><LF>\r\n")
        .map_err(io_err)?;
    out.flush().map_err(io_err)?;
    // the message without SMTP transparency, in a temporary file
    let (mut raw, _) = crate::check::spool_file(cfg).map_err(io_err)?;
    {
        let mut w = io::BufWriter::new(&mut raw);
        loop {
            let Some(line) = read_line_unbounded(up, &mut w).map_err(io_err)? else {
                return Err("SMTP proxy: message truncated".to_string());
            };
            if line {
                break;
            }
        }
        w.flush().map_err(io_err)?;
    }
    raw.rewind().map_err(io_err)?;
    let head = Head {
        client_ip: env.addr.or(peer),
        client_name: env.name.clone(),
        helo: env.helo.clone(),
        sender: env.sender.clone().unwrap_or_default(),
        rcpts: env.rcpts.clone(),
        ..Head::default()
    };
    let cip = head.client_ip.map(|i| i.to_string()).unwrap_or_default();
    let mut input = BufReader::new(raw);
    let mut c = check_message(cfg, head, &mut input, true, ask).map_err(|e| e.to_string())?;
    let id = c.log_id().unwrap_or_default();
    // LMTP wants one final reply per accepted recipient
    let n = if env.lmtp { env.rcpts.len() } else { 1 };
    let reply: Vec<u8> = if c.outcome.embargo {
        // deferred: the downstream transaction is given up, as after a
        // rejection, and the client told to try again later
        if let Some(d) = down.as_mut() {
            let _ = relay(cfg, Some(d), b"RSET\r\n", "RSET");
        }
        let r = crate::replies::line(&cfg.grey_reply, &id, &cip);
        c.smtp_reply = Some(r.trim_end().to_string());
        r.repeat(n).into_bytes()
    } else if let Some(r) = c.outcome.xfltr.as_ref().and_then(|x| x.reply.clone()) {
        // the -X filter refused or deferred the message for everyone
        if let Some(d) = down.as_mut() {
            let _ = relay(cfg, Some(d), b"RSET\r\n", "RSET");
        }
        c.smtp_reply = Some(r.clone());
        format!("{r}\r\n").repeat(n).into_bytes()
    } else if c.outcome.xfltr.as_ref().is_some_and(|x| x.discard) {
        // the -X filter discarded the message
        if let Some(d) = down.as_mut() {
            let _ = relay(cfg, Some(d), b"RSET\r\n", "RSET");
        }
        "250 2.0.0 Ok: discarded by the external filter\r\n"
            .repeat(n)
            .into_bytes()
    } else if c.outcome.tempfail {
        // -x and no DCC server answered: try again later
        if let Some(d) = down.as_mut() {
            let _ = relay(cfg, Some(d), b"RSET\r\n", "RSET");
        }
        let r = "451 4.4.0 DCC failure\r\n";
        c.smtp_reply = Some(r.trim_end().to_string());
        r.repeat(n).into_bytes()
    } else if c.outcome.overall_reject && !cfg.discard {
        if let Some(d) = down.as_mut() {
            let _ = relay(cfg, Some(d), b"RSET\r\n", "RSET");
        }
        // a DNS blacklist's text when its hit rejects the message
        let dnsbl = c.outcome.dnsbl.as_ref().and_then(|(o, on)| {
            let (code, xcode, text) = cfg.dnsbl.as_ref()?.rejection(o, *on, &id, &cip)?;
            Some(format!("{code} {xcode} {text}\r\n"))
        });
        let r = dnsbl.unwrap_or_else(|| crate::replies::line(&cfg.rej_reply, &id, &cip));
        c.smtp_reply = Some(r.trim_end().to_string());
        r.repeat(n).into_bytes()
    } else if c.outcome.overall_reject {
        if let Some(d) = down.as_mut() {
            let _ = relay(cfg, Some(d), b"RSET\r\n", "RSET");
        }
        "250 2.0.0 Ok: discarded by DCC\r\n".repeat(n).into_bytes()
    } else {
        match down.as_mut() {
            None => format!("250 2.0.0 Ok: queued as {id}\r\n")
                .repeat(n)
                .into_bytes(),
            Some(d) => {
                let (r, code) = relay(cfg, Some(d), b"DATA\r\n", "DATA").map_err(io_err)?;
                if code != 354 {
                    r
                } else {
                    let mut ds = DotStuff {
                        inner: &mut d.w,
                        bol: true,
                    };
                    c.copy_message(cfg, &mut ds).map_err(io_err)?;
                    if !ds.bol {
                        ds.inner.write_all(b"\r\n").map_err(io_err)?;
                    }
                    d.w.write_all(b".\r\n").map_err(io_err)?;
                    d.w.flush().map_err(io_err)?;
                    let mut all = Vec::new();
                    for _ in 0..n {
                        all.extend(read_reply(&mut d.r).map_err(io_err)?.0);
                    }
                    all
                }
            }
        }
    };
    out.write_all(&reply).map_err(io_err)?;
    out.flush().map_err(io_err)?;
    c.write_logs(cfg).map_err(|e| e.to_string())?;
    errors.append(&mut c.errors);
    errors.extend(c.grey_wanted.take());
    infos.append(&mut c.infos);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args() {
        assert_eq!(path_arg("FROM:<a@b.example> SIZE=10"), "<a@b.example>");
        assert_eq!(path_arg("TO: <c@d>"), "<c@d>");
        let mut e = Envelope::default();
        attrs(&mut e, "NAME=mx.example ADDR=192.0.2.9 HELO=[UNAVAILABLE]");
        assert_eq!(e.addr, Some("192.0.2.9".parse().unwrap()));
        assert_eq!(e.helo, "");
        assert_eq!(parse_downstream("/dev/null").unwrap(), Downstream::Null);
        assert_eq!(
            parse_downstream("@,10026").unwrap(),
            Downstream::Tcp(None, 10026)
        );
        assert!(parse_downstream("h,0").is_err());
    }
}
