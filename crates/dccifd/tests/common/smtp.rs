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
