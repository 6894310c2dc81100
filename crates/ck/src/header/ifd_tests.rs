//! The rules of the original dccifd's header reading, one by one.

use super::*;

/// What the splitter made of a message: the fields, the body (the bytes
/// after the empty line), the counts (fields, fields ending with CR LF)
/// and whether the body was missing.
#[derive(Debug, PartialEq, Eq)]
struct Split {
    fields: Vec<Vec<u8>>,
    body: Vec<u8>,
    counts: (u32, u32),
    missing_body: bool,
}

/// Split `msg` fed in pieces of `piece` bytes, the buffer as `start`.
fn split_in(start: IfdStart, msg: &[u8], piece: usize) -> Split {
    let mut s = IfdSplit::new(start);
    let mut fields = Vec::new();
    let mut body = Vec::new();
    let mut ended = false;
    for chunk in msg.chunks(piece.max(1)) {
        if ended {
            body.extend_from_slice(chunk);
            continue;
        }
        if let Some(used) = s.push(chunk, &mut |e| {
            if let Event::Field(f) = e {
                fields.push(f.to_vec());
            }
        }) {
            ended = true;
            body.extend_from_slice(s.body_start());
            body.extend_from_slice(&chunk[used..]);
        }
    }
    if !ended {
        s.finish(&mut |e| {
            if let Event::Field(f) = e {
                fields.push(f.to_vec());
            }
        });
        body.extend_from_slice(s.body_start());
    }
    Split {
        fields,
        body,
        counts: (s.counts.total, s.counts.crlf),
        missing_body: s.missing_body,
    }
}

fn split(msg: &[u8]) -> Split {
    split_in(IfdStart::default(), msg, msg.len())
}

fn fields(msg: &[u8]) -> Vec<Vec<u8>> {
    split(msg).fields
}

#[test]
fn fields_lose_their_last_line_end() {
    let s = split(b"A: 1\r\nB: 2\r\n\tmore\r\n\r\nbody\r\n");
    assert_eq!(
        s.fields,
        vec![b"A: 1\r".to_vec(), b"B: 2\r\n\tmore\r".to_vec()]
    );
    assert_eq!(s.body, b"body\r\n");
    assert_eq!(s.counts, (2, 2));
    assert!(!s.missing_body);
}

#[test]
fn two_byte_first_line_is_continued() {
    // dccproc never continues a first line of two bytes; dccifd does
    assert_eq!(
        fields(b"X\n b: c\nA: 1\n\n"),
        vec![b"X\n b: c".to_vec(), b"A: 1".to_vec()]
    );
}

#[test]
fn nul_ends_the_field() {
    // dccproc drops only the rest of the line after a NUL
    assert_eq!(
        fields(b"Message-ID: <abc\0junk\r\n <def@x>\r\nA: 1\r\n\r\n"),
        vec![b"Message-ID: <abc".to_vec(), b"A: 1\r".to_vec()]
    );
}

#[test]
fn xdcc_fields_are_fields() {
    // dccproc drops them
    assert_eq!(
        fields(b"X-DCC-Foo-Metrics: x 1;\n\tBody=1\nA: b\n\n"),
        vec![
            b"X-DCC-Foo-Metrics: x 1;\n\tBody=1".to_vec(),
            b"A: b".to_vec()
        ]
    );
}

#[test]
fn long_field_in_the_buffer_is_whole() {
    // dccproc keeps 1024 bytes of a field over 2048 bytes
    let mut m = b"From: ".to_vec();
    m.extend_from_slice(&[b'a'; 3000]);
    m.extend_from_slice(b"\r\n more\r\n\r\n");
    let s = split(&m);
    assert_eq!(s.fields.len(), 1);
    assert_eq!(s.fields[0], m[..m.len() - 3]);
}

/// A field longer than what the first read brought: its first 1024
/// bytes and what follows the read boundary.
fn cut_at(m: &[u8], first_read: usize) -> Vec<u8> {
    [&m[..HDR_CK_MAX], &m[first_read..]].concat()
}

#[test]
fn field_cut_at_the_read_boundary() {
    let mut m = b"Received: ".to_vec();
    m.extend((0..9000u32).map(|i| b'a' + (i % 26) as u8));
    let end = m.len();
    m.extend_from_slice(b"\r\nA: 1\r\n\r\nbody");
    let s = split(&m);
    // the first read took the buffer's 8192 bytes
    let want = cut_at(&m[..end + 1], IFD_BUF);
    assert_eq!(s.fields, vec![want, b"A: 1\r".to_vec()]);
    assert_eq!(s.body, b"body");
    // the same in any pieces
    for piece in [1, 7, 1000, 8191, 8193] {
        assert_eq!(split_in(IfdStart::default(), &m, piece), s, "{piece}");
    }
}

#[test]
fn protocol_lines_move_the_boundary() {
    // the ASCII protocol's lines came through the same buffer
    let mut start = IfdStart::default();
    for len in [7, 24, 13, 14, 4, 1] {
        start.line(len);
    }
    assert_eq!((start.out, start.inn), (63, IFD_BUF));
    let mut m = b"From: ".to_vec();
    m.extend((0..9000u32).map(|i| b'a' + (i % 26) as u8));
    let end = m.len();
    m.extend_from_slice(b"\n\nbody");
    let s = split_in(start, &m, 100);
    assert_eq!(s.fields, vec![cut_at(&m[..end], IFD_BUF - 63)]);
    assert_eq!(s.body, b"body");
    // a line that does not fit moves what is left to the start
    let mut start = IfdStart::default();
    start.line(8000);
    start.line(500);
    assert_eq!((start.out, start.inn), (500, IFD_BUF));
}

