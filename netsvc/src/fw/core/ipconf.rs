//! ipconf files, the seed's network configuration format, parsed without
//! a shell: `key=value` lines (values bare, 'single' or "double" quoted) or
//! BusyBox's array form (`let cfg=cfg+1`, `if[$cfg]=eth0`, ...). Keys: if,
//! ip, ipmask (ADDR/PREFIX), gw, net (`0/0` is the default route), dns,
//! domain, search, mtu (68..65535), origin. A repeated gw/net pair is one
//! more route.
//!
//! IPv6 keys (each a space-separated list): `ip6` (`ADDR/LEN` with
//! optional `,PREFERRED,VALID` seconds, as `dhcp6` writes them: relative
//! to the file's write time; none is forever), `prefix6` (delegated
//! prefixes, the same form), `dns6`, `domains6`; and for a LAN interface
//! `prefix6_from` (the uplink whose delegated prefixes give it a /64) with
//! `prefix6_subnet` (which /64 of them, a number; default the
//! lowest one no other LAN claims).
//!
//! `origin=` says who made an entry: `dhcp` for a lease (its routes are
//! checked by `fw::shadow` before fw installs them), anything else (`vpn`,
//! `static`, ...) for configuration that guards against such routes. A file
//! without it keeps working: a dynamic `dhcp_IF.ipconf` (the seed's
//! handler, older ferrite) counts as `dhcp`, everything else as local
//! (`default_origin`).

use std::net::{Ipv4Addr, Ipv6Addr};

/// An IPv6 address or prefix with its lifetimes in seconds (`u32::MAX`
/// forever), as the file says them (relative to its write time).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Lease6 {
    pub ip: Ipv6Addr,
    pub len: u8,
    pub preferred: u32,
    pub valid: u32,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IfConf {
    pub interface: String,
    pub addrs: Vec<(Ipv4Addr, u8)>,
    /// (destination, prefix, gateway)
    pub routes: Vec<(Ipv4Addr, u8, Option<Ipv4Addr>)>,
    pub dns: Vec<Ipv4Addr>,
    pub domain: Option<String>,
    pub search: Vec<String>,
    /// the link's MTU, when the file sets one
    pub mtu: Option<u32>,
    /// `origin=`: who made the entry (`dhcp` for a lease), when it says
    pub origin: Option<String>,
    /// `ip6=`, `prefix6=`: addresses and delegated prefixes
    pub addrs6: Vec<Lease6>,
    pub prefixes6: Vec<Lease6>,
    pub dns6: Vec<Ipv6Addr>,
    pub domains6: Vec<String>,
    /// `gw6=`, `net6=`: a static default route, static routes (via `gw6`
    /// when there is one, else on the link)
    pub gw6: Option<Ipv6Addr>,
    pub nets6: Vec<(Ipv6Addr, u8)>,
    /// `prefix6_from=`, `prefix6_subnet=`: this LAN's /64 of that uplink's prefixes
    pub prefix6_from: Option<String>,
    pub prefix6_subnet: Option<u64>,
    /// Seconds since the file was written (set by the reader; the
    /// lifetimes count from then).
    pub age: u32,
}

/// The origin learned from DHCP (`origin=dhcp`).
pub const DHCP: &str = "dhcp";
/// The origin `dhcp6` writes (`origin=dhcp6`).
pub const DHCP6: &str = "dhcp6";

impl IfConf {
    /// Its routes were learned from a DHCP server.
    pub fn from_dhcp(&self) -> bool {
        self.origin.as_deref() == Some(DHCP)
    }

    /// It was learned from a DHCPv6 server.
    pub fn from_dhcp6(&self) -> bool {
        self.origin.as_deref() == Some(DHCP6)
    }
}

/// The origin of an entry whose file has no `origin=`: a dynamic file named
/// `dhcp_IF.ipconf` was written by a DHCP client's handler.
pub fn default_origin(file_name: &str, dynamic: bool) -> Option<&'static str> {
    (dynamic && file_name.starts_with("dhcp_") && file_name.ends_with(".ipconf")).then_some(DHCP)
}

