//! The whiteclnt line parser.
//!
//! Each line is blank, a comment (`#` after optional blanks), or one of
//! - `include pathname` (only in the main file; quotes or `<>` around the
//!   name are removed),
//! - `option setting` (see [`crate::options`]),
//! - `count [hex] type value`, where count is a number or `ok`, `ok2`,
//!   `many`, `mx`, `mxdcc`, `submit`. A line starting with white space has
//!   no count and continues the count of the line before it.
//!
//! A bad line is reported and skipped; the rest of the file is still used,
//! as in the original. Trailing blanks are ignored, a missing final newline
//! is fine, a line of [`MAX_LINE`] bytes or more ends the file.

use crate::addr::{parse_range, IpRange, RangeParse};
use crate::cnum::scan_hex8;
use crate::error::{Loc, WhiteError};
use crate::names::whiteclnt_type;
use crate::options::{apply_option, recheck_option, Switches, Thresholds};
use crate::tgts::Tgts;
use crate::{MAX_INCLUDES, MAX_LINE, MAX_PATH};
use tally_ck::simple::str_sum;
use tally_ck::{CkType, Sum};

/// Global (`/var/dcc/whiteclnt`, dccproc -w) or per-user (`userdirs/.../whiteclnt`)
/// file. Per-user files may not name hosts or MX/MXDCC/SUBMIT relays.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug)]
pub enum FileKind {
    Global,
    PerUser,
}

/// Reads the files named by `include` lines. The caller decides where a
/// relative name points (the original: relative to the DCC home directory).
pub trait Includes {
    /// The contents of the file, or the system's error text (for example
    /// `No such file or directory`).
    fn read_include(&mut self, name: &str) -> Result<Vec<u8>, String>;

    /// As [`Includes::read_include`], telling a file that could not be
    /// opened from one that opened but could not be read (a directory).
    /// The default takes every failure for one to open.
    fn open_include(&mut self, name: &str) -> Result<Vec<u8>, IncludeFailure> {
        self.read_include(name).map_err(IncludeFailure::Open)
    }
}

/// Why an included file could not be used: the system's error text.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IncludeFailure {
    /// It could not be opened: `"include NAME": TEXT in line N of FILE`.
    Open(String),
    /// It opened but reading failed. As in the original, it still takes
    /// one of the [`MAX_INCLUDES`] places, and the complaint is
    /// `read(NAME, 1024): TEXT`, without a line.
    Read(String),
}

/// An [`Includes`] with no files at all.
pub struct NoIncludes;

impl Includes for NoIncludes {
    fn read_include(&mut self, _name: &str) -> Result<Vec<u8>, String> {
        Err("No such file or directory".to_string())
    }
}

/// An included file as its `include` line named it.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct IncludeFile {
    /// The name after `include`, without quotes.
    pub name: String,
    /// Whether it could be read.
    pub read: bool,
}

/// Which file a line is in: 0 the main file, n the n-th included file.
pub type Source = u8;

/// The value of one entry line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum ItemValue {
    /// A checksum: from a string, a substitute header, or hex.
    Sum(CkType, Sum),
    /// An IP address, `lo-hi` range or CIDR block.
    Range(IpRange),
    /// A host name of an `ip` line, to be resolved by the caller.
    Host(String),
}

/// One entry line.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Item {
    pub tgts: Tgts,
    pub value: ItemValue,
    pub loc: Loc,
    pub source: Source,
}

/// An `option` line, kept for the second pass of [`ParsedFile::build`].
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OptionLine {
    /// The words after `option`.
    pub text: Vec<u8>,
    pub loc: Loc,
    /// How many entry lines came before it (its place among
    /// [`ParsedFile::items`], so the second pass keeps file order).
    pub items_before: usize,
}

