//! dblist(8): list the dccd database.

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    std::process::exit(tally_dbtools::list::main(&args));
}
