//! Netlink messages, pure: the one place a header is built (`encode`), the
//! one message walker (`messages`) and the one attribute walker (`attrs`),
//! each checking every length against the bytes there are, plus the
//! answers a request waits for (`ack`, `Dump`). Written against netlink(7)
//! and rtnetlink(7); no socket, no syscall.

/// `struct nlmsghdr`: length, type, flags, sequence number, port id.
/// `RT_SCOPE_LINK`: an address or route valid on its link only.
pub const SCOPE_LINK: u8 = 253;

pub const HEADER_LEN: usize = 16;

pub const NLMSG_ERROR: u16 = 2;
pub const NLMSG_DONE: u16 = 3;
pub const RTM_NEWLINK: u16 = 16;
pub const RTM_DELLINK: u16 = 17;
pub const RTM_GETLINK: u16 = 18;
pub const RTM_NEWADDR: u16 = 20;
pub const RTM_DELADDR: u16 = 21;
pub const RTM_GETADDR: u16 = 22;
pub const RTM_NEWROUTE: u16 = 24;
pub const RTM_DELROUTE: u16 = 25;
pub const RTM_GETROUTE: u16 = 26;
pub const RTM_NEWNEIGH: u16 = 28;
pub const RTM_DELNEIGH: u16 = 29;
pub const RTM_GETNEIGH: u16 = 30;

pub const NLM_F_REQUEST: u16 = 1;
pub const NLM_F_ACK: u16 = 4;
/// The dump was interrupted by a change: its answers may be inconsistent.
pub const NLM_F_DUMP_INTR: u16 = 0x10;
pub const NLM_F_REPLACE: u16 = 0x100;
pub const NLM_F_EXCL: u16 = 0x200;
pub const NLM_F_CREATE: u16 = 0x400;
pub const NLM_F_DUMP: u16 = 0x300;

/// `NLA_TYPE_MASK`: an attribute's type without the nested and
/// byte-order bits.
const ATTR_TYPE_MASK: u16 = 0x3fff;
/// An attribute's data is at most this long (its length field is a u16).
pub const MAX_ATTR_DATA: usize = u16::MAX as usize - 4;

/// `len` rounded up to netlink's 4-byte alignment.
fn align(len: usize) -> usize {
    len.div_ceil(4) * 4
}

pub fn u16_at(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_ne_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

pub fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_ne_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

/// An attribute's data as a u32, when it is exactly four bytes.
pub fn u32_of(d: &[u8]) -> Option<u32> {
    (d.len() == 4).then(|| u32_at(d, 0)).flatten()
}

/// An attribute's data as an IPv4 address, when it is exactly four bytes.
pub fn ip4(d: &[u8]) -> Option<std::net::Ipv4Addr> {
    <[u8; 4]>::try_from(d).ok().map(std::net::Ipv4Addr::from)
}

/// One request: the header, then `body` (its fixed part and attributes).
pub fn encode(typ: u16, flags: u16, seq: u32, body: &[u8]) -> Vec<u8> {
    let len = HEADER_LEN + body.len();
    let mut m = Vec::with_capacity(align(len));
    m.extend_from_slice(&u32::try_from(len).unwrap_or(u32::MAX).to_ne_bytes());
    m.extend_from_slice(&typ.to_ne_bytes());
    m.extend_from_slice(&flags.to_ne_bytes());
    m.extend_from_slice(&seq.to_ne_bytes());
    m.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel's
    m.extend_from_slice(body);
    m
}

/// Append one attribute, padded to the alignment. `data` is at most
/// `MAX_ATTR_DATA` bytes (the encoders here put at most 16).
pub fn put_attr(buf: &mut Vec<u8>, typ: u16, data: &[u8]) {
    debug_assert!(data.len() <= MAX_ATTR_DATA);
    let data = data.get(..MAX_ATTR_DATA).unwrap_or(data);
    buf.extend_from_slice(&((4 + data.len()) as u16).to_ne_bytes());
    buf.extend_from_slice(&typ.to_ne_bytes());
    buf.extend_from_slice(data);
    while !buf.len().is_multiple_of(4) {
        buf.push(0);
    }
}

/// One message of a buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Msg<'a> {
    pub typ: u16,
    pub flags: u16,
    pub seq: u32,
    /// what follows the header, up to the message's own length
    pub body: &'a [u8],
}

/// The messages of a buffer read from a netlink socket, in order. A length
/// shorter than a header or longer than the bytes left ends the walk.
pub fn messages(b: &[u8]) -> Messages<'_> {
    Messages(b)
}

pub struct Messages<'a>(&'a [u8]);

impl<'a> Iterator for Messages<'a> {
    type Item = Msg<'a>;

