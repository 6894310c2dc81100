#![no_main]
//! Arbitrary bytes as the `-X` filter's answer: the parser never panics,
//! an accepted answer prints as a line that parses to the same answer,
//! and a refused one names a byte offset within the line. The same bytes
//! as the fields of a request never start a line of their own.
use libfuzzer_sys::fuzz_target;
use tally_engine::xfltr::answer::{first_line, parse_answer, MAX_ANSWER};
use tally_engine::xfltr::{Request, Verdict};

fuzz_target!(|data: &[u8]| {
    match parse_answer(data) {
        Ok(a) => {
            let shown = a.to_string();
            assert_eq!(parse_answer(shown.as_bytes()), Ok(a));
        }
        Err(e) => assert!(e.offset <= first_line(data).len().max(MAX_ANSWER)),
    }
    let text = String::from_utf8_lossy(data).into_owned();
    let r = Request {
        id: text.clone(),
        client_ip: text.clone(),
        client_name: text.clone(),
        helo: text.clone(),
        env_from: text.clone(),
        rcpts: vec![text.clone(), text],
        verdict: Some(Verdict::Discard),
        header: None,
    };
    let t = r.text();
    let head = t.split("\n\n").next().unwrap_or("");
    assert_eq!(head.lines().count(), 7, "{t:?}");
});
