//! A small blocking HTTP/1.1 client (one request per connection) that
//! keeps cookies, for `web-bench` and the tests. Loopback use only.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Most bytes of an answer read.
const MAX_ANSWER: u64 = 16 * 1024 * 1024;

/// An answer: status, header fields (lower-case names) and body.
#[derive(Debug, Clone)]
pub struct Answer {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    /// The first header field `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The value of the hidden `csrf` field of the page's first form.
    pub fn csrf(&self) -> Option<String> {
        let at = self.body.find("name=\"csrf\" value=\"")? + 19;
        let end = self.body[at..].find('"')? + at;
        Some(self.body[at..end].to_string())
    }
}

/// A browser without a browser: an address and a cookie jar.
pub struct Client {
    pub addr: SocketAddr,
    pub cookies: HashMap<String, String>,
}

impl Client {
    /// A client of the service at `addr`.
    pub fn new(addr: SocketAddr) -> Client {
        Client {
            addr,
            cookies: HashMap::new(),
        }
    }

    /// `GET path`.
    pub fn get(&mut self, path: &str) -> std::io::Result<Answer> {
        self.request("GET", path, None)
    }

    /// `POST path` with a form (already URL-encoded).
    pub fn post(&mut self, path: &str, form: &str) -> std::io::Result<Answer> {
        self.request("POST", path, Some(form.as_bytes()))
    }

    /// Any request; `body` sent as `application/x-www-form-urlencoded`.
    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<&[u8]>,
    ) -> std::io::Result<Answer> {
        let mut s = TcpStream::connect_timeout(&self.addr, Duration::from_secs(5))?;
        s.set_read_timeout(Some(Duration::from_secs(30)))?;
        s.set_write_timeout(Some(Duration::from_secs(30)))?;
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n",
            self.addr
        );
        if !self.cookies.is_empty() {
            let c: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            req.push_str(&format!("Cookie: {}\r\n", c.join("; ")));
        }
        if let Some(b) = body {
            req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
            req.push_str(&format!("Content-Length: {}\r\n", b.len()));
        }
        req.push_str("\r\n");
        s.write_all(req.as_bytes())?;
        if let Some(b) = body {
            // a server may answer and close before reading a body it refuses
            let _ = s.write_all(b);
        }
        let mut raw = Vec::new();
        let _ = s.take(MAX_ANSWER).read_to_end(&mut raw);
        let a = parse_answer(&raw).ok_or_else(|| {
            std::io::Error::new(std::io::ErrorKind::InvalidData, "bad HTTP answer")
        })?;
        for (n, v) in &a.headers {
            if n == "set-cookie" {
                let first = v.split(';').next().unwrap_or("");
                if let Some((k, val)) = first.split_once('=') {
                    if val.is_empty() {
                        self.cookies.remove(k);
                    } else {
                        self.cookies.insert(k.to_string(), val.to_string());
                    }
                }
            }
        }
        Ok(a)
    }
}

fn parse_answer(raw: &[u8]) -> Option<Answer> {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = std::str::from_utf8(&raw[..end]).ok()?;
    let mut lines = head.split("\r\n");
    let status: u16 = lines.next()?.split_whitespace().nth(1)?.parse().ok()?;
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[end + 4..].to_vec();
    let chunked = headers
        .iter()
        .any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    if chunked {
        body = dechunk(&body)?;
    }
    Some(Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}

fn dechunk(mut b: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    loop {
        let e = b.windows(2).position(|w| w == b"\r\n")?;
        let n = usize::from_str_radix(std::str::from_utf8(&b[..e]).ok()?.trim(), 16).ok()?;
        b = &b[e + 2..];
        if n == 0 {
            return Some(out);
        }
        out.extend_from_slice(b.get(..n)?);
        b = b.get(n + 2..)?;
    }
}

/// URL-encode a form value.
pub fn enc(s: &str) -> String {
    let mut o = String::new();
    for c in s.bytes() {
        if c.is_ascii_alphanumeric() || b"-_.~".contains(&c) {
            o.push(char::from(c));
        } else {
            o.push_str(&format!("%{c:02X}"));
        }
    }
    o
}
