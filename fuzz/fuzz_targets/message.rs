#![no_main]
//! The checksum engine on arbitrary messages: never a panic, and the result
//! does not depend on how the input is cut into pieces, whether framed as
//! dccproc or as dccifd reads the header; dccm's whole milter fields never
//! panic either.
use libfuzzer_sys::fuzz_target;
use tally_ck::header::{CkConfig, Envelope};
use tally_ck::header::IfdStart;
use tally_ck::message::{Checksums, Framing, MessageCks};

fuzz_target!(|data: &[u8]| {
    let Some((&cut, msg)) = data.split_first() else {
        return;
    };
    if msg.is_empty() {
        // feed() marks raw input; an empty message fed whole is a message
        // without header lines, while no feed() at all is nothing yet.
        return;
    }
    let mut cfg = CkConfig::default();
    let _ = cfg.add_substitute("List-ID");
    let _ = cfg.add_substitute("mail_host");
    cfg.use_received = cut & 1 == 1;
    let env = Envelope {
        client_ip: (cut & 2 == 0).then(|| "192.0.2.1".parse().unwrap()),
        env_from: Some("a@example.com".into()),
        ..Envelope::default()
    };
    let step = usize::from(cut % 61) + 1;
    let sums = |framing: Framing, step: usize| -> Checksums {
        let mut m = MessageCks::with_framing(&cfg, &env, framing);
        for p in msg.chunks(step) {
            m.feed(p);
        }
        m.finish()
    };
    let start = if cut & 4 == 0 {
        IfdStart::proxy()
    } else {
        let mut s = IfdStart::default();
        s.line(usize::from(cut) * 37);
        s
    };
    for framing in [Framing::Dccproc, Framing::Dccifd(start)] {
        let whole = sums(framing, msg.len());
        let pieces = sums(framing, step);
        let a: Vec<_> = whole.entries.iter().map(|e| (e.ck_type, e.sum)).collect();
        let b: Vec<_> = pieces.entries.iter().map(|e| (e.ck_type, e.sum)).collect();
        assert_eq!(a, b, "chunking changed the checksums ({framing:?})");
        assert_eq!(whole.fields, pieces.fields, "chunking changed the field counts");
    }
    // dccm: the lines of the input as milter fields, name before the
    // first colon
    let mut m = MessageCks::new(&cfg, &env);
    for line in msg.split(|&b| b == b'\n').take(64) {
        let at = line.iter().position(|&b| b == b':').unwrap_or(line.len());
        m.header(&line[..at], line.get(at + 1..).unwrap_or(&[]));
    }
    m.end_of_headers();
    m.body(msg);
    let _ = m.finish();
});
