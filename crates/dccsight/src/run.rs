//! The dccsight run: options, the DCC client, the checksum lines, the
//! whiteclnt file, the report and what is printed.

use crate::opts::{self, Fatal, Opts};
use std::io::{self, BufRead, BufReader, Write};
use std::path::Path;
use tally_ck::{CkType, Sum};
use tally_dccsight::lines::{piece_len, Lines, EX_DATAERR, LINE_BUF};
use tally_engine::ask::Decision;
use tally_engine::cks::{print_cks, MsgCks};
use tally_engine::dcc_client::{BlockingDccClient, DccClient};
use tally_engine::errno_str;
use tally_engine::home::{absolute, home_dir, hostname};
use tally_engine::server::DccServer;
use tally_engine::state::ST_RPT_SPAM;
use tally_engine::tgts::Tgts;
use tally_engine::white_verdict::white_verdict;
use tally_engine::whitefiles::load_named;

/// `EX_NOINPUT`: no map file.
const EX_NOINPUT: i32 = 66;
/// `EX_NOHOST`: no DCC server to talk to.
const EX_NOHOST: i32 = 68;

/// Where complaints go: standard error only. The original starts with its
/// system log turned off and no option turns it on (`-L` is only checked),
/// so dccsight never writes to the system log.
struct Out;

impl Out {
    /// A complaint; the run goes on.
    fn error(&self, msg: &str) {
        let mut line = tally_engine::clip_complaint(msg).into_owned().into_bytes();
        if line.is_empty() {
            line = b"(empty error message)".to_vec();
        }
        if !line.ends_with(b"\n") {
            line.push(b'\n');
        }
        write_stderr(&line);
    }

    /// A complaint that ends the run with `code`.
    fn fatal(&self, msg: &str, code: i32) -> i32 {
        let mut line = tally_engine::clip_complaint(msg).into_owned().into_bytes();
        line.extend_from_slice(b"; fatal error\n");
        write_stderr(&line);
        code
    }
}

/// Write to standard error after what is waiting for standard output, as
/// the original keeps the two in order.
fn write_stderr(b: &[u8]) {
    let _ = io::stdout().flush();
    let _ = io::stderr().write_all(b);
}

/// Run dccsight, started as `prog`, with these arguments; returns the
/// exit code.
pub fn main_run(prog: &str, args: &[String]) -> i32 {
    let out = Out;
    let (o, fatal) = opts::parse(prog, args);
    for m in &o.msgs {
        out.error(m);
    }
    if let Some(Fatal { before, msg, code }) = fatal {
        if let Some(b) = before {
            eprintln!("{b}");
        }
        return out.fatal(&msg, code);
    }
    if o.version > 0 {
        return 0;
    }
    match run(&out, o) {
        Ok(()) => 0,
        Err((msg, code)) => out.fatal(&msg, code),
    }
}

/// Targets to report (`-t`, `-Q`) and whether `-t many` called it spam.
fn targets(out: &Out, o: &mut Opts) -> (Tgts, bool) {
    match o.local_tgts.take() {
        None => (if o.query { 0 } else { 1 }, false),
        Some((_, 0, _)) => {
            o.query = true;
            (0, false)
        }
        Some((text, _, _)) if o.query => {
            out.error(&format!("\"-t {text}\" is incompatible with \"-Q\""));
            (0, false)
        }
        Some((_, n, spam)) => (n, spam),
    }
}

/// Read the pieces of the input into the message's checksum slots.
fn read_cks(input: &mut dyn BufRead, name: &str, source: &str) -> Result<MsgCks, (String, i32)> {
    let mut lines = Lines::new(source);
    let mut cks = MsgCks::new();
    let mut have_sum = false;
    let mut buf = Vec::with_capacity(LINE_BUF);
    loop {
        buf.clear();
        // a piece as fgets() with the original's buffer reads it
        loop {
            let avail = input
                .fill_buf()
                .map_err(|e| (format!("fgets({name}): {}", errno_str(&e)), EX_DATAERR))?;
            if avail.is_empty() {
                break;
            }
            let room = LINE_BUF - 1 - buf.len();
            let n = piece_len(&avail[..avail.len().min(room)]);
            buf.extend_from_slice(&avail[..n]);
            input.consume(n);
            if buf.ends_with(b"\n") || buf.len() == LINE_BUF - 1 {
                break;
            }
        }
        if buf.is_empty() {
            break;
        }
        let Some((ty, sum)) = lines.piece(&buf).map_err(|e| (e.msg, e.code))? else {
            continue;
        };
        // an empty Fuz2 (too few words) is no checksum to report
        if ty == CkType::Fuz2 && sum == Sum::default() {
            continue;
        }
        // a type seen again replaces the earlier value
        cks.set(ty, sum, true);
        have_sum = true;
    }
    if !have_sum {
        return Err(("no reportable checksums".into(), EX_DATAERR));
    }
    Ok(cks)
}

