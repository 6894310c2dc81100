//! dbclean(8): clean the dccd database.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(tally_dbtools::clean::main(&args));
}
