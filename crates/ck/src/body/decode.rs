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
                    // the bytes before the next '=' go out as they are, as
                    // many at once as there is room for
                    let rest = input.get(i..).unwrap_or(&[]);
                    let span = rest.get(..DECODE_BUF - n).unwrap_or(rest);
                    let k = crate::scan::find_byte(span, b'=').unwrap_or(span.len());
                    if k != 0 {
                        if let (Some(d), Some(s)) = (out.get_mut(n..n + k), span.get(..k)) {
                            d.copy_from_slice(s);
                        }
                        n += k;
                        i += k;
                        if n >= DECODE_BUF {
                            break;
                        }
                        continue;
                    }
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
    /// Up to eight quanta at once (the x86-64 kernel; call only where
    /// [`super::classes::avx2`] is true): those of the digits at the start
    /// of the 32 bytes of `src`, decoded into `dst`. Returns how many (0
    /// when `src` or `dst` is short of 32 bytes) and the quantum they leave,
    /// as decoding them one by one would: the last three bytes and, above
    /// them, the last bits of the quantum before.
    #[inline]
    fn quanta(&self, src: Option<&[u8]>, dst: Option<&mut [u8]>) -> (usize, u32) {
        #[cfg(target_arch = "x86_64")]
        {
            let (Some(Ok(src)), Some(Ok(dst))) = (
                src.map(<&[u8; 32]>::try_from),
                dst.map(<&mut [u8; 32]>::try_from),
            ) else {
                return (0, self.quantum);
            };
            // SAFETY: the caller checked classes::avx2(), true only where
            // x86::avx2() is
            let q = unsafe { super::x86::b64_32(src, dst) } as usize / 4;
            let before = match q {
                0 => return (0, self.quantum),
                1 => self.quantum,
                _ => u32::from(dst[3 * q - 4]),
            };
            let last = [dst[3 * q - 3], dst[3 * q - 2], dst[3 * q - 1]];
            let last = u32::from_be_bytes([0, last[0], last[1], last[2]]);
            (q, (before << 24) | last)
        }
        #[cfg(not(target_arch = "x86_64"))]
        {
            let _ = (src, dst);
            (0, self.quantum)
        }
    }

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
        let avx2 = super::classes::avx2();
        let mut n = 0;
        let mut i = *pos;
        while i < input.len() {
            // faster still: up to eight quanta at once, short of the
            // output limit (the byte-wise path would not stop within them)
            if avx2 && self.cnt == 0 && n + 24 < LIMIT && B64[usize::from(input[i])] < 64 {
                let (q, quantum) = self.quanta(input.get(i..i + 32), out.get_mut(n..n + 32));
                if q != 0 {
                    self.quantum = quantum;
                    n += 3 * q;
                    i += 4 * q;
                    continue;
                }
            }
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
    use crate::body::classes::tests::{text, with_portable};

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

    /// `b64` with the x86-64 kernels switched off on this thread.
    fn b64_portable(s: &[u8]) -> Vec<u8> {
        with_portable(true, || b64(s))
    }

    /// 32 digits at a time agree with digit by digit: every byte value at
    /// every place of a block of digits, each block also after a partial
    /// quantum and a padding `=`, and near the output limit.
    #[test]
    fn base64_blocks_equal_the_bytewise_path() {
        let digits: Vec<u8> = (b'A'..=b'Z')
            .chain(b'a'..=b'z')
            .chain(b'0'..=b'9')
            .chain([b'+', b'/'])
            .collect();
        let mut block: Vec<u8> = (0..96).map(|k| digits[(k * 7 + 3) % 64]).collect();
        for c in 0..=255u8 {
            for at in 0..96 {
                let keep = block[at];
                block[at] = c;
                for prefix in [&b""[..], b"Q", b"QU=", b"\n"] {
                    let text = [prefix, &block[..]].concat();
                    assert_eq!(b64(&text), b64_portable(&text), "byte {c:#x} at {at}");
                }
                block[at] = keep;
            }
        }
        // every digit's value, in each place of a quantum
        let all: Vec<u8> = digits.iter().chain(digits.iter().rev()).copied().collect();
        assert_eq!(b64(&all), b64_portable(&all));
        // output limit: quanta ending at and around DECODE_BUF - 3
        for len in (DECODE_BUF - 40) * 4 / 3..(DECODE_BUF + 40) * 4 / 3 {
            let text: Vec<u8> = (0..len).map(|k| digits[k % 64]).collect();
            // one call: what it wrote, where it stopped, the state it left
            let once = |off: bool| {
                with_portable(off, || {
                    let mut d = B64::default();
                    let mut out = [0u8; DECODE_BUF];
                    let mut pos = 0;
                    let n = d.decode(&text, &mut pos, &mut out);
                    ((n, pos, d.quantum, d.cnt), out[..n].to_vec())
                })
            };
            let ((got, out), (want, out2)) = (once(false), once(true));
            assert_eq!(got, want, "{len} digits");
            assert_eq!(out, out2);
        }
    }

    proptest::proptest! {
        /// Quoted-printable text decodes the same whole (runs without `=`
        /// copied at once, across the output buffer's end) as fed one byte
        /// per call, where every byte takes the byte-wise path.
        #[test]
        fn quoted_printable_runs_equal_bytewise(
            text in text(b"abcXYZ09 \t.", 6, b"=\r\n3dDfFgG", 2, 3000),
        ) {
            let mut d = Qp::default();
            let mut out = [0u8; DECODE_BUF];
            let mut one = Vec::new();
            for k in 0..text.len() {
                let mut pos = 0;
                let n = d.decode(&text[k..=k], &mut pos, &mut out);
                one.extend_from_slice(&out[..n]);
            }
            proptest::prop_assert_eq!(qp(&text), one);
        }

        /// Base64-like text (digits, line ends, padding, other and high
        /// bytes) decodes the same with the kernels and without, in pieces.
        #[test]
        fn base64_kernel_equals_portable(
            text in text(
                b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/",
                8,
                b"=\n\r -.",
                1,
                600,
            ),
            cut in 0usize..600,
        ) {
            let cut = cut.min(text.len());
            let (a, b) = text.split_at(cut);
            let run = |off: bool| with_portable(off, || {
                let mut d = B64::default();
                let mut v = Vec::new();
                for piece in [a, b] {
                    let mut out = [0u8; DECODE_BUF];
                    let mut pos = 0;
                    while pos < piece.len() {
                        let n = d.decode(piece, &mut pos, &mut out);
                        v.extend_from_slice(&out[..n]);
                    }
                }
                (v, d.quantum, d.cnt)
            });
            proptest::prop_assert_eq!(run(false), run(true));
        }
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