    fn next(&mut self) -> Option<Msg<'a>> {
        let b = self.0;
        let len = u32_at(b, 0).map_or(0, |l| l as usize);
        if len < HEADER_LEN || len > b.len() {
            self.0 = &[];
            return None;
        }
        let m = Msg {
            typ: u16_at(b, 4)?,
            flags: u16_at(b, 6)?,
            seq: u32_at(b, 8)?,
            body: b.get(HEADER_LEN..len)?,
        };
        self.0 = b.get(align(len)..).unwrap_or_default();
        Some(m)
    }
}

/// The attributes of a message body after its fixed part of `skip` bytes,
/// as (type, data). A length shorter than an attribute header or longer
/// than the bytes left ends the walk.
pub fn attrs(body: &[u8], skip: usize) -> Attrs<'_> {
    Attrs(body.get(skip..).unwrap_or(&[]))
}

pub struct Attrs<'a>(&'a [u8]);

impl<'a> Iterator for Attrs<'a> {
    type Item = (u16, &'a [u8]);

    fn next(&mut self) -> Option<(u16, &'a [u8])> {
        let a = self.0;
        let len = u16_at(a, 0).map_or(0, usize::from);
        if len < 4 || len > a.len() {
            self.0 = &[];
            return None;
        }
        let typ = u16_at(a, 2)? & ATTR_TYPE_MASK;
        let data = a.get(4..len)?;
        self.0 = a.get(align(len)..).unwrap_or_default();
        Some((typ, data))
    }
}

/// The errno of an `NLMSG_ERROR` body (`struct nlmsgerr`: the negated
/// code first; 0 is an acknowledgement). One too short to hold it is a bad
/// message; `-i32::MIN` would overflow.
pub fn error_code(body: &[u8]) -> i32 {
    match u32_at(body, 0) {
        Some(c) => (c as i32).saturating_neg(),
        None => libc::EBADMSG,
    }
}

/// The kernel's answer to request `seq` in a buffer read from the socket:
/// `Some(errno)` (0 = done) when the buffer holds that acknowledgement,
/// `None` when it does not (another request's answer, or none).
pub fn ack(b: &[u8], seq: u32) -> Option<i32> {
    messages(b)
        .find(|m| m.typ == NLMSG_ERROR && m.seq == seq)
        .map(|m| error_code(m.body))
}

/// How a buffer of dump answers ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DumpEnd {
    /// Not yet: read another buffer.
    More,
    /// `NLMSG_DONE`: the dump is complete.
    Done,
    /// `NLMSG_ERROR` (or an `NLMSG_DONE` carrying a failure): this errno.
    Error(i32),
}

/// The answers to dump request `seq`, gathered buffer by buffer.
#[derive(Debug, Default)]
pub struct Dump {
    seq: u32,
    /// (message type, body) of each answer, in order
    pub items: Vec<(u16, Vec<u8>)>,
    /// an answer carried `NLM_F_DUMP_INTR`: the table changed during the
    /// dump, so ask again
    pub interrupted: bool,
}

impl Dump {
    pub fn new(seq: u32) -> Dump {
        Dump {
            seq,
            ..Dump::default()
        }
    }

    /// One buffer of the answers. Messages of another request (a stale
    /// answer after a timeout) are skipped.
    pub fn feed(&mut self, b: &[u8]) -> DumpEnd {
        for m in messages(b).filter(|m| m.seq == self.seq) {
            self.interrupted |= m.flags & NLM_F_DUMP_INTR != 0;
            match m.typ {
                // the dump's result: 0 or more on success, -errno on failure
                NLMSG_DONE => {
                    return match u32_at(m.body, 0).map(|c| c as i32) {
                        Some(c) if c < 0 => DumpEnd::Error(c.saturating_neg()),
                        _ => DumpEnd::Done,
                    }
                }
                NLMSG_ERROR => return DumpEnd::Error(error_code(m.body)),
                t => self.items.push((t, m.body.to_vec())),
            }
        }
        DumpEnd::More
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(len: u32, typ: u16, seq: u32) -> Vec<u8> {
        let mut m = len.to_ne_bytes().to_vec();
        m.extend_from_slice(&typ.to_ne_bytes());
        m.extend_from_slice(&[0, 0]);
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&[0; 4]);
        m
    }

    /// A dump's answers in one buffer, its sequence number from the first.
    fn dump_part(b: &[u8], out: &mut Vec<(u16, Vec<u8>)>) -> DumpEnd {
        let mut d = Dump::new(u32_at(b, 8).unwrap_or(0));
        let end = d.feed(b);
        out.extend(d.items);
        end
    }

    #[test]
    fn dump_answers_and_errors() {
        let mut b = header(20, RTM_NEWADDR, 1);
        b.extend_from_slice(&[2, 24, 0, 0]);
        b.extend(header(16, NLMSG_DONE, 1));
        let mut out = Vec::new();
        assert_eq!(dump_part(&b, &mut out), DumpEnd::Done);
        assert_eq!(out, [(RTM_NEWADDR, vec![2, 24, 0, 0])]);
        let mut e = header(36, NLMSG_ERROR, 1);
        e.extend_from_slice(&(-libc::EPERM).to_ne_bytes());
        e.extend(header(16, RTM_GETADDR, 1));
        assert_eq!(dump_part(&e, &mut out), DumpEnd::Error(libc::EPERM));
        assert_eq!(ack(&e, 1), Some(libc::EPERM));
        assert_eq!(ack(&e, 2), None, "another request's answer");
    }

