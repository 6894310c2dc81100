#![no_main]
//! Arbitrary bytes as DNS replies: decoded by hickory-proto into answers and fed
//! to a plan as the answer to every question it asks: never a panic, and the
//! plan always ends.
use libfuzzer_sys::fuzz_target;
use tally_dnsbl::{Answer, Client, Mode, Parser, Plan, Step, Targets};

fuzz_target!(|data: &[u8]| {
    let (settings, _) = Parser::parse_all([
        "set:white",
        "wl.test",
        "set:black",
        "bl.test,any",
        "set:group=2",
        "dbl.test,,all-names",
        "bl6.test,127.0.0.0/8,IPv6",
    ]);
    let targets = Targets {
        client: Some(Client {
            ip: "2001:db8::66".parse().unwrap(),
            name: Some("a.b.client.example".into()),
        }),
        mail_host: Some("sender.example".into()),
        urls: vec!["www.example.com".into()],
    };
    let mut plan = Plan::new(&settings, Mode::Daemon, targets);
    for _ in 0..5000 {
        match plan.step(8) {
            Step::Done(o) => {
                let _ = o.log_lines(false, "ID");
                return;
            }
            Step::Ask(wants) => {
                for w in wants {
                    let a = Answer::from_bytes(data, w.question.qtype, 1);
                    plan.answer(w.question, a);
                }
            }
        }
    }
    panic!("the plan did not end");
});
