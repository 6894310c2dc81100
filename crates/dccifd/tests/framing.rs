//! Header fields as the original dccifd frames them, through the running
//! daemon's socket: its `get_hdr()` reads the request into an 8 KByte
//! buffer, the protocol lines before the message included; a field keeps
//! its first 1024 bytes and what follows a read boundary that falls in it,
//! a field is a C string (a NUL ends it), and the X-DCC header ends its
//! lines with CR LF when more than half of the fields (not the empty line)
//! did. The expected checksums are computed here from those rules.

mod common;

use common::Daemon;
use tally_ck::simple::str_sum;
use tally_ck::Sum;
use tally_testkit::FakeDccd;

/// The original's read buffer (`HDR_CK_MAX*8`).
const BUF: usize = 8192;

const PROTO: &[u8] = b"cksums\n192.0.2.1\rclient.example\nhelo.example\n<a@example.com>\nbob\n\n";

const BODY: &[u8] = b"\r\nA body long enough for the body checksums of this test.\r\n";

/// A value of `n` letters that differ along the way.
fn letters(n: usize) -> Vec<u8> {
    (0..n).map(|i| b'a' + (i % 26) as u8).collect()
}

/// The checksum of type `label` (`From`, `Message-ID`) in a `cksums`
/// answer.
fn sum(answer: &[u8], label: &str) -> Option<Sum> {
    let text = String::from_utf8_lossy(answer);
    let want = format!("{label}:");
    text.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        if w.next() != Some(want.as_str()) {
            return None;
        }
        let hex: Vec<&str> = w.take(4).collect();
        Sum::parse_hex(&hex.join(" "))
    })
}

#[test]
fn long_fields_and_nul() {
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start("framing", &srv, &[]);

    // a From field of 3000 bytes in a short request: the whole field is in
    // the buffer, and the checksum keeps the first 1024 normalised bytes
    // of its value (dccproc keeps only its first 1024 bytes)
    let mut from = b"From: <".to_vec();
    from.extend(letters(3000));
    from.extend_from_slice(b"@example.com>\r\n");
    // a NUL ends the field: the folded line after it is not in it
    let msgid: &[u8] = b"Message-ID: <abc\0junk\r\n <def@example.com>\r\n";
    let req = [PROTO, &from, msgid, BODY].concat();
    let a = d.ask(&req);
    assert_eq!(
        sum(&a, "From"),
        Some(str_sum(None, &from[5..])),
        "{}",
        String::from_utf8_lossy(&a)
    );
    assert_eq!(sum(&a, "From"), Some(str_sum(None, &letters(1024))));
    assert_eq!(sum(&a, "Message-ID"), Some(str_sum(None, b" <abc")));

    // a Message-ID field of 9000 bytes: the first read fills the buffer
    // with the protocol lines and the first BUF - PROTO.len() bytes of the
    // message; the field runs past them, so its first 1024 bytes are kept
    // with what the next read brings
    let mut msgid = b"Message-ID: <".to_vec();
    msgid.extend(letters(9000));
    msgid.extend_from_slice(b"@example.com>\r\n");
    let req = [PROTO, &msgid, BODY].concat();
    let a = d.ask(&req);
    let boundary = BUF - PROTO.len();
    let seen = [&msgid[..1024], &msgid[boundary..]].concat();
    assert_eq!(sum(&a, "Message-ID"), Some(str_sum(None, &seen[11..])));
    assert_ne!(sum(&a, "Message-ID"), Some(str_sum(None, &msgid[11..])));
}

#[test]
fn xdcc_header_line_ends() {
    let srv = FakeDccd::start(1200, "behbrand");
    let d = Daemon::start("framing-crlf", &srv, &[]);
    // whether the added X-DCC header's first line ends with CR LF
    let crlf = |msg: &[u8]| {
        let req = [
            &b"body\n192.0.2.1\r\nhelo\n<a@example.com>\nbob\n\n"[..],
            msg,
        ]
        .concat();
        let a = d.ask(&req);
        let text = String::from_utf8_lossy(&a).into_owned();
        let at = text.find("X-DCC-").expect("an X-DCC header");
        let end = text[at..].find('\n').expect("line end");
        (text[at..at + end].ends_with('\r'), text)
    };
    // two fields of four end with CR LF: not more than half, so the X-DCC
    // header ends its lines with LF (counting the empty line, which
    // dccifd does not, three of five would)
    let (yes, text) = crlf(
        b"From: a@example.com\r\nTo: bob@example.net\r\nSubject: x\nDate: y\n\r\nbody text\r\n",
    );
    assert!(!yes, "{text}");
    // three of four: CR LF
    let (yes, text) = crlf(
        b"From: a@example.com\r\nTo: bob@example.net\r\nSubject: x\r\nDate: y\n\nbody text\r\n",
    );
    assert!(yes, "{text}");
}

#[test]
fn proxy_counts_fields_over_the_session() {
    use common::smtp::{keeping_downstream, Smtp};
    let srv = FakeDccd::start(1200, "behbrand");
    let (down_port, got) = keeping_downstream();
    let down = format!("127.0.0.1,{down_port}");
    let (d, s) = Daemon::start_tcp("framing-proxy", &srv, "127.0.0.1", &["-o", &down]);
    let mut c = Smtp::new(s);
    assert!(c.reply().starts_with("220 "));
    assert!(c.cmd("EHLO front.example").starts_with("250"));
    let msgs = [
        // four fields ending with LF
        "From: a@example.org\nTo: bob@example.net\nSubject: one\nMessage-ID: <1@example.org>\n\r\nbody one\r\n",
        // three ending with CR LF: with the first message's, three of
        // seven, so the X-DCC header ends its lines with LF (the original
        // proxy clears its counts only for a new connection)
        "From: a@example.org\r\nTo: bob@example.net\r\nSubject: two\r\n\r\nbody two\r\n",
    ];
    for m in msgs {
        assert!(c.cmd("MAIL FROM:<a@example.org>").starts_with("250"));
        assert!(c.cmd("RCPT TO:<bob@example.net>").starts_with("250"));
        assert!(c.cmd("DATA").starts_with("354"));
        assert!(c.cmd(&format!("{m}.")).starts_with("250"));
    }
    assert!(c.cmd("QUIT").starts_with("221"));
    drop(d);
    let got = got.lock().unwrap();
    assert_eq!(got.len(), 2);
    for m in got.iter() {
        let at = m.find("X-DCC-").expect("an X-DCC header");
        let end = m[at..].find('\n').expect("line end");
        assert!(!m[at..at + end].ends_with('\r'), "{m}");
    }
}
