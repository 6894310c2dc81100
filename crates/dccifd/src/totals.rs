//! The counts of the statistics report dccifd sends to the system log on
//! SIGUSR1 (and every 24 hours after): dccifd(8) "The SIGUSR1 signal sends
//! an immediate report to the system log".

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Requests by their overall result, and requests dropped.
#[derive(Debug, Default)]
pub struct Totals {
    /// Answered `A` or `S`.
    pub accepted: AtomicU64,
    /// Answered `R`.
    pub rejected: AtomicU64,
    /// Answered `G`.
    pub embargoed: AtomicU64,
    /// Answered `T`.
    pub tempfailed: AtomicU64,
    /// Proxy mode (`-o`) connections served.
    pub proxied: AtomicU64,
    /// Connections ended without an answer (bad or cut-off requests).
    pub dropped: AtomicU64,
}

impl Totals {
    /// Count an answer by its first byte, the overall result.
    pub fn answered(&self, result: Option<u8>) {
        let c = match result {
            Some(b'A' | b'S') => &self.accepted,
            Some(b'R') => &self.rejected,
            Some(b'G') => &self.embargoed,
            Some(b'T') => &self.tempfailed,
            _ => &self.dropped,
        };
        c.fetch_add(1, Ordering::Relaxed);
    }

    /// The report line.
    pub fn report(&self) -> String {
        let n = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "{} accepted, {} rejected, {} greylist embargoed, {} temporarily failed, \
             {} proxied, {} dropped without an answer",
            n(&self.accepted),
            n(&self.rejected),
            n(&self.embargoed),
            n(&self.tempfailed),
            n(&self.proxied),
            n(&self.dropped),
        )
    }
}

/// A writer that remembers the first byte written through it (the
/// overall result of an answer).
pub struct First<W> {
    /// The writer.
    pub inner: W,
    /// The first byte, once written.
    pub first: Option<u8>,
}

impl<W: Write> Write for First<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        if self.first.is_none() && n > 0 {
            self.first = buf.first().copied();
        }
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_by_result_letter() {
        let t = Totals::default();
        let mut w = First {
            inner: Vec::new(),
            first: None,
        };
        w.write_all(b"T\nA\n").unwrap();
        w.write_all(b"more").unwrap();
        t.answered(w.first);
        t.answered(Some(b'A'));
        t.answered(None);
        assert_eq!(
            t.report(),
            "1 accepted, 0 rejected, 0 greylist embargoed, 1 temporarily failed, \
             0 proxied, 1 dropped without an answer"
        );
    }
}
