//! `cron-dccd`: see the `tally_ops::cron` module and cron-dccd(8).

fn main() -> std::process::ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    tally_ops::cron::main(&args)
}
