//! Flood streams captured between two reference servers: every version
//! header, report record and listener message decodes to what the capture
//! notes say and re-encodes to the same bytes; accepted headers carry the
//! signature of their sender's password.

use serde_json::Value;
use std::path::{Path, PathBuf};
use tally_wire::flood::{self, FlodVersion, ListenerMsg};
use tally_wire::ids::Ids;

fn data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/flood")
        .join(p)
}

fn unhex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

fn check_conn(ids: &Ids, name: &str, failures: &mut Vec<String>) -> (usize, usize) {
    let meta: Value =
        serde_json::from_slice(&std::fs::read(data(&format!("{name}.json"))).unwrap()).unwrap();
    let orig = unhex(&std::fs::read_to_string(data(&format!("{name}_originator.hex"))).unwrap());
    let lis = unhex(&std::fs::read_to_string(data(&format!("{name}_listener.hex"))).unwrap());
    let mut fail = |s: String| failures.push(format!("{name}: {s}"));
    let (mut ok, mut total) = (0, 0);

    // Originator: header and reports.
    let expected: Vec<&Value> = meta["originator_to_listener"]
        .as_array()
        .unwrap()
        .iter()
        .collect();
    match flood::split_originator(&orig) {
        Err(e) => fail(format!("originator stream does not decode: {e}")),
        Ok((hdr, reports, rest)) => {
            let mut re = Vec::new();
            let mut i = 0;
            if let Some(h) = &hdr {
                total += 1;
                let e = expected[0];
                re.extend(h.encode());
                let mut good = e["kind"] == "version header"
                    && h.sender_srvr_id as u64 == e["sender_srvr_id"].as_u64().unwrap()
                    && h.vers_str() == e["str"].as_str().unwrap().as_bytes();
                if e.get("signed_with").is_some() {
                    let pw = ids.passwd(u32::from(h.sender_srvr_id)).unwrap();
                    good &=
                        h.verify(pw) && matches!(h.version(), FlodVersion::V7Rep | FlodVersion::V7);
                } else if let Some(pw) = ids.passwd(u32::from(h.sender_srvr_id)) {
                    // the hand-built refused headers: wrong password or version
                    good &= !h.verify(pw) || h.version() != FlodVersion::V7Rep;
                }
                if good {
                    ok += 1;
                } else {
                    fail("version header differs".into());
                }
                i = 1;
            }
            for r in &reports {
                total += 1;
                let e = expected[i];
                i += 1;
                let mut b = Vec::new();
                r.encode_into(&mut b);
                re.extend_from_slice(&b);
                let cks = e["cks"].as_array().unwrap();
                let good = e["kind"] == "report"
                    && r.check().is_ok()
                    && b == unhex(e["hex"].as_str().unwrap())
                    && r.pos == e["pos"].as_u64().unwrap()
                    && u64::from(r.srvr_id) == e["srvr_id"].as_u64().unwrap()
                    && r.ts.secs() == e["ts"]["secs"].as_u64().unwrap()
                    && u64::from(r.ts.usecs()) == e["ts"]["usecs"].as_u64().unwrap()
                    && cks.len() == r.cks.len()
                    && cks.iter().zip(&r.cks).all(|(c, w)| {
                        c["type"].as_u64() == Some(u64::from(w.ty.number()))
                            && c.get("path_server_ids").is_none_or(|p| {
                                p.as_array()
                                    .unwrap()
                                    .iter()
                                    .map(|x| x.as_u64().unwrap() as u16)
                                    .collect::<Vec<_>>()
                                    == flood::path_ids(&w.sum)
                            })
                            && c.get("sum_text").is_none_or(|t| {
                                t.as_str().unwrap().as_bytes() == flood::sum_text(&w.sum)
                            })
                    });
                if good {
                    ok += 1;
                } else {
                    fail(format!("report at pos {} differs", r.pos));
                }
            }
            re.extend_from_slice(rest);
            if re != orig {
                fail("originator stream re-encodes differently".into());
            }
            if i != expected.len() && !(expected.len() == 1 && expected[0]["kind"] == "short") {
                fail(format!(
                    "{i} originator items, capture notes {}",
                    expected.len()
                ));
            }
        }
    }

    // Listener messages.
    let expected = meta["listener_to_originator"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    match flood::split_listener(&lis) {
        Err(e) => fail(format!("listener stream does not decode: {e}")),
        Ok((msgs, rest)) => {
            let mut re = Vec::new();
            for m in &msgs {
                m.encode_into(&mut re);
            }
            if !rest.is_empty() || re != lis || msgs.len() != expected.len() {
                fail("listener stream does not split and re-encode exactly".into());
            }
            for (m, e) in msgs.iter().zip(&expected) {
                total += 1;
                let text = e.get("text").and_then(Value::as_str).map(str::as_bytes);
                let good = match (m, e["kind"].as_str().unwrap()) {
                    (ListenerMsg::Ack(p), "position (ack)") => Some(*p) == e["pos"].as_u64(),
                    (ListenerMsg::End(t), "END") => Some(t.as_slice()) == text,
                    (ListenerMsg::Note(t), "NOTE") => Some(t.as_slice()) == text,
                    (ListenerMsg::EndReq, "END_REQ") | (ListenerMsg::Rewind, "REWIND") => true,
                    _ => false,
                };
                if good {
                    ok += 1;
                } else {
                    fail(format!("listener message {m:?} is not {}", e["kind"]));
                }
            }
        }
    }
    (ok, total)
}

#[test]
fn flood_vectors() {
    let ids = Ids::parse(
        &std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/ids")).unwrap(),
    )
    .unwrap();
    let mut names: Vec<String> = std::fs::read_dir(data(""))
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().into_string().unwrap();
            (n.starts_with("conn") && n.ends_with(".json"))
                .then(|| n.trim_end_matches(".json").to_string())
        })
        .collect();
    names.sort();
    let mut failures = Vec::new();
    let (mut ok, mut total) = (0, 0);
    for n in &names {
        let (o, t) = check_conn(&ids, n, &mut failures);
        ok += o;
        total += t;
    }
    println!("{ok}/{total} flood items ok in {} connections", names.len());
    for f in &failures {
        println!("FAIL {f}");
    }
    assert_eq!(names.len(), 11);
    assert!(failures.is_empty(), "{} failures", failures.len());
}
