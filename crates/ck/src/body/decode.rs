//! Transfer decoders: quoted-printable and base64, with DCC's tolerance of
//! broken input.
//!
//! Both decoders work like DCC's: they fill an output buffer from as much
//! input as fits and keep their state between calls. Where a decoder stops
//! decides where the fuzzy checksummers see the end of a piece of text, and
//! base64 even drops a padding `=` that arrives exactly when its output is
//! full, so the buffer sizes are part of the result.

/// Output buffer size of one decoding pass.
pub const DECODE_BUF: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum QpSt {
    #[default]
    Idle,
    /// Seen `=`.
    Eq,
    /// Seen `=X`.
    One,
    /// Output `=` of a bad two-byte sequence; `x` is pending.
    Fail1,
    /// Output `=` of a bad three-byte sequence; `x` and `y` are pending.
    Fail2,
    /// Output `x` of a bad three-byte sequence; `y` is pending.
    Fail3,
}

/// Quoted-printable decoder state.
#[derive(Debug, Clone, Copy, Default)]
pub struct Qp {
    st: QpSt,
    x: u8,
    y: u8,
    n: u8,
}

fn hex_val(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

impl Qp {
    /// Decode from `input`, starting at `*pos`, into `out` until the input is
    /// used up or `out` is full. Returns the number of bytes written.
    ///
    /// Soft line breaks (`=\n` and `=\r\n`) disappear; an `=` not followed by
    /// two hex digits is passed through with what follows it.
    pub fn decode(&mut self, input: &[u8], pos: &mut usize, out: &mut [u8; DECODE_BUF]) -> usize {
        let mut n = 0;
        let mut i = *pos;
        while i < input.len() {
            let c = match self.st {
                QpSt::Idle => {
                    let c = input[i];
                    i += 1;
                    if c == b'=' {
                        self.st = QpSt::Eq;
                        continue;
                    }
                    c
                }
                QpSt::Eq => {
                    let c = input[i];
                    i += 1;
                    self.x = c;
                    if c == b'\n' {
                        self.st = QpSt::Idle;
                        continue;
                    }
                    if c != b'\r' {
                        match hex_val(c) {
                            Some(v) => self.n = v,
                            None => {
                                self.st = QpSt::Fail1;
                                out[n] = b'=';
                                n += 1;
                                if n >= DECODE_BUF {
                                    break;
                                }
                                continue;
                            }
                        }
                    }
                    self.st = QpSt::One;
                    continue;
                }
                QpSt::One => {
                    let c = input[i];
                    i += 1;
                    self.y = c;
                    if self.x == b'\r' {
                        if c == b'\n' {
                            self.st = QpSt::Idle;
                            continue;
                        }
                        self.st = QpSt::Fail2;
                        b'='
                    } else if let Some(v) = hex_val(c) {
                        self.st = QpSt::Idle;
                        (self.n << 4) | v
                    } else {
                        self.st = QpSt::Fail2;
                        b'='
                    }
                }
                QpSt::Fail1 => {
                    self.st = QpSt::Idle;
                    self.x
                }
                QpSt::Fail2 => {
                    self.st = QpSt::Fail3;
                    self.x
                }
                QpSt::Fail3 => {
                    self.st = QpSt::Idle;
                    self.y
                }
            };
            out[n] = c;
            n += 1;
            if n >= DECODE_BUF {
                break;
            }
        }
        *pos = i;
        n
    }
}

const B64_BAD: u8 = 0o100;
const B64_EQ: u8 = 0o101;

/// What the original finds when it looks up a byte of 128 or more.
///
/// DCC's base64 table has only 128 entries but is indexed with any byte,
/// so such a byte reads the memory behind the table in the original's
/// program. There lie four zero bytes and then the records of its HTML
/// character reference table (a length byte, the name, the character,
/// and a NUL after each bucket), bucket after bucket. A byte of 128 or
/// more is therefore not ignored: most stand for a (large) digit value,
/// 0xda acts as `=`, and the zero bytes stand for `A`.
const HIGH_BUCKETS: &[&[(&[u8], u8)]] = &[
    &[(b"hellip", b' ')],
    &[(b"Ccedil", 0xc7), (b"emsp", b' ')],
    &[(b"Icirc", 0xce), (b"ETH", 0xd0)],
    &[(b"yacute", 0xfd)],
    &[
        (b"gt", b'>'),
        (b"Uacute", 0xda),
        (b"auml", 0xe4),
        (b"oslash", 0xf8),
    ],
    &[(b"copy", 0xa9)],
    &[(b"reg", 0xae), (b"Aacute", 0xc1), (b"uuml", 0xfc)],
    &[(b"Ograve", 0xd2), (b"thinsp", b' ')],
    &[(b"uml", 0xa8)],
    &[(b"ugrave", 0xf9)],
];

/// The 128 bytes behind the original's base64 table (see [`HIGH_BUCKETS`]).
const fn high_bytes() -> [u8; 128] {
    let mut t = [0u8; 128];
    let mut at = 4;
    let mut b = 0;
    while b < HIGH_BUCKETS.len() {
        let bucket = HIGH_BUCKETS[b];
        let mut r = 0;
        while r < bucket.len() {
            let (name, value) = bucket[r];
            let mut rec = [0u8; 8];
            rec[0] = name.len() as u8;
            let mut k = 0;
            while k < name.len() {
                rec[1 + k] = name[k];
                k += 1;
            }
            rec[1 + name.len()] = value;
            let mut k = 0;
            while k < name.len() + 2 && at < 128 {
                t[at] = rec[k];
                at += 1;
                k += 1;
            }
            r += 1;
        }
        // the NUL ending the bucket
        at += 1;
        b += 1;
    }
    t
}

const fn b64_table() -> [u8; 256] {
    let high = high_bytes();
    let mut t = [B64_BAD; 256];
    let mut h = 0;
    while h < 128 {
        t[128 + h] = high[h];
        h += 1;
    }
    let mut i = 0;
    while i < 26 {
        t[b'A' as usize + i] = i as u8;
        t[b'a' as usize + i] = 26 + i as u8;
        i += 1;
    }
    let mut d = 0;
    while d < 10 {
        t[b'0' as usize + d] = 52 + d as u8;
        d += 1;
    }
    t[b'+' as usize] = 62;
    t[b'/' as usize] = 63;
    t[b'=' as usize] = B64_EQ;
    t
}

static B64: [u8; 256] = b64_table();

/// Base64 decoder state.
///
/// Faithful to DCC, a padding `=` flushes the partial quantum and is then
/// itself shifted into the next quantum as the value 65, so text after
/// padding inside one part decodes shifted.
#[derive(Debug, Clone, Copy, Default)]
pub struct B64 {
    quantum: u32,
    cnt: u8,
}

impl B64 {
    /// Forget a partial quantum (at an entity boundary); the accumulated
    /// bits stay, as in DCC.
    pub fn reset_count(&mut self) {
        self.cnt = 0;
    }

    /// Decode from `input`, starting at `*pos`, into `out` until the input is
    /// used up or at least `DECODE_BUF - 3` bytes were written. Returns the
    /// number of bytes written.
    pub fn decode(&mut self, input: &[u8], pos: &mut usize, out: &mut [u8; DECODE_BUF]) -> usize {
        const LIMIT: usize = DECODE_BUF - 3;
        let mut n = 0;
        let mut i = *pos;
        while i < input.len() {
            // fast path: a whole quantum of four digits, which the loop
            // below would shift in one at a time before writing its three
            // bytes (shifting by 6 four times is shifting by 24 once)
            if self.cnt == 0 && n + 3 < LIMIT {
                if let Some(&[c0, c1, c2, c3]) = input.get(i..i + 4) {
                    let v = [c0, c1, c2, c3].map(|c| B64[usize::from(c)]);
                    if v.iter().all(|&x| x != B64_BAD && x != B64_EQ) {
                        let q = (self.quantum << 24)
                            | (u32::from(v[0]) << 18)
                            | (u32::from(v[1]) << 12)
                            | (u32::from(v[2]) << 6)
                            | u32::from(v[3]);
                        self.quantum = q;
                        out[n] = (q >> 16) as u8;
                        out[n + 1] = (q >> 8) as u8;
                        out[n + 2] = q as u8;
                        n += 3;
                        i += 4;
                        continue;
                    }
                }
            }
            let v = B64[usize::from(input[i])];
            i += 1;
            if v == B64_BAD {
                continue;
            }
            if v == B64_EQ {
                let q = self.quantum;
                match self.cnt {
                    2 => {
                        out[n] = (q >> 4) as u8;
                        n += 1;
                    }
                    3 => {
                        out[n] = (q >> 10) as u8;
                        out[n + 1] = (q >> 2) as u8;
                        n += 2;
                    }
                    _ => {}
                }
                self.cnt = 0;
                if n >= LIMIT {
                    break;
                }
            }
            self.quantum = (self.quantum << 6) | u32::from(v);
            self.cnt += 1;
            if self.cnt >= 4 {
                self.cnt = 0;
                let q = self.quantum;
                out[n] = (q >> 16) as u8;
                out[n + 1] = (q >> 8) as u8;
                out[n + 2] = q as u8;
                n += 3;
                if n >= LIMIT {
                    break;
                }
            }
        }
        *pos = i;
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qp(s: &[u8]) -> Vec<u8> {
        let mut d = Qp::default();
        let mut out = [0u8; DECODE_BUF];
        let mut pos = 0;
        let mut v = Vec::new();
        while pos < s.len() {
            let n = d.decode(s, &mut pos, &mut out);
            v.extend_from_slice(&out[..n]);
        }
        v
    }

    fn b64(s: &[u8]) -> Vec<u8> {
        let mut d = B64::default();
        let mut out = [0u8; DECODE_BUF];
        let mut pos = 0;
        let mut v = Vec::new();
        while pos < s.len() {
            let n = d.decode(s, &mut pos, &mut out);
            v.extend_from_slice(&out[..n]);
        }
        v
    }

    #[test]
    fn quoted_printable() {
        assert_eq!(qp(b"a=3Db=\nc=\r\nd"), b"a=bcd");
        assert_eq!(qp(b"x=zy"), b"x=zy");
        assert_eq!(qp(b"x=4qz"), b"x=4qz");
        // like DCC, the bytes of a failed escape are only passed on while
        // more input follows, so they are lost at the very end
        assert_eq!(qp(b"x=4q"), b"x=");
    }

    #[test]
    fn base64() {
        assert_eq!(b64(b"aGVsbG8gd29ybGQ=\n"), b"hello world");
        assert_eq!(b64(b"SGk=\n"), b"Hi");
    }

    #[test]
    fn base64_high_bytes_read_behind_the_table() {
        let high = high_bytes();
        assert_eq!(&high[..4], &[0, 0, 0, 0]);
        assert_eq!(&high[4..13], b"\x06hellip \0");
        assert_eq!(&high[0x4d..0x54], b"\x04copy\xa9\0");
        assert_eq!(high[0x5a], B64_EQ);
        assert_eq!(high[0x7f], 6);
        // zero bytes decode like 'A', 0xda pads like '='
        assert_eq!(b64(b"\x80\x81\x82\x83"), b64(b"AAAA"));
        assert_eq!(b64(b"SGk\xda"), b"Hi");
        // values above 63 spill into the bits of the digit before
        assert_eq!(b64(b"AAA\xa2"), [0, 0, 0xce]);
        assert_eq!(b64(b"AAB\xa2"), [0, 0, 0xce]);
    }
}
