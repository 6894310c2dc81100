//! Performance figures of tally, printed as a table.
//!
//! - checksum engine throughput (MB/s, one core) on a generated 20 MB plain-text
//!   message and a generated 20 MB HTML message, fed in 64 KiB pieces;
//! - messages per second over the test corpus (`testdata/corpus`).
//!
//! The generated messages are deterministic, so figures are comparable between runs.
//!
//! Usage: `tally-bench [--mb N] [--runs N] [--no-corpus] [--only plain|html|corpus]
//! [--rounds N] [--original PATH]`: the size of the generated messages in MB
//! (default 20), the runs of which the best is taken (default 3), whether
//! to skip the corpus, one part alone, the passes over the corpus per run
//! (default 20), and the original DCC's `dccproc` to compare with. A
//! small size, one run and one part suit an instruction profile
//! (`valgrind --tool=callgrind --toggle-collect='tally_bench::checksum'`).
//!
//! The output starts with the machine's description (CPU model, logical
//! CPUs online and those the bench may run on, kernel release, load
//! average at the start, build profile; see `machine.rs`).
//!
//! With `--original PATH` (or `TALLY_BENCH_ORIGINAL=PATH`; the option
//! wins) the same run also measures the original's `dccproc` at PATH and
//! tally's `dccproc` (next to this program) through the same door: each
//! run as a process on the same message file with `-C -Q` against tally's
//! `dccd` on loopback, best of `--runs` alternated runs, process wall
//! time with nothing subtracted (see `original.rs`: the original's map
//! file is made by the `cdcc` next to PATH). The table then gives the
//! in-process engine's MB/s, both `dccproc`s' MB/s and the ratio of the
//! two `dccproc` figures; for the corpus, where starting a process per
//! message dominates, messages per second of one process per message
//! over its first 200 messages and their ratio. Without it the figures
//! are absolute, and a line recalls the original's figures recorded in
//! issue 13 on the development machine (not measured in that run).
//! Passing tally's own `dccproc` as the original checks the mechanism (a
//! ratio near 1; `tests/original.rs`).
//!
//! The machine these were measured on is shared with fuzzing and builds, so
//! wall-clock figures vary by up to a third from run to run; compare builds
//! by alternating them and keeping the best, or by instruction counts.
//!
//! Figures (x86-64, 2 shared cores, best of alternated runs of `--runs 5`;
//! instructions of the checksum calls of `--mb 2 --only plain|html` and of
//! one pass over the corpus, from `callgrind`):
//!
//! | | before issue 13 | issue 13, first round | second round | third round |
//! | --- | --- | --- | --- | --- |
//! | 20 MB plain text | 235 MB/s | 267 MB/s | about 300 MB/s | about 330 MB/s |
//! | 20 MB HTML | 230 MB/s | 264 MB/s | about 330 MB/s | about 350 MB/s |
//! | corpus (1228 messages, 7.7 MB) | 26,800 msgs/s, 168 MB/s | 35,000 msgs/s, 220 MB/s | about 38,000 msgs/s | about 38,000 msgs/s |
//! | instructions, 2 MB plain / HTML | 111M / 113M | 116M / 110M | 98.9M / 85.1M | 97.9M / 81.1M |
//! | instructions, corpus | 864M | 503M | 479M | 457M |
//!
//! The last two columns could not be measured on a quiet machine: they
//! are the first round's figures times the gains measured while other
//! builds ran, as CPU time (`perf stat -e task-clock`) of alternated runs
//! of the two builds with the generation of the messages subtracted, and
//! as the benchmark's own best of alternated runs. Second round against
//! the first: plain text 1.06 to 1.15 times as fast (mostly 1.13), HTML
//! 1.24 to 1.27, the corpus 1.03 to 1.13 (mostly 1.08). Third round
//! against the second: plain text 1.09 (CPU time) to 1.13 (best of 6 runs),
//! HTML 1.04 to 1.07, the corpus 1.00 to 1.01. The original DCC ran at
//! about 73 MB/s (plain) and 92 MB/s (HTML) on this machine, so tally is
//! then about 4.5 times as fast on plain text and 3.8 times on HTML (the
//! four-lane MD5 came later: see the end of this text).
//!
//! Instruction counts are a poor guide to this last step: MD5 took 10 %
//! fewer instructions (each step's constant and message word added as one
//! precomputed sum) but little less time, a lone MD5 stream waiting on its
//! chain of dependent operations; Fuz2 hashing each word for every allowed
//! language (advancing by zero bytes where a list lacks it) takes more
//! instructions than branching on which lists hold the word, but much less
//! time, that branch being mispredicted on most texts. The second round's
//! figures without AVX2 (the kernels switched off by hand) were 114.8M /
//! 108.2M and 530M instructions, the CPU time still below the first
//! round's (plain 1.02, HTML 1.10, corpus 1.05 times as fast); not
//! measured again.
//!
//! The ratio to the original, measured in one run: the original is not on
//! the machine, but the build it was measured against when issue 13 was
//! filed is (3.2 times as fast as the original on plain text, 2.5 times on
//! HTML, on that day). `scripts/bench-before.sh engine 5` builds it and
//! alternates it with this tree on CPU 1; this tree's ratio to it, times
//! those two, is this tree's ratio to the original whatever the machine's
//! speed that day. Five rounds on a quiet machine (2026-12-07): plain
//! text 294-299 against 201-204 MB/s (1.47, so about 4.7 times the
//! original), HTML 312-314 against 205-206 MB/s (1.52, about 3.8 times),
//! the corpus 39,100-42,400 against 23,400-24,200 messages/s (1.75; the
//! original's corpus figure was not recorded). With the four-lane MD5
//! (2026-12-08, three rounds): 1.66, 1.62 and 1.84, so about 5.3 and 4.0
//! times the original (see the end of this text).
//!
//! Where the time went before the four-lane MD5 (`perf record`, 20 MB HTML, the generation of
//! the message left out): the Fuz2 scanner about half (its 64-byte
//! classification 6 %), MD5 about 38 % (Body hashes almost twice the bytes
//! of the Fuz2 streams, so a third of its blocks are compressed alone; as
//! MD5 is sequential within a stream, Body's own chain of blocks bounds
//! the MD5 time however the blocks are paired), the Body byte filter 8 %;
//! see the `body` module of `tally-ck` for what each fast path does.
//!
//! On the quiet machine (nothing else running, bench on CPU 1, three and
//! four runs of `--runs 5`): plain text 302-330 MB/s, HTML 309-355 MB/s,
//! the corpus 34,600-37,500 msgs/s; the spread is the virtual machine's.
//! After the work on the cost per message (the MD5 streams' buffers kept
//! for the next message, the header checksums on the engine's own MD5 two
//! at a time, line ends and NULs looked for eight bytes at a time; see
//! `md5x`, `md5_many` and `scan` in `tally-ck`), three runs: plain text
//! 328-339 MB/s, HTML 344-356 MB/s, the corpus 43,700-44,200 msgs/s.
//! After the work on the decoders and Fuz1 (base64 up to eight quanta at
//! once and Fuz1's letters 32 bytes at a time with AVX2, quoted-printable's
//! runs without `=` copied at once; callgrind: 373.6M -> 317.1M
//! instructions per corpus pass), three alternated runs against the build
//! before: the corpus 42,962-44,431 -> 47,290-47,661 msgs/s, plain text
//! 323-338 -> 331-340 MB/s and HTML 344-361 -> 348-353 MB/s (unchanged
//! within noise). In the corpus run Fuz2 is then about 30 % of the time,
//! MD5 about 24 %, Fuz1 about 11 % (its kernel 4 %), the decoders 5 %.
//!
//! Tried and dropped (same set-up, best of alternated runs against the
//! build before; so that nobody tries them again without a new idea):
//!
//! - Hiding Body's MD5 chain behind the Fuz2 scanner: pending blocks of
//!   Body (paired with a Fuz2 block when one was full) compressed between
//!   pieces of the scan instead of in bursts of 8 KiB. A whole block at
//!   each new 64-byte window: plain text 1.06, HTML 0.96-0.99 times as
//!   fast (and the buffers had to grow to 32 KiB, which costs short
//!   messages their zeroing); one round of 16 steps every 1, 2, 4 or 8
//!   words, the state kept in the hub: 0.92-0.98. The scanner's
//!   mispredicted branches and a full scheduler, not idle units, are what
//!   the two share.
//! - AVX-512 kernels (BW, VBMI2) for Body's byte filter (one `vpcompressb`
//!   per 64 bytes) and the Fuz2 classes: 0.98-1.01. The filter is the
//!   first pass over each piece of a message that is not in the cache, so
//!   its time is memory's; the classes went from 4 % to 2 % of the time,
//!   below what runs on this machine can show.
//! - Upper bounds, by removing work (wrong sums, timing only): without
//!   the Fuz2 MD5 streams 1.05 times as fast, without the word-list
//!   lookups 1.07: what is left to gain there is a few per cent each.
//! - Body's lone blocks compressed inside Body's byte filter (one block
//!   every four groups of 32 bytes, only blocks beyond those the other
//!   streams hold, so that these keep their partners): four alternated
//!   runs, plain text 0.88-0.99, HTML 0.89-1.01 times as fast. On HTML as
//!   many blocks went alone as before (129,000 per 20 MB) and the filter's
//!   work did not hide behind their chain; on plain text more went alone
//!   (105,000 instead of 63,000), the Fuz2 streams filling later than the
//!   rule expected.
//! - MD5 in the four 32-bit lanes of a 128-bit register with AVX-512 F
//!   and VL (81 ns for one block of each of four streams, against 73 ns
//!   for one block alone in general registers; 0.94 times as fast). Taken
//!   up again later and kept (see below and `md5x::x4` in `tally-ck`):
//!   the compiler had re-associated each step's constant onto the chain,
//!   five operations a step instead of four.
//! - With the four-lane MD5: Body's rounds taken a quarter (16 steps) at
//!   a time, one quarter per Fuz2 word, Body and Fuz2 fed the text by
//!   turns in pieces of 2 KiB so that Body's blocks wait for the scanner,
//!   the round's state and step sums kept in the hub between quarters.
//!   HTML 0.91-0.92, plain text 0.98 times as fast: the quarters' time
//!   was not hidden behind the scanner's, and choosing each round's
//!   streams and scheduling its sums cost a tenth of the time besides.
//!   (As an upper bound, 16 steps of dummy work per word on top of the
//!   usual work cost about half their time alone.)
//! - The third round's `b ^ c ^ d` written as `b ^ (c ^ d)`, also with
//!   `c ^ d` hidden from the compiler, so that no step of the round waits
//!   on two operations (the compiler shares `b ^ c` between steps): 73-74
//!   ns per block alone before and after.
//! - Fuz2's word counts of all languages packed in two integers (one
//!   table entry per set of languages added per word), each language's
//!   letters read from the length of its MD5 stream, and a copy of the
//!   scanner per set of allowed languages (a const generic): more
//!   instructions, not fewer (2 MB HTML 81.1M -> 83.4M, plain 97.9M ->
//!   98.0M), the tag path no longer inlined.
//! - Fuz2 branching once per word on whether its lists hold it for no
//!   language or one (then one stream pushed, or none) before the
//!   branch-free push to every allowed language: four alternated runs,
//!   plain text 0.86-0.90, HTML 0.96-0.98 times as fast. The mix of
//!   words in none, one or several lists is as unpredictable as which.
//! - Upper bound for HTML tags: with each tag replaced by a bare search
//!   for its `>` (wrong sums, timing only), HTML was 1.02-1.06 times as
//!   fast; the tags' 155 instructions each are not where HTML's time is.
//! - Software prefetch in Body's byte filter, 512, 1024 or 2048 bytes
//!   ahead of each group of 32: medians of ten alternated runs, HTML and
//!   plain text 0.99-1.02 times as fast. The hardware already streams the
//!   message in.
//! - Words of one or two letters looked up and then counted for no
//!   language (a mask from the length) instead of a branch on the length:
//!   HTML 0.99, plain text 0.97 times as fast.
//! - Measured again in a later round, the hiding of Body's lone blocks
//!   behind the scanner (a block at each new window, or a quarter of a
//!   block twice per window, the buffers at 32 KiB): medians of fifteen
//!   alternated runs of the HTML message 1.01 and 0.98 times as fast.
//! - Fuz2's whole words taken from each 64-byte window's masks by bit
//!   operations (the stretch of words ended by white space found at once,
//!   then only the words of 3 or more letters visited, no branch per word
//!   on what follows it or on its length): plain text 1.01 times as fast,
//!   HTML 0.93 (medians of four alternated runs). In HTML the fast path
//!   is entered about once per two words (every tag and reference leaves
//!   it), so the bit operations are paid for short stretches, and the
//!   exit, mispredicted as often as before, is known only after them.
//! - A tag's name measured on 16 bytes at once (letters and digits, `/`
//!   or `!` first, `-` second or third, as bit masks) instead of a loop
//!   per byte: HTML 0.97 times as fast (medians of five). The loop's
//!   branches follow the tags, which the predictor learns; the byte after
//!   the name was then known later.
//! - The whole program compiled for AVX2, BMI1, BMI2, POPCNT and LZCNT
//!   (so that the classes kernel is inlined into the scanner and every
//!   bit count is one instruction), or for the machine's own processor:
//!   HTML 0.99 and 0.985 times as fast (medians of four). Compiling the
//!   scanner twice, for these features and without, would not pay.
//! - Fat LTO with one codegen unit (`CARGO_PROFILE_RELEASE_LTO=fat`,
//!   `CARGO_PROFILE_RELEASE_CODEGEN_UNITS=1`): six alternated runs, plain
//!   text and HTML within 2 % of the default profile both ways. The hot
//!   code is in one crate and already inlined there.
//!
//! What is left is mostly mispredicted branches, not memory: fed the same
//! 64 KiB piece of the message over and over (so that the branch
//! predictor learns it), the 20 MB HTML message went 1.16-1.21 times as
//! fast and plain text 1.10-1.13; fed four different pieces in turn (256
//! KiB, all in the core's 2 MiB cache, too much to learn) HTML 1.07-1.11
//! and plain text 1.00-1.06, 24 or 100 pieces 0.98-1.03. Cachegrind's branch
//! simulation of 2 MB of HTML (a simple predictor, so only a ranking)
//! puts a quarter of the scanner's mispredictions where a word ends in
//! something other than white space (a tag or a reference follows; the
//! general path takes over), a ninth at the start of a new 64-byte window
//! of classes, and most of the rest in the general path and the tags.
//!
//! MD5 alone is at its bound: in general registers a step of the first
//! and last rounds waits on five dependent operations (and, xor or or,
//! add, rotate, add), one of the middle rounds on four, 288 cycles a
//! block; a chain of dependent additions ran at about 4.0 GHz on this
//! machine then, so 71 ns a block, and a lone block took 73 ns. Body's
//! chain of blocks, one after the other, was therefore about a third of
//! the HTML message's time whatever the rest did.
//!
//! With AVX-512 F and VL (`md5x::x4` in `tally-ck`) a step waits on four
//! operations (the round function one `vpternlogd`, the rotation one
//! `vprold`), 256 cycles a block, and four streams share each call: on
//! 2026-12-08 (a chain of additions at about 3.55 GHz) a block of each of
//! four streams took 74 ns, against 82 ns for one block alone in general
//! registers. Body never waits for a partner: on the 20 MB HTML message
//! the calls (279,040) equal Body's blocks, where before 129,000 of them
//! went alone and 150,000 in pairs. Against the build before, best of
//! eight runs alternated: HTML 1.07-1.09 times as fast, plain text 1.12,
//! the corpus 1.04-1.07 (the header sums also go four at a time). Then
//! `scripts/bench-before.sh engine 3`: plain text 335.9 against 201.9
//! MB/s (1.66, about 5.3 times the original), HTML 333.3 against 206.3
//! (1.62, about 4.0 times), the corpus 44,608 against 24,300 messages/s
//! (1.84); five rounds later the same day: 1.63, 1.63 (HTML 1.62-1.64 in
//! every round but a disturbed one, so 4.05-4.1 times the original) and
//! 1.87. The profile of the HTML message is then: the Fuz2 scanner
//! about half, the four-lane MD5 about a third (Body's chain, its floor),
//! Body's byte filter 8 %, the classes 5 %.
//!
//! On plain text the calls (314,600) exceed Body's blocks (263,000): the
//! English stream fills about as fast as Body, and its own drains take
//! rounds without Body. Capping every drain at the fullest other
//! stream's pending blocks brought them to 268,000 but broke HTML's 4,360
//! drains into 168,000 small ones; capping only the other streams' drains
//! at Body's pending blocks left 311,000 calls in 53,000 drains. Neither
//! was kept (plain text is well past its target).