    #[test]
    fn a_short_or_odd_error_message_is_no_panic() {
        // Found by the netlink fuzz target: an NLMSG_ERROR of only its
        // 16-byte header was indexed past its end.
        let mut out = Vec::new();
        let short = header(16, NLMSG_ERROR, 0);
        assert_eq!(dump_part(&short, &mut out), DumpEnd::Error(libc::EBADMSG));
        // its code is read inside the message, not from the next one
        let mut two = short.clone();
        two.extend(header(16, NLMSG_DONE, 0));
        assert_eq!(dump_part(&two, &mut out), DumpEnd::Error(libc::EBADMSG));
        // -i32::MIN overflows
        let mut e = header(20, NLMSG_ERROR, 0);
        e.extend_from_slice(&i32::MIN.to_ne_bytes());
        assert_eq!(dump_part(&e, &mut out), DumpEnd::Error(i32::MAX));
        assert_eq!(ack(&e, 0), Some(i32::MAX));
        assert!(out.is_empty());
    }

    #[test]
    fn a_dump_skips_other_requests_and_notes_an_interruption() {
        let mut d = Dump::new(7);
        // a stale answer to request 6, then request 7's
        let mut b = encode(RTM_NEWROUTE, 0, 6, &[1; 12]);
        b.extend(encode(RTM_NEWROUTE, 0, 7, &[2; 12]));
        assert_eq!(d.feed(&b), DumpEnd::More);
        assert!(!d.interrupted);
        assert_eq!(d.feed(&encode(NLMSG_DONE, 0, 6, &[0; 4])), DumpEnd::More);
        let done = encode(NLMSG_DONE, NLM_F_DUMP_INTR, 7, &0i32.to_ne_bytes());
        assert_eq!(d.feed(&done), DumpEnd::Done);
        assert!(d.interrupted);
        assert_eq!(d.items, [(RTM_NEWROUTE, vec![2; 12])]);
        // a dump that failed says so in its NLMSG_DONE
        let failed = encode(NLMSG_DONE, 0, 8, &(-libc::EMSGSIZE).to_ne_bytes());
        assert_eq!(Dump::new(8).feed(&failed), DumpEnd::Error(libc::EMSGSIZE));
    }

    #[test]
    fn what_is_encoded_decodes_the_same() {
        let mut body = vec![2, 0, 0, 0];
        put_attr(&mut body, 3, b"eth0\0");
        put_attr(&mut body, 0x8000 | 9, &[]);
        put_attr(&mut body, 16, &[6]);
        let m = encode(RTM_NEWLINK, NLM_F_REQUEST | NLM_F_ACK, 42, &body);
        assert_eq!(m.len(), HEADER_LEN + body.len());
        let all: Vec<Msg> = messages(&m).collect();
        assert_eq!(
            all,
            [Msg {
                typ: RTM_NEWLINK,
                flags: NLM_F_REQUEST | NLM_F_ACK,
                seq: 42,
                body: &body
            }]
        );
        let a: Vec<(u16, &[u8])> = attrs(all[0].body, 4).collect();
        assert_eq!(a, [(3, &b"eth0\0"[..]), (9, &[][..]), (16, &[6][..])]);
    }

    #[test]
    fn lengths_that_do_not_fit_end_the_walk() {
        let mut b = encode(RTM_NEWLINK, 0, 1, &[0; 8]);
        b[0] = 200; // longer than the buffer
        assert_eq!(messages(&b).count(), 0);
        b[0] = 15; // shorter than a header
        assert_eq!(messages(&b).count(), 0);
        assert_eq!(messages(&[0xff; 7]).count(), 0);
        // an attribute longer than the body, or shorter than its header
        assert_eq!(attrs(&[9, 0, 1, 0, 0, 0, 0, 0], 0).count(), 0);
        assert_eq!(attrs(&[3, 0, 1, 0, 0, 0, 0, 0], 0).count(), 0);
        assert_eq!(attrs(&[4, 0, 1, 0], 9).count(), 0, "skip past the end");
        // the last message or attribute need not be padded
        let mut two = encode(RTM_NEWLINK, 0, 1, &[1]);
        assert_eq!(two.len(), 17);
        two.extend_from_slice(&[0; 3]);
        two.extend(encode(RTM_DELLINK, 0, 1, &[5]));
        let all: Vec<Msg> = messages(&two).collect();
        assert_eq!(
            (all.len(), all[1].typ, all[1].body),
            (2, RTM_DELLINK, &[5][..])
        );
        assert_eq!(
            attrs(&[5, 0, 1, 0, 7], 0).collect::<Vec<_>>(),
            [(1, &[7][..])]
        );
    }
}
