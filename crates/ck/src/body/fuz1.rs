//! The Fuz1 checksum: MD5 of the lower-cased ASCII letters of the text.
//!
//! Letters are collected line by line in a small buffer. Short lines that
//! start with "dear", "hello", "greeting" or "date" are dropped, at most
//! 4 KiB of letters count, and URLs are reduced to the last two labels of
//! their host names (see [`super::url`]). The buffer is hashed whenever it is
//! about to overflow and at the end of each piece of text handed over when
//! the piece ends on a line boundary; after such a flush the next line cannot
//! be dropped, which is why the callers reproduce DCC's piece boundaries.

use super::md5x::{Hub, FUZ1};
use super::url::{Url, UrlRes};

/// Longest line that may be dropped as a greeting.
pub const MAX_LINE: usize = 78;
/// Size of the letter buffer (four lines plus room for "https").
pub const BUF_LEN: usize = MAX_LINE * 4 + 5;
/// Size of the array behind the letter buffer: a power of two above
/// `BUF_LEN`, so that the fast path can index it without bounds checks.
const BUF_CAP: usize = 512;
const _: () = assert!(BUF_CAP.is_power_of_two() && BUF_CAP > BUF_LEN);
/// Most letters that take part in the checksum.
const MAX_TOTAL: u32 = 4 * 1024;

/// Fuz1 state, including the URL recogniser that edits its buffer.
#[derive(Clone)]
pub struct Fuz1 {
    pub total: u32,
    pub cp: usize,
    pub eol: Option<usize>,
    pub buf: [u8; BUF_CAP],
    pub url: Url,
}

impl Default for Fuz1 {
    fn default() -> Self {
        Fuz1 {
            total: 0,
            cp: 0,
            eol: None,
            buf: [0; BUF_CAP],
            url: Url::default(),
        }
    }
}

/// `FAST` value of bytes the fast path leaves to the general one.
const STOP: u8 = 0xff;

/// For the fast path: the lower-case letter, 0 for bytes that are
/// ignored, or `STOP` for 'h', '=' and '\n' (URL starts and line ends).
const FAST: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let l = (c as u8).to_ascii_lowercase();
        if l == b'h' || l == b'=' || l == b'\n' {
            t[c] = STOP;
        } else if l.is_ascii_lowercase() {
            t[c] = l;
        }
        c += 1;
    }
    t
};

