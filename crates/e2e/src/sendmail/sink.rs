//! A tiny SMTP server on 127.0.0.1 that takes every message sendmail relays
//! and keeps it in memory for the test to look at.
//!
//! It answers just what sendmail's SMTP mailer says (EHLO/HELO, MAIL, RCPT,
//! DATA, RSET, NOOP, QUIT), accepts every envelope, and bounds everything:
//! line and message sizes, the number of kept messages and of concurrent
//! connections, and each read and write by a time limit.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread::JoinHandle;
use std::time::Duration;

/// Longest command or data line read.
const LINE_MAX: u64 = 8192;
/// Largest message kept (bigger ones are refused with 552).
const MESSAGE_MAX: usize = 4 << 20;
/// Most messages kept.
const KEPT_MAX: usize = 1000;
/// Most connections served at once (more are closed at once).
const CONNS_MAX: usize = 16;
/// Most commands in one session.
const COMMANDS_MAX: usize = 10_000;
/// Time limit of each read and write.
const IO_LIMIT: Duration = Duration::from_secs(60);

/// One message as the sink received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Received {
    /// MAIL FROM address (without brackets).
    pub from: String,
    /// RCPT TO addresses (without brackets).
    pub rcpts: Vec<String>,
    /// The message with LF line ends and dot-stuffing undone.
    pub text: String,
}

type Store = Arc<Mutex<Vec<Received>>>;

fn lock(store: &Store) -> MutexGuard<'_, Vec<Received>> {
    match store.lock() {
        Ok(g) => g,
        Err(poisoned) => poisoned.into_inner(),
    }
}

/// The running sink; its threads stop when it is dropped.
#[derive(Debug)]
pub struct Sink {
    /// Where it listens.
    pub addr: SocketAddr,
    store: Store,
    stop: Arc<AtomicBool>,
    accept: Option<JoinHandle<()>>,
}

