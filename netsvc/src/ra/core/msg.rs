//! Router Advertisements (RFC 4861 §4.2) and their options as bytes, the
//! Router Solicitation check (§6.1.1), and the two small decoders the shell
//! needs from the kernel: the hop limit of a received datagram (its
//! `IPV6_HOPLIMIT` control message) and a `sockaddr_in6`. All pure; every
//! length is checked against the bytes there are. `parse_ra` reads back
//! what `build` writes (the fuzz target `ra_msg` checks the round trip).

use std::net::Ipv6Addr;

pub const ROUTER_SOLICIT: u8 = 133;
pub const ROUTER_ADVERT: u8 = 134;

/// Option types (RFC 4861 §4.6, RFC 8106 §5).
pub const OPT_SLLA: u8 = 1;
pub const OPT_PREFIX: u8 = 3;
pub const OPT_MTU: u8 = 5;
pub const OPT_RDNSS: u8 = 25;
pub const OPT_DNSSL: u8 = 31;

/// The all-nodes and all-routers groups (RFC 4291 §2.7.1).
pub const ALL_NODES: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 1);
pub const ALL_ROUTERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 0, 2);

/// One Prefix Information option: a /64, on-link and autonomous.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PrefixInfo {
    pub prefix: Ipv6Addr,
    pub valid: u32,
    pub preferred: u32,
}

/// What one RA says. `build` writes it; `parse_ra` reads it back.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Advert {
    pub hop_limit: u8,
    pub managed: bool,
    pub other: bool,
    /// Router Lifetime, seconds (0: not a default router).
    pub lifetime: u16,
    pub source_mac: Option<[u8; 6]>,
    pub mtu: Option<u32>,
    pub prefixes: Vec<PrefixInfo>,
    /// RDNSS options: (lifetime, servers), at most `MAX_SERVERS` each.
    pub rdnss: Vec<(u32, Vec<Ipv6Addr>)>,
    /// DNSSL: (lifetime, domains as dotted text).
    pub dnssl: Option<(u32, Vec<String>)>,
}

/// Servers in one RDNSS option, and domains in the DNSSL option, at most.
pub const MAX_SERVERS: usize = 8;
pub const MAX_DOMAINS: usize = 8;
/// Prefixes in one RA at most (32 bytes each: the RA stays far under 1280).
pub const MAX_PREFIXES: usize = 16;

/// `len` padded to whole 8-byte units: the option length field.
fn units(len: usize) -> u8 {
    u8::try_from(len.div_ceil(8)).unwrap_or(u8::MAX)
}

/// A domain name in DNS wire form (RFC 1035 §3.1), `None` when a label is
/// empty or over 63 bytes or the name over 255.
pub fn wire_name(name: &str) -> Option<Vec<u8>> {
    let name = name.strip_suffix('.').unwrap_or(name);
    let mut w = Vec::with_capacity(name.len() + 2);
    for label in name.split('.') {
        if label.is_empty() || label.len() > 63 {
            return None;
        }
        w.push(label.len() as u8);
        w.extend_from_slice(label.as_bytes());
    }
    w.push(0);
    (w.len() <= 255).then_some(w)
}

impl Advert {
    /// The ICMPv6 message (the kernel fills the checksum).
    pub fn build(&self) -> Vec<u8> {
        let mut b = vec![ROUTER_ADVERT, 0, 0, 0, self.hop_limit];
        b.push(u8::from(self.managed) << 7 | u8::from(self.other) << 6);
        b.extend_from_slice(&self.lifetime.to_be_bytes());
        b.extend_from_slice(&[0; 8]); // reachable time, retrans timer: unspecified
        if let Some(mac) = self.source_mac {
            b.extend_from_slice(&[OPT_SLLA, 1]);
            b.extend_from_slice(&mac);
        }
        if let Some(mtu) = self.mtu {
            b.extend_from_slice(&[OPT_MTU, 1, 0, 0]);
            b.extend_from_slice(&mtu.to_be_bytes());
        }
        for p in self.prefixes.iter().take(MAX_PREFIXES) {
            // length 64, flags L (on-link) and A (autonomous)
            b.extend_from_slice(&[OPT_PREFIX, 4, 64, 0xc0]);
            b.extend_from_slice(&p.valid.to_be_bytes());
            b.extend_from_slice(&p.preferred.to_be_bytes());
            b.extend_from_slice(&[0; 4]);
            b.extend_from_slice(&p.prefix.octets());
        }
        for (lifetime, servers) in &self.rdnss {
            let servers = &servers[..servers.len().min(MAX_SERVERS)];
            if servers.is_empty() {
                continue;
            }
            b.extend_from_slice(&[OPT_RDNSS, 1 + 2 * servers.len() as u8, 0, 0]);
            b.extend_from_slice(&lifetime.to_be_bytes());
            for s in servers {
                b.extend_from_slice(&s.octets());
            }
        }
        if let Some((lifetime, domains)) = &self.dnssl {
            let mut names = Vec::new();
            for d in domains.iter().take(MAX_DOMAINS) {
                if let Some(w) = wire_name(d) {
                    names.extend_from_slice(&w);
                }
            }
            if !names.is_empty() {
                let len = units(8 + names.len());
                names.resize(usize::from(len) * 8 - 8, 0);
                b.extend_from_slice(&[OPT_DNSSL, len, 0, 0]);
                b.extend_from_slice(&lifetime.to_be_bytes());
                b.extend_from_slice(&names);
            }
        }
        b
    }
}

