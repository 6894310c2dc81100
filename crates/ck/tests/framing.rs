//! The header fields each program of the original checksums: `dccm` takes
//! whole fields from the MTA, `dccifd` reads the header through its 8 KByte
//! socket buffer, `dccproc` line by line (its framing is held bit for bit
//! by the golden tests). Each expected value follows from the original's
//! rule named in the test.

use tally_ck::header::{CkConfig, Envelope, IfdStart};
use tally_ck::message::{Checksums, FieldCounts, Framing, MessageCks};
use tally_ck::simple::str_sum;
use tally_ck::{CkType, Sum};

const BODY: &[u8] = b"A body long enough for a Body checksum, with a few words in it.\r\n";

fn sum(c: &Checksums, t: CkType) -> Option<Sum> {
    c.get(t).map(|e| e.sum)
}

/// A value of `n` letters that differ along the way.
fn letters(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

fn cfg(subs: &[&str]) -> CkConfig {
    let mut c = CkConfig::default();
    for s in subs {
        c.add_substitute(s).unwrap();
    }
    c
}

fn env() -> Envelope {
    Envelope {
        client_ip: "192.0.2.1".parse().ok(),
        env_from: Some("<a@example.com>".into()),
        ..Envelope::default()
    }
}

/// A milter message: the fields, the end of the header, [`BODY`].
fn milter(cfg: &CkConfig, fields: &[(&[u8], &[u8])]) -> Checksums {
    let mut m = MessageCks::new(cfg, &env());
    for (n, v) in fields {
        m.header(n, v);
    }
    m.end_of_headers();
    m.body(BODY);
    m.finish()
}

/// A raw message as dccifd reads it, its buffer as `start`, fed in
/// pieces of `piece` bytes.
fn dccifd_in(cfg: &CkConfig, start: IfdStart, msg: &[u8], piece: usize) -> Checksums {
    let mut m = MessageCks::with_framing(cfg, &env(), Framing::Dccifd(start));
    for p in msg.chunks(piece) {
        m.feed(p);
    }
    m.finish()
}

fn dccifd(cfg: &CkConfig, msg: &[u8]) -> Checksums {
    dccifd_in(cfg, IfdStart::default(), msg, 4096)
}

fn dccproc(cfg: &CkConfig, msg: &[u8]) -> Checksums {
    let mut m = MessageCks::new(cfg, &env());
    m.feed(msg);
    m.finish()
}

// ---- dccm: dccm_header() passes the whole value to the checksums ----

#[test]
fn dccm_long_from_is_whole() {
    // rule: get_cks() of the whole value; str2ck() keeps its first 1024
    // normalised bytes (dccproc would cut the field to 1024 bytes first)
    let mut v = b"Someone <".to_vec();
    v.extend(letters(3000));
    v.extend_from_slice(b"@example.com>");
    let c = milter(&CkConfig::default(), &[(b"From", &v)]);
    assert_eq!(sum(&c, CkType::From), Some(str_sum(None, &v)));
    let normalised: Vec<u8> = [&b"someone"[..], &letters(1017)].concat();
    assert_eq!(sum(&c, CkType::From), Some(str_sum(None, &normalised)));
}

#[test]
fn dccm_value_ends_at_nul() {
    // rule: the value is a C string; what follows a NUL, even a folded
    // line, is not part of it (dccproc drops only the rest of the line)
    let c = milter(
        &CkConfig::default(),
        &[(b"Message-ID", b"<abc\0junk\r\n\t<def@example.com>")],
    );
    assert_eq!(sum(&c, CkType::MessageId), Some(str_sum(None, b"<abc")));
}

#[test]
fn dccm_value_lines_are_one_field() {
    // rule: the MTA says where the field ends; a line in the value that
    // looks like another field, or is empty, is still the value
    let v = b"a@example.com\r\nMessage-ID: <forged@example.com>\r\n\r\nB: c";
    let c = milter(&CkConfig::default(), &[(b"From", v)]);
    assert_eq!(sum(&c, CkType::From), Some(str_sum(None, v)));
    let id = c.get(CkType::MessageId).expect("the empty Message-ID");
    assert_eq!((id.sum, id.report), (str_sum(None, b""), false));
    assert!(sum(&c, CkType::Body).is_some());
}

#[test]
fn dccm_xdcc_fields_are_fields() {
    // rule: dccm_header() only notes X-DCC fields for deletion; they go to
    // ck_get_sub() like any other field
    let c = milter(
        &cfg(&["X-DCC-Brand-Metrics"]),
        &[(b"X-DCC-Brand-Metrics", b"host 1; Body=many")],
    );
    let s = c.get(CkType::Sub).expect("substitute");
    assert_eq!(s.sub_name.as_deref(), Some("x-dcc-brand-metrics"));
    assert_eq!(
        s.sum,
        str_sum(Some(b"x-dcc-brand-metrics"), b"host 1; Body=many")
    );
}

#[test]
fn dccm_without_header_fields_has_body_sums() {
    // rule: dccm computes the body checksums whatever the header was
    // (only dccproc gives up on a message without a header line)
    let c = milter(&CkConfig::default(), &[]);
    assert!(c.error.is_none());
    assert!(sum(&c, CkType::Body).is_some());
    assert!(sum(&c, CkType::Fuz1).is_some());
}

// ---- dccifd: get_hdr() reads the header through its 8 KByte buffer ----

fn message(fields: &[&[u8]]) -> Vec<u8> {
    let mut m: Vec<u8> = fields.concat();
    m.extend_from_slice(b"\r\n");
    m.extend_from_slice(BODY);
    m
}

#[test]
fn dccifd_long_from_in_the_buffer_is_whole() {
    // rule: a field in the buffer is cut only where the bytes read run
    // out; a 3000-byte field of a short message is whole
    let mut f = b"From: <".to_vec();
    f.extend(letters(3000));
    f.extend_from_slice(b"@example.com>\r\n");
    let m = message(&[&f, b"Subject: long\r\n"]);
    let c = dccifd(&CkConfig::default(), &m);
    assert_eq!(sum(&c, CkType::From), Some(str_sum(None, &f[5..])));
    assert_eq!(sum(&c, CkType::From), Some(str_sum(None, &letters(1024))));
    assert_ne!(
        sum(&c, CkType::From),
        sum(&dccproc(&CkConfig::default(), &m), CkType::From)
    );
}

#[test]
fn dccifd_long_field_cut_at_the_read_boundary() {
    // rule: the first read fills the 8192-byte buffer; the field runs past
    // it, so its first 1024 bytes are kept with what the next read brings
    let mut f = b"Message-ID: <".to_vec();
    f.extend(letters(9000));
    f.extend_from_slice(b"@example.com>\r\n");
    let m = message(&[&f]);
    let seen = [&f[..1024], &f[8192..f.len() - 2]].concat();
    let c = dccifd(&CkConfig::default(), &m);
    assert_eq!(sum(&c, CkType::MessageId), Some(str_sum(None, &seen[11..])));
    // whatever pieces the input comes in
    for piece in [1, 100, 8191, 8193] {
        let p = dccifd_in(&CkConfig::default(), IfdStart::default(), &m, piece);
        assert_eq!(p.entries.len(), c.entries.len());
        assert_eq!(sum(&p, CkType::MessageId), sum(&c, CkType::MessageId));
        assert_eq!(sum(&p, CkType::Body), sum(&c, CkType::Body));
    }
    // the protocol lines before the message move the boundary
    let mut start = IfdStart::default();
    start.line(100);
    let c = dccifd_in(&CkConfig::default(), start, &m, 4096);
    let seen = [&f[..1024], &f[8092..f.len() - 2]].concat();
    assert_eq!(sum(&c, CkType::MessageId), Some(str_sum(None, &seen[11..])));
}

#[test]
fn dccifd_field_ends_at_nul() {
    // rule: the field is a C string: a NUL ends it, folded lines and all
    let m = message(&[b"Message-ID: <abc\0junk\r\n <def@example.com>\r\n"]);
    let c = dccifd(&CkConfig::default(), &m);
    assert_eq!(sum(&c, CkType::MessageId), Some(str_sum(None, b" <abc")));
    let p = dccproc(&CkConfig::default(), &m);
    assert_eq!(
        sum(&p, CkType::MessageId),
        Some(str_sum(None, b"<abc<def@example.com>"))
    );
}

#[test]
fn dccifd_two_byte_first_line_is_continued() {
    // rule: any line starting with a blank continues the field, so the
    // header has two fields, one of them ending with CR LF; the X-DCC
    // header's lines end with CR LF only when more than half did
    let m = b"X\n\tb\r\nFrom: a@example.com\n\nbody\n";
    let c = dccifd(&CkConfig::default(), m);
    assert_eq!(c.fields, Some(FieldCounts { total: 2, crlf: 1 }));
    assert!(!c.fields.unwrap().crlf());
    assert_eq!(sum(&c, CkType::From), Some(str_sum(None, b"a@example.com")));
}

#[test]
fn dccifd_crlf_counts_leave_out_the_empty_line() {
    // rule: get_hdr() counts fields, not the empty line that ends them
    let m = b"A: 1\r\nB: 2\r\nC: 3\nD: 4\n\r\nbody\r\n";
    let c = dccifd(&CkConfig::default(), m);
    assert_eq!(c.fields, Some(FieldCounts { total: 4, crlf: 2 }));
    assert!(!c.fields.unwrap().crlf());
    assert_eq!(dccproc(&CkConfig::default(), m).fields, None);
}

#[test]
fn dccifd_xdcc_fields_are_checksummed() {
    // rule: get_hdrs() gives every field to ck_get_sub(); only the copy
    // of the message loses old X-DCC fields (dccproc drops them first)
    let cfg = cfg(&["X-DCC-Brand-Metrics"]);
    let m = message(&[
        b"X-DCC-Brand-Metrics: host 1; Body=many\r\n",
        b"From: a@b\r\n",
    ]);
    let c = dccifd(&cfg, &m);
    assert_eq!(
        sum(&c, CkType::Sub),
        Some(str_sum(
            Some(b"x-dcc-brand-metrics"),
            b" host 1; Body=many\r"
        ))
    );
    assert_eq!(sum(&dccproc(&cfg, &m), CkType::Sub), None);
}

#[test]
fn dccifd_missing_body_keeps_the_checksums() {
    // rule: at the end of the input in the header, a line end is made up,
    // "missing message body" is logged and the message is checked
    let c = dccifd(&CkConfig::default(), b"From: a@example.com\r\nSubject: x");
    assert_eq!(c.error.as_deref(), Some("missing message body"));
    assert_eq!(sum(&c, CkType::From), Some(str_sum(None, b"a@example.com")));
    assert!(c.get(CkType::MessageId).is_some());
    // the made-up line end has a CR: half of the fields before had one
    assert_eq!(c.fields, Some(FieldCounts { total: 2, crlf: 2 }));
}

#[test]
fn dccifd_without_header_lines_is_checked() {
    // rule: dccifd has no "missing SMTP header lines"; the body checksums
    // are computed
    let c = dccifd(&CkConfig::default(), &message(&[]));
    assert_eq!(c.error, None);
    assert!(sum(&c, CkType::Body).is_some());
    assert!(dccproc(&CkConfig::default(), &message(&[])).error.is_some());
}

#[test]
fn dccifd_proxy_end_of_data() {
    // rule: in proxy mode the `.` line of DATA follows the message in the
    // buffer, so a long last field is whole and the body not missing
    let mut f = b"Message-ID: <".to_vec();
    f.extend(letters(1500));
    f.extend_from_slice(b">\r\n");
    let c = dccifd_in(&CkConfig::default(), IfdStart::proxy(), &f, 4096);
    assert_eq!(c.error, None);
    assert_eq!(sum(&c, CkType::MessageId), Some(str_sum(None, &f[11..])));
    let c = dccifd(&CkConfig::default(), &f);
    assert_eq!(c.error.as_deref(), Some("missing message body"));
    assert_eq!(
        sum(&c, CkType::MessageId),
        Some(str_sum(None, &f[11..1023]))
    );
}
