//! The `dccd` program: see the `tally_dccd` crate documentation.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let opts = match tally_dccd::opts::parse(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("dccd: {e}");
            return ExitCode::from(64);
        }
    };
    if opts.version > 0 {
        println!(
            "dccd (tally) {} compatible with DCC 2.3.167",
            env!("CARGO_PKG_VERSION")
        );
        return ExitCode::SUCCESS;
    }
    tally_dccd::trace::init_syslog(&opts.logs);
    match tally_dccd::net::run(opts, &args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tally_dccd::trace::log(&e.to_string());
            ExitCode::from(1)
        }
    }
}
