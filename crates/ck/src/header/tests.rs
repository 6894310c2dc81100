//! Whole-message behaviour of the header checksums.

use crate::header::{CkConfig, Envelope};
use crate::message::{Checksums, MessageCks};
use crate::simple::{ip_sum, str_sum};
use crate::CkType;
use std::net::IpAddr;

fn run(cfg: &CkConfig, env: &Envelope, msg: &str) -> Checksums {
    let mut m = MessageCks::new(cfg, env);
    m.feed(msg.as_bytes());
    m.finish()
}

fn plain(msg: &str) -> Checksums {
    run(&CkConfig::default(), &Envelope::default(), msg)
}

fn labels(c: &Checksums) -> Vec<String> {
    c.entries
        .iter()
        .filter(|e| !e.ck_type.is_body())
        .map(Checksums::label)
        .collect()
}

fn with_subs(names: &[&str]) -> CkConfig {
    let mut cfg = CkConfig::default();
    for n in names {
        cfg.add_substitute(n).unwrap();
    }
    cfg
}

#[test]
fn message_id_missing_or_empty() {
    let c = plain("Subject: x\n\nbody\n");
    let e = c.get(CkType::MessageId).unwrap();
    assert_eq!(e.sum, str_sum(None, b""));
    assert!(!e.report);

    let c = plain("Message-ID:\n\nbody\n");
    let e = c.get(CkType::MessageId).unwrap();
    assert_eq!(e.sum, str_sum(None, b""));
    assert!(e.report);

    let c = plain("message-id: <1@a>\nMessage-Id:\n <2@b>\n\n");
    assert_eq!(c.get(CkType::MessageId).unwrap().sum, str_sum(None, b"2@b"));
}

#[test]
fn from_last_wins() {
    let c = plain("From: a@b\nFROM: \"C\" <c@d>\nFrom : e@f\n\n");
    assert_eq!(
        c.get(CkType::From).unwrap().sum,
        str_sum(None, b"\"C\" <c@d>")
    );
    assert!(plain("Subject: x\n\n").get(CkType::From).is_none());
}

#[test]
fn env_from_from_message() {
    let msg =
        "From a@b.example  Thu Dec  2 10:55:56 2004\nReturn-Path: <c@d.example>\nSubject: x\n\n";
    let c = plain(msg);
    assert_eq!(c.env_from.as_deref(), Some("a@b.example"));
    assert_eq!(c.mail_host.as_deref(), Some("b.example"));
    assert_eq!(
        c.get(CkType::EnvFrom).unwrap().sum,
        str_sum(None, b"a@b.example")
    );

    // a UNIX From line only counts before any header
    let c = plain("Subject: x\nFrom a@b  Thu\nReturn-Path: <c@d.example>\nReturn-Path: <e@f>\n\n");
    assert_eq!(c.env_from.as_deref(), Some("<c@d.example>"));
    assert_eq!(c.mail_host.as_deref(), Some("d.example"));

    // the envelope wins over both
    let env = Envelope {
        env_from: Some("<>".into()),
        ..Default::default()
    };
    let c = run(&CkConfig::default(), &env, msg);
    assert_eq!(c.env_from.as_deref(), Some("<>"));
    assert_eq!(c.mail_host, None);
    assert_eq!(c.get(CkType::EnvFrom).unwrap().sum, str_sum(None, b""));

    assert!(plain("Subject: x\n\n").get(CkType::EnvFrom).is_none());
}

