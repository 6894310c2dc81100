//! A log file as dccm and dccifd write them (dcc(8) "log files"): the
//! envelope lines (`DATE:`, `IP:`, `HELO:`, `env_From:`, `env_To:`), a
//! blank line, the message as received (at most 32 KBytes), the line
//! `### end of message body ###...`, the decision lines, the `X-DCC`
//! header, the checksum table, and lines such as `rejection message:` and
//! `result:`. Anything unexpected is kept as text; nothing here fails.

/// Marks the end of the copied message (with the newlines around it).
pub const MSG_SEP: &[u8] = b"\n### end of message body ########################\n";

/// One row of the checksum table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CkRow {
    /// The checksum's name as logged (`Body`, `env_From`, `substitute list-id`).
    pub name: String,
    /// The four hex words.
    pub sum: String,
    /// The columns after the sum (server count, threshold, whitelist).
    pub rest: String,
}

/// One recipient of the `greylist recipient` lines after the table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GreyRow {
    /// The recipient as logged (empty for the null address).
    pub rcpt: String,
    /// The greylist triple checksum, four hex words.
    pub triple: String,
    /// What the greylist server said (`Embargo #1`, `Pass`, ...).
    pub result: String,
}

impl GreyRow {
    /// The message was held back for this recipient: an embargo that
    /// the user may end.
    pub fn embargoed(&self) -> bool {
        self.result == "Embargo" || self.result.starts_with("Embargo #")
    }
}

/// What a log file says about one message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogMsg {
    pub date: String,
    /// The SMTP client's name and address from the `IP:` line.
    pub client_name: String,
    pub client_ip: String,
    pub helo: String,
    /// The envelope sender without `<>`.
    pub env_from: String,
    /// `mail_host=` of the `env_From:` line: the sender's domain.
    pub mail_host: String,
    /// The recipients' `env_To:` lines.
    pub env_to: Vec<String>,
    /// Header fields of the message: name and value (unfolded).
    pub headers: Vec<(String, String)>,
    /// The body as logged (lossy UTF-8).
    pub body: String,
    /// Lines between the message and the checksum table.
    pub decision: Vec<String>,
    /// The `X-DCC` header line.
    pub xdcc: String,
    /// The title line of the table (`reported: ...  checksum  server thold`).
    pub table_title: String,
    pub table: Vec<CkRow>,
    /// The greylisted recipients.
    pub grey: Vec<GreyRow>,
    /// `rejection message:` value.
    pub rejection: String,
    /// `result:` value.
    pub result: String,
    /// Other lines after the table.
    pub other: Vec<String>,
}

impl LogMsg {
    /// The first header field `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The address of the `From:` header (inside `<>` when there are any).
    pub fn from_addr(&self) -> String {
        let v = self.header("from").unwrap_or("");
        match (v.rfind('<'), v.rfind('>')) {
            (Some(a), Some(b)) if a < b => v[a + 1..b].trim().to_string(),
            _ => v.trim().to_string(),
        }
    }

    /// The addresses of the envelope recipients (`env_To:` lines) without
    /// `<>` and what follows them, in the order logged; an empty address
    /// (the null recipient) is left out.
    pub fn rcpts(&self) -> Vec<String> {
        self.env_to
            .iter()
            .map(|v| angle(v).0)
            .filter(|a| !a.is_empty())
            .collect()
    }

    /// The IP address of the SMTP client without the `::ffff:` of an IPv4
    /// address.
    pub fn ip(&self) -> &str {
        let ip = self.client_ip.as_str();
        match ip.strip_prefix("::ffff:") {
            Some(v4) if v4.contains('.') => v4,
            _ => ip,
        }
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn lines(b: &[u8]) -> impl Iterator<Item = String> + '_ {
    b.split(|&c| c == b'\n')
        .map(|l| lossy(l.strip_suffix(b"\r").unwrap_or(l)))
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if needle.is_empty() || hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).position(|w| w == needle)
}