/// Undo sh quoting of one value: 'single' (with '\'' escapes), "double", bare.
fn unquote(v: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = v.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\'' => loop {
                match chars.next() {
                    Some('\'') => break,
                    Some(x) => out.push(x),
                    None => return Err("unterminated single quote".into()),
                }
            },
            '"' => loop {
                match chars.next() {
                    Some('"') => break,
                    Some('\\') => out.push(chars.next().ok_or("unterminated double quote")?),
                    Some('$' | '`') => return Err("expansion in a value".into()),
                    Some(x) => out.push(x),
                    None => return Err("unterminated double quote".into()),
                }
            },
            '\\' => out.push(chars.next().ok_or("trailing backslash")?),
            '$' | '`' | ';' | '&' | '|' | '(' | ')' | '<' | '>' => {
                return Err(format!("shell syntax {c:?} in a value"));
            }
            ' ' | '\t' => return Err("unquoted space in a value".into()),
            x => out.push(x),
        }
    }
    Ok(out)
}

fn cidr(v: &str) -> Result<(Ipv4Addr, u8), String> {
    if v == "0/0" {
        return Ok((Ipv4Addr::UNSPECIFIED, 0));
    }
    let (a, p) = v
        .split_once('/')
        .ok_or(format!("{v:?} is not ADDRESS/PREFIX"))?;
    let ip: Ipv4Addr = a.parse().map_err(|_| format!("{a:?} is not an address"))?;
    let prefix: u8 = p
        .parse()
        .ok()
        .filter(|p| *p <= 32)
        .ok_or(format!("prefix {p:?} is not 0..32"))?;
    Ok((ip, prefix))
}

fn addr(v: &str) -> Result<Ipv4Addr, String> {
    v.parse().map_err(|_| format!("{v:?} is not an address"))
}

fn addr6(v: &str) -> Result<Ipv6Addr, String> {
    v.parse()
        .map_err(|_| format!("{v:?} is not an IPv6 address"))
}

/// `ADDR/LEN` (0..128) of IPv6.
fn cidr6(v: &str) -> Result<(Ipv6Addr, u8), String> {
    let (a, p) = v
        .split_once('/')
        .ok_or(format!("{v:?} is not ADDRESS/PREFIX"))?;
    let len = p
        .parse()
        .ok()
        .filter(|p| *p <= 128)
        .ok_or(format!("prefix {p:?} is not 0..128"))?;
    Ok((addr6(a)?, len))
}

/// `ADDR/LEN[,PREFERRED,VALID]`: without lifetimes, forever.
fn lease6(v: &str) -> Result<Lease6, String> {
    let (a, times) = v.split_once(',').unwrap_or((v, ""));
    let (ip, len) = cidr6(a)?;
    let t: Vec<Option<u32>> = times.split(',').map(|n| n.parse().ok()).collect();
    let (preferred, valid) = match t[..] {
        _ if times.is_empty() => (u32::MAX, u32::MAX),
        [Some(p), Some(v)] if p <= v => (p, v),
        _ => {
            return Err(format!(
                "{v:?} is not ADDR/LEN,PREFERRED,VALID (preferred at most valid)"
            ))
        }
    };
    Ok(Lease6 {
        ip,
        len,
        preferred,
        valid,
    })
}

/// A domain name for resolv.conf: letters, digits, `-`, `_`, `.`.
fn domain_name(v: &str) -> Result<String, String> {
    let ok = !v.is_empty()
        && v.len() <= 253
        && v.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    ok.then(|| v.to_string())
        .ok_or(format!("{v:?} is not a domain name"))
}

/// One of the IPv6 keys into `c`; false when `key` is none of them.
fn ipv6_key(c: &mut IfConf, key: &str, value: &str) -> Result<bool, String> {
    let words = value.split_whitespace();
    match key {
        "ip6" => {
            for w in words {
                c.addrs6.push(lease6(w)?);
            }
        }
        "prefix6" => {
            for w in words {
                c.prefixes6.push(lease6(w)?);
            }
        }
        "dns6" => {
            for w in words {
                c.dns6.push(addr6(w)?);
            }
        }
        "domains6" => {
            for w in words {
                c.domains6.push(domain_name(w)?);
            }
        }
        "gw6" => c.gw6 = Some(addr6(value.trim())?),
        "net6" => {
            for w in words {
                c.nets6.push(cidr6(w)?);
            }
        }
        "prefix6_from" => {
            if value.len() > 15 || value.contains('/') {
                return Err(format!("bad interface name {value:?}"));
            }
            c.prefix6_from = (!value.is_empty()).then(|| value.to_string());
        }
        "prefix6_subnet" => {
            let n = value.parse();
            c.prefix6_subnet = Some(n.map_err(|_| format!("subnet {value:?} is not a number"))?)
        }
        _ => return Ok(false),
    }
    Ok(true)
}

