//! What the client is told (`Config`, from the command line) and the
//! requests it shapes: every message's common options, and the DISCOVER.

use super::Client;
use crate::dhcp::core::msg::{opt, Message, MsgType, BOOTREQUEST};
use std::net::Ipv4Addr;
use std::time::Duration;

#[derive(Clone, Debug)]
pub struct Config {
    pub mac: [u8; 6],
    /// Option 61; by default type 1 (Ethernet) and the MAC.
    pub client_id: Vec<u8>,
    pub hostname: Option<String>,
    pub vendor_class: Option<Vec<u8>>,
    /// `-r`: the address to ask for first.
    pub request_ip: Option<Ipv4Addr>,
    /// `-O`: options to request in addition to the defaults.
    pub extra_params: Vec<u8>,
    /// `-x`: options to send.
    pub extra_options: Vec<(u8, Vec<u8>)>,
    /// `-t`: DISCOVERs (and REQUESTs) before giving up for a while.
    pub tries: u32,
    /// First retransmission timeout; doubled each time, up to 64 s (RFC 2131
    /// §4.1 starts at 4 s; a LAN answers in milliseconds, and a DISCOVER lost
    /// to a switch port that is not forwarding yet should cost half a second).
    pub initial_timeout: Duration,
    /// `-A`: pause after a failed round before trying again.
    pub failure_pause: Duration,
    /// `-a`: probe the offered address with ARP before using it.
    pub arp_check: bool,
    /// `-a[MSEC]`: how long the ARP check listens (three probes in that time).
    pub arp_wait: Duration,
    /// Honour option 121 (switch off against TunnelVision-style steering).
    pub classless_routes: bool,
    /// `-B`: ask servers to broadcast their replies (for relays and servers
    /// that cannot reach a client without an address by unicast).
    pub broadcast_flag: bool,
    /// Seed for transaction ids and jitter (from getrandom in the shell).
    pub seed: u64,
}

impl Config {
    pub fn new(mac: [u8; 6], seed: u64) -> Config {
        let mut client_id = vec![1];
        client_id.extend_from_slice(&mac);
        Config {
            mac,
            client_id,
            hostname: None,
            vendor_class: None,
            request_ip: None,
            extra_params: Vec::new(),
            extra_options: Vec::new(),
            tries: 3,
            initial_timeout: Duration::from_millis(500),
            failure_pause: Duration::from_secs(20),
            arp_check: false,
            arp_wait: Duration::from_millis(2000),
            classless_routes: true,
            broadcast_flag: false,
            seed,
        }
    }
}

impl Client {
    pub(super) fn base_message(&self, now: Duration, t: MsgType) -> Message {
        let mut m = Message::new(BOOTREQUEST, self.xid, self.cfg.mac);
        m.secs = (now.saturating_sub(self.started).as_secs()).min(u16::MAX as u64) as u16;
        if self.cfg.broadcast_flag && matches!(t, MsgType::Discover | MsgType::Request) {
            m.flags = 0x8000;
        }
        m.set(opt::MSG_TYPE, vec![t as u8]);
        m.set(opt::CLIENT_ID, self.cfg.client_id.clone());
        if t != MsgType::Release && t != MsgType::Decline {
            let mut params = opt::REQUESTED.to_vec();
            if self.cfg.classless_routes {
                params.push(opt::CLASSLESS_ROUTES);
            }
            for p in &self.cfg.extra_params {
                if !params.contains(p) {
                    params.push(*p);
                }
            }
            m.set(opt::PARAM_LIST, params);
            m.set(opt::MAX_SIZE, 576u16.to_be_bytes().to_vec());
            if let Some(h) = &self.cfg.hostname {
                m.set(opt::HOSTNAME, h.as_bytes().to_vec());
            }
            if let Some(v) = &self.cfg.vendor_class {
                m.set(opt::VENDOR_CLASS, v.clone());
            }
            for (c, v) in &self.cfg.extra_options {
                m.set(*c, v.clone());
            }
        }
        m
    }

    /// A DISCOVER, asking for `-r`'s address or the one the client has, so
    /// that a server on the same network hands the same address back.
    pub(super) fn discover_message(&self, now: Duration) -> Message {
        let mut m = self.base_message(now, MsgType::Discover);
        if let Some(ip) = self.cfg.request_ip.or(self.known_ip()) {
            m.set(opt::REQUESTED_IP, ip.octets().to_vec());
        }
        m
    }
}
