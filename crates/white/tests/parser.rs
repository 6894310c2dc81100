//! Line forms, problems and limits of the whiteclnt parser.

use std::collections::HashMap;
use std::net::IpAddr;
use tally_ck::simple::{ip_sum, str_sum};
use tally_ck::{CkType, Sum};
use tally_white::{
    parse_file, Built, FileKind, IncludeFailure, Includes, ItemValue, Listing, NoIncludes,
    Resolutions, Tgts,
};

struct Files(HashMap<String, Vec<u8>>);

impl Includes for Files {
    fn read_include(&mut self, name: &str) -> Result<Vec<u8>, String> {
        self.0
            .get(name)
            .cloned()
            .ok_or_else(|| "No such file or directory".to_string())
    }
}

fn build(text: &str) -> Built {
    parse_file(
        "whiteclnt",
        text.as_bytes(),
        FileKind::Global,
        &mut NoIncludes,
    )
    .build(&Resolutions::new())
}

fn errors(text: &str) -> Vec<String> {
    build(text).errors.iter().map(|e| e.to_string()).collect()
}

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

#[test]
fn comments_blanks_case_and_continuations() {
    let b = build(
        "# comment\n\n   \t\nOK ENV_FROM a@example.com\n  env_to b@example.net  \r\nMany\tfrom\t<c@example.com>\n",
    );
    assert!(b.is_clean(), "{:?}", b.errors);
    let l = b.list;
    assert_eq!(
        l.lookup(CkType::EnvFrom, &str_sum(None, b"a@example.com")),
        Some(Tgts::OK)
    );
    assert_eq!(
        l.lookup(CkType::EnvTo, &str_sum(None, b"b@example.net")),
        Some(Tgts::OK)
    );
    assert_eq!(
        l.lookup(CkType::From, &str_sum(None, b"c@example.com")),
        Some(Tgts::MANY)
    );
}

#[test]
fn error_wording_names_file_and_line() {
    let e = errors("ok env_from a@b\nbogus env_from x\n");
    assert_eq!(
        e,
        ["missing or invalid # of targets \"bogus\" in line 2 of whiteclnt"]
    );
    let e = errors("ok\n");
    assert_eq!(e, ["missing type in \"ok\" in line 1 of whiteclnt"]);
    let e = errors("\n\nok env_from\n");
    assert_eq!(e, ["missing value in line 3 of whiteclnt"]);
    let e = errors("ok body 1234\n");
    assert_eq!(
        e,
        ["unrecognized checksum type \"body\" in line 1 of whiteclnt"]
    );
    let e = errors("option bogus\n");
    assert_eq!(e, ["unrecognized \"option bogus\" in line 1 of whiteclnt"]);
    let e = errors("option log-all\noption log-normal\n");
    assert_eq!(
        e,
        ["\"option log-normal\" in line 2 of whiteclnt conflicts with \"option log-all\""]
    );
    let e = errors("mx env_from a@b\n");
    assert_eq!(
        e,
        ["MX server must be an IP address in line 1 of whiteclnt"]
    );
    let e = errors("submit from a@b\n");
    assert_eq!(e, ["client must be an IP address in line 1 of whiteclnt"]);
    let e = errors("ok ip 10.0.0.1/8\n");
    assert_eq!(
        e,
        ["10.0.0.1 does not start on a 8-bit CIDR boundary in line 1 of whiteclnt"]
    );
    let e = errors("0 env_from a@b\n");
    assert_eq!(
        e,
        ["missing or invalid # of targets \"0\" in line 1 of whiteclnt"]
    );
}

