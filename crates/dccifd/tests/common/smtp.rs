//! The SMTP client side of the proxy tests: commands and (multi-line)
//! replies over a TCP connection to dccifd `-o`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::time::Duration;

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
