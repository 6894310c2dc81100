//! Names through the system resolver, as the original's cdcc asks it
//! (the C library: the hosts file, DNS, whatever `nsswitch.conf` names):
//! `getnameinfo` for the names `info -N` shows beside the servers'
//! addresses and `clients` beside its clients' addresses, `getaddrinfo`
//! for the host names `src` takes.
//!
//! [`source`] chooses the source addresses of `src` as the original does,
//! without I/O: its look-ups are passed in.

use std::ffi::{CStr, CString};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use tally_client::map::Ipv6Mode;

/// Most addresses taken from one answer of `getaddrinfo`.
const MAX_ANSWERS: usize = 64;

/// The name of `ip`, as `getnameinfo` with `NI_NAMEREQD` gives it: a
/// name or nothing (never the address as text). Blocks while the
/// resolver works.
pub fn name_of(ip: IpAddr) -> Option<String> {
    match ip {
        IpAddr::V4(a) => {
            // SAFETY: sockaddr_in is a C struct of integers and arrays,
            // for which all bytes zero is a valid value.
            let mut sa: libc::sockaddr_in = unsafe { std::mem::zeroed() };
            sa.sin_family = libc::AF_INET as libc::sa_family_t;
            sa.sin_addr.s_addr = u32::from_ne_bytes(a.octets());
            name_of_sockaddr(&sa)
        }
        IpAddr::V6(a) => {
            // SAFETY: as above, for sockaddr_in6.
            let mut sa: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
            sa.sin6_family = libc::AF_INET6 as libc::sa_family_t;
            sa.sin6_addr.s6_addr = a.octets();
            name_of_sockaddr(&sa)
        }
    }
}

/// A socket address of one family that `getnameinfo` reads whole: only
/// the C structs `sockaddr_in` and `sockaddr_in6`, whose family field
/// [`name_of`] sets.
trait SockAddr {}
impl SockAddr for libc::sockaddr_in {}
impl SockAddr for libc::sockaddr_in6 {}

/// The name of the address `sa`, as [`name_of`] describes it.
fn name_of_sockaddr<T: SockAddr>(sa: &T) -> Option<String> {
    // NI_MAXHOST bytes, the largest name the C library gives
    let mut host = [0u8; 1025];
    let hostlen = host.len() as libc::socklen_t;
    // SAFETY: `sa` is a live, initialised sockaddr_in or sockaddr_in6
    // (the only types of SockAddr), borrowed across the call, and its
    // own size is passed with it, so getnameinfo reads no byte outside
    // it; the pointer to `host` is valid for `hostlen` writable bytes
    // and `host` outlives the call; no service name is asked (null
    // pointer, length 0). getnameinfo writes at most `hostlen` bytes,
    // the name ended by a NUL, and keeps no pointer after it returns.
    let rc = unsafe {
        libc::getnameinfo(
            (sa as *const T).cast::<libc::sockaddr>(),
            std::mem::size_of::<T>() as libc::socklen_t,
            host.as_mut_ptr().cast::<libc::c_char>(),
            hostlen,
            std::ptr::null_mut(),
            0,
            libc::NI_NAMEREQD,
        )
    };
    if rc != 0 {
        return None;
    }
    let name = CStr::from_bytes_until_nul(&host).ok()?.to_string_lossy();
    (!name.is_empty()).then(|| name.into_owned())
}

/// An address family asked of `getaddrinfo`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    V4,
    V6,
}

