//! INIT-REBOOT (RFC 2131 §3.2, §4.3.2): a lease the client has, in force
//! after a replug or remembered across a restart, verified by REQUESTs
//! without a server id, with DISCOVERs alongside after a second.

use super::{Action, Client, Dest, State};
use crate::dhcp::core::msg::{opt, MsgType};
use std::time::Duration;

/// INIT-REBOOT's first retransmission (then doubled: REQUESTs at about 0,
/// 0.25, 0.75, 1.75 and 3.75 s).
const REBOOT_RETRY: Duration = Duration::from_millis(250);
/// How long INIT-REBOOT REQUESTs go on (RFC 2131 §3.2 lets the client keep
/// its lease when they go unanswered).
const REBOOT_PHASE: Duration = Duration::from_secs(4);
/// When DISCOVERs join the REQUESTs: a cable moved to a network whose server
/// ignores a foreign REQUEST (dnsmasq without --dhcp-authoritative) gets the
/// new lease a second after the replug, not after the whole INIT-REBOOT.
const REBOOT_DISCOVER_AFTER: Duration = Duration::from_secs(1);

impl Client {
    /// INIT-REBOOT (RFC 2131 §3.2, §4.3.2): REQUESTs for the known address
    /// without server id, with back-off, for `REBOOT_PHASE`; from
    /// `REBOOT_DISCOVER_AFTER` on, DISCOVERs with the same xid go out too,
    /// and whichever answer comes first is taken: an ACK binds, an OFFER
    /// is requested, a NAK ends the lease. The address stays meanwhile.
    pub(super) fn begin_reboot(&mut self, now: Duration) -> Vec<Action> {
        self.state = State::Rebooting;
        self.new_xid(now);
        self.reboot_since = now;
        self.reboot_tries = 0;
        self.offer = None;
        self.probe = None;
        self.discover_at = Some(now.saturating_add(REBOOT_DISCOVER_AFTER));
        self.reboot_request(now)
    }

    pub(super) fn reboot_end(&self) -> Duration {
        self.reboot_since.saturating_add(REBOOT_PHASE)
    }

    pub(super) fn reboot_request(&mut self, now: Duration) -> Vec<Action> {
        let Some(ip) = self.known_ip() else {
            return self.start_over(now);
        };
        let mut m = self.base_message(now, MsgType::Request);
        m.set(opt::REQUESTED_IP, ip.octets().to_vec());
        let wait = self.backoff(REBOOT_RETRY, self.reboot_tries);
        self.reboot_tries = self.reboot_tries.saturating_add(1);
        self.timer = Some(now.saturating_add(wait).min(self.reboot_end()));
        vec![Action::Send(m, Dest::Broadcast)]
    }

    /// The REQUEST timer of INIT-REBOOT: retransmit, or end the phase.
    pub(super) fn reboot_timer(&mut self, now: Duration) -> Vec<Action> {
        if now < self.reboot_end() {
            return self.reboot_request(now);
        }
        // Unanswered. A remembered lease was never configured: nothing to
        // keep. A lease in force stays until it expires (RFC 2131 §3.2),
        // and the DISCOVERs go on alone.
        self.candidate = None;
        self.state = State::Selecting;
        self.timer = self.discover_at.take().or(Some(now));
        Vec::new()
    }

    /// A DISCOVER of the INIT-REBOOT phase (same xid as its REQUESTs).
    pub(super) fn reboot_discover(&mut self, now: Duration) -> Vec<Action> {
        let m = self.discover_message(now);
        let wait = self.backoff(self.cfg.initial_timeout, self.tries);
        self.tries = self.tries.saturating_add(1);
        self.discover_at = Some(now.saturating_add(wait));
        vec![Action::Send(m, Dest::Broadcast)]
    }
}
