//! The Body checksum: MD5 of the (decoded) body without white space.
//!
//! Spaces, tabs, CRs, line feeds and `=` are ignored, and the `>` that old
//! UNIX mailers put before `From` at the start of a line is dropped. Fewer
//! than 30 remaining bytes give no checksum.

use super::md5x::{Hub, BODY};

/// Bytes gathered before they are hashed (a power of two).
const BATCH: usize = 4096;
const FROM: &[u8; 6] = b"\n>From";

/// Body checksum state.
#[derive(Clone)]
pub struct Plain {
    total: u32,
    /// Bytes of "\n>From" matched so far.
    flen: usize,
}

impl Default for Plain {
    fn default() -> Self {
        Plain { total: 0, flen: 1 }
    }
}

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

/// Whether one of the eight bytes of `x` is a line feed.
#[inline]
fn has_line_feed(x: u64) -> bool {
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGH: u64 = u64::from_le_bytes([0x80; 8]);
    let y = x ^ u64::from_le_bytes([b'\n'; 8]);
    y.wrapping_sub(ONES) & !y & HIGH != 0
}

impl Plain {
    fn hash(&mut self, hub: &mut Hub, bytes: &[u8]) {
        self.total = self.total.wrapping_add(bytes.len() as u32);
        hub.push(BODY, bytes);
    }

    /// Append `bytes` (at most a few) to the batch in `out`.
    fn put(&mut self, hub: &mut Hub, out: &mut [u8; BATCH], len: &mut usize, bytes: &[u8]) {
        if *len + bytes.len() > BATCH {
            self.hash(hub, &out[..*len]);
            *len = 0;
        }
        if let Some(d) = out.get_mut(*len..*len + bytes.len()) {
            d.copy_from_slice(bytes);
            *len += bytes.len();
        }
    }

    /// More text.
    pub fn update(&mut self, hub: &mut Hub, data: &[u8]) {
        let mut out = [0u8; BATCH];
        let mut len = 0;
        let mut flen = self.flen;
        let mut rest = data;
        while let Some((&c, tail)) = rest.split_first() {
            if flen == 0 {
                // fast path: gather the kept bytes up to the next line end;
                // the piece fits in the batch, so no byte can overflow it
                let piece = rest.get(..BATCH - len).unwrap_or(rest);
                let mut used = piece.len();
                // eight bytes at a time while they hold no line feed
                let mut start = 0;
                for ch in piece.chunks_exact(8) {
                    let x = u64::from_le_bytes([
                        ch[0], ch[1], ch[2], ch[3], ch[4], ch[5], ch[6], ch[7],
                    ]);
                    if has_line_feed(x) {
                        break;
                    }
                    for &c in ch {
                        out[len & (BATCH - 1)] = c;
                        len += usize::from(KEEP[usize::from(c)]);
                    }
                    start += 8;
                }
                let tail = piece.get(start..).unwrap_or(&[]);
                for (k, &c) in (start..).zip(tail) {
                    // branch-free: store always, keep only what counts
                    out[len & (BATCH - 1)] = c;
                    len += usize::from(KEEP[usize::from(c)]);
                    if c == b'\n' {
                        used = k + 1;
                        flen = 1;
                        break;
                    }
                }
                rest = rest.get(used..).unwrap_or(&[]);
                if len >= BATCH {
                    self.hash(hub, &out);
                    len = 0;
                }
                continue;
            }
            rest = tail;
            if c == FROM[flen] {
                flen += 1;
                if flen >= FROM.len() {
                    self.put(hub, &mut out, &mut len, b"From");
                    flen = 0;
                }
                continue;
            }
            // not "\n>From": the bytes matched after the line feed count
            if flen > 1 {
                self.put(hub, &mut out, &mut len, &FROM[1..flen]);
            }
            flen = 0;
            if c == b'\n' {
                flen = 1;
            } else if KEEP[usize::from(c)] != 0 {
                self.put(hub, &mut out, &mut len, &[c]);
            }
        }
        if len != 0 {
            self.hash(hub, &out[..len]);
        }
        self.flen = flen;
    }

    /// The checksum, or None with fewer than 30 bytes.
    pub fn finish(&mut self, hub: &mut Hub) -> Option<[u8; 16]> {
        let sum = hub.finish(BODY);
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
}
