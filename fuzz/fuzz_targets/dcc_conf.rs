#![no_main]
//! The `dcc_conf` reader on arbitrary bytes (read as `start-dccd` reads the
//! file: lossy UTF-8), then what the start programs and `cron-dccd` build
//! from what it read: the command line of each daemon and the maintenance
//! job. Never a panic: values or errors. Every word of a command line,
//! quoted as `--print` shows it, splits back into itself.
use std::path::Path;

use libfuzzer_sys::fuzz_target;
use tally_ops::conf;
use tally_ops::maint::{self, JobInput};
use tally_ops::start::{self, Daemon, Input, Plan};
use tally_ops::words;

const IDS: &str = "32800 clientpw\n1100 serverpw\n1101 greypw\n";

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for line in text.lines().take(64) {
        let _ = words::split(line);
    }
    let Ok(c) = conf::parse(&text, "dcc_conf") else {
        return;
    };
    let extra = vec!["-x".to_string()];
    for (n, d) in [Daemon::Dccd, Daemon::Grey, Daemon::Dccm, Daemon::Dccifd]
        .into_iter()
        .enumerate()
    {
        let inp = Input {
            conf: &c,
            file: "dcc_conf",
            home: Path::new(if n % 2 == 0 { "/var/dcc" } else { "/srv/dcc" }),
            ids: (n < 2).then_some(IDS),
            user: (n % 2 == 1).then_some("dcc"),
            bindir: Path::new("/usr/sbin"),
            extra: &extra,
        };
        if let Ok(Plan::Run { args, .. }) = start::plan(d, &inp) {
            for a in &args {
                let q = words::quote(a);
                assert_eq!(words::split(&q).as_deref(), Ok(std::slice::from_ref(a)), "{q}");
            }
        }
    }
    for verbose in [false, true] {
        let inp = JobInput {
            conf: &c,
            file: "dcc_conf",
            home: Path::new("/var/dcc"),
            ids: Some(IDS),
            verbose,
            extra: &extra,
        };
        if let Ok(job) = maint::job(&inp) {
            for cl in &job.cleanings {
                let _ = cl.cdcc_command();
            }
        }
    }
});
