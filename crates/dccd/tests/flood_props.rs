//! Property tests of the flooding parsers: the flod file and the records
//! of a stream (any split of the bytes, any content: never a panic), and a
//! record sent by one server and received by the next.

use proptest::prelude::*;
use tally_ck::{CkType, Sum};
use tally_dccd::flood::file::{parse, parse_line};
use tally_dccd::flood::proto::{decode_in, incoming, to_wire, Incoming};
use tally_store::{Ck, LogEntry, Pos, Report, Ts};

const OPTS: [&str; 14] = [
    "off",
    "del",
    "no-del",
    "no-log-del",
    "passive",
    "IPv4",
    "leaf=3",
    "trace1",
    "trace2",
    "traps",
    "self->ok",
    "all->reject",
    "1000-1099->self",
    "version7",
];

fn opts() -> impl Strategy<Value = Vec<&'static str>> {
    proptest::sample::subsequence(OPTS.to_vec(), 0..4)
}

proptest! {
    #[test]
    fn flod_lines(
        host in "[a-z][a-z0-9.]{0,20}",
        port in proptest::option::of(1u16..),
        id in 100u16..32768,
        pw in proptest::option::of(100u16..32768),
        out in opts(),
        inc in opts(),
    ) {
        let mut line = host.clone();
        if let Some(p) = port {
            line.push_str(&format!(",{p}"));
        }
        line.push_str(&format!(" {id}"));
        line.push_str(&pw.map_or(" -".to_string(), |p| format!(" {p}")));
        let join = |v: &[&str]| if v.is_empty() { "-".to_string() } else { v.join(",") };
        line.push_str(&format!(" {} {}", join(&out), join(&inc)));
        let p = parse_line(&line, 3).unwrap();
        prop_assert_eq!(&p.host, &host);
        prop_assert_eq!(p.port(6277), port.unwrap_or(6277));
        prop_assert_eq!((p.rem_id, p.passwd_id), (id, pw));
        prop_assert_eq!(p.out.off, out.contains(&"off"));
        prop_assert_eq!(p.inc.traps, inc.contains(&"traps"));
    }

    #[test]
    fn flod_files_never_panic(text in proptest::collection::vec(any::<u8>(), 0..400)) {
        let (peers, errors) = parse(&text);
        for e in errors {
            prop_assert!(e.line >= 1);
        }
        prop_assert!(peers.len() <= text.len());
    }

    #[test]
    fn streams_in_any_pieces(
        data in proptest::collection::vec(any::<u8>(), 0..600),
        cut in 0usize..600,
    ) {
        // decoding never panics and never claims bytes it was not given;
        // a record decoded from a prefix is the one decoded from the whole
        let whole = decode_in(&data, 0);
        if let Ok(Some((_, n))) = &whole {
            prop_assert!(*n <= data.len());
        }
        let part = decode_in(&data[..cut.min(data.len())], 0);
        if let Ok(Some(r)) = part {
            prop_assert_eq!(Ok(Some(r)), whole);
        }
    }

    #[test]
    fn sent_and_received(
        srvr in 100u16..32768,
        path in proptest::collection::vec(2000u16..2100, 0..5),
        tgts in 10u32..0x00ff_fff0,
        secs in 1_000_000u64..2_000_000_000,
        pos in 10u64..1 << 40,
        sums in proptest::collection::vec(any::<[u8; 16]>(), 1..4),
    ) {
        // server 1100 forwards a record to 1101, which counts it
        prop_assume!(srvr != 1100 && srvr != 1101);
        let types = [CkType::Body, CkType::Fuz1, CkType::Fuz2];
        let cks: Vec<Ck> = sums.iter().zip(types).map(|(s, t)| Ck::new(t, Sum(*s))).collect();
        let mut r = Report::new(Ts::new(secs, 0), srvr, tgts, cks.clone());
        r.path = path.clone();
        let e = LogEntry { pos: Pos(pos), report: r };
        let to = parse_line("h 1101", 1).unwrap();
        let w = to_wire(&e, 1100, &to, true, false).unwrap();
        let mut bytes = Vec::new();
        w.encode_into(&mut bytes);
        let (got, n) = decode_in(&bytes, 0).unwrap().unwrap();
        prop_assert_eq!(n, bytes.len());
        let from = parse_line("h 1100", 1).unwrap();
        match incoming(&got, 1101, &from, true, false, &|_| true) {
            Incoming::Add(rec) => {
                prop_assert_eq!((rec.srvr_id, rec.tgts, rec.ts), (srvr, tgts, Ts::new(secs, 0)));
                prop_assert_eq!(rec.cks, cks);
                let mut want = vec![1100];
                want.extend(path);
                want.truncate(8);
                prop_assert_eq!(rec.path, want);
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }
}
