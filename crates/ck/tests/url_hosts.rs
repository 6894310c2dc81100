//! The host names of a body's URLs, as DNS list checks (-B) see them: the
//! recorded scenario 03a's bodies (http and https, upper case and a port,
//! an href with a user part, no scheme, a repeated host).

use tally_ck::header::{CkConfig, Envelope};
use tally_ck::message::{Checksums, MessageCks};

fn hosts(body: &str) -> Vec<String> {
    let mut m = MessageCks::new(&CkConfig::default(), &Envelope::default());
    m.feed(b"From: a@example.com\r\nSubject: s\r\n\r\n");
    m.feed(body.as_bytes());
    let c: Checksums = m.finish();
    c.url_hosts
}

#[test]
fn recorded_03a_bodies() {
    assert_eq!(
        hosts("see http://www.urlname.example/page.html\n"),
        ["www.urlname.example"]
    );
    assert_eq!(
        hosts("see http://sub.parent-listed.example/x\n"),
        ["sub.parent-listed.example"]
    );
    assert_eq!(
        hosts("see https://WWW.URLNAME.EXAMPLE:8443/a?b=c\n"),
        ["www.urlname.example"]
    );
    assert_eq!(
        hosts("<a href=\"http://user:pw@www.urlname.example/x\">click</a>\n"),
        ["www.urlname.example"]
    );
    assert!(hosts("see www.urlname.example/page\n").is_empty());
    assert_eq!(
        hosts("http://www.clean.example/a http://www.clean.example/b\n"),
        ["www.clean.example", "www.clean.example"]
    );
}

#[test]
fn taken_while_the_body_arrives() {
    let body: String = (0..3000)
        .map(|i| format!("line {i} http://h{i}.example/x\n"))
        .collect();
    let whole = hosts(&body);
    let mut m = MessageCks::new(&CkConfig::default(), &Envelope::default());
    m.feed(b"From: a@example.com\r\nSubject: s\r\n\r\n");
    let mut seen = Vec::new();
    for line in body.split_inclusive('\n') {
        m.feed(line.as_bytes());
        seen.extend(m.take_url_hosts());
    }
    let c = m.finish();
    seen.extend(c.url_hosts);
    // the same hosts whether taken as they come or at the end, in order,
    // at most the first 1000 of a message (only as far as the fuzzy
    // checksum's recogniser reads the text)
    assert_eq!(seen, whole);
    assert!(!seen.is_empty() && seen.len() <= 1000);
    for (i, h) in seen.iter().enumerate() {
        assert_eq!(h, &format!("h{i}.example"));
    }
}
