//! Asking the filter: a unix socket (`unix:PATH`) or a program run once
//! per message, with the time limit of `set:msg-secs`.
//!
//! Both transports are blocking and use helper threads so that the wait
//! is bounded whatever the filter does: the request is written by one
//! thread, the answer read by another, and the caller waits for the
//! answer no longer than the limit. A program that has not answered in
//! time is killed; one still running after its answer is killed too (its
//! answer is all that counts). A socket that does not answer in time is
//! closed once its own read timeout (the same limit) ends the reader.
//! Asynchronous callers run [`consult`] on a blocking thread.

use super::answer::{parse_answer, Answer, AnswerError, MAX_ANSWER};
use super::XfltrOpts;
use std::fmt;
use std::io::{Read, Write};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

/// Why there is no usable answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum XfltrError {
    /// The socket could not be reached or the program not started.
    Start(String),
    /// Writing the request or reading the answer failed.
    Io(String),
    /// No answer line within `set:msg-secs` seconds.
    Timeout(u64),
    /// The filter closed its end, or the program ended, without an
    /// answer line (`how`: the program's exit status, if known).
    NoAnswer(String),
    /// The answer line was refused (the line as read, lossily, and why).
    Malformed(String, AnswerError),
}

impl fmt::Display for XfltrError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            XfltrError::Start(e) => write!(f, "cannot start: {e}"),
            XfltrError::Io(e) => write!(f, "{e}"),
            XfltrError::Timeout(s) => write!(f, "no answer after {s} seconds"),
            XfltrError::NoAnswer(how) if how.is_empty() => f.write_str("closed without answering"),
            XfltrError::NoAnswer(how) => write!(f, "{how} without answering"),
            XfltrError::Malformed(line, e) => write!(f, "malformed answer \"{line}\": {e}"),
        }
    }
}

/// The answer of the filter configured in `opts` to `request` (the text
/// of [`super::Request::text`]). Without a filter the answer is `same`.
pub fn consult(opts: &XfltrOpts, request: &str) -> Result<Answer, XfltrError> {
    let Some(target) = opts.target.as_deref() else {
        return Ok(Answer::Same);
    };
    let limit = Duration::from_secs(opts.msg_secs.max(1));
    let raw = match target.strip_prefix("unix:") {
        Some(path) => via_socket(path, request, limit)?,
        None => via_program(target, request, limit)?,
    };
    decode(&raw.bytes, &raw.how)
}

/// What was read: the bytes up to and including the first newline (or
/// all of them), and how a program ended when it said nothing.
struct Raw {
    bytes: Vec<u8>,
    how: String,
}

fn decode(bytes: &[u8], how: &str) -> Result<Answer, XfltrError> {
    if bytes.is_empty() {
        return Err(XfltrError::NoAnswer(how.to_string()));
    }
    parse_answer(bytes).map_err(|e| {
        let line = super::answer::first_line(bytes);
        let shown: String = String::from_utf8_lossy(&line[..line.len().min(120)])
            .chars()
            .map(|c| if c.is_control() { '?' } else { c })
            .collect();
        XfltrError::Malformed(shown, e)
    })
}

/// Read up to the first newline, at most [`MAX_ANSWER`] bytes.
fn read_line(r: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 256];
    while out.len() < MAX_ANSWER && !out.contains(&b'\n') {
        let want = buf.len().min(MAX_ANSWER - out.len());
        match r.read(&mut buf[..want]) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(out)
}

fn via_socket(path: &str, request: &str, limit: Duration) -> Result<Raw, XfltrError> {
    let (tx, rx) = mpsc::channel();
    let path = path.to_string();
    let request = request.to_string();
    std::thread::Builder::new()
        .name("xfltr-socket".into())
        .spawn(move || {
            let r = (|| {
                let mut s = std::os::unix::net::UnixStream::connect(&path)
                    .map_err(|e| XfltrError::Start(crate::errno_str(&e)))?;
                let io = |e: std::io::Error| XfltrError::Io(crate::errno_str(&e));
                s.set_read_timeout(Some(limit)).map_err(io)?;
                s.set_write_timeout(Some(limit)).map_err(io)?;
                s.write_all(request.as_bytes()).map_err(io)?;
                // the end of the request; a filter may also answer before it
                let _ = s.shutdown(std::net::Shutdown::Write);
                let bytes = read_line(&mut s).map_err(|e| match e.kind() {
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
                        XfltrError::Timeout(limit.as_secs())
                    }
                    _ => io(e),
                })?;
                Ok(Raw {
                    bytes,
                    how: String::new(),
                })
            })();
            let _ = tx.send(r);
        })
        .map_err(|e| XfltrError::Start(crate::errno_str(&e)))?;
    rx.recv_timeout(limit)
        .unwrap_or(Err(XfltrError::Timeout(limit.as_secs())))
}

