#![no_main]
//! The checksum engine on arbitrary messages: never a panic, and the result
//! does not depend on how the input is cut into pieces.
use libfuzzer_sys::fuzz_target;
use tally_ck::header::{CkConfig, Envelope};
use tally_ck::message::MessageCks;

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
    let mut whole = MessageCks::new(&cfg, &env);
    whole.feed(msg);
    let whole = whole.finish();
    let step = usize::from(cut % 61) + 1;
    let mut pieces = MessageCks::new(&cfg, &env);
    for p in msg.chunks(step) {
        pieces.feed(p);
    }
    let pieces = pieces.finish();
    let a: Vec<_> = whole.entries.iter().map(|e| (e.ck_type, e.sum)).collect();
    let b: Vec<_> = pieces.entries.iter().map(|e| (e.ck_type, e.sum)).collect();
    assert_eq!(a, b, "chunking changed the checksums");
});
