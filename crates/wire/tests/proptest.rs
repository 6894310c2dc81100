//! Decoding arbitrary bytes never panics, and whatever decodes re-encodes
//! to the same bytes.

use proptest::collection::vec;
use proptest::prelude::*;
use tally_wire::admn::Aop;
use tally_wire::packet::{Expect, Packet, Request, Response};

/// A datagram with a consistent length field, so that decoding gets past
/// the header.
fn framed(vers: u8, op: u8, body: &[u8], tail: &[u8; 36]) -> Vec<u8> {
    let len = 24 + body.len() + 16;
    let mut d = Vec::with_capacity(len);
    d.extend_from_slice(&(len as u16).to_be_bytes());
    d.push(vers);
    d.push(op);
    d.extend_from_slice(&tail[..20]);
    d.extend_from_slice(body);
    d.extend_from_slice(&tail[20..]);
    d
}

/// Bodies built from plausible pieces: counts and checksums with mostly
/// valid types and lengths.
fn ck_body() -> impl Strategy<Value = Vec<u8>> {
    let ck = (
        0u8..15,
        prop_oneof![Just(18u8), any::<u8>()],
        any::<[u8; 16]>(),
    )
        .prop_map(|(t, l, s)| {
            let mut v = vec![t, l];
            v.extend_from_slice(&s);
            v
        });
    (any::<[u8; 4]>(), vec(ck, 0..16), vec(any::<u8>(), 0..3)).prop_map(|(t, cks, extra)| {
        let mut v = t.to_vec();
        for c in cks {
            v.extend(c);
        }
        v.extend(extra);
        v
    })
}

fn expect() -> impl Strategy<Value = Expect> {
    prop_oneof![
        Just(Expect::Dcc),
        Just(Expect::Grey),
        (0u8..20).prop_map(|a| Expect::Admn(Aop::from_u8(a)))
    ]
}

fn tail() -> impl Strategy<Value = [u8; 36]> {
    vec(any::<u8>(), 36).prop_map(|v| {
        let mut a = [0u8; 36];
        a.copy_from_slice(&v);
        a
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn raw_bytes(b in vec(any::<u8>(), 0..1600), e in expect()) {
        if let Ok(p) = Packet::<Request>::decode(&b) {
            prop_assert_eq!(p.encode(), b.clone());
        }
        if let Ok(p) = Packet::<Response>::decode(&b, e) {
            prop_assert_eq!(p.encode(), b);
        }
    }

    #[test]
    fn framed_random_bodies(vers in 0u8..40, op in 0u8..14, body in vec(any::<u8>(), 0..1500),
                            t in tail(), e in expect()) {
        let d = framed(vers, op, &body, &t);
        if let Ok(p) = Packet::<Request>::decode(&d) {
            prop_assert_eq!(p.encode(), d.clone());
        }
        if let Ok(p) = Packet::<Response>::decode(&d, e) {
            prop_assert_eq!(p.encode(), d);
        }
    }

    #[test]
    fn framed_checksum_requests(vers in 3u8..14, op in prop_oneof![Just(2u8), Just(3), Just(9), Just(10), Just(12)],
                                body in ck_body(), t in tail()) {
        let d = framed(vers, op, &body, &t);
        if let Ok(p) = Packet::<Request>::decode(&d) {
            prop_assert_eq!(p.encode(), d);
        }
    }

    /// A vector of checksums kept from request to request decodes each
    /// as a new one does.
    #[test]
    fn decoded_into_a_kept_vector(reqs in vec((3u8..14, prop_oneof![Just(1u8), Just(2), Just(3), Just(5), Just(9), Just(12)],
                                               ck_body(), tail()), 1..8)) {
        let mut spare = Vec::new();
        for (vers, op, body, t) in reqs {
            let d = framed(vers, op, &body, &t);
            let got = Packet::<Request>::decode_with(&d, std::mem::take(&mut spare));
            prop_assert_eq!(&got, &Packet::<Request>::decode(&d));
            if let Ok(p) = got {
                spare = p.body.into_cks().unwrap_or_default();
            }
        }
    }

    #[test]
    fn clients_lists(vers in 4u8..13, body in vec(any::<u8>(), 0..200)) {
        if let Ok(list) = tally_wire::clients::decode(&body, vers) {
            let mut out = Vec::new();
            tally_wire::clients::encode_into(&list, vers, &mut out);
            prop_assert_eq!(out, body);
        }
    }

    #[test]
    fn ids_never_panics(text in vec(any::<u8>(), 0..300)) {
        let _ = tally_wire::ids::Ids::parse_lenient(&text);
    }

    #[test]
    fn flood_streams(b in vec(any::<u8>(), 0..600), eof in any::<bool>()) {
        use tally_wire::flood::{FloodReport, ListenerMsg, VersionHeader};
        if let Ok(Some((r, n))) = FloodReport::decode(&b) {
            let mut out = Vec::new();
            r.encode_into(&mut out);
            prop_assert_eq!(&out[..], &b[..n]);
        }
        if let Ok(Some((m, n))) = ListenerMsg::decode(&b, eof) {
            let mut out = Vec::new();
            m.encode_into(&mut out);
            prop_assert_eq!(&out[..], &b[..n]);
        }
        if let Ok(h) = VersionHeader::decode(&b) {
            prop_assert_eq!(&h.encode()[..], &b[..256]);
        }
        let _ = tally_wire::flood::split_originator(&b);
        let _ = tally_wire::flood::split_listener(&b);
    }

    #[test]
    fn flood_reports_framed(n in 0u8..16, body in vec(any::<u8>(), 21..300)) {
        use tally_wire::flood::FloodReport;
        let mut b = body.clone();
        b[20] = n;
        if let Ok(Some((r, len))) = FloodReport::decode(&b) {
            let mut out = Vec::new();
            r.encode_into(&mut out);
            prop_assert_eq!(&out[..], &b[..len]);
        }
    }
}
