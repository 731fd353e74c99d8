//! DHCPv6 messages (RFC 8415 §8, options §21) on the wire, decoded
//! leniently: a malformed or hostile option costs that option, never the
//! message. Every length is checked against the bytes there are; the
//! lists kept are bounded (`MAX_LIST`), domain names are RFC 1035 wire
//! names without compression (RFC 8415 §10), each label letters, digits
//! and inner hyphens only, so a name can reach a script or a file as is.
//!
//! `decode` then `encode` then `decode` gives the same `Message` (the
//! fuzz target `dhcp6_msg` checks it): what decoding drops, encoding
//! never writes.

use std::net::Ipv6Addr;

/// UDP ports (RFC 8415 §7.2) and All_DHCP_Relay_Agents_and_Servers.
pub const CLIENT_PORT: u16 = 546;
pub const SERVER_PORT: u16 = 547;
pub const ALL_SERVERS: Ipv6Addr = Ipv6Addr::new(0xff02, 0, 0, 0, 0, 0, 1, 2);

/// Lifetimes and times of this value are infinite (RFC 8415 §7.7).
pub const INFINITY: u32 = u32::MAX;

/// At most this many entries of any list (DNS servers, names, IAs, leases
/// in an IA, ORO codes) are kept from a message.
pub const MAX_LIST: usize = 16;

/// A DUID is 2 to 130 bytes with its type (RFC 8415 §11.1).
pub const MAX_DUID: usize = 130;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Solicit = 1,
    Advertise = 2,
    Request = 3,
    Confirm = 4,
    Renew = 5,
    Rebind = 6,
    Reply = 7,
    Release = 8,
    Decline = 9,
    InformationRequest = 11,
}

impl Kind {
    pub fn from_u8(v: u8) -> Option<Kind> {
        Some(match v {
            1 => Kind::Solicit,
            2 => Kind::Advertise,
            3 => Kind::Request,
            4 => Kind::Confirm,
            5 => Kind::Renew,
            6 => Kind::Rebind,
            7 => Kind::Reply,
            8 => Kind::Release,
            9 => Kind::Decline,
            11 => Kind::InformationRequest,
            _ => return None,
        })
    }
}

/// Option codes (RFC 8415 §21, RFC 3646, RFC 8415 §21.23–25).
pub mod opt {
    pub const CLIENTID: u16 = 1;
    pub const SERVERID: u16 = 2;
    pub const IA_NA: u16 = 3;
    pub const IAADDR: u16 = 5;
    pub const ORO: u16 = 6;
    pub const PREFERENCE: u16 = 7;
    pub const ELAPSED_TIME: u16 = 8;
    pub const STATUS_CODE: u16 = 13;
    pub const RAPID_COMMIT: u16 = 14;
    pub const DNS_SERVERS: u16 = 23;
    pub const DOMAIN_LIST: u16 = 24;
    pub const IA_PD: u16 = 25;
    pub const IAPREFIX: u16 = 26;
    pub const INFORMATION_REFRESH_TIME: u16 = 32;
    pub const SOL_MAX_RT: u16 = 82;
    pub const INF_MAX_RT: u16 = 83;
}

/// Status codes (RFC 8415 §21.13).
pub mod status {
    pub const SUCCESS: u16 = 0;
    pub const UNSPEC_FAIL: u16 = 1;
    pub const NO_ADDRS_AVAIL: u16 = 2;
    pub const NO_BINDING: u16 = 3;
    pub const NOT_ON_LINK: u16 = 4;
    pub const USE_MULTICAST: u16 = 5;
    pub const NO_PREFIX_AVAIL: u16 = 6;
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Status {
    pub code: u16,
    /// The server's text as sent (UTF-8 by the RFC, not trusted: see `text`).
    pub message: Vec<u8>,
}

impl Status {
    pub fn new(code: u16) -> Status {
        Status {
            code,
            message: Vec::new(),
        }
    }

    /// The message for a log line: printable ASCII only, at most 80 characters.
    pub fn text(&self) -> String {
        self.message
            .iter()
            .take(80)
            .map(|&c| {
                if (0x20..0x7f).contains(&c) {
                    c as char
                } else {
                    '?'
                }
            })
            .collect()
    }
}

/// An address of an IA_NA (IAADDR, `len` 128) or a prefix of an IA_PD
/// (IAPREFIX).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IaAddr {
    pub addr: Ipv6Addr,
    pub len: u8,
    pub preferred: u32,
    pub valid: u32,
    pub status: Option<Status>,
}

