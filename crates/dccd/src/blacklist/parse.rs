//! The `blacklist` file read as dccd 2.3.167 reads it, without I/O: the
//! bytes of the file in, its entries and the complaints about its lines
//! out.
//!
//! A line is blank, a comment (`#` to the end of the line), or leading
//! words and an address:
//!
//! ```text
//! [trace,][ok,][bad,][no-anon,][flood-ok] address
//! ```
//!
//! - The words are matched without regard to case, each followed by at
//!   least one comma, blank or tab; `no_anon`, `flod-ok`, `flod_ok` and
//!   `flood_ok` are other spellings. `ok` takes back a `bad` before it on
//!   the line; a line without `ok`, `bad` or `no-anon` is `bad`. `ok`
//!   together with `bad` or `no-anon` is complained about and the line is
//!   `ok`.
//! - The address is one IPv4 or IPv6 address, a CIDR block or a range
//!   `lo-hi`, read by [`tally_white::addr::parse_range`] (the original's
//!   `str2range`, whose complaints it words). A block larger than an IPv4
//!   /16 or an IPv6 /48 is refused ("block too large").
//! - A bad line is complained about and skipped; the other lines still
//!   count. A line that does not fit the original's line buffer (178
//!   bytes and its newline), or that does not end with a newline (the
//!   last line of a file without its final newline), is a "syntax error"
//!   and ends the reading: the lines before it count, those after it do
//!   not.
//! - Reaching 225 entries is complained about ("too many entries", the
//!   original's hash table filling up), but they are all kept.
//!
//! Every complaint names the file and the line as the original does:
//! `... in line N of FILE`.

use std::fmt;

use tally_white::addr::{parse_range, IpRange, RangeParse};

/// The size of the original's line buffer: a line and its newline must
/// take fewer bytes.
pub const LINE_BUF: usize = 180;

/// At this many entries the original complains that there are too many.
pub const MANY_ENTRIES: usize = 225;

/// The words of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Flags(u8);

impl Flags {
    /// `ok`: a hole in a blacklisted block.
    pub const OK: Flags = Flags(0x01);
    /// `bad` (or no word at all): requests are ignored.
    pub const BAD: Flags = Flags(0x02);
    /// `no-anon`: requests of anonymous and unauthenticated clients are ignored.
    pub const NO_ANON: Flags = Flags(0x04);
    /// `trace`: requests are logged.
    pub const TRACE: Flags = Flags(0x08);
    /// `flood-ok`: flooding from the address is accepted.
    pub const FLOOD_OK: Flags = Flags(0x10);

    /// No word.
    pub const fn empty() -> Flags {
        Flags(0)
    }

    /// The bits.
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// All of `f` are set.
    pub const fn has(self, f: Flags) -> bool {
        self.0 & f.0 == f.0
    }

    /// Any of `f` is set.
    pub const fn any(self, f: Flags) -> bool {
        self.0 & f.0 != 0
    }

    /// With `f` set.
    pub const fn with(self, f: Flags) -> Flags {
        Flags(self.0 | f.0)
    }

    /// With `f` cleared.
    pub const fn without(self, f: Flags) -> Flags {
        Flags(self.0 & !f.0)
    }

    /// Whether a request is ignored: always for `bad`, for `no-anon` when
    /// the client is anonymous or not authenticated.
    pub const fn black(self, unauthenticated: bool) -> bool {
        self.has(Flags::BAD) || (unauthenticated && self.has(Flags::NO_ANON))
    }

    /// Whether an incoming flood is refused: `bad` without `flood-ok` (a
    /// flooding peer is never anonymous).
    pub const fn refuses_flood(self) -> bool {
        self.has(Flags::BAD) && !self.has(Flags::FLOOD_OK)
    }

    /// Whether requests are logged.
    pub const fn trace(self) -> bool {
        self.has(Flags::TRACE)
    }
}

/// One line of the file that took.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    /// Its line number (from 1).
    pub line: usize,
    /// The addresses it covers, in IPv6 form (IPv4 as IPv4-mapped).
    pub range: IpRange,
    /// Its words, after `ok` has taken back `bad` and `no-anon`.
    pub flags: Flags,
}

/// A complaint about a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file, as named in the complaint.
    pub file: String,
    /// The line (from 1).
    pub line: usize,
    /// What is wrong, in the original's words.
    pub msg: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} in line {} of {}", self.msg, self.line, self.file)
    }
}

/// What a file holds.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// The lines that took, in the order of the file.
    pub entries: Vec<Entry>,
    /// The complaints, in the order of the file.
    pub problems: Vec<Problem>,
}

/// The leading words and what each sets.
const WORDS: [(&[u8], Flags); 9] = [
    (b"trace", Flags::TRACE),
    (b"ok", Flags::OK),
    (b"bad", Flags::BAD),
    (b"no-anon", Flags::NO_ANON),
    (b"no_anon", Flags::NO_ANON),
    (b"flod_ok", Flags::FLOOD_OK),
    (b"flod-ok", Flags::FLOOD_OK),
    (b"flood_ok", Flags::FLOOD_OK),
    (b"flood-ok", Flags::FLOOD_OK),
];

