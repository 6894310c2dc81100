//! The resolver layer (feature `resolve`): asks the plan's questions over the
//! network with hickory, asynchronously (tokio), and drives a [`Plan`] to its
//! [`Outcome`].
//!
//! - Name servers: the system's resolv.conf by default ([`Resolver::system`]),
//!   or given ones ([`Resolver::with_servers`], for tests). hickory's name-server
//!   pool does UDP, TCP after a truncated reply, and several servers.
//! - Whole replies are read (the checks need the authority section); answers are
//!   cached for their TTL (negative ones for the SOA's minimum), failures not.
//! - The questions of one message are asked in parallel, at most `parallel` at
//!   once for the message and `max_in_flight` for the whole resolver (the -j or
//!   `set:max_helpers` figure).
//! - Time: a question is given the resolver timeout the original would set for
//!   the time left to its target ([`resolver_timeout_from`], from resolv.conf's
//!   timeout and attempts), never more than that
//!   time nor than what is left of `msg-secs`; at `msg-secs` every question
//!   still open is taken as timed out and the plan ends with what it found.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use futures_util::future::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData};
use hickory_proto::xfer::{DnsHandle, DnsRequest, DnsRequestOptions};
use hickory_proto::ProtoErrorKind;
use hickory_resolver::config::{NameServerConfigGroup, ResolverOpts};
use hickory_resolver::name_server::{NameServerPool, TokioConnectionProvider};
use tokio::sync::Semaphore;

use crate::answer::{Answer, Question, Status};
use crate::outcome::Outcome;
use crate::plan::{resolver_timeout_from, Mode, Plan, Step, Targets};
use crate::settings::Settings;

/// Most answers kept in the cache.
const CACHE_MAX: usize = 50_000;
/// Questions a step looks ahead for answers in the cache.
const LOOK_AHEAD: usize = 512;
/// Longest time an answer is kept, whatever its TTL.
const TTL_MAX: u32 = 86_400;

#[derive(Clone)]
struct Cached {
    answer: Answer,
    until: Instant,
}

/// An asynchronous resolver for DNS list checks, shared by the messages of a
/// program.
pub struct Resolver {
    pool: NameServerPool<TokioConnectionProvider>,
    cache: Mutex<HashMap<(String, crate::QType), Cached>>,
    use_cache: bool,
    limit: Semaphore,
    /// The system resolver's timeout and tries (resolv.conf), the base of the
    /// timeouts the original sets.
    retrans_ms: u64,
    retry: u32,
}

/// A resolver could not be set up.
#[derive(Debug)]
pub struct SetupError(pub String);

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SetupError {}

fn options() -> ResolverOpts {
    let mut o = ResolverOpts::default();
    // The tries and their timeouts are ours (see `ask`).
    o.attempts = 1;
    o.timeout = Duration::from_secs(30);
    o.edns0 = false;
    o.try_tcp_on_error = true;
    o.num_concurrent_reqs = 1;
    o
}

impl Resolver {
    /// The name servers of the system's resolver configuration (resolv.conf).
    pub fn system(max_in_flight: usize) -> Result<Resolver, SetupError> {
        let (conf, opts) = hickory_resolver::system_conf::read_system_conf()
            .map_err(|e| SetupError(format!("system resolver configuration: {e}")))?;
        let group = NameServerConfigGroup::from(conf.name_servers().to_vec());
        let mut r = Resolver::from_group(group, max_in_flight);
        r.retrans_ms = opts.timeout.as_millis().clamp(1000, 30_000) as u64;
        r.retry = u32::try_from(opts.attempts).unwrap_or(2).clamp(1, 5);
        Ok(r)
    }

    /// Given name servers, over UDP and TCP.
    pub fn with_servers(servers: &[SocketAddr], max_in_flight: usize) -> Resolver {
        let mut group = NameServerConfigGroup::new();
        for s in servers {
            group.merge(NameServerConfigGroup::from_ips_clear(
                &[s.ip()],
                s.port(),
                true,
            ));
        }
        Resolver::from_group(group, max_in_flight)
    }

    fn from_group(group: NameServerConfigGroup, max_in_flight: usize) -> Resolver {
        let pool =
            NameServerPool::from_config(group, options(), TokioConnectionProvider::default());
        Resolver {
            pool,
            cache: Mutex::new(HashMap::new()),
            use_cache: true,
            limit: Semaphore::new(max_in_flight.max(1)),
            retrans_ms: 5000,
            retry: 2,
        }
    }

    /// Turns the answer cache off (to see every question at the server).
    pub fn without_cache(mut self) -> Resolver {
        self.use_cache = false;
        self
    }

    fn cached(&self, q: &Question) -> Option<Answer> {
        if !self.use_cache {
            return None;
        }
        let cache = self.cache.lock().ok()?;
        let c = cache.get(&cache_key(q))?;
        (c.until > Instant::now()).then(|| {
            let mut a = c.answer.clone();
            a.elapsed_ms = 0;
            a
        })
    }

