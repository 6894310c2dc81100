//! Signatures made two at a time: the answers of a server's pass over a
//! batch of requests signed in pairs with [`tally_ck::md5_pair`], which
//! runs two MD5 computations side by side for little more than the time
//! of one.
//!
//! What is hashed is the same as for [`Signer::sign`]: the signer's key
//! (a password NUL-padded to 32 bytes, or the request's 16 `op_nums`
//! bytes) followed by the datagram without its last 16 bytes. MD5 only
//! sees the concatenation, so an `op_nums` key and the first 16 bytes of
//! the datagram make the 32 bytes that [`Padded`] takes as its key. The
//! zero signer, datagrams shorter than a signature and inputs longer than
//! [`tally_ck::md5_pair::MAX_INPUT`] are signed one at a time as before.

use std::ops::Range;

use tally_ck::md5_pair::{blocks_for, md5_pair, Padded};

use crate::header::SIG_LEN;
use crate::sign::Signer;

/// Length of the key [`Padded`] takes.
const KEY: usize = 32;

impl Signer {
    /// The bytes hashed for `datagram`, as 32 first bytes and the rest
    /// (`None`: nothing is hashed, or the datagram is too short).
    fn split<'a>(&self, datagram: &'a [u8]) -> Option<([u8; KEY], &'a [u8])> {
        let signed = datagram.get(..datagram.len().checked_sub(SIG_LEN)?)?;
        match self {
            Signer::Passwd(p) => Some((*p.key(), signed)),
            Signer::OpNums(n) => {
                let n = n.to_bytes();
                let (head, rest) = signed.split_at_checked(KEY - n.len())?;
                let mut k = [0u8; KEY];
                k.get_mut(..n.len())?.copy_from_slice(&n);
                k.get_mut(n.len()..)?.copy_from_slice(head);
                Some((k, rest))
            }
            Signer::Zero => None,
        }
    }

    /// The number of 64-byte MD5 blocks hashed for a datagram of `len`
    /// bytes, if it can be signed in a pair (two datagrams pair when
    /// their numbers are equal).
    pub fn pair_blocks(&self, len: usize) -> Option<usize> {
        let signed = len.checked_sub(SIG_LEN)?;
        let key = match self {
            Signer::Passwd(_) => KEY,
            Signer::OpNums(_) if signed >= KEY / 2 => KEY / 2,
            _ => return None,
        };
        blocks_for(key + signed)
    }
}

/// The signatures of two datagrams at once, if both can be paired and
/// hash the same number of blocks.
fn digests(sx: &Signer, x: &[u8], sy: &Signer, y: &[u8]) -> Option<([u8; 16], [u8; 16])> {
    let (kx, mx) = sx.split(x)?;
    let (ky, my) = sy.split(y)?;
    md5_pair(&Padded::new(&kx, mx)?, &Padded::new(&ky, my)?)
}

fn put(datagram: &mut [u8], sig: &[u8; 16]) {
    let n = datagram.len();
    if let Some(tail) = datagram.get_mut(n.saturating_sub(SIG_LEN)..) {
        if tail.len() == SIG_LEN {
            tail.copy_from_slice(sig);
        }
    }
}

/// Sign two datagrams, at once when they pair, else one after the other;
/// the result is what [`Signer::sign`] writes into each.
pub fn sign_pair(sx: &Signer, x: &mut [u8], sy: &Signer, y: &mut [u8]) {
    match digests(sx, x, sy, y) {
        Some((dx, dy)) => {
            put(x, &dx);
            put(y, &dy);
        }
        None => {
            sx.sign(x);
            sy.sign(y);
        }
    }
}

/// Two disjoint parts of `buf` (`None` if they overlap or lie outside).
fn two_mut(buf: &mut [u8], a: Range<usize>, b: Range<usize>) -> Option<(&mut [u8], &mut [u8])> {
    if a.end <= b.start {
        let (lo, hi) = buf.split_at_mut_checked(b.start)?;
        Some((lo.get_mut(a)?, hi.get_mut(..b.end.checked_sub(b.start)?)?))
    } else if b.end <= a.start {
        let (y, x) = two_mut(buf, b, a)?;
        Some((x, y))
    } else {
        None
    }
}