/// Parse the envelope lines only (the top of the file up to the first
/// blank line): enough for a listing. `text` may be just the start of
/// the file.
pub fn parse_envelope(text: &[u8], m: &mut LogMsg) -> usize {
    let mut at = 0;
    while at < text.len() {
        let end = text[at..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(text.len(), |p| at + p);
        let raw = &text[at..end];
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        at = (end + 1).min(text.len());
        if raw.is_empty() {
            break;
        }
        let line = lossy(raw);
        let Some((k, v)) = line.split_once(':') else {
            continue;
        };
        let v = v.trim();
        match k {
            "DATE" => m.date = v.to_string(),
            "IP" => {
                let mut w = v.split_whitespace();
                let a = w.next().unwrap_or("");
                match w.next() {
                    Some(b) => {
                        m.client_name = a.to_string();
                        m.client_ip = b.to_string();
                    }
                    None => m.client_ip = a.to_string(),
                }
            }
            "HELO" => m.helo = v.to_string(),
            "env_From" => {
                let (addr, rest) = angle(v);
                m.env_from = addr;
                if let Some(h) = rest
                    .split_whitespace()
                    .find_map(|w| w.strip_prefix("mail_host="))
                {
                    m.mail_host = h.to_string();
                }
            }
            "env_To" => m.env_to.push(v.to_string()),
            _ => {}
        }
    }
    at
}

/// The address in `<...>` at the start of `v` and the rest.
fn angle(v: &str) -> (String, &str) {
    if let Some(r) = v.strip_prefix('<') {
        if let Some(e) = r.find('>') {
            return (r[..e].to_string(), &r[e + 1..]);
        }
    }
    let e = v.find(char::is_whitespace).unwrap_or(v.len());
    (v[..e].to_string(), &v[e..])
}

/// Header fields of the message at the start of `msg`: name and unfolded
/// value, up to the first blank line; and where the body starts.
pub fn parse_headers(msg: &[u8]) -> (Vec<(String, String)>, usize) {
    let mut out: Vec<(String, String)> = Vec::new();
    let mut at = 0;
    while at < msg.len() {
        let end = msg[at..]
            .iter()
            .position(|&c| c == b'\n')
            .map_or(msg.len(), |p| at + p);
        let raw = &msg[at..end];
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        at = (end + 1).min(msg.len());
        if raw.is_empty() {
            break;
        }
        let line = lossy(raw);
        if line.starts_with([' ', '\t']) {
            if let Some(last) = out.last_mut() {
                last.1.push(' ');
                last.1.push_str(line.trim());
            }
            continue;
        }
        if let Some((n, v)) = line.split_once(':') {
            out.push((n.trim().to_string(), v.trim().to_string()));
        }
        if out.len() >= 500 {
            break;
        }
    }
    (out, at)
}

/// Subject and sender for a listing from the start of a file.
pub fn parse_summary(text: &[u8]) -> LogMsg {
    let mut m = LogMsg::default();
    let at = parse_envelope(text, &mut m);
    let (h, _) = parse_headers(&text[at..]);
    m.headers = h;
    if let Some(p) = rfind(text, b"\nresult: ") {
        let rest = &text[p + 9..];
        let e = rest.iter().position(|&c| c == b'\n').unwrap_or(rest.len());
        m.result = lossy(&rest[..e]).trim().to_string();
    }
    m
}

fn rfind(hay: &[u8], needle: &[u8]) -> Option<usize> {
    if hay.len() < needle.len() {
        return None;
    }
    hay.windows(needle.len()).rposition(|w| w == needle)
}

/// Parse a whole log file.
pub fn parse(text: &[u8]) -> LogMsg {
    let mut m = LogMsg::default();
    let at = parse_envelope(text, &mut m);
    let rest = &text[at..];
    let (msg, tail) = match find(rest, MSG_SEP) {
        Some(p) => (&rest[..p], &rest[p + MSG_SEP.len()..]),
        None => (rest, &rest[rest.len()..]),
    };
    let (h, b) = parse_headers(msg);
    m.headers = h;
    m.body = lossy(&msg[b.min(msg.len())..]).replace('\r', "");
    parse_tail(tail, &mut m);
    m
}

fn parse_tail(tail: &[u8], m: &mut LogMsg) {
    #[derive(PartialEq)]
    enum At {
        Decision,
        Table,
        After,
    }
    let mut at = At::Decision;
    // within the greylist lines: the recipient line waiting for its
    // triple line
    let mut grey: Option<Option<String>> = None;
    for line in lines(tail) {
        if let Some(pending) = grey.as_mut() {
            if let Some(rcpt) = pending.take() {
                if let Some((triple, result)) = hex4_first(&line) {
                    m.grey.push(GreyRow {
                        rcpt,
                        triple,
                        result: result.to_string(),
                    });
                    continue;
                }
            } else if let Some(rcpt) = hex4_last(&line) {
                *pending = Some(rcpt);
                continue;
            }
            grey = None;
        }
        if at == At::After && line.trim_start().starts_with("greylist recipient") {
            grey = Some(None);
            continue;
        }
        match at {
            At::Decision => {
                if line.starts_with("X-DCC") {
                    m.xdcc = line;
                    at = At::Table;
                } else if let Some(r) = line.strip_prefix("result:") {
                    m.result = r.trim().to_string();
                    at = At::After;
                } else if let Some(r) = line.strip_prefix("rejection message:") {
                    m.rejection = r.trim().to_string();
                    at = At::After;
                } else if !line.is_empty() {
                    m.decision.push(line.trim_end().to_string());
                }
            }
            At::Table => {
                if line.is_empty() {
                    at = At::After;
                } else if line.contains("reported:") && m.table_title.is_empty() {
                    m.table_title = line;
                } else if let Some(row) = ck_row(&line) {
                    m.table.push(row);
                } else {
                    m.other.push(line);
                }
            }
            At::After => {
                if let Some(r) = line.strip_prefix("result:") {
                    m.result = r.trim().to_string();
                } else if let Some(r) = line.strip_prefix("rejection message:") {
                    m.rejection = r.trim().to_string();
                } else if !line.is_empty() {
                    m.other.push(line);
                }
            }
        }
    }
}

fn is_hex8(w: &str) -> bool {
    w.len() == 8 && w.bytes().all(|c| c.is_ascii_hexdigit())
}

/// A line starting (after blanks) with four hex words: the words and
/// what follows them, trimmed.
fn hex4_first(line: &str) -> Option<(String, &str)> {
    let mut rest = line.trim_start();
    let mut words = Vec::with_capacity(4);
    for _ in 0..4 {
        let (w, r) = rest.split_once(' ').unwrap_or((rest, ""));
        if !is_hex8(w) {
            return None;
        }
        words.push(w);
        rest = r;
    }
    Some((words.join(" "), rest.trim()))
}

/// A recipient line of the greylist lines: the recipient (the words
/// before the four hex words that end the line, without their colon).
fn hex4_last(line: &str) -> Option<String> {
    let words: Vec<&str> = line.split_whitespace().collect();
    let n = words.len().checked_sub(4)?;
    if !words[n..].iter().all(|w| is_hex8(w)) {
        return None;
    }
    let rcpt = words[..n].join(" ");
    Some(rcpt.strip_suffix(':').unwrap_or(&rcpt).to_string())
}

/// `      name: xxxxxxxx xxxxxxxx xxxxxxxx xxxxxxxx  rest`.
fn ck_row(line: &str) -> Option<CkRow> {
    let (name, rest) = line.split_once(": ")?;
    let rest = rest.trim_start();
    let words: Vec<&str> = rest.splitn(5, ' ').collect();
    if words.len() < 4
        || !words[..4]
            .iter()
            .all(|w| w.len() == 8 && w.bytes().all(|c| c.is_ascii_hexdigit()))
    {
        return None;
    }
    Some(CkRow {
        name: name.trim().to_string(),
        sum: words[..4].join(" "),
        rest: words.get(4).map_or("", |r| r.trim()).to_string(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "VERSION: 3\nDATE: 11/22/26 12:08:03 UTC\n\
IP: relay.example.org ::ffff:198.51.100.81                \n\
HELO: mail.example.com\nenv_From: <alice@example.com>  mail_host=example.com\n\
env_To: <bob@example.net>  addr=bob  dir=\n\n\
From: Alice <alice@example.com>\nSubject: Hello\n  there\n\nbody <b>x</b>\r\n\
\n### end of message body ########################\n\
DCC-->spam  dccm  global-log  \n\n\
X-DCC-x-Metrics: vm 1200; bulk Body=51\n\
                            reported: 2               checksum  server thold\n\
                       IP: 3e63dc0d da76f064 8704670e 45076b06\n\
                     Body: e7ab4056 66b5f492 922c6974 e3be4999      49     3\n\
\nrejection message: 550 5.7.1 rejected by DCC\nresult: reject\n";

    #[test]
    fn whole_file() {
        let m = parse(LOG.as_bytes());
        assert_eq!(m.date, "11/22/26 12:08:03 UTC");
        assert_eq!(m.ip(), "198.51.100.81");
        assert_eq!(m.env_from, "alice@example.com");
        assert_eq!(m.mail_host, "example.com");
        assert_eq!(m.header("subject"), Some("Hello there"));
        assert_eq!(m.from_addr(), "alice@example.com");
        assert_eq!(m.rcpts(), ["bob@example.net"]);
        assert_eq!(m.body, "body <b>x</b>\n");
        assert_eq!(m.decision, ["DCC-->spam  dccm  global-log"]);
        assert_eq!(m.table.len(), 2);
        assert_eq!(m.table[1].name, "Body");
        assert_eq!(m.table[1].rest, "49     3");
        assert_eq!(m.rejection, "550 5.7.1 rejected by DCC");
        assert_eq!(m.result, "reject");
        let s = parse_summary(LOG.as_bytes());
        assert_eq!(s.result, "reject");
        assert_eq!(s.header("subject"), Some("Hello there"));
    }

    #[test]
    fn greylist_lines() {
        let log = LOG.replace(
            "\nrejection message:",
            "\n       greylist recipient\n\
          bob@example.net: b393fde9 69b66381 cf6185fa c173507f \n\
                           03f933f3 e8429cd4 7559b962 0e6af487 Embargo #1\n\
                           b393fde9 69b66381 cf6185fa c173507f \n\
                           00000001 00000002 00000003 00000004 Pass\n\
rejection message:",
        );
        let m = parse(log.as_bytes());
        assert_eq!(
            m.grey,
            [
                GreyRow {
                    rcpt: "bob@example.net".into(),
                    triple: "03f933f3 e8429cd4 7559b962 0e6af487".into(),
                    result: "Embargo #1".into(),
                },
                GreyRow {
                    rcpt: String::new(),
                    triple: "00000001 00000002 00000003 00000004".into(),
                    result: "Pass".into(),
                },
            ]
        );
        assert!(m.grey[0].embargoed() && !m.grey[1].embargoed());
        assert_eq!(m.rejection, "550 5.7.1 rejected by DCC");
        assert!(m.other.is_empty(), "{:?}", m.other);
    }

    #[test]
    fn recipients() {
        let log = LOG.replace(
            "env_To: <bob@example.net>  addr=bob  dir=\n",
            "env_To: <bob@example.net>  addr=bob  dir=\nenv_To: <>\nenv_To: carol@example.net\n",
        );
        let m = parse(log.as_bytes());
        assert_eq!(m.env_to.len(), 3);
        assert_eq!(m.rcpts(), ["bob@example.net", "carol@example.net"]);
    }

    #[test]
    fn garbage_is_fine() {
        for t in [
            &b""[..],
            b"\n\n\n",
            b"DATE",
            b"env_From: <",
            b"IP:\n\n### end",
        ] {
            let _ = parse(t);
            let _ = parse_summary(t);
        }
    }
}
