//! The `dccd` program: see the `tally_dccd` crate documentation.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut opts = match tally_dccd::opts::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("dccd: {e}");
            return ExitCode::from(64);
        }
    };
    tally_dccd::trace::init_syslog(&opts.logs, opts.grey_params.is_some());
    // As the original: -V prints the version on standard error (a second
    // -V how dccd was built) and the server starts all the same; only
    // without -i does it stop there, successfully, after the complaints.
    tally_getopt::version::print_all(opts.version);
    if opts.srvr_id.is_none() {
        for n in &opts.notices {
            tally_dccd::trace::log(n);
        }
        if opts.version > 0 {
            return ExitCode::SUCCESS;
        }
        tally_dccd::trace::log("server-ID not set with -i");
        return ExitCode::from(64);
    }
    // -I host-ID,user: the user is looked up now, so that a mistake is
    // reported where dccd was started; the server process (the one with
    // -b, started again by this one without it) switches before it opens
    // its home directory, database, sockets or pid file.
    let mut switched_to = None;
    if let Some(user) = opts.user.take() {
        let switched = tally_privs::prepare(&user).and_then(|t| {
            if opts.foreground {
                tally_privs::switch(&t)?;
                switched_to = Some(t);
            }
            Ok(())
        });
        if let Err(e) = switched {
            tally_dccd::trace::log(&e.to_string());
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(1));
        }
    }
    match tally_dccd::net::run(opts, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // a file the new user may not use is the likely cause
            let e = match &switched_to {
                Some(t) => format!("{e}; running as {t}"),
                None => e.to_string(),
            };
            tally_dccd::trace::log(&e);
            ExitCode::from(1)
        }
    }
}
