//! A lease as offered or acknowledged, decoded from a message with every
//! value validated: names follow the RFC 1035/1123 label rules, numbers are
//! range-checked, option 121 is parsed as RFC 3442 says. What fails a check
//! is dropped with a warning; it never reaches a script or a file.

use super::msg::{opt, Message};
use std::net::Ipv4Addr;

/// A lease shorter than this is treated as this long (a zero or tiny lease
/// would make the client renew in a busy loop).
pub const MIN_LEASE: u32 = 10;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route {
    pub net: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lease {
    pub ip: Ipv4Addr,
    pub server: Ipv4Addr,
    pub prefix: u8,
    pub broadcast: Option<Ipv4Addr>,
    pub routers: Vec<Ipv4Addr>,
    pub dns: Vec<Ipv4Addr>,
    pub ntp: Vec<Ipv4Addr>,
    pub domain: Option<String>,
    pub hostname: Option<String>,
    pub search: Vec<String>,
    pub mtu: Option<u16>,
    /// Option 121; when present, `routers` is not used for routes (RFC 3442).
    pub routes: Vec<Route>,
    /// Seconds; u32::MAX is infinite.
    pub lease: u32,
    pub t1: u32,
    pub t2: u32,
    pub siaddr: Ipv4Addr,
    pub sname: Option<String>,
    pub boot_file: Option<String>,
    /// Other options, for `optNN` in the script environment.
    pub other: Vec<(u8, Vec<u8>)>,
    pub warnings: Vec<String>,
}

/// RFC 1123 host name or domain: labels of 1–63 letters, digits and
/// hyphens, not starting or ending with a hyphen, 253 characters at most.
pub fn valid_domain(s: &str) -> bool {
    let s = s.strip_suffix('.').unwrap_or(s);
    !s.is_empty()
        && s.len() <= 253
        && s.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !l.starts_with('-')
                && !l.ends_with('-')
        })
}

fn name_option(m: &Message, code: u8, what: &str, warnings: &mut Vec<String>) -> Option<String> {
    let raw = m.get(code)?;
    // a trailing NUL is common and harmless
    let raw = raw.strip_suffix(&[0]).unwrap_or(raw);
    match std::str::from_utf8(raw) {
        Ok(s) if valid_domain(s) => Some(s.to_string()),
        _ => {
            warnings.push(format!(
                "ignoring invalid {what} (option {code}): {:?}",
                String::from_utf8_lossy(raw)
            ));
            None
        }
    }
}

fn ip_list(m: &Message, code: u8, warnings: &mut Vec<String>) -> Vec<Ipv4Addr> {
    match m.get(code) {
        None => Vec::new(),
        Some(b) if !b.is_empty() && b.len() % 4 == 0 => b
            .chunks(4)
            .map(|c| Ipv4Addr::new(c[0], c[1], c[2], c[3]))
            .collect(),
        Some(b) => {
            warnings.push(format!(
                "ignoring option {code}: {} bytes is not a list of addresses",
                b.len()
            ));
            Vec::new()
        }
    }
}

fn one_ip(m: &Message, code: u8, warnings: &mut Vec<String>) -> Option<Ipv4Addr> {
    match m.get(code)? {
        [a, b, c, d] => Some(Ipv4Addr::new(*a, *b, *c, *d)),
        other => {
            warnings.push(format!(
                "ignoring option {code}: {} bytes is not an address",
                other.len()
            ));
            None
        }
    }
}

fn u32_opt(m: &Message, code: u8) -> Option<u32> {
    match m.get(code)? {
        [a, b, c, d] => Some(u32::from_be_bytes([*a, *b, *c, *d])),
        _ => None,
    }
}

/// Prefix length of a contiguous netmask (the one rule, `common::net`).
pub use common::net::mask_to_prefix as mask_prefix;
/// The netmask of a prefix length (`common::net`).
pub use common::net::prefix_to_mask as prefix_mask;

