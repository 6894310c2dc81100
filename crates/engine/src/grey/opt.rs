//! `-G on | off | noIP | IPmask/xx` of dccm and dccifd: whether to
//! greylist, and which part of the SMTP client's address goes into the
//! greylist triple.

use std::net::{IpAddr, Ipv6Addr};
use tally_ck::simple::ip_to_v6;
use tally_ck::Sum;

/// The client's `-G` settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct GreyOpt {
    /// Greylisting is on.
    pub on: bool,
    /// Bits of the (IPv6 or IPv4-mapped) client address kept in the
    /// triple: `None` keeps the IP checksum as it is, `Some(0)` is
    /// `noIP`, `IPmask/24` keeps 120 bits.
    pub mask_bits: Option<u8>,
}

impl GreyOpt {
    /// Apply one `-G` argument: comma-separated words `on`, `off`,
    /// `noIP`, `IPmask/xx` (1 to 127 bits; up to 32 counts as an IPv4
    /// prefix), any case. `noIP` and `IPmask` also turn greylisting on.
    /// As in the original, the words are applied one after the other: a
    /// bad word stops the parse with `Err` (naming the argument), but the
    /// words before it stay applied; each word may be followed by one
    /// comma, so an empty argument is accepted and does nothing while an
    /// empty word (`on,,off`, `,`) is refused.
    pub fn parse(&mut self, arg: &str) -> Result<(), String> {
        let mut rest = arg;
        while !rest.is_empty() {
            let (word, after) = match rest.find(',') {
                Some(i) => (&rest[..i], &rest[i + 1..]),
                None => (rest, ""),
            };
            if word.eq_ignore_ascii_case("on") {
                self.on = true;
            } else if word.eq_ignore_ascii_case("off") {
                self.on = false;
            } else if word.eq_ignore_ascii_case("noIP") {
                self.on = true;
                self.mask_bits = Some(0);
            } else if let Some(bits) = ipmask_bits(word) {
                self.on = true;
                self.mask_bits = Some(bits);
            } else {
                return Err(format!("unrecognized -G \"{arg}\""));
            }
            rest = after;
        }
        Ok(())
    }

    /// The checksum that stands for the client in the triple: the IP
    /// checksum itself, or the checksum of the address with only the
    /// kept bits (`noIP`: of the all-zero address).
    pub fn triple_ip(&self, ip_sum: Sum, ip: Option<IpAddr>) -> Sum {
        let Some(bits) = self.mask_bits else {
            return ip_sum;
        };
        let v6 = ip.map(ip_to_v6).unwrap_or(Ipv6Addr::UNSPECIFIED);
        let mask = if bits == 0 {
            0u128
        } else {
            u128::MAX << (128 - u32::from(bits))
        };
        let kept = Ipv6Addr::from(u128::from(v6) & mask);
        tally_ck::simple::ip_sum(IpAddr::V6(kept))
    }
}

/// `IPmask/xx` as the bits of a 128-bit address, or `None`: any number
/// of decimal digits (leading zeros too) making 1 to 127.
fn ipmask_bits(word: &str) -> Option<u8> {
    let prefix = word.get(..7)?;
    if !prefix.eq_ignore_ascii_case("IPmask/") {
        return None;
    }
    let digits = word.get(7..)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let bits = digits.bytes().fold(0u32, |n, b| {
        n.saturating_mul(10).saturating_add(u32::from(b - b'0'))
    });
    if bits == 0 || bits >= 128 {
        return None;
    }
    // small masks are taken for IPv4 prefixes
    let bits = if bits <= 32 { bits + 96 } else { bits };
    u8::try_from(bits).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_form() {
        let mut o = GreyOpt::default();
        assert!(o.parse("on").is_ok());
        assert_eq!(
            o,
            GreyOpt {
                on: true,
                mask_bits: None
            }
        );
        assert!(o.parse("off").is_ok());
        assert!(!o.on);
        assert!(o.parse("noIP").is_ok());
        assert_eq!(
            o,
            GreyOpt {
                on: true,
                mask_bits: Some(0)
            }
        );
        assert!(o.parse("IPmask/24").is_ok());
        assert_eq!(o.mask_bits, Some(120));
        assert!(o.parse("IPmask/64").is_ok());
        assert_eq!(o.mask_bits, Some(64));
        assert!(o.parse("off,IPmask/16").is_ok());
        assert_eq!(
            o,
            GreyOpt {
                on: true,
                mask_bits: Some(112)
            }
        );
        assert!(o.parse("on,off").is_ok());
        assert!(!o.on);
        // a trailing comma ends the list; an empty argument does nothing
        assert!(o.parse("on,").is_ok());
        assert!(o.on);
        assert!(o.parse("").is_ok());
        assert!(o.on);
        assert!(o.parse("IPmask/024").is_ok());
        assert_eq!(o.mask_bits, Some(120));
        assert!(o.parse("ipMASK/0100").is_ok());
        assert_eq!(o.mask_bits, Some(100));
        for bad in [
            "yes",
            "IPmask/",
            "IPmask/0",
            "IPmask/128",
            "IPmask/2x",
            "IPmask/99999999999999999999",
            ",",
            ",on",
            "on ",
        ] {
            let before = o;
            assert!(o.parse(bad).is_err(), "{bad}");
            assert_eq!(o, before, "{bad}");
        }
    }

    #[test]
    fn words_before_a_bad_one_stay_applied() {
        // as the original's dcc_parse_client_grey(): dccm and dccifd
        // complain and go on with what was parsed
        let mut o = GreyOpt::default();
        assert!(o.parse("on,bogus").is_err());
        assert!(o.on);
        assert!(o.parse("off,,on").is_err());
        assert!(!o.on);
        assert!(o.parse("noIP,on,").is_ok());
        assert_eq!(o.mask_bits, Some(0));
        assert!(o.parse("IPmask/16,off,").is_ok());
        assert_eq!(
            o,
            GreyOpt {
                on: false,
                mask_bits: Some(112)
            }
        );
        assert!(o.parse("on,,").is_err());
        assert!(o.on);
    }

    #[test]
    fn masks_change_the_triple_ip() {
        let ip: IpAddr = "198.51.100.213"
            .parse()
            .unwrap_or(IpAddr::V4([0; 4].into()));
        let same_24: IpAddr = "198.51.100.7".parse().unwrap_or(IpAddr::V4([0; 4].into()));
        let other: IpAddr = "192.0.2.233".parse().unwrap_or(IpAddr::V4([0; 4].into()));
        let sum = tally_ck::simple::ip_sum(ip);
        let on = GreyOpt {
            on: true,
            mask_bits: None,
        };
        assert_eq!(on.triple_ip(sum, Some(ip)), sum);
        let m24 = GreyOpt {
            on: true,
            mask_bits: Some(120),
        };
        let a = m24.triple_ip(sum, Some(ip));
        assert_ne!(a, sum);
        assert_eq!(
            a,
            m24.triple_ip(tally_ck::simple::ip_sum(same_24), Some(same_24))
        );
        assert_ne!(
            a,
            m24.triple_ip(tally_ck::simple::ip_sum(other), Some(other))
        );
        let no = GreyOpt {
            on: true,
            mask_bits: Some(0),
        };
        assert_eq!(
            no.triple_ip(sum, Some(ip)),
            tally_ck::simple::ip_sum(IpAddr::V6(Ipv6Addr::UNSPECIFIED))
        );
        assert_eq!(no.triple_ip(sum, Some(ip)), no.triple_ip(sum, Some(other)));
    }
}
