//! DHCP messages (RFC 2131 §2, options RFC 2132) on the wire, decoded
//! leniently: a malformed or hostile option costs that option, never the
//! message. Typed readers validate what they hand on (see `options`).

use std::net::Ipv4Addr;

pub const BOOTREQUEST: u8 = 1;
pub const BOOTREPLY: u8 = 2;
pub const MAGIC: [u8; 4] = [99, 130, 83, 99];
/// Fixed BOOTP part before the magic cookie.
pub const FIXED_LEN: usize = 236;

/// Message types (option 53).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MsgType {
    Discover = 1,
    Offer = 2,
    Request = 3,
    Decline = 4,
    Ack = 5,
    Nak = 6,
    Release = 7,
    Inform = 8,
}

impl MsgType {
    pub fn from_u8(v: u8) -> Option<MsgType> {
        Some(match v {
            1 => MsgType::Discover,
            2 => MsgType::Offer,
            3 => MsgType::Request,
            4 => MsgType::Decline,
            5 => MsgType::Ack,
            6 => MsgType::Nak,
            7 => MsgType::Release,
            8 => MsgType::Inform,
            _ => return None,
        })
    }
}

/// Option codes used here.
pub mod opt {
    pub const PAD: u8 = 0;
    pub const SUBNET_MASK: u8 = 1;
    pub const ROUTER: u8 = 3;
    pub const DNS: u8 = 6;
    pub const HOSTNAME: u8 = 12;
    pub const DOMAIN_NAME: u8 = 15;
    pub const MTU: u8 = 26;
    pub const BROADCAST: u8 = 28;
    pub const NTP: u8 = 42;
    pub const REQUESTED_IP: u8 = 50;
    pub const LEASE_TIME: u8 = 51;
    pub const OVERLOAD: u8 = 52;
    pub const MSG_TYPE: u8 = 53;
    pub const SERVER_ID: u8 = 54;
    pub const PARAM_LIST: u8 = 55;
    pub const MESSAGE: u8 = 56;
    pub const MAX_SIZE: u8 = 57;
    pub const T1: u8 = 58;
    pub const T2: u8 = 59;
    pub const VENDOR_CLASS: u8 = 60;
    pub const CLIENT_ID: u8 = 61;
    pub const FQDN: u8 = 81;
    pub const DOMAIN_SEARCH: u8 = 119;
    pub const CLASSLESS_ROUTES: u8 = 121;
    pub const END: u8 = 255;

    /// What every DISCOVER and REQUEST asks for (option 55), before 121
    /// (unless switched off) and `-O`'s.
    pub const REQUESTED: [u8; 13] = [
        SUBNET_MASK,
        ROUTER,
        DNS,
        HOSTNAME,
        DOMAIN_NAME,
        MTU,
        BROADCAST,
        NTP,
        LEASE_TIME,
        SERVER_ID,
        T1,
        T2,
        DOMAIN_SEARCH,
    ];
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    pub op: u8,
    pub xid: u32,
    pub secs: u16,
    pub flags: u16,
    pub ciaddr: Ipv4Addr,
    pub yiaddr: Ipv4Addr,
    pub siaddr: Ipv4Addr,
    pub giaddr: Ipv4Addr,
    pub chaddr: [u8; 16],
    pub sname: Vec<u8>,
    pub file: Vec<u8>,
    /// Options in the order received (concatenated when split, RFC 3396).
    pub options: Vec<(u8, Vec<u8>)>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DecodeError {
    TooShort,
    NotDhcp,
}

fn ip(b: &[u8]) -> Ipv4Addr {
    Ipv4Addr::new(b[0], b[1], b[2], b[3])
}

/// A fixed-size BOOTP text field without its trailing NULs.
fn trim_nul(b: &[u8]) -> Vec<u8> {
    let end = b.iter().rposition(|&c| c != 0).map_or(0, |i| i + 1);
    b[..end].to_vec()
}

/// Parse an option area; stops quietly at END or at a truncated option.
fn parse_options(mut b: &[u8], out: &mut Vec<(u8, Vec<u8>)>) {
    while let Some(&code) = b.first() {
        match code {
            opt::PAD => b = &b[1..],
            opt::END => return,
            _ => {
                let Some(&len) = b.get(1) else { return };
                let len = len as usize;
                if b.len() < 2 + len {
                    return; // truncated: what came before still counts
                }
                let data = &b[2..2 + len];
                // RFC 3396: a repeated option continues the earlier one.
                match out.iter_mut().find(|(c, _)| *c == code) {
                    Some((_, v)) => v.extend_from_slice(data),
                    None => out.push((code, data.to_vec())),
                }
                b = &b[2 + len..];
            }
        }
    }
}

impl Message {
    pub fn new(op: u8, xid: u32, mac: [u8; 6]) -> Message {
        let mut chaddr = [0u8; 16];
        chaddr[..6].copy_from_slice(&mac);
        Message {
            op,
            xid,
            secs: 0,
            flags: 0,
            ciaddr: Ipv4Addr::UNSPECIFIED,
            yiaddr: Ipv4Addr::UNSPECIFIED,
            siaddr: Ipv4Addr::UNSPECIFIED,
            giaddr: Ipv4Addr::UNSPECIFIED,
            chaddr,
            sname: Vec::new(),
            file: Vec::new(),
            options: Vec::new(),
        }
    }