/// An IA_NA or IA_PD (which one is the list it is in).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ia {
    pub iaid: u32,
    pub t1: u32,
    pub t2: u32,
    pub addrs: Vec<IaAddr>,
    pub status: Option<Status>,
}

impl Ia {
    pub fn new(iaid: u32) -> Ia {
        Ia {
            iaid,
            t1: 0,
            t2: 0,
            addrs: Vec::new(),
            status: None,
        }
    }

    /// The status code of the IA itself (Success when there is none).
    pub fn code(&self) -> u16 {
        self.status.as_ref().map_or(status::SUCCESS, |s| s.code)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub kind: Kind,
    /// 24 bits.
    pub xid: u32,
    pub client_id: Option<Vec<u8>>,
    pub server_id: Option<Vec<u8>>,
    pub ia_na: Vec<Ia>,
    pub ia_pd: Vec<Ia>,
    pub status: Option<Status>,
    pub oro: Vec<u16>,
    /// Hundredths of a second.
    pub elapsed: Option<u16>,
    pub rapid_commit: bool,
    pub preference: Option<u8>,
    pub dns: Vec<Ipv6Addr>,
    pub domains: Vec<String>,
    pub info_refresh: Option<u32>,
    pub sol_max_rt: Option<u32>,
    pub inf_max_rt: Option<u32>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DecodeError {
    TooShort,
    /// A message type a client does not read (relay messages, RECONFIGURE, ...).
    UnknownKind(u8),
}

/// The options of `b`, each `(code, body)`; a truncated option ends the walk.
fn options(mut b: &[u8]) -> impl Iterator<Item = (u16, &[u8])> {
    std::iter::from_fn(move || {
        let (head, rest) = b.split_first_chunk::<4>()?;
        let code = u16::from_be_bytes([head[0], head[1]]);
        let len = u16::from_be_bytes([head[2], head[3]]) as usize;
        let body = rest.get(..len)?;
        b = &rest[len..];
        Some((code, body))
    })
}

fn be32(b: &[u8]) -> u32 {
    match b {
        [a, b, c, d, ..] => u32::from_be_bytes([*a, *b, *c, *d]),
        _ => 0,
    }
}

fn addr(b: &[u8]) -> Option<Ipv6Addr> {
    let a: [u8; 16] = b.get(..16)?.try_into().ok()?;
    Some(Ipv6Addr::from(a))
}

fn status_of(body: &[u8]) -> Option<Status> {
    let (code, message) = body.split_first_chunk::<2>()?;
    Some(Status {
        code: u16::from_be_bytes(*code),
        message: message.to_vec(),
    })
}

fn duid(body: &[u8]) -> Option<Vec<u8>> {
    (2..=MAX_DUID).contains(&body.len()).then(|| body.to_vec())
}

/// An IA_NA (`pd` false) or IA_PD body: 12 bytes, then options.
fn ia_of(body: &[u8], pd: bool) -> Option<Ia> {
    let (fixed, rest) = body.split_first_chunk::<12>()?;
    let mut ia = Ia {
        iaid: be32(&fixed[0..4]),
        t1: be32(&fixed[4..8]),
        t2: be32(&fixed[8..12]),
        addrs: Vec::new(),
        status: None,
    };
    for (code, b) in options(rest) {
        match code {
            opt::STATUS_CODE if ia.status.is_none() => ia.status = status_of(b),
            opt::IAADDR if !pd && ia.addrs.len() < MAX_LIST => {
                // address 16, preferred 4, valid 4, options
                let (Some(a), Some(t)) = (addr(b), b.get(16..24)) else {
                    continue;
                };
                ia.addrs.push(IaAddr {
                    addr: a,
                    len: 128,
                    preferred: be32(&t[0..4]),
                    valid: be32(&t[4..8]),
                    status: inner_status(b.get(24..).unwrap_or_default()),
                });
            }
            opt::IAPREFIX if pd && ia.addrs.len() < MAX_LIST => {
                // preferred 4, valid 4, length 1, prefix 16, options
                let (Some(t), Some(&len), Some(a)) =
                    (b.get(0..8), b.get(8), b.get(9..).and_then(addr))
                else {
                    continue;
                };
                if len > 128 {
                    continue;
                }
                ia.addrs.push(IaAddr {
                    addr: a,
                    len,
                    preferred: be32(&t[0..4]),
                    valid: be32(&t[4..8]),
                    status: inner_status(b.get(25..).unwrap_or_default()),
                });
            }
            _ => {}
        }
    }
    Some(ia)
}

fn inner_status(b: &[u8]) -> Option<Status> {
    options(b)
        .find(|(c, _)| *c == opt::STATUS_CODE)
        .and_then(|(_, b)| status_of(b))
}

/// One label of a name that may reach a script or a file: letters, digits
/// and hyphens, not first or last.
fn label_ok(l: &[u8]) -> bool {
    !l.is_empty()
        && l.len() <= 63
        && l.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        && l.first() != Some(&b'-')
        && l.last() != Some(&b'-')
}

/// RFC 1035 §3.1 names one after the other, uncompressed (RFC 8415 §10).
/// A name with a bad label is skipped; a compression pointer, a label
/// longer than 63 or a truncated name ends the list (no way to resync).
pub(crate) fn names_of(b: &[u8], out: &mut Vec<String>) {
    let mut i = 0;
    while i < b.len() && out.len() < MAX_LIST {
        let mut name = String::new();
        let mut ok = true;
        loop {
            let Some(&n) = b.get(i) else { return };
            i += 1;
            if n == 0 {
                break;
            }
            if n > 63 {
                return;
            }
            let Some(l) = b.get(i..i + n as usize) else {
                return;
            };
            i += n as usize;
            ok &= label_ok(l);
            if ok {
                if !name.is_empty() {
                    name.push('.');
                }
                name.extend(l.iter().map(|&c| c as char));
                ok &= name.len() <= 253;
            }
        }
        if ok && !name.is_empty() && !out.contains(&name) {
            out.push(name);
        }
    }
}

/// A name as `names_of` keeps it: dotted labels of letters, digits and
/// inner hyphens, at most 253 characters.
pub fn name_ok(name: &str) -> bool {
    name.len() <= 253 && name.split('.').all(|l| label_ok(l.as_bytes()))
}

fn put(out: &mut Vec<u8>, code: u16, body: &[u8]) {
    let Ok(len) = u16::try_from(body.len()) else {
        return; // cannot be said in one option: left out
    };
    out.extend_from_slice(&code.to_be_bytes());
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(body);
}

fn put_status(out: &mut Vec<u8>, s: &Option<Status>) {
    if let Some(s) = s {
        let mut b = s.code.to_be_bytes().to_vec();
        b.extend_from_slice(&s.message);
        put(out, opt::STATUS_CODE, &b);
    }
}

fn put_ia(out: &mut Vec<u8>, ia: &Ia, pd: bool) {
    let mut b = Vec::with_capacity(12 + 41 * ia.addrs.len());
    for v in [ia.iaid, ia.t1, ia.t2] {
        b.extend_from_slice(&v.to_be_bytes());
    }
    for a in ia.addrs.iter().take(MAX_LIST) {
        let mut x = Vec::with_capacity(29);
        if pd {
            x.extend_from_slice(&a.preferred.to_be_bytes());
            x.extend_from_slice(&a.valid.to_be_bytes());
            x.push(a.len.min(128));
            x.extend_from_slice(&a.addr.octets());
        } else {
            x.extend_from_slice(&a.addr.octets());
            x.extend_from_slice(&a.preferred.to_be_bytes());
            x.extend_from_slice(&a.valid.to_be_bytes());
        }
        put_status(&mut x, &a.status);
        put(&mut b, if pd { opt::IAPREFIX } else { opt::IAADDR }, &x);
    }
    put_status(&mut b, &ia.status);
    put(out, if pd { opt::IA_PD } else { opt::IA_NA }, &b);
}

fn time_opt(body: &[u8]) -> Option<u32> {
    (body.len() == 4).then(|| be32(body))
}

impl Message {
    pub fn new(kind: Kind, xid: u32) -> Message {
        Message {
            kind,
            xid: xid & 0xff_ffff,
            client_id: None,
            server_id: None,
            ia_na: Vec::new(),
            ia_pd: Vec::new(),
            status: None,
            oro: Vec::new(),
            elapsed: None,
            rapid_commit: false,
            preference: None,
            dns: Vec::new(),
            domains: Vec::new(),
            info_refresh: None,
            sol_max_rt: None,
            inf_max_rt: None,
        }
    }

    /// The status code of the message itself (Success when there is none).
    pub fn code(&self) -> u16 {
        self.status.as_ref().map_or(status::SUCCESS, |s| s.code)
    }

    pub fn decode(b: &[u8]) -> Result<Message, DecodeError> {
        let Some((head, rest)) = b.split_first_chunk::<4>() else {
            return Err(DecodeError::TooShort);
        };
        let kind = Kind::from_u8(head[0]).ok_or(DecodeError::UnknownKind(head[0]))?;
        let mut m = Message::new(kind, be32(&[0, head[1], head[2], head[3]]));
        // A singleton seen twice: the first counts.
        for (code, body) in options(rest) {
            match code {
                opt::CLIENTID if m.client_id.is_none() => m.client_id = duid(body),
                opt::SERVERID if m.server_id.is_none() => m.server_id = duid(body),
                opt::IA_NA if m.ia_na.len() < MAX_LIST => m.ia_na.extend(ia_of(body, false)),
                opt::IA_PD if m.ia_pd.len() < MAX_LIST => m.ia_pd.extend(ia_of(body, true)),
                opt::STATUS_CODE if m.status.is_none() => m.status = status_of(body),
                opt::ORO if m.oro.is_empty() => {
                    m.oro = body
                        .chunks_exact(2)
                        .take(MAX_LIST)
                        .map(|c| u16::from_be_bytes([c[0], c[1]]))
                        .collect()
                }
                opt::ELAPSED_TIME if m.elapsed.is_none() && body.len() == 2 => {
                    m.elapsed = Some(u16::from_be_bytes([body[0], body[1]]))
                }
                opt::RAPID_COMMIT if body.is_empty() => m.rapid_commit = true,
                opt::PREFERENCE if m.preference.is_none() && body.len() == 1 => {
                    m.preference = Some(body[0])
                }
                opt::DNS_SERVERS if m.dns.is_empty() => {
                    for c in body.chunks_exact(16) {
                        match addr(c) {
                            Some(a) if m.dns.len() < MAX_LIST && !m.dns.contains(&a) => {
                                m.dns.push(a)
                            }
                            _ => {}
                        }
                    }
                }
                opt::DOMAIN_LIST if m.domains.is_empty() => names_of(body, &mut m.domains),
                opt::INFORMATION_REFRESH_TIME if m.info_refresh.is_none() => {
                    m.info_refresh = time_opt(body)
                }
                opt::SOL_MAX_RT if m.sol_max_rt.is_none() => m.sol_max_rt = time_opt(body),
                opt::INF_MAX_RT if m.inf_max_rt.is_none() => m.inf_max_rt = time_opt(body),
                _ => {}
            }
        }
        Ok(m)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::with_capacity(128);
        b.push(self.kind as u8);
        b.extend_from_slice(&(self.xid & 0xff_ffff).to_be_bytes()[1..]);
        if let Some(d) = &self.client_id {
            put(&mut b, opt::CLIENTID, d);
        }
        if let Some(d) = &self.server_id {
            put(&mut b, opt::SERVERID, d);
        }
        if let Some(e) = self.elapsed {
            put(&mut b, opt::ELAPSED_TIME, &e.to_be_bytes());
        }
        if !self.oro.is_empty() {
            let o: Vec<u8> = self.oro.iter().flat_map(|c| c.to_be_bytes()).collect();
            put(&mut b, opt::ORO, &o);
        }
        if self.rapid_commit {
            put(&mut b, opt::RAPID_COMMIT, &[]);
        }
        if let Some(p) = self.preference {
            put(&mut b, opt::PREFERENCE, &[p]);
        }
        put_status(&mut b, &self.status);
        for ia in &self.ia_na {
            put_ia(&mut b, ia, false);
        }
        for ia in &self.ia_pd {
            put_ia(&mut b, ia, true);
        }
        if !self.dns.is_empty() {
            let d: Vec<u8> = self.dns.iter().flat_map(|a| a.octets()).collect();
            put(&mut b, opt::DNS_SERVERS, &d);
        }
        let mut names = Vec::new();
        for n in self.domains.iter().filter(|n| !n.is_empty() && name_ok(n)) {
            for l in n.split('.') {
                names.push(l.len() as u8);
                names.extend_from_slice(l.as_bytes());
            }
            names.push(0);
        }
        if !names.is_empty() {
            put(&mut b, opt::DOMAIN_LIST, &names);
        }
        for (code, v) in [
            (opt::INFORMATION_REFRESH_TIME, self.info_refresh),
            (opt::SOL_MAX_RT, self.sol_max_rt),
            (opt::INF_MAX_RT, self.inf_max_rt),
        ] {
            if let Some(v) = v {
                put(&mut b, code, &v.to_be_bytes());
            }
        }
        b
    }
}

/// The M (managed) and O (other configuration) flags of an ICMPv6 router
/// advertisement (RFC 4861 §4.2: type 134, code 0, at least 16 bytes).
pub fn router_advert_flags(icmp: &[u8]) -> Option<(bool, bool)> {
    match icmp {
        [134, 0, _, _, _, flags, ..] if icmp.len() >= 16 => {
            Some((flags & 0x80 != 0, flags & 0x40 != 0))
        }
        _ => None,
    }
}

/// An ICMPv6 router solicitation (type 133; the kernel fills the checksum).
pub const ROUTER_SOLICIT: [u8; 8] = [133, 0, 0, 0, 0, 0, 0, 0];

/// DUID-LL (type 3) of an Ethernet MAC (RFC 8415 §11.4).
pub fn duid_ll(mac: [u8; 6]) -> Vec<u8> {
    let mut d = vec![0, 3, 0, 1];
    d.extend_from_slice(&mac);
    d
}

/// DUID-LLT (type 1) of an Ethernet MAC and a time, seconds since
/// 2000-01-01 UTC modulo 2^32 (RFC 8415 §11.2).
pub fn duid_llt(mac: [u8; 6], time: u32) -> Vec<u8> {
    let mut d = vec![0, 1, 0, 1];
    d.extend_from_slice(&time.to_be_bytes());
    d.extend_from_slice(&mac);
    d
}

#[cfg(test)]
mod tests {
    use super::*;

    fn a(s: &str) -> Ipv6Addr {
        s.parse().unwrap()
    }

    fn full() -> Message {
        let mut m = Message::new(Kind::Reply, 0x12_3456);
        m.client_id = Some(duid_ll([2, 0, 0, 0, 0, 1]));
        m.server_id = Some(duid_llt([2, 0, 0, 0, 0, 9], 7));
        m.elapsed = Some(12);
        m.oro = vec![opt::DNS_SERVERS, opt::DOMAIN_LIST];
        m.rapid_commit = true;
        m.preference = Some(255);
        m.status = Some(Status {
            code: status::SUCCESS,
            message: b"all fine".to_vec(),
        });
        let mut na = Ia::new(1);
        (na.t1, na.t2) = (100, 160);
        na.addrs.push(IaAddr {
            addr: a("2001:db8::5"),
            len: 128,
            preferred: 200,
            valid: 300,
            status: None,
        });
        m.ia_na.push(na);
        let mut pd = Ia::new(1);
        pd.status = Some(Status::new(status::SUCCESS));
        pd.addrs.push(IaAddr {
            addr: a("2001:db8:100::"),
            len: 56,
            preferred: INFINITY,
            valid: INFINITY,
            status: Some(Status::new(status::NO_PREFIX_AVAIL)),
        });
        m.ia_pd.push(pd);
        m.dns = vec![a("2001:db8::53"), a("2001:db8::54")];
        m.domains = vec!["example.com".into(), "lan".into()];
        m.info_refresh = Some(3600);
        m.sol_max_rt = Some(600);
        m.inf_max_rt = Some(700);
        m
    }

    #[test]
    fn round_trip_of_every_option() {
        let m = full();
        let b = m.encode();
        assert_eq!(&b[..4], &[7, 0x12, 0x34, 0x56]);
        assert_eq!(Message::decode(&b), Ok(m));
    }

    #[test]
    fn wire_format_of_a_solicit_with_a_prefix_hint() {
        let mut m = Message::new(Kind::Solicit, 0xabcdef);
        let mut pd = Ia::new(0x0102_0304);
        pd.addrs.push(IaAddr {
            addr: Ipv6Addr::UNSPECIFIED,
            len: 60,
            preferred: 0,
            valid: 0,
            status: None,
        });
        m.ia_pd.push(pd);
        m.elapsed = Some(0);
        let b = m.encode();
        let want: Vec<u8> = [
            &[1, 0xab, 0xcd, 0xef][..],
            &[0, 8, 0, 2, 0, 0],
            &[0, 25, 0, 41, 1, 2, 3, 4, 0, 0, 0, 0, 0, 0, 0, 0],
            &[0, 26, 0, 25, 0, 0, 0, 0, 0, 0, 0, 0, 60],
            &[0; 16],
        ]
        .concat();
        assert_eq!(b, want);
    }

    #[test]
    fn bad_options_cost_only_themselves() {
        let mut b = vec![7, 0, 0, 1];
        put(&mut b, opt::SERVERID, &[0]); // a DUID of one byte
        put(&mut b, opt::PREFERENCE, &[1, 2]); // too long
        put(&mut b, opt::DNS_SERVERS, &[0; 20]); // one whole address and 4 bytes
        put(&mut b, opt::IA_NA, &[0; 11]); // shorter than its fixed part
        put(&mut b, opt::IA_PD, &{
            let mut x = vec![0; 12];
            let mut p = vec![0; 8];
            p.push(129); // prefix longer than 128
            p.extend_from_slice(&[0; 16]);
            put(&mut x, opt::IAPREFIX, &p);
            put(&mut x, opt::IAPREFIX, &[0; 10]); // truncated
            x
        });
        put(&mut b, opt::SOL_MAX_RT, &[0, 0, 1]);
        put(&mut b, opt::RAPID_COMMIT, &[1]);
        b.extend_from_slice(&[0, 23, 0, 200, 1, 2]); // truncated option: ends the walk
        let m = Message::decode(&b).unwrap();
        assert_eq!(m.server_id, None);
        assert_eq!(m.preference, None);
        assert_eq!(m.dns, vec![Ipv6Addr::UNSPECIFIED]);
        assert!(m.ia_na.is_empty());
        assert_eq!(m.ia_pd.len(), 1);
        assert!(m.ia_pd[0].addrs.is_empty());
        assert_eq!((m.sol_max_rt, m.rapid_commit), (None, false));
        assert_eq!(Message::decode(&[7, 0]), Err(DecodeError::TooShort));
        assert_eq!(
            Message::decode(&[12, 0, 0, 0]),
            Err(DecodeError::UnknownKind(12))
        );
    }

    #[test]
    fn domain_names_are_checked_and_bounded() {
        let wire = |names: &[&[u8]]| {
            let mut b = vec![7, 0, 0, 1];
            put(&mut b, opt::DOMAIN_LIST, &names.concat());
            Message::decode(&b).unwrap().domains
        };
        assert_eq!(
            wire(&[b"\x07example\x03com\x00", b"\x03lan\x00"]),
            ["example.com", "lan"]
        );
        // metacharacters: that name is skipped, the next one kept
        assert_eq!(wire(&[b"\x05a;b$c\x00", b"\x03lan\x00"]), ["lan"]);
        assert_eq!(wire(&[b"\x04-rf\x00\x00", b"\x02ok\x00"]), ["ok"]);
        // a compression pointer (a loop to itself) ends the list
        assert_eq!(wire(&[b"\x02ok\x00", b"\xc0\x00", b"\x02no\x00"]), ["ok"]);
        // truncated: what came before counts
        assert_eq!(wire(&[b"\x02ok\x00", b"\x05ab"]), ["ok"]);
        // a name over 253 characters
        let long: Vec<u8> = (0..5)
            .flat_map(|_| [&[63u8][..], &[b'a'; 63]].concat())
            .collect();
        assert!(wire(&[&long, b"\x00"]).is_empty());
        // at most MAX_LIST names
        let many: Vec<u8> = (0..40u8)
            .flat_map(|i| vec![2, b'a' + i % 26, b'a' + i / 26, 0])
            .collect();
        assert_eq!(wire(&[&many]).len(), MAX_LIST);
        assert!(name_ok("a-b.example") && !name_ok("a..b") && !name_ok("x y"));
    }

    #[test]
    fn router_advertisement_flags() {
        let mut ra = [0u8; 16];
        ra[0] = 134;
        ra[5] = 0xc0;
        assert_eq!(router_advert_flags(&ra), Some((true, true)));
        ra[5] = 0x40;
        assert_eq!(router_advert_flags(&ra), Some((false, true)));
        assert_eq!(router_advert_flags(&ra[..15]), None);
        ra[0] = 135;
        assert_eq!(router_advert_flags(&ra), None);
    }

    #[test]
    fn status_text_is_printable() {
        let s = Status {
            code: 1,
            message: b"no\n\x1b[31mway".to_vec(),
        };
        assert_eq!(s.text(), "no??[31mway");
    }
}
