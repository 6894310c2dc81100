//! The sans-I/O plan API: steps, budgets, speculation and reply reading.

use tally_dnsbl::plan::resolver_timeout;
use tally_dnsbl::{Answer, Client, Mode, Parser, Plan, QType, Question, Status, Step, Targets};

fn targets() -> Targets {
    Targets {
        client: Some(Client {
            ip: "192.0.2.66".parse().unwrap(),
            name: None,
        }),
        mail_host: Some("spam.example".into()),
        urls: vec!["a.example".into(), "b.example".into()],
    }
}

#[test]
fn no_lists_means_no_questions() {
    let (s, _) = Parser::parse_all(["set:msg-secs=5"]);
    let plan = Plan::new(&s, Mode::Daemon, targets());
    let Step::Done(o) = plan.step(4) else {
        panic!("questions without lists")
    };
    assert!(o.questions.is_empty());
    assert!(o.log_lines(false, "x").is_empty());
}

#[test]
fn the_first_question_and_its_budget() {
    let (s, _) = Parser::parse_all(["set:URL-secs=7", "bl.test"]);
    let plan = Plan::new(&s, Mode::Daemon, targets());
    let Step::Ask(w) = plan.step(1) else { panic!() };
    assert_eq!(w.len(), 1);
    assert_eq!(w[0].question, Question::new("66.2.0.192.bl.test", QType::A));
    assert_eq!(w[0].budget_ms, 7000);
}

#[test]
fn speculation_names_later_questions_at_once() {
    let (s, _) = Parser::parse_all(["bl.test", "bl2.test", "dbl.test,,name"]);
    let plan = Plan::new(&s, Mode::Daemon, targets());
    let Step::Ask(w) = plan.step(8) else { panic!() };
    assert_eq!(w.len(), 8);
    let names: Vec<String> = w.iter().map(|w| w.question.to_string()).collect();
    assert_eq!(
        names[..3],
        [
            "A 66.2.0.192.bl.test",
            "A 66.2.0.192.bl2.test",
            "A spam.example.dbl.test"
        ]
    );
    assert!(names.contains(&"A a.example.dbl.test".to_string()));
}

#[test]
fn a_timed_out_question_uses_the_budget_and_mail_goes_on() {
    let (s, _) = Parser::parse_all(["set:msg-secs=3", "set:URL-secs=2", "bl.test"]);
    let t = Targets {
        client: None,
        mail_host: None,
        urls: vec!["slow.example".into(), "ip-listed.example".into()],
    };
    let mut plan = Plan::new(&s, Mode::Daemon, t);
    let mut steps = 0;
    let o = loop {
        steps += 1;
        assert!(steps < 100);
        match plan.step(1) {
            Step::Done(o) => break *o,
            Step::Ask(w) => {
                let (tries, per) = resolver_timeout(w[0].budget_ms);
                plan.answer(
                    w[0].question.clone(),
                    Answer::timed_out(u64::from(tries) * per),
                );
            }
        }
    };
    assert!(o.timed_out(0));
    // Two seconds for the first URL, the last second for the second one.
    assert_eq!(o.questions.len(), 2);
}

#[test]
fn resolver_timeouts_as_the_original_sets_them() {
    assert_eq!(resolver_timeout(25_000), (2, 5000));
    assert_eq!(resolver_timeout(11_000), (2, 3000));
    assert_eq!(resolver_timeout(2_000), (2, 1000));
    assert_eq!(resolver_timeout(0), (2, 1000));
    // resolv.conf's own figures when they fit: timeout:1 attempts:3 within 11 s.
    assert_eq!(
        tally_dnsbl::plan::resolver_timeout_from(11_000, 1000, 3),
        (3, 1000)
    );
    assert_eq!(
        tally_dnsbl::plan::resolver_timeout_from(11_000, 2000, 3),
        (2, 2000)
    );
}

#[test]
fn bad_replies_are_failures() {
    assert_eq!(Answer::from_bytes(b"", QType::A, 1).status, Status::Failed);
    assert_eq!(
        Answer::from_bytes(&[0u8; 3], QType::A, 1).status,
        Status::Failed
    );
    // A header with TC set and nothing else.
    let tc = [0x12, 0x34, 0x82, 0x00, 0, 0, 0, 0, 0, 0, 0, 0];
    assert_eq!(Answer::from_bytes(&tc, QType::A, 1).status, Status::Failed);
}

mod props {
    use super::*;
    use proptest::prelude::*;
    use std::hash::{Hash, Hasher};
    use std::net::IpAddr;

