//! `-V` of every program, as the original's: on standard error, the DCC
//! version the first time, how the program was built each time after that
//! (the original names its `configure` arguments there). When it is
//! printed, and what the program does next, is each program's.

/// The DCC version the programs stand in for, as `-V` prints it.
pub const VERSION: &str = "2.3.167";

/// What the `seen`-th `-V` (counted from 1) prints.
pub fn line(seen: u32) -> &'static str {
    if seen <= 1 {
        VERSION
    } else {
        "built with cargo"
    }
}

/// Print the line of the `seen`-th `-V` on standard error.
pub fn print(seen: u32) {
    eprintln!("{}", line(seen));
}

/// Print the lines of `count` `-V`s.
pub fn print_all(count: u32) {
    for seen in 1..=count {
        print(seen);
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn lines() {
        assert_eq!(super::line(1), "2.3.167");
        assert_eq!(super::line(2), "built with cargo");
        assert_eq!(super::line(3), "built with cargo");
    }
}
