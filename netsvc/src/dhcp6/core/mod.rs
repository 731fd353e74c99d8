//! The DHCPv6 client's pure part: the wire format (`msg`) and the
//! `(now, event) -> actions` state machine (`client`). No syscalls, no
//! clock, no random numbers of its own, no files: the shell feeds these.

pub mod client;
pub mod msg;
pub mod ra;
pub mod report;

/// Decode any bytes as a message from a server and follow them as far as
/// the client would: the entry point of the fuzz target `dhcp6_msg`.
/// Never panics; panics only when decoding what was encoded from a
/// decoded message gives something else (the round trip).
pub fn digest_untrusted(bytes: &[u8]) {
    // the same bytes as an ICMPv6 message that may be a router advertisement
    if let Some((m, o)) = msg::router_advert_flags(bytes) {
        assert!(bytes.len() >= 16 && bytes[0] == 134);
        assert_eq!((m, o), (bytes[5] & 0x80 != 0, bytes[5] & 0x40 != 0));
    }
    let Ok(m) = msg::Message::decode(bytes) else {
        return;
    };
    let again = msg::Message::decode(&m.encode());
    assert_eq!(again.as_ref(), Ok(&m), "decode(encode(m)) != m");
    // Through the state machine, made to look like an answer of ours (our
    // transaction, client id and IAID), as Advertise and as Reply, in each
    // state it reaches, with the carrier lost and back on the way.
    use client::{Action, Client, Config, Event};
    use std::time::Duration;
    let duid = msg::duid_ll([2, 0, 0, 0, 0, 1]);
    let mut n = 0u32;
    let random = Box::new(move || {
        n = n.wrapping_add(0x9e37_79b9);
        n
    });
    let mut c = Client::new(Config::new(duid.clone(), 1), random);
    let mut now = Duration::ZERO;
    let check = |a: &[Action]| {
        for a in a {
            if let Action::Bound(b) | Action::Updated(b) | Action::Rebound(b) = a {
                assert!(b.prefixes.iter().all(|p| (1..=64).contains(&p.len)));
                assert!(b.domains.iter().all(|d| msg::name_ok(d)));
            }
        }
    };
    check(&c.handle(now, Event::Start { link_up: true }));
    for step in 0..8u32 {
        let mut m2 = m.clone();
        m2.xid = c.xid().unwrap_or(m.xid);
        m2.client_id = Some(duid.clone());
        m2.kind = if step % 2 == 0 {
            msg::Kind::Advertise
        } else {
            msg::Kind::Reply
        };
        for ia in m2.ia_na.iter_mut().chain(m2.ia_pd.iter_mut()) {
            ia.iaid = 1;
        }
        check(&c.handle(now, Event::Packet(&m2)));
        if step == 4 {
            check(&c.handle(now, Event::LinkDown));
            check(&c.handle(now, Event::LinkUp));
        }
        if let Some(d) = c.deadline() {
            now = now.max(d);
            check(&c.handle(now, Event::Timer));
        }
    }
    check(&c.handle(now, Event::Stop));
}

#[cfg(test)]
mod property {
    use super::msg::{self, opt};

    /// Many random messages, noise and well-formed ones with random
    /// options and random corruption: nothing panics, round trips hold.
    #[test]
    fn random_messages_never_panic() {
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for i in 0..20_000 {
            let mut b = vec![(next() % 13) as u8, 1, 2, 3];
            let codes = [
                opt::IA_NA,
                opt::IA_PD,
                opt::DOMAIN_LIST,
                opt::DNS_SERVERS,
                opt::STATUS_CODE,
                opt::CLIENTID,
                opt::SERVERID,
                opt::SOL_MAX_RT,
            ];
            for _ in 0..(next() % 8) {
                let code = codes[(next() % codes.len() as u64) as usize];
                let len = (next() % 80) as usize;
                let mut body: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                if i % 2 == 0 && matches!(code, opt::IA_NA | opt::IA_PD) && len > 12 {
                    // a plausible lease inside
                    let inner = if code == opt::IA_NA {
                        opt::IAADDR
                    } else {
                        opt::IAPREFIX
                    };
                    body.truncate(12);
                    body.extend_from_slice(&inner.to_be_bytes());
                    body.extend_from_slice(&25u16.to_be_bytes());
                    body.extend((0..25).map(|_| next() as u8));
                }
                b.extend_from_slice(&code.to_be_bytes());
                b.extend_from_slice(&(body.len() as u16).to_be_bytes());
                b.extend_from_slice(&body);
            }
            if i % 3 == 0 {
                let cut = (next() as usize) % (b.len() + 1);
                b.truncate(cut);
            }
            super::digest_untrusted(&b);
            let _ = msg::Message::decode(&b);
        }
    }
}
