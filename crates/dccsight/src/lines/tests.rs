use super::*;
use proptest::prelude::*;

fn sum(s: &str) -> Sum {
    tally_white::hex_sum(s.as_bytes()).expect("hex")
}

/// Every piece of `input` through one reader.
fn read(input: &[u8]) -> Result<Vec<(CkType, Sum)>, LineError> {
    let mut l = Lines::new("stdin");
    let mut out = Vec::new();
    let mut rest = input;
    while !rest.is_empty() {
        let n = piece_len(rest);
        if let Some(ck) = l.piece(&rest[..n])? {
            out.push(ck);
        }
        rest = &rest[n..];
    }
    Ok(out)
}

/// A log file's table as the original wrote it (the recorded dccm
/// scenario h1).
const RECORDED: &str = include_str!("../../tests/data/h1-table.txt");

#[test]
fn a_recorded_table_gives_its_checksums() {
    let got = read(RECORDED.as_bytes()).expect("parsed");
    let types: Vec<CkType> = got.iter().map(|c| c.0).collect();
    assert_eq!(
        types,
        [
            CkType::Ip,
            CkType::EnvFrom,
            CkType::From,
            CkType::MessageId,
            CkType::Received,
            CkType::Body,
            CkType::Fuz1,
            CkType::Fuz2,
            CkType::GreyMsg,
            CkType::GreyTriple,
        ]
    );
    assert_eq!(got[5].1, sum("e7ab4056 66b5f492 922c6974 e3be4999"));
    assert_eq!(got[9].1, sum("3e63dc0d da76f064 8704670e 45076b06"));
}

#[test]
fn headings_are_skipped_once_per_block() {
    // a second header line in the same block is a checksum line
    let e = read(b"X-DCC-x-Metrics: h 1; Body=1\nX-DCC-y-Metrics: h\n").unwrap_err();
    assert_eq!(
        e.msg,
        // the name's twelve bytes and the one that did not fit
        "checksum type \"X-DCC-y-Metri...\" too long in line 2 of stdin"
    );
    assert_eq!(e.code, EX_USAGE);
    // a blank line starts a new block
    let two = format!("{RECORDED}\n{RECORDED}");
    assert_eq!(read(two.as_bytes()).expect("parsed").len(), 20);
    // the heading alone, without the header line
    let got = read(b"reported: 0  checksum\nBody: 1 2 3 4\n").expect("parsed");
    assert_eq!(got, vec![(CkType::Body, sum("1 2 3 4"))]);
    // checksum lines do not end the block: a heading after them is skipped
    let got = read(b"Body: 1 2 3 4\nreported: 0\n").expect("parsed");
    assert_eq!(got, vec![(CkType::Body, sum("1 2 3 4"))]);
    // but not after one was
    let e = read(b"reported: 0\nreported: 1\n").unwrap_err();
    assert_eq!(
        e.msg,
        "unrecognized checksum type \"reported:\" in line 2 of stdin"
    );
}

#[test]
fn names_as_the_whiteclnt_files_spell_them() {
    let got = read(
        b"body 1 2 3 4\nFUZ1: 5 6 7 8\n9 9 a b c\nsubstitute list-id: d e f 10\nmessage.id 0x11 12 13 14\n",
    )
    .expect("parsed");
    assert_eq!(
        got,
        vec![
            (CkType::Body, sum("1 2 3 4")),
            (CkType::Fuz1, sum("5 6 7 8")),
            (CkType::Fuz2, sum("9 a b c")),
            (CkType::Sub, sum("d e f 10")),
            (CkType::MessageId, sum("11 12 13 14")),
        ]
    );
    // envelope recipients are read past, whatever follows them
    assert_eq!(read(b"env_To: anything at all\n").expect("parsed"), vec![]);
    // escapes in the name
    let got = read(b"B\\157dy 1 2 3 4\n").expect("parsed");
    assert_eq!(got, vec![(CkType::Body, sum("1 2 3 4"))]);
}

#[test]
fn complaints_name_the_line() {
    let mut l = Lines::new("/tmp/cks");
    assert_eq!(l.piece(b"\n"), Ok(None));
    let e = l.piece(b"Body: 1 2 3\n").unwrap_err();
    assert_eq!(
        e.msg,
        "unrecognized checksum value \"1 2 3\" in line 2 of /tmp/cks"
    );
    assert_eq!(e.code, EX_DATAERR);
    let e = l.piece(b"  server-ID: 1 2 3 4\n").unwrap_err();
    assert_eq!(
        e.msg,
        "unrecognized checksum type \"server-ID:\" in line 3 of /tmp/cks"
    );
    // 11 letters fit, 12 do not
    assert!(l.piece(b"message-id: 1 2 3 4\n").is_ok());
    let e = l.piece(b"message-idxx 1 2 3 4\n").unwrap_err();
    assert_eq!(
        e.msg,
        "checksum type \"message-idxx ...\" too long in line 5 of /tmp/cks"
    );
}

#[test]
fn pieces_are_those_of_a_200_byte_buffer() {
    let long = [b'a'; 450];
    assert_eq!(piece_len(&long), 199);
    assert_eq!(piece_len(b"ab\ncd"), 3);
    assert_eq!(piece_len(b"abcd"), 4);
    // a line longer than the buffer goes on as a new line
    let mut input = b"Body: 1 2 3 4".to_vec();
    input.extend(std::iter::repeat_n(b' ', 190));
    input.extend_from_slice(b"Fuz1 5 6 7 8\n");
    let got = read(&input).expect("parsed");
    assert_eq!(
        got,
        vec![
            (CkType::Body, sum("1 2 3 4")),
            (CkType::Fuz1, sum("5 6 7 8"))
        ]
    );
}

/// The types a table may hold: those subject to thresholds.
fn types() -> Vec<CkType> {
    CkType::ALL
        .iter()
        .copied()
        .filter(|&t| tally_white::names::thold_ok(t))
        .collect()
}

proptest! {
    /// Any bytes: a result or a complaint, never a panic, and pieces that
    /// cover the input.
    #[test]
    fn any_input(input in proptest::collection::vec(any::<u8>(), 0..600)) {
        let _ = read(&input);
        let mut rest = &input[..];
        let mut total = 0;
        while !rest.is_empty() {
            let n = piece_len(rest);
            prop_assert!(n > 0 && n < LINE_BUF);
            total += n;
            rest = &rest[n..];
        }
        prop_assert_eq!(total, input.len());
    }

    /// A table as dccproc -C prints it gives back its checksums.
    #[test]
    fn tables_read_back(rows in proptest::collection::vec((0..11usize, any::<[u8; 16]>(), 0u32..3000), 1..12)) {
        let mut text = String::from("X-DCC-b-Metrics: host 1200; Body=1\n");
        text.push_str(&format!("{:28}reported: 1               checksum  server\n", ""));
        let mut want = Vec::new();
        for (t, b, count) in rows {
            let all = types();
            let ty = all[t % all.len()];
            let s = Sum(b);
            let label = if ty == CkType::Sub { "substitute list-id".to_string() } else { ty.name().to_string() };
            text.push_str(&format!("{label:>25}: {:<35} {count:>7}\n", s.to_string()));
            want.push((ty, s));
        }
        prop_assert_eq!(read(text.as_bytes()).expect("parsed"), want);
    }
}