#[test]
fn one_way_option_conflicts_found_on_the_second_pass() {
    // the first pass accepts these orders; the original's second pass
    // checks each option line against the whole file
    let e = errors("option spam-trap-discard\noption DCC-rep-off\n");
    assert_eq!(
        e,
        ["\"option spam-trap-discard\" in line 1 of whiteclnt conflicts with \"option DCC-rep-off\""]
    );
    let e = errors("option spam-trap-reject\noption DCC-rep-off\n");
    assert_eq!(
        e,
        ["\"option spam-trap-reject\" in line 1 of whiteclnt conflicts with \"option DCC-rep-off\""]
    );
    let e = errors("option no-forced-discard\noption spam-trap-reject\n");
    assert_eq!(
        e,
        ["\"option no-forced-discard\" in line 1 of whiteclnt conflicts with \"option spam-trap-reject\""]
    );
    // the other order is found on the first pass, reported once
    let e = errors("option DCC-rep-off\noption spam-trap-discard\n");
    assert_eq!(
        e,
        ["\"option spam-trap-discard\" in line 2 of whiteclnt conflicts with \"option DCC-rep-off\""]
    );
    // in file order with the entries' conflicts; only a clean first pass
    // leads to the second
    let e = errors(
        "ok env_from a@b\noption spam-trap-discard\nmany env_from a@b\noption DCC-rep-off\n",
    );
    assert_eq!(
        e,
        [
            "\"option spam-trap-discard\" in line 2 of whiteclnt conflicts with \"option DCC-rep-off\"",
            "\"many\" in line 3 conflicts with \"ok\" in line 1 of whiteclnt",
        ]
    );
    let e = errors("option spam-trap-discard\noption DCC-rep-off\nok\n");
    assert_eq!(e, ["missing type in \"ok\" in line 3 of whiteclnt"]);
    // settings of the list are those of the first pass
    let b = build("option spam-trap-discard\noption DCC-rep-off\n");
    let sw = b.list.switches();
    assert!(sw.has(tally_white::Switches::TRAP_DIS) && sw.has(tally_white::Switches::REP_OFF));
}

#[test]
fn continuation_stops_after_errors_and_options() {
    let e = errors("option log-all\n  env_from a@b\n");
    assert_eq!(
        e,
        ["missing or invalid # of targets \"\" in line 2 of whiteclnt"]
    );
    let b = build("many env_from a@b\n  from c@d\n");
    assert!(b.is_clean());
    assert_eq!(
        b.list.lookup(CkType::From, &str_sum(None, b"c@d")),
        Some(Tgts::MANY)
    );
}

#[test]
fn numbers_as_counts() {
    let b = build("5 env_from a@b\n0x10 from c@d\n");
    assert!(b.is_clean());
    assert_eq!(
        b.list.lookup(CkType::EnvFrom, &str_sum(None, b"a@b")),
        Some(Tgts(5))
    );
    assert_eq!(
        b.list.lookup(CkType::From, &str_sum(None, b"c@d")),
        Some(Tgts(16))
    );
    // counts are neither white nor black
    let sums = [(CkType::EnvFrom, str_sum(None, b"a@b"))];
    let v = b.list.check(&sums, None);
    assert_eq!(v.listing, Listing::Unlisted);
    assert_eq!(v.tgts_at(0), Some(Tgts(5)));
}

#[test]
fn hex_entries() {
    let b = build(
        "ok hex env_from c160f8cc 69a4f0bf 2b036275 2353d060\nmany hex fuz2 1 2 3 4\nok hex substitute x-hdr 1 2 3 5\n",
    );
    assert!(b.is_clean(), "{:?}", b.errors);
    let l = b.list;
    assert_eq!(
        l.lookup(CkType::EnvFrom, &str_sum(None, b"alice@example.com")),
        Some(Tgts::OK)
    );
    let fuz2 = Sum::parse_hex("00000001 00000002 00000003 00000004").unwrap();
    assert_eq!(l.lookup(CkType::Fuz2, &fuz2), Some(Tgts::MANY));
    let sub = Sum::parse_hex("00000001 00000002 00000003 00000005").unwrap();
    assert_eq!(l.lookup(CkType::Sub, &sub), Some(Tgts::OK));
    let b = build("ok hex body simple at 1234\n");
    assert!(b.is_clean());
    let id = Sum::parse_hex("0c04d200 00000000 00000000 00000000").unwrap();
    assert_eq!(b.list.lookup(CkType::Body, &id), Some(Tgts::OK));
    // the number as `%d` takes it: saturated at the C long's ends, then
    // its low bits; blanks are any of C's white space
    let b = build(
        "ok hex body simple at -99999999999999999999\nmany hex fuz1 rogue\x0bat\x0c+99999999999999999999\n",
    );
    assert!(b.is_clean(), "{:?}", b.errors);
    let id = Sum::parse_hex("0c000000 00000000 00000000 00000000").unwrap();
    assert_eq!(b.list.lookup(CkType::Body, &id), Some(Tgts::OK));
    let id = Sum::parse_hex("0cffff00 00000000 00000000 00000000").unwrap();
    assert_eq!(b.list.lookup(CkType::Fuz1, &id), Some(Tgts::MANY));
    let e = errors("ok hex body xyz\n");
    assert_eq!(
        e,
        ["unrecognized checksum value \"xyz\" in line 1 of whiteclnt"]
    );
}

