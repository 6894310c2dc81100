#![no_main]
//! The x86-64 kernels of the checksum engine (Body's byte filter, Fuz1's
//! letters, Fuz2's classes, base64) against the portable paths: the same
//! sums for every input, with the kernels on and switched off. The first
//! byte picks how the rest is framed, so that the decoders and the HTML
//! scanner see arbitrary bytes without the fuzzer having to find the
//! headers first: as a whole message, or as the body of a text/plain or
//! text/html entity, in base64 or quoted-printable, in one of two
//! charsets, or inside a multipart message. The second byte picks the size
//! of the pieces the message is fed in. On a processor without AVX2 both
//! runs take the portable paths and the target only checks for panics.
use libfuzzer_sys::fuzz_target;
use tally_ck::body::with_portable;
use tally_ck::header::{CkConfig, Envelope};
use tally_ck::message::MessageCks;

const HEAD: &[u8] = b"From: a@example.com\nTo: b@example.net\nSubject: kernels\n";

/// The message the fuzzer's bytes stand for.
fn frame(mode: u8, body: &[u8]) -> Vec<u8> {
    if mode % 2 == 1 {
        // the bytes are the whole message
        return body.to_vec();
    }
    let ct = match mode / 8 % 4 {
        0 => &b"text/plain; charset=us-ascii"[..],
        1 => b"text/html; charset=iso-8859-1",
        2 => b"text/html; charset=iso-8859-2",
        _ => b"text/plain; charset=iso-8859-2",
    };
    let ce = match mode / 2 % 4 {
        0 => &b"7bit"[..],
        1 => b"base64",
        2 => b"quoted-printable",
        _ => b"8bit",
    };
    let multipart = mode >= 128;
    let mut m = Vec::with_capacity(body.len() + 256);
    m.extend_from_slice(HEAD);
    m.extend_from_slice(b"MIME-Version: 1.0\n");
    if multipart {
        m.extend_from_slice(b"Content-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\n");
    }
    m.extend_from_slice(b"Content-Type: ");
    m.extend_from_slice(ct);
    m.extend_from_slice(b"\nContent-Transfer-Encoding: ");
    m.extend_from_slice(ce);
    m.extend_from_slice(b"\n\n");
    m.extend_from_slice(body);
    if multipart {
        m.extend_from_slice(b"\n--b1--\n");
    }
    m
}

/// The sums of `msg` fed in pieces of `step` bytes.
fn sums(msg: &[u8], step: usize) -> Vec<(tally_ck::CkType, tally_ck::Sum)> {
    let cfg = CkConfig::default();
    let env = Envelope::default();
    let mut cks = MessageCks::new(&cfg, &env);
    for p in msg.chunks(step) {
        cks.feed(p);
    }
    let out = cks.finish();
    out.entries.iter().map(|e| (e.ck_type, e.sum)).collect()
}

fuzz_target!(|data: &[u8]| {
    let [mode, cut, body @ ..] = data else {
        return;
    };
    let msg = frame(*mode, body);
    // pieces of 1 to 256 bytes, or the whole message at once
    let step = if *cut == 0 {
        msg.len().max(1)
    } else {
        usize::from(*cut)
    };
    let fast = sums(&msg, step);
    let portable = with_portable(true, || sums(&msg, step));
    assert_eq!(fast, portable, "the kernels changed the checksums");
});
