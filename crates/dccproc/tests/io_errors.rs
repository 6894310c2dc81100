//! Complaints about the input and the output name the `-i` and `-o`
//! files as the original does (`stdin` and `stdout` otherwise), and a
//! failed write of the output is reported as one. The mail is always
//! delivered as far as it can be, with exit code 0 after giving up.

mod common;

use common::{code, run, scratch, stderr};

const MSG: &[u8] = b"From: alice@example.com\nSubject: notes\n\nHi Bob,\n";

#[test]
fn a_read_error_names_the_input_file() {
    let h = scratch("io-in");
    let hs = h.to_string_lossy().into_owned();
    // a directory opens but cannot be read
    let out = run(&["-h", &hs, "-Q", "-i", &hs], MSG);
    assert_eq!(code(&out), 0);
    let err = stderr(&out);
    assert!(
        err.ends_with(&format!("fgets({hs}): Is a directory; fatal error\n")),
        "{err}"
    );
}

#[test]
fn write_errors_name_the_output_file() {
    if !std::path::Path::new("/dev/full").exists() {
        return;
    }
    let h = scratch("io-out");
    let hs = h.to_string_lossy().into_owned();
    // a small message fails when the output is flushed
    let out = run(&["-h", &hs, "-Q", "-o", "/dev/full"], MSG);
    assert_eq!(code(&out), 0);
    let err = stderr(&out);
    assert!(
        err.contains("fflush(/dev/full): No space left on device\n"),
        "{err}"
    );
    // a large one while it is copied: a write error, not a read error
    let mut big = b"From: alice@example.com\n\n".to_vec();
    big.extend(std::iter::repeat_n(b'a', 400_000));
    let out = run(&["-h", &hs, "-Q", "-o", "/dev/full"], &big);
    assert_eq!(code(&out), 0);
    let err = stderr(&out);
    assert!(err.contains("fwrite(scopy /dev/full, 8192)="), "{err}");
    assert!(
        err.ends_with(": No space left on device; fatal error\n"),
        "{err}"
    );
    assert!(!err.contains("spool"), "{err}");
    // -C: the table fails when the output is closed; given up, exit 0
    std::fs::write(h.join("whiteclnt"), b"many env_From alice@example.com\n").expect("whiteclnt");
    let args = ["-h", &hs, "-w", "whiteclnt", "-f", "alice@example.com"];
    let mut a = args.to_vec();
    a.extend(["-C", "-o", "/dev/full"]);
    let out = run(&a, MSG);
    assert_eq!(code(&out), 0);
    let err = stderr(&out);
    assert!(
        err.ends_with("fclose(/dev/full): No space left on device; fatal error\n"),
        "{err}"
    );
    // the same blacklisted message otherwise exits with the -x code
    let mut a = args.to_vec();
    a.extend(["-C"]);
    assert_eq!(code(&run(&a, MSG)), 67);
}