/// The options of an ND message after its fixed part of `skip` bytes, as
/// (type, whole option); `None` when one has length 0 or runs past the end
/// (RFC 4861 §6.1: such a message is invalid).
pub fn options(m: &[u8], skip: usize) -> Option<Vec<(u8, &[u8])>> {
    let mut rest = m.get(skip..)?;
    let mut out = Vec::new();
    while !rest.is_empty() {
        let len = usize::from(*rest.get(1)?) * 8;
        if len == 0 || len > rest.len() {
            return None;
        }
        out.push((rest[0], &rest[..len]));
        rest = &rest[len..];
    }
    Some(out)
}

fn ip6_at(b: &[u8], at: usize) -> Option<Ipv6Addr> {
    Some(Ipv6Addr::from(
        <[u8; 16]>::try_from(b.get(at..at + 16)?).ok()?,
    ))
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// A valid Router Solicitation from `source` (RFC 4861 §6.1.1; the kernel
/// checked the ICMPv6 checksum, the shell the hop limit of 255): type 133,
/// code 0, 8 bytes or more, every option's length non-zero and inside the
/// message, and no source link-layer address from the unspecified address.
/// Some(the solicitor's link-layer address, when it gave one).
pub fn parse_rs(m: &[u8], source: Ipv6Addr) -> Option<Option<[u8; 6]>> {
    if m.len() < 8 || m[0] != ROUTER_SOLICIT || m[1] != 0 {
        return None;
    }
    let opts = options(m, 8)?;
    let slla = opts.iter().find(|(t, _)| *t == OPT_SLLA);
    if slla.is_some() && source.is_unspecified() {
        return None;
    }
    Some(slla.and_then(|(_, o)| o.get(2..8)?.try_into().ok()))
}

/// A Router Advertisement read back: what `build` wrote (for tests and the
/// fuzz target; the daemon itself never reads RAs). Unknown options are
/// skipped; a malformed one makes the whole message invalid.
pub fn parse_ra(m: &[u8]) -> Option<Advert> {
    if m.len() < 16 || m[0] != ROUTER_ADVERT || m[1] != 0 {
        return None;
    }
    let mut a = Advert {
        hop_limit: m[4],
        managed: m[5] & 0x80 != 0,
        other: m[5] & 0x40 != 0,
        lifetime: u16::from_be_bytes([m[6], m[7]]),
        ..Advert::default()
    };
    for (t, o) in options(m, 16)? {
        match t {
            OPT_SLLA => a.source_mac = o.get(2..8).and_then(|s| s.try_into().ok()),
            OPT_MTU => a.mtu = u32_at(o, 4),
            OPT_PREFIX if o.len() >= 32 && o[2] == 64 => a.prefixes.push(PrefixInfo {
                valid: u32_at(o, 4)?,
                preferred: u32_at(o, 8)?,
                prefix: ip6_at(o, 16)?,
            }),
            OPT_RDNSS if o.len() >= 24 => {
                let servers = (8..o.len()).step_by(16).filter_map(|i| ip6_at(o, i));
                a.rdnss.push((u32_at(o, 4)?, servers.collect()));
            }
            OPT_DNSSL if o.len() >= 16 => {
                let mut names = Vec::new();
                let mut rest = o.get(8..)?;
                'names: while rest.first().is_some_and(|&l| l != 0) {
                    let mut labels = Vec::new();
                    loop {
                        let l = usize::from(*rest.first()?);
                        if l == 0 {
                            rest = &rest[1..];
                            break;
                        }
                        let Some(label) = rest.get(1..1 + l) else {
                            break 'names;
                        };
                        labels.push(String::from_utf8_lossy(label).into_owned());
                        rest = &rest[1 + l..];
                    }
                    names.push(labels.join("."));
                }
                a.dnssl = Some((u32_at(o, 4)?, names));
            }
            _ => {}
        }
    }
    Some(a)
}