/// `word` (any case) at the start of `s` followed by at least one comma,
/// blank or tab: the rest after those.
fn take_word<'a>(s: &'a [u8], word: &[u8]) -> Option<&'a [u8]> {
    let head = s.get(..word.len())?;
    if !head.eq_ignore_ascii_case(word) {
        return None;
    }
    let rest = &s[word.len()..];
    let seps = rest
        .iter()
        .take_while(|c| matches!(c, b',' | b' ' | b'\t'))
        .count();
    (seps > 0).then(|| &rest[seps..])
}

/// Whether a range fits the original's hash buckets: within one IPv4 /16
/// (when its low end is IPv4-mapped) or one IPv6 /48.
fn small_enough(r: &IpRange) -> bool {
    let (lo, hi) = (r.lo.octets(), r.hi.octets());
    let same = if r.lo.to_ipv4_mapped().is_some() {
        14
    } else {
        6
    };
    lo[..same] == hi[..same]
}

/// Parse the bytes of a blacklist file named `file` (the name the
/// complaints give).
pub fn parse(data: &[u8], file: &str) -> Parsed {
    let mut out = Parsed::default();
    let problem = |line: usize, msg: String| Problem {
        file: file.to_string(),
        line,
        msg,
    };
    let mut rest = data;
    let mut line = 0usize;
    while !rest.is_empty() {
        line += 1;
        let (raw, ended) = match rest.iter().position(|&c| c == b'\n') {
            Some(i) => (&rest[..i], true),
            None => (rest, false),
        };
        rest = rest.get(raw.len() + 1..).unwrap_or_default();
        // a line the original's buffer cannot hold with its newline, one
        // without a newline, or one that C would cut at a NUL ends it all
        if !ended || raw.len() + 1 >= LINE_BUF || raw.contains(&0) {
            out.problems.push(problem(line, "syntax error".into()));
            break;
        }
        let text = match raw.iter().position(|&c| c == b'#') {
            Some(i) => &raw[..i],
            None => raw,
        };
        let start = text
            .iter()
            .take_while(|c| matches!(c, b' ' | b'\t' | b'\r' | b'\n'))
            .count();
        let mut cp = &text[start..];
        if cp.is_empty() {
            continue;
        }
        let mut flags = Flags::empty();
        'words: loop {
            for (word, f) in WORDS {
                if let Some(after) = take_word(cp, word) {
                    cp = after;
                    flags = if f == Flags::OK {
                        flags.without(Flags::BAD).with(Flags::OK)
                    } else {
                        flags.with(f)
                    };
                    continue 'words;
                }
            }
            break;
        }
        let verdicts = Flags::OK.with(Flags::BAD).with(Flags::NO_ANON);
        if !flags.any(verdicts) {
            flags = flags.with(Flags::BAD);
        } else if flags.has(Flags::OK) && flags.any(Flags::BAD.with(Flags::NO_ANON)) {
            out.problems.push(problem(
                line,
                "conflicting \"OK\" and \"BAD\" or \"NO-ANON\"".into(),
            ));
            flags = flags.without(Flags::BAD).without(Flags::NO_ANON);
        }
        let range = match parse_range(cp) {
            RangeParse::Range(r) => r,
            RangeParse::NotAddress => {
                out.problems.push(problem(line, "syntax error".into()));
                continue;
            }
            RangeParse::Bad(msg) => {
                out.problems.push(problem(line, msg));
                continue;
            }
        };
        if !small_enough(&range) {
            out.problems.push(problem(line, "block too large".into()));
            continue;
        }
        out.entries.push(Entry { line, range, flags });
        if out.entries.len() == MANY_ENTRIES {
            out.problems.push(problem(line, "too many entries".into()));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(text: &str) -> (Option<Entry>, Vec<String>) {
        let p = parse(text.as_bytes(), "/h/blacklist");
        let probs = p.problems.iter().map(|p| p.to_string()).collect();
        (p.entries.into_iter().next(), probs)
    }

    fn flags_of(text: &str) -> Flags {
        one(text).0.unwrap_or_else(|| panic!("{text:?}")).flags
    }

    #[test]
    fn words_and_defaults() {
        assert_eq!(flags_of("192.0.2.1\n"), Flags::BAD);
        assert_eq!(flags_of("  192.0.2.1  # a comment\n"), Flags::BAD);
        assert_eq!(flags_of("ok 192.0.2.1\n"), Flags::OK);
        assert_eq!(flags_of("OK,\t192.0.2.1\n"), Flags::OK);
        assert_eq!(flags_of("trace 192.0.2.1\n"), Flags::TRACE.with(Flags::BAD));
        assert_eq!(
            flags_of("trace,ok 192.0.2.1\n"),
            Flags::TRACE.with(Flags::OK)
        );
        assert_eq!(flags_of("no-anon 192.0.2.1\n"), Flags::NO_ANON);
        assert_eq!(flags_of("No_Anon 192.0.2.1\n"), Flags::NO_ANON);
        for w in ["flod-ok", "flod_ok", "flood-ok", "FLOOD_OK"] {
            assert_eq!(
                flags_of(&format!("{w} 192.0.2.1\n")),
                Flags::FLOOD_OK.with(Flags::BAD),
                "{w}"
            );
        }
        assert_eq!(
            flags_of("bad,flood-ok,trace 192.0.2.1\n"),
            Flags::BAD.with(Flags::FLOOD_OK).with(Flags::TRACE)
        );
        // `ok` takes back a `bad` before it; a `bad` after it conflicts
        assert_eq!(flags_of("bad ok 192.0.2.1\n"), Flags::OK);
    }

    #[test]
    fn conflicts_become_ok() {
        for l in ["ok,bad 192.0.2.1\n", "no-anon ok 192.0.2.1\n"] {
            let (e, p) = one(l);
            assert_eq!(e.unwrap().flags, Flags::OK, "{l}");
            assert_eq!(
                p,
                ["conflicting \"OK\" and \"BAD\" or \"NO-ANON\" in line 1 of /h/blacklist"]
            );
        }
    }

    #[test]
    fn addresses_blocks_and_ranges() {
        let r = one("10.1.2.0/24\n").0.unwrap().range;
        assert!(r.contains("10.1.2.200".parse().unwrap()));
        assert!(!r.contains("10.1.3.0".parse().unwrap()));
        let r = one("10.1.2.3-10.1.9.4\n").0.unwrap().range;
        assert!(r.contains("10.1.5.5".parse().unwrap()));
        let r = one("2001:db8:1::/48\n").0.unwrap().range;
        assert!(r.contains("2001:db8:1:ffff::1".parse().unwrap()));
        assert!(one("10.0.0.0/16\n").0.is_some());
        assert!(one("::ffff:10.0.0.0/112\n").0.is_some());
    }

    #[test]
    fn bad_lines_are_named_and_skipped() {
        let text = "# header\n\
                    10.0.0.0/15\n\
                    2001:db8::/47\n\
                    10.0.0.1/24\n\
                    mail.example.com\n\
                    ok\n\
                    10.0.0.9-10.0.0.1\n\
                    10.0.0.1-::1\n\
                    10.0.0.0/33\n\
                    192.0.2.7 junk\n\
                    \n\
                    192.0.2.8\n";
        let p = parse(text.as_bytes(), "/h/blacklist");
        let msgs: Vec<String> = p.problems.iter().map(|p| p.to_string()).collect();
        assert_eq!(
            msgs,
            [
                "block too large in line 2 of /h/blacklist",
                "block too large in line 3 of /h/blacklist",
                "10.0.0.1 does not start on a 24-bit CIDR boundary in line 4 of /h/blacklist",
                "syntax error in line 5 of /h/blacklist",
                "syntax error in line 6 of /h/blacklist",
                "first address after second in \"10.0.0.9-10.0.0.1\" in line 7 of /h/blacklist",
                "mixture of IPv4 and IPv6 in \"10.0.0.1-::1\" in line 8 of /h/blacklist",
                "invalid CIDR block length \"10.0.0.0/33\" in line 9 of /h/blacklist",
                "syntax error in line 10 of /h/blacklist",
            ]
        );
        assert_eq!(p.entries.len(), 1);
        assert_eq!(p.entries[0].line, 12);
    }

    #[test]
    fn long_or_unterminated_lines_end_the_reading() {
        let long = format!("192.0.2.1\n{}192.0.2.2\n192.0.2.3\n", " ".repeat(170));
        let p = parse(long.as_bytes(), "bl");
        assert_eq!(p.entries.len(), 1);
        assert_eq!(p.problems[0].to_string(), "syntax error in line 2 of bl");
        // 178 bytes and the newline still fit
        let fits = format!("{}192.0.2.2\n", " ".repeat(178 - 9));
        assert_eq!(parse(fits.as_bytes(), "bl").entries.len(), 1);
        let p = parse(b"192.0.2.1\n192.0.2.2", "bl");
        assert_eq!(p.entries.len(), 1);
        assert_eq!(p.problems[0].to_string(), "syntax error in line 2 of bl");
        let p = parse(b"192.0.2.1\0\n192.0.2.2\n", "bl");
        assert!(p.entries.is_empty());
        assert_eq!(p.problems.len(), 1);
    }

    #[test]
    fn too_many_entries_are_complained_about_once_and_kept() {
        let text: String = (0..300).map(|i| format!("10.{}.0.1\n", i % 250)).collect();
        let p = parse(text.as_bytes(), "bl");
        assert_eq!(p.entries.len(), 300);
        assert_eq!(p.problems.len(), 1);
        assert_eq!(
            p.problems[0].to_string(),
            "too many entries in line 225 of bl"
        );
    }

    #[test]
    fn decisions() {
        assert!(Flags::BAD.black(false));
        assert!(!Flags::NO_ANON.black(false));
        assert!(Flags::NO_ANON.black(true));
        assert!(!Flags::OK.black(true));
        assert!(Flags::BAD.refuses_flood());
        assert!(!Flags::BAD.with(Flags::FLOOD_OK).refuses_flood());
        assert!(!Flags::NO_ANON.refuses_flood());
    }
}