/// [`super::x86::fuz1_keep`] on these bytes, (0, 0) where either is short
/// or the kernel is missing. Call only where [`super::classes::avx2`] is
/// true.
#[inline]
fn keep32(src: Option<&[u8]>, dst: Option<&mut [u8]>) -> (usize, usize) {
    let (Some(Ok(src)), Some(Ok(dst))) = (
        src.map(<&[u8; 33]>::try_from),
        dst.map(<&mut [u8; 32]>::try_from),
    ) else {
        return (0, 0);
    };
    #[cfg(target_arch = "x86_64")]
    {
        // SAFETY: the caller checked classes::avx2(), true only where
        // x86::avx2() is
        unsafe { super::x86::fuz1_keep(src, dst) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    {
        let _ = (src, dst);
        (0, 0)
    }
}

fn greeting(line: &[u8]) -> bool {
    [&b"dear"[..], b"hello", b"greeting", b"date"]
        .iter()
        .any(|w| line.len() > w.len() && line.starts_with(w))
}

impl Fuz1 {
    /// Hash the first `len` bytes of the buffer, within the overall limit
    /// (they go to the Fuz1 stream of `hub`).
    fn add_sum(&mut self, hub: &mut Hub, len: usize) {
        let room = (MAX_TOTAL.saturating_sub(self.total)) as usize;
        let len = len.min(room).min(BUF_LEN);
        if len == 0 {
            return;
        }
        hub.push(FUZ1, &self.buf[..len]);
        self.total += len as u32;
    }

    /// Hash and empty the whole buffer.
    ///
    /// The buffer is cleared as the original clears it: bytes past the end
    /// are hashed only where a URL's host name ends after such a flush
    /// ([`Fuz1::url_host_end`] can move the end forward again), and there
    /// they must be zeros.
    fn flush_all(&mut self, hub: &mut Hub) {
        self.add_sum(hub, self.cp);
        self.cp = 0;
        self.eol = None;
        self.buf.fill(0);
    }

    /// Nothing more can change a result: the 4 KiB of letters that count
    /// have been hashed, and with at least `MIN_WORDS` English words Fuz2
    /// recognises enough words in its best language never to need the host
    /// names the URL recogniser keeps. Greeting removal and buffer flushes
    /// then only touch bytes that no longer reach the MD5, so the text can
    /// be ignored.
    #[inline]
    fn saturated(&self, wtotal0: u32) -> bool {
        self.total >= MAX_TOTAL && wtotal0 >= super::fuz2::MIN_WORDS
    }

    /// One piece of decoded text. `wtotal0` is the English word count of
    /// Fuz2 so far, which decides how many host names are kept for Fuz2.
    pub fn update(&mut self, hub: &mut Hub, data: &[u8], wtotal0: u32) {
        if self.saturated(wtotal0) {
            return;
        }
        let avx2 = super::classes::avx2();
        let mut i = 0;
        loop {
            if self.url.idle() {
                // fast path: letters other than 'h' go straight to the
                // buffer and other bytes except '=' and '\n' do nothing
                let mut cp = self.cp;
                // the kernel passes over an 'h' that starts no URL, which
                // must reach a character reference still open
                let kernel = avx2 && !self.url.cref_active();
                loop {
                    // no more than `room` bytes can fill the buffer up
                    let mut room = (BUF_LEN - 2).saturating_sub(cp);
                    // 32 bytes at a time while they fit (the x86-64 kernel)
                    while kernel && room >= 32 {
                        let (used, kept) =
                            keep32(data.get(i..i + 33), self.buf.get_mut(cp..cp + 32));
                        cp += kept;
                        i += used;
                        room -= kept;
                        if used < 32 {
                            break;
                        }
                    }
                    let rest = data.get(i..).unwrap_or(&[]);
                    let piece = rest.get(..room).unwrap_or(rest);
                    if piece.is_empty() {
                        break;
                    }
                    let mut k = 0;
                    let mut stop = false;
                    for &raw in piece {
                        let v = FAST[usize::from(raw)];
                        if v == STOP {
                            stop = true;
                            break;
                        }
                        // branch-free: store always, keep only letters
                        self.buf[cp & (BUF_CAP - 1)] = v;
                        cp += usize::from(v != 0);
                        k += 1;
                    }
                    i += k;
                    if !stop {
                        continue;
                    }
                    // an 'h' not followed by 't' starts no URL: the URL
                    // recogniser would only look at the next byte and fall
                    // back to idle, and both bytes count as usual (not so
                    // while a character reference is still open: the 'h'
                    // goes to it)
                    let (Some(&raw), Some(&next)) = (data.get(i), data.get(i + 1)) else {
                        break;
                    };
                    let n = next.to_ascii_lowercase();
                    if raw | 0x20 != b'h'
                        || n == b't'
                        || n == b'&'
                        || n == b'\n'
                        || self.url.cref_active()
                    {
                        break;
                    }
                    // room >= 1, so both bytes fit
                    if let Some(slot) = self.buf.get_mut(cp) {
                        *slot = b'h';
                    }
                    cp += 1;
                    if let Some(slot) = self.buf.get_mut(cp) {
                        *slot = n;
                    }
                    cp += usize::from(n.is_ascii_lowercase());
                    i += 2;
                }
                self.cp = cp;
            }
            let Some(&raw) = data.get(i) else {
                if self.cp != 0 && self.eol == Some(self.cp) {
                    self.flush_all(hub);
                }
                return;
            };
            i += 1;
            let c = raw.to_ascii_lowercase();
            if c == b'h' || c == b'=' || !self.url.idle() {
                match self.ck_url(c, &mut i, wtotal0) {
                    UrlRes::Fwd => {}
                    UrlRes::CkSpace => {
                        while self.cp >= BUF_LEN - super::url::HOST_MAX {
                            match self.eol {
                                None => self.flush_all(hub),
                                Some(e) => {
                                    let e = e.min(self.cp);
                                    self.add_sum(hub, e);
                                    self.buf.copy_within(e..self.cp, 0);
                                    self.cp -= e;
                                    self.eol = None;
                                    self.buf[self.cp..].fill(0);
                                }
                            }
                        }
                    }
                    UrlRes::Skip => continue,
                }
            }
            if c.is_ascii_lowercase() {
                if let Some(slot) = self.buf.get_mut(self.cp) {
                    *slot = c;
                }
                self.cp += 1;
                if self.cp < BUF_LEN {
                    continue;
                }
                self.flush_all(hub);
                self.url.set_idle();
                continue;
            }
            if c == b'\n' {
                if let Some(e) = self.eol {
                    if self.cp > e {
                        let len = self.cp - e;
                        if len <= MAX_LINE && greeting(&self.buf[e..self.cp]) {
                            self.cp = e;
                            self.url.set_idle();
                            continue;
                        }
                    }
                }
                if self.cp >= BUF_LEN - (MAX_LINE + 5) {
                    self.flush_all(hub);
                    self.url.set_idle();
                    continue;
                }
                self.eol = Some(self.cp);
            }
        }
    }

    /// The checksum given the MD5 of the Fuz1 stream, or None with fewer
    /// than 30 letters.
    pub fn result(&self, sum: [u8; 16]) -> Option<[u8; 16]> {
        (self.total >= 30).then_some(sum)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::body::classes::tests::{text, with_portable};

    /// Letters hashed, the buffer and the MD5 of the stream after `text`
    /// in two pieces (cut at `cut`), with the x86-64 kernel or without.
    fn run(text: &[u8], cut: usize, off: bool) -> (u32, Vec<u8>, Option<usize>, [u8; 16]) {
        let mut f = Fuz1::default();
        let mut hub = Hub::default();
        let (a, b) = text.split_at(cut.min(text.len()));
        with_portable(off, || {
            for piece in [a, b] {
                f.update(&mut hub, piece, 0);
            }
        });
        let sum = hub.finish(FUZ1);
        (f.total, f.buf[..f.cp].to_vec(), f.eol, sum)
    }

    #[test]
    fn kernel_stops_where_the_bytewise_path_must_look() {
        let cases: [&[u8]; 13] = [
            b"ah='ttp://www.example.com/path and more words here to fill the block up ",
            b"ah=\"http://www.example.com/it's a path\" and more words to fill it up ",
            b"ahhttp://www.example.com/path and more words here to fill the block up ",
            b"ah=http://www.example.com/path and more words here to fill the block up ",
            b"Hh=\nhttp://www.example.org/ soft line breaks in a URL, more words here. ",
            b"the weather here is hot, ha ha: http://www.example.com/x and more text\n",
            b"hhhhttp hh= h& h\nhT hH h=x H\n ==hello there, this is a much longer line",
            b"dear friend, this is a greeting line that is dropped\nthe rest stays here!",
            b"Hello\nDear sir\ndate: 2026\nno greeting here, but enough letters to count",
            b"=3D=20 soft=\nbreaks and such, with h at the end of the block........h",
            b"0123456789 !@#$%^&*() \xe9\xe8 letters AND LETTERS and more LETTERS, HTTPS",
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaahtaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaah&aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        ];
        for text in cases {
            let long = text.repeat(12);
            for cut in [0, 1, 31, 32, 33, 70, long.len()] {
                assert_eq!(run(&long, cut, false), run(&long, cut, true), "{cut}");
            }
        }
    }

    /// The buffer fills inside a character reference of a URL (here in
    /// the user name part, whose letters count but are no host name): the
    /// URL state goes back to idle and the reference stays open. In the
    /// original only an 'h' or '=' reaches the recogniser then; the first
    /// 'h' ends the reference (`&#xaaa...` saturated at 255) and is handed
    /// back, so it counts twice: "hz" leaves "hhz" in the buffer (also
    /// where the x86-64 kernel would take 32 bytes at once).
    #[test]
    fn h_ends_a_reference_left_open_by_a_full_buffer() {
        let mut text = b"http://u:&#x".to_vec();
        // "h", "u" and "x" are in the buffer: 311 more letters fill it
        text.extend_from_slice(&[b'a'; 311]);
        text.extend_from_slice(b"xxhz hallo, and some more words after it");
        for off in [false, true] {
            let (total, buf, _, _) = run(&text, text.len(), off);
            assert_eq!(total, BUF_LEN as u32);
            assert_eq!(buf, b"xxhhzhalloandsomemorewordsafterit");
        }
    }

    /// A piece ends inside the host name of a URL whose "http" came as
    /// character references (no letters of it in the buffer) just after a
    /// line end: the buffer is flushed and cleared there, while the URL
    /// recogniser keeps the old place of the host name. Dropping the
    /// labels below the second level at the end of "1.2.3.4" then moves
    /// the end of the emptied buffer forward to that place (3, where it
    /// was after "abc"), over three zero bytes: the original hashes "abc",
    /// then "\0\0\0xyz".
    #[test]
    fn host_end_after_a_flush_hashes_the_cleared_buffer() {
        use md5::{Digest, Md5};
        let text = b"abc\n=&#104;&#116;&#116;&#112;://1.2.3.4/ xyz\n";
        let cut = text
            .windows(3)
            .position(|w| w == b"1.2")
            .map_or(0, |p| p + 3);
        let want: [u8; 16] = Md5::digest(b"abc\0\0\0xyz").into();
        for off in [false, true] {
            let (total, _, _, sum) = run(text, cut, off);
            assert_eq!(total, 9);
            assert_eq!(sum, want);
        }
    }

    proptest::proptest! {
        /// Text rich in what stops the kernel gives the same Fuz1 with and
        /// without it.
        #[test]
        fn kernel_equals_portable(
            text in text(b"abcdefgopqrstuvwxyzABCXYZ", 8, b"hHtT&=\n :/.w0", 3, 2000),
            cut in 0usize..2000,
        ) {
            proptest::prop_assert_eq!(run(&text, cut, false), run(&text, cut, true));
        }
    }
}

#[cfg(test)]
mod model;