/// Option 121 (RFC 3442): width, significant octets of the destination, router.
pub fn classless_routes(b: &[u8]) -> Result<Vec<Route>, String> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let prefix = b[i];
        if prefix > 32 {
            return Err(format!("prefix length {prefix} over 32"));
        }
        let n = (prefix as usize).div_ceil(8);
        if i + 1 + n + 4 > b.len() {
            return Err("truncated".into());
        }
        let mut net = [0u8; 4];
        net[..n].copy_from_slice(&b[i + 1..i + 1 + n]);
        let g = &b[i + 1 + n..i + 5 + n];
        let net = Ipv4Addr::from(u32::from_be_bytes(net) & u32::from(prefix_mask(prefix)));
        out.push(Route {
            net,
            prefix,
            gateway: Ipv4Addr::new(g[0], g[1], g[2], g[3]),
        });
        i += 5 + n;
    }
    Ok(out)
}

/// Option 119 (RFC 3397): names in DNS wire format, with compression
/// pointers into the option itself.
pub fn domain_search(b: &[u8]) -> Result<Vec<String>, String> {
    let mut names = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let (name, next) = read_name(b, i)?;
        names.push(name);
        i = next;
    }
    Ok(names)
}

fn read_name(b: &[u8], start: usize) -> Result<(String, usize), String> {
    let mut labels: Vec<String> = Vec::new();
    let mut i = start;
    let mut end = None;
    let mut jumps = 0;
    loop {
        let len = *b.get(i).ok_or("truncated name")? as usize;
        if len == 0 {
            end.get_or_insert(i + 1);
            break;
        }
        if len & 0xc0 == 0xc0 {
            let lo = *b.get(i + 1).ok_or("truncated pointer")? as usize;
            end.get_or_insert(i + 2);
            i = ((len & 0x3f) << 8) | lo;
            jumps += 1;
            if jumps > 32 {
                return Err("pointer loop".into());
            }
            continue;
        }
        if len > 63 {
            return Err("label longer than 63".into());
        }
        let label = b.get(i + 1..i + 1 + len).ok_or("truncated label")?;
        labels.push(String::from_utf8_lossy(label).into_owned());
        i += 1 + len;
    }
    let name = labels.join(".");
    if !valid_domain(&name) {
        return Err(format!("invalid name {name:?}"));
    }
    Ok((name, end.unwrap_or(i + 1)))
}

fn bootp_string(b: &[u8]) -> Option<String> {
    let s = b.split(|&c| c == 0).next().unwrap_or(&[]);
    (!s.is_empty() && s.iter().all(|&c| c.is_ascii_graphic()))
        .then(|| String::from_utf8_lossy(s).into_owned())
}

