#![no_main]
//! The -B grammar on arbitrary arguments (one a line), then a plan of those
//! settings run to its end with every question unanswered: never a panic.
use libfuzzer_sys::fuzz_target;
use tally_dnsbl::{Answer, Client, Mode, Parser, Plan, Status, Step, Targets};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    // A program has a few dozen -B arguments, not thousands.
    let (settings, errors) = Parser::parse_all(text.lines().take(64));
    for e in &errors {
        let _ = e.to_string();
    }
    let targets = Targets {
        client: Some(Client {
            ip: "192.0.2.66".parse().unwrap(),
            name: Some("client.example".into()),
        }),
        mail_host: Some("sender.example".into()),
        urls: vec!["www.example.com".into(), "192.0.2.7".into()],
    };
    for mode in [Mode::Daemon, Mode::Direct] {
        let mut plan = Plan::new(&settings, mode, targets.clone());
        for _ in 0..2000 {
            match plan.step(4) {
                Step::Done(o) => {
                    let _ = o.log_lines(true, "ID");
                    break;
                }
                Step::Ask(wants) => {
                    for w in wants {
                        plan.answer(w.question, Answer::empty(Status::NxDomain, 1));
                    }
                }
            }
        }
    }
});