impl OptionLine {
    /// The line checked against the settings of the whole file (see
    /// [`crate::options`]): the complaint of the original's second pass.
    pub(crate) fn recheck(&self, all: Switches) -> Option<WhiteError> {
        recheck_option(&self.text, all)
            .err()
            .map(|msg| WhiteError::at(&self.loc, &msg))
    }
}

/// A parsed main file with its included files, before host names are
/// resolved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedFile {
    pub kind: FileKind,
    /// The main file's name as used in messages.
    pub name: String,
    /// Included files, in order (source n is `includes[n-1]`).
    pub includes: Vec<IncludeFile>,
    /// Entry lines in file order (included lines where they are included).
    pub items: Vec<Item>,
    /// The `option` lines in file order.
    pub options: Vec<OptionLine>,
    /// The `option` settings.
    pub switches: Switches,
    /// `option threshold` settings.
    pub thresholds: Thresholds,
    /// Every problem found, in file order.
    pub errors: Vec<WhiteError>,
}

impl ParsedFile {
    /// The distinct host names of `ip` lines, for the caller to resolve.
    pub fn host_names(&self) -> Vec<&str> {
        let mut out: Vec<&str> = Vec::new();
        for it in &self.items {
            if let ItemValue::Host(h) = &it.value {
                if !out.contains(&h.as_str()) {
                    out.push(h);
                }
            }
        }
        out
    }
}

const WS: &[u8] = b" \t\n\r";

fn is_ws(c: u8) -> bool {
    WS.contains(&c)
}

fn skip_ws(s: &[u8]) -> &[u8] {
    &s[s.iter().take_while(|&&c| is_ws(c)).count()..]
}

/// Split off the first word; the rest starts after the white space.
fn split_word(s: &[u8]) -> (&[u8], &[u8]) {
    let end = s.iter().position(|&c| is_ws(c)).unwrap_or(s.len());
    (&s[..end], skip_ws(&s[end..]))
}

/// `word` (any case) followed by white space: the text after the space.
fn word_then_space<'a>(s: &'a [u8], word: &[u8]) -> Option<&'a [u8]> {
    let head = s.get(..word.len())?;
    if !head.eq_ignore_ascii_case(word) {
        return None;
    }
    let rest = &s[word.len()..];
    let rest2 = skip_ws(rest);
    (rest2.len() < rest.len()).then_some(rest2)
}

fn lossy(s: &[u8]) -> String {
    String::from_utf8_lossy(s).into_owned()
}

struct Parser<'a> {
    out: ParsedFile,
    inc: &'a mut dyn Includes,
    /// Count for continuation lines; `None` after an error, an option or
    /// an include.
    tgts: Option<Tgts>,
}

/// Parse a whiteclnt file. `name` is used in messages; included files are
/// read through `inc`.
pub fn parse_file(name: &str, text: &[u8], kind: FileKind, inc: &mut dyn Includes) -> ParsedFile {
    let mut p = Parser {
        out: ParsedFile {
            kind,
            name: name.to_string(),
            includes: Vec::new(),
            items: Vec::new(),
            options: Vec::new(),
            switches: Switches::default(),
            thresholds: Thresholds::default(),
            errors: Vec::new(),
        },
        inc,
        tgts: None,
    };
    p.file(text, 0);
    p.out
}

