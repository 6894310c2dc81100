//! The values of the greylist API: checksums, requests, answers, records
//! and changes to persist, decisions.

/// Target count `many`: no embargo (a familiar triple or a whitelisted
/// request).
pub const MANY: u32 = 0x00ff_fff0;
/// Target count `OK`: the embargo ends with this delivery.
pub const OK: u32 = 0x00ff_fff1;
/// `OK2`, the value of an entry of the greylist whitelist (the original's
/// `DCC_TGTS_GREY_WHITE`).
pub const GREY_WHITE: u32 = 0x00ff_fff2;

pub use tally_ck::Ck;

/// The greylist operation of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GreyOp {
    /// GREY_REPORT: check and record the delivery attempt.
    Report,
    /// GREY_QUERY: check without recording.
    Query,
    /// GREY_WHITE: the client whitelisted the message; record the triple
    /// as familiar.
    White,
}

/// A greylist request: its operation and checksums (the message's, then
/// the grey msg and grey triple checksums).
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    /// The operation.
    pub op: GreyOp,
    /// The checksums, in request order.
    pub cks: &'a [Ck],
    /// The client may record (false: a report is handled as a query, as
    /// the original does under `-Q` for clients without the right).
    pub may_record: bool,
}

impl<'a> Request<'a> {
    /// A request that may record.
    pub fn new(op: GreyOp, cks: &'a [Ck]) -> Request<'a> {
        Request {
            op,
            cks,
            may_record: true,
        }
    }
}

/// The answer's two words.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Answer {
    /// 1 when the message (its grey msg checksum) was already counted,
    /// i.e. the client reported it to the DCC server before; else 0.
    pub msg: u32,
    /// The triple's state: the embargo number (0, 1, 2 ...), [`OK`] when
    /// the embargo ends now, or [`MANY`] for no embargo.
    pub triple: u32,
}

/// A record to persist: when, its target count (1 while embargoed, `many`
/// for an accepted message) and its checksums.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// Unix seconds.
    pub ts: u64,
    /// 1 or [`MANY`].
    pub tgts: u32,
    /// The checksums, in the order the original writes them: Body or IP,
    /// grey msg, grey triple.
    pub cks: Vec<Ck>,
}

/// One change of the database, to persist (in order) before answering and
/// to replay at start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A new record.
    Add(Record),
    /// A deletion: the checksum's total drops to 0 and its earlier records
    /// no longer count for it.
    Delete {
        /// The checksum.
        ck: Ck,
        /// Unix seconds.
        ts: u64,
    },
}

/// What became of a request, for the statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Embargoed (the answer carries the embargo number).
    Embargoed,
    /// The embargo ended with this delivery.
    Released,
    /// No embargo: a familiar triple or whitelisted IP address.
    Passed,
    /// Whitelisted by the client (GREY_WHITE) or by the greylist whitelist.
    Whitelisted,
}

/// The result of [`Grey::decide`](crate::Grey::decide).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    /// What to answer.
    pub answer: Answer,
    /// What to persist and apply, in order, before answering.
    pub changes: Vec<Change>,
    /// For statistics.
    pub outcome: Outcome,
    /// A checksum matched the greylist whitelist.
    pub grey_white: bool,
    /// The request was recorded (a report or GREY_WHITE that may record).
    pub recorded: bool,
}

/// A request the original answers with an ERROR packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GreyError(pub String);

impl std::fmt::Display for GreyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for GreyError {}

/// Figures of the database: counts of what is stored, whatever the time.
/// A triple is embargoed while its total is below `many`, also once its
/// embargo has run out by time alone: it stays so until its next delivery
/// ends the embargo (the triple becomes familiar) or its records expire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Figures {
    /// Records held.
    pub records: u64,
    /// Distinct checksums with a non-zero total.
    pub checksums: u64,
    /// Triples under embargo (total from 1 to below `many`).
    pub embargoed_triples: u64,
    /// Familiar triples (total `many`).
    pub familiar_triples: u64,
    /// Greylist whitelist entries.
    pub whitelisted: u64,
}
