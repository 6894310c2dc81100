//! The decoded milter packet log of a recorded scenario: what the MTA
//! sent and what the original dccm answered, per connection.

/// One packet of the log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pkt {
    /// Connection label, e.g. `c256`.
    pub conn: String,
    /// Sent by the MTA (else by the milter).
    pub from_mta: bool,
    /// Command or reply character.
    pub cmd: char,
    /// Arguments: optional key and value.
    pub args: Vec<(Option<Vec<u8>>, Vec<u8>)>,
    /// When it was logged, in milliseconds of the recording's clock.
    pub at_ms: u64,
}

impl Pkt {
    /// Value of argument `key`.
    pub fn get(&self, key: &str) -> Option<&[u8]> {
        self.args
            .iter()
            .find(|(k, _)| k.as_deref() == Some(key.as_bytes()))
            .map(|(_, v)| v.as_slice())
    }

    /// Values without a key, in order.
    pub fn plain(&self) -> Vec<&[u8]> {
        self.args
            .iter()
            .filter(|(k, _)| k.is_none())
            .map(|(_, v)| v.as_slice())
            .collect()
    }
}

fn unquote(s: &[u8], i: &mut usize) -> Vec<u8> {
    let q = s[*i];
    *i += 1;
    let mut out = Vec::new();
    while *i < s.len() && s[*i] != q {
        if s[*i] == b'\\' && *i + 1 < s.len() {
            *i += 1;
            match s[*i] {
                b'n' => out.push(b'\n'),
                b'r' => out.push(b'\r'),
                b't' => out.push(b'\t'),
                b'x' => {
                    let h = std::str::from_utf8(&s[*i + 1..*i + 3]).unwrap();
                    out.push(u8::from_str_radix(h, 16).unwrap());
                    *i += 2;
                }
                c => out.push(c),
            }
        } else {
            out.push(s[*i]);
        }
        *i += 1;
    }
    *i += 1;
    out
}

fn value(s: &[u8], i: &mut usize) -> Vec<u8> {
    if *i < s.len() && (s[*i] == b'\'' || s[*i] == b'"') {
        return unquote(s, i);
    }
    let st = *i;
    while *i < s.len() && s[*i] != b' ' {
        *i += 1;
    }
    s[st..*i].to_vec()
}

fn tokens(s: &[u8]) -> Vec<(Option<Vec<u8>>, Vec<u8>)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < s.len() {
        if s[i] == b' ' {
            i += 1;
            continue;
        }
        if s[i] == b'\'' || s[i] == b'"' {
            let a = unquote(s, &mut i);
            if i < s.len() && s[i] == b'=' {
                i += 1;
                let v = value(s, &mut i);
                out.push((Some(a), v));
            } else {
                out.push((None, a));
            }
            continue;
        }
        let st = i;
        while i < s.len() && s[i] != b' ' && s[i] != b'=' {
            i += 1;
        }
        let w = s[st..i].to_vec();
        if i < s.len() && s[i] == b'=' {
            i += 1;
            let v = value(s, &mut i);
            out.push((Some(w), v));
        } else {
            out.push((None, w));
        }
    }
    out
}

/// Parse the packet log part of a transcript.
pub fn parse(text: &str) -> Vec<Pkt> {
    let mut out = Vec::new();
    for line in text.lines() {
        let mut parts = line.splitn(6, ' ');
        let (Some(ts), Some(conn), Some(dir), Some(cmd), Some(_name)) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            continue;
        };
        if !ts.contains('.') || !ts.bytes().next().is_some_and(|b| b.is_ascii_digit()) {
            continue;
        }
        let from_mta = match dir {
            "MTA->milter" => true,
            "milter->MTA" => false,
            _ => continue,
        };
        let rest = parts.next().unwrap_or("").trim_start();
        let cmd = cmd.chars().next().unwrap_or('?');
        let at_ms = ts
            .split_once('.')
            .and_then(|(s, ms)| Some(s.parse::<u64>().ok()? * 1000 + ms.parse::<u64>().ok()?))
            .unwrap_or(0);
        out.push(Pkt {
            at_ms,
            conn: conn.to_string(),
            from_mta,
            cmd,
            args: tokens(rest.as_bytes()),
        });
    }
    out
}

/// The packets grouped by connection, in order of first appearance.
pub fn connections(pkts: &[Pkt]) -> Vec<Vec<Pkt>> {
    let mut order: Vec<String> = Vec::new();
    for p in pkts {
        if !order.contains(&p.conn) {
            order.push(p.conn.clone());
        }
    }
    order
        .iter()
        .map(|c| pkts.iter().filter(|p| &p.conn == c).cloned().collect())
        .collect()
}
