//! Reading a message for copying: old X-DCC headers, line ends, the blank
//! line, and copying back out with a header inserted.

use std::io::{Cursor, Write};
use tally_ck::header::{CkConfig, Envelope};
use tally_ck::message::MessageCks;
use tally_ck::CkType;
use tally_engine::message::{copy_spool, output_failure, read_message, ReadInfo};

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
    // the checksums get every field: they drop the old headers themselves
    assert_eq!(fed, msg);
    assert_eq!(info.hdrs_len, 21);
    assert_eq!(info.body_len, 6);
    assert_eq!(info.total_hdrs, 5);
    assert!(info.complete);
    assert!(!info.crlf());
    let (_, spool, _) = read(msg, true);
    assert_eq!(spool, msg);
}

#[test]
fn a_removed_xdcc_field_counts_as_a_header_line() {
    // the original counts its own removed header as a header line seen
    let msg = b"X-DCC-a-Metrics: x\n\nSome text that is long enough for a Body checksum.\n";
    let mut mc = MessageCks::new(&CkConfig::default(), &Envelope::default());
    let info = {
        let mut spool: Vec<u8> = Vec::new();
        let mut sp: Option<&mut dyn Write> = Some(&mut spool);
        let info = read_message(
            &mut Cursor::new(&msg[..]),
            &mut sp,
            &mut |b| mc.feed(b),
            false,
        )
        .expect("read");
        assert_eq!(spool, &msg[19..]);
        info
    };
    assert!(info.complete);
    assert_eq!(info.hdrs_len, 0);
    let sums = mc.finish();
    assert_eq!(sums.error, None);
    assert!(sums.get(CkType::Body).is_some());
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

/// An output that takes `room` bytes, then fails as a full disk does.
struct Full {
    room: usize,
}

impl Write for Full {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if self.room == 0 {
            return Err(std::io::Error::from_raw_os_error(28));
        }
        let n = b.len().min(self.room);
        self.room -= n;
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn output_errors_are_told_from_spool_errors() {
    let mut log = None;
    let mut errors = Vec::new();
    let mut full = Full { room: 100 };
    let e = {
        let mut o: Option<&mut dyn Write> = Some(&mut full);
        copy_spool(
            &mut Cursor::new(vec![b'x'; 300]),
            300,
            &mut o,
            &mut log,
            &mut errors,
        )
        .expect_err("full")
    };
    let o = output_failure(&e).expect("an output error");
    assert_eq!((o.len, o.written), (300, 100));
    assert_eq!(tally_engine::errno_str(&e), "No space left on device");
    // a spool that ends early is not one
    let mut sink: Vec<u8> = Vec::new();
    let e = {
        let mut o: Option<&mut dyn Write> = Some(&mut sink);
        copy_spool(
            &mut Cursor::new(vec![b'x'; 10]),
            300,
            &mut o,
            &mut log,
            &mut errors,
        )
        .expect_err("short")
    };
    assert!(output_failure(&e).is_none());
}

#[test]
fn fields_cut_for_length_end_with_crlf_for_dccproc() {
    // dccproc keeps 1024 bytes of a field passing 2048 and puts CR LF
    // after them when the read that passed the limit ended the line
    let long = "x".repeat(3000);
    let m = format!("Subject: {long}\nX-Other: {long}\n\nbody\n");
    let (info, _, _) = read(m.as_bytes(), false);
    assert_eq!((info.total_hdrs, info.cr_hdrs, info.cut_hdrs), (3, 0, 2));
    assert!(info.crlf_dccproc());
    assert!(!info.crlf());
    // a short last line after the cut keeps its own line end
    let m = format!("Subject: {long}\n a\nX-Other: {long}\n b\n\nbody\n");
    let (info, _, _) = read(m.as_bytes(), false);
    assert_eq!(info.cut_hdrs, 0);
    assert!(!info.crlf_dccproc());
    // a line longer than the whole buffer: cut at every read
    let huge = "y".repeat(50_000);
    let m = format!("Subject: {huge}\nX-Other: {huge}\n\nbody\n");
    let (info, _, _) = read(m.as_bytes(), false);
    assert_eq!(info.cut_hdrs, 2);
}