#[path = "../../testkit/src/bench_dccd.rs"]
#[allow(dead_code)]
mod bench_dccd;
mod gen;
mod machine;
mod original;

use original::{Compare, Pair};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};
use tally_ck::header::{CkConfig, Envelope};
use tally_ck::message::MessageCks;

const MB: f64 = 1_000_000.0;
const CHUNK: usize = 64 * 1024;

/// The corpus messages given to the `dccproc`s, one process each.
const CORPUS_PROCS: usize = 200;

fn checksum(msg: &[u8], cfg: &CkConfig, env: &Envelope) -> usize {
    let mut cks = MessageCks::new(cfg, env);
    for piece in msg.chunks(CHUNK) {
        cks.feed(piece);
    }
    cks.finish().entries.len()
}

/// Best time of `runs` runs of `f`.
fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    (0..runs)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn corpus_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut dirs = vec![root.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if !matches!(
                p.extension().and_then(|x| x.to_str()),
                Some("tsv" | "md" | "py")
            ) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// What to measure.
struct Options {
    /// Size of the generated messages in bytes.
    size: usize,
    runs: usize,
    /// Passes over the corpus per run.
    rounds: usize,
    plain: bool,
    html: bool,
    corpus: bool,
    /// The original's `dccproc` to compare with.
    original: Option<PathBuf>,
}

fn usage() -> ! {
    eprintln!(
        "usage: tally-bench [--mb N] [--runs N] [--no-corpus] [--only plain|html|corpus] \
         [--rounds N] [--original PATH]\n  \
         --original PATH (or TALLY_BENCH_ORIGINAL=PATH): the original DCC's dccproc, \
         measured in the same run against tally's dccproc"
    );
    std::process::exit(64);
}

/// The command line.
fn options() -> Options {
    let (mut mb, mut runs, mut rounds) = (20, 3, 20);
    let (mut plain, mut html, mut corpus) = (true, true, true);
    let mut original = std::env::var_os("TALLY_BENCH_ORIGINAL")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from);
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        let a = a.to_string_lossy().into_owned();
        if a == "--original" {
            match args.next() {
                Some(p) if !p.is_empty() => original = Some(PathBuf::from(p)),
                _ => {
                    eprintln!("tally-bench: --original needs the path of the original's dccproc");
                    std::process::exit(64);
                }
            }
            continue;
        }
        let mut num = |name: &str| -> usize {
            match args.next().and_then(|v| v.to_str()?.parse().ok()) {
                Some(n) if n > 0 => n,
                _ => {
                    eprintln!("tally-bench: {name} needs a positive number");
                    std::process::exit(64);
                }
            }
        };
        match a.as_str() {
            "--mb" => mb = num("--mb"),
            "--runs" => runs = num("--runs"),
            "--rounds" => rounds = num("--rounds"),
            "--no-corpus" => corpus = false,
            "--only" => {
                let part = args.next().unwrap_or_default();
                plain = part == "plain";
                html = part == "html";
                corpus = part == "corpus";
                if !(plain || html || corpus) {
                    usage();
                }
            }
            _ => usage(),
        }
    }
    Options {
        size: mb * 1_000_000,
        runs,
        rounds,
        plain,
        html,
        corpus,
        original,
    }
}

