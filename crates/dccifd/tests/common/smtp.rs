//! The SMTP client side of the proxy tests: commands and (multi-line)
//! replies over a TCP connection to dccifd `-o`.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A downstream SMTP server on a loopback port: each connection is served
/// by `serve` on a thread of its own, which records what it received in
/// the shared `T`. The port and the record.
pub fn downstream<T: Default + Send + 'static>(
    serve: fn(TcpStream, &Mutex<T>),
) -> (u16, Arc<Mutex<T>>) {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = l.local_addr().expect("addr").port();
    let got = Arc::new(Mutex::new(T::default()));
    let g = got.clone();
    std::thread::spawn(move || {
        for s in l.incoming().flatten() {
            let g = g.clone();
            std::thread::spawn(move || serve(s, &g));
        }
    });
    (port, got)
}

/// An SMTP client connection.
pub struct Smtp {
    r: BufReader<TcpStream>,
    w: TcpStream,
}

impl Smtp {
    /// Speak SMTP over `s` (a read time-out of 20 s).
    pub fn new(s: TcpStream) -> Smtp {
        s.set_read_timeout(Some(Duration::from_secs(20)))
            .expect("timeout");
        Smtp {
            r: BufReader::new(s.try_clone().expect("clone")),
            w: s,
        }
    }

    /// The next reply, all its lines.
    pub fn reply(&mut self) -> String {
        let mut all = String::new();
        loop {
            let mut l = String::new();
            self.r.read_line(&mut l).expect("reply");
            all.push_str(&l);
            if l.as_bytes().get(3) != Some(&b'-') {
                return all;
            }
        }
    }

    /// Send command `c` and read its reply.
    pub fn cmd(&mut self, c: &str) -> String {
        self.w
            .write_all(format!("{c}\r\n").as_bytes())
            .expect("send");
        self.reply()
    }
}

/// A downstream SMTP (or LMTP) server keeping the messages it receives.
pub fn keeping_downstream() -> (u16, Arc<Mutex<Vec<String>>>) {
    downstream(serve)
}

fn serve(s: TcpStream, got: &Mutex<Vec<String>>) {
    let mut w = s.try_clone().expect("clone");
    let mut r = BufReader::new(s);
    let _ = w.write_all(b"220 down.example ESMTP\r\n");
    let mut line = String::new();
    let (mut lmtp, mut rcpts) = (false, 0usize);
    loop {
        line.clear();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            return;
        }
        let verb = line
            .split_whitespace()
            .next()
            .unwrap_or("")
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" | "LHLO" => {
                lmtp = verb == "LHLO";
                b"250-down.example\r\n250 XFORWARD NAME ADDR HELO\r\n"
            }
            "RCPT" => {
                rcpts += 1;
                b"250 2.1.5 Ok\r\n"
            }
            "MAIL" | "RSET" => {
                rcpts = 0;
                b"250 2.0.0 Ok\r\n"
            }
            "DATA" => {
                let _ = w.write_all(b"354 go ahead\r\n");
                let mut msg = String::new();
                loop {
                    let mut l = String::new();
                    if r.read_line(&mut l).unwrap_or(0) == 0 || l == ".\r\n" {
                        break;
                    }
                    msg.push_str(&l);
                }
                got.lock().unwrap().push(msg);
                for _ in 1..if lmtp { rcpts } else { 1 } {
                    let _ = w.write_all(b"250 2.0.0 Ok: queued as D1\r\n");
                }
                b"250 2.0.0 Ok: queued as D1\r\n"
            }
            "QUIT" => {
                let _ = w.write_all(b"221 2.0.0 Bye\r\n");
                return;
            }
            _ => b"250 2.0.0 Ok\r\n",
        };
        let _ = w.write_all(reply);
    }
}
