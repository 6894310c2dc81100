//! Every UDP request and answer captured from the reference DCC 2.3.167
//! decodes, re-encodes to the same bytes, and has the signature our signing
//! rules produce.

use serde_json::Value;
use std::path::{Path, PathBuf};
use tally_wire::error::DecodeError;
use tally_wire::ids::Ids;
use tally_wire::packet::{Expect, Packet, Request, Response};
use tally_wire::response::AdmnAnswer;
use tally_wire::sign::{authenticate, Passwd, Signer};
use tally_wire::validate::check_request;

fn data(p: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(p)
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap())
        .collect()
}

/// Requests the reference server drops; our decoder must refuse them.
fn expected_rejection(name: &str) -> Option<fn(&DecodeError) -> bool> {
    Some(match name {
        "probe_query_badlen#1_QUERY" => |e| matches!(e, DecodeError::LengthMismatch { .. }),
        "probe_nop_v3#1_NOP" | "probe_nop_v33#1_NOP" | "probe_query_v13#1_QUERY" => {
            |e| matches!(e, DecodeError::BadVersion { .. })
        }
        "probe_answer_op_to_server#1_ANSWER" => |e| matches!(e, DecodeError::NotARequest(_)),
        "probe_delete_badlen#1_DELETE" => |e| matches!(e, DecodeError::BadBodyLength { .. }),
        _ => return None,
    })
}

/// The signer described by the capture's notes ("MD5(password 'x' ...",
/// "MD5(request op_nums ...", "none ...").
fn described_signer(desc: &str, op_nums: &[u8]) -> Signer {
    if let Some(rest) = desc.strip_prefix("MD5(password '") {
        let pw = &rest[..rest.find('\'').unwrap()];
        Signer::Passwd(Passwd::new(pw.as_bytes()).unwrap())
    } else if desc.starts_with("MD5(request op_nums") {
        Signer::OpNums(tally_wire::OpNums::from_bytes(op_nums.try_into().unwrap()))
    } else {
        assert!(desc.starts_with("none"), "unknown signature note {desc}");
        Signer::Zero
    }
}

fn check_exchange(ids: &Ids, v: &Value, failures: &mut Vec<String>) -> usize {
    let name = v["name"].as_str().unwrap();
    let mut ok = 0;
    let req = unhex(v["request_hex"].as_str().unwrap());
    let mut fail = |what: String| failures.push(format!("{name}: {what}"));

    // The request.
    let decoded = Packet::<Request>::decode(&req);
    let mut expect = Expect::Dcc;
    let mut req_ok = true;
    match (&decoded, expected_rejection(name)) {
        (Err(e), Some(pred)) if pred(e) => {}
        (Err(e), _) => {
            fail(format!("request does not decode: {e}"));
            req_ok = false;
        }
        (Ok(_), Some(_)) => {
            fail("request decodes but the reference server drops it".into());
            req_ok = false;
        }
        (Ok(p), None) => {
            expect = Expect::for_request(&p.body);
            if p.encode() != req {
                fail("request re-encodes differently".into());
                req_ok = false;
            }
            // The server's own checks: only the oversized ADMN is refused.
            match (check_request(p), name) {
                (Ok(()), "probe_admn_bad_val5#1_ADMN") => {
                    fail("oversized ADMN passes the checks".into());
                    req_ok = false;
                }
                (Ok(()), _) => {}
                (Err(r), "probe_admn_bad_val5#1_ADMN") => {
                    let want = v["decoded"]["response"]["body"]["msg"].as_str().unwrap();
                    if r.error_text().as_deref() != Some(want) {
                        fail(format!("refusal text {:?} is not {want:?}", r.error_text()));
                        req_ok = false;
                    }
                }
                (Err(r), _) => {
                    fail(format!("refused: {r:?}"));
                    req_ok = false;
                }
            }
        }
    }
    let desc = v["decoded"]["request"]["signature"]["signed_with"]
        .as_str()
        .unwrap();
    if !described_signer(desc, &req[8..24]).verify(&req) {
        fail(format!("request signature does not verify ({desc})"));
        req_ok = false;
    }
    if let Ok(p) = &decoded {
        if p.sender == 1 && p.signature != [0; 16] {
            fail("anonymous request with a signature".into());
            req_ok = false;
        }
    }
    ok += usize::from(req_ok);

    // The answer, if the server sent one.
    let Some(resp_hex) = v["response_hex"].as_str().filter(|s| !s.is_empty()) else {
        return ok;
    };
    let resp = unhex(resp_hex);
    let mut resp_ok = true;
    match Packet::<Response>::decode(&resp, expect) {
        Err(e) => {
            fail(format!("response does not decode: {e}"));
            resp_ok = false;
        }
        Ok(mut p) => {
            if p.encode() != resp {
                fail("response re-encodes differently".into());
                resp_ok = false;
            }
            if !clients_match(&p.body, &v["decoded"]["response"]["body"]) {
                fail("clients list differs from the capture notes".into());
                resp_ok = false;
            }
            // Sign it the way the server decides to, from the request alone.
            let sender = u32::from_be_bytes(req[4..8].try_into().unwrap());
            let auth = authenticate(ids, sender, &req);
            let op_nums = tally_wire::OpNums::from_bytes(req[8..24].try_into().unwrap());
            let signer = auth.answer_signer(req[2], &op_nums);
            if p.sign(&signer) != resp {
                fail(format!(
                    "our answer signature ({signer:?}, {auth:?}) differs"
                ));
                resp_ok = false;
            }
            let desc = v["decoded"]["response"]["signature"]["signed_with"]
                .as_str()
                .unwrap();
            if !described_signer(desc, &req[8..24]).verify(&resp) {
                fail(format!("response signature does not match the note {desc}"));
                resp_ok = false;
            }
        }
    }
    ok + usize::from(resp_ok)
}

