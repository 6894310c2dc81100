//! dbclean against temporary databases.

mod common;

use common::*;
use tally_ck::simple::{ip_sum, str_sum};
use tally_ck::CkType;
use tally_dbtools::lock::DbLock;
use tally_dbtools::snapshot::Snapshot;
use tally_store::{tgts, Ck, Store};

const DAY: u64 = 86_400;

#[test]
fn expiry_removes_old_small_reports_and_keeps_the_rest() {
    let h = Home::new("expiry");
    let old_small = ck(CkType::Body, 1);
    let old_bulk = ck(CkType::Body, 2);
    let fresh = ck(CkType::Body, 3);
    let ancient = ck(CkType::Body, 4);
    let fuz_old = ck(CkType::Fuz1, 5);
    let mixed_keep = ck(CkType::Body, 6);
    {
        let mut s = h.open();
        s.add(&report(2 * DAY, 1100, 1, vec![old_small, mixed_keep]))
            .unwrap();
        s.add(&report(2 * DAY, 1100, 20, vec![old_bulk])).unwrap();
        s.add(&report(60, 1101, 1, vec![fresh, mixed_keep]))
            .unwrap();
        s.add(&report(40 * DAY, 1100, tgts::MANY, vec![ancient]))
            .unwrap();
        // Fuz1 is long-term: small totals stay a week.
        s.add(&report(3 * DAY, 1102, 1, vec![fuz_old])).unwrap();
        s.add(&report(3 * DAY, 1102, 1, vec![ck(CkType::Body, 7)]))
            .unwrap();
    }
    let o = h.dbclean(&["-S", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = h.open();
    assert_eq!(s.total(&old_small).unwrap(), 0);
    assert_eq!(s.total(&old_bulk).unwrap(), 20);
    assert_eq!(s.total(&fresh).unwrap(), 1);
    assert_eq!(s.total(&ancient).unwrap(), 0);
    assert_eq!(s.total(&fuz_old).unwrap(), 1);
    assert_eq!(s.total(&ck(CkType::Body, 7)).unwrap(), 0);
    // The old report of mixed_keep went (total 2, below 10); the new one
    // still counts.
    assert_eq!(s.total(&mixed_keep).unwrap(), 1);
    // Left: old_bulk, fresh + mixed_keep, fuz_old.
    assert_eq!(s.stats().unwrap().records, 3);
    assert_totals_consistent(&s);
    // The read-only view agrees with the store.
    let snap = Snapshot::open(&h.db()).unwrap();
    assert_totals_consistent(&snap);
    assert_eq!(snap.stats().unwrap().records, 3);
    assert_eq!(snap.next_pos(), s.next_pos());
}

#[test]
fn expiry_ages_from_the_command_line_and_p() {
    let h = Home::new("ages");
    let a = ck(CkType::Body, 1);
    let b = ck(CkType::From, 2);
    {
        let mut s = h.open();
        s.add(&report(3 * 3600, 1100, 1, vec![a])).unwrap();
        s.add(&report(3 * DAY, 1100, 1, vec![b])).unwrap();
    }
    // -e 4 days keeps both.
    let o = h.dbclean(&["-S", "-q", "-e", "4days"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(h.open().total(&b).unwrap(), 1);
    // -P reuses 4 days.
    let o = h.dbclean(&["-SqP"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(h.open().total(&b).unwrap(), 1);
    // -e 2H removes the 3-hour-old report too.
    let o = h.dbclean(&["-Sq", "-e2H"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = h.open();
    assert_eq!((s.total(&a).unwrap(), s.total(&b).unwrap()), (0, 0));
    assert_totals_consistent(&s);
}

#[test]
fn spam_expiration_shorter_than_e_is_refused() {
    let h = Home::new("eE");
    let b = ck(CkType::From, 2);
    h.open().add(&report(3 * DAY, 1100, 1, vec![b])).unwrap();
    let o = h.dbclean(&["-S", "-e", "2d", "-E", "1d"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(
        stderr(&o).contains("spam expiration -E must be longer than -e"),
        "{}",
        stderr(&o)
    );
    // nothing was cleaned
    assert_eq!(h.open().total(&b).unwrap(), 1);
    // -E alone below the 1-day default lowers -e with it, as in the original
    let o = h.dbclean(&["-Sq", "-E", "2h"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // minutes are a unit of -e and -E
    let o = h.dbclean(&["-Sq", "-e", "90m", "-E", "120minutes"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

#[test]
fn p_after_a_cleaning_with_the_defaults_uses_the_defaults() {
    let h = Home::new("pdef");
    let c = ck(CkType::From, 3);
    let o = h.dbclean(&["-Sq", "-e", "4days"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    // A cleaning without -e, -E or -P forgets the chosen ages (the
    // original clears DB_PARM_FG_EXP_SET) ...
    let o = h.dbclean(&["-Sq"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    h.open().add(&report(3 * DAY, 1100, 1, vec![c])).unwrap();
    // ... so -P now uses the 1-day default, silently.
    let o = h.dbclean(&["-SP"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!stderr(&o).contains("no previous"), "{}", stderr(&o));
    assert_eq!(h.open().total(&c).unwrap(), 0);
}

#[test]
fn whitelist_is_rebuilt_from_the_text_file() {
    let h = Home::new("white");
    drop(h.open());
    std::fs::write(
        h.0.join("whitelist"),
        "# server whitelist\n\
         ok env_from alice@example.com\n\
         many ip 192.0.2.1\n\
         mx ip 192.0.2.2\n\
         ok ip 198.51.100.0/30\n\
         submit ip 192.0.2.9\n\
         ok env_to bob@example.com\n\
         ok ip 10.0.0.0/8\n\
         include extra\n",
    )
    .unwrap();
    std::fs::write(h.0.join("extra"), "ok message-id <1@example.com>\n").unwrap();
    let o = h.dbclean(&["-S"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(err.contains("env_To checksum cannot be used"), "{err}");
    assert!(err.contains("address block too large in line 8"), "{err}");
    let s = h.open();
    let alice = Ck::new(CkType::EnvFrom, str_sum(None, b"alice@example.com"));
    let ip = |a: &str| Ck::new(CkType::Ip, ip_sum(a.parse().unwrap()));
    assert_eq!(s.total(&alice).unwrap(), tgts::OK);
    assert_eq!(s.total(&ip("192.0.2.1")).unwrap(), tgts::MANY);
    assert_eq!(s.total(&ip("192.0.2.2")).unwrap(), tgts::OK);
    for a in ["198.51.100.0", "198.51.100.3"] {
        assert_eq!(s.total(&ip(a)).unwrap(), tgts::OK);
    }
    assert_eq!(s.total(&ip("192.0.2.9")).unwrap(), 0);
    // The included file's entry.
    assert!(s
        .whitelist()
        .unwrap()
        .iter()
        .any(|(c, v)| c.ty == CkType::MessageId && *v == tgts::OK));
    assert_eq!(s.whitelist().unwrap().len(), 8);
    drop(s);
    // A changed file replaces the list; a removed file empties it.
    std::fs::write(h.0.join("whitelist"), "ok from carol@example.com\n").unwrap();
    assert_eq!(h.dbclean(&["-Sq"]).status.code(), Some(0));
    assert_eq!(h.open().whitelist().unwrap().len(), 1);
    std::fs::remove_file(h.0.join("whitelist")).unwrap();
    assert_eq!(h.dbclean(&["-Sq"]).status.code(), Some(0));
    assert!(h.open().whitelist().unwrap().is_empty());
}

#[test]
fn greylist_whitelist_only_whitelists() {
    let h = Home::new("grey");
    std::fs::write(
        h.0.join("grey_whitelist"),
        "ok env_from alice@example.com\nmany env_from spam@example.com\n",
    )
    .unwrap();
    let o = h.dbclean(&["-S", "-G", "on"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("ignored"), "{}", stderr(&o));
    let s = tally_store::LogStore::open(&h.0.join("tally-grey-db")).unwrap();
    assert_eq!(s.whitelist().unwrap().len(), 1);
    assert_eq!(s.whitelist().unwrap()[0].1, tgts::OK2);
    // -e/-E do not go with -G.
    assert_eq!(
        h.dbclean(&["-S", "-Gon", "-e", "2d"]).status.code(),
        Some(64)
    );
}

#[test]
fn greylist_expiry_follows_the_servers_durations() {
    let h = Home::new("grey-expiry");
    let dir = h.0.join("tally-grey-db");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let ck = |t: CkType, b: u8| Ck::new(t, tally_ck::Sum([b; 16]));
    let day = DAY;
    {
        let mut s = tally_store::LogStore::open(&dir).unwrap();
        let mut add = |age: u64, tgts: u32, b: u8| {
            let cks = vec![ck(CkType::Body, b), ck(CkType::GreyTriple, b)];
            s.add(&tally_store::Report::new(
                tally_store::Ts::new(now - age, 0),
                1100,
                tgts,
                cks,
            ))
            .unwrap();
        };
        add(2 * day, 1, 1); // an embargo past a 1 day window
        add(3600, 1, 2); // a recent embargo
        add(day + day / 2, tgts::MANY, 3); // familiar, within 2 days
        add(3 * day, tgts::MANY, 4); // familiar, older than 2 days
    }
    // as `dccd -G on,20,1d,2d` saves its settings
    std::fs::write(dir.join("grey-params"), "on,20,86400,172800\n").unwrap();
    let o = h.dbclean(&["-S", "-G", "on"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let s = tally_store::LogStore::open(&dir).unwrap();
    let t = |b| s.total(&ck(CkType::GreyTriple, b)).unwrap();
    assert_eq!((t(1), t(2), t(3), t(4)), (0, 1, tgts::MANY, 0));
    drop(s);
    // without saved settings: the defaults (7 days, 63 days) keep them all
    let h2 = Home::new("grey-expiry-default");
    let dir2 = h2.0.join("tally-grey-db");
    {
        let mut s = tally_store::LogStore::open(&dir2).unwrap();
        s.add(&tally_store::Report::new(
            tally_store::Ts::new(now - 2 * day, 0),
            1100,
            1,
            vec![ck(CkType::GreyTriple, 1)],
        ))
        .unwrap();
    }
    assert_eq!(h2.dbclean(&["-S", "-G", "on"]).status.code(), Some(0));
    let s = tally_store::LogStore::open(&dir2).unwrap();
    assert_eq!(s.total(&ck(CkType::GreyTriple, 1)).unwrap(), 1);
}

#[test]
fn bad_options_give_usage_and_64() {
    let h = Home::new("usage");
    // Without -S the original needs -i to talk to dccd.
    let o = h.dbclean(&[]);
    assert_eq!(o.status.code(), Some(64));
    assert!(stderr(&o).contains("usage:"), "{}", stderr(&o));
    let o = h.dbclean(&["-S", "-e", "30"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(stderr(&o).contains("invalid expiration seconds"));
    assert_eq!(h.dbclean(&["-S", "-R", "sideways"]).status.code(), Some(64));
    assert_eq!(h.dbclean(&["-S", "-P", "-E1d"]).status.code(), Some(64));
    let o = h.dbclean(&["-S", "-P", "-e1d"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(stderr(&o).contains("-e cannot be used with -P"));
    // -s below the original's smallest hash table
    let o = h.dbclean(&["-S", "-s", "1000"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(stderr(&o).contains("invalid database size \"1000\""));
    assert_eq!(h.dbclean(&["-S", "operand"]).status.code(), Some(64));
    // An unknown option is complained about, and the cleaning goes on
    // (the original tries hard to run).
    let o = h.dbclean(&["-S", "-Z"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).contains("continuing"));
    // Options meaningless for this store are accepted.
    let o = h.dbclean(&[
        "-SqFu",
        "-s",
        "100000",
        "-H",
        "/tmp",
        "-L",
        "info,MAIL.NOTICE",
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
}

/// `-V` as the original's dbclean: the version on standard error while
/// the options are read, each further `-V` how it was built; without `-i`
/// (and without `-S`) it then stops, successfully; otherwise it cleans.
#[test]
fn version() {
    let h = Home::new("version");
    let o = h.dbclean(&["-V"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "2.3.167\n");
    assert_eq!(stdout(&o), "");
    let o = h.dbclean(&["-VVV"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stderr(&o), "2.3.167\nbuilt with cargo\nbuilt with cargo\n");
    // printed before a fatal mistake later on the command line
    let o = h.dbclean(&["-V", "-R", "bogus"]);
    assert_eq!(o.status.code(), Some(64));
    assert_eq!(stderr(&o), "2.3.167\nunrecognized repair mode -R bogus\n");
    // with -S the cleaning goes on after the version
    let o = h.dbclean(&["-V", "-S", "-N"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stderr(&o).starts_with("2.3.167\n"), "{}", stderr(&o));
    assert!(h.log().exists());
}

#[test]
fn refuses_a_database_in_use() {
    let h = Home::new("lock");
    drop(h.open());
    let lock = DbLock::try_exclusive(&h.db()).unwrap();
    let o = h.dbclean(&["-S"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(stderr(&o).contains("in use by process"), "{}", stderr(&o));
    let o = h.dbclean(&["-i", "1101"]);
    assert_eq!(o.status.code(), Some(69));
    assert!(
        stderr(&o).contains("dccd must be stopped"),
        "{}",
        stderr(&o)
    );
    drop(lock);
    // Programs the other tests start at the same time may briefly share the
    // lock's file description between fork and exec: wait until it is free.
    for _ in 0..200 {
        if DbLock::holder(&h.db()).is_none() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    // Without -S a server listening on the UDP port is refused as well;
    // once the port is free dbclean goes ahead. Another process on the
    // machine may take the freed ephemeral port in between: then the
    // round is tried again on a new port (a few times at most).
    let mut last = String::new();
    for _ in 0..5 {
        let sock = std::net::UdpSocket::bind("0.0.0.0:0").unwrap();
        let port = sock.local_addr().unwrap().port().to_string();
        let a = format!("127.0.0.1,{port}");
        let o = h.dbclean(&["-i", "1101", "-a", &a]);
        assert_eq!(o.status.code(), Some(69));
        assert!(
            stderr(&o).contains("dccd seems to be running"),
            "{}",
            stderr(&o)
        );
        drop(sock);
        let o = h.dbclean(&["-i", "1101", "-q", "-a", &a]);
        if o.status.code() == Some(0) {
            return;
        }
        last = stderr(&o);
        assert!(last.contains("is in use"), "{last}");
    }
    panic!("the freed port was taken each time: {last}");
}

#[test]
fn new_database() {
    let h = Home::new("new");
    let o = h.dbclean(&["-N", "-q"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(h.log().exists());
    {
        let mut s = h.open();
        s.add(&report(10, 1100, 1, vec![ck(CkType::Body, 1)]))
            .unwrap();
    }
    let o = h.dbclean(&["-N"]);
    assert_eq!(o.status.code(), Some(64));
    assert!(stderr(&o).contains("already exists"));
}

/// Flip a byte in the middle of the log.
fn damage(h: &Home) {
    let mut bytes = std::fs::read(h.log()).unwrap();
    let mid = bytes.len() / 2;
    bytes[mid] ^= 0x5a;
    std::fs::write(h.log(), bytes).unwrap();
}

#[test]
fn damaged_store_is_named_and_repaired_with_r_bad() {
    let h = Home::new("damage");
    {
        let mut s = h.open();
        for i in 0..40u8 {
            s.add(&report(60, 1100, 1, vec![ck(CkType::Body, i)]))
                .unwrap();
        }
    }
    damage(&h);
    let o = h.dbclean(&["-S"]);
    assert_eq!(o.status.code(), Some(65));
    let err = stderr(&o);
    assert!(
        err.contains("reports.log") && err.contains("-R bad"),
        "{err}"
    );
    assert!(!err.contains("panicked"));
    // Nothing was changed.
    assert_eq!(h.dbclean(&["-S"]).status.code(), Some(65));
    let o = h.dbclean(&["-S", "-R", "bad"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(h.db().join("reports.log-old").exists());
    let s = h.open();
    assert_eq!(s.stats().unwrap().records, 39);
    assert_eq!(s.total(&ck(CkType::Body, 39)).unwrap(), 1);
    assert_totals_consistent(&s);
}

#[test]
fn damaged_side_file_is_named() {
    let h = Home::new("side");
    {
        let mut s = h.open();
        s.set_peer_pos(1101, tally_store::Pos(12)).unwrap();
    }
    std::fs::write(h.db().join("flood.map"), b"garbage").unwrap();
    let o = h.dbclean(&["-S"]);
    assert_eq!(o.status.code(), Some(65));
    assert!(stderr(&o).contains("flood.map"), "{}", stderr(&o));
    let o = h.dbclean(&["-S", "-Rbad"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(!h.db().join("flood.map").exists());
}
