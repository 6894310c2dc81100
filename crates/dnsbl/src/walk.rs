//! One pass of the checks of a message over the answers known so far, in the
//! original's order. A question without a known answer stops the pass (it is
//! what the plan asks next) or, when speculating, is taken as unanswered so
//! that more questions can be asked at once.
//!
//! Order for a name (sender domain or URL host): the name lists; the A question
//! of the name and its addresses in the IPv4 lists (probed last address first
//! for host names, in answer order for the A question); the name servers of
//! the authority section (their names in the name lists, their A question,
//! their addresses); the AAAA question the same way for IPv6 lists; then the
//! MX question and each exchange. A group stops at its first hit; whitelists
//! are asked first; a list declared twice is asked once.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::addr::{self, bits_to_string, ipv4_probe, ipv6_probe, mapped_v4, to_bits};
use crate::answer::{Answer, QType, Question, Status};
use crate::option::{src, Family, ListType, Settings, GROUPS};

/// Group hit bit: the hit is a whitelist's.
pub(crate) const WHITE: u16 = 0x100;
/// Group hit bit: checks wanted by the group ran out of time.
pub(crate) const TIMEO: u16 = 0x200;

/// Most addresses of one host name probed (IPv4, IPv6), as the original.
const MAX_V4: usize = 8;
const MAX_V6: usize = 4;
/// Longest probe name.
const MAX_PROBE: usize = 255;

/// A group's state: its hit, if any.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Group {
    pub bits: u16,
    pub list: usize,
    pub btype: String,
    pub target: String,
    pub probe: String,
    pub result: String,
}

impl Group {
    pub fn real(&self) -> bool {
        self.bits & !TIMEO != 0
    }
}

/// The pass was interrupted by a question without an answer.
pub(crate) struct Pending;

pub(crate) struct Walk<'a> {
    pub s: &'a Settings,
    pub answers: &'a HashMap<Question, Answer>,
    pub groups: [Group; GROUPS],
    pub tgt_hits: u16,
    /// The name of the current target (client name, sender domain, URL host).
    pub cur_name: String,
    pub cur_addr: u128,
    /// Milliseconds: left for the message, allowed and used for this target.
    pub msg_left: i64,
    pub url_budget: i64,
    pub url_used: i64,
    /// The current target's time ran out (logged once).
    pub url_out: bool,
    /// Questions in the order asked.
    pub trace: Vec<Question>,
    /// Questions without answers: the first, then speculative ones.
    pub wants: Vec<(Question, u64)>,
    pub speculate: usize,
}

type Step<T> = Result<T, Pending>;

impl<'a> Walk<'a> {
    /// The answer to a question, counting its time; `Pending` if unknown and no
    /// more speculation is allowed.
    fn ask(&mut self, q: Question) -> Step<Answer> {
        let budget = (self.url_budget - self.url_used).max(0) as u64;
        self.trace.push(q.clone());
        if let Some(a) = self.answers.get(&q) {
            self.url_used += a.elapsed_ms as i64;
            return Ok(a.clone());
        }
        if !self.wants.iter().any(|(w, _)| *w == q) {
            self.wants.push((q, budget));
        }
        if self.wants.len() > self.speculate {
            return Err(Pending);
        }
        Ok(Answer::empty(Status::NoData, 0))
    }

    pub fn fix_tgt_hits(&mut self) {
        self.tgt_hits = 0;
        for (g, grp) in self.groups.iter().enumerate() {
            if grp.bits & WHITE != 0 {
                continue;
            }
            self.tgt_hits |= self.s.group_white[g];
            if grp.real() {
                continue;
            }
            self.tgt_hits |= self.s.group_black[g];
        }
    }

    /// Marks the groups a timed-out check was for.
    pub fn set_timeo(&mut self, hit: u16) {
        for l in &self.s.lists {
            if hit != 0 && hit & l.targets == 0 {
                continue;
            }
            if self.groups[l.group].bits == 0 {
                self.groups[l.group].bits = TIMEO;
            }
        }
        if self.url_budget < self.url_used {
            self.url_out = true;
        }
    }

    fn time_pre(&mut self, hit: u16) -> bool {
        if self.url_budget >= self.url_used {
            return true;
        }
        self.set_timeo(hit);
        false
    }

    pub fn time_post(&mut self, hit: u16) -> bool {
        if self.url_out {
            return false;
        }
        if self.url_budget > self.url_used {
            return true;
        }
        self.set_timeo(hit);
        self.url_out = true;
        false
    }

    /// Starts the clock of a target; false if the message has no time left.
    pub fn msg_start(&mut self, hit: u16) -> bool {
        self.url_used = 0;
        self.url_out = false;
        self.url_budget = (i64::from(self.s.effective_url_secs()) * 1000).min(self.msg_left);
        if self.url_budget <= 0 {
            self.set_timeo(hit);
            self.url_out = true;
            return false;
        }
        true
    }

