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

fn main() {
    let args: Vec<String> = std::env::args_os()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let code = run::main_run(&args);
    std::process::exit(code);
}

/// SIGHUP, SIGINT and SIGTERM end dccproc with the exit code the
/// original gives, `exit(-sig)` (so 241 for SIGTERM), rather than by the
/// signal; a file too big for the size limit is a write error, not death.
pub fn catch_signals() {
    extern "C" fn stop(sig: libc::c_int) {
        // SAFETY: _exit is async-signal-safe; nothing else is touched.
        unsafe { libc::_exit((-sig) & 0xff) }
    }
    let handler = stop as extern "C" fn(libc::c_int) as libc::sighandler_t;
    for sig in [libc::SIGHUP, libc::SIGTERM, libc::SIGINT] {
        // SAFETY: the handler only calls the async-signal-safe _exit.
        unsafe { libc::signal(sig, handler) };
    }
    // SAFETY: ignoring a signal installs no code of ours.
    unsafe { libc::signal(libc::SIGXFSZ, libc::SIG_IGN) };
}