/// The largest ipconf file read (a few lines per interface).
pub const MAX_FILE: u64 = 64 * 1024;

/// Parse a file; an error names the line (`ORIGIN:LINE: why: LINE`, a
/// long line cut at 80 characters).
pub fn parse(text: &str, origin: &str) -> Result<Vec<IfConf>, String> {
    let mut confs: Vec<IfConf> = Vec::new();
    let mut cur = IfConf::default();
    let mut started = false;
    let mut pending_gw: Option<Ipv4Addr> = None;
    let flush = |cur: &mut IfConf, pending_gw: &mut Option<Ipv4Addr>, confs: &mut Vec<IfConf>| {
        if let Some(g) = pending_gw.take() {
            cur.routes.push((Ipv4Addr::UNSPECIFIED, 0, Some(g)));
        }
        if *cur != IfConf::default() {
            confs.push(std::mem::take(cur));
        }
    };
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim();
        let err = |why: String| {
            let shown: String = raw.chars().take(80).collect();
            let cut = if shown.len() < raw.len() { "..." } else { "" };
            format!("{origin}:{}: {why}: {shown}{cut}", n + 1)
        };
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.replace(' ', "") == "letcfg=cfg+1" {
            if started {
                flush(&mut cur, &mut pending_gw, &mut confs);
            }
            started = true;
            continue;
        }
        if line.starts_with("cfg=") {
            continue;
        }
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| err("not KEY=VALUE".into()))?;
        let key = key.strip_suffix("[$cfg]").unwrap_or(key);
        if !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || key.is_empty() {
            return Err(err(format!("bad key {key:?}")));
        }
        let value = unquote(value).map_err(err)?;
        match key {
            "if" => {
                if value.is_empty()
                    || value.len() > 15
                    || value.contains('/')
                    || value.contains(char::is_whitespace)
                {
                    return Err(err(format!("bad interface name {value:?}")));
                }
                cur.interface = value;
            }
            "ip" => {
                let a = addr(&value).map_err(err)?;
                if !cur.addrs.iter().any(|(x, _)| *x == a) {
                    cur.addrs.push((a, 32));
                }
            }
            "ipmask" => {
                let (a, p) = cidr(&value).map_err(err)?;
                cur.addrs.retain(|(x, _)| *x != a);
                cur.addrs.push((a, p));
            }
            "gw" => {
                if let Some(g) = pending_gw.replace(addr(&value).map_err(err)?) {
                    cur.routes.push((Ipv4Addr::UNSPECIFIED, 0, Some(g)));
                }
            }
            "net" => {
                let (a, p) = cidr(&value).map_err(err)?;
                cur.routes.push((a, p, pending_gw.take()));
            }
            "dns" => {
                for d in value.split_whitespace() {
                    cur.dns.push(addr(d).map_err(err)?);
                }
            }
            "domain" => cur.domain = (!value.is_empty()).then_some(value),
            "search" => cur.search = value.split_whitespace().map(String::from).collect(),
            "origin" => {
                if value.len() > 32
                    || !value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                {
                    return Err(err(format!("bad origin {value:?}")));
                }
                cur.origin = (!value.is_empty()).then_some(value);
            }
            "mtu" => {
                cur.mtu = Some(
                    value
                        .parse()
                        .ok()
                        .filter(|m| (68..=65535).contains(m))
                        .ok_or_else(|| err(format!("mtu {value:?} is not 68..65535")))?,
                )
            }
            _ => {
                // the IPv6 keys, or others' keys
                ipv6_key(&mut cur, key, &value).map_err(err)?;
            }
        }
    }
    flush(&mut cur, &mut pending_gw, &mut confs);
    for c in &confs {
        if c.interface.is_empty() {
            return Err(format!("{origin}: an entry without if="));
        }
    }
    Ok(confs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_form_as_ferrite_writes_it() {
        let t = "# dhcp\nif='eth0'\nip='10.0.2.15'\nipmask='10.0.2.15/24'\ngw='10.0.2.2'\nnet='0/0'\ngw='10.0.2.9'\nnet='10.9.0.0/16'\ndns='10.0.2.3 1.1.1.1'\nmtu='1400'\n";
        let c = parse(t, "f").unwrap();
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].interface, "eth0");
        assert_eq!(c[0].addrs, [(Ipv4Addr::new(10, 0, 2, 15), 24)]);
        assert_eq!(
            c[0].routes,
            [
                (Ipv4Addr::UNSPECIFIED, 0, Some(Ipv4Addr::new(10, 0, 2, 2))),
                (
                    Ipv4Addr::new(10, 9, 0, 0),
                    16,
                    Some(Ipv4Addr::new(10, 0, 2, 9))
                )
            ]
        );
        assert_eq!(c[0].dns.len(), 2);
        assert_eq!(c[0].mtu, Some(1400));
    }

    #[test]
    fn busybox_array_form() {
        let t = "let cfg=cfg+1\nif[$cfg]=eth0\nip[$cfg]=11.22.33.44\nipmask[$cfg]=11.22.33.44/24\ngw[$cfg]=11.22.33.1\nnet[$cfg]=0/0\ndns[$cfg]='8.8.8.8 4.2.2.1'\nlet cfg=cfg+1\nif[$cfg]=eth1\nip[$cfg]=\"192.168.0.1\"\n";
        let c = parse(t, "conf/x.ipconf").unwrap();
        assert_eq!(c.len(), 2);
        assert_eq!(
            c[0].routes,
            [(Ipv4Addr::UNSPECIFIED, 0, Some(Ipv4Addr::new(11, 22, 33, 1)))]
        );
        assert_eq!(c[1].interface, "eth1");
        assert_eq!(c[1].addrs, [(Ipv4Addr::new(192, 168, 0, 1), 32)]);
    }

    #[test]
    fn a_long_bad_line_is_cut_in_the_message() {
        let e = parse(&"é".repeat(100_000), "f").unwrap_err();
        assert!(e.starts_with("f:1: not KEY=VALUE: "), "{e}");
        assert!(e.ends_with("..."), "{e}");
        assert!(e.chars().count() < 120, "{e}");
    }

    #[test]
    fn malformed_lines_are_named() {
        for (t, want) in [
            ("if=eth0\nip=$(reboot)\n", "f:2: shell syntax"),
            ("if=eth0\nipmask=10.0.0.1/33\n", "f:2: prefix"),
            ("if=eth0\ngarbage line\n", "f:2: not KEY=VALUE"),
            ("if='eth0\n", "f:1: unterminated"),
            ("ip=10.0.0.1\n", "f: an entry without if="),
            ("if=eth0\ndns=1.2.3\n", "f:2:"),
            ("if=eth0\nmtu=67\n", "f:2: mtu \"67\" is not 68..65535"),
            ("if=eth0\nmtu=big\n", "f:2: mtu"),
            ("if=eth0\norigin='d h c p'\n", "f:2: bad origin"),
            (
                "if=eth0\nip6=2001:db8::1/129\n",
                "f:2: prefix \"129\" is not 0..128",
            ),
            (
                "if=eth0\nip6=10.0.0.1/24\n",
                "f:2: \"10.0.0.1\" is not an IPv6",
            ),
            (
                "if=eth0\nip6=2001:db8::1/64,5\n",
                "f:2: \"2001:db8::1/64,5\" is not",
            ),
            (
                "if=eth0\nip6=2001:db8::1/64,9,5\n",
                "f:2: \"2001:db8::1/64,9,5\" is not",
            ),
            (
                "if=eth0\nprefix6=2001:db8::/56,1,2,3\n",
                "f:2: \"2001:db8::/56,1,2,3\" is not",
            ),
            (
                "if=eth0\nprefix6=2001:db8::/56,1,-2\n",
                "f:2: \"2001:db8::/56,1,-2\" is not",
            ),
            ("if=eth0\ndns6=1.2.3.4\n", "f:2: \"1.2.3.4\" is not an IPv6"),
            (
                "if=eth0\ndomains6='a\u{1b}b'\n",
                "f:2: \"a\\u{1b}b\" is not a domain",
            ),
            ("if=eth1\nprefix6_subnet=0x1\n", "f:2: subnet \"0x1\""),
            ("if=eth1\nprefix6_from=a/b\n", "f:2: bad interface name"),
        ] {
            let e = parse(t, "f").unwrap_err();
            assert!(e.starts_with(want), "{t:?}: {e}");
        }
    }

    #[test]
    fn ipv6_keys_as_dhcp6_writes_them_and_static_ones() {
        let t = "if='eth0'\norigin='dhcp6'\nip6='2001:db8::100/128,200,300'\n\
                 prefix6='2001:db8:1100::/56,0,139 2001:db8:2200::/56,500,600'\n\
                 dns6='2001:db8::53'\ndomains6='example.net lan'\n";
        let c = &parse(t, "f").unwrap()[0];
        assert!(c.from_dhcp6() && !c.from_dhcp());
        let l = |a: &str, len, preferred, valid| Lease6 {
            ip: a.parse().unwrap(),
            len,
            preferred,
            valid,
        };
        assert_eq!(c.addrs6, [l("2001:db8::100", 128, 200, 300)]);
        assert_eq!(
            c.prefixes6,
            [
                l("2001:db8:1100::", 56, 0, 139),
                l("2001:db8:2200::", 56, 500, 600)
            ]
        );
        assert_eq!(c.dns6, ["2001:db8::53".parse::<Ipv6Addr>().unwrap()]);
        assert_eq!(c.domains6, ["example.net", "lan"]);
        assert!(c.addrs.is_empty() && c.routes.is_empty());
        // static: no lifetimes is forever; a LAN's prefix source
        let t = "if=eth1\nip6=2001:db8:9::1/64\nprefix6_from=eth0\nprefix6_subnet=31\n";
        let c = &parse(t, "f").unwrap()[0];
        assert_eq!(c.addrs6, [l("2001:db8:9::1", 64, u32::MAX, u32::MAX)]);
        assert_eq!(
            (c.prefix6_from.as_deref(), c.prefix6_subnet),
            (Some("eth0"), Some(31))
        );
        // an entry with only IPv6 keys is an entry
        assert_eq!(parse("if=eth1\nprefix6_from=eth0\n", "f").unwrap().len(), 1);
    }

    #[test]
    fn origin_marker_in_both_forms_and_old_files() {
        let plain = parse(
            "# dhcp\nif='eth0'\norigin='dhcp'\ngw='10.0.0.1'\nnet='0.0.0.0/1'\n",
            "f",
        )
        .unwrap();
        assert!(plain[0].from_dhcp());
        assert_eq!(plain[0].routes.len(), 1);
        let array = parse(
            "let cfg=cfg+1\nif[$cfg]=wg0\norigin[$cfg]=vpn\nnet[$cfg]=0/0\nlet cfg=cfg+1\nif[$cfg]=eth0\norigin[$cfg]=dhcp\n",
            "f",
        )
        .unwrap();
        assert_eq!(array[0].origin.as_deref(), Some("vpn"));
        assert!(!array[0].from_dhcp() && array[1].from_dhcp());
        // no marker: nothing is assumed by the parser
        let old = parse("if=eth0\ngw=10.0.0.1\nnet=0/0\norigin=\n", "f").unwrap();
        assert_eq!(old[0].origin, None);
        // ... the file's name and place decide instead
        assert_eq!(default_origin("dhcp_eth0.ipconf", true), Some(DHCP));
        assert_eq!(default_origin("dhcp_eth0.ipconf", false), None);
        assert_eq!(default_origin("zcip_eth0.ipconf", true), None);
        assert_eq!(default_origin("wg0.ipconf", true), None);
    }
}
