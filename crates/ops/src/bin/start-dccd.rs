//! `start-dccd`: see the `tally_ops::starter` module and start-dccd(8).

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    tally_ops::starter::main(tally_ops::start::Daemon::Dccd, &args)
}