fn main() {
    // Errors come back here, after the comparison's server is dropped
    // (stopped): `exit` would leave it running.
    if let Err(e) = bench(options()) {
        eprintln!("tally-bench: {e}");
        std::process::exit(1);
    }
}

/// The benchmark; `Err` when the comparison cannot be made.
fn bench(opts: Options) -> Result<(), String> {
    let (size, runs) = (opts.size, opts.runs);
    let cfg = CkConfig::default();
    let env = Envelope {
        client_ip: "192.0.2.1".parse().ok(),
        env_from: Some("alice@example.com".into()),
        ..Envelope::default()
    };
    println!("tally benchmark (one core)");
    println!("{}", machine::Machine::now());
    let cmp = opts.original.as_deref().map(Compare::start).transpose()?;
    match &opts.original {
        Some(p) => println!("original DCC: {} (measured in this run)", p.display()),
        None => println!(
            "original DCC not given (--original PATH or TALLY_BENCH_ORIGINAL); for reference, \
             recorded, not measured in this run (issue 13, the 2-CPU development machine): \
             the original ran at about 73 MB/s plain text and 92 MB/s HTML \
             (in-process equivalent)"
        ),
    }
    println!();
    if cmp.is_some() {
        println!(
            "{:<32} {:>10} {:>14} {:>17} {:>15}",
            "checksum engine, MB/s",
            "in-process",
            "tally dccproc",
            "original dccproc",
            "tally/original"
        );
    } else {
        println!("{:<44} {:>12}", "checksum engine", "MB/s");
    }
    let mb = size / 1_000_000;
    let mut gens: Vec<(String, &str, Vec<u8>)> = Vec::new();
    if opts.plain {
        gens.push((
            format!("{mb} MB plain-text message"),
            "plain.msg",
            gen::plain(size),
        ));
    }
    if opts.html {
        gens.push((format!("{mb} MB HTML message"), "html.msg", gen::html(size)));
    }
    for (name, file, msg) in gens {
        let mut n = 0;
        let t = best_of(runs, || n = checksum(&msg, &cfg, &env));
        assert!(n > 0);
        let rate = |t: Duration| msg.len() as f64 / MB / t.as_secs_f64().max(1e-9);
        match &cmp {
            Some(c) => {
                let p = c.message(file, &msg, runs)?;
                println!(
                    "{:<32} {:>10.1} {:>14.1} {:>17.1} {:>15.2}",
                    name,
                    rate(t),
                    rate(p.tally),
                    rate(p.original),
                    p.ratio()
                );
            }
            None => println!("{:<44} {:>12.1}", name, rate(t)),
        }
    }
    if cmp.is_some() && (opts.plain || opts.html) {
        println!(
            "(tally/original: tally's dccproc MB/s over the original's, both one process \
             with -C -Q on the message file; best of {runs})"
        );
    }

    if !opts.corpus {
        return Ok(());
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/corpus");
    let files = corpus_files(&root);
    let msgs: Vec<Vec<u8>> = files.iter().filter_map(|p| std::fs::read(p).ok()).collect();
    let bytes: usize = msgs.iter().map(Vec::len).sum();
    let rounds = opts.rounds;
    let t = best_of(runs, || {
        for _ in 0..rounds {
            for m in &msgs {
                checksum(m, &cfg, &env);
            }
        }
    });
    let per_sec = (msgs.len() * rounds) as f64 / t.as_secs_f64();
    println!();
    println!(
        "{:<44} {:>12.0}",
        format!(
            "corpus: {} messages, {:.1} MB, msgs/s",
            msgs.len(),
            bytes as f64 / MB
        ),
        per_sec
    );
    println!(
        "{:<44} {:>12.1}",
        "corpus MB/s",
        (bytes * rounds) as f64 / MB / t.as_secs_f64()
    );
    if let Some(c) = &cmp {
        let first: Vec<PathBuf> = files.into_iter().take(CORPUS_PROCS).collect();
        let p = c.best(runs, &first)?;
        corpus_line(first.len(), runs, &p);
    }
    Ok(())
}

/// The corpus through the `dccproc`s: messages per second, one process
/// per message.
fn corpus_line(n: usize, runs: usize, p: &Pair) {
    let rate = |t: Duration| n as f64 / t.as_secs_f64().max(1e-9);
    println!(
        "corpus, first {n} messages, one dccproc process per message (-C -Q), best of {runs}: \
         tally {:.0} msgs/s, original {:.0} msgs/s, tally/original {:.2} (of messages per second)",
        rate(p.tally),
        rate(p.original),
        p.ratio()
    );
}
