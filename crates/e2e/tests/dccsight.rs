//! dccsight with the real programs: the checksum table `dccproc -C -Q`
//! prints, reported by dccsight to our dccd, counts as dccproc's own
//! report would; and `dccsight -G` lets a triple under embargo through
//! at our greylist server (`dccd -G`).

use tally_e2e::dccd::{grey_report, grey_triple, DccServer, BRAND};
use tally_e2e::greylist::grey_arg;
use tally_e2e::msg::{message, unique};
use tally_e2e::tmp::TempDir;
use tally_e2e::{bins, require, Skip};

fn io(e: std::io::Error) -> Skip {
    Skip(format!("set-up failed: {e}"))
}

#[test]
fn dccproc_table_reported_and_greylist_embargo_ended() {
    let tmp = require!(TempDir::new("dccsight").map_err(io));
    let dccd = require!(DccServer::start(&require!(tmp.subdir("dccd").map_err(io))));
    let grey = require!(DccServer::start_grey(
        &require!(tmp.subdir("grey").map_err(io)),
        &grey_arg()
    ));
    let home = require!(tmp.subdir("client").map_err(io));
    require!(dccd.client_home_with(&home, None, Some(&grey)).map_err(io));
    let hs = home.to_string_lossy().into_owned();
    let msg = message("alice@example.com", "bob@example.net", "sight", &unique());

    // the table of a query, then reported by dccsight twice over
    let table = bins::run("dccproc", &["-h", &hs, "-C", "-Q"], &msg);
    assert!(
        table.stdout.contains(" reported: 0 "),
        "{}{}",
        table.stdout,
        table.stderr
    );
    let out = bins::run("dccsight", &["-h", &hs, "-t", "2"], table.stdout.as_bytes());
    assert!(out.success(), "{}{}", out.stdout, out.stderr);
    // the host name dccproc and dccsight put in the header
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default();
    assert_eq!(
        out.stdout,
        format!("X-DCC-{BRAND}-Metrics: {host} 1100; Body=2 Fuz1=2 Fuz2=2\n")
    );
    // dccproc sees the counts of those very checksums
    let out = bins::run("dccproc", &["-h", &hs, "-H", "-Q"], &msg);
    assert_eq!(
        out.stdout,
        format!("X-DCC-{BRAND}-Metrics: {host} 1100; Body=2 Fuz1=2 Fuz2=2\n"),
        "{}",
        out.stderr
    );

    // a triple under embargo, then let through by dccsight -G
    assert_eq!(grey_report(&grey, 9), 0, "a new embargo");
    let hex = grey_triple(9).to_string();
    let out = bins::run("dccsight", &["-h", &hs, "-Q", "-G", &hex], b"");
    assert_eq!(out.stdout, "Embargo\n", "{}", out.stderr);
    // the server answers "no embargo" to a whitelisting without the
    // message's checksum ("Embargo Ended" needs it), and lets it pass
    let out = bins::run("dccsight", &["-h", &hs, "-G", &hex], b"");
    assert_eq!(out.stdout, "Pass\n", "{}", out.stderr);
    let out = bins::run("dccsight", &["-h", &hs, "-Q", "-G", &hex], b"");
    assert_eq!(out.stdout, "Pass\n", "{}", out.stderr);
    // the next delivery attempt of the triple is not embargoed
    assert_eq!(grey_report(&grey, 9), 0x00ff_fff0, "passes");
}
