//! The Body checksum: MD5 of the (decoded) body without white space.
//!
//! Spaces, tabs, CRs, line feeds and `=` are ignored, and the `>` that old
//! UNIX mailers put before `From` at the start of a line is dropped. Fewer
//! than 30 remaining bytes give no checksum.

use md5::{Digest, Md5};

const BATCH: usize = 1024;
const FROM: &[u8; 6] = b"\n>From";

/// Body checksum state.
#[derive(Clone)]
pub struct Plain {
    total: u32,
    /// Bytes of "\n>From" matched so far.
    flen: usize,
    md5: Md5,
}

impl Default for Plain {
    fn default() -> Self {
        Plain {
            total: 0,
            flen: 1,
            md5: Md5::new(),
        }
    }
}

/// 1 for the bytes that count, 0 for the ignored white space and '='.
const KEEP: [u8; 256] = {
    let mut t = [1u8; 256];
    t[b' ' as usize] = 0;
    t[b'\t' as usize] = 0;
    t[b'\r' as usize] = 0;
    t[b'=' as usize] = 0;
    t
};

struct Batch {
    buf: [u8; BATCH + 8],
    len: usize,
}

impl Batch {
    #[inline]
    fn push(&mut self, bytes: &[u8], st: &mut Plain) {
        self.buf[self.len..self.len + bytes.len()].copy_from_slice(bytes);
        self.len += bytes.len();
        if self.len >= BATCH {
            self.flush(st);
        }
    }

    #[inline]
    fn flush(&mut self, st: &mut Plain) {
        st.total = st.total.wrapping_add(self.len as u32);
        st.md5.update(&self.buf[..self.len]);
        self.len = 0;
    }
}

impl Plain {
    /// More text.
    pub fn update(&mut self, data: &[u8]) {
        let mut b = Batch {
            buf: [0; BATCH + 8],
            len: 0,
        };
        let mut flen = self.flen;
        let mut i = 0;
        while i < data.len() {
            if flen == 0 {
                // fast path: copy bytes until the next line end
                let mut len = b.len;
                while let Some(&c) = data.get(i) {
                    if c == b'\n' {
                        break;
                    }
                    i += 1;
                    // branch-free: store always, keep only non-blanks
                    b.buf[len] = c;
                    len += usize::from(KEEP[usize::from(c)]);
                    if len >= BATCH {
                        b.len = len;
                        b.flush(self);
                        len = 0;
                    }
                }
                b.len = len;
                if i >= data.len() {
                    break;
                }
            }
            let c = data[i];
            i += 1;
            if flen != 0 {
                if c == FROM[flen] {
                    flen += 1;
                    if flen >= FROM.len() {
                        b.push(b"From", self);
                        flen = 0;
                    }
                    continue;
                }
                flen -= 1;
                if flen != 0 {
                    b.push(&FROM[1..=flen], self);
                }
                flen = 0;
            }
            if c == b'\n' {
                flen = 1;
                continue;
            }
            if matches!(c, b' ' | b'\t' | b'\r' | b'=') {
                continue;
            }
            b.push(&[c], self);
        }
        if b.len != 0 {
            b.flush(self);
        }
        self.flen = flen;
    }

    /// The checksum, or None with fewer than 30 bytes.
    pub fn finish(&mut self) -> Option<[u8; 16]> {
        let sum: [u8; 16] = std::mem::take(&mut self.md5).finalize().into();
        (self.total >= 30).then_some(sum)
    }
}
