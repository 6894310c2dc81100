//! Properties of the streaming body checksums: the way the input is split
//! never matters, LF and CRLF line ends give the same sums, and no input
//! makes the computation panic.

use proptest::prelude::*;
use tally_ck::body::{BodyCks, BodySums};

/// Feed header fields and body, each cut at the given points.
fn feed(fields: &[Vec<u8>], body: &[u8], cuts: &[usize]) -> BodySums {
    let mut ck = BodyCks::new();
    for f in fields {
        ck.header_field(f);
    }
    ck.end_of_headers();
    let mut pos = 0;
    let mut points: Vec<usize> = cuts.iter().map(|&c| c % (body.len() + 1)).collect();
    points.sort_unstable();
    for p in points {
        ck.body(&body[pos..p]);
        pos = p;
    }
    ck.body(&body[pos..]);
    ck.finish()
}

fn crlf(s: &[u8]) -> Vec<u8> {
    let mut v = Vec::with_capacity(s.len() * 2);
    for &b in s {
        if b == b'\n' {
            v.push(b'\r');
        }
        v.push(b);
    }
    v
}

/// Text built from pieces that exercise MIME, HTML, URLs and encodings.
fn text() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(&b"Hello there, this is a message about money and more.\n"[..]),
        Just(&b"--BOUNDARY\n"[..]),
        Just(&b"--BOUNDARY--\n"[..]),
        Just(&b"--inner\nContent-Type: text/html; charset=iso-8859-2\n\n"[..]),
        Just(&b"Content-Transfer-Encoding: quoted-printable\n\n"[..]),
        Just(&b"Content-Transfer-Encoding: base64\n\n"[..]),
        Just(&b"Content-Type: multipart/alternative; boundary=inner\n\n"[..]),
        Just(&b"<html><body><a href=\"http://www.example.com/x\">click</a>\n"[..]),
        Just(&b"visit https://user:pw@mail.sub.example.org:80/path now\n"[..]),
        Just(&b"&eacute;&#233;&#xe9; &lt;b&gt; &amp; =3D=\n soft\n"[..]),
        Just(&b"SGVsbG8gd29ybGQsIHRoaXMgaXMgYmFzZTY0IHRleHQu\n"[..]),
        Just(&b"\n>From the desk of\nDear friend,\n"[..]),
        Just(&b"<!-- comment --> http://\xc3\xa9t\xc3\xa9.example/ caf\xe9\n"[..]),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|v| v.concat())
}

fn headers() -> Vec<Vec<u8>> {
    vec![
        b"From: a@example.com\n".to_vec(),
        b"Content-Type: multipart/mixed;\n boundary=\"BOUNDARY\"\n".to_vec(),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn split_never_matters(body in text(), cuts in prop::collection::vec(any::<usize>(), 0..12)) {
        let whole = feed(&headers(), &body, &[]);
        prop_assert_eq!(whole, feed(&headers(), &body, &cuts));
        let one_by_one: Vec<usize> = (0..body.len()).collect();
        prop_assert_eq!(whole, feed(&headers(), &body, &one_by_one));
    }

    #[test]
    fn crlf_same_as_lf(body in text()) {
        let lf = feed(&headers(), &body, &[]);
        let hdrs: Vec<Vec<u8>> = headers().iter().map(|h| crlf(h)).collect();
        prop_assert_eq!(lf, feed(&hdrs, &crlf(&body), &[]));
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        hdr in prop::collection::vec(any::<u8>(), 0..300),
        body in prop::collection::vec(any::<u8>(), 0..3000),
        cuts in prop::collection::vec(any::<usize>(), 0..8),
    ) {
        let mut fields = headers();
        fields.push(hdr);
        let _ = feed(&fields, &body, &cuts);
    }
}

#[test]
fn large_bodies_split_in_blocks() {
    // bodies larger than one block: the block boundaries are fixed by the
    // body offset, not by the caller's pieces
    let mut body = Vec::new();
    while body.len() < 70_000 {
        body.extend_from_slice(
            b"--BOUNDARY\nContent-Type: text/plain\n\nsome words of text here\n",
        );
    }
    let whole = feed(&headers(), &body, &[]);
    assert_eq!(
        whole,
        feed(&headers(), &body, &[1, 20_479, 20_481, 40_000, 65_000])
    );
    assert!(whole.body.is_some());
}
