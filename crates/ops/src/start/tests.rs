use super::*;
use crate::conf;

const MIGRATED: &str = include_str!("../../tests/data/dcc_conf.migrated");

fn run(d: Daemon, text: &str, home: &str, user: Option<&str>, ids: Option<&str>) -> Plan {
    let c = conf::parse(text, "dcc_conf").unwrap();
    let inp = Input {
        conf: &c,
        file: "dcc_conf",
        home: Path::new(home),
        ids,
        user,
        bindir: Path::new("/usr/sbin"),
        extra: &[],
    };
    plan(d, &inp).unwrap()
}

fn args(p: Plan) -> Vec<String> {
    match p {
        Plan::Run { args, .. } => args,
        Plan::Disabled(w) => panic!("disabled: {w}"),
    }
}

fn v(s: &[&str]) -> Vec<String> {
    s.iter().map(|s| s.to_string()).collect()
}

#[test]
fn a_migrated_sites_command_lines() {
    let p = run(Daemon::Dccm, MIGRATED, "/var/dcc", Some("root"), None);
    let Plan::Run { program, chown, .. } = &p else {
        panic!("{p:?}")
    };
    assert_eq!(program, Path::new("/usr/sbin/dccm"));
    assert_eq!(
        chown,
        &[
            PathBuf::from("/var/run/dcc"),
            PathBuf::from("/var/dcc"),
            PathBuf::from("/var/dcc/log")
        ]
    );
    let logs = ["-Linfo,local5.notice", "-Lerror,local5.err"];
    let dnsbl = [
        "-Bset:rej-msg=5.7.1 550 %ID %BTYPE listed",
        "-Bzen.example.org,127.0.0.2-127.0.0.11",
    ];
    let mut want = v(&[
        "-b",
        "-Idcc",
        "-tREP,20",
        "-tCMN,5,many",
        "-tFuz2,5,many",
        "-wwhiteclnt",
    ]);
    want.extend(v(&dnsbl));
    want.extend(v(&logs));
    want.extend(v(&[
        "-lD?log",
        "-Uuserdirs",
        "-Gon",
        "-SHELO",
        "-Smail_host",
        "-SSender",
        "-SList-ID",
        "-r5.7.1 550 mail %s from %s rejected with DCC",
    ]));
    assert_eq!(args(p), want);

    let mut want = v(&["-b", "-Idcc", "-tREP,20", "-tCMN,5,", "-tFuz2,5,"]);
    want.extend(v(&dnsbl));
    want.extend(v(&logs));
    want.extend(v(&[
        "-lD?log",
        "-wwhiteclnt",
        "-Uuserdirs/local",
        "-Gon",
        "-SHELO",
        "-Smail_host",
    ]));
    assert_eq!(
        args(run(
            Daemon::Dccifd,
            MIGRATED,
            "/var/dcc",
            Some("root"),
            None
        )),
        want
    );

    let mut want = v(&["-b", "-I,dcc", "-i1100", "-n", "examplenet"]);
    want.extend(v(&logs));
    want.extend(v(&[
        "-a",
        "127.0.0.1",
        "-u",
        "100",
        "-R",
        "800,100,4000,0.1",
    ]));
    assert_eq!(
        args(run(Daemon::Dccd, MIGRATED, "/var/dcc", Some("root"), None)),
        want
    );

    let mut want = v(&[
        "-b",
        "-Gon",
        "-I,dcc",
        "-i",
        "1101",
        "-Gweak-IP",
        "-n",
        "examplenet",
    ]);
    want.extend(v(&logs));
    assert_eq!(
        args(run(Daemon::Grey, MIGRATED, "/var/dcc", Some("root"), None)),
        want
    );
}

#[test]
fn another_home_is_passed_and_the_dcc_user_needs_no_switch() {
    let a = args(run(Daemon::Dccm, MIGRATED, "/srv/dcc", Some("dcc"), None));
    assert!(!a.iter().any(|w| w.starts_with("-I")), "{a:?}");
    let h = a.iter().position(|w| w == "-h/srv/dcc").expect("-h");
    assert_eq!(a[h - 1], "-Gon");
    let g = args(run(Daemon::Grey, MIGRATED, "/srv/dcc", Some("dcc"), None));
    assert_eq!(
        &g[..6],
        &v(&["-b", "-Gon", "-i", "1101", "-h", "/srv/dcc"])[..]
    );
}

