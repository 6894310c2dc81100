//! dccsight(8): read checksums computed before (the table `dccproc -C`
//! prints), report them to a DCC server (or only ask with `-Q`), and print
//! the X-DCC header line; with `-C` the checksums and counts after it.
//! With `-G` it instead ends the greylist embargo of one triple (or asks
//! about it with `-Q`).

mod grey;
mod opts;
mod run;

fn main() {
    let mut args = std::env::args_os().map(|a| a.to_string_lossy().into_owned());
    // the C library's getopt names the program as it was started
    let prog = args.next().unwrap_or_else(|| "dccsight".to_string());
    let args: Vec<String> = args.collect();
    std::process::exit(run::main_run(&prog, &args));
}