    pub fn msg_fin(&mut self) {
        self.msg_left -= self.url_used;
    }

    fn interesting(&self, li: usize, hit: u16) -> bool {
        let l = &self.s.lists[li];
        if l.targets & hit == 0 {
            return false;
        }
        let g = &self.groups[l.group];
        g.bits == 0 || (l.white && g.bits & WHITE == 0)
    }

    /// The lists sharing the lookups of list `head`.
    fn family(&self, head: usize) -> impl Iterator<Item = usize> + 'a {
        let lists = &self.s.lists;
        (head..lists.len()).filter(move |&i| i == head || lists[i].dup_of == Some(head))
    }

    fn needed(&self, li: usize, hit: u16) -> bool {
        self.s.lists[li].dup_of.is_none() && self.family(li).any(|i| self.interesting(i, hit))
    }

    fn type_text(&self, bits: u16) -> String {
        let white = if bits & WHITE != 0 { "whitelist " } else { "" };
        let kind = match bits & src::ALL {
            src::CLIENT => {
                if self.cur_name.is_empty() {
                    return format!("{white}SMTP client {}", bits_to_string(self.cur_addr));
                }
                "SMTP client"
            }
            src::MHOST => "mail_host",
            src::MHOST_MX => "mail_host MX",
            src::MHOST_NS => "mail_host NS",
            src::URL => "URL",
            src::URL_MX => "URL MX",
            _ => "URL NS",
        };
        format!("{white}{kind} {}", self.cur_name)
    }

    /// Looks a probe up in list `head` and the lists sharing it.
    fn lookup(&mut self, probe: &str, head: usize, hit: u16, tgt: &str) -> Step<bool> {
        if !self.time_pre(hit) {
            return Ok(false);
        }
        let family = self.s.lists[head].family;
        let mut addrs = Vec::new();
        let mut failed = true;
        if family != Family::V6 {
            let a = self.ask(Question::new(probe, QType::A))?;
            failed &= a.status != Status::Records;
            addrs.extend(a.addrs);
        }
        if family != Family::V4 {
            let a = self.ask(Question::new(probe, QType::Aaaa))?;
            failed &= a.status != Status::Records;
            addrs.extend(a.addrs);
        }
        if failed {
            return Ok(self.time_post(hit));
        }
        for li in self.family(head).collect::<Vec<_>>() {
            if !self.interesting(li, hit) {
                continue;
            }
            let l = &self.s.lists[li];
            let Some(ans) = addrs.iter().find(|a| l.matches(to_bits(**a))) else {
                continue;
            };
            let bits = hit | if l.white { WHITE } else { 0 };
            let g = l.group;
            self.groups[g] = Group {
                bits,
                list: li,
                btype: self.type_text(bits),
                target: tgt.to_string(),
                probe: probe.to_string(),
                result: ans.to_string(),
            };
            self.fix_tgt_hits();
        }
        Ok(self.time_post(hit))
    }

    /// Probes an address in the lists of its kind.
    pub fn ip_lookup(&mut self, kind: ListType, bits: u128, hit: u16) -> Step<bool> {
        for li in 0..self.s.lists.len() {
            let l = &self.s.lists[li];
            if l.ltype != kind || !self.needed(li, hit) {
                continue;
            }
            let (probe, tgt) = match (kind, mapped_v4(bits)) {
                (ListType::Ipv4, Some(v4)) => (ipv4_probe(v4, &l.domain), v4.to_string()),
                (ListType::Ipv4, None) => continue,
                _ => (
                    ipv6_probe(bits, &l.domain),
                    std::net::Ipv6Addr::from(bits).to_string(),
                ),
            };
            if !self.lookup(&probe, li, hit, &tgt)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// Looks a name up in the name lists (and its parents in all-names lists).
    pub fn name_lookup(&mut self, tgt: &str, hit: u16) -> Step<bool> {
        if !self.s.have_name {
            return Ok(true);
        }
        let name = tgt.strip_suffix('.').unwrap_or(tgt);
        for li in 0..self.s.lists.len() {
            let l = &self.s.lists[li];
            if !matches!(l.ltype, ListType::Name | ListType::AllNames) || !self.needed(li, hit) {
                continue;
            }
            let all = l.ltype == ListType::AllNames;
            // Over-long names lose their left end.
            let over = (name.len() + l.domain.len() + 1).saturating_sub(MAX_PROBE);
            let mut start = over.min(name.len());
            while !name.is_char_boundary(start) {
                start += 1;
            }
            let part = &name[start..];
            let probe = format!("{part}.{}", l.domain);
            let mut off = 0;
            while off < part.len() {
                if !self.lookup(&probe[off..], li, hit, tgt)? {
                    return Ok(false);
                }
                if !all {
                    break;
                }
                match probe[off..].find('.') {
                    Some(i) => off += i + 1,
                    None => break,
                }
            }
        }
        Ok(true)
    }

    /// A host name's own addresses in the address lists (for MX and NS hosts).
    fn name_ip_lookup(&mut self, tgt: &str, hit: u16) -> Step<bool> {
        if !self.name_lookup(tgt, hit)? {
            return Ok(false);
        }
        if tgt.is_empty() {
            return Ok(true);
        }
        if !self.time_pre(hit) {
            return Ok(false);
        }
        if self.s.have_ipv4 {
            let a = self.ask(Question::new(tgt, QType::A))?;
            if !self.time_post(hit) {
                return Ok(false);
            }
            let v4: Vec<u128> = a.addrs.iter().take(MAX_V4).map(|&ip| to_bits(ip)).collect();
            for &bits in v4.iter().rev() {
                if !self.ip_lookup(ListType::Ipv4, bits, hit)? {
                    return Ok(false);
                }
            }
        }
        if self.s.have_ipv6 {
            let a = self.ask(Question::new(tgt, QType::Aaaa))?;
            if a.status != Status::Records && a.status != Status::TimedOut {
                // The system resolver falls back to A; those addresses are not probed.
                self.ask(Question::new(tgt, QType::A))?;
            }
            if !self.time_post(hit) {
                return Ok(false);
            }
            let v6: Vec<u128> = a.addrs.iter().take(MAX_V6).map(|&ip| to_bits(ip)).collect();
            for &bits in v6.iter().rev() {
                if !self.ip_lookup(ListType::Ipv6, bits, hit)? {
                    return Ok(false);
                }
            }
        }
        Ok(true)
    }

    /// Asks a question of a domain and checks its records and, if `ns_hit`,
    /// the name servers of the authority section.
    fn rr_lookup(&mut self, name: &str, q: QType, hit: u16, ns_hit: u16) -> Step<bool> {
        if !self.time_pre(hit | ns_hit) {
            return Ok(false);
        }
        let a = self.ask(Question::new(name, q))?;
        if a.status != Status::Records {
            return Ok(self.time_post(hit) && a.status != Status::NxDomain);
        }
        if !self.time_post(hit) {
            return Ok(false);
        }
        for ip in &a.addrs {
            let kind = match ip {
                IpAddr::V4(_) => ListType::Ipv4,
                IpAddr::V6(_) => ListType::Ipv6,
            };
            if !self.ip_lookup(kind, to_bits(*ip), hit)? {
                return Ok(false);
            }
        }
        for mx in &a.mx {
            if !self.name_ip_lookup(mx, hit)? {
                return Ok(false);
            }
        }
        if ns_hit == 0 {
            return Ok(true);
        }
        for ns in &a.ns {
            if !self.name_ip_lookup(ns, ns_hit)? {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The SMTP client: its address, then its name.
    pub fn client(&mut self) -> Step<()> {
        let bits = self.cur_addr;
        if self.s.have_ipv4
            && mapped_v4(bits).is_some()
            && !self.ip_lookup(ListType::Ipv4, bits, src::CLIENT)?
        {
            return Ok(());
        }
        if self.s.have_ipv6 && !self.ip_lookup(ListType::Ipv6, bits, src::CLIENT)? {
            return Ok(());
        }
        let name = self.cur_name.clone();
        if !name.is_empty() && !name.starts_with('[') {
            self.name_lookup(&name, src::CLIENT)?;
        }
        Ok(())
    }

    /// A sender domain or URL host: name, addresses, name servers, MX.
    pub fn name_url_mhost(&mut self, hit: u16) -> Step<()> {
        let name = self.cur_name.clone();
        if let Some(ip) = addr::parse_ip(&name) {
            let kind = if ip.is_ipv4() {
                ListType::Ipv4
            } else {
                ListType::Ipv6
            };
            self.ip_lookup(kind, to_bits(ip), hit)?;
            return Ok(());
        }
        if !self.name_lookup(&name, hit)? {
            return Ok(());
        }
        let (ns, mx) = if hit == src::MHOST {
            (src::MHOST_NS, src::MHOST_MX)
        } else {
            (src::URL_NS, src::URL_MX)
        };
        let mut ns_hit = self.tgt_hits & ns;
        if self.s.have_ipv4 {
            if !self.rr_lookup(&name, QType::A, hit, ns_hit)? {
                return Ok(());
            }
            ns_hit = 0;
        }
        if self.s.have_ipv6 {
            if !self.rr_lookup(&name, QType::Aaaa, hit, ns_hit)? {
                return Ok(());
            }
            ns_hit = 0;
        }
        if self.tgt_hits & mx != 0 {
            self.rr_lookup(&name, QType::Mx, mx, ns_hit)?;
        }
        Ok(())
    }
}
