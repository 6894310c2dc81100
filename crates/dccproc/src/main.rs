//! dccproc(8): check one message with DCC from the command line.
//!
//! Copies a message from standard input (or `-i`) to standard output (or
//! `-o`), adding an X-DCC header, and exits with the `-x` code when the
//! message is spam by the thresholds or the whiteclnt file. The counts come
//! from the DCC servers of the map file (`-m`, by default `map` in the home
//! directory), whose measured state is saved back to it after use. The
//! message is always delivered, whatever goes wrong.

mod delivery;
mod online;
mod opts;
mod run;
mod setup;
mod white;
mod xfltr;

/// Version printed by `-V`.
pub const VERSION: &str = concat!("tally ", env!("CARGO_PKG_VERSION"), " (DCC 2.3.167)");

fn main() {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = run::main_run(&args);
    std::process::exit(code);
}