/// The addresses of `host` in `family`, in the resolver's order, as
/// `getaddrinfo` gives them (asked for TCP, as the original does, so that
/// each address comes once); the resolver's words (`gai_strerror`) when
/// it fails. Blocks while the resolver works.
pub fn addrs_of(host: &str, family: Family) -> Result<Vec<IpAddr>, String> {
    let Ok(node) = CString::new(host) else {
        return Err(gai_text(libc::EAI_NONAME));
    };
    // SAFETY: addrinfo is a C struct of integers and pointers, for which
    // all bytes zero (null pointers) is a valid value.
    let mut hints: libc::addrinfo = unsafe { std::mem::zeroed() };
    hints.ai_family = match family {
        Family::V4 => libc::AF_INET,
        Family::V6 => libc::AF_INET6,
    };
    hints.ai_protocol = libc::IPPROTO_TCP;
    let mut res: *mut libc::addrinfo = std::ptr::null_mut();
    // SAFETY: `node` is a NUL-ended string alive across the call, no
    // service is asked (null), `hints` is an initialised addrinfo with
    // null pointers, and `res` is a place for the list's head.
    let rc = unsafe { libc::getaddrinfo(node.as_ptr(), std::ptr::null(), &hints, &mut res) };
    if rc != 0 {
        return Err(gai_text(rc));
    }
    let mut out = Vec::new();
    let mut p = res;
    while !p.is_null() && out.len() < MAX_ANSWERS {
        // SAFETY: `p` is the head or a successor of the list getaddrinfo
        // returned, not yet freed: a valid addrinfo.
        let ai = unsafe { &*p };
        let len = ai.ai_addrlen as usize;
        if ai.ai_addr.is_null() {
            // nothing to read
        } else if ai.ai_family == libc::AF_INET && len >= std::mem::size_of::<libc::sockaddr_in>() {
            // SAFETY: for AF_INET, ai_addr points to `len` bytes, at
            // least a sockaddr_in, owned by the list; read without
            // assuming its alignment.
            let sa = unsafe { std::ptr::read_unaligned(ai.ai_addr.cast::<libc::sockaddr_in>()) };
            out.push(IpAddr::V4(Ipv4Addr::from(sa.sin_addr.s_addr.to_ne_bytes())));
        } else if ai.ai_family == libc::AF_INET6 && len >= std::mem::size_of::<libc::sockaddr_in6>()
        {
            // SAFETY: as above, a sockaddr_in6 for AF_INET6.
            let sa = unsafe { std::ptr::read_unaligned(ai.ai_addr.cast::<libc::sockaddr_in6>()) };
            out.push(IpAddr::V6(Ipv6Addr::from(sa.sin6_addr.s6_addr)));
        }
        p = ai.ai_next;
    }
    // SAFETY: `res` is the list getaddrinfo returned (rc == 0), freed
    // once; nothing read from it is used after this.
    unsafe { libc::freeaddrinfo(res) };
    Ok(out)
}

/// The resolver's words for a `getaddrinfo` error.
fn gai_text(rc: libc::c_int) -> String {
    // SAFETY: gai_strerror returns a pointer to a static NUL-ended
    // string for any code.
    unsafe { CStr::from_ptr(libc::gai_strerror(rc)) }
        .to_string_lossy()
        .into_owned()
}

/// A look-up of a host name's addresses of one family, as [`addrs_of`].
pub type Lookup<'a> = dyn FnMut(&str, Family) -> Result<Vec<IpAddr>, String> + 'a;

/// What `src` sets: at most one IPv4 and one IPv6 address.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Source {
    pub v4: Option<Ipv4Addr>,
    pub v6: Option<Ipv6Addr>,
}

impl Source {
    /// As `src=` writes it: the IPv4 address first; `None` when there is
    /// neither.
    pub fn text(&self) -> Option<String> {
        match (self.v4, self.v6) {
            (None, None) => None,
            (Some(a), None) => Some(a.to_string()),
            (None, Some(b)) => Some(b.to_string()),
            (Some(a), Some(b)) => Some(format!("{a},{b}")),
        }
    }

    /// Take `ip` for its family unless that family has one already.
    fn take(&mut self, ip: IpAddr) {
        match ip {
            IpAddr::V4(a) => {
                self.v4.get_or_insert(a);
            }
            IpAddr::V6(b) => {
                self.v6.get_or_insert(b);
            }
        }
    }
}