/// `IPPROTO_IPV6` and `IPV6_HOPLIMIT`, the control message of a datagram's
/// hop limit (with `IPV6_RECVHOPLIMIT` on).
const SOL_IPV6: i32 = 41;
const IPV6_HOPLIMIT: i32 = 52;

/// The hop limit in the control messages `c` that recvmsg(2) filled: each
/// a `struct cmsghdr` (length as a native `size_t`, level, type: native
/// `int`s), its data and padding to the alignment of `size_t`.
pub fn hop_limit(c: &[u8]) -> Option<u8> {
    const W: usize = std::mem::size_of::<usize>();
    let head = (W + 8).div_ceil(W) * W;
    let mut rest = c;
    while rest.len() >= head {
        let len = usize::from_ne_bytes(rest[..W].try_into().ok()?);
        let level = i32::from_ne_bytes(rest[W..W + 4].try_into().ok()?);
        let typ = i32::from_ne_bytes(rest[W + 4..W + 8].try_into().ok()?);
        if len < head || len > rest.len() {
            return None;
        }
        if level == SOL_IPV6 && typ == IPV6_HOPLIMIT {
            let v = i32::from_ne_bytes(rest.get(head..head + 4)?.try_into().ok()?);
            return u8::try_from(v).ok();
        }
        rest = rest.get(len.div_ceil(W) * W..).unwrap_or_default();
    }
    None
}

