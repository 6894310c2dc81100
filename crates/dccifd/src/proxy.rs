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
use crate::smtpio::{read_line, read_line_unbounded, read_reply, DataState, DotStuff};
use std::io::{self, BufRead, BufReader, Read, Seek, Write};
use std::net::IpAddr;
use tally_white::compat::Transaction;

/// The answer to a recipient that cannot join the transaction.
const INCOMPAT_WLIST: &[u8] = b"452 4.5.3 reject temporarily for incompatible whitelists\r\n";
/// The answer to a recipient beyond the limit of one transaction.
const TOO_MANY_RCPTS: &[u8] = b"452 4.5.3 reject temporarily for too many recipients\r\n";

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
        // the size of sun_path, as the original checks it
        None if arg.len() >= 108 => Err(format!("invalid UNIX domain socket: -o {arg}")),
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
            s.set_read_timeout(Some(crate::daemon::IDLE))?;
            s.set_write_timeout(Some(crate::daemon::IDLE))?;
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
            // a silent downstream is given up as a silent client is
            s.set_read_timeout(Some(crate::daemon::IDLE))?;
            s.set_write_timeout(Some(crate::daemon::IDLE))?;
            let w = s.try_clone()?;
            Ok(Some(Down {
                r: Box::new(BufReader::new(s)),
                w: Box::new(io::BufWriter::new(w)),
            }))
        }
    }
}

/// Where the SMTP dialogue stands, as the original proxy tracks it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    /// Nothing yet, or a transaction ended: HELO or MAIL expected.
    #[default]
    Start,
    /// HELO, EHLO, XFORWARD or XCLIENT seen: MAIL expected.
    Helo,
    /// MAIL accepted: RCPT expected.
    Trans,
    /// A recipient accepted: more RCPTs or DATA.
    Rcpt,
    /// A command out of sequence: nothing until RSET or HELO.
    Error,
}

/// The proxy's own replies: those it gives instead of the downstream's
/// (`-o /dev/null`) and those for commands it refuses itself.
mod reply {
    pub const GREETING: &str = "220 dccifd proxy ready";
    pub const QUIT: &str = "221 dccifd closing connection";
    pub const DATA_OK: &str = "250 dccifd mail ok";
    pub const RSET: &str = "250 dccifd RSET ok";
    pub const HELO: &str = "250 dccifd HELO ok";
    pub const POSTFIX: &str = "250 dccifd Postfix extension ok";
    pub const RCPT: &str = "250 dccifd Recipient ok";
    pub const MAIL: &str = "250 dccifd Sender ok";
    pub const GO_AHEAD: &str = "354 Enter mail to dccifd";
    pub const UNRECOGNIZED: &str = "500 5.0.0 dccifd command unrecognized";
    pub const NO_ARG: &str = "501 5.5.4 dccifd command arg required";
    pub const BAD_ARG: &str = "501 5.5.1 dccifd command unrecognized";
    pub const RCPT_SYNTAX: &str = "501 5.5.2 dccifd RCPT command syntax error";
    pub const POSTFIX_SYNTAX: &str = "501 5.5.2 dccifd Postfix extension syntax error";
    pub const SEQUENCE: &str = "503 5.0.0 bad dccifd command sequence";
    /// `dcc_fail_reply`: "temporary reject" is only its log result
    pub const TEMP_FAIL: &str = "451 4.4.0 DCC failure";
}

/// The commands the proxy follows; anything else is passed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verb {
    Helo,
    Ehlo,
    Lhlo,
    Mail,
    Rcpt,
    Data,
    Xforward,
    Xclient,
    Rset,
    Quit,
}

