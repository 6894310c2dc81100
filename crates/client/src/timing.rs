//! The timing rules of the DCC client: how long to wait for an answer, how
//! many times to send a request, how round trip times are averaged and how
//! long a set of servers that failed is left alone.
//!
//! All durations are in microseconds, as the reference client keeps them;
//! all dates are seconds since the epoch. Everything here is pure.

/// A DCC server's usual delay before answering (disk work, queueing).
pub const DCCD_DELAY: i64 = 100_000;
/// The smallest RTT assumed, even when the server was measured faster.
pub const MIN_RTT: i64 = DCCD_DELAY + 150_000;
/// Transmissions of one request (the first and three retransmissions).
pub const MAX_XMITS: u32 = 4;
/// The longest RTT considered: a server slower than this is unusable.
pub const MAX_RTT: i64 = MIN_RTT << MAX_XMITS;
/// The limit of a manual RTT adjustment (`RTT+adj` in the map), ±2 s.
pub const RTT_ADJ_MAX: i64 = MAX_RTT / 2;
/// Penalty added to servers speaking a protocol older than [`VERS_CLNT_OK`].
pub const RTT_VERS_ADJ: i64 = RTT_ADJ_MAX / 3;
/// The RTT of a server that does not answer.
pub const RTT_BAD: i64 = MAX_RTT * 2 + 1;
/// The total time budget of one request including all retransmissions.
pub const MAX_DELAY: i64 = MAX_XMITS as i64 * MAX_RTT;
/// Servers answering with a protocol version below this are penalised.
pub const VERS_CLNT_OK: u8 = 9;
/// Penalty for a greylist server of another IP family than the DCC server.
pub const FAMILY_ADJ: i64 = 10_000;

/// Host names are resolved again this often (seconds).
pub const MAP_RESOLVE_SECS: u64 = 60 * 60;
/// When no name could be resolved, try again after this long (seconds).
pub const RESOLVE_RETRY_SECS: u64 = 5 * 60;
/// RTTs to all servers are measured again this often (seconds), and an
/// RTT measured within this time is averaged in faster.
pub const FAST_RTT_SECS: u64 = 15 * 60;
/// The first back-off after all servers failed (seconds), doubled with
/// each further failure.
pub const INIT_FAIL_SECS: u64 = (MAX_DELAY / 1_000_000) as u64;
/// The most doublings of the back-off.
pub const MAX_FAIL_EXP: u8 = 5;
/// The longest back-off (seconds).
pub const MAX_FAIL_SECS: u64 = INIT_FAIL_SECS << MAX_FAIL_EXP;
/// NOP probes stop waiting once this many servers answered (unless all
/// servers are wanted, as by `cdcc RTT`).
pub const MEASURE_TARGET: usize = 4;
/// Most transmissions remembered per server address for its answer rate.
pub const TOTAL_XMITS_MAX: u8 = 32;

/// The delay before retransmission number `xmit_num` (0 for the first
/// transmission) to a server with this RTT: the RTT, at least
/// [`MIN_RTT`], doubled per earlier transmission, plus [`DCCD_DELAY`],
/// at most [`MAX_RTT`].
pub fn retrans_time(rtt: i64, xmit_num: u32) -> i64 {
    let rtt = rtt.max(MIN_RTT);
    let backoff = rtt.checked_shl(xmit_num).unwrap_or(i64::MAX);
    backoff.saturating_add(DCCD_DELAY).min(MAX_RTT)
}

/// How long to wait after transmission number `xmit_num` (0-based) of a
/// request that started `elapsed` microseconds ago, or `None` when the
/// budget of [`MAX_DELAY`] does not leave time for another transmission.
/// The last transmission waits as long as possible.
pub fn request_wait(rtt: i64, xmit_num: u32, elapsed: i64) -> Option<i64> {
    if xmit_num >= MAX_XMITS {
        return None;
    }
    let mut us = retrans_time(rtt, xmit_num);
    let remaining = MAX_DELAY - elapsed;
    if us > remaining {
        if remaining < MIN_RTT {
            return None;
        }
        us = remaining;
    }
    if xmit_num + 1 == MAX_XMITS && us < MAX_RTT {
        us = remaining.min(MAX_RTT);
    }
    Some(us)
}

/// Weighted running average as the reference client computes it, rounded.
pub fn age_avg(old: i64, new: i64, a: i64, b: i64) -> i64 {
    (old * a + new * b + (a + b) / 2) / (a + b)
}

/// The back-off state of a class of servers after failures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct FailState {
    /// Number of doublings (0 = not failing).
    pub fail_exp: u8,
    /// Do not ask before this date.
    pub fail_time: u64,
}

impl FailState {
    /// Note that no server could be reached at `now`. A failure while
    /// already backing off does not lengthen the back-off; a failure after
    /// a long quiet time starts again from the first back-off.
    pub fn fail_more(&mut self, now: u64) {
        if self.fail_exp != 0 && self.fail_time >= now {
            return;
        }
        let quiet = self
            .fail_time
            .saturating_add(INIT_FAIL_SECS << self.fail_exp.min(MAX_FAIL_EXP));
        if now >= quiet {
            self.fail_exp = 0;
        }
        self.fail_exp = self.fail_exp.saturating_add(1).min(MAX_FAIL_EXP);
        self.fail_time = now.saturating_add(INIT_FAIL_SECS << self.fail_exp);
    }

    /// Seconds still to wait before asking again, if backing off.
    pub fn waiting(&self, now: u64) -> Option<u64> {
        if self.fail_exp == 0 {
            return None;
        }
        let dt = self.fail_time.checked_sub(now)?;
        (dt > 0 && dt <= MAX_FAIL_SECS).then_some(dt)
    }

    /// A server answered: stop backing off.
    pub fn reset(&mut self) {
        self.fail_exp = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constants() {
        assert_eq!(MIN_RTT, 250_000);
        assert_eq!(MAX_RTT, 4_000_000);
        assert_eq!(MAX_DELAY, 16_000_000);
        assert_eq!(INIT_FAIL_SECS, 16);
        assert_eq!(MAX_FAIL_SECS, 512);
    }

    #[test]
    fn retransmission_schedule() {
        // A fast server: 350, 600, 1100 ms, then the rest up to 4 s.
        let waits: Vec<i64> = (0..4).map(|n| request_wait(0, n, 0).unwrap()).collect();
        assert_eq!(waits, vec![350_000, 600_000, 1_100_000, 4_000_000]);
        assert_eq!(request_wait(0, 4, 0), None);
        // Out of budget.
        assert_eq!(request_wait(0, 1, MAX_DELAY - 100_000), None);
        assert_eq!(request_wait(3_000_000, 2, 14_000_000), Some(2_000_000));
    }

    #[test]
    fn backoff() {
        let mut f = FailState::default();
        f.fail_more(1000);
        assert_eq!(f.waiting(1000), Some(32));
        // Failing again while backing off changes nothing.
        f.fail_more(1010);
        assert_eq!(f.fail_exp, 1);
        f.fail_more(1040);
        assert_eq!((f.fail_exp, f.waiting(1040)), (2, Some(64)));
        // After a long quiet time the back-off starts over.
        f.fail_more(5000);
        assert_eq!(f.fail_exp, 1);
        for _ in 0..10 {
            let t = f.fail_time + 1;
            f.fail_more(t);
        }
        assert_eq!(f.fail_exp, MAX_FAIL_EXP);
    }
}
