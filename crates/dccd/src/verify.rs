//! The signatures of the signed requests of a batch checked two at a
//! time ([`tally_ck::md5_pair`]); the UDP pass (`udp.rs`) hands the
//! outcome to the server's `reply` so that each
//! request is not checked again one at a time.

use tally_wire::header::{HDR_LEN, ID_ANON, SIG_LEN};
use tally_wire::ids::Ids;
use tally_wire::sign::{Auth, Passwd};

/// Check the signatures of signed datagrams two at a time (see
/// [`tally_ck::md5_pair`]): for each datagram whose signature verifies with the
/// first password of its sender's ids entry, the `Auth` that
/// [`tally_wire::sign::authenticate`] would return, at its index in `datagrams`. The others
/// (unpaired, another password, bad, anonymous, unknown or blacklisted
/// senders) are left to `authenticate`. `cands` is scratch space, kept by
/// the caller from batch to batch.
pub fn verify_batch(
    ids: &Ids,
    datagrams: &[Option<&[u8]>],
    out: &mut Vec<Option<Auth>>,
    cands: &mut Vec<(usize, usize)>,
) {
    use tally_ck::md5_pair::{blocks_for, md5_pair};
    out.clear();
    out.resize(datagrams.len(), None);
    cands.clear();
    for (i, d) in datagrams.iter().enumerate() {
        let Some(d) = d else { continue };
        if d.len() < HDR_LEN + SIG_LEN || first_passwd(ids, d).is_none() {
            continue;
        }
        // (blocks hashed, index): MD5 of the key and the datagram
        // without its signature
        if let Some(blocks) = blocks_for(32 + d.len() - SIG_LEN) {
            cands.push((blocks, i));
        }
    }
    cands.sort_unstable();
    let padded = |i: usize| {
        let d = datagrams.get(i).copied().flatten()?;
        let pw = first_passwd(ids, d)?;
        let p = tally_ck::md5_pair::Padded::new(pw.key(), d.get(..d.len() - SIG_LEN)?)?;
        Some((d, pw, p))
    };
    let mut k = 0;
    // Each round moves on by one or two: bounded by the candidates.
    while let (Some(&(bx, i)), Some(&(by, j))) = (cands.get(k), cands.get(k + 1)) {
        let pair = (bx == by).then(|| padded(i).zip(padded(j))).flatten();
        let Some(((dx, px, x), (dy, py, y))) = pair else {
            k += 1;
            continue;
        };
        let Some((sx, sy)) = md5_pair(&x, &y) else {
            k += 1;
            continue;
        };
        for (n, d, pw, dig) in [(i, dx, px, sx), (j, dy, py, sy)] {
            if d.get(d.len() - SIG_LEN..) == Some(&dig[..]) {
                if let Some(o) = out.get_mut(n) {
                    *o = Some(Auth::Verified {
                        passwd: pw.clone(),
                        second: false,
                    });
                }
            }
        }
        k += 2;
    }
}

/// The first password of the ids entry of a signed datagram's sender
/// (none for anonymous, unknown and blacklisted senders).
fn first_passwd<'a>(ids: &'a Ids, d: &[u8]) -> Option<&'a Passwd> {
    let sender = u32::from_be_bytes(d.get(4..8)?.try_into().ok()?);
    if sender == ID_ANON {
        return None;
    }
    ids.get(sender)
        .filter(|e| !e.is_blacklisted())
        .and_then(|e| e.passwd1.as_ref())
}