/// What a command line is: a known verb with its parameter (the word
/// after `FROM:`/`TO:` or after the verb; for XFORWARD and XCLIENT the
/// rest of the line), a reply refusing its syntax, or unknown.
#[derive(Debug, PartialEq, Eq)]
enum Cmd<'a> {
    Known(Verb, &'a str),
    Refused(&'static str),
    Unknown,
}

/// Read a command line (without its line end) as the original proxy
/// does: the verb in any case, alone or followed by blanks; a required
/// parameter missing gets 501 5.5.4, a MAIL or RCPT without `FROM:` or
/// `TO:` 501 5.5.1.
fn parse_cmd(line: &str) -> Cmd<'_> {
    const TABLE: [(&str, &str, Verb, bool); 10] = [
        ("HELO", "", Verb::Helo, true),
        ("EHLO", "", Verb::Ehlo, true),
        ("LHLO", "", Verb::Lhlo, true),
        ("MAIL", "FROM:", Verb::Mail, true),
        ("RCPT", "TO:", Verb::Rcpt, true),
        ("DATA", "", Verb::Data, false),
        ("XFORWARD", "", Verb::Xforward, true),
        ("XCLIENT", "", Verb::Xclient, true),
        ("RSET", "", Verb::Rset, false),
        ("QUIT", "", Verb::Quit, false),
    ];
    let blank = |c: char| c == ' ' || c == '\t';
    let line = line.trim_start_matches(blank);
    for (name, parm, verb, required) in TABLE {
        let Some(head) = line.get(..name.len()) else {
            continue;
        };
        if !head.eq_ignore_ascii_case(name) {
            continue;
        }
        let rest = line.get(name.len()..).unwrap_or("");
        if rest.is_empty() {
            if required {
                return Cmd::Refused(reply::NO_ARG);
            }
            return Cmd::Known(verb, "");
        }
        if !rest.starts_with(blank) {
            continue;
        }
        let mut rest = rest.trim_start_matches(blank);
        if !parm.is_empty() {
            if rest.is_empty() {
                return Cmd::Refused(reply::NO_ARG);
            }
            match rest.get(..parm.len()) {
                Some(p) if p.eq_ignore_ascii_case(parm) => {}
                _ => return Cmd::Refused(reply::BAD_ARG),
            }
            rest = rest
                .get(parm.len()..)
                .unwrap_or("")
                .trim_start_matches(blank);
        }
        if matches!(verb, Verb::Xforward | Verb::Xclient) {
            return Cmd::Known(verb, rest);
        }
        let end = rest.find(blank).unwrap_or(rest.len());
        return Cmd::Known(verb, rest.get(..end).unwrap_or(""));
    }
    Cmd::Unknown
}

/// The envelope of the current SMTP transaction.
#[derive(Default)]
struct Envelope {
    state: State,
    /// The client greeted with LHLO: LMTP, one final reply per recipient.
    lmtp: bool,
    helo: String,
    addr: Option<IpAddr>,
    name: Option<String>,
    /// Set by XCLIENT, which lasts for the whole session (XFORWARD and
    /// HELO values, and the connection's address, last one transaction).
    xclient_helo: bool,
    xclient_addr: bool,
    xclient_name: bool,
    sender: Option<String>,
    rcpts: Vec<Rcpt>,
    /// Recipients refused at RCPT, for the log file.
    refused: Vec<(usize, Rcpt)>,
    /// The recipients as the joining rule sees them (refused ones left
    /// out, those the downstream refused kept but not compared).
    tx: Transaction,
    /// The header fields of the session's messages so far, as the
    /// original counts them (it clears the counts only for a new
    /// connection): they choose the X-DCC header's line ends.
    hdr_counts: tally_ck::header::FieldCounts,
}

impl Envelope {
    /// The transaction ends (RSET, HELO, after DATA): what XCLIENT did
    /// not set is forgotten, as the original forgets it.
    fn reset(&mut self) {
        if self.state == State::Start {
            return;
        }
        self.state = State::Start;
        self.sender = None;
        self.rcpts.clear();
        self.refused.clear();
        self.tx = Transaction::new();
        if !self.xclient_name {
            self.name = None;
        }
        if !self.xclient_addr {
            self.addr = None;
        }
        if !self.xclient_helo {
            self.helo.clear();
        }
    }

    /// Ask the joining rule about the recipient `path`: `false` when it
    /// must be refused.
    fn admit(&mut self, cfg: &Config, path: &str, errors: &mut Vec<String>) -> bool {
        crate::white::admit_rcpt(cfg, &mut self.tx, self.addr, path, errors)
    }
}

