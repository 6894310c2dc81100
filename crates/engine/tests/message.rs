//! Reading a message for copying: old X-DCC headers, line ends, the blank
//! line, and copying back out with a header inserted.

use std::io::{Cursor, Write};
use tally_engine::message::{copy_spool, read_message, ReadInfo};

fn read(msg: &[u8], keep: bool) -> (ReadInfo, Vec<u8>, Vec<u8>) {
    let mut spool: Vec<u8> = Vec::new();
    let mut fed: Vec<u8> = Vec::new();
    let info = {
        let mut sp: Option<&mut dyn Write> = Some(&mut spool);
        read_message(
            &mut Cursor::new(msg),
            &mut sp,
            &mut |b| fed.extend_from_slice(b),
            keep,
        )
        .expect("read")
    };
    (info, spool, fed)
}

#[test]
fn removes_old_xdcc_fields_with_their_continuations() {
    let msg = b"From: a@b\nX-DCC-x-Metrics: h 1; Body=1\n\tFuz1=1\nx-dcc--metrics: h; whitelist\nSubject: s\n\nbody\n";
    let (info, spool, fed) = read(msg, false);
    assert_eq!(spool, b"From: a@b\nSubject: s\n\nbody\n");
    assert_eq!(fed, spool);
    assert_eq!(info.hdrs_len, 21);
    assert_eq!(info.body_len, 6);
    assert_eq!(info.total_hdrs, 5);
    assert!(info.complete);
    assert!(!info.crlf());
    let (_, spool, _) = read(msg, true);
    assert_eq!(spool, msg);
}

#[test]
fn crlf_majority() {
    let msg = b"From: a@b\r\nTo: c@d\r\nSubject: s\n\r\nbody\r\n";
    let (info, _, _) = read(msg, false);
    assert_eq!((info.total_hdrs, info.cr_hdrs), (4, 3));
    assert!(info.crlf());
    assert_eq!(info.body_len, 8);
}

#[test]
fn no_blank_line() {
    let (info, spool, _) = read(b"From: a@b\nSubject: s", false);
    assert!(!info.complete);
    assert_eq!(spool, b"From: a@b\nSubject: s");
}

#[test]
fn long_fields_are_streamed() {
    let mut msg = b"Subject: ".to_vec();
    msg.extend(vec![b'x'; 200_000]);
    msg.extend_from_slice(b"\n\tmore\n\nbody\n");
    let (info, spool, _) = read(&msg, false);
    assert_eq!(spool, msg);
    assert_eq!(info.hdrs_len as usize, msg.len() - 6);
}

#[test]
fn copy_with_inserted_header() {
    let msg = b"From: a@b\nSubject: s\n\nbody\n";
    let (info, spool, _) = read(msg, false);
    let mut src = Cursor::new(spool);
    let mut out: Vec<u8> = Vec::new();
    let mut errors = Vec::new();
    let mut log = None;
    {
        let mut o: Option<&mut dyn Write> = Some(&mut out);
        copy_spool(&mut src, info.hdrs_len, &mut o, &mut log, &mut errors).expect("copy");
    }
    out.extend_from_slice(b"X-DCC--Metrics: vm 0; Body=1\n");
    {
        let mut o: Option<&mut dyn Write> = Some(&mut out);
        copy_spool(&mut src, info.body_len, &mut o, &mut log, &mut errors).expect("copy");
    }
    assert_eq!(
        out,
        b"From: a@b\nSubject: s\nX-DCC--Metrics: vm 0; Body=1\n\nbody\n"
    );
}