impl Lease {
    /// The lease in an OFFER or ACK. `None` when it offers no address.
    pub fn from_message(m: &Message) -> Option<Lease> {
        if m.yiaddr.is_unspecified() || m.yiaddr.is_broadcast() || m.yiaddr.is_multicast() {
            return None;
        }
        let mut w = Vec::new();
        let server = one_ip(m, opt::SERVER_ID, &mut w).unwrap_or(m.siaddr);
        let prefix = match one_ip(m, opt::SUBNET_MASK, &mut w) {
            Some(mask) => mask_prefix(mask).unwrap_or_else(|| {
                w.push(format!("ignoring non-contiguous subnet mask {mask}"));
                natural_prefix(m.yiaddr)
            }),
            None => natural_prefix(m.yiaddr),
        };
        let mut lease = u32_opt(m, opt::LEASE_TIME).unwrap_or(3600);
        if lease < MIN_LEASE {
            w.push(format!("lease time {lease}s too short, using {MIN_LEASE}s"));
            lease = MIN_LEASE;
        }
        let (mut t1, mut t2) = (lease / 2, (lease as u64 * 7 / 8) as u32);
        match (u32_opt(m, opt::T1), u32_opt(m, opt::T2)) {
            (Some(a), Some(b)) if a > 0 && a < b && b < lease => (t1, t2) = (a, b),
            (Some(a), None) if a > 0 && a < t2 => t1 = a,
            (None, Some(b)) if b > t1 && b < lease => t2 = b,
            (None, None) => {}
            (a, b) => w.push(format!(
                "ignoring T1/T2 {a:?}/{b:?}: not 0 < T1 < T2 < lease"
            )),
        }
        if lease == u32::MAX {
            (t1, t2) = (u32::MAX, u32::MAX);
        }
        let routes = match m.get(opt::CLASSLESS_ROUTES) {
            None => Vec::new(),
            Some(b) => classless_routes(b).unwrap_or_else(|e| {
                w.push(format!(
                    "ignoring classless static routes (option 121): {e}"
                ));
                Vec::new()
            }),
        };
        let search = match m.get(opt::DOMAIN_SEARCH) {
            None => Vec::new(),
            Some(b) => domain_search(b).unwrap_or_else(|e| {
                w.push(format!("ignoring domain search (option 119): {e}"));
                Vec::new()
            }),
        };
        let mtu = match m.get(opt::MTU) {
            None => None,
            Some(&[a, b]) if u16::from_be_bytes([a, b]) >= 68 => Some(u16::from_be_bytes([a, b])),
            Some(b) => {
                w.push(format!("ignoring MTU option {b:?}"));
                None
            }
        };
        // what a lease, the protocol or the client itself uses; the rest
        // goes to the script as optNN
        const USED: [u8; 7] = [
            opt::OVERLOAD,
            opt::MSG_TYPE,
            opt::CLASSLESS_ROUTES,
            opt::MESSAGE,
            opt::CLIENT_ID,
            opt::FQDN,
            opt::PARAM_LIST,
        ];
        let other = m
            .options
            .iter()
            .filter(|(c, _)| !opt::REQUESTED.contains(c) && !USED.contains(c))
            .cloned()
            .collect();
        // FQDN (81) from a server is not used, but a bad one is reported.
        if let Some(f) = m.get(opt::FQDN) {
            if f.len() > 3 && !valid_domain(&String::from_utf8_lossy(&f[3..])) {
                w.push("ignoring invalid FQDN (option 81)".into());
            }
        }
        Some(Lease {
            ip: m.yiaddr,
            server,
            prefix,
            broadcast: one_ip(m, opt::BROADCAST, &mut w),
            routers: ip_list(m, opt::ROUTER, &mut w),
            dns: ip_list(m, opt::DNS, &mut w),
            ntp: ip_list(m, opt::NTP, &mut w),
            domain: name_option(m, opt::DOMAIN_NAME, "domain name", &mut w),
            hostname: name_option(m, opt::HOSTNAME, "host name", &mut w),
            search,
            mtu,
            routes,
            lease,
            t1,
            t2,
            siaddr: m.siaddr,
            sname: bootp_string(&m.sname),
            boot_file: bootp_string(&m.file),
            other,
            warnings: w,
        })
    }

    pub fn mask(&self) -> Ipv4Addr {
        prefix_mask(self.prefix)
    }

    pub fn broadcast_or_default(&self) -> Ipv4Addr {
        self.broadcast
            .unwrap_or_else(|| Ipv4Addr::from(u32::from(self.ip) | !u32::from(self.mask())))
    }

    /// The routes to install: option 121 when present (the router option is
    /// then ignored, RFC 3442), else a default route via the first router.
    pub fn effective_routes(&self, use_classless: bool) -> Vec<Route> {
        if use_classless && !self.routes.is_empty() {
            return self.routes.clone();
        }
        self.routers
            .first()
            .map(|&g| {
                vec![Route {
                    net: Ipv4Addr::UNSPECIFIED,
                    prefix: 0,
                    gateway: g,
                }]
            })
            .unwrap_or_default()
    }