/// Sign the datagrams that lie in one buffer, two at a time where they
/// pair: `job` gives the place in `buf` and the signer of each element of
/// `jobs` (places must not overlap; one outside `buf` is skipped).
/// `order` is scratch space, kept by the caller to spare an allocation.
pub fn sign_in_pairs<T>(
    buf: &mut [u8],
    jobs: &[T],
    job: impl Fn(&T) -> (Range<usize>, &Signer),
    order: &mut Vec<(usize, usize)>,
) {
    order.clear();
    for (i, t) in jobs.iter().enumerate() {
        let (r, s) = job(t);
        match s.pair_blocks(r.len()) {
            Some(b) => order.push((b, i)),
            None => {
                if let Some(d) = buf.get_mut(r) {
                    s.sign(d);
                }
            }
        }
    }
    order.sort_unstable();
    let mut k = 0;
    // Each round signs one or two datagrams: bounded by their number.
    while let Some(&(bx, i)) = order.get(k) {
        let Some((rx, sx)) = jobs.get(i).map(&job) else {
            break;
        };
        let next = order
            .get(k + 1)
            .filter(|&&(by, _)| by == bx)
            .and_then(|&(_, j)| jobs.get(j).map(&job));
        if let Some((ry, sy)) = next {
            if let Some((x, y)) = two_mut(buf, rx.clone(), ry.clone()) {
                sign_pair(sx, x, sy, y);
            } else {
                for (r, s) in [(rx, sx), (ry, sy)] {
                    if let Some(d) = buf.get_mut(r) {
                        s.sign(d);
                    }
                }
            }
            k += 2;
        } else {
            if let Some(d) = buf.get_mut(rx) {
                sx.sign(d);
            }
            k += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::header::OpNums;
    use crate::sign::Passwd;
    use tally_ck::md5_pair::MAX_INPUT;

    fn bytes(seed: u32, len: usize) -> Vec<u8> {
        let mut x = seed;
        (0..len)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                (x >> 16) as u8
            })
            .collect()
    }

    fn signers() -> Vec<Signer> {
        vec![
            Signer::Passwd(Passwd::new(b"pw").unwrap()),
            Signer::Passwd(Passwd::new(&[b'x'; 32]).unwrap()),
            Signer::OpNums(OpNums::from_le_words(1, 2, 3, 4)),
            Signer::Zero,
        ]
    }

    /// Lengths around the 64-byte block boundaries of both key sizes and
    /// around the longest input paired.
    fn lengths() -> Vec<usize> {
        let mut v: Vec<usize> = (0..40).collect();
        for b in 1..=8 {
            for key in [16, 32] {
                let edge = b * 64 - 9 - key + SIG_LEN;
                v.extend(edge.saturating_sub(2)..=edge + 2);
            }
        }
        v.extend(MAX_INPUT - 32 + SIG_LEN - 2..=MAX_INPUT - 16 + SIG_LEN + 2);
        v.extend([600, 1400]);
        v
    }

    #[test]
    fn pairs_sign_as_one_at_a_time() {
        let ss = signers();
        let ls = lengths();
        for (a, sx) in ss.iter().enumerate() {
            for sy in &ss {
                for &lx in &ls {
                    for ly in [lx, lx + 1, 100] {
                        let (mut x, mut y) = (bytes(lx as u32, lx), bytes(7 + ly as u32, ly));
                        let (mut wx, mut wy) = (x.clone(), y.clone());
                        sx.sign(&mut wx);
                        sy.sign(&mut wy);
                        let paired = sx.pair_blocks(lx).is_some()
                            && sx.pair_blocks(lx) == sy.pair_blocks(ly);
                        assert_eq!(digests(sx, &x, sy, &y).is_some(), paired);
                        sign_pair(sx, &mut x, sy, &mut y);
                        assert_eq!(x, wx, "signer {a}, lengths {lx} {ly}");
                        assert_eq!(y, wy, "signer {a}, lengths {lx} {ly}");
                    }
                }
            }
        }
    }

    #[test]
    fn pair_blocks_are_those_hashed() {
        for s in signers() {
            for len in lengths() {
                let d = bytes(3, len);
                let got = s.pair_blocks(len);
                let want = s
                    .split(&d)
                    .and_then(|(k, m)| Padded::new(&k, m))
                    .map(|p| p.blocks());
                assert_eq!(got, want, "{s:?} length {len}");
            }
        }
    }

    #[test]
    fn a_buffer_of_datagrams_signed_in_pairs() {
        let ss = signers();
        let mut buf = Vec::new();
        let mut jobs = Vec::new();
        for (n, len) in lengths().into_iter().enumerate() {
            let s = ss[n % ss.len()].clone();
            let start = buf.len();
            buf.extend(bytes(n as u32, len));
            jobs.push((start..buf.len(), s));
            buf.extend([0xee; 3]); // bytes between datagrams stay
        }
        // one outside the buffer is skipped
        jobs.push((buf.len()..buf.len() + 40, ss[0].clone()));
        let mut want = buf.clone();
        for (r, s) in &jobs {
            if let Some(d) = want.get_mut(r.clone()) {
                s.sign(d);
            }
        }
        let mut order = Vec::new();
        sign_in_pairs(&mut buf, &jobs, |(r, s)| (r.clone(), s), &mut order);
        assert_eq!(buf, want);
        assert!(order.len() > jobs.len() / 2, "most were paired");
    }

    #[test]
    fn overlapping_places_are_signed_one_at_a_time() {
        let s = Signer::Passwd(Passwd::new(b"pw").unwrap());
        let mut buf = bytes(9, 100);
        let jobs = [(0..60, s.clone()), (40..100, s.clone())];
        let mut want = buf.clone();
        for (r, s) in &jobs {
            s.sign(&mut want[r.clone()]);
        }
        sign_in_pairs(&mut buf, &jobs, |(r, s)| (r.clone(), s), &mut Vec::new());
        assert_eq!(buf, want);
    }
}
