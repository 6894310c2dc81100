//! Choosing a server: the effective RTT of each address (measured RTT
//! plus the manual adjustment and penalties), the choice of the fastest,
//! the threshold for switching away from it, and the bookkeeping of RTTs
//! and answer rates after each exchange. Pure functions on a
//! [`ServerClass`].

use crate::map::{ServerAddr, ServerClass};
use crate::timing::{
    age_avg, DCCD_DELAY, FAMILY_ADJ, FAST_RTT_SECS, MAX_RTT, MAX_XMITS, RTT_BAD, RTT_VERS_ADJ,
    TOTAL_XMITS_MAX, VERS_CLNT_OK,
};

/// The RTT used to compare servers: the measured RTT, the manual
/// adjustment of its name, a penalty for servers of old protocol versions
/// and, for greylist servers, a small penalty when the DCC server in use
/// is reached over the other IP version (`dcc_is_v6`).
pub fn effective_rtt(class: &ServerClass, a: &ServerAddr, dcc_is_v6: Option<bool>) -> i64 {
    if a.rtt >= MAX_RTT {
        return RTT_BAD;
    }
    let mut rtt = a.rtt + class.names.get(a.name).map_or(0, |n| n.rtt_adj);
    if a.pkt_vers < VERS_CLNT_OK && a.srvr_id.is_some() {
        rtt += RTT_VERS_ADJ;
    }
    if let Some(v6) = dcc_is_v6 {
        if v6 != a.addr.is_ipv6() {
            rtt += FAMILY_ADJ;
        }
    }
    rtt.min(RTT_BAD - 1)
}

/// Is the chosen server still fast enough to keep?
pub fn good_rtt(class: &ServerClass, dcc_is_v6: Option<bool>) -> bool {
    class
        .chosen
        .and_then(|i| class.addrs.get(i))
        .is_some_and(|a| effective_rtt(class, a, dcc_is_v6) <= class.avg_thold_rtt)
}

/// Choose the address with the smallest effective RTT. Returns true if it
/// answers; sets the base RTT and the threshold for switching (from the
/// second best). The chosen index is kept even for a bad server so that
/// `info` shows which one was tried.
pub fn pick(class: &mut ServerClass, dcc_is_v6: Option<bool>) -> bool {
    class.chosen = None;
    let mut min = (RTT_BAD * 2, None);
    let mut min2 = RTT_BAD * 2;
    for (i, a) in class.addrs.iter().enumerate().rev() {
        if a.name >= class.names.len() {
            continue;
        }
        let rtt = effective_rtt(class, a, dcc_is_v6);
        if rtt < min.0 {
            min2 = min2.min(min.0);
            min = (rtt, Some(i));
        } else if rtt < min2 {
            min2 = rtt;
        }
    }
    class.chosen = min.1;
    if min.0 >= RTT_BAD {
        return false;
    }
    class.base_rtt = (min.0 + DCCD_DELAY).min(MAX_RTT);
    class.thold_rtt = min2 + DCCD_DELAY;
    if class.thold_rtt >= MAX_RTT {
        class.thold_rtt = RTT_BAD;
    }
    true
}

/// After a measurement: keep the long-term threshold for switching back
/// to a good server that was briefly slow.
pub fn update_threshold(class: &mut ServerClass) {
    if class.thold_rtt == RTT_BAD {
        class.avg_thold_rtt = RTT_BAD;
    } else if class.avg_thold_rtt == -RTT_BAD {
        class.avg_thold_rtt = class.base_rtt;
    } else {
        class.avg_thold_rtt = age_avg(class.avg_thold_rtt, class.base_rtt, 9, 1);
    }
}

/// Average a new RTT sample (µs) into an address at date `now`. The first
/// sample of a server that did not answer is taken as is; a sample soon
/// after the previous one counts a third, otherwise a tenth.
pub fn update_rtt(a: &mut ServerAddr, us: i64, now: u64) {
    let us = us.clamp(0, RTT_BAD);
    if a.rtt == RTT_BAD {
        a.rtt = us;
        a.total_xmits = 0;
        a.total_resps = 0;
        a.resp_mem = 0;
        a.rtt_updated = 0;
    } else if now < a.rtt_updated.saturating_add(FAST_RTT_SECS) {
        a.rtt = age_avg(a.rtt, us, 2, 1);
        a.rtt_updated = now;
    } else {
        a.rtt = age_avg(a.rtt, us, 9, 1);
        a.rtt_updated = now;
    }
    a.rtt = a.rtt.min(MAX_RTT);
}

/// One transmission of a request, for the RTT and answer-rate bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Xmit {
    /// Index of the address in the class.
    pub addr: usize,
    /// Microseconds after the start of the operation when it was sent.
    pub sent_us: i64,
    /// The answer's delay (µs), or `None` if unanswered.
    pub answered: Option<i64>,
    /// The address refused it (ICMP unreachable) or sending failed.
    pub failed: bool,
}