    /// The environment BusyBox udhcpc gives its script (`bound`/`renew`).
    pub fn script_env(&self, interface: &str, msg_type: u8) -> Vec<(String, String)> {
        let join = |v: &[Ipv4Addr]| {
            v.iter()
                .map(|a| a.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        };
        let mut env = vec![
            ("interface".to_string(), interface.to_string()),
            ("ip".into(), self.ip.to_string()),
            ("siaddr".into(), self.siaddr.to_string()),
            ("subnet".into(), self.mask().to_string()),
            ("mask".into(), self.prefix.to_string()),
            ("broadcast".into(), self.broadcast_or_default().to_string()),
            ("serverid".into(), self.server.to_string()),
            ("lease".into(), self.lease.to_string()),
            ("dhcptype".into(), msg_type.to_string()),
        ];
        let mut add = |k: &str, v: String| {
            if !v.is_empty() {
                env.push((k.to_string(), v));
            }
        };
        add("router", join(&self.routers));
        add("dns", join(&self.dns));
        add("ntpsrv", join(&self.ntp));
        add("domain", self.domain.clone().unwrap_or_default());
        add("hostname", self.hostname.clone().unwrap_or_default());
        add("search", self.search.join(" "));
        add("mtu", self.mtu.map(|m| m.to_string()).unwrap_or_default());
        add("sname", self.sname.clone().unwrap_or_default());
        add("boot_file", self.boot_file.clone().unwrap_or_default());
        add(
            "staticroutes",
            self.routes
                .iter()
                .map(|r| format!("{}/{} {}", r.net, r.prefix, r.gateway))
                .collect::<Vec<_>>()
                .join(" "),
        );
        for (code, data) in &self.other {
            add(
                &format!("opt{code}"),
                data.iter().map(|b| format!("{b:02x}")).collect(),
            );
        }
        env
    }
}

/// The lease state file (`STATE_DIR/IF.lease`) that lets a restarted client
/// ask for its address again (INIT-REBOOT): `IP SERVER LEASE_SECS
/// WRITTEN_AT_UNIX`, one line.
pub fn state_text(l: &Lease, now_unix: u64) -> String {
    format!("{} {} {} {}\n", l.ip, l.server, l.lease, now_unix)
}

/// A remembered lease read back from `state_text` (any text: the file is
/// outside input) and how much of it is left at `now_unix`; `None` when it is
/// malformed or over.
pub fn from_state(text: &str, mac: [u8; 6], now_unix: u64) -> Option<(Lease, std::time::Duration)> {
    let mut f = text.split_whitespace();
    let ip: Ipv4Addr = f.next()?.parse().ok()?;
    let server: Ipv4Addr = f.next()?.parse().ok()?;
    let lease: u64 = f.next()?.parse().ok()?;
    let at: u64 = f.next()?.parse().ok()?;
    // both numbers are outside input: their sum can pass u64
    let left = at.checked_add(lease)?.checked_sub(now_unix)?;
    let mut m = Message::new(super::msg::BOOTREPLY, 0, mac);
    m.yiaddr = ip;
    m.set(opt::SERVER_ID, server.octets().to_vec());
    m.set(opt::LEASE_TIME, (lease as u32).to_be_bytes().to_vec());
    Some((
        Lease::from_message(&m)?,
        std::time::Duration::from_secs(left),
    ))
}

/// A well-formed state whose lease is over at `now_unix` (no fault: the
/// box was off longer than the lease), as opposed to a malformed one.
pub fn expired_state(text: &str, now_unix: u64) -> bool {
    let f: Vec<&str> = text.split_whitespace().collect();
    let [ip, server, lease, at] = f[..] else {
        return false;
    };
    let (Ok(_), Ok(_), Ok(lease), Ok(at)) = (
        ip.parse::<Ipv4Addr>(),
        server.parse::<Ipv4Addr>(),
        lease.parse::<u64>(),
        at.parse::<u64>(),
    ) else {
        return false;
    };
    at.checked_add(lease).is_some_and(|end| end < now_unix)
}

/// The classful prefix an address has when no subnet mask is given.
fn natural_prefix(ip: Ipv4Addr) -> u8 {
    match ip.octets()[0] {
        0..=127 => 8,
        128..=191 => 16,
        _ => 24,
    }
}

#[cfg(test)]
mod tests {
    use super::super::msg::{Message, BOOTREPLY};
    use super::*;