#[test]
fn substitute_order_and_mail_host() {
    let cfg = with_subs(&["mail_host", "List-ID", "+Sender"]);
    let env = Envelope {
        env_from: Some("a@Example.COM".into()),
        ..Default::default()
    };
    let c = run(
        &cfg,
        &env,
        "Sender: s1\nList-ID: <l>\nSender: s2\nFrom: x\n\n",
    );
    assert_eq!(
        labels(&c),
        [
            "env_From",
            "From",
            "substitute sender",
            "Message-ID",
            "substitute list-id",
            "substitute mail_host"
        ]
    );
    let subs: Vec<_> = c
        .entries
        .iter()
        .filter(|e| e.ck_type == CkType::Sub)
        .collect();
    assert_eq!(subs[0].sum, str_sum(Some(b"sender"), b" s1\n"));
    assert!(subs[0].report);
    assert!(!subs[1].report);
    assert_eq!(subs[2].sum, str_sum(Some(b"mail_host"), b"Example.COM"));

    // a given mail_host replaces the derived one
    let env = Envelope {
        env_from: Some("a@b".into()),
        mail_host: Some("relay.example".into()),
        helo: Some("helo.example".into()),
        ..Default::default()
    };
    let cfg = with_subs(&["HELO", "mail_host"]);
    let c = run(&cfg, &env, "Subject: x\n\n");
    assert_eq!(
        labels(&c),
        [
            "env_From",
            "substitute mail_host",
            "Message-ID",
            "substitute helo"
        ]
    );
    assert_eq!(
        c.entries[1].sum,
        str_sum(Some(b"mail_host"), b"relay.example")
    );
    assert_eq!(c.entries[3].sum, str_sum(Some(b"helo"), b"helo.example"));
}

#[test]
fn received_checksum_and_client() {
    let msg = "Received: from a.example (b.example [192.0.2.1]) by mx\n\
               Received: from c.example (d.example [192.0.2.2]) by a.example\n\
               Received: from e (f [192.0.2.3]) by c.example\n\n";
    let last = str_sum(None, b" from e (f [192.0.2.3]) by c.example\n");
    let c = plain(msg);
    assert_eq!(c.get(CkType::Received).unwrap().sum, last);
    assert!(c.get(CkType::Ip).is_none());

    let cfg = CkConfig {
        use_received: true,
        ..Default::default()
    };
    let c = run(&cfg, &Envelope::default(), msg);
    let ip: IpAddr = "192.0.2.1".parse().unwrap();
    assert_eq!(c.client_ip, Some(ip));
    assert_eq!(c.client_name.as_deref(), Some("b.example"));
    assert_eq!(c.helo.as_deref(), Some("a.example"));
    assert_eq!(c.get(CkType::Ip).unwrap().sum, ip_sum(ip));
    assert_eq!(c.get(CkType::Received).unwrap().sum, last);

    // trusted relays are skipped, and their address is not reported
    let mut m = MessageCks::new(&cfg, &Envelope::default());
    m.set_relay_filter(Box::new(|ip| ip == "192.0.2.1".parse::<IpAddr>().unwrap()));
    m.feed(msg.as_bytes());
    let c = m.finish();
    assert_eq!(c.client_ip, "192.0.2.2".parse().ok());
    assert!(c.get(CkType::Ip).unwrap().report);

    let mut m = MessageCks::new(&cfg, &Envelope::default());
    m.set_relay_filter(Box::new(|_| true));
    m.feed(msg.as_bytes());
    let c = m.finish();
    assert_eq!(c.client_ip, "192.0.2.3".parse().ok());
    assert!(!c.get(CkType::Ip).unwrap().report);

    // known address-less forms are skipped, unknown ones end the search
    let c = run(
        &cfg,
        &Envelope::default(),
        &format!("Received: by x (Postfix) id 1\n{msg}"),
    );
    assert_eq!(c.client_ip, "192.0.2.1".parse().ok());
    let c = run(
        &cfg,
        &Envelope::default(),
        &format!("Received: junk\n{msg}"),
    );
    assert_eq!(c.client_ip, None);

    // the Received HELO is a substitute only when asked for (dccproc -E)
    let mut sub_cfg = with_subs(&["HELO"]);
    sub_cfg.use_received = true;
    let c = run(&sub_cfg, &Envelope::default(), msg);
    assert!(c.get(CkType::Sub).is_none());
    sub_cfg.helo_from_received = true;
    let c = run(&sub_cfg, &Envelope::default(), msg);
    assert_eq!(
        c.get(CkType::Sub).unwrap().sum,
        str_sum(Some(b"helo"), b"a.example")
    );

    // an 8-bit HELO is checksummed as its bytes (the original's C string),
    // not as text with replacement characters
    let raw = b"Received: from h\xe9lo.example (n [192.0.2.9]) by mx\n\nbody\n";
    let mut m = MessageCks::new(&sub_cfg, &Envelope::default());
    m.feed(raw);
    let c = m.finish();
    assert_eq!(
        c.get(CkType::Sub).unwrap().sum,
        str_sum(Some(b"helo"), b"h\xe9lo.example")
    );

    // dccproc -r 2: start at the second Received header
    let second = CkConfig {
        use_received: true,
        received_index: 2,
        ..Default::default()
    };
    let c = run(&second, &Envelope::default(), msg);
    assert_eq!(c.client_ip, "192.0.2.2".parse().ok());

    // a given address wins
    let env = Envelope {
        client_ip: "2001:db8::1".parse().ok(),
        ..Default::default()
    };
    let c = run(&cfg, &env, msg);
    assert_eq!(c.client_ip, "2001:db8::1".parse().ok());
    assert_eq!(c.client_name, None);
}