#[test]
fn substitute_header_forms() {
    let b = build("ok substitute Sender: a@b\nok substitute X-Y c d\n");
    assert!(b.is_clean());
    assert_eq!(
        b.list
            .lookup(CkType::Sub, &str_sum(Some(b"sender"), b"a@b")),
        Some(Tgts::OK)
    );
    assert_eq!(
        b.list.lookup(CkType::Sub, &str_sum(Some(b"x-y"), b"c d")),
        Some(Tgts::OK)
    );
    // the original's texts: a leading blank, and its spelling
    let e = errors("ok substitute lonely\n");
    assert_eq!(
        e,
        [" substitute header name absent in \"lonely\" in line 1 of whiteclnt"]
    );
    let long = "x".repeat(80);
    let e = errors(&format!("ok substitute {long}: v\n"));
    assert_eq!(
        e,
        [format!(
            " imposible substitute header name in \"{long}: v\" in line 1 of whiteclnt"
        )]
    );
}

#[test]
fn ip_addresses_ranges_and_blocks() {
    let b = build(
        "ok ip 192.0.2.5\nok ip 2001:db8::1\nmany ip 10.0.0.1-10.0.0.3\nmany ip 198.51.100.0/23\nok ip 198.51.100.0/24\nmx ip 2001:db8:1::/48\n",
    );
    assert!(
        b.errors.iter().all(|e| e.text.contains("conflicts")),
        "{:?}",
        b.errors
    );
    let l = &b.list;
    let at = |a: &str| l.lookup_ip(&ip_sum(ip(a)), Some(ip(a)));
    assert_eq!(at("192.0.2.5"), Some(Tgts::OK));
    assert_eq!(at("2001:db8::1"), Some(Tgts::OK));
    assert_eq!(at("10.0.0.2"), Some(Tgts::MANY));
    assert_eq!(at("10.0.0.4"), None);
    // the larger block wins over the smaller one
    assert_eq!(at("198.51.100.3"), Some(Tgts::MANY));
    // blocks under 256 addresses become single entries, which come first
    let b2 = build("many ip 198.51.100.0/24\nok ip 198.51.100.0/25\n");
    let a = ip("198.51.100.3");
    assert_eq!(b2.list.lookup_ip(&ip_sum(a), Some(a)), Some(Tgts::OK));
    assert_eq!(at("2001:db8:1:ffff::9"), Some(Tgts::MX));
    assert_eq!(l.ranges().len(), 3);
    // the checksum of a single address is its entry; a block needs the address
    assert_eq!(l.lookup_ip(&ip_sum(ip("198.51.100.3")), None), None);
}

#[test]
fn too_many_blocks() {
    let mut text = String::new();
    for i in 0..65 {
        text.push_str(&format!("ok ip 10.{i}.0.0/16\n"));
    }
    let e = errors(&text);
    assert_eq!(e, ["too many IP address blocks in line 65 of whiteclnt"]);
}

#[test]
fn host_names_are_resolved_by_the_caller() {
    let p = parse_file(
        "whiteclnt",
        b"ok ip relay.example.com\nmany ip bad.example\n",
        FileKind::Global,
        &mut NoIncludes,
    );
    assert_eq!(p.host_names(), ["relay.example.com", "bad.example"]);
    let mut r = Resolutions::new();
    r.insert(
        "relay.example.com",
        Ok(vec![ip("192.0.2.9"), ip("2001:db8::9")]),
    );
    r.insert("bad.example", Err("Unknown host".to_string()));
    let b = p.build(&r);
    let e: Vec<String> = b.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        e,
        ["host name \"bad.example\": Unknown host in line 2 of whiteclnt"]
    );
    assert!(b.list.has_host_names());
    assert_eq!(
        b.list.lookup_ip(&ip_sum(ip("2001:db8::9")), None),
        Some(Tgts::OK)
    );
    // per-user files may not name hosts nor relays
    let p = parse_file(
        "u",
        b"ok ip relay.example.com\nmx ip 1.2.3.4\n",
        FileKind::PerUser,
        &mut NoIncludes,
    );
    let e: Vec<String> = p.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        e,
        [
            "host name checksum illegal in per-user whitelist in line 1 of u",
            "mx illegal in per-user whitelist in line 2 of u"
        ]
    );
}

