//! The `-a` check (RFC 5227): an acknowledged address is probed with ARP
//! before it is used; an owner, or another host probing for it, makes the
//! client DECLINE it and pause.

use super::{Action, Client, Dest, State};
use crate::arp::{self, Arp};
use crate::dhcp::core::lease::Lease;
use crate::dhcp::core::msg::{opt, MsgType};
use std::time::Duration;

/// ARP probes in the `-a` check, spread evenly over `arp_wait`.
const ARP_PROBES: u32 = 3;
/// RFC 2131 §3.1: after a DECLINE, wait before starting again.
const DECLINE_PAUSE: Duration = Duration::from_secs(10);

/// The ARP check of an acknowledged lease.
#[derive(Clone, Debug)]
pub(super) struct Probe {
    lease: Lease,
    /// when the ACK came: the lease's times count from then, not from the
    /// end of the check (RFC 2131 §4.4.1 counts from the REQUEST, which is
    /// at most one retransmission earlier)
    acked: Duration,
    sent: u32,
}

impl Client {
    /// `-a`: probe the acknowledged address before using it.
    pub(super) fn begin_probe(&mut self, now: Duration, lease: Lease) -> Vec<Action> {
        self.state = State::Checking;
        self.discover_at = None;
        self.probe = Some(Probe {
            lease,
            acked: now,
            sent: 0,
        });
        self.probe_timer(now)
    }

    /// Next probe, or, after the last one's share of `arp_wait` passed
    /// without an owner, bind.
    pub(super) fn probe_timer(&mut self, now: Duration) -> Vec<Action> {
        let Some(p) = self.probe.as_mut() else {
            return self.start_over(now);
        };
        if p.sent >= ARP_PROBES {
            let (lease, acked) = (p.lease.clone(), p.acked);
            return self.bind(now, acked, lease);
        }
        p.sent += 1;
        let ip = p.lease.ip;
        let interval = self.cfg.arp_wait / ARP_PROBES;
        self.timer = Some(now.saturating_add(interval));
        vec![Action::SendArpProbe(ip)]
    }

    /// An ARP frame while probing: a reply or announcement from another
    /// host with the address, or another host probing for it at the same
    /// time (RFC 5227 §2.1.1), is a conflict: DECLINE and pause.
    pub(super) fn arp(&mut self, now: Duration, p: Arp) -> Vec<Action> {
        if self.state != State::Checking {
            return Vec::new();
        }
        let Some(ip) = self.probe.as_ref().map(|x| x.lease.ip) else {
            return Vec::new();
        };
        let other = p.sender_mac != self.cfg.mac;
        let claims = p.sender_ip == ip;
        let probes = p.op == arp::REQUEST && p.sender_ip.is_unspecified() && p.target_ip == ip;
        if !(other && (claims || probes)) {
            return Vec::new();
        }
        let Some(probe) = self.probe.take() else {
            return Vec::new();
        };
        let mut m = self.base_message(now, MsgType::Decline);
        m.set(opt::REQUESTED_IP, ip.octets().to_vec());
        m.set(opt::SERVER_ID, probe.lease.server.octets().to_vec());
        self.state = State::Paused;
        self.timer = Some(now.saturating_add(DECLINE_PAUSE));
        vec![
            Action::Conflict(ip, p.sender_mac),
            Action::Send(m, Dest::Broadcast),
        ]
    }
}