impl Parser<'_> {
    fn loc(&self, source: Source, line: u32) -> Loc {
        if source == 0 {
            Loc {
                file: self.out.name.clone(),
                line,
                included_in: None,
            }
        } else {
            let file = self
                .out
                .includes
                .get(usize::from(source) - 1)
                .map(|i| i.name.clone());
            Loc {
                file: file.unwrap_or_default(),
                line,
                included_in: Some(self.out.name.clone()),
            }
        }
    }

    fn err(&mut self, loc: &Loc, template: &str) {
        self.out.errors.push(WhiteError::at(loc, template));
    }

    fn file(&mut self, text: &[u8], source: Source) {
        let mut line_no: u32 = 0;
        let mut rest = text;
        while !rest.is_empty() {
            line_no = line_no.saturating_add(1);
            let (line, next) = match rest.iter().position(|&c| c == b'\n') {
                Some(n) => (&rest[..n], &rest[n + 1..]),
                None => (rest, &rest[rest.len()..]),
            };
            if line.len() >= MAX_LINE {
                let loc = self.loc(source, line_no);
                self.err(&loc, "line too long");
                return;
            }
            rest = next;
            self.line(line, source, line_no);
        }
    }

    fn line(&mut self, raw: &[u8], source: Source, line_no: u32) {
        // trailing blanks go, but never the first byte; a NUL ends the line
        let mut end = raw.len();
        while end > 1 && matches!(raw[end - 1], b' ' | b'\t' | b'\r') {
            end -= 1;
        }
        let mut line = &raw[..end];
        if let Some(nul) = line.iter().position(|&c| c == 0) {
            line = &line[..nul];
        }
        let body = skip_ws(line);
        if body.is_empty() || body[0] == b'#' {
            return;
        }
        let loc = self.loc(source, line_no);

        if let Some(name) = word_then_space(body, b"include") {
            self.tgts = None;
            self.include(name, source, &loc);
            self.tgts = None;
            return;
        }
        if let Some(opt) = word_then_space(body, b"option") {
            self.tgts = None;
            if let Err(msg) = apply_option(opt, &mut self.out.switches, &mut self.out.thresholds) {
                self.err(&loc, &msg);
            }
            self.out.options.push(OptionLine {
                text: opt.to_vec(),
                loc,
                items_before: self.out.items.len(),
            });
            return;
        }

        let continued = body.len() < line.len();
        let (count, after) = if continued {
            (&b""[..], body)
        } else {
            let (c, a) = split_word(body);
            if a.is_empty() && c.len() == body.len() {
                self.err(&loc, &format!("missing type in \"{}\"%L", lossy(body)));
                return;
            }
            (c, a)
        };
        let (mut type_nm, mut value) = split_word(after);
        let hex = type_nm.eq_ignore_ascii_case(b"hex");
        if hex {
            (type_nm, value) = split_word(value);
        }
        if !count.is_empty() {
            self.tgts = Tgts::parse_count(count);
        }
        let tgts = match self.tgts {
            Some(t) if t != Tgts(0) => t,
            _ => {
                self.tgts = None;
                self.err(
                    &loc,
                    &format!("missing or invalid # of targets \"{}\"%L", lossy(count)),
                );
                return;
            }
        };
        if value.is_empty() {
            self.tgts = None;
            self.err(&loc, "missing value");
            return;
        }
        let ty = whiteclnt_type(type_nm);
        if matches!(tgts, Tgts::MX | Tgts::MXDCC | Tgts::SUBMIT) {
            if ty != Some(CkType::Ip) {
                self.tgts = None;
                let what = if tgts == Tgts::SUBMIT {
                    "client"
                } else {
                    "MX server"
                };
                self.err(&loc, &format!("{what} must be an IP address"));
                return;
            }
            if self.out.kind == FileKind::PerUser {
                self.tgts = None;
                self.err(&loc, &format!("{tgts} illegal in per-user whitelist"));
                return;
            }
        }
        let parsed = if hex {
            hex_value(type_nm, ty, value).map_err(BadValue::Line)
        } else {
            string_value(type_nm, ty, value, self.out.kind)
        };
        match parsed {
            Ok(value) => self.out.items.push(Item {
                tgts,
                value,
                loc,
                source,
            }),
            Err(BadValue::Line(msg)) => self.err(&loc, &msg),
            // the original names only the file holding the line here, not
            // the file that included it
            Err(BadValue::Block(msg)) => {
                let text = format!("{msg} in line {} of {}", loc.line, loc.file);
                self.out.errors.push(WhiteError::plain(&loc, text));
            }
        }
    }

    fn include(&mut self, name: &[u8], source: Source, loc: &Loc) {
        if source != 0 {
            self.err(loc, "nested \"include\" not allowed");
            return;
        }
        let mut name = name;
        if name.len() > 1
            && ((name[0] == b'"' && name[name.len() - 1] == b'"')
                || (name[0] == b'<' && name[name.len() - 1] == b'>'))
        {
            name = &name[1..name.len() - 1];
        }
        if name.is_empty() {
            self.err(loc, "missing file name");
            return;
        }
        if name.len() >= MAX_PATH {
            let head = lossy(&name[..32]);
            self.err(loc, &format!("file name too long in \"include {head}...\""));
            return;
        }
        if self.out.includes.len() >= MAX_INCLUDES {
            self.err(loc, "too many \"include\" files");
            return;
        }
        let name = lossy(name);
        match self.inc.open_include(&name) {
            Err(IncludeFailure::Open(e)) => self.err(loc, &format!("\"include {name}\": {e}")),
            Err(IncludeFailure::Read(e)) => {
                // the original's read buffer is 1024 bytes
                let text = format!("read({name}, {MAX_LINE}): {e}");
                self.out.errors.push(WhiteError::plain(loc, text));
                self.out.includes.push(IncludeFile { name, read: false });
            }
            Ok(text) => {
                self.out.includes.push(IncludeFile { name, read: true });
                let n = self.out.includes.len();
                self.file(&text, u8::try_from(n).unwrap_or(u8::MAX));
            }
        }
    }
}

