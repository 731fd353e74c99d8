//! The DHCP client's pure part: the wire format (`msg`), validated leases
//! and the lease state file's text (`lease`), the `(now, event) -> actions`
//! state machine (`client`), IPv4/UDP framing, the BPF program and packet
//! metadata (`frame`), and the texts native mode writes (`ipconf`). No
//! syscalls, no clock, no files: the shell feeds these.

pub mod client;
pub mod frame;
pub mod ipconf;
pub mod lease;
pub mod msg;

/// Decode a packet and follow it through the whole client, as the I/O
/// shell would: the entry point for the fuzzer and the property test.
/// Never panics, whatever the bytes.
pub fn digest_untrusted(bytes: &[u8]) {
    use std::time::Duration;
    let Ok(m) = msg::Message::decode(bytes) else {
        return;
    };
    if let Some(l) = lease::Lease::from_message(&m) {
        let _ = l.script_env("eth0", 5);
        let _ = ipconf::ipconf("eth0", &l, true);
        let _ = l.effective_routes(true);
    }
    // through the state machine in every state that reads replies
    let mut c = client::Client::new(client::Config::new(m.mac(), 1));
    let _ = c.handle(
        Duration::ZERO,
        client::Event::Start {
            link_up: true,
            remembered: None,
        },
    );
    let mut m2 = m.clone();
    m2.xid = c.xid();
    for t in [0u64, 1, 2] {
        let _ = c.handle(Duration::from_secs(t), client::Event::Packet(&m2));
        m2.xid = c.xid();
    }
}

#[cfg(test)]
mod property {
    use super::msg::{opt, Message, BOOTREPLY};

    struct Rng(u64);
    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }
        fn byte(&mut self) -> u8 {
            self.next() as u8
        }
    }

    /// Many random packets, pure noise and valid replies with random
    /// options and random corruption: nothing panics.
    #[test]
    fn random_packets_never_panic() {
        let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
        for i in 0..20_000 {
            let bytes: Vec<u8> = if i % 4 == 0 {
                let n = (rng.next() % 700) as usize;
                (0..n).map(|_| rng.byte()).collect()
            } else {
                let mut m = Message::new(BOOTREPLY, rng.next() as u32, [rng.byte(); 6]);
                m.yiaddr = std::net::Ipv4Addr::from(rng.next() as u32);
                m.set(opt::MSG_TYPE, vec![rng.byte() % 9]);
                for _ in 0..(rng.next() % 12) {
                    let code = match rng.next() % 6 {
                        0 => opt::CLASSLESS_ROUTES,
                        1 => opt::DOMAIN_SEARCH,
                        2 => opt::HOSTNAME,
                        3 => opt::LEASE_TIME,
                        _ => rng.byte(),
                    };
                    let n = (rng.next() % 40) as usize;
                    m.set(code, (0..n).map(|_| rng.byte()).collect());
                }
                let mut b = m.encode();
                for _ in 0..(rng.next() % 4) {
                    let at = (rng.next() as usize) % b.len();
                    b[at] = rng.byte();
                }
                let cut = (rng.next() as usize) % (b.len() + 1);
                if i % 3 == 0 {
                    b.truncate(cut.max(240));
                }
                b
            };
            super::digest_untrusted(&bytes);
        }
    }
}