/// After an operation that ended `now_us` after its start: charge
/// unanswered transmissions to their server's RTT (as if the answer came
/// just after we gave up), and record answered and unanswered
/// transmissions in each address's answer rate. When `measuring`, an
/// address that answered none of this round's NOPs and none of its
/// recent requests is marked as not answering. Returns the number of
/// addresses that answered.
pub fn resp_rates(
    class: &mut ServerClass,
    log: &[Xmit],
    now_us: i64,
    now: u64,
    measuring: bool,
) -> usize {
    for x in log.iter().filter(|x| x.answered.is_none() && !x.failed) {
        let us2 = log
            .iter()
            .filter(|y| y.addr == x.addr)
            .filter_map(|y| y.answered)
            .max()
            .unwrap_or(0);
        let us = (now_us - x.sent_us).max(us2) + DCCD_DELAY;
        if let Some(a) = class.addrs.get_mut(x.addr) {
            if us2 != 0 || us >= a.rtt {
                update_rtt(a, us, now);
            }
        }
    }
    let mut working = 0;
    for (i, a) in class.addrs.iter_mut().enumerate() {
        let xmits = log.iter().filter(|x| x.addr == i).count();
        let mut resps = log
            .iter()
            .filter(|x| x.addr == i && x.answered.is_some())
            .count();
        if a.rtt == RTT_BAD || xmits == 0 {
            continue;
        }
        if measuring {
            if resps != 0 {
                working += 1;
            } else if a.resp_mem & ((1 << MAX_XMITS) - 1) == 0 {
                a.rtt = RTT_BAD;
                continue;
            }
        }
        let add = u8::try_from(xmits).unwrap_or(TOTAL_XMITS_MAX);
        a.total_xmits = a.total_xmits.saturating_add(add).min(TOTAL_XMITS_MAX);
        for _ in 0..xmits {
            a.total_resps = a.total_resps.saturating_sub((a.resp_mem >> 31) as u8);
            a.resp_mem <<= 1;
            if resps != 0 {
                a.resp_mem |= 1;
                a.total_resps = a.total_resps.saturating_add(1);
                resps -= 1;
            }
        }
    }
    working
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::map::{ClassKind, ServerName};

    fn class(rtts: &[i64]) -> ServerClass {
        let mut c = ServerClass::new(ClassKind::Dcc);
        for (i, r) in rtts.iter().enumerate() {
            c.names.push(ServerName::new(&format!("10.0.0.{i}"), 6277));
            let mut a = ServerAddr::new(format!("10.0.0.{i}:6277").parse().unwrap(), i);
            a.rtt = *r;
            c.addrs.push(a);
        }
        c
    }

    #[test]
    fn picks_fastest_with_adjustments() {
        let mut c = class(&[300_000, 100_000, RTT_BAD]);
        assert!(pick(&mut c, None));
        assert_eq!(c.chosen, Some(1));
        assert_eq!(c.base_rtt, 200_000);
        assert_eq!(c.thold_rtt, 400_000);
        c.names[1].rtt_adj = 500_000;
        assert!(pick(&mut c, None));
        assert_eq!(c.chosen, Some(0));
        // Old protocol versions are penalised.
        c.names[1].rtt_adj = 0;
        c.addrs[1].srvr_id = Some(1000);
        c.addrs[1].pkt_vers = 8;
        assert!(pick(&mut c, None));
        assert_eq!(c.chosen, Some(0));
    }

    #[test]
    fn nothing_answers() {
        let mut c = class(&[RTT_BAD, RTT_BAD]);
        assert!(!pick(&mut c, None));
    }

    #[test]
    fn rtt_average() {
        let mut a = ServerAddr::new("10.0.0.1:6277".parse().unwrap(), 0);
        update_rtt(&mut a, 90_000, 1000);
        assert_eq!(a.rtt, 90_000);
        update_rtt(&mut a, 180_000, 1000);
        // rtt_updated was 0: slow average.
        assert_eq!(a.rtt, 99_000);
        update_rtt(&mut a, 9_000, 1001);
        assert_eq!(a.rtt, 69_000);
    }

    #[test]
    fn rates() {
        let mut c = class(&[100_000]);
        let log = [
            Xmit {
                addr: 0,
                sent_us: 0,
                answered: None,
                failed: false,
            },
            Xmit {
                addr: 0,
                sent_us: 350_000,
                answered: Some(50_000),
                failed: false,
            },
        ];
        assert_eq!(resp_rates(&mut c, &log, 400_000, 5, true), 1);
        assert_eq!((c.addrs[0].total_xmits, c.addrs[0].total_resps), (2, 1));
    }
}
