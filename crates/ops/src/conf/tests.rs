use super::*;
use proptest::prelude::*;

fn ok(text: &str) -> Conf {
    parse(text, "dcc_conf").unwrap_or_else(|e| panic!("{e}"))
}

fn err(text: &str) -> Problem {
    parse(text, "dcc_conf").expect_err("an error")
}

#[test]
fn assignments_quotes_and_expansion() {
    let c = ok(
        "# comment\n\nDCCM_LOGDIR=\"D?log\"\nDCCIFD_LOGDIR=\"$DCCM_LOGDIR\"\n\
         DCCM_ARGS=\"-SHELO '-r5.7.1 550 mail %s'\"  # trailing\n\
         BRAND=my\\ brand; SRVR_ID=1100\nREP_ARGS=-tREP,20\n\
         DCCIFD_USERDIRS=${DCCM_USERDIRS:-userdirs}/local\nDNSBL_ARGS='$x \"y\"'\n\
         export DCCUID=dcc\nexport BRAND\n",
    );
    assert_eq!(c.val("DCCM_LOGDIR"), "D?log");
    assert_eq!(c.val("DCCIFD_LOGDIR"), "D?log");
    assert_eq!(c.val("DCCM_ARGS"), "-SHELO '-r5.7.1 550 mail %s'");
    assert_eq!(c.val("BRAND"), "my brand");
    assert_eq!(c.val("SRVR_ID"), "1100");
    assert_eq!(c.val("REP_ARGS"), "-tREP,20");
    assert_eq!(c.val("DCCIFD_USERDIRS"), "userdirs/local");
    assert_eq!(c.val("DNSBL_ARGS"), "$x \"y\"");
    assert_eq!(c.val("DCCUID"), "dcc");
    assert_eq!(c.line_of("SRVR_ID"), Some(6));
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
}

#[test]
fn continued_lines_and_the_original_log_block() {
    let c = ok("DNSBL_ARGS=\"-Ba \\\n\t-Bb\"\nDCC_INFO_LOG_FACILITY=local5\n\
         if [ -n \"$DCC_INFO_LOG_FACILITY\" ]; then\n\
         \x20   case \"$DCC_INFO_LOG_FACILITY\" in *.*) ;; *) DCC_INFO_LOG_FACILITY=\"$DCC_INFO_LOG_FACILITY.notice\";; esac\n\
         \x20   if true; then :; fi\n\
         \x20   DCC_LOG_ARGS=\"$DCC_LOG_ARGS -Linfo,$DCC_INFO_LOG_FACILITY\"\nfi\n\
         DCCM_LOG_AT=5\n");
    assert_eq!(c.val("DNSBL_ARGS"), "-Ba \t-Bb");
    assert_eq!(c.val("DCCM_LOG_AT"), "5");
    assert_eq!(c.line_of("DCCM_LOG_AT"), Some(9));
    // the block is skipped: DCC_LOG_ARGS is computed from the facilities
    assert_eq!(c.get("DCC_LOG_ARGS"), None);
}

#[test]
fn unknown_names_are_warnings_with_their_line() {
    let c = ok("DCCM_ENABLE=on\nDCCM_TYPO=1\n");
    assert_eq!(c.warnings.len(), 1);
    assert_eq!(
        c.warnings[0].to_string(),
        "dcc_conf:2: unknown variable DCCM_TYPO ignored"
    );
}

#[test]
fn malformed_lines_name_file_and_line() {
    assert_eq!(
        err("A_OK=1\nrm -rf /tmp/x\n").to_string(),
        "dcc_conf:2: \"rm -rf /tmp/x\": not a variable assignment (only NAME=value lines are understood)"
    );
    assert_eq!(err("\n\nDCCM_ARGS=\"-SHELO\n").line, 3);
    assert!(err("X='a").msg.contains("unterminated"));
    assert_eq!(err("DCCM_ARGS=`hostname`\n").line, 1);
    assert!(err("BRAND=$(hostname)\n").msg.contains("$("));
    assert_eq!(err("BRAND=x\nSRVR_ID=1 echo hi\n").line, 2);
    assert_eq!(err("BRAND=x > f\n").line, 1);
    let e = err("DCCD_ENABLE=on\nif test -f /x; then\n  DCCD_ENABLE=off\nfi\n");
    assert_eq!(e.line, 2);
    assert!(e.msg.contains("conditional"));
    assert_eq!(err("if test -n \"$DCC_INFO_LOG_FACILITY\"; then\n").line, 1);
    assert_eq!(err("= x\n").line, 1);
}

#[test]
fn the_packages_default_file_reads_without_warnings() {
    let text = include_str!("../../../../packaging/dcc_conf");
    let c = ok(text);
    assert!(c.warnings.is_empty(), "{:?}", c.warnings);
    assert_eq!(c.val("DCCM_ARGS"), "-SHELO -Smail_host -SSender -SList-ID");
    assert_eq!(c.val("DCCIFD_ENABLE"), "on");
    assert_eq!(c.val("DBCLEAN_LOGDAYS"), "14");
    assert_eq!(c.val("DCCIFD_LOGDIR"), "D?log");
}

#[test]
fn values_doubled_by_expansion_stop_at_a_bound() {
    // each line doubles A: 2^40 bytes unless the reader stops it
    let text = format!("A=xxxxxxxx\n{}", "A=\"$A$A\"\n".repeat(40));
    let e = err(&text);
    assert_eq!(e.line, 15, "{e}");
    assert!(e.to_string().contains("longer than 65536 bytes"), "{e}");
    // the same through ${A:-word} and ${A-word}
    let text = format!("A=xxxxxxxx\n{}", "A=\"${A:-x}${A-y}\"\n".repeat(40));
    assert!(err(&text).to_string().contains("longer than"));
    // many lines copying a long value stop at the bound of the whole file
    let long = "z".repeat(60_000);
    let text = format!("A={long}\n{}", "B=$A\n".repeat(40));
    let e = err(&text);
    assert_eq!(e.line, 19, "{e}");
    assert!(e.to_string().contains("in all"), "{e}");
    // a long value of the file itself is kept
    let long = "y".repeat(10_000);
    assert_eq!(
        ok(&format!("A={long}\nB=\"$A$A$A\"\n")).val("B").len(),
        30_000
    );
}

proptest! {
    #[test]
    fn never_panics(s in "(?s).{0,300}") {
        let _ = parse(&s, "f");
    }

    #[test]
    fn single_quoted_values_read_back(v in "[^'\\x00]{0,40}", name in "[A-Z][A-Z_]{0,12}") {
        let c = parse(&format!("{name}='{v}'\n"), "f").unwrap();
        prop_assert_eq!(c.val(&name), v.as_str());
    }

    #[test]
    fn errors_name_a_line_of_the_file(lines in proptest::collection::vec("[ -~]{0,30}", 1..8)) {
        let text = lines.join("\n");
        if let Err(e) = parse(&text, "f") {
            prop_assert!(e.line >= 1 && e.line <= lines.len(), "{} of {}", e.line, lines.len());
        }
    }
}
