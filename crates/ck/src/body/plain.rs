//! The Body checksum: MD5 of the (decoded) body without white space.
//!
//! Spaces, tabs, CRs, line feeds and `=` are ignored, and the `>` that old
//! UNIX mailers put before `From` at the start of a line is dropped. Fewer
//! than 30 remaining bytes give no checksum.

use super::md5x::{Hub, BODY, CAP};

const FROM: &[u8; 6] = b"\n>From";

/// Body checksum state.
#[derive(Clone)]
pub struct Plain {
    total: u32,
    /// Bytes of "\n>From" matched so far.
    flen: usize,
    /// The x86-64 kernels may run ([`super::x86::avx2`]).
    avx2: bool,
}

impl Default for Plain {
    fn default() -> Self {
        Plain {
            total: 0,
            flen: 1,
            avx2: avx2(),
        }
    }
}

use super::classes::avx2;

/// 1 for the bytes that count, 0 for the ignored white space, '=' and the
/// line feed (which is handled apart).
const KEEP: [u8; 256] = {
    let mut t = [1u8; 256];
    t[b' ' as usize] = 0;
    t[b'\t' as usize] = 0;
    t[b'\r' as usize] = 0;
    t[b'\n' as usize] = 0;
    t[b'=' as usize] = 0;
    t
};

/// [`KEEP`] as booleans.
const KEPT: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = KEEP[c] != 0;
        c += 1;
    }
    t
};

/// Whether one of the eight bytes of `x` is a line feed.
#[inline]
fn has_line_feed(x: u64) -> bool {
    crate::scan::has_byte(x, b'\n')
}

impl Plain {
    /// Hash a few bytes (of the "\n>From" matcher).
    fn put(&mut self, hub: &mut Hub, bytes: &[u8]) {
        self.total = self.total.wrapping_add(bytes.len() as u32);
        hub.push(BODY, bytes);
    }

    /// Gather the kept bytes of `piece` up to and including its first line
    /// feed straight into the Body stream's pending buffer. Returns the
    /// bytes of `piece` used and whether a line feed ended them.
    #[inline]
    fn line(&mut self, hub: &mut Hub, piece: &[u8]) -> (usize, bool) {
        let (out, start_len) = hub.space(BODY);
        let mut len = start_len;
        // at most CAP - len bytes are looked at, each stored at an index
        // below CAP before it is counted, so no kept byte is overwritten
        let piece = piece.get(..CAP - len).unwrap_or(piece);
        let mut used = piece.len();
        let mut line_end = false;
        // eight bytes at a time while they hold no line feed, written at
        // `len` of which each kept byte advances the next one's place
        let mut start = 0;
        #[cfg(target_arch = "x86_64")]
        if self.avx2 {
            // 32 bytes at a time, line feeds too, up to one that may
            // start "\n>From"
            let dst = out.get_mut(len..CAP).unwrap_or(&mut []);
            // SAFETY: self.avx2 is set only where x86::avx2() is true
            let (used, kept) = unsafe { super::x86::body_keep(piece, dst) };
            len += kept;
            start += used;
        }
        for ch in piece.get(start..).unwrap_or(&[]).chunks_exact(8) {
            let Ok(raw) = <[u8; 8]>::try_from(ch) else {
                break;
            };
            if has_line_feed(u64::from_le_bytes(raw)) {
                break;
            }
            // len < CAP here, so the eight places are within the buffer
            let Some(dst) = out.get_mut(len..len + 8) else {
                break;
            };
            let mut o = 0;
            for c in raw {
                // branch-free: store always, keep only what counts; o is
                // at most the number of bytes before c, below 8
                dst[o & 7] = c;
                o += usize::from(KEPT[usize::from(c)]);
            }
            len += o;
            start += 8;
        }
        let tail = piece.get(start..).unwrap_or(&[]);
        for (k, &c) in (start..).zip(tail) {
            out[len & (CAP - 1)] = c;
            len += usize::from(KEEP[usize::from(c)]);
            if c == b'\n' {
                used = k + 1;
                line_end = true;
                break;
            }
        }
        self.total = self.total.wrapping_add((len - start_len) as u32);
        hub.filled(BODY, len);
        (used, line_end)
    }

    /// More text.
    pub fn update(&mut self, hub: &mut Hub, data: &[u8]) {
        let mut flen = self.flen;
        let mut rest = data;
        while let Some((&c, tail)) = rest.split_first() {
            if flen == 0 {
                // fast path: the kept bytes up to the next line end
                let (used, line_end) = self.line(hub, rest);
                if line_end {
                    flen = 1;
                }
                rest = rest.get(used..).unwrap_or(&[]);
                continue;
            }
            if flen == 1 && c != FROM[1] {
                // the usual line start: no "\n>From" here, and the byte is
                // handled by the fast path as the slow one would
                flen = 0;
                continue;
            }
            rest = tail;
            if c == FROM[flen] {
                flen += 1;
                if flen >= FROM.len() {
                    self.put(hub, b"From");
                    flen = 0;
                }
                continue;
            }
            // not "\n>From": the bytes matched after the line feed count
            if flen > 1 {
                self.put(hub, &FROM[1..flen]);
            }
            flen = 0;
            if c == b'\n' {
                flen = 1;
            } else if KEEP[usize::from(c)] != 0 {
                self.put(hub, &[c]);
            }
        }
        self.flen = flen;
    }

    /// The checksum, or None with fewer than 30 bytes.
    #[cfg(test)]
    pub fn finish(&mut self, hub: &mut Hub) -> Option<[u8; 16]> {
        let sum = hub.finish(BODY);
        self.result(sum)
    }

    /// The checksum given the MD5 of the Body stream.
    pub fn result(&self, sum: [u8; 16]) -> Option<[u8; 16]> {
        (self.total >= 30).then_some(sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_feed_test_is_exact() {
        for pos in 0..8 {
            for other in [0u8, 0x0b, 0x09, 0x8a, 0xff, b'a'] {
                let mut b = [other; 8];
                assert!(!has_line_feed(u64::from_le_bytes(b)) || other == b'\n');
                b[pos] = b'\n';
                assert!(has_line_feed(u64::from_le_bytes(b)));
            }
        }
    }

    /// The Body sum of `data` fed in pieces of `step` bytes, with or
    /// without the x86-64 kernels.
    fn body_sum(data: &[u8], step: usize, avx2: bool) -> Option<[u8; 16]> {
        let mut hub = Hub::default();
        // the kernels only where the processor has them
        let mut p = Plain {
            avx2: avx2 && super::avx2(),
            ..Plain::default()
        };
        for piece in data.chunks(step) {
            p.update(&mut hub, piece);
        }
        p.finish(&mut hub)
    }

    #[test]
    fn kernels_equal_the_portable_path() {
        let mut seed = 99u64;
        let alphabet = b"ab =\t\r\n>From\xe9\x00";
        for round in 0..300 {
            let len = 1 + round * 97 % 20_000;
            let data: Vec<u8> = (0..len)
                .map(|_| {
                    seed = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
                    alphabet[(seed >> 33) as usize % alphabet.len()]
                })
                .collect();
            let want = body_sum(&data, data.len(), false);
            for step in [1, 7, 31, 32, 33, 4096, data.len()] {
                assert_eq!(
                    body_sum(&data, step, true),
                    want,
                    "round {round} step {step}"
                );
            }
        }
        let text =
            b"Hello world, this is a line of text = with =3D signs\r\n>From me\n".repeat(500);
        assert_eq!(body_sum(&text, 1000, true), body_sum(&text, 1000, false));
    }
}