/// The address in a `struct sockaddr_in6` recvmsg(2) filled (`n` bytes).
pub fn sockaddr6(b: &[u8]) -> Option<Ipv6Addr> {
    let family = u16::from_ne_bytes(b.get(..2)?.try_into().ok()?);
    (i32::from(family) == libc::AF_INET6).then(|| ip6_at(b, 8))?
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn full() -> Advert {
        Advert {
            hop_limit: 64,
            managed: true,
            other: false,
            lifetime: 1800,
            source_mac: Some([2, 0, 0, 0, 0, 1]),
            mtu: Some(1492),
            prefixes: vec![
                PrefixInfo {
                    prefix: a("2001:db8:1:1::"),
                    valid: 7200,
                    preferred: 3600,
                },
                PrefixInfo {
                    prefix: a("2001:db8:1:2::"),
                    valid: 600,
                    preferred: 0,
                },
            ],
            rdnss: vec![
                (1800, vec![a("2001:db8:1:1::1")]),
                (0, vec![a("2001:db8:1:2::1")]),
            ],
            dnssl: Some((1800, vec!["lab.example".into(), "a.b".into()])),
        }
    }

    #[test]
    fn an_advert_reads_back_byte_for_byte_as_rfc_4861_lays_it_out() {
        let ad = full();
        let b = ad.build();
        assert_eq!(&b[..8], &[134, 0, 0, 0, 64, 0x80, 0x07, 0x08]);
        assert_eq!(
            &b[16..24],
            &[1, 1, 2, 0, 0, 0, 0, 1],
            "source link-layer address"
        );
        assert_eq!(&b[24..32], &[5, 1, 0, 0, 0, 0, 0x05, 0xd4], "MTU");
        // prefix information: type 3, length 4, /64, L and A
        assert_eq!(&b[32..36], &[3, 4, 64, 0xc0]);
        assert_eq!(&b[36..44], &[0, 0, 0x1c, 0x20, 0, 0, 0x0e, 0x10]);
        assert_eq!(b.len() % 8, 0, "options fill whole units");
        assert_eq!(parse_ra(&b), Some(ad));
        // the bare minimum
        let bare = Advert {
            hop_limit: 64,
            ..Advert::default()
        };
        assert_eq!(bare.build().len(), 16);
        assert_eq!(parse_ra(&bare.build()), Some(bare));
    }

    #[test]
    fn rdnss_and_dnssl_layout_rfc_8106() {
        let ad = Advert {
            rdnss: vec![(900, vec![a("2001:db8::53"), a("2001:db8::54")])],
            dnssl: Some((900, vec!["example.".into()])),
            ..Advert::default()
        };
        let b = ad.build();
        assert_eq!(&b[16..20], &[25, 5, 0, 0], "8 + 2*16 bytes = 5 units");
        let d = &b[56..];
        assert_eq!(&d[..4], &[31, 3, 0, 0], "8 + 9 bytes: 3 units");
        assert_eq!(&d[8..17], b"\x07example\x00");
        assert!(d[17..].iter().all(|&z| z == 0) && d.len() == 24);
        // names that cannot be written are left out; none left: no option
        assert_eq!(wire_name("a..b"), None);
        assert_eq!(wire_name(&"x".repeat(64)), None);
        let none = Advert {
            dnssl: Some((1, vec!["bad..name".into()])),
            rdnss: vec![(1, vec![])],
            ..Advert::default()
        };
        assert_eq!(none.build().len(), 16);
    }

    #[test]
    fn solicitations_are_checked_as_rfc_4861_6_1_1_says() {
        let ll = a("fe80::2");
        let mut rs = vec![133, 0, 0, 0, 0, 0, 0, 0];
        assert_eq!(parse_rs(&rs, ll), Some(None));
        rs.extend_from_slice(&[1, 1, 2, 0, 0, 0, 0, 9]);
        assert_eq!(parse_rs(&rs, ll), Some(Some([2, 0, 0, 0, 0, 9])));
        assert_eq!(parse_rs(&rs, Ipv6Addr::UNSPECIFIED), None, "SLLA from ::");
        assert_eq!(parse_rs(&rs[..8], Ipv6Addr::UNSPECIFIED), Some(None));
        let mut bad = rs.clone();
        bad[9] = 0;
        assert_eq!(parse_rs(&bad, ll), None, "option of length 0");
        bad[9] = 2;
        assert_eq!(parse_rs(&bad, ll), None, "option past the end");
        assert_eq!(parse_rs(&rs[..7], ll), None, "short");
        let mut code = rs.clone();
        code[1] = 1;
        assert_eq!(parse_rs(&code, ll), None, "code 1");
        assert_eq!(parse_rs(&full().build(), ll), None, "an RA is no RS");
        // an unknown option is fine
        let mut other = rs[..8].to_vec();
        other.extend_from_slice(&[200, 1, 0, 0, 0, 0, 0, 0]);
        assert_eq!(parse_rs(&other, ll), Some(None));
    }

    fn cmsg(level: i32, typ: i32, data: &[u8]) -> Vec<u8> {
        const W: usize = std::mem::size_of::<usize>();
        let head = (W + 8).div_ceil(W) * W;
        let mut c = (head + data.len()).to_ne_bytes().to_vec();
        c.extend_from_slice(&level.to_ne_bytes());
        c.extend_from_slice(&typ.to_ne_bytes());
        c.resize(head, 0);
        c.extend_from_slice(data);
        c.resize(c.len().div_ceil(W) * W, 0);
        c
    }

    #[test]
    fn the_hop_limit_comes_from_its_control_message() {
        let hl = cmsg(41, 52, &255i32.to_ne_bytes());
        assert_eq!(hop_limit(&hl), Some(255));
        let mut two = cmsg(41, 50, &[0; 20]);
        two.extend(cmsg(41, 52, &1i32.to_ne_bytes()));
        assert_eq!(hop_limit(&two), Some(1));
        assert_eq!(hop_limit(&[]), None);
        assert_eq!(hop_limit(&hl[..hl.len() - 8]), None, "cut short");
        let mut huge = hl.clone();
        huge[..8].copy_from_slice(&[0xff; 8]);
        assert_eq!(hop_limit(&huge), None);
        assert_eq!(hop_limit(&cmsg(41, 52, &300i32.to_ne_bytes())), None);
    }

    #[test]
    fn a_sockaddr_in6() {
        let mut s = (libc::AF_INET6 as u16).to_ne_bytes().to_vec();
        s.extend_from_slice(&[0; 6]);
        s.extend_from_slice(&a("fe80::2").octets());
        s.extend_from_slice(&[0; 4]);
        assert_eq!(sockaddr6(&s), Some(a("fe80::2")));
        assert_eq!(sockaddr6(&s[..20]), None);
        s[0] = 2;
        s[1] = 0;
        assert_eq!(sockaddr6(&s), None);
    }
}