impl Sink {
    /// Listen on a free port of 127.0.0.1.
    pub fn start() -> std::io::Result<Sink> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let store: Store = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (st, sp) = (store.clone(), stop.clone());
        let accept = std::thread::spawn(move || accept_loop(&listener, &st, &sp));
        Ok(Sink {
            addr,
            store,
            stop,
            accept: Some(accept),
        })
    }

    /// Every message received so far, oldest first.
    pub fn messages(&self) -> Vec<Received> {
        lock(&self.store).clone()
    }

    /// The messages received so far for `rcpt`, oldest first.
    pub fn for_rcpt(&self, rcpt: &str) -> Vec<String> {
        lock(&self.store)
            .iter()
            .filter(|m| m.rcpts.iter().any(|r| r.eq_ignore_ascii_case(rcpt)))
            .map(|m| m.text.clone())
            .collect()
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(h) = self.accept.take() {
            let _ = h.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, store: &Store, stop: &AtomicBool) {
    let live = Arc::new(AtomicUsize::new(0));
    while !stop.load(Ordering::Relaxed) {
        match listener.accept() {
            Ok((s, _)) => {
                if live.load(Ordering::Relaxed) >= CONNS_MAX {
                    continue;
                }
                live.fetch_add(1, Ordering::Relaxed);
                let (st, lv) = (store.clone(), live.clone());
                std::thread::spawn(move || {
                    let _ = serve(s, &st);
                    lv.fetch_sub(1, Ordering::Relaxed);
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(20)),
        }
    }
}

/// The address inside `<...>` after `MAIL FROM:` / `RCPT TO:`.
fn path_arg(rest: &str) -> String {
    let rest = rest.trim_start();
    match rest.strip_prefix('<') {
        Some(r) => r.split('>').next().unwrap_or("").to_string(),
        None => rest.split_whitespace().next().unwrap_or("").to_string(),
    }
}

/// Read one line of at most [`LINE_MAX`] bytes; None at the end of input.
fn read_line(r: &mut BufReader<TcpStream>) -> std::io::Result<Option<Vec<u8>>> {
    let mut line = Vec::new();
    r.by_ref().take(LINE_MAX).read_until(b'\n', &mut line)?;
    Ok((!line.is_empty()).then_some(line))
}

/// One SMTP session.
fn serve(s: TcpStream, store: &Store) -> std::io::Result<()> {
    s.set_nonblocking(false)?;
    s.set_read_timeout(Some(IO_LIMIT))?;
    s.set_write_timeout(Some(IO_LIMIT))?;
    let mut w = s.try_clone()?;
    let mut r = BufReader::new(s);
    w.write_all(b"220 sink.test ESMTP test sink\r\n")?;
    let mut from: Option<String> = None;
    let mut rcpts: Vec<String> = Vec::new();
    for _ in 0..COMMANDS_MAX {
        let Some(line) = read_line(&mut r)? else {
            return Ok(());
        };
        let line = String::from_utf8_lossy(&line);
        let line = line.trim_end();
        let upper = line.to_ascii_uppercase();
        let reply: &[u8] = if upper.starts_with("EHLO") {
            b"250-sink.test\r\n250-8BITMIME\r\n250 SIZE 4194304\r\n"
        } else if upper.starts_with("HELO") {
            b"250 sink.test\r\n"
        } else if upper.starts_with("MAIL FROM:") {
            from = Some(path_arg(line.get(10..).unwrap_or("")));
            rcpts.clear();
            b"250 2.1.0 ok\r\n"
        } else if upper.starts_with("RCPT TO:") {
            if from.is_none() {
                b"503 5.5.1 MAIL first\r\n"
            } else {
                rcpts.push(path_arg(line.get(8..).unwrap_or("")));
                b"250 2.1.5 ok\r\n"
            }
        } else if upper == "DATA" {
            if from.is_none() || rcpts.is_empty() {
                b"503 5.5.1 no recipients\r\n"
            } else {
                w.write_all(b"354 go ahead\r\n")?;
                let reply = match read_data(&mut r)? {
                    Some(text) => {
                        let mut kept = lock(store);
                        if kept.len() < KEPT_MAX {
                            kept.push(Received {
                                from: from.take().unwrap_or_default(),
                                rcpts: std::mem::take(&mut rcpts),
                                text,
                            });
                        }
                        &b"250 2.0.0 kept by the sink\r\n"[..]
                    }
                    None => b"552 5.3.4 message too big\r\n",
                };
                from = None;
                rcpts.clear();
                reply
            }
        } else if upper == "RSET" {
            from = None;
            rcpts.clear();
            b"250 2.0.0 ok\r\n"
        } else if upper == "NOOP" {
            b"250 2.0.0 ok\r\n"
        } else if upper == "QUIT" {
            w.write_all(b"221 2.0.0 bye\r\n")?;
            return Ok(());
        } else {
            b"502 5.5.2 not here\r\n"
        };
        w.write_all(reply)?;
    }
    Ok(())
}

/// The DATA lines up to the lone dot, with LF line ends and leading dots
/// unstuffed; None when the message is bigger than [`MESSAGE_MAX`] (read
/// to its end all the same).
fn read_data(r: &mut BufReader<TcpStream>) -> std::io::Result<Option<String>> {
    let mut text = Vec::new();
    let mut too_big = false;
    loop {
        let Some(line) = read_line(r)? else {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "connection closed in DATA",
            ));
        };
        let body = line.strip_suffix(b"\n").unwrap_or(&line);
        let body = body.strip_suffix(b"\r").unwrap_or(body);
        if body == b"." {
            break;
        }
        let body = body.strip_prefix(b".").unwrap_or(body);
        if text.len() + body.len() + 1 > MESSAGE_MAX {
            too_big = true;
            continue;
        }
        text.extend_from_slice(body);
        text.push(b'\n');
    }
    Ok((!too_big).then(|| String::from_utf8_lossy(&text).into_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::smtp::{self, Envelope};

    #[test]
    fn path_arguments() {
        assert_eq!(path_arg("<a@b.c> SIZE=12"), "a@b.c");
        assert_eq!(path_arg(" <>"), "");
        assert_eq!(path_arg("a@b"), "a@b");
    }

    #[test]
    fn keeps_a_message_sent_to_it() {
        let sink = Sink::start().expect("sink");
        let env = Envelope::new("a@x.test", &["b@y.test", "c@y.test"]);
        let out = smtp::send(
            sink.addr,
            &env,
            b"Subject: s\n\n.dot\nbody\n",
            Duration::from_secs(10),
        )
        .expect("smtp");
        assert_eq!(out.last.code, 250, "{out:?}");
        let got = sink.messages();
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].from, "a@x.test");
        assert_eq!(got[0].rcpts, ["b@y.test", "c@y.test"]);
        assert_eq!(got[0].text, "Subject: s\n\n.dot\nbody\n");
        assert_eq!(sink.for_rcpt("C@y.test").len(), 1);
        assert!(sink.for_rcpt("d@y.test").is_empty());
    }
}