/// The source addresses of `src A[,B]`, as the original chooses them:
/// each of `parts` in turn fills the family it gives if that family has
/// none yet. An IP address is taken as it is, refused when its family is
/// switched off (`IPv6 off` or `only`). Another word is a host name,
/// asked of `lookup` for IPv4 then IPv6 addresses (only one family when
/// the other is off; IPv6 then IPv4 with `IPv6 only`); its first address
/// of each family counts. `@` stands for the loopback addresses and `*`
/// for the unspecified ones, without a look-up; unspecified addresses a
/// look-up gives are left out. A name without any address fails with
/// `NAME: ` and the resolver's last complaint.
pub fn source(parts: &[&str], mode: Ipv6Mode, lookup: &mut Lookup<'_>) -> Result<Source, String> {
    let mut src = Source::default();
    for part in parts {
        if let Ok(ip) = part.parse::<IpAddr>() {
            match (ip, mode) {
                (IpAddr::V4(_), Ipv6Mode::Only) => {
                    return Err("cannot use IPv4 source address when IPv4 disabled".into())
                }
                (IpAddr::V6(_), Ipv6Mode::Off) => {
                    return Err("cannot use IPv6 source address when IPv6 disabled".into())
                }
                _ => src.take(ip),
            }
            continue;
        }
        let found: Vec<IpAddr> = match *part {
            "@" => vec![Ipv4Addr::LOCALHOST.into(), Ipv6Addr::LOCALHOST.into()],
            "*" => vec![Ipv4Addr::UNSPECIFIED.into(), Ipv6Addr::UNSPECIFIED.into()],
            name => {
                let asks: &[Family] = match mode {
                    Ipv6Mode::Off => &[Family::V4],
                    Ipv6Mode::On => &[Family::V4, Family::V6],
                    Ipv6Mode::Only => &[Family::V6, Family::V4],
                };
                let mut found = Vec::new();
                let mut complaint = None;
                for (i, fam) in asks.iter().enumerate() {
                    // with `IPv6 only`, IPv4 is asked only when IPv6 gave
                    // nothing (its addresses are not used, its complaint is)
                    if i == 1 && mode == Ipv6Mode::Only && !found.is_empty() {
                        break;
                    }
                    match lookup(name, *fam) {
                        Ok(v) => found.extend(v.into_iter().filter(|ip| !ip.is_unspecified())),
                        Err(e) => complaint = Some(e),
                    }
                }
                found.retain(|ip| match mode {
                    Ipv6Mode::Off => ip.is_ipv4(),
                    Ipv6Mode::Only => ip.is_ipv6(),
                    Ipv6Mode::On => true,
                });
                if found.is_empty() {
                    let why = complaint.unwrap_or_else(|| "No address associated with name".into());
                    return Err(format!("{name}: {why}"));
                }
                found
            }
        };
        for ip in found {
            match (ip, mode) {
                (IpAddr::V4(_), Ipv6Mode::Only) | (IpAddr::V6(_), Ipv6Mode::Off) => {}
                _ => src.take(ip),
            }
        }
    }
    Ok(src)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A resolver of two names, counting its questions.
    fn fake(
        asked: &mut Vec<(String, Family)>,
    ) -> impl FnMut(&str, Family) -> Result<Vec<IpAddr>, String> + '_ {
        move |name, fam| {
            asked.push((name.to_string(), fam));
            let ip = |s: &str| s.parse::<IpAddr>().unwrap();
            match (name, fam) {
                ("both.example", Family::V4) => Ok(vec![ip("192.0.2.1"), ip("192.0.2.2")]),
                ("both.example", Family::V6) => Ok(vec![ip("2001:db8::1"), ip("2001:db8::2")]),
                ("v4.example", Family::V4) => Ok(vec![ip("0.0.0.0"), ip("192.0.2.9")]),
                _ => Err("Name or service not known".into()),
            }
        }
    }

    #[test]
    fn names_and_addresses() {
        let mut asked = Vec::new();
        let mut f = fake(&mut asked);
        let s = source(&["both.example"], Ipv6Mode::On, &mut f).unwrap();
        assert_eq!(s.text().as_deref(), Some("192.0.2.1,2001:db8::1"));
        let s = source(&["both.example"], Ipv6Mode::Off, &mut f).unwrap();
        assert_eq!(s.text().as_deref(), Some("192.0.2.1"));
        let s = source(&["both.example"], Ipv6Mode::Only, &mut f).unwrap();
        assert_eq!(s.text().as_deref(), Some("2001:db8::1"));
        // the first part fills its families first; the unspecified
        // address of an answer is left out
        let s = source(&["2001:db8::7", "both.example"], Ipv6Mode::On, &mut f).unwrap();
        assert_eq!(s.text().as_deref(), Some("192.0.2.1,2001:db8::7"));
        let s = source(&["v4.example", "2001:db8::7"], Ipv6Mode::On, &mut f).unwrap();
        assert_eq!(s.text().as_deref(), Some("192.0.2.9,2001:db8::7"));
        // IP addresses: IPv4 first, one per family
        let s = source(&["2001:db8::7", "192.0.2.7"], Ipv6Mode::On, &mut f).unwrap();
        assert_eq!(s.text().as_deref(), Some("192.0.2.7,2001:db8::7"));
        let s = source(&["@"], Ipv6Mode::On, &mut f).unwrap();
        assert_eq!(s.text().as_deref(), Some("127.0.0.1,::1"));
        let s = source(&["*", "192.0.2.7"], Ipv6Mode::Off, &mut f).unwrap();
        assert_eq!(s.text().as_deref(), Some("0.0.0.0"));
        drop(f);
        assert_eq!(
            asked,
            [
                ("both.example".to_string(), Family::V4),
                ("both.example".to_string(), Family::V6),
                ("both.example".to_string(), Family::V4),
                ("both.example".to_string(), Family::V6),
                ("both.example".to_string(), Family::V4),
                ("both.example".to_string(), Family::V6),
                ("v4.example".to_string(), Family::V4),
                ("v4.example".to_string(), Family::V6),
            ]
        );
    }

    #[test]
    fn refusals() {
        let mut asked = Vec::new();
        let mut f = fake(&mut asked);
        assert_eq!(
            source(&["nowhere.example"], Ipv6Mode::On, &mut f),
            Err("nowhere.example: Name or service not known".into())
        );
        // a name with only IPv4 addresses and IPv6 only: IPv4 asked too,
        // but not used
        assert_eq!(
            source(&["v4.example"], Ipv6Mode::Only, &mut f),
            Err("v4.example: Name or service not known".into())
        );
        assert_eq!(
            source(&["192.0.2.7"], Ipv6Mode::Only, &mut f),
            Err("cannot use IPv4 source address when IPv4 disabled".into())
        );
        assert_eq!(
            source(&["::1"], Ipv6Mode::Off, &mut f),
            Err("cannot use IPv6 source address when IPv6 disabled".into())
        );
        assert_eq!(Source::default().text(), None);
    }

    /// The system resolver on loopback: the hosts file gives `localhost`
    /// for 127.0.0.1 and 127.0.0.1 for `localhost` (IPv4 asked only, so
    /// that no question leaves the machine).
    #[test]
    fn system_resolver_on_loopback() {
        assert_eq!(
            name_of(Ipv4Addr::LOCALHOST.into()).as_deref(),
            Some("localhost")
        );
        let a = addrs_of("localhost", Family::V4).unwrap();
        assert_eq!(a.first(), Some(&IpAddr::V4(Ipv4Addr::LOCALHOST)));
        assert!(a.iter().all(|ip| ip.is_ipv4()));
        // an address as a name is not looked up
        assert_eq!(
            addrs_of("127.0.0.1", Family::V4).unwrap(),
            [IpAddr::V4(Ipv4Addr::LOCALHOST)]
        );
        assert!(addrs_of("local\0host", Family::V4).is_err());
    }
}