/// Why the value of an entry was refused.
enum BadValue {
    /// Told with the line's place, as every complaint about a line.
    Line(String),
    /// A bad address block, whose place names only the file holding the
    /// line (`str2range` words it with the bare file name).
    Block(String),
}

/// The value of a `count type value` line without `hex`.
fn string_value(
    type_nm: &[u8],
    ty: Option<CkType>,
    value: &[u8],
    kind: FileKind,
) -> Result<ItemValue, BadValue> {
    match ty {
        Some(CkType::Ip) => match parse_range(value) {
            RangeParse::Range(r) => Ok(ItemValue::Range(r)),
            RangeParse::Bad(msg) => Err(BadValue::Block(msg)),
            RangeParse::NotAddress if kind == FileKind::PerUser => Err(BadValue::Line(
                "host name checksum illegal in per-user whitelist".to_string(),
            )),
            RangeParse::NotAddress => Ok(ItemValue::Host(lossy(value))),
        },
        Some(
            t @ (CkType::EnvFrom
            | CkType::From
            | CkType::MessageId
            | CkType::Received
            | CkType::EnvTo),
        ) => Ok(ItemValue::Sum(t, str_sum(None, value))),
        Some(CkType::Sub) => substitute(value).map_err(BadValue::Line),
        _ => Err(BadValue::Line(format!(
            "unrecognized checksum type \"{}\"",
            lossy(type_nm)
        ))),
    }
}

/// `substitute header value`: the lower-case header name (ended by white
/// space or a colon) is hashed in front of the value.
fn substitute(value: &[u8]) -> Result<ItemValue, String> {
    let s = skip_ws(value);
    let mut name = Vec::new();
    let mut i = 0;
    while let Some(&c) = s.get(i) {
        i += 1;
        if c == b':' || is_ws(c) {
            break;
        }
        name.push(c.to_ascii_lowercase());
        if name.len() >= 80 {
            // the original's text, with its leading blank and spelling
            return Err(format!(
                " imposible substitute header name in \"{}\"",
                lossy(s)
            ));
        }
    }
    let rest = skip_ws(s.get(i..).unwrap_or_default());
    if rest.is_empty() || name.is_empty() {
        return Err(format!(
            " substitute header name absent in \"{}\"",
            lossy(s)
        ));
    }
    Ok(ItemValue::Sum(CkType::Sub, str_sum(Some(&name), rest)))
}

