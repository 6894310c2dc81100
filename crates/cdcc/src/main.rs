//! The `cdcc` program: see the library for the commands.

fn main() {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    std::process::exit(tally_cdcc::run(&args));
}
