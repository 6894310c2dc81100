//! Failed sign-ins counted per user name and per client address: after
//! [`Limits::per_user`] (or [`Limits::per_addr`]) failures within
//! [`Limits::window`], further attempts are refused, without checking the
//! password, until the oldest failure leaves the window.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most names and addresses remembered; beyond it the stalest go.
const MAX_KEYS: usize = 100_000;

/// How many failures are allowed in which time.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub per_user: usize,
    pub per_addr: usize,
    pub window: Duration,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            per_user: 5,
            per_addr: 20,
            window: Duration::from_secs(15 * 60),
        }
    }
}

/// The failures seen.
pub struct Limiter {
    limits: Limits,
    fails: Mutex<HashMap<String, VecDeque<Instant>>>,
}

impl Limiter {
    /// A limiter with `limits`.
    pub fn new(limits: Limits) -> Limiter {
        Limiter {
            limits,
            fails: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, VecDeque<Instant>>> {
        self.fails.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `Err(seconds)` to wait when `user` or `addr` has used up its
    /// failures.
    pub fn check(&self, user: &str, addr: &str) -> Result<(), u64> {
        let now = Instant::now();
        let mut m = self.lock();
        let mut wait = 0u64;
        for (key, max) in [
            (format!("u:{user}"), self.limits.per_user),
            (format!("a:{addr}"), self.limits.per_addr),
        ] {
            if let Some(q) = m.get_mut(&key) {
                while q
                    .front()
                    .is_some_and(|t| now.duration_since(*t) >= self.limits.window)
                {
                    q.pop_front();
                }
                if q.len() >= max {
                    let first = q.front().copied().unwrap_or(now);
                    let left = self.limits.window.saturating_sub(now.duration_since(first));
                    wait = wait.max(left.as_secs() + 1);
                }
            }
        }
        if wait > 0 {
            Err(wait)
        } else {
            Ok(())
        }
    }

    /// Count a failed sign-in.
    pub fn failed(&self, user: &str, addr: &str) {
        let now = Instant::now();
        let mut m = self.lock();
        if m.len() >= MAX_KEYS {
            let w = self.limits.window;
            m.retain(|_, q| q.back().is_some_and(|t| now.duration_since(*t) < w));
        }
        for key in [format!("u:{user}"), format!("a:{addr}")] {
            let q = m.entry(key).or_default();
            q.push_back(now);
            while q.len() > self.limits.per_user.max(self.limits.per_addr) {
                q.pop_front();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        let l = Limiter::new(Limits {
            per_user: 2,
            per_addr: 3,
            window: Duration::from_millis(200),
        });
        l.failed("bob", "a");
        assert!(l.check("bob", "a").is_ok());
        l.failed("bob", "a");
        assert!(l.check("bob", "b").is_err());
        assert!(l.check("ann", "a").is_ok());
        l.failed("ann", "a");
        assert!(l.check("cy", "a").is_err());
        std::thread::sleep(Duration::from_millis(250));
        assert!(l.check("bob", "a").is_ok());
    }
}
