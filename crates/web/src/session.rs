//! Signed-in sessions: a random token in a cookie names a session; each
//! session has its own CSRF token, put in every form and checked on every
//! POST. Sessions end when signed out or after a time without use.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Most sessions kept at once; the oldest go first.
pub const MAX_SESSIONS: usize = 10_000;

/// A random token: 32 bytes from the system's generator, in hex.
pub fn token() -> String {
    let mut b = [0u8; 32];
    if getrandom::fill(&mut b).is_err() {
        // no randomness: a token nobody can present
        return String::new();
    }
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// One signed-in user.
#[derive(Debug, Clone)]
pub struct Session {
    /// The name the user signed in with.
    pub user: String,
    /// The user's directory (canonical) under userdirs.
    pub dir: PathBuf,
    /// The token every form of this session carries.
    pub csrf: String,
    last: Instant,
}

/// The sessions of the running service.
pub struct Sessions {
    map: Mutex<HashMap<String, Session>>,
    idle: Duration,
}

impl Sessions {
    /// Sessions that end after `idle` without a request.
    pub fn new(idle: Duration) -> Sessions {
        Sessions {
            map: Mutex::new(HashMap::new()),
            idle,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Session>> {
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Start a session; its cookie token.
    pub fn create(&self, user: &str, dir: PathBuf) -> Option<String> {
        let t = token();
        let csrf = token();
        if t.is_empty() || csrf.is_empty() {
            return None;
        }
        let mut m = self.lock();
        let now = Instant::now();
        m.retain(|_, s| now.duration_since(s.last) < self.idle);
        while m.len() >= MAX_SESSIONS {
            let Some(oldest) = m.iter().min_by_key(|(_, s)| s.last).map(|(k, _)| k.clone()) else {
                break;
            };
            m.remove(&oldest);
        }
        m.insert(
            t.clone(),
            Session {
                user: user.to_string(),
                dir,
                csrf,
                last: now,
            },
        );
        Some(t)
    }

    /// The live session of a cookie token, its idle time restarted.
    pub fn get(&self, token: &str) -> Option<Session> {
        if token.is_empty() {
            return None;
        }
        let mut m = self.lock();
        let now = Instant::now();
        let s = m.get_mut(token)?;
        if now.duration_since(s.last) >= self.idle {
            m.remove(token);
            return None;
        }
        s.last = now;
        Some(s.clone())
    }

    /// End a session.
    pub fn remove(&self, token: &str) {
        self.lock().remove(token);
    }

    /// End every session of `user` but the one of token `keep` (after a
    /// password change).
    pub fn end_others(&self, user: &str, keep: &str) {
        self.lock().retain(|t, s| s.user != user || t == keep);
    }

    /// The number of live and not yet pruned sessions.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether there is no session.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_expiry() {
        let a = token();
        assert_eq!(a.len(), 64);
        assert_ne!(a, token());
        let s = Sessions::new(Duration::from_millis(50));
        let t = s.create("bob", PathBuf::from("/x")).unwrap();
        let got = s.get(&t).unwrap();
        assert_eq!(got.user, "bob");
        assert_eq!(got.csrf.len(), 64);
        assert!(s.get("nope").is_none());
        std::thread::sleep(Duration::from_millis(80));
        assert!(s.get(&t).is_none());
        let t = s.create("bob", PathBuf::from("/x")).unwrap();
        s.remove(&t);
        assert!(s.get(&t).is_none());
        let (a, b) = (
            s.create("bob", PathBuf::new()),
            s.create("bob", PathBuf::new()),
        );
        let c = s.create("carol", PathBuf::new()).unwrap();
        let (a, b) = (a.unwrap(), b.unwrap());
        s.end_others("bob", &a);
        assert!(s.get(&a).is_some() && s.get(&b).is_none() && s.get(&c).is_some());
    }
}