fn via_program(prog: &str, request: &str, limit: Duration) -> Result<Raw, XfltrError> {
    let mut child = Command::new(prog)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| XfltrError::Start(crate::errno_str(&e)))?;
    let (stdin, stdout) = (child.stdin.take(), child.stdout.take());
    let request = request.to_string();
    let writer = std::thread::Builder::new()
        .name("xfltr-write".into())
        .spawn(move || {
            if let Some(mut i) = stdin {
                // a filter that stops reading early is its own business
                let _ = i.write_all(request.as_bytes());
            }
        });
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::Builder::new()
        .name("xfltr-read".into())
        .spawn(move || {
            let r = match stdout {
                Some(mut o) => read_line(&mut o),
                None => Ok(Vec::new()),
            };
            let _ = tx.send(r);
        });
    let got = match (&writer, &reader) {
        (Ok(_), Ok(_)) => rx.recv_timeout(limit).ok(),
        _ => None,
    };
    let done = got
        .as_ref()
        .is_some_and(|r| r.as_ref().is_ok_and(|b| !b.is_empty()));
    // the exit status says why a program gave no answer
    let how = if got.is_some() && !done {
        exit_status(&mut child)
    } else {
        String::new()
    };
    // whether it answered or not, it is done now
    let _ = child.kill();
    let _ = child.wait();
    if let Ok(w) = writer {
        let _ = w.join();
    }
    if let Ok(r) = reader {
        let _ = r.join();
    }
    match got {
        None => Err(XfltrError::Timeout(limit.as_secs())),
        Some(Err(e)) => Err(XfltrError::Io(crate::errno_str(&e))),
        Some(Ok(bytes)) => Ok(Raw { bytes, how }),
    }
}

/// How a program that closed its output without answering ended, waiting
/// for it at most a second (it is killed afterwards anyway).
fn exit_status(child: &mut std::process::Child) -> String {
    for _ in 0..100 {
        match child.try_wait() {
            Ok(Some(s)) => {
                return match (s.code(), std::os::unix::process::ExitStatusExt::signal(&s)) {
                    (Some(c), _) => format!("exited with status {c}"),
                    (None, Some(sig)) => format!("killed by signal {sig}"),
                    _ => "ended".to_string(),
                }
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(e) => return crate::errno_str(&e),
        }
    }
    "closed its output".to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn script(dir: &std::path::Path, name: &str, body: &str) -> String {
        let p = dir.join(name);
        std::fs::write(&p, format!("#!/bin/sh\n{body}\n")).unwrap();
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        p.display().to_string()
    }

    fn opts(target: &str, secs: u64) -> XfltrOpts {
        XfltrOpts {
            target: Some(target.to_string()),
            debug: 0,
            msg_secs: secs,
        }
    }

    #[test]
    fn programs() {
        let dir = std::env::temp_dir().join(format!("xfltr-client-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ok = script(&dir, "ok", "cat >/dev/null; echo 'reject 550 5.7.1 no'");
        assert!(matches!(
            consult(&opts(&ok, 5), "id x\n"),
            Ok(Answer::Reject(_))
        ));
        let crash = script(&dir, "crash", "kill -SEGV $$");
        let e = consult(&opts(&crash, 5), "id x\n").unwrap_err();
        assert_eq!(e, XfltrError::NoAnswer("killed by signal 11".into()));
        let fail = script(&dir, "fail", "exit 3");
        let e = consult(&opts(&fail, 5), "id x\n").unwrap_err();
        assert_eq!(e.to_string(), "exited with status 3 without answering");
        let slow = script(&dir, "slow", "exec sleep 30");
        let t = std::time::Instant::now();
        let e = consult(&opts(&slow, 1), "id x\n").unwrap_err();
        assert_eq!(e, XfltrError::Timeout(1));
        assert!(t.elapsed() < Duration::from_secs(5));
        let junk = script(&dir, "junk", "echo 'yes please'");
        let e = consult(&opts(&junk, 5), "").unwrap_err();
        assert_eq!(
            e.to_string(),
            "malformed answer \"yes please\": unknown verdict at byte 0"
        );
        let missing = dir.join("missing").display().to_string();
        assert!(matches!(
            consult(&opts(&missing, 5), ""),
            Err(XfltrError::Start(_))
        ));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn no_filter_is_same() {
        assert_eq!(consult(&XfltrOpts::default(), ""), Ok(Answer::Same));
    }
}
