//! dblist against temporary databases.

mod common;

use common::*;
use tally_ck::CkType;
use tally_store::{Report, Store, Ts};

fn filled(tag: &str) -> Home {
    let h = Home::new(tag);
    let mut s = h.open();
    let mut r = Report::new(
        Ts::new(1_012_940_712, 497_032),
        1601,
        5,
        vec![
            ck(CkType::Body, 0xe2),
            ck(CkType::Fuz1, 0x6f),
            ck(CkType::Fuz2, 0xfa),
        ],
    );
    r.path = vec![103, 101];
    s.add(&r).unwrap();
    s.add(&report(
        60,
        1100,
        1,
        vec![ck(CkType::Body, 0xe2), ck(CkType::From, 0x11)],
    ))
    .unwrap();
    s.add(&report(30, 1101, 2, vec![ck(CkType::EnvFrom, 0x22)]))
        .unwrap();
    s.set_peer_pos(1101, tally_store::Pos(11)).unwrap();
    s.set_peer_pos(1101 | 0x8000, tally_store::Pos(0x4d2))
        .unwrap();
    drop(s);
    h
}

#[test]
fn default_listing_has_counts_and_totals() {
    let h = filled("default");
    let o = h.dblist(&[]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    println!("{text}");
    assert!(
        text.contains("       3 records containing 6 checksums"),
        "{text}"
    );
    assert!(text.contains("       2 Body"), "{text}");
    assert!(text.contains("       5 checksums"), "{text}");
    // Records are listed only with -v.
    assert!(!text.contains("path:"));
    let o = h.dblist(&["-v"]);
    let text = stdout(&o);
    println!("{text}");
    assert!(
        text.contains("02/02/05 20:25:12.497032    5        1601"),
        "{text}"
    );
    // each path server is followed by "<-", as in the original
    assert!(text.contains("     path: 103<-101<-\n"), "{text}");
    assert!(text.contains("next position 0xd"), "{text}");
    // The original's flood.map columns: peer, ID (decimal), position (hex).
    assert!(
        text.contains(&format!(
            "{:>38} {:>9} {}\n",
            "peer      ", "ID", "position"
        )),
        "{text}"
    );
    assert!(text.contains("outgoing to      1101        b\n"), "{text}");
    // the position of 1101's stream to us
    assert!(
        text.contains("incoming from      1101      4d2\n"),
        "{text}"
    );
    assert!(text.contains("maximum                  d\n"), "{text}");
    // The record's address is printed without padding, as "%llx" does.
    assert!(
        text.contains(&format!(
            "{:<27} {:<8} {:<10} {:>7} a\n",
            "02/02/05 20:25:12.497032", "5", "1601", ""
        )),
        "{text}"
    );
    // The running total: 5 after the first report, 6 after the second.
    assert!(
        text.contains("  Body       5          e2e2e2e2 e2e2e2e2 e2e2e2e2 e2e2e2e2"),
        "{text}"
    );
    assert!(
        text.contains("  Body       6          e2e2e2e2 e2e2e2e2 e2e2e2e2 e2e2e2e2"),
        "{text}"
    );
}

#[test]
fn c_finds_a_checksum() {
    let h = filled("c");
    let o = h.dblist(&["-C", "body e2e2e2e2 e2e2e2e2 e2e2e2e2 e2e2e2e2"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    println!("{text}");
    assert_eq!(text.matches("  Body ").count(), 2, "{text}");
    assert!(text.contains("From       1          11111111"), "{text}");
    assert!(!text.contains("env_From"), "{text}");
    // Type only, value only.
    let text = stdout(&h.dblist(&["-C", "env_From"]));
    assert!(text.contains("env_From   2"), "{text}");
    assert!(!text.contains("Body"), "{text}");
    let text = stdout(&h.dblist(&["-C", "6f6f6f6f 6f6f6f6f 6f6f6f6f 6f6f6f6f"]));
    assert!(text.contains("Fuz1") && text.contains("1601"), "{text}");
    assert!(!text.contains("1100"), "{text}");
    // Nothing found: no records.
    let text = stdout(&h.dblist(&["-C", "body 00000000 00000000 00000000 00000001"]));
    assert!(!text.contains("Body"), "{text}");
}

#[test]
fn i_filters_by_server() {
    let h = filled("i");
    let o = h.dblist(&["-I", "1100"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains(" 1100 "), "{text}");
    assert!(!text.contains("1601") && !text.contains("1101"), "{text}");
    let text = stdout(&h.dblist(&["-I", "1100", "-I", "1601"]));
    assert!(
        text.contains("1601") && text.contains(" 1100 ") && !text.contains("1101"),
        "{text}"
    );
    // -A: records from position 0xc on.
    let text = stdout(&h.dblist(&["-A", "c"]));
    assert!(
        text.contains("1101") && !text.contains("1100") && !text.contains("1601"),
        "{text}"
    );
    // -L 2: only the flooded record.
    let text = stdout(&h.dblist(&["-L", "2"]));
    assert!(text.contains("1601") && !text.contains("1100"), "{text}");
    // -T: only the record of that second.
    let text = stdout(&h.dblist(&["-T", "02/02/05 20:25:12"]));
    assert!(text.contains("1601") && !text.contains("1100"), "{text}");
}

#[test]
fn sums_and_whitelist() {
    let h = filled("sums");
    std::fs::write(h.0.join("whitelist"), "ok env_from alice@example.com\n").unwrap();
    assert_eq!(
        h.dbclean(&["-Sq", "-E", "never", "-e", "never"])
            .status
            .code(),
        Some(0)
    );
    let text = stdout(&h.dblist(&["-S"]));
    assert!(text.contains("  Fuz2       5          fafafafa"), "{text}");
    assert!(text.contains("       1 whitelisted"), "{text}");
    let text = stdout(&h.dblist(&["-vv"]));
    assert!(text.contains("\nwhitelist\n  env_From   ok"), "{text}");
    // -H leaves the table out.
    let text = stdout(&h.dblist(&["-H"]));
    assert!(!text.contains("whitelisted"), "{text}");
}

#[test]
fn bad_options_give_usage_and_64() {
    let h = filled("usage");
    for args in [
        &["-Z"][..],
        &["-I", "99999"],
        &["-C", "bogus 1 2 3 4"],
        &["-T", "yesterday"],
        &["-A", "zz"],
        &["-G", "maybe"],
        &["-A", "c", "-P", "1"],
    ] {
        let o = h.dblist(args);
        assert_eq!(o.status.code(), Some(64), "{args:?}");
        assert!(!stderr(&o).is_empty());
    }
    assert!(stderr(&h.dblist(&["-Z"])).contains("usage:"));
}

#[test]
fn damaged_store_gives_a_clear_error() {
    let h = filled("damaged");
    let mut bytes = std::fs::read(h.log()).unwrap();
    bytes[40] ^= 0xff;
    std::fs::write(h.log(), &bytes).unwrap();
    let o = h.dblist(&[]);
    assert_eq!(o.status.code(), Some(65));
    let err = stderr(&o);
    assert!(
        err.contains("reports.log") && err.contains("damaged record"),
        "{err}"
    );
    assert!(!err.contains("panicked"), "{err}");
    // dblist changed nothing.
    assert_eq!(std::fs::read(h.log()).unwrap(), bytes);
    // A damaged header.
    bytes[0] = b'X';
    std::fs::write(h.log(), &bytes).unwrap();
    let err = stderr(&h.dblist(&[]));
    assert!(
        err.contains("reports.log: damaged or missing file header"),
        "{err}"
    );
    // No database at all.
    let empty = Home::new("nodb");
    let o = empty.dblist(&[]);
    assert_eq!(o.status.code(), Some(66));
    assert!(stderr(&o).contains("reports.log"));
    assert!(!empty.db().exists());
}

#[test]
fn torn_last_record_is_listed_up_to_the_tear() {
    let h = filled("torn");
    let mut bytes = std::fs::read(h.log()).unwrap();
    bytes.truncate(bytes.len() - 5);
    std::fs::write(h.log(), &bytes).unwrap();
    let o = h.dblist(&["-v"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let text = stdout(&o);
    assert!(text.contains("2 records containing 5 checksums"), "{text}");
    assert!(text.contains("incomplete last record"), "{text}");
}

#[test]
fn operands_grey_and_pages() {
    let h = filled("operands");
    // A database named by its log file, relative to the home directory.
    let o = h.dblist(&["-I", "1101", "tally-db/reports.log"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(stdout(&o).contains("1101"), "{}", stdout(&o));
    // -P 1: the whole small log is in its last page.
    let text = stdout(&h.dblist(&["-P", "1"]));
    assert!(text.contains("1601") && text.contains("1101"), "{text}");
    // -G on lists the greylist database.
    {
        let mut g = tally_store::LogStore::open(&h.0.join("tally-grey-db")).unwrap();
        g.add(&report(5, 1200, 1, vec![ck(CkType::GreyTriple, 3)]))
            .unwrap();
    }
    let text = stdout(&h.dblist(&["-G", "on", "-v"]));
    assert!(
        text.contains("Grey3") && text.contains("greylist"),
        "{text}"
    );
    // its expiry ages are its server's -G window and white time
    std::fs::write(
        h.0.join("tally-grey-db").join(tally_grey::PARAMS_FILE),
        "on,300,172800,3456000\n",
    )
    .unwrap();
    let text = stdout(&h.dblist(&["-G", "on", "-v"]));
    let line = text
        .lines()
        .find(|l| l.trim_start().starts_with("Body"))
        .unwrap_or_else(|| panic!("{text}"));
    assert_eq!(
        line.split_whitespace().collect::<Vec<_>>(),
        ["Body", "2", "days", "40", "days"],
        "{text}"
    );
    // Two databases, each headed by its name.
    let text = stdout(&h.dblist(&["tally-db", "tally-grey-db"]));
    assert!(
        text.contains("\n  ") && text.contains("tally-grey-db"),
        "{text}"
    );
}

#[test]
fn the_read_only_view_reads_what_the_store_wrote() {
    let h = filled("view");
    let s = h.open();
    let snap = tally_dbtools::snapshot::Snapshot::open(&h.db()).unwrap();
    assert_eq!(
        snap.read_log(tally_store::Pos::START, 100).unwrap(),
        s.read_log(tally_store::Pos::START, 100).unwrap()
    );
    assert_eq!(snap.peer_pos(1101).unwrap(), s.peer_pos(1101).unwrap());
    let mut a = Vec::new();
    snap.for_each_with(&ck(CkType::Body, 0xe2), &mut |e| {
        a.push(e.pos);
        true
    })
    .unwrap();
    let mut b = Vec::new();
    s.for_each_with(&ck(CkType::Body, 0xe2), &mut |e| {
        b.push(e.pos);
        true
    })
    .unwrap();
    assert_eq!((a.len(), &a), (2, &b));
    assert_eq!(
        snap.stats().unwrap().checksums,
        s.stats().unwrap().checksums
    );
    assert_totals_consistent(&snap);
}

/// `-V` as the original's dblist: the version on standard error, each
/// further `-V` how it was built; without files it then stops,
/// successfully; with files it lists them.
#[test]
fn version() {
    let h = filled("version");
    let o = h.dblist(&["-V"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "2.3.167\n");
    assert_eq!(stdout(&o), "");
    let o = h.dblist(&["-V", "-V"]);
    assert_eq!(o.status.code(), Some(0));
    assert_eq!(stderr(&o), "2.3.167\nbuilt with cargo\n");
    let db = h.db();
    let o = h.dblist(&["-V", db.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert_eq!(stderr(&o), "2.3.167\n");
    assert!(stdout(&o).contains("records containing"), "{}", stdout(&o));
}