    pub fn decode(b: &[u8]) -> Result<Message, DecodeError> {
        if b.len() < FIXED_LEN + 4 {
            return Err(DecodeError::TooShort);
        }
        if b[236..240] != MAGIC {
            return Err(DecodeError::NotDhcp);
        }
        let mut m = Message {
            op: b[0],
            xid: u32::from_be_bytes([b[4], b[5], b[6], b[7]]),
            secs: u16::from_be_bytes([b[8], b[9]]),
            flags: u16::from_be_bytes([b[10], b[11]]),
            ciaddr: ip(&b[12..16]),
            yiaddr: ip(&b[16..20]),
            siaddr: ip(&b[20..24]),
            giaddr: ip(&b[24..28]),
            chaddr: b[28..44].try_into().unwrap_or([0; 16]),
            sname: trim_nul(&b[44..108]),
            file: trim_nul(&b[108..236]),
            options: Vec::new(),
        };
        parse_options(&b[240..], &mut m.options);
        // Option overload (52): more options in `file` (1), `sname` (2) or both (3).
        if let Some(&[ov]) = m.get(opt::OVERLOAD) {
            if ov & 1 != 0 {
                parse_options(&b[108..236], &mut m.options);
                m.file.clear();
            }
            if ov & 2 != 0 {
                parse_options(&b[44..108], &mut m.options);
                m.sname.clear();
            }
        }
        Ok(m)
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut b = vec![0u8; FIXED_LEN];
        b[0] = self.op;
        b[1] = 1; // Ethernet
        b[2] = 6;
        b[4..8].copy_from_slice(&self.xid.to_be_bytes());
        b[8..10].copy_from_slice(&self.secs.to_be_bytes());
        b[10..12].copy_from_slice(&self.flags.to_be_bytes());
        b[12..16].copy_from_slice(&self.ciaddr.octets());
        b[16..20].copy_from_slice(&self.yiaddr.octets());
        b[20..24].copy_from_slice(&self.siaddr.octets());
        b[24..28].copy_from_slice(&self.giaddr.octets());
        b[28..44].copy_from_slice(&self.chaddr);
        let n = self.sname.len().min(63);
        b[44..44 + n].copy_from_slice(&self.sname[..n]);
        let n = self.file.len().min(127);
        b[108..108 + n].copy_from_slice(&self.file[..n]);
        b.extend_from_slice(&MAGIC);
        for (code, data) in &self.options {
            // long options are split into 255-byte pieces (RFC 3396)
            for chunk in data.chunks(255) {
                b.push(*code);
                b.push(chunk.len() as u8);
                b.extend_from_slice(chunk);
            }
            if data.is_empty() {
                b.extend_from_slice(&[*code, 0]);
            }
        }
        b.push(opt::END);
        // BOOTP minimum message size: 300 bytes
        while b.len() < 300 {
            b.push(0);
        }
        b
    }

    pub fn get(&self, code: u8) -> Option<&[u8]> {
        self.options
            .iter()
            .find(|(c, _)| *c == code)
            .map(|(_, v)| v.as_slice())
    }

    pub fn set(&mut self, code: u8, data: Vec<u8>) {
        self.options.retain(|(c, _)| *c != code);
        self.options.push((code, data));
    }

    pub fn msg_type(&self) -> Option<MsgType> {
        match self.get(opt::MSG_TYPE) {
            Some(&[t]) => MsgType::from_u8(t),
            _ => None,
        }
    }

    pub fn mac(&self) -> [u8; 6] {
        self.chaddr[..6].try_into().unwrap_or([0; 6])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut m = Message::new(BOOTREQUEST, 0xdead_beef, [2, 0, 0, 0, 0, 1]);
        m.set(opt::MSG_TYPE, vec![MsgType::Discover as u8]);
        m.set(opt::HOSTNAME, b"box".to_vec());
        m.set(opt::VENDOR_CLASS, vec![b'v'; 300]);
        let b = m.encode();
        assert!(b.len() >= 300);
        let d = Message::decode(&b).unwrap();
        assert_eq!(d, m);
        assert_eq!(d.msg_type(), Some(MsgType::Discover));
    }

    #[test]
    fn truncated_and_garbage_options_cost_only_themselves() {
        let mut m = Message::new(BOOTREPLY, 1, [0; 6]);
        m.set(opt::MSG_TYPE, vec![2]);
        let mut b = m.encode();
        // replace END and padding with an option claiming 200 bytes but carrying 3
        let end = 240 + 3;
        b.truncate(end);
        b.extend_from_slice(&[opt::HOSTNAME, 200, b'a', b'b', b'c']);
        let d = Message::decode(&b).unwrap();
        assert_eq!(d.msg_type(), Some(MsgType::Offer));
        assert_eq!(d.get(opt::HOSTNAME), None);
        assert_eq!(Message::decode(&b[..200]), Err(DecodeError::TooShort));
        let mut bad = b.clone();
        bad[236] = 0;
        assert_eq!(Message::decode(&bad), Err(DecodeError::NotDhcp));
    }

    #[test]
    fn overload_and_split_options() {
        let mut m = Message::new(BOOTREPLY, 1, [0; 6]);
        m.set(opt::MSG_TYPE, vec![5]);
        m.set(opt::OVERLOAD, vec![1]);
        let mut b = m.encode();
        // options in the `file` field: a router split in two pieces
        let file = [opt::ROUTER, 2, 10, 0, opt::ROUTER, 2, 0, 1, opt::END];
        b[108..108 + file.len()].copy_from_slice(&file);
        let d = Message::decode(&b).unwrap();
        assert_eq!(d.get(opt::ROUTER), Some(&[10, 0, 0, 1][..]));
    }
}