    fn remember(&self, q: &Question, a: &Answer, ttl: u32) {
        if !self.use_cache || ttl == 0 {
            return;
        }
        let Ok(mut cache) = self.cache.lock() else {
            return;
        };
        let now = Instant::now();
        if cache.len() >= CACHE_MAX {
            cache.retain(|_, c| c.until > now);
            if cache.len() >= CACHE_MAX {
                cache.clear();
            }
        }
        let until = now + Duration::from_secs(u64::from(ttl.min(TTL_MAX)));
        cache.insert(
            cache_key(q),
            Cached {
                answer: a.clone(),
                until,
            },
        );
    }

    /// Asks one question: `tries` tries of `per_try` each, all within `limit`.
    pub async fn ask(
        &self,
        q: &Question,
        tries: u32,
        per_try: Duration,
        limit: Duration,
    ) -> Answer {
        if let Some(a) = self.cached(q) {
            return a;
        }
        let start = Instant::now();
        let elapsed = |s: Instant| s.elapsed().as_millis().min(u128::from(u64::MAX)) as u64;
        let fq = if q.name.ends_with('.') {
            q.name.clone()
        } else {
            format!("{}.", q.name)
        };
        let Ok(name) = Name::from_ascii(&fq) else {
            return Answer::empty(Status::Failed, 0);
        };
        let Ok(_permit) = self.limit.acquire().await else {
            return Answer::empty(Status::Failed, elapsed(start));
        };
        for _ in 0..tries.max(1) {
            let left = limit.saturating_sub(start.elapsed());
            if left.is_zero() {
                break;
            }
            let mut m = Message::new();
            m.set_id(rand_id())
                .set_message_type(MessageType::Query)
                .set_op_code(OpCode::Query)
                .set_recursion_desired(true)
                .add_query(Query::query(name.clone(), q.qtype.record_type()));
            let mut opts = DnsRequestOptions::default();
            opts.use_edns = false;
            let mut stream = self.pool.send(DnsRequest::new(m, opts));
            match tokio::time::timeout(per_try.min(left), stream.next()).await {
                Err(_) => continue,
                Ok(Some(Err(e))) => {
                    // hickory reports a reply without records as an error.
                    if let ProtoErrorKind::NoRecordsFound {
                        response_code,
                        negative_ttl,
                        ..
                    } = e.kind()
                    {
                        let status = if *response_code == ResponseCode::NXDomain {
                            Status::NxDomain
                        } else {
                            Status::NoData
                        };
                        let a = Answer::empty(status, elapsed(start));
                        self.remember(q, &a, negative_ttl.unwrap_or(0));
                        return a;
                    }
                    return Answer::empty(Status::Failed, elapsed(start));
                }
                Ok(None) => return Answer::empty(Status::Failed, elapsed(start)),
                Ok(Some(Ok(resp))) => {
                    let msg = resp.into_message();
                    let a = Answer::from_message(&msg, q.qtype, elapsed(start));
                    if matches!(
                        a.status,
                        Status::Records | Status::NoData | Status::NxDomain
                    ) {
                        self.remember(q, &a, ttl(&msg));
                    }
                    return a;
                }
            }
        }
        Answer::timed_out(elapsed(start))
    }

