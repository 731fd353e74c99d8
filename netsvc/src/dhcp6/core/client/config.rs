//! What the client is told (from the command line and the state file).

use super::super::msg::opt;
use std::net::Ipv6Addr;

/// Whether addresses (IA_NA) are asked for: odhcp6c's `-N try|force|none`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Want {
    /// Not asked for.
    None,
    /// Asked for; a server that gives only a prefix is fine.
    Try,
    /// Required: an Advertise without an address is ignored, and a binding
    /// without one is asked again.
    Force,
}

/// Prefix delegation (IA_PD): the hint sent with it (`-P [PREFIX/]LEN`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PdHint {
    /// 0: no length hint.
    pub len: u8,
    /// `::` unless a prefix was asked for.
    pub prefix: Ipv6Addr,
}

#[derive(Clone, Debug)]
pub struct Config {
    /// Our DUID (DUID-LL or DUID-LLT, kept in the state file by the shell).
    pub duid: Vec<u8>,
    /// The IAID of the IA_NA and of the IA_PD (they are of different types,
    /// so one number serves both, RFC 8415 §12).
    pub iaid: u32,
    pub na: Want,
    /// `None`: no prefix asked for. A configured prefix is always kept
    /// asked for: a router without its prefix is the outage to avoid.
    pub pd: Option<PdHint>,
    /// Offer Rapid Commit in SOLICIT (RFC 8415 §18.2.1).
    pub rapid_commit: bool,
    /// Options asked for besides DNS servers, domains and the timers.
    pub extra_oro: Vec<u16>,
    /// SOL_MAX_RT until a server sets it (odhcp6c's `-t`; RFC 8415: 3600 s).
    pub sol_max_rt: Option<std::time::Duration>,
    /// Follow the router advertisements' M and O flags (a host): nothing
    /// is sent until an RA says DHCPv6 is there, SOLICIT for M, only
    /// INFORMATION-REQUEST for O. Not when a prefix is asked for: a router
    /// asks for its prefix whatever the flags say (ISPs often send M=0).
    pub follow_ra: bool,
}

impl Config {
    /// Addresses and a prefix (no length hint), Rapid Commit offered.
    pub fn new(duid: Vec<u8>, iaid: u32) -> Config {
        Config {
            duid,
            iaid,
            na: Want::Try,
            pd: Some(PdHint {
                len: 0,
                prefix: Ipv6Addr::UNSPECIFIED,
            }),
            rapid_commit: true,
            extra_oro: Vec::new(),
            sol_max_rt: None,
            follow_ra: false,
        }
    }

    /// Neither addresses nor prefixes: INFORMATION-REQUEST only (RFC 8415 §18.2.6).
    pub fn stateless(&self) -> bool {
        self.na == Want::None && self.pd.is_none()
    }

    /// It waits for router advertisements before it sends anything.
    pub fn waits_for_ra(&self) -> bool {
        self.follow_ra && self.pd.is_none()
    }

    /// The Option Request option of a message type.
    pub fn oro(&self, info_request: bool) -> Vec<u16> {
        let mut o = vec![opt::DNS_SERVERS, opt::DOMAIN_LIST];
        if info_request {
            o.extend([opt::INFORMATION_REFRESH_TIME, opt::INF_MAX_RT]);
        } else {
            o.push(opt::SOL_MAX_RT);
        }
        for c in &self.extra_oro {
            if !o.contains(c) {
                o.push(*c);
            }
        }
        o
    }
}