    fn reply() -> Message {
        let mut m = Message::new(BOOTREPLY, 7, [2, 0, 0, 0, 0, 1]);
        m.yiaddr = Ipv4Addr::new(10, 0, 2, 15);
        m.set(opt::MSG_TYPE, vec![5]);
        m.set(opt::SERVER_ID, vec![10, 0, 2, 2]);
        m.set(opt::SUBNET_MASK, vec![255, 255, 255, 0]);
        m.set(opt::ROUTER, vec![10, 0, 2, 2]);
        m.set(opt::DNS, vec![10, 0, 2, 3, 1, 1, 1, 1]);
        m.set(opt::LEASE_TIME, 86400u32.to_be_bytes().to_vec());
        m.set(opt::DOMAIN_NAME, b"lan.example".to_vec());
        m
    }

    #[test]
    fn the_state_file_round_trips_and_bad_ones_are_refused() {
        let mac = [2, 0, 0, 0, 0, 1];
        let (l, left) = from_state("10.0.2.15 10.0.2.2 3600 1000\n", mac, 1600).unwrap();
        assert_eq!(
            (l.ip, l.server, l.lease),
            (
                Ipv4Addr::new(10, 0, 2, 15),
                Ipv4Addr::new(10, 0, 2, 2),
                3600
            )
        );
        assert_eq!(left.as_secs(), 3000);
        assert_eq!(state_text(&l, 1000), "10.0.2.15 10.0.2.2 3600 1000\n");
        assert!(
            from_state("10.0.2.15 10.0.2.2 3600 1000", mac, 4601).is_none(),
            "over"
        );
        assert!(from_state("10.0.2.15 10.0.2.2 x 1000", mac, 0).is_none());
        assert!(from_state("10.0.2.15", mac, 0).is_none());
        // an expired lease is told apart from a malformed state
        assert!(expired_state("10.0.2.15 10.0.2.2 3600 1000\n", 4601));
        assert!(!expired_state("10.0.2.15 10.0.2.2 3600 1000\n", 4600));
        assert!(!expired_state("10.0.2.15 10.0.2.2 x 1000", 9999));
        assert!(!expired_state("\u{feff}10.0.2.15 10.0.2.2 3600 1000", 9999));
        assert!(!expired_state(
            "10.0.2.15 10.0.2.2 3600 18446744073709551615",
            0
        ));
        // Found by the dhcp_lease_state fuzz target: written-at plus lease
        // time overflowed (a panic in debug builds, a wrong lease in release).
        assert!(from_state("10.0.2.15 10.0.2.2 3600 18446744073709551615", mac, 0).is_none());
    }

    #[test]
    fn a_normal_lease() {
        let l = Lease::from_message(&reply()).unwrap();
        assert_eq!(l.prefix, 24);
        assert_eq!((l.t1, l.t2), (43200, 75600));
        assert_eq!(l.broadcast_or_default(), Ipv4Addr::new(10, 0, 2, 255));
        assert!(l.warnings.is_empty(), "{:?}", l.warnings);
        let env = l.script_env("eth0", 5);
        let get = |k: &str| env.iter().find(|(a, _)| a == k).map(|(_, v)| v.as_str());
        assert_eq!(get("ip"), Some("10.0.2.15"));
        assert_eq!(get("subnet"), Some("255.255.255.0"));
        assert_eq!(get("mask"), Some("24"));
        assert_eq!(get("router"), Some("10.0.2.2"));
        assert_eq!(get("dns"), Some("10.0.2.3 1.1.1.1"));
        assert_eq!(get("domain"), Some("lan.example"));
        assert_eq!(get("serverid"), Some("10.0.2.2"));
        assert_eq!(get("lease"), Some("86400"));
        assert_eq!(get("hostname"), None);
    }