    /// [`Resolver::check`] for a program without a tokio runtime (dccproc): on
    /// a runtime of its own, on this thread. Not to be called from within a
    /// runtime.
    pub fn check_blocking(
        &self,
        settings: &Settings,
        mode: Mode,
        targets: Targets,
        parallel: usize,
    ) -> Outcome {
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(self.check(settings, mode, targets, parallel)),
            // No runtime, no DNS: nothing found, the mail goes on.
            Err(_) => Outcome::default(),
        }
    }

    /// Runs the checks of one message; `parallel` questions at most at once
    /// on the network (with 1, exactly the original's order).
    ///
    /// Each step looks far ahead (the plan's speculation) but only to answer
    /// from the cache; the network is asked the first open questions in order.
    pub async fn check(
        &self,
        settings: &Settings,
        mode: Mode,
        targets: Targets,
        parallel: usize,
    ) -> Outcome {
        self.run(settings, mode, targets, None, parallel).await
    }

    /// [`Resolver::check`] with URL hosts that arrive while the body does (the
    /// original checks them as they come): the client and sender checks start
    /// at once, each host sent on `urls` joins the message's checks, and the
    /// outcome comes when the sender side is dropped (end of message) and the
    /// checks are done, at most `msg-secs` later.
    pub async fn check_streaming(
        &self,
        settings: &Settings,
        mode: Mode,
        targets: Targets,
        urls: tokio::sync::mpsc::Receiver<String>,
        parallel: usize,
    ) -> Outcome {
        self.run(settings, mode, targets, Some(urls), parallel)
            .await
    }

    async fn run(
        &self,
        settings: &Settings,
        mode: Mode,
        targets: Targets,
        mut urls: Option<tokio::sync::mpsc::Receiver<String>>,
        parallel: usize,
    ) -> Outcome {
        let parallel = parallel.max(1);
        let msg_secs = Duration::from_secs(u64::from(settings.msg_secs));
        // The hard limit runs from the end of the message.
        let mut deadline = urls.is_none().then(|| Instant::now() + msg_secs);
        let mut plan = Plan::new(settings, mode, targets);
        let mut flying: Vec<Question> = Vec::new();
        let mut tasks = FuturesUnordered::new();
        // Each round answers or starts a question, or takes a URL, and all
        // are finite; the bound is a guard.
        for _ in 0..1_000_000 {
            let wants = match plan.step(LOOK_AHEAD.max(parallel)) {
                Step::Done(o) if urls.is_none() => return *o,
                Step::Done(_) => Vec::new(),
                Step::Ask(w) => w,
            };
            let open: Vec<_> = wants
                .into_iter()
                .filter(|w| !flying.contains(&w.question) && !plan.answered(&w.question))
                .collect();
            let mut progress = false;
            for w in &open {
                if let Some(a) = self.cached(&w.question) {
                    plan.answer(w.question.clone(), a);
                    progress = true;
                }
            }
            if progress {
                continue;
            }
            let left = deadline.map_or(msg_secs, |d| d.saturating_duration_since(Instant::now()));
            for w in open {
                if flying.len() >= parallel {
                    break;
                }
                if left.is_zero() {
                    plan.answer(w.question, Answer::timed_out(spent(settings)));
                    continue;
                }
                let (tries, per_try) =
                    resolver_timeout_from(w.budget_ms, self.retrans_ms, self.retry);
                let limit =
                    Duration::from_millis((u64::from(tries) * per_try).min(w.budget_ms)).min(left);
                flying.push(w.question.clone());
                let q = w.question;
                tasks.push(async move {
                    let a = self
                        .ask(&q, tries, Duration::from_millis(per_try), limit)
                        .await;
                    (q, a)
                });
            }
            if tasks.is_empty() && urls.is_none() {
                continue;
            }
            let until = deadline.unwrap_or_else(|| Instant::now() + msg_secs);
            tokio::select! {
                Some((q, a)) = tasks.next(), if !tasks.is_empty() => {
                    flying.retain(|f| *f != q);
                    plan.answer(q, a);
                    // Take every other answer already there before the next step.
                    while let Some(Some((q, a))) = tasks.next().now_or_never() {
                        flying.retain(|f| *f != q);
                        plan.answer(q, a);
                    }
                }
                u = async { urls.as_mut()?.recv().await }, if urls.is_some() => match u {
                    Some(u) => {
                        plan.push_url(u);
                        // Take every other host already there before the next
                        // step: each step walks the whole plan again.
                        while let Some(rx) = urls.as_mut() {
                            match rx.try_recv() {
                                Ok(u) => plan.push_url(u),
                                Err(tokio::sync::mpsc::error::TryRecvError::Empty) => break,
                                Err(tokio::sync::mpsc::error::TryRecvError::Disconnected) => {
                                    urls = None;
                                    deadline = Some(Instant::now() + msg_secs);
                                }
                            }
                        }
                    }
                    None => {
                        urls = None;
                        deadline = Some(Instant::now() + msg_secs);
                    }
                },
                _ = tokio::time::sleep_until(until.into()), if deadline.is_some() => {
                    // Out of msg-secs: what is still open timed out, and took
                    // all the time there was.
                    for q in flying.drain(..) {
                        plan.answer(q, Answer::timed_out(spent(settings)));
                    }
                    tasks.clear();
                }
            }
        }
        Outcome::default()
    }
}

/// The cache's key of a question: names are asked in any case but answered alike.
fn cache_key(q: &Question) -> (String, crate::QType) {
    (q.name.to_ascii_lowercase(), q.qtype)
}

/// The time a question takes that was still open at `msg-secs`: all of it.
fn spent(settings: &Settings) -> u64 {
    u64::from(settings.msg_secs) * 1000
}

/// A random query ID (hickory's UDP stream checks the reply's ID and source).
fn rand_id() -> u16 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u64(0x5eed);
    (h.finish() & 0xffff) as u16
}

/// How long an answer may be kept: its shortest TTL; for an answer without
/// records the SOA's (RFC 2308).
fn ttl(m: &Message) -> u32 {
    let mut t = m.answers().iter().map(|r| r.ttl()).min();
    if t.is_none() {
        t = m.name_servers().iter().find_map(|r| match r.data() {
            RData::SOA(soa) => Some(r.ttl().min(soa.minimum())),
            _ => None,
        });
    }
    t.unwrap_or(0)
}
