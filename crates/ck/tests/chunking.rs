//! The driver is insensitive to how its input is cut up: random chunks give
//! the checksums of the whole message, the milter form (fields one by one,
//! then the body) gives those of the raw message where dccm and dccproc
//! agree, and no input panics; the
//! damaged messages of `tests/data/damaged` are fed in pieces too.

mod damaged_pack;

use proptest::prelude::*;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use tally_ck::header::{
    parse_mail_host, parse_received, parse_return_path, parse_unix_from, CkConfig, Envelope,
    IfdStart,
};
use tally_ck::message::{Checksums, Framing, MessageCks};

fn corpus_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus")
}

/// Every corpus message, read once.
fn corpus() -> &'static [Vec<u8>] {
    static CORPUS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    CORPUS.get_or_init(|| {
        let mut files = Vec::new();
        let mut dirs = vec![corpus_dir()];
        while let Some(d) = dirs.pop() {
            for e in std::fs::read_dir(&d).expect("corpus dir") {
                let p = e.expect("dir entry").path();
                if p.is_dir() {
                    dirs.push(p);
                } else if !matches!(p.extension().and_then(|x| x.to_str()), Some("tsv" | "md")) {
                    files.push(p);
                }
            }
        }
        files.sort();
        files
            .iter()
            .map(|p| std::fs::read(p).expect("corpus file"))
            .collect()
    })
}

/// The damaged messages, rebuilt once.
fn damaged() -> &'static [(String, Vec<u8>)] {
    static DAMAGED: OnceLock<Vec<(String, Vec<u8>)>> = OnceLock::new();
    DAMAGED.get_or_init(damaged_pack::messages)
}

fn config() -> (CkConfig, Envelope) {
    let mut cfg = CkConfig {
        use_received: true,
        ..Default::default()
    };
    for s in ["List-ID", "+Sender", "X-Mailer", "mail_host", "HELO"] {
        cfg.add_substitute(s).expect("valid name");
    }
    let env = Envelope {
        env_to: vec!["bob@example.net".into()],
        ..Default::default()
    };
    (cfg, env)
}

/// Comparable form of the result.
fn summary(c: &Checksums) -> Vec<String> {
    let mut v: Vec<String> = c
        .entries
        .iter()
        .map(|e| format!("{} {} {}", Checksums::label(e), e.sum, e.report))
        .collect();
    v.push(format!(
        "{:?} {:?} {:?} {:?} {:?}",
        c.client_ip, c.client_name, c.helo, c.env_from, c.mail_host
    ));
    v.push(format!("{:?}", c.error));
    v
}

fn whole(msg: &[u8]) -> Vec<String> {
    let (cfg, env) = config();
    whole_with(msg, &cfg, &env)
}

fn whole_with(msg: &[u8], cfg: &CkConfig, env: &Envelope) -> Vec<String> {
    let mut m = MessageCks::new(cfg, env);
    m.feed(msg);
    summary(&m.finish())
}

fn chunked(msg: &[u8], cuts: &[usize]) -> Vec<String> {
    let (cfg, env) = config();
    let mut m = MessageCks::new(&cfg, &env);
    let mut pos = 0;
    for &c in cuts {
        let end = (pos + c).min(msg.len());
        m.feed(&msg[pos..end]);
        pos = end;
    }
    m.feed(&msg[pos..]);
    summary(&m.finish())
}

fn to_crlf(msg: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(msg.len() + msg.len() / 20);
    for (i, &b) in msg.iter().enumerate() {
        if b == b'\n' && (i == 0 || msg[i - 1] != b'\r') {
            out.push(b'\r');
        }
        out.push(b);
    }
    out
}

/// A header field as a milter receives it: name, value.
type Field = (Vec<u8>, Vec<u8>);

/// Header fields (name, value after the colon without the final CR LF) and
/// the body of a CRLF message; `None` when a milter could not have
/// received it (no blank line, a line without a colon, NUL bytes, huge lines).
fn milter_parts(msg: &[u8]) -> Option<(Vec<Field>, &[u8])> {
    let mut fields: Vec<Vec<u8>> = Vec::new();
    let mut pos = 0;
    loop {
        let nl = msg[pos..].iter().position(|&b| b == b'\n')? + pos;
        let line = &msg[pos..=nl];
        pos = nl + 1;
        if line == b"\r\n" {
            break;
        }
        if line.contains(&0) || line.len() > 1000 || !line.ends_with(b"\r\n") {
            return None;
        }
        match (line[0], fields.last_mut()) {
            (b' ' | b'\t', Some(f)) => f.extend_from_slice(line),
            _ => fields.push(line.to_vec()),
        }
    }
    let mut out = Vec::new();
    for f in fields {
        let colon = f.iter().position(|&b| b == b':')?;
        out.push((f[..colon].to_vec(), f[colon + 1..f.len() - 2].to_vec()));
    }
    Some((out, &msg[pos..]))
}

/// The milter form gives the sums of the raw message when the MTA gives
/// the envelope sender (a milter never looks for it in the header), for
/// messages whose fields dccproc takes whole (at most 1000 bytes, no NUL).
#[test]
fn milter_form_matches_raw() {
    let (mut compared, mut skipped) = (0, 0);
    let msgs = corpus().iter().chain(damaged().iter().map(|(_, m)| m));
    let (cfg, mut env) = config();
    env.env_from = Some("<sender@example.com>".into());
    for raw in msgs {
        let crlf = to_crlf(raw);
        let want = whole_with(&crlf, &cfg, &env);
        let parts = milter_parts(&crlf);
        let Some((fields, body)) = parts.filter(|_| want.last().is_some_and(|e| e == "None"))
        else {
            skipped += 1;
            continue;
        };
        let mut m = MessageCks::new(&cfg, &env);
        for (name, value) in &fields {
            m.header(name, value);
        }
        m.end_of_headers();
        for piece in body.chunks(777) {
            m.body(piece);
        }
        assert_eq!(summary(&m.finish()), want);
        compared += 1;
    }
    println!("milter form: {compared} messages compared, {skipped} skipped");
    assert!(compared > 1000);
}