    #[test]
    fn hostile_names_are_dropped() {
        for bad in [
            &b"x; reboot"[..],
            b"$(id)",
            b"a'b",
            b"line\nbreak",
            b"-leading",
            b"\xff\xfe",
            b"",
            &[b'a'; 300],
        ] {
            let mut m = reply();
            m.set(opt::HOSTNAME, bad.to_vec());
            m.set(opt::DOMAIN_NAME, bad.to_vec());
            let l = Lease::from_message(&m).unwrap();
            assert_eq!(
                (l.hostname.clone(), l.domain.clone()),
                (None, None),
                "{bad:?}"
            );
            assert_eq!(l.warnings.len(), 2);
        }
        assert!(valid_domain("router-1.lan"));
        assert!(!valid_domain("a..b"));
    }

    #[test]
    fn numbers_are_range_checked() {
        let mut m = reply();
        m.set(opt::LEASE_TIME, vec![0, 0, 0, 0]);
        m.set(opt::T1, 100u32.to_be_bytes().to_vec());
        m.set(opt::T2, 50u32.to_be_bytes().to_vec());
        m.set(opt::SUBNET_MASK, vec![255, 0, 255, 0]);
        m.set(opt::MTU, vec![0, 10]);
        let l = Lease::from_message(&m).unwrap();
        assert_eq!(l.lease, MIN_LEASE);
        assert!(l.t1 < l.t2 && l.t2 < l.lease);
        assert_eq!(l.prefix, 8, "a bad mask falls back to the natural one");
        assert_eq!(l.mtu, None);
        assert_eq!(l.warnings.len(), 4, "{:?}", l.warnings);
        let mut m = reply();
        m.yiaddr = Ipv4Addr::UNSPECIFIED;
        assert!(Lease::from_message(&m).is_none());
    }

    #[test]
    fn classless_routes_take_precedence_over_router() {
        let mut m = reply();
        // 10.1.0.0/16 via 10.0.2.9, 0.0.0.0/0 via 10.0.2.1
        m.set(
            opt::CLASSLESS_ROUTES,
            vec![16, 10, 1, 10, 0, 2, 9, 0, 10, 0, 2, 1],
        );
        let l = Lease::from_message(&m).unwrap();
        let r = l.effective_routes(true);
        assert_eq!(r.len(), 2);
        assert_eq!(
            (r[0].net, r[0].prefix, r[0].gateway),
            (Ipv4Addr::new(10, 1, 0, 0), 16, Ipv4Addr::new(10, 0, 2, 9))
        );
        assert_eq!((r[1].prefix, r[1].gateway), (0, Ipv4Addr::new(10, 0, 2, 1)));
        // switched off (TunnelVision): the router option again
        assert_eq!(
            l.effective_routes(false)[0].gateway,
            Ipv4Addr::new(10, 0, 2, 2)
        );
        let env = l.script_env("eth0", 5);
        assert!(env.contains(&(
            "staticroutes".into(),
            "10.1.0.0/16 10.0.2.9 0.0.0.0/0 10.0.2.1".into()
        )));
        // bad prefix length: the option is dropped, the lease kept
        m.set(opt::CLASSLESS_ROUTES, vec![33, 10, 1, 2, 3, 4, 10, 0, 2, 9]);
        let l = Lease::from_message(&m).unwrap();
        assert!(l.routes.is_empty());
        assert_eq!(
            l.effective_routes(true)[0].gateway,
            Ipv4Addr::new(10, 0, 2, 2)
        );
        assert!(classless_routes(&[24, 10, 1]).is_err());
    }

    #[test]
    fn domain_search_with_compression() {
        // "eng.example.com", "example.com" (pointer to offset 4)
        let b = [
            3, b'e', b'n', b'g', 7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm',
            0, 0xc0, 4,
        ];
        assert_eq!(
            domain_search(&b).unwrap(),
            ["eng.example.com", "example.com"]
        );
        assert!(domain_search(&[0xc0, 0]).is_err(), "pointer loop");
        assert!(domain_search(&[3, b'a', b';', b'b', 0]).is_err());
        assert!(domain_search(&[5, b'a']).is_err());
    }
}
