//! `${dcc_isspam}` texts that say relaying was denied (`DISCARD: Relaying
//! denied`, `REJECT: Relaying denied`, as the rules of the original's
//! `hackmc -R` and `-r` set them): as in the original's `ask_sm`, such a
//! text is the message's answer for good; later `${dcc_isspam}` values,
//! at later recipients or at the end of the message, are ignored, where
//! an ordinary text is replaced by the latest. The macros of a recipient
//! the MTA refused (`{rcpt_mailer}` `error`) are not read.

mod common;

use common::milter::{connect, mail, rcpt, short_content_eom, Client, Reply};
use common::{local_args, make_home, start_dccm};
use tally_testkit::{closed_port, write_map};

/// One recipient: local user, `{rcpt_mailer}`, `{dcc_isspam}`.
type Rcpt<'a> = (&'a str, &'a str, Option<&'a str>);

/// A message from alice to `rcpts` with `eom` as `{dcc_isspam}` at its
/// end: the answers to the RCPTs and to the end of the message.
fn message(c: &mut Client, id: &str, rcpts: &[Rcpt], eom: Option<&str>) -> Vec<Reply> {
    mail(c, &[("i", id)]);
    for (user, mailer, isspam) in rcpts {
        let mut m = vec![("{rcpt_mailer}", *mailer), ("{rcpt_addr}", *user)];
        if let Some(s) = isspam {
            m.push(("{dcc_isspam}", s));
        }
        assert_eq!(rcpt(c, user, &m), vec![Reply::Final('c')], "RCPT {user}");
    }
    // the end of the message's macros: {dcc_isspam} as sendmail gives it
    // there (an empty value where it has none)
    let e = [("{dcc_isspam}", eom.unwrap_or(""))];
    short_content_eom(c, "relay", &e)
}

/// The final answer of a message, with the others in its connection.
fn answers(tag: &str, msgs: &[(&[Rcpt], Option<&str>)]) -> Vec<Reply> {
    let home = make_home(tag);
    write_map(&home, closed_port());
    let d = start_dccm(&home, &local_args(&home, &[]));
    let mut c = connect(&d.sock, "192.0.2.50");
    let mut out = Vec::new();
    for (i, (rcpts, eom)) in msgs.iter().enumerate() {
        let r = message(&mut c, &format!("RL{i:05}"), rcpts, *eom);
        out.push(r.last().cloned().expect("an answer"));
    }
    drop(c);
    drop(d);
    let _ = std::fs::remove_dir_all(&home);
    out
}

fn code(s: &str) -> Reply {
    Reply::Code(s.to_string())
}

/// A relay text at RCPT stays the answer although the end of the message
/// says `DISCARD`; an ordinary text is replaced by the later one.
#[test]
fn relay_text_stays() {
    let relay: &[Rcpt] = &[("bob", "local", Some("REJECT: Relaying denied"))];
    let plain: &[Rcpt] = &[("bob", "local", Some("REJECT: go away"))];
    let got = answers(
        "rl1",
        &[
            (relay, Some("DISCARD")),
            (plain, Some("DISCARD")),
            (relay, None),
        ],
    );
    assert_eq!(
        got,
        vec![
            code("550 5.7.1 Relaying denied"),
            Reply::Final('d'),
            code("550 5.7.1 Relaying denied"),
        ]
    );
}

/// `hackmc -R`'s text at the first recipient discards the message, also
/// when a later recipient's text asks for a rejection; the relay state is
/// the message's, not the connection's.
#[test]
fn relay_text_at_first_recipient() {
    let sent = "\"DISCARD: Relaying denied\"  Sent to DCC\"";
    let rcpts: &[Rcpt] = &[
        ("bob", "local", Some(sent)),
        ("carol", "local", Some("5.7.0 554 REJECT: go away")),
    ];
    let later: &[Rcpt] = &[("bob", "local", Some("REJECT: go away"))];
    let got = answers("rl2", &[(rcpts, None), (later, None)]);
    assert_eq!(got, vec![Reply::Final('d'), code("550 5.7.1 go away")]);
}

/// The codes come first, as in the original: `5.7.1 551 REJECT: Relaying
/// denied` is a relay text too.
#[test]
fn relay_text_with_codes() {
    let rcpts: &[Rcpt] = &[
        ("bob", "local", Some("5.7.1 551 REJECT: Relaying denied")),
        ("carol", "local", Some("DISCARD")),
    ];
    let got = answers("rl3", &[(rcpts, Some("DISCARD"))]);
    assert_eq!(got, vec![code("551 5.7.1 Relaying denied")]);
}

/// The macros of a recipient the MTA refused are not read: its relay
/// text does not stop the message to the others.
#[test]
fn refused_recipient_macros_unread() {
    let rcpts: &[Rcpt] = &[
        ("mallory", "error", Some("REJECT: Relaying denied")),
        ("bob", "local", None),
    ];
    let got = answers("rl4", &[(rcpts, None)]);
    assert_eq!(got, vec![Reply::Final('a')]);
}