#[test]
fn includes() {
    let mut files = Files(HashMap::new());
    files.0.insert(
        "inc1".into(),
        b"ok env_from inc@example.com\nbogus\n".to_vec(),
    );
    files.0.insert("inc2".into(), b"include inc1\n".to_vec());
    let text = b"include \"inc1\"\nok from a@b\ninclude <inc2>\ninclude missing\n";
    let p = parse_file("whiteclnt", text, FileKind::Global, &mut files);
    let e: Vec<String> = p.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        e,
        [
            "missing type in \"bogus\" in line 2 of inc1 included in whiteclnt",
            "nested \"include\" not allowed in line 1 of inc2 included in whiteclnt",
            "\"include missing\": No such file or directory in line 4 of whiteclnt",
        ]
    );
    let b = p.build(&Resolutions::new());
    assert_eq!(
        b.list
            .lookup(CkType::EnvFrom, &str_sum(None, b"inc@example.com")),
        Some(Tgts::OK)
    );
    let from = b.list.get(CkType::From, &str_sum(None, b"a@b")).unwrap();
    assert_eq!(from.loc.line, 2);
    assert_eq!(b.list.includes(), ["inc1", "inc2"]);
}

#[test]
fn duplicates_conflict_and_settle() {
    let b = build("many env_from a@b\nok env_from a@b\nok env_from a@b\n");
    let e: Vec<String> = b.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        e,
        ["\"ok\" in line 2 conflicts with \"many\" in line 1 of whiteclnt"]
    );
    assert_eq!(
        b.list.lookup(CkType::EnvFrom, &str_sum(None, b"a@b")),
        Some(Tgts::OK)
    );
    // a single address inside a block with another value
    let b = build("many ip 10.1.0.0/16\nok ip 10.1.2.3\n");
    assert_eq!(b.errors.len(), 1, "{:?}", b.errors);
    assert_eq!(
        b.list
            .lookup_ip(&ip_sum(ip("10.1.2.3")), Some(ip("10.1.2.3"))),
        Some(Tgts::OK)
    );
}

#[test]
fn long_lines_end_the_file() {
    let text = format!(
        "ok env_from a@b\nok from {}\nok from c@d\n",
        "x".repeat(1100)
    );
    let b = build(&text);
    let e: Vec<String> = b.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(e, ["line too long in line 2 of whiteclnt"]);
    assert_eq!(b.list.lookup(CkType::From, &str_sum(None, b"c@d")), None);
}

#[test]
fn normal_form_round_trip() {
    let text = "option log-all\noption threshold CMN,MANY\nok env_from a@b\nmany ip 10.0.0.0/8\nok2 substitute list-id <x>\nok ip relay.example.com\n7 ip 192.0.2.1-192.0.2.3\n";
    let p = parse_file("w", text.as_bytes(), FileKind::Global, &mut NoIncludes);
    assert!(p.errors.is_empty());
    let nf = p.normal_form();
    let p2 = parse_file("w", nf.as_bytes(), FileKind::Global, &mut NoIncludes);
    assert!(p2.errors.is_empty(), "{nf}\n{:?}", p2.errors);
    assert_eq!(p2.normal_form(), nf);
    let values: Vec<&ItemValue> = p.items.iter().map(|i| &i.value).collect();
    let values2: Vec<&ItemValue> = p2.items.iter().map(|i| &i.value).collect();
    assert_eq!(values, values2);
    assert_eq!(p.switches, p2.switches);
    assert_eq!(p.thresholds, p2.thresholds);
}

#[test]
fn flood_path_is_not_a_type_word() {
    // the original's comparison runs on from "flood" into the value; we
    // take the type word alone (docs/compatibility.md)
    assert_eq!(
        errors("ok flood path\n"),
        ["unrecognized checksum type \"flood\" in line 1 of whiteclnt"]
    );
}