/// The binary clients lists against the field-by-field notes.
fn clients_match(body: &Response, notes: &Value) -> bool {
    let Some(records) = notes.get("records").and_then(Value::as_array) else {
        return true;
    };
    let Response::Admn(AdmnAnswer::Clients(list)) = body else {
        return false;
    };
    list.len() == records.len()
        && list.iter().zip(records).all(|(c, r)| {
            let addr = match c.addr {
                tally_wire::clients::ClientAddr::V4(a) => a.to_vec(),
                tally_wire::clients::ClientAddr::V6(a) => a.to_vec(),
            };
            u64::from(c.flags) == u64::from_str_radix(r["flags_hex"].as_str().unwrap(), 16).unwrap()
                && Some(c.when) == r["last_used_or_delta"].as_u64()
                && c.id == r.get("clnt_id_raw").and_then(Value::as_u64)
                && Some(c.reqs) == r["requests"].as_u64()
                && Some(c.nops) == r["nops"].as_u64()
                && c.vers.map(u64::from) == r.get("pkt_vers").and_then(Value::as_u64)
                && addr == unhex(r["addr_hex"].as_str().unwrap())
        })
}

fn packets(v: &Value) -> usize {
    1 + usize::from(v["response_hex"].as_str().is_some_and(|s| !s.is_empty()))
}

#[test]
fn udp_vectors() {
    let ids = Ids::parse(&std::fs::read(data("ids")).unwrap()).unwrap();
    let all: Vec<Value> =
        serde_json::from_slice(&std::fs::read(data("udp_vectors.json")).unwrap()).unwrap();

    // The per-scenario files hold the same exchanges.
    let mut files: Vec<_> = std::fs::read_dir(data("udp"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut per_scenario = Vec::new();
    for f in &files {
        let v: Vec<Value> = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
        per_scenario.extend(v);
    }

    let mut failures = Vec::new();
    let (mut ok, mut total) = (0, 0);
    for v in all.iter().chain(per_scenario.iter()) {
        total += packets(v);
        ok += check_exchange(&ids, v, &mut failures);
    }
    println!(
        "{ok}/{total} packets ok ({} exchanges, {} scenario files)",
        all.len() + per_scenario.len(),
        files.len()
    );
    for f in &failures {
        println!("FAIL {f}");
    }
    assert_eq!(all.len(), 89);
    assert_eq!(per_scenario.len(), all.len());
    assert!(failures.is_empty(), "{} failures", failures.len());
    assert_eq!(ok, total);
}

#[test]
fn retransmissions_share_a_cache_key() {
    let all: Vec<Value> =
        serde_json::from_slice(&std::fs::read(data("udp_vectors.json")).unwrap()).unwrap();
    let key = |name: &str| {
        let v = all.iter().find(|v| v["name"] == name).unwrap();
        tally_wire::header::cache_key(&unhex(v["request_hex"].as_str().unwrap())).unwrap()
    };
    let first = key("probe_report_retrans#1_REPORT");
    assert_eq!(first, key("probe_report_retrans#2_REPORT"));
    assert_ne!(first, key("probe_report_retrans#3_REPORT"));
}
