//! SMTP replies and start-up complaints as the original dccm gives them:
//! the recipient limit and its reply, the forms of `-r` texts (leading
//! blanks and quotes, the obsolete `%s`, control characters), and the
//! complaint about `-U` without `-l`.

mod common;

use common::milter::{connect, envelope, macro_pkt, Client, Reply};
use common::{local_args, make_home, preload_bulk, start_dccm};
use tally_testkit::{closed_port, write_map, FakeDccd};

/// The rest of a message after its envelope: the replies to its end.
fn content(c: &mut Client) -> Vec<Reply> {
    common::milter::short_content(c, "hello")
}

/// The original takes 1024 recipients per message (`MAX_RCPTS`) and
/// answers each further RCPT with `452 4.5.3 reject temporarily for too
/// many recipients`, counting recipients it refused itself too.
#[test]
fn recipient_limit() {
    let home = make_home("rl");
    write_map(&home, closed_port());
    let d = start_dccm(&home, &local_args(&home, &[]));
    let mut c = connect(&d.sock, "192.0.2.20");
    let users: Vec<String> = (0..1026).map(|i| format!("u{i}")).collect();
    let users: Vec<&str> = users.iter().map(String::as_str).collect();
    let answers = envelope(&mut c, "RL00001", &users);
    for (i, a) in answers.iter().enumerate().take(1024) {
        assert_eq!(a, &vec![Reply::Final('c')], "RCPT {i}");
    }
    let refused = vec![Reply::Code(
        "452 4.5.3 reject temporarily for too many recipients".into(),
    )];
    assert_eq!(answers[1024], refused);
    assert_eq!(answers[1025], refused);
    // the recipients taken are still served: the message is delivered
    let r = content(&mut c);
    assert_eq!(r.last(), Some(&Reply::Final('a')), "{r:?}");
    drop(c);
    drop(d);
    let err = std::fs::read_to_string(home.join("stderr.txt")).unwrap();
    assert!(err.contains("too many recipients"), "{err}");
    let _ = std::fs::remove_dir_all(&home);
}

/// `-r` as the original reads it: leading blanks and a double quote are
/// skipped, codes are taken only in the `D.D.D DDD` form, the obsolete
/// `%s` stands for the queue ID and then the client's address, and
/// control characters become dots.
#[test]
fn reject_message_forms() {
    let cases = [
        (
            " \"5.7.0 554 %s from %s\tgo away",
            "554 5.7.0 RF00001 from 192.0.2.30.go away",
        ),
        (
            "5.7.10 550 %ID is bulk",
            "550 5.7.1 5.7.10 550 RF00001 is bulk",
        ),
        ("100%% %X %CIP", "550 5.7.1 100% %X 192.0.2.30"),
    ];
    for (n, (arg, want)) in cases.iter().enumerate() {
        let home = make_home(&format!("rf{n}"));
        let srv = FakeDccd::start(1200, "rfbrand");
        preload_bulk(&srv);
        write_map(&home, srv.addr);
        let d = start_dccm(
            &home,
            &local_args(&home, &["-t", "CMN,1", "-a", "REJECT", "-r", arg]),
        );
        let mut c = connect(&d.sock, "192.0.2.30");
        c.send(b'D', &macro_pkt(b'M', &[("i", "RF00001")])).unwrap();
        c.send(b'M', b"<alice@example.com>\0").unwrap();
        assert_eq!(c.replies().unwrap(), vec![Reply::Final('c')]);
        c.send(b'R', b"<bob@example.net>\0").unwrap();
        assert_eq!(c.replies().unwrap(), vec![Reply::Final('c')]);
        let eml = std::fs::read_to_string(common::data().join("msgs/bulk1.eml")).unwrap();
        let (fields, body) = common::milter::eml_parts(&eml);
        let r = common::milter::content(&mut c, &fields, body.replace('\n', "\r\n").as_bytes());
        assert_eq!(r, vec![Reply::Code(want.to_string())], "-r {arg:?}");
        drop(c);
        drop(d);
        let _ = std::fs::remove_dir_all(&home);
    }
}

/// More than three `-r` and `-U` without `-l` are complained about with
/// the original's words; dccm goes on.
#[test]
fn start_complaints() {
    let home = make_home("sc");
    write_map(&home, closed_port());
    std::fs::create_dir_all(home.join("userdirs")).unwrap();
    let d = start_dccm(
        &home,
        &local_args(
            &home,
            &["-U", "userdirs", "-r", "a", "-r", "", "-r", "", "-r", "b"],
        ),
    );
    let c = connect(&d.sock, "192.0.2.40");
    drop(c);
    drop(d);
    let err = std::fs::read_to_string(home.join("stderr.txt")).unwrap();
    assert!(
        err.contains("dccm: no -l directory prevents per-user logging with -U"),
        "{err}"
    );
    assert!(err.contains("dccm: more than 3 -r settings\n"), "{err}");
    let _ = std::fs::remove_dir_all(&home);
}
