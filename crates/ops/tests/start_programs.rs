//! The start programs as a service manager runs them: `--print` of a
//! migrated site's `dcc_conf`, errors naming file and line, and a real
//! dccd started through `start-dccd`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use tally_e2e::tmp::TempDir;

const MIGRATED: &str = include_str!("data/dcc_conf.migrated");

fn exe(name: &str) -> PathBuf {
    let p = match name {
        "start-dccd" => env!("CARGO_BIN_EXE_start-dccd"),
        "start-grey" => env!("CARGO_BIN_EXE_start-grey"),
        "start-dccm" => env!("CARGO_BIN_EXE_start-dccm"),
        "start-dccifd" => env!("CARGO_BIN_EXE_start-dccifd"),
        _ => panic!("{name}"),
    };
    PathBuf::from(p)
}

fn run(name: &str, args: &[&str]) -> Output {
    Command::new(exe(name)).args(args).output().expect("run")
}

/// This user's name: with `-u` naming it, no `-I` is added.
fn me() -> String {
    let out = Command::new("id").arg("-un").output().expect("id -un");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn home_with(conf: &str) -> (TempDir, String) {
    let dir = TempDir::new("ops-start").expect("temporary directory");
    std::fs::write(dir.path().join("dcc_conf"), conf).expect("write dcc_conf");
    let home = dir.path().display().to_string();
    (dir, home)
}

#[test]
fn print_shows_the_migrated_sites_command_lines() {
    let (_dir, home) = home_with(MIGRATED);
    let bindir = exe("start-dccm").parent().map(Path::to_path_buf).unwrap();
    let line = |name: &str, extra: &[&str]| {
        let mut args = vec!["--print", "-h", home.as_str()];
        args.extend(extra);
        let out = run(name, &args);
        assert!(out.status.success(), "{name}: {out:?}");
        assert_eq!(
            String::from_utf8_lossy(&out.stderr),
            "",
            "{name}: no warnings"
        );
        String::from_utf8(out.stdout).unwrap()
    };
    let me = me();
    let dccm = line("start-dccm", &["-u", &me]);
    assert_eq!(
        dccm,
        format!(
            "{}/dccm -b -tREP,20 -tCMN,5,many -tFuz2,5,many -wwhiteclnt \
             '-Bset:rej-msg=5.7.1 550 %ID %BTYPE listed' -Bzen.example.org,127.0.0.2-127.0.0.11 \
             -Linfo,local5.notice -Lerror,local5.err '-lD?log' -Uuserdirs -Gon -h{home} \
             -SHELO -Smail_host -SSender -SList-ID \
             '-r5.7.1 550 mail %s from %s rejected with DCC'\n",
            bindir.display()
        )
    );
    // the original's -R and -a options of start-dccm
    let dccm = line("start-dccm", &["-u", &me, "-R", "20", "-a", "-j 10"]);
    assert!(dccm.contains(" -tCMN,5,20 -tFuz2,5,20 "), "{dccm}");
    assert!(dccm.ends_with(" -j 10\n"), "{dccm}");

    let dccd = line("start-dccd", &["-u", "nobody-else"]);
    assert_eq!(
        dccd,
        format!(
            "{}/dccd -b -I,nobody-else -i1100 -n examplenet -h{home} \
             -Linfo,local5.notice -Lerror,local5.err -a 127.0.0.1 -u 100 -R 800,100,4000,0.1\n",
            bindir.display()
        )
    );
    let grey = line("start-grey", &["-u", &me, "-i", "1201"]);
    assert_eq!(
        grey,
        format!(
            "{}/dccd -b -Gon -i 1201 -h {home} -Gweak-IP -n examplenet \
             -Linfo,local5.notice -Lerror,local5.err\n",
            bindir.display()
        )
    );
    let dccifd = line("start-dccifd", &["-r", "/run/dcc2"]);
    assert!(
        dccifd.contains(" -b -Idcc -R/run/dcc2 -tREP,20 -tCMN,5, -tFuz2,5, "),
        "{dccifd}"
    );
    assert!(
        dccifd.contains(&format!(
            "'-lD?log' -wwhiteclnt -Uuserdirs/local -Gon -h{home} -SHELO -Smail_host\n"
        )),
        "{dccifd}"
    );
}

#[test]
fn bad_files_are_named_with_their_line() {
    let (_dir, home) = home_with("DCCM_ENABLE=on\nDCCM_ARGS=-SHELO\nmkdir /tmp/x\n");
    let out = run("start-dccm", &["--print", "-h", &home]);
    assert_eq!(out.status.code(), Some(78));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{home}/dcc_conf:3: \"mkdir /tmp/x\": not a variable assignment"
        )),
        "{err}"
    );

    let (_dir, home) = home_with("DCCM_ENABLE=on\nDCCM_LOGDIRS=log\n");
    let out = run("start-dccm", &["--print", "-h", &home]);
    assert!(out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!(
            "{home}/dcc_conf:2: unknown variable DCCM_LOGDIRS ignored"
        )),
        "{err}"
    );

    let (_dir, home) = home_with("DCCD_ENABLE=on\n");
    let out = run("start-dccd", &["--print", "-h", &home]);
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("SRVR_ID not set"));

    // turned off: nothing runs, and that is no failure
    let out = run("start-dccifd", &["--print", "-h", &home]);
    assert!(out.status.success() && out.stdout.is_empty(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("dccifd not started: DCCIFD_ENABLE="));

    let dir = TempDir::new("ops-none").unwrap();
    let out = run("start-dccm", &["-h", &dir.path().display().to_string()]);
    assert_eq!(out.status.code(), Some(78));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}