/// `hex type xxxxxxxx xxxxxxxx xxxxxxxx xxxxxxxx` (for `substitute`, a
/// header name may come before the words and is ignored).
fn hex_value(type_nm: &[u8], ty: Option<CkType>, value: &[u8]) -> Result<ItemValue, String> {
    hex_ck(type_nm, ty, value).map(|(t, s)| ItemValue::Sum(t, s))
}

/// A checksum written in hex after its type, as in `hex` whiteclnt lines
/// and in the checksum tables of `dccproc -C` that `dccsight` reads: four
/// words of up to eight hex digits (what follows them is ignored; for
/// `substitute` a header name may come first), or a server-ID
/// declaration (`simple at N`, `ignore at N`, `rogue at N`). `ty` is the
/// type `type_nm` names, if any. The complaint is worded as the
/// original's, without a place.
pub fn hex_ck(type_nm: &[u8], ty: Option<CkType>, value: &[u8]) -> Result<(CkType, Sum), String> {
    let Some(ty) = ty else {
        return Err(format!("unrecognized checksum type \"{}\"", lossy(type_nm)));
    };
    let sum = hex_sum(value).or_else(|| {
        if ty != CkType::Sub {
            return None;
        }
        let (_, rest) = split_word(skip_ws(value));
        hex_sum(rest)
    });
    match sum {
        Some(s) => Ok((ty, s)),
        None => match server_id_decl(value) {
            Some(id) => {
                let mut b = [0u8; 16];
                b[0] = CkType::SrvrId.number();
                b[1..3].copy_from_slice(&(id as u16).to_be_bytes());
                Ok((ty, Sum(b)))
            }
            None => Err(format!("unrecognized checksum value \"{}\"", lossy(value))),
        },
    }
}

/// Four words of up to eight hex digits each at the start of `s` (blanks
/// before each, anything after the fourth), as `sscanf` with `%8x %8x %8x
/// %8x` reads them: the checksum with the first word in its first bytes.
pub fn hex_sum(s: &[u8]) -> Option<Sum> {
    let w = scan_words(s)?;
    let mut b = [0u8; 16];
    for (i, word) in w.iter().enumerate() {
        b[4 * i..4 * i + 4].copy_from_slice(&word.to_be_bytes());
    }
    Some(Sum(b))
}

/// `simple at N`, `ignore at N` or `rogue at N`: a server-ID declaration
/// in the form the server's whitelist uses, kept as the original keeps it.
fn server_id_decl<'a>(value: &'a [u8]) -> Option<i64> {
    let rest = [&b"simple"[..], b"ignore", b"rogue"]
        .iter()
        .find_map(|w| value.strip_prefix(*w))?;
    // `sscanf` blanks: any of the C library's white space
    let c_ws = |s: &'a [u8]| -> &'a [u8] {
        &s[s.iter()
            .take_while(|c| b" \t\n\r\x0b\x0c".contains(c))
            .count()..]
    };
    let rest = c_ws(rest).strip_prefix(b"at")?;
    let rest = c_ws(rest);
    let (neg, digits) = match rest.first() {
        Some(b'-') => (true, &rest[1..]),
        Some(b'+') => (false, &rest[1..]),
        _ => (false, rest),
    };
    let n = digits.iter().take_while(|c| c.is_ascii_digit()).count();
    if n == 0 {
        return None;
    }
    // as `strtol` behind `%d`: out of range saturates at LONG_MIN or
    // LONG_MAX (the caller keeps the low bits, as the C `int` does)
    let mut v: i128 = 0;
    for &d in &digits[..n] {
        v = (v * 10 + i128::from(d - b'0')).min(i128::from(i64::MAX) + 1);
    }
    let v = if neg { -v } else { v };
    Some(v.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64)
}

fn scan_words(s: &[u8]) -> Option<[u32; 4]> {
    let mut out = [0u32; 4];
    let mut pos = 0;
    for w in out.iter_mut() {
        let (v, n) = scan_hex8(&s[pos..])?;
        *w = v;
        pos += n;
    }
    Some(out)
}