/// The port of a service name as `getservbyname(name, NULL)` finds it in
/// the system's services file: the first line naming it (as its name or
/// an alias), whatever its protocol.
pub fn service_port(name: &str) -> Option<u16> {
    let text = std::fs::read_to_string("/etc/services").ok()?;
    service_port_in(&text, name)
}

/// [`service_port`] on the text of a services file.
pub fn service_port_in(text: &str, name: &str) -> Option<u16> {
    if name.is_empty() {
        return None;
    }
    text.lines().find_map(|line| {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let service = words.next()?;
        let port = words.next()?.split('/').next()?.parse::<u16>().ok()?;
        (service == name || words.any(|w| w == name)).then_some(port)
    })
}

#[cfg(test)]
mod service_tests {
    use super::service_port_in;

    #[test]
    fn services_file() {
        let text = "# comment\ndomain\t\t53/tcp\t\t\t# Domain Name Server\ndomain 53/udp\nhttp 80/tcp www # WorldWideWeb HTTP\n";
        assert_eq!(service_port_in(text, "domain"), Some(53));
        assert_eq!(service_port_in(text, "www"), Some(80));
        assert_eq!(service_port_in(text, "WWW"), None);
        assert_eq!(service_port_in(text, "Domain"), None);
        assert_eq!(service_port_in(text, ""), None);
    }
}