/// Whether a value of XFORWARD or XCLIENT stands for "no value".
fn unavailable(v: &str) -> bool {
    let u = |p: &str| v.get(..p.len()).is_some_and(|h| h.eq_ignore_ascii_case(p));
    u("[UNAVAILABLE]") || u("[TEMPUNAVAIL]")
}

/// Note `XFORWARD` / `XCLIENT` attributes (NAME, ADDR, HELO; the others
/// are passed on unread). `Err` when an attribute has no `=`: the command
/// is then refused (the attributes before it stay noted).
fn attrs(
    env: &mut Envelope,
    rest: &str,
    xclient: bool,
    errors: &mut Vec<String>,
) -> Result<(), ()> {
    for kv in rest.split([' ', '\t']).filter(|w| !w.is_empty()) {
        let Some((k, v)) = kv.split_once('=') else {
            return Err(());
        };
        match k.to_ascii_uppercase().as_str() {
            "NAME" => {
                if unavailable(v) {
                    env.name = None;
                    continue;
                }
                env.name = Some(v.to_string());
                env.xclient_name = xclient;
            }
            "ADDR" => {
                if unavailable(v) {
                    env.addr = None;
                    continue;
                }
                let a = match v.get(..5) {
                    Some(p) if p.eq_ignore_ascii_case("IPv6:") => v.get(5..).unwrap_or(""),
                    _ => v,
                };
                env.addr = a.parse().ok();
                if env.addr.is_none() {
                    errors.push(format!("unrecognized IP address \"{a}\""));
                    continue;
                }
                env.xclient_addr = xclient;
            }
            "HELO" => {
                if unavailable(v) {
                    env.helo.clear();
                } else {
                    env.helo = v.to_string();
                }
                env.xclient_helo = xclient;
            }
            _ => {}
        }
    }
    Ok(())
}

/// A recipient as the original takes it from `RCPT TO:`: without angle
/// brackets and source route; `None` for an empty one.
fn rcpt_addr(path: &str) -> Option<&str> {
    let mut a = path;
    if a.len() >= 2 && a.starts_with('<') && a.ends_with('>') {
        a = a.get(1..a.len() - 1).unwrap_or("");
        if a.is_empty() {
            return None;
        }
    }
    if let Some(p) = a.rfind(',') {
        a = a.get(p + 1..).unwrap_or("");
    }
    (!a.is_empty()).then_some(a)
}

/// Write a reply (its line ends included) to the client at once.
fn answer<W: Write>(out: &mut W, r: &[u8]) -> io::Result<()> {
    out.write_all(r)?;
    out.flush()
}

