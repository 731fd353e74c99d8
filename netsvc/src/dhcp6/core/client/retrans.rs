//! Retransmission (RFC 8415 §15): one exchange's transaction id, its
//! transmissions and when the next is due. The randomisation (RAND,
//! ±0.1) comes from the caller's random numbers, never from a clock.

use super::super::msg::Kind;
use std::time::Duration;

const fn s(secs: u64) -> Duration {
    Duration::from_secs(secs)
}

/// SOL_MAX_RT and INF_MAX_RT by default (RFC 8415 §7.6), and the range a
/// server may set them to (§21.24, §21.25).
pub const SOL_MAX_RT: Duration = s(3600);
pub const INF_MAX_RT: Duration = s(3600);
pub const MAX_RT_RANGE: std::ops::RangeInclusive<u32> = 60..=86400;

/// IRT, MRT and MRC of a message type (RFC 8415 §7.6); MRD is given when
/// the exchange starts (it depends on the bindings).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Params {
    pub irt: Duration,
    /// Zero: no upper bound.
    pub mrt: Duration,
    /// Zero: no limit on transmissions.
    pub mrc: u32,
}

pub fn params(kind: Kind, sol_max_rt: Duration, inf_max_rt: Duration) -> Params {
    let p = |irt, mrt, mrc| Params { irt, mrt, mrc };
    match kind {
        Kind::Solicit => p(s(1), sol_max_rt, 0),
        Kind::Request => p(s(1), s(30), 10),
        Kind::Confirm => p(s(1), s(4), 0),
        Kind::Renew | Kind::Rebind => p(s(10), s(600), 0),
        Kind::InformationRequest => p(s(1), inf_max_rt, 0),
        Kind::Release | Kind::Decline => p(s(1), Duration::ZERO, 4),
        // a client never sends these
        Kind::Advertise | Kind::Reply => p(s(1), s(1), 1),
    }
}

/// `d` changed by RAND: -0.1..=+0.1 of it, or with `positive` strictly
/// more than 0 (the first Solicit, §18.2.1), in thousandths from `r`.
pub fn randomised(d: Duration, r: u32, positive: bool) -> Duration {
    let permille = if positive {
        (r % 100) as i64 + 1
    } else {
        (r % 201) as i64 - 100
    };
    let ms = d.as_millis().min(i64::MAX as u128 / 1000) as i64;
    Duration::from_millis((ms + ms * permille / 1000).max(0) as u64)
}

#[derive(Clone, Debug)]
pub struct Exchange {
    pub kind: Kind,
    pub xid: u32,
    /// When its first message went (or was to go) out: `elapsed` counts from here.
    pub started: Duration,
    pub params: Params,
    /// The exchange fails at this time (MRD), if ever.
    pub mrd_end: Option<Duration>,
    /// Messages sent so far.
    pub sent: u32,
    rt: Duration,
    /// The next transmission.
    pub next: Duration,
}

impl Exchange {
    /// An exchange whose first message is due at `first`.
    pub fn new(
        kind: Kind,
        xid: u32,
        first: Duration,
        params: Params,
        mrd_end: Option<Duration>,
    ) -> Exchange {
        Exchange {
            kind,
            xid: xid & 0xff_ffff,
            started: first,
            params,
            mrd_end,
            sent: 0,
            rt: Duration::ZERO,
            next: first,
        }
    }

    /// When the timer is due: the next transmission, or the end of MRD.
    pub fn deadline(&self) -> Duration {
        self.mrd_end.map_or(self.next, |e| e.min(self.next))
    }

    /// The exchange has failed: MRC transmissions made, or MRD over.
    pub fn failed(&self, now: Duration) -> bool {
        (self.params.mrc > 0 && self.sent >= self.params.mrc)
            || self.mrd_end.is_some_and(|e| now >= e)
    }

    /// A message goes out now: count it and set the next RT (§15).
    pub fn transmit(&mut self, now: Duration, r: u32) {
        let p = self.params;
        self.rt = if self.sent == 0 {
            randomised(p.irt, r, self.kind == Kind::Solicit)
        } else {
            // 2 RTprev + RAND * RTprev
            self.rt.saturating_add(randomised(self.rt, r, false))
        };
        if !p.mrt.is_zero() && self.rt > p.mrt {
            self.rt = randomised(p.mrt, r, false);
        }
        self.sent = self.sent.saturating_add(1);
        self.next = now.saturating_add(self.rt);
    }

    /// The first RT has passed without a transmission since (Solicit:
    /// the time to collect Advertises is over, §18.2.1).
    pub fn first_rt_over(&self, now: Duration) -> bool {
        self.sent > 1 || (self.sent == 1 && now >= self.next)
    }

    /// Elapsed Time (§21.9): hundredths of a second since the first
    /// message, 0xffff at most.
    pub fn elapsed(&self, now: Duration) -> u16 {
        if self.sent == 0 {
            return 0;
        }
        (now.saturating_sub(self.started).as_millis() / 10).min(0xffff) as u16
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(d: Duration) -> u128 {
        d.as_millis()
    }

    #[test]
    fn rand_is_within_a_tenth() {
        let d = s(10);
        for r in [0, 1, 100, 200, 12345, u32::MAX] {
            let x = ms(randomised(d, r, false));
            assert!((9000..=11000).contains(&x), "{x}");
            let y = ms(randomised(d, r, true));
            assert!((10001..=11000).contains(&y), "{y}");
        }
        assert_eq!(ms(randomised(d, 0, false)), 9000);
        assert_eq!(ms(randomised(d, 200, false)), 11000);
    }

    /// Each RT lies within RFC 8415 §15's bounds for any RAND: the first
    /// IRT ±0.1, then 2 RTprev ±0.1 RTprev, never beyond MRT ±0.1.
    #[test]
    fn retransmission_bounds() {
        for r in [0u32, 100, 200, 7, 199] {
            let p = params(Kind::Request, SOL_MAX_RT, INF_MAX_RT);
            let mut e = Exchange::new(Kind::Request, 1, Duration::ZERO, p, None);
            let mut now = Duration::ZERO;
            let mut prev = Duration::ZERO;
            while !e.failed(now) {
                e.transmit(now, r);
                let rt = e.next - now;
                if e.sent == 1 {
                    assert!((900..=1100).contains(&ms(rt)), "first {rt:?}");
                } else if ms(prev) * 19 / 10 <= 30_000 {
                    assert!(
                        ms(rt) >= ms(prev) * 19 / 10 && ms(rt) <= ms(prev) * 21 / 10
                            || ms(rt) >= 27_000
                    );
                }
                assert!(ms(rt) <= 33_000, "beyond MRT: {rt:?}");
                prev = rt;
                now = e.next;
            }
            assert_eq!(e.sent, 10, "REQ_MAX_RC");
        }
    }

    #[test]
    fn mrd_and_elapsed() {
        let p = params(Kind::Confirm, SOL_MAX_RT, INF_MAX_RT);
        let mut e = Exchange::new(Kind::Confirm, 1, s(5), p, Some(s(15)));
        assert_eq!(e.elapsed(s(5)), 0);
        e.transmit(s(5), 100);
        assert_eq!(e.deadline(), s(6));
        assert_eq!(e.elapsed(s(7)), 200);
        assert_eq!(e.elapsed(s(5000)), 0xffff);
        assert!(!e.failed(s(14)) && e.failed(s(15)));
    }
}