    const ARGS: [&str; 14] = [
        "bl.test",
        "bl.test,any",
        "bl.test,127.0.0.2-127.0.0.5",
        "dbl.test,,name",
        "dbl.test,,all-names",
        "bl6.test,,IPv6",
        "set:white",
        "set:black",
        "set:group=2",
        "set:group=3",
        "set:no-MX",
        "set:no-NS",
        "set:no-client",
        "set:URL-secs=2",
    ];

    /// A made-up DNS, the same answer for the same question every time.
    fn answer(q: &Question, seed: u64) -> Answer {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (q, seed).hash(&mut h);
        let r = h.finish();
        let mut a = Answer::empty(Status::Records, r % 700);
        match r % 7 {
            0 => a.status = Status::NxDomain,
            1 => a.status = Status::NoData,
            2 => return Answer::timed_out(1000 + r % 3000),
            3 => a.status = Status::Failed,
            _ => {}
        }
        if a.status == Status::Records {
            let ip: IpAddr = match q.qtype {
                QType::Aaaa => format!("2001:db8::{}", r % 9).parse().unwrap(),
                _ => format!("127.0.0.{}", (r >> 8) % 6).parse().unwrap(),
            };
            a.addrs.push(ip);
            if q.qtype == QType::Mx {
                a.addrs.clear();
                a.mx.push(format!("mx{}.example", r % 3));
            }
            if (r >> 20) & 3 == 0 {
                a.ns.push(format!("ns{}.example", (r >> 4) % 3));
            }
        }
        a
    }

    fn run(
        s: &tally_dnsbl::Settings,
        mode: Mode,
        t: &Targets,
        par: usize,
        seed: u64,
    ) -> tally_dnsbl::Outcome {
        let mut plan = Plan::new(s, mode, t.clone());
        for _ in 0..20_000 {
            match plan.step(par) {
                Step::Done(o) => return *o,
                Step::Ask(w) => {
                    for w in w {
                        let a = answer(&w.question, seed);
                        plan.answer(w.question, a);
                    }
                }
            }
        }
        panic!("no end");
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(200))]
        #[test]
        fn plans_end_and_parallel_steps_change_nothing(
            picks in proptest::collection::vec(0..ARGS.len(), 1..8),
            seed in any::<u64>(),
            direct in any::<bool>(),
            urls in proptest::collection::vec("[a-c]{1,2}\\.(example|test)", 0..4),
        ) {
            let args: Vec<&str> = picks.iter().map(|&i| ARGS[i]).collect();
            let (s, _) = Parser::parse_all(args);
            let t = Targets {
                client: Some(Client { ip: "192.0.2.66".parse().unwrap(), name: Some("c.example".into()) }),
                mail_host: Some("a.b.example".into()),
                urls,
            };
            let mode = if direct { Mode::Direct } else { Mode::Daemon };
            let one = run(&s, mode, &t, 1, seed);
            let many = run(&s, mode, &t, 8, seed);
            prop_assert_eq!(&one.groups, &many.groups);
            prop_assert_eq!(&one.questions, &many.questions);
            prop_assert!(one.questions.len() < 5000);
        }
    }
}

#[test]
fn all_names_walks_up_to_the_top_domain_even_after_a_hit() {
    let zone = tally_dnsbl::zone::Zone::parse(
        "dbl.test SOA -\nparent-listed.example.dbl.test A 127.0.0.2\nsub.parent-listed.example A 203.0.113.72\n",
    );
    let (s, _) = Parser::parse_all(["dbl.test,,all-names"]);
    let t = Targets {
        client: None,
        mail_host: None,
        urls: vec!["sub.parent-listed.example".into()],
    };
    let mut plan = Plan::new(&s, Mode::Daemon, t);
    let o = loop {
        match plan.step(1) {
            Step::Done(o) => break *o,
            Step::Ask(w) => {
                let a = zone.answer(&w[0].question, w[0].budget_ms);
                plan.answer(w[0].question.clone(), a);
            }
        }
    };
    let asked: Vec<String> = o.questions.iter().map(|q| q.to_string()).collect();
    assert_eq!(
        asked,
        [
            "A sub.parent-listed.example.dbl.test",
            "A parent-listed.example.dbl.test",
            "A example.dbl.test",
        ]
    );
    assert_eq!(
        o.log_lines(false, ""),
        ["DNSBL URL sub.parent-listed.example parent-listed.example.dbl.test=127.0.0.2"]
    );
}