/// The whiteclnt file's verdict on the checksums (none without `-w` or
/// when the file does not exist) and its complaints.
fn white(
    out: &Out,
    home: &Path,
    o: &Opts,
    cks: &MsgCks,
) -> Option<tally_engine::ask::WhiteVerdict> {
    let built = match load_named(home, ascii_name(o.whiteclnt.as_deref()?)) {
        Ok(b) => b?,
        Err(e) => {
            out.error(&e);
            return None;
        }
    };
    let mut v = white_verdict(&built.list, cks, None);
    // The original takes the file's option switches and thresholds before
    // it has read the file (its table was just reset), so they play no part
    // in dccsight's decision; a spam trap still marks the body checksums.
    v.sws = 0;
    v.tholds_rej = [tally_engine::tgts::THOLD_UNSET; tally_engine::tholds::NUM_TYPES];
    if !built.errors.is_empty() {
        let all: Vec<String> = built.errors.iter().map(|e| e.to_string()).collect();
        v.complaint = Some(all.join("\n"));
    }
    Some(v)
}

/// The whiteclnt file a `-w` name means: the original takes a name ending
/// with the suffix of its hash table (`.dccw`) or of one being built
/// (`.dccx`) as the name of the file the table is made from.
fn ascii_name(name: &str) -> &str {
    [".dccw", ".dccx"]
        .iter()
        .find_map(|suffix| name.strip_suffix(suffix).filter(|n| !n.is_empty()))
        .unwrap_or(name)
}

fn run(out: &Out, mut o: Opts) -> Result<(), (String, i32)> {
    let cwd = std::env::current_dir().unwrap_or_else(|_| "/".into());
    let home = home_dir(o.homedir.as_deref(), &cwd, &mut |m| out.error(m));

    // the DCC client: without a map file or a working server, nothing to do
    let map = absolute(&home, o.map.as_deref().unwrap_or("map"));
    if let Err(e) = std::fs::metadata(&map) {
        return Err((
            format!("open({}): {}", map.display(), errno_str(&e)),
            EX_NOINPUT,
        ));
    }
    let client = DccClient::open(&map, &hostname()).map_err(|e| (e, EX_DATAERR))?;
    let mut server = BlockingDccClient::new(client)
        .map_err(|e| (format!("DCC client: {}", errno_str(&e)), EX_NOHOST))?;
    let ready = server.ready();
    save_map(out, &server);
    ready.map_err(|e| (e.msg, EX_NOHOST))?;

    if let Some(g) = o.grey_sum.as_deref() {
        if o.infile.is_some() {
            return Err(("-i and -G incompatible".into(), opts::EX_USAGE));
        }
        let line = crate::grey::run(&server, o.query, g);
        save_map(out, &server);
        // a failure to write is not noticed, as in the original
        let mut stdout = io::stdout().lock();
        let _ = writeln!(stdout, "{}", line?);
        let _ = stdout.flush();
        return Ok(());
    }

    // the checksums
    let mut cks = match o.infile.take() {
        Some((name, f)) => {
            let source = absolute(&cwd, &name).display().to_string();
            read_cks(&mut BufReader::new(f), &name, &source)?
        }
        None => read_cks(&mut io::stdin().lock(), "stdin", "stdin")?,
    };

    // the whiteclnt file
    let mut d = Decision::new(o.query);
    let verdict = white(out, &home, &o, &cks);
    d.ask_white(&o.tholds, verdict.as_ref().map(Ok));
    for e in std::mem::take(&mut d.errors) {
        out.error(&e);
    }

    // the DCC server
    let (local_tgts, spam) = targets(out, &mut o);
    let info = server.start().map_err(|e| (e, EX_NOHOST))?;
    let mut answered = true;
    if let Some(req) = d.dcc_request(&o.tholds, &info, &cks, spam, local_tgts) {
        let a = server.ask(&req);
        answered = a.is_ok();
        let info = server.current_info().unwrap_or(info);
        d.apply_answer(&o.tholds, !o.no_body_kludge, &info, &mut cks, a);
    }
    save_map(out, &server);
    for e in std::mem::take(&mut d.errors) {
        out.error(&e);
    }
    let mut stdout = io::stdout().lock();
    if answered {
        match d.header.as_ref() {
            Some(h) => {
                let _ = stdout.write_all(h.as_str().as_bytes());
            }
            None if o.debug > 0 => {
                let _ = stdout.write_all(if d.st & tally_engine::state::ST_WLIST_NOTSPAM != 0 {
                    b"no header; checksums are locally whitelisted".as_slice()
                } else {
                    b"no header".as_slice()
                });
            }
            None => {}
        }
    }
    if o.print_cksums {
        let table = print_cks(
            d.st & ST_RPT_SPAM != 0,
            local_tgts,
            &cks,
            Some(&d.tholds_rej),
            Some(&d.wtgts),
        );
        let _ = stdout.write_all(table.as_bytes());
    }
    // as the original's exit(), which flushes and ignores a failure
    let _ = stdout.flush();
    Ok(())
}

/// Keep what was learnt about the servers (RTTs, failures) for the next run.
fn save_map(out: &Out, server: &BlockingDccClient) {
    if let Err(e) = server.inner().save_map() {
        out.error(&e);
    }
}