#[test]
fn field_ending_at_the_boundary_loses_its_line_end() {
    // a field of more than 1024 bytes whose line feed is the next to last
    // byte read is cut before the next line is looked at: its 1024th byte
    // becomes its end
    let mut m = b"Subject: ".to_vec();
    m.resize(IFD_BUF - 2, b'x');
    m.extend_from_slice(b"\nA: 1\n\n");
    let s = split(&m);
    assert_eq!(
        s.fields,
        vec![m[..HDR_CK_MAX - 1].to_vec(), b"A: 1".to_vec()]
    );
}

#[test]
fn missing_body() {
    let s = split(b"A: 1\r\nB: 2");
    assert_eq!(s.fields, vec![b"A: 1\r".to_vec(), b"B: 2\r".to_vec()]);
    assert!(s.missing_body);
    assert!(s.body.is_empty());
    // the made-up line end has a CR when half of the fields had one
    let s = split(b"A: 1\nB: 2\nC: 3");
    assert_eq!(s.counts, (3, 0));
    assert_eq!(s.fields[2], b"C: 3");
    let s = split(b"");
    assert!(s.fields.is_empty() && s.missing_body);
    // the byte after a line feed must be in the buffer: an empty line
    // of a lone LF that is the last byte is not seen before the end
    let s = split(b"A: 1\n\n");
    assert_eq!(s.fields, vec![b"A: 1".to_vec()]);
    assert!(s.missing_body);
    assert!(!split(b"A: 1\r\n\r\n").missing_body);
    assert!(!split(b"A: 1\n\nx").missing_body);
}

#[test]
fn crlf_counts() {
    let s = split(b"A: 1\r\nB: 2\nC: 3\r\n\r\n");
    assert_eq!(s.counts, (3, 2));
}

#[test]
fn proxy_counts_go_on() {
    // the original proxy keeps counting over the session's messages
    let prev = FieldCounts { total: 3, crlf: 0 };
    let s = split_in(IfdStart::proxy_after(prev), b"A: 1\r\nB: 2\r\n\r\n", 100);
    assert_eq!(s.counts, (5, 2));
    assert!(!FieldCounts { total: 5, crlf: 2 }.crlf());
    assert!(FieldCounts { total: 2, crlf: 2 }.crlf());
}

#[test]
fn proxy_data_end() {
    // a long last field: with the end of DATA in the buffer it is whole,
    // without it (the ASCII protocol) the end of the input cuts it
    let mut m = b"Subject: ".to_vec();
    m.resize(1500, b'x');
    m.extend_from_slice(b"\r\n");
    let s = split_in(IfdStart::proxy(), &m, m.len());
    assert_eq!(s.fields, vec![m[..m.len() - 1].to_vec()]);
    assert!(!s.missing_body && s.body.is_empty());
    let s = split(&m);
    assert_eq!(s.fields, vec![m[..HDR_CK_MAX - 1].to_vec()]);
    assert!(s.missing_body);
    // the end of DATA is not body
    let s = split_in(IfdStart::proxy(), b"A: 1\r\n\r\nbody\r\n", 3);
    assert_eq!(s.body, b"body\r\n");
}

/// The empty line that ended the header of `msg`, fed whole, then the
/// body bytes already in the buffer.
fn separator_in(start: IfdStart, msg: &[u8]) -> (Vec<u8>, Vec<u8>) {
    let mut s = IfdSplit::new(start);
    if s.push(msg, &mut |_| {}).is_none() {
        s.finish(&mut |_| {});
    }
    (s.separator().to_vec(), s.body_start().to_vec())
}

#[test]
fn empty_line_is_kept_for_the_body_checksums() {
    // get_hdr() stops at the empty line without passing it: get_body()
    // hands it to the body checksums with the body
    let plain = IfdStart::default();
    let (sep, body) = separator_in(plain, b"A: 1\n\nHello\n");
    assert_eq!((&sep[..], &body[..]), (&b"\n"[..], &b"Hello\n"[..]));
    let (sep, body) = separator_in(plain, b"A: 1\r\n\r\nHello\r\n");
    assert_eq!((&sep[..], &body[..]), (&b"\r\n"[..], &b"Hello\r\n"[..]));
    // in proxy mode too
    let (sep, body) = separator_in(IfdStart::proxy(), b"A: 1\r\n\r\nHello\r\n");
    assert_eq!((&sep[..], &body[..]), (&b"\r\n"[..], &b"Hello\r\n"[..]));
    // no empty line when the `.` line of SMTP DATA ends the header
    let (sep, body) = separator_in(IfdStart::proxy(), b"A: 1\r\n");
    assert!(sep.is_empty() && body.is_empty());
    // a line end made up at the end of the input is the original's empty
    // line too (it reaches the body checksums, where no body follows)
    let (sep, body) = separator_in(plain, b"A: 1\n");
    assert!(sep == b"\n" || sep == b"\r\n", "{sep:?}");
    assert!(body.is_empty());
}

#[test]
fn memory_bounded() {
    let mut s = IfdSplit::new(IfdStart::default());
    let chunk = vec![b'x'; 64 * 1024];
    let mut n = 0;
    for _ in 0..16 {
        assert!(s.push(&chunk, &mut |_| n += 1).is_none());
        assert_eq!(s.buf.capacity(), IFD_BUF);
    }
    let folded = b"\n continued".repeat(100_000);
    assert!(s.push(&folded, &mut |_| n += 1).is_none());
    assert_eq!(s.buf.capacity(), IFD_BUF);
    assert_eq!(n, 0);
}