/// Write one reply line (CRLF added) to the client.
fn say<W: Write>(out: &mut W, r: &str) -> io::Result<()> {
    answer(out, format!("{r}\r\n").as_bytes())
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
    let mut env = Envelope {
        addr: peer,
        ..Envelope::default()
    };
    // the greeting
    match down.as_mut() {
        Some(d) => {
            let (g, _) = read_reply(&mut d.r).map_err(io_err)?;
            answer(&mut out, &g).map_err(io_err)?;
        }
        None => say(&mut out, reply::GREETING).map_err(io_err)?,
    }
    while let Some(line) = read_line(&mut up).map_err(io_err)? {
        let raw = String::from_utf8_lossy(&line);
        let text = raw
            .strip_suffix('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .unwrap_or(&raw);
        // the command itself or the proxy's own reply for /dev/null
        let pass = |down: Option<&mut Down>, own: &str| -> io::Result<(Vec<u8>, u16)> {
            match down {
                Some(d) => {
                    d.w.write_all(&line)?;
                    d.w.flush()?;
                    read_reply(&mut d.r)
                }
                None => {
                    let code = own.get(..3).and_then(|c| c.parse().ok()).unwrap_or(250);
                    Ok((format!("{own}\r\n").into_bytes(), code))
                }
            }
        };
        let (verb, parm) = match parse_cmd(text) {
            Cmd::Refused(r) => {
                say(&mut out, r).map_err(io_err)?;
                continue;
            }
            Cmd::Unknown => {
                let (r, _) = pass(down.as_mut(), reply::UNRECOGNIZED).map_err(io_err)?;
                answer(&mut out, &r).map_err(io_err)?;
                continue;
            }
            Cmd::Known(v, p) => (v, p),
        };
        match verb {
            Verb::Quit => {
                let (r, _) = pass(down.as_mut(), reply::QUIT).map_err(io_err)?;
                answer(&mut out, &r).map_err(io_err)?;
                break;
            }
            Verb::Rset => {
                let (r, _) = pass(down.as_mut(), reply::RSET).map_err(io_err)?;
                env.reset();
                answer(&mut out, &r).map_err(io_err)?;
                continue;
            }
            Verb::Helo | Verb::Ehlo | Verb::Lhlo => {
                env.reset();
                env.state = State::Helo;
                env.lmtp = verb == Verb::Lhlo;
                let (r, code) = pass(down.as_mut(), reply::HELO).map_err(io_err)?;
                if (200..300).contains(&code) && env.helo.is_empty() && !env.xclient_helo {
                    env.helo = parm.to_string();
                }
                answer(&mut out, &r).map_err(io_err)?;
                continue;
            }
            _ => {}
        }
        match (env.state, verb) {
            (State::Start | State::Helo, Verb::Xforward | Verb::Xclient) => {
                env.state = State::Helo;
                if attrs(&mut env, parm, verb == Verb::Xclient, &mut errors).is_err() {
                    say(&mut out, reply::POSTFIX_SYNTAX).map_err(io_err)?;
                    continue;
                }
                let (r, _) = pass(down.as_mut(), reply::POSTFIX).map_err(io_err)?;
                out.write_all(&r).map_err(io_err)?;
            }
            (State::Start | State::Helo, Verb::Mail) => {
                let (r, code) = pass(down.as_mut(), reply::MAIL).map_err(io_err)?;
                if (200..300).contains(&code) {
                    env.sender = Some(parm.to_string());
                    env.state = State::Trans;
                }
                out.write_all(&r).map_err(io_err)?;
            }
            (State::Trans | State::Rcpt, Verb::Rcpt) => {
                let Some(addr) = rcpt_addr(parm) else {
                    errors.push(if parm.starts_with('<') {
                        "null recipient address".to_string()
                    } else {
                        "null recipient".to_string()
                    });
                    say(&mut out, reply::RCPT_SYNTAX).map_err(io_err)?;
                    continue;
                };
                if env.tx.len() >= MAX_RCPTS {
                    answer(&mut out, TOO_MANY_RCPTS).map_err(io_err)?;
                    continue;
                }
                let rcpt = Rcpt {
                    addr: addr.to_string(),
                    user: String::new(),
                };
                if !env.admit(cfg, parm, &mut errors) {
                    env.refused.push((env.rcpts.len(), rcpt));
                    answer(&mut out, INCOMPAT_WLIST).map_err(io_err)?;
                    continue;
                }
                let (r, code) = pass(down.as_mut(), reply::RCPT).map_err(io_err)?;
                if (200..300).contains(&code) {
                    env.rcpts.push(rcpt);
                    env.state = State::Rcpt;
                } else {
                    env.refused.push((env.rcpts.len(), rcpt));
                    env.tx.refused_downstream();
                }
                out.write_all(&r).map_err(io_err)?;
            }
            (State::Rcpt, Verb::Data) => {
                let go_on = data(
                    cfg,
                    &mut env,
                    &mut up,
                    &mut out,
                    down.as_mut(),
                    ask,
                    &mut errors,
                    &mut infos,
                )?;
                env.reset();
                if !go_on {
                    break;
                }
            }
            _ => {
                env.state = State::Error;
                say(&mut out, reply::SEQUENCE).map_err(io_err)?;
            }
        }
        out.flush().map_err(io_err)?;
    }
    Ok((errors, infos))
}

/// The main log's lines for a message the downstream refused: its reply
/// (the first line) and the result, as the original logs them.
fn downstream_refusal(reply: &[u8]) -> String {
    let first = reply.split(|&c| c == b'\n').next().unwrap_or(&[]);
    let first = String::from_utf8_lossy(first);
    format!(
        "SMTP server rejection message: {}\nresult: rejected by SMTP server\n",
        first.trim_end_matches(['\r', '\n'])
    )
}

/// Pass one command downstream and get its reply.
fn relay(down: &mut Down, line: &[u8]) -> io::Result<(Vec<u8>, u16)> {
    down.w.write_all(line)?;
    down.w.flush()?;
    read_reply(&mut down.r)
}

/// The DATA phase: take the message, decide, refuse or send it on.
#[allow(clippy::too_many_arguments)]
fn data<R: BufRead, W: Write>(
    cfg: &Config,
    env: &mut Envelope,
    up: &mut R,
    out: &mut W,
    mut down: Option<&mut Down>,
    ask: &mut dyn Servers,
    errors: &mut Vec<String>,
    infos: &mut Vec<String>,
) -> Result<bool, String> {
    let io_err = |e: io::Error| format!("SMTP proxy: {}", tally_engine::errno_str(&e));
    say(out, reply::GO_AHEAD).map_err(io_err)?;
    // the message without SMTP transparency, in a temporary file
    let (mut raw, _) = crate::check::spool_file(cfg).map_err(io_err)?;
    {
        let mut w = io::BufWriter::new(&mut raw);
        let mut st = DataState::default();
        loop {
            let Some(line) = read_line_unbounded(up, &mut w, &mut st).map_err(io_err)? else {
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
        client_ip: env.addr,
        client_name: env.name.clone(),
        helo: env.helo.clone(),
        sender: env.sender.clone().unwrap_or_default(),
        rcpts: env.rcpts.clone(),
        refused: env.refused.clone(),
        // the message came after the DATA command, into an empty buffer
        ifd_start: tally_ck::header::IfdStart::proxy_after(env.hdr_counts),
        ..Head::default()
    };
    let cip = head.client_ip.map(|i| i.to_string()).unwrap_or_default();
    let mut input = BufReader::new(raw);
    let mut c = check_message(cfg, head, &mut input, true, ask).map_err(|e| e.to_string())?;
    if let Some(f) = c.field_counts() {
        env.hdr_counts = f;
    }
    let id = c.log_id().unwrap_or_default();
    // LMTP wants one final reply per accepted recipient
    let n = if env.lmtp { env.rcpts.len() } else { 1 };
    let mut dcc_failed = false;
    let reply: Vec<u8> = if c.outcome.embargo {
        // deferred: the downstream transaction is given up, as after a
        // rejection, and the client told to try again later
        if let Some(d) = down.as_mut() {
            let _ = relay(d, b"RSET\r\n");
        }
        let r = crate::replies::line(&cfg.grey_reply, &id, &cip);
        c.smtp_reply = Some(r.trim_end().to_string());
        r.repeat(n).into_bytes()
    } else if let Some(r) = c.outcome.xfltr.as_ref().and_then(|x| x.reply.clone()) {
        // the -X filter refused or deferred the message for everyone
        if let Some(d) = down.as_mut() {
            let _ = relay(d, b"RSET\r\n");
        }
        c.smtp_reply = Some(r.clone());
        format!("{r}\r\n").repeat(n).into_bytes()
    } else if c.outcome.xfltr.as_ref().is_some_and(|x| x.discard) {
        // the -X filter discarded the message
        if let Some(d) = down.as_mut() {
            let _ = relay(d, b"RSET\r\n");
        }
        "250 2.0.0 Ok: discarded by the external filter\r\n"
            .repeat(n)
            .into_bytes()
    } else if c.outcome.tempfail {
        // -x and no DCC server answered: try again later
        dcc_failed = true;
        if let Some(d) = down.as_mut() {
            let _ = relay(d, b"RSET\r\n");
        }
        let r = format!("{}\r\n", reply::TEMP_FAIL);
        c.smtp_reply = Some(r.trim_end().to_string());
        if c.outcome.dcc_tempfail {
            // smtp_temp_fail(): the reply is logged and nothing after it
            c.main_result = Some(format!("rejection message: {}\n", reply::TEMP_FAIL));
        }
        r.repeat(n).into_bytes()
    } else if c.outcome.overall_reject && !cfg.discard && !c.outcome.forced_discard {
        if let Some(d) = down.as_mut() {
            let _ = relay(d, b"RSET\r\n");
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
            let _ = relay(d, b"RSET\r\n");
        }
        c.main_result = Some("result: discard\n".to_string());
        format!("{}\r\n", reply::DATA_OK).repeat(n).into_bytes()
    } else {
        // spam let through by -a IGNORE: the main log's result is the
        // original's "ignore and accept" (/dev/null) or the downstream's
        if cfg.ignore && c.outcome.results.contains(&false) {
            c.main_result = Some(match down {
                None => "result: ignore and accept\n".to_string(),
                Some(_) => "result: accept\n".to_string(),
            });
        }
        match down.as_mut() {
            None => format!("{}\r\n", reply::DATA_OK).repeat(n).into_bytes(),
            Some(d) => {
                let (r, code) = relay(d, b"DATA\r\n").map_err(io_err)?;
                if code != 354 {
                    c.main_result = Some(downstream_refusal(&r));
                    r
                } else {
                    let mut ds = DotStuff::new(&mut d.w);
                    c.copy_message(cfg, &mut ds).map_err(io_err)?;
                    if !ds.empty {
                        ds.inner.write_all(b"\r\n").map_err(io_err)?;
                    }
                    d.w.write_all(b".\r\n").map_err(io_err)?;
                    d.w.flush().map_err(io_err)?;
                    let mut all = Vec::new();
                    for _ in 0..n {
                        let (r, code) = read_reply(&mut d.r).map_err(io_err)?;
                        if !(200..300).contains(&code) && c.main_result.is_none() {
                            c.main_result = Some(downstream_refusal(&r));
                        }
                        all.extend(r);
                    }
                    all
                }
            }
        }
    };
    answer(out, &reply).map_err(io_err)?;
    c.write_logs(cfg).map_err(|e| e.to_string())?;
    errors.append(&mut c.errors);
    errors.extend(c.grey_wanted.take());
    infos.append(&mut c.infos);
    // after a DCC failure the original ends the session
    Ok(!dcc_failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn args() {
        assert_eq!(
            parse_cmd("MAIL FROM:<a@b.example> SIZE=10"),
            Cmd::Known(Verb::Mail, "<a@b.example>")
        );
        assert_eq!(parse_cmd("rcpt to: <c@d>"), Cmd::Known(Verb::Rcpt, "<c@d>"));
        assert_eq!(parse_cmd("MAIL"), Cmd::Refused(reply::NO_ARG));
        assert_eq!(parse_cmd("MAIL <a@b>"), Cmd::Refused(reply::BAD_ARG));
        assert_eq!(parse_cmd("HELO"), Cmd::Refused(reply::NO_ARG));
        assert_eq!(parse_cmd("DATAX"), Cmd::Unknown);
        assert_eq!(parse_cmd("NOOP"), Cmd::Unknown);
        assert_eq!(parse_cmd(" data"), Cmd::Known(Verb::Data, ""));
        assert_eq!(
            rcpt_addr("<@relay.example,bob@example.net>"),
            Some("bob@example.net")
        );
        assert_eq!(rcpt_addr("<>"), None);
        let mut e = Envelope::default();
        let mut errs = Vec::new();
        attrs(
            &mut e,
            "NAME=mx.example ADDR=IPV6:2001:db8::9 HELO=[UNAVAILABLE]",
            false,
            &mut errs,
        )
        .unwrap();
        assert_eq!(e.addr, Some("2001:db8::9".parse().unwrap()));
        assert_eq!(e.helo, "");
        assert!(attrs(&mut e, "NAME=x PROTO", false, &mut errs).is_err());
        assert_eq!(parse_downstream("/dev/null").unwrap(), Downstream::Null);
        assert_eq!(
            parse_downstream("@,10026").unwrap(),
            Downstream::Tcp(None, 10026)
        );
        assert!(parse_downstream("h,0").is_err());
        assert!(parse_downstream(&format!("/{}", "s".repeat(107))).is_err());
        assert!(parse_downstream(&format!("/{}", "s".repeat(106))).is_ok());
    }
}