#[test]
fn enable_switches_as_the_original_scripts() {
    let base = "SRVR_ID=1\n";
    // dccd and dccm run unless off; dccifd only when on
    assert!(matches!(
        run(Daemon::Dccd, base, "/var/dcc", None, None),
        Plan::Run { .. }
    ));
    assert!(matches!(
        run(
            Daemon::Dccd,
            "SRVR_ID=1\nDCCD_ENABLE=OFF\n",
            "/var/dcc",
            None,
            None
        ),
        Plan::Disabled(_)
    ));
    assert!(matches!(
        run(Daemon::Dccm, base, "/var/dcc", None, None),
        Plan::Run { .. }
    ));
    assert!(matches!(
        run(Daemon::Dccifd, base, "/var/dcc", None, None),
        Plan::Disabled(_)
    ));
    assert!(matches!(
        run(Daemon::Dccifd, "DCCIFD_ENABLE=On\n", "/var/dcc", None, None),
        Plan::Run { .. }
    ));
    // the greylist server: GREY_ENABLE, else whether clients greylist
    assert!(matches!(
        run(Daemon::Grey, base, "/var/dcc", None, None),
        Plan::Disabled(_)
    ));
    let grey = "GREY_SRVR_ID=1101\nGREY_CLIENT_ARGS=on\n";
    assert!(matches!(
        run(Daemon::Grey, grey, "/var/dcc", None, None),
        Plan::Run { .. }
    ));
    let off = format!("{grey}GREY_ENABLE=off\n");
    assert!(matches!(
        run(Daemon::Grey, &off, "/var/dcc", None, None),
        Plan::Disabled(_)
    ));
}

#[test]
fn missing_server_ids_and_the_automatic_greylist_id() {
    let c = conf::parse("DCCD_ENABLE=on\nGREY_ENABLE=on\n", "/var/dcc/dcc_conf").unwrap();
    let mut inp = Input {
        conf: &c,
        file: "/var/dcc/dcc_conf",
        home: Path::new("/var/dcc"),
        ids: None,
        user: None,
        bindir: Path::new("/usr/sbin"),
        extra: &[],
    };
    assert_eq!(
        plan(Daemon::Dccd, &inp).unwrap_err(),
        "cannot start dccd; SRVR_ID not set in /var/dcc/dcc_conf"
    );
    assert!(plan(Daemon::Grey, &inp)
        .unwrap_err()
        .contains("GREY_SRVR_ID"));
    inp.ids = Some("32702\tsecret\n");
    assert!(plan(Daemon::Grey, &inp).is_err(), "the comment is required");
    inp.ids = Some("# auto local greylist server-ID\n32702\tsecret\n");
    let a = args(plan(Daemon::Grey, &inp).unwrap());
    assert_eq!(&a[..4], &v(&["-b", "-Gon", "-i", "32702"])[..]);
}

#[test]
fn old_g_options_defaults_and_extra_words() {
    let text = "DCCM_ARGS=\"-G -SHELO\"\nGREY_CLIENT_ARGS=\"-Gon -GnoIP\"\nDCCM_LOGDIR=\nDCCM_WHITECLNT=\n";
    let c = conf::parse(text, "f").unwrap();
    let extra = v(&["-j", "20"]);
    let inp = Input {
        conf: &c,
        file: "f",
        home: Path::new("/var/dcc"),
        ids: None,
        user: None,
        bindir: Path::new("/usr/sbin"),
        extra: &extra,
    };
    assert_eq!(
        args(plan(Daemon::Dccm, &inp).unwrap()),
        v(&["-b", "-Gon", "-GnoIP", "-Gon", "-SHELO", "-j", "20"])
    );
    // a value that does not split names its line
    let c = conf::parse("BRAND=x\nDCCM_ARGS=\"-SHELO '-r5.7.1\"\n", "f").unwrap();
    let inp = Input { conf: &c, ..inp };
    assert_eq!(
        plan(Daemon::Dccm, &inp).unwrap_err(),
        "f:2: DCCM_ARGS: unterminated '…' quote at byte 7"
    );
}

#[test]
fn log_facilities() {
    let c = conf::parse(
        "DCC_INFO_LOG_FACILITY=local5\nDCC_ERROR_LOG_FACILITY=local4\n",
        "f",
    )
    .unwrap();
    assert_eq!(
        log_facility_args(&c),
        v(&["-Linfo,local5.notice", "-Lerror,local4.err"])
    );
    assert_eq!(logdir_path("H?log"), "log");
    assert_eq!(logdir_path("/var/log/dcc"), "/var/log/dcc");
}