#[test]
fn conflicts_name_each_include_line_as_its_own_file() {
    let mut files = Files(HashMap::new());
    files
        .0
        .insert("inc".into(), b"ok from a@b\nmany from a@b\n".to_vec());
    let text = b"include inc\ninclude inc\n";
    let b = parse_file("whiteclnt", text, FileKind::Global, &mut files).build(&Resolutions::new());
    let e: Vec<String> = b.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        e,
        [
            "\"many\" in line 2 conflicts with \"ok\" in line 1 of inc",
            "\"many\" in line 2 of inc conflicts with \"ok\" in line 1 of inc",
        ]
    );
}

#[test]
fn conflicts_name_the_earlier_line_in_full() {
    // the original shows the earlier line's number in 16 bits (4465)
    let text = format!("{}ok from a@b\nmany from a@b\n", "\n".repeat(70000));
    assert_eq!(
        errors(&text),
        ["\"many\" in line 70002 conflicts with \"ok\" in line 70001 of whiteclnt"]
    );
}

#[test]
fn cidr_lengths_out_of_range_are_refused() {
    // the original keeps the length in a C int: /4294967304 would be /8
    // and /-8 on :: all of IPv6; we refuse such lengths
    assert_eq!(
        errors("ok ip 10.0.0.0/4294967304\nok ip ::/-8\n"),
        [
            "invalid CIDR block length \"10.0.0.0/4294967304\" in line 1 of whiteclnt",
            "invalid CIDR block length \"::/-8\" in line 2 of whiteclnt",
        ]
    );
}

#[test]
fn fingerprints_see_the_lines_of_blocks() {
    let fp = |text: &str| build(text).list.fingerprint();
    let a = fp("ok ip 10.0.0.0/8\n");
    assert_eq!(a, fp("ok ip 10.0.0.0/8\n"));
    // the same block on another line: the original's digest differs
    assert_ne!(a, fp("\nok ip 10.0.0.0/8\n"));
    assert_ne!(a, fp("many ip 10.0.0.0/8\n"));
    // lines of checksum entries do not count, nor their values
    let e = fp("ok from a@b\n");
    assert_eq!(e, fp("# moved\nmany from a@b\n"));
}

#[test]
fn bad_blocks_of_included_files_name_only_that_file() {
    let mut files = Files(HashMap::new());
    files.0.insert(
        "inc".into(),
        b"ok ip 10.0.0.1/8\nok ip 10.0.0.9-10.0.0.1\nok ip 10.0.0.0/x\nbogus\n".to_vec(),
    );
    let text = b"include inc\nok ip ::1-10.0.0.1\n";
    let p = parse_file("whiteclnt", text, FileKind::Global, &mut files);
    let e: Vec<String> = p.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(
        e,
        [
            "10.0.0.1 does not start on a 8-bit CIDR boundary in line 1 of inc",
            "first address after second in \"10.0.0.9-10.0.0.1\" in line 2 of inc",
            "invalid CIDR block length \"10.0.0.0/x\" in line 3 of inc",
            "missing type in \"bogus\" in line 4 of inc included in whiteclnt",
            "mixture of IPv4 and IPv6 in \"::1-10.0.0.1\" in line 2 of whiteclnt",
        ]
    );
    assert_eq!(p.errors[0].file(), "inc");
    assert_eq!(p.errors[0].line(), 1);
}

#[test]
fn an_unreadable_include_takes_a_place() {
    struct Dirs;
    impl Includes for Dirs {
        fn read_include(&mut self, _name: &str) -> Result<Vec<u8>, String> {
            Err("Is a directory".into())
        }
        fn open_include(&mut self, name: &str) -> Result<Vec<u8>, IncludeFailure> {
            if name.starts_with('d') {
                Err(IncludeFailure::Read("Is a directory".into()))
            } else {
                Err(IncludeFailure::Open("No such file or directory".into()))
            }
        }
    }
    let mut text = String::from("include missing\n");
    for i in 0..9 {
        text.push_str(&format!("include d{i}\n"));
    }
    let p = parse_file("whiteclnt", text.as_bytes(), FileKind::Global, &mut Dirs);
    let e: Vec<String> = p.errors.iter().map(|e| e.to_string()).collect();
    let mut want =
        vec!["\"include missing\": No such file or directory in line 1 of whiteclnt".to_string()];
    for i in 0..8 {
        want.push(format!("read(d{i}, 1024): Is a directory"));
    }
    want.push("too many \"include\" files in line 10 of whiteclnt".into());
    assert_eq!(e, want);
    assert_eq!(p.includes.len(), 8);
}