/// Every damaged message in pieces of pseudo-random sizes (1 byte to
/// 40 KBytes, the small ones often) gives the sums of the whole message.
#[test]
fn damaged_messages_in_pieces() {
    let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for (name, msg) in damaged() {
        let cuts: Vec<usize> = (0..64)
            .map(|_| match next() % 4 {
                0 => 1,
                1 => (next() % 80) as usize,
                2 => (next() % 3000) as usize,
                _ => (next() % 40_000) as usize,
            })
            .collect();
        assert_eq!(chunked(msg, &cuts), whole(msg), "{name}");
    }
}

/// The sums and field counts of `msg` read as dccifd reads it after
/// protocol lines of `lines` bytes (SMTP DATA with `proxy`), fed cut at
/// `cuts`.
fn dccifd(msg: &[u8], lines: &[usize], proxy: bool, cuts: &[usize]) -> Vec<String> {
    let mut start = if proxy {
        IfdStart::proxy()
    } else {
        IfdStart::default()
    };
    for &l in lines {
        start.line(l);
    }
    let (cfg, env) = config();
    let mut m = MessageCks::with_framing(&cfg, &env, Framing::Dccifd(start));
    let mut pos = 0;
    for &c in cuts {
        let end = (pos + c).min(msg.len());
        m.feed(&msg[pos..end]);
        pos = end;
    }
    m.feed(&msg[pos..]);
    let c = m.finish();
    let mut v = summary(&c);
    v.push(format!("{:?}", c.fields));
    v
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn dccifd_random_chunks_match_whole(
        idx in any::<prop::sample::Index>(),
        damaged_msg in any::<bool>(),
        lines in prop::collection::vec(1usize..9000, 0..6),
        proxy in any::<bool>(),
        cuts in prop::collection::vec(0usize..3000, 0..40),
    ) {
        let msg = if damaged_msg {
            let msgs = damaged();
            &msgs[idx.index(msgs.len())].1
        } else {
            let msgs = corpus();
            &msgs[idx.index(msgs.len())]
        };
        let whole = dccifd(msg, &lines, proxy, &[]);
        prop_assert_eq!(dccifd(msg, &lines, proxy, &cuts), whole);
    }

    #[test]
    fn random_chunks_match_whole(
        idx in any::<prop::sample::Index>(),
        cuts in prop::collection::vec(0usize..300, 0..40),
    ) {
        let msgs = corpus();
        let msg = &msgs[idx.index(msgs.len())];
        prop_assert_eq!(chunked(msg, &cuts), whole(msg));
    }

    #[test]
    fn damaged_random_chunks_match_whole(
        idx in any::<prop::sample::Index>(),
        cuts in prop::collection::vec(0usize..2000, 0..60),
    ) {
        let msgs = damaged();
        let (_, msg) = &msgs[idx.index(msgs.len())];
        prop_assert_eq!(chunked(msg, &cuts), whole(msg));
    }

    #[test]
    fn byte_at_a_time_near_header_end(idx in any::<prop::sample::Index>()) {
        let msgs = corpus();
        let msg = &msgs[idx.index(msgs.len())];
        let cuts = vec![1; msg.len().min(4000)];
        prop_assert_eq!(chunked(msg, &cuts), whole(msg));
    }

    #[test]
    fn arbitrary_bytes_never_panic(
        data in prop::collection::vec(any::<u8>(), 0..3000),
        cuts in prop::collection::vec(0usize..500, 0..10),
        received in any::<bool>(),
    ) {
        let (mut cfg, env) = config();
        cfg.use_received = received;
        let mut m = MessageCks::new(&cfg, &env);
        m.set_relay_filter(Box::new(|ip| ip.is_loopback()));
        let mut pos = 0;
        for &c in &cuts {
            let end = (pos + c).min(data.len());
            m.feed(&data[pos..end]);
            pos = end;
        }
        m.feed(&data[pos..]);
        let _ = m.finish();

        for start in [IfdStart::default(), IfdStart::proxy()] {
            let mut m = MessageCks::with_framing(&cfg, &env, Framing::Dccifd(start));
            m.set_relay_filter(Box::new(|ip| ip.is_loopback()));
            for piece in data.chunks(cuts.first().copied().unwrap_or(1).max(1)) {
                m.feed(piece);
            }
            let _ = m.finish();
        }

        let mut m = MessageCks::new(&cfg, &env);
        let (a, b) = data.split_at(data.len() / 2);
        m.header(a, b);
        m.header(b, a);
        m.body(&data);
        let _ = m.finish();
    }

    #[test]
    fn arbitrary_header_text_never_panics(
        lines in prop::collection::vec("[ -~\t]{0,80}", 0..20),
    ) {
        let (cfg, env) = config();
        let mut m = MessageCks::new(&cfg, &env);
        for l in &lines {
            m.feed(l.as_bytes());
            m.feed(b"\n");
        }
        m.feed(b"\nbody\n");
        let _ = m.finish();
    }

    #[test]
    fn header_parsers_never_panic(data in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = parse_received(&data);
        let _ = parse_return_path(&data);
        let _ = parse_unix_from(&data);
        let _ = parse_mail_host(&data);
    }

    #[test]
    fn received_like_text_never_panics(
        v in "( from| by|\\(qmail|\\(from)[ a-zA-Z0-9.:\\[\\]()@/-]{0,60}",
    ) {
        let _ = parse_received(v.as_bytes());
    }
}