#[test]
fn fatal_inputs() {
    assert!(plain("Subject: x\n").error.is_some());
    assert!(plain("Subject: x\nbody without blank line").error.is_some());
    assert!(plain("").error.is_some());
    let c = plain("\nbody\n");
    assert_eq!(c.error.as_deref(), Some("missing SMTP header lines"));
    assert!(c.entries.is_empty());
    assert!(plain("Subject  : x\nnot a header\n\nbody").error.is_some());
    assert!(plain("X: y\n\nbody").error.is_none());
    // a dropped X-DCC header still counts as a header
    assert!(plain("X-DCC-x-Metrics: a 1; Body=1\n\n").error.is_none());
}

#[test]
fn xdcc_header_ignored() {
    let cfg = with_subs(&["X-DCC-Brand-Metrics", "X-Other"]);
    let c = run(
        &cfg,
        &Envelope::default(),
        "X-DCC-Brand-Metrics: h 1; Body=1\nX-Other: a\n\n",
    );
    assert_eq!(labels(&c), ["substitute x-other", "Message-ID"]);

    // dccproc -A keeps them
    let mut cfg = cfg;
    cfg.keep_xdcc = true;
    let c = run(
        &cfg,
        &Envelope::default(),
        "X-DCC-Brand-Metrics: h 1; Body=1\nX-Other: a\n\n",
    );
    assert_eq!(
        labels(&c),
        [
            "substitute x-dcc-brand-metrics",
            "Message-ID",
            "substitute x-other"
        ]
    );
}

#[test]
fn env_to_last() {
    let env = Envelope {
        env_to: vec!["<b@c>".into(), "d@e".into()],
        client_ip: "192.0.2.9".parse().ok(),
        ..Default::default()
    };
    let cfg = with_subs(&["a", "b"]);
    let c = run(&cfg, &env, "a: 1\nb: 2\n\n");
    assert_eq!(
        labels(&c),
        [
            "IP",
            "substitute a",
            "Message-ID",
            "substitute b",
            "env_To",
            "env_To"
        ]
    );
    let last = c.entries.last().unwrap();
    assert_eq!(last.sum, str_sum(None, b"d@e"));
    assert!(!last.report);
}

#[test]
fn milter_form() {
    let cfg = with_subs(&["List-ID"]);
    let env = Envelope::default();
    let mut m = MessageCks::new(&cfg, &env);
    m.header(b"From", b" a@b");
    m.header(b"List-ID", b" <x>\r\n\tmore");
    m.header(b"Message-ID", b"<1@b>");
    m.body(b"hello\r\n");
    let c = m.finish();
    assert_eq!(c.error, None);
    assert_eq!(c.get(CkType::From).unwrap().sum, str_sum(None, b"a@b"));
    assert_eq!(
        c.get(CkType::Sub).unwrap().sum,
        str_sum(Some(b"list-id"), b"<x>more")
    );
    assert_eq!(c.get(CkType::MessageId).unwrap().sum, str_sum(None, b"1@b"));
}
