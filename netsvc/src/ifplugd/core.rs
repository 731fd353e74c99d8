//! The link debounce, pure: a new carrier state is reported only after it has
//! held for its delay (`-u` for up, `-d` for down); a flap shorter than
//! that is never reported.

use std::time::Duration;

#[derive(Debug)]
pub struct Debounce {
    up_delay: Duration,
    down_delay: Duration,
    reported: Option<bool>,
    pending: Option<(bool, Duration)>,
}

impl Debounce {
    pub fn new(up_delay: Duration, down_delay: Duration) -> Debounce {
        Debounce {
            up_delay,
            down_delay,
            reported: None,
            pending: None,
        }
    }

    /// The state at start, reported at once (no debounce).
    pub fn start(&mut self, carrier: bool) {
        self.reported = Some(carrier);
        self.pending = None;
    }

    pub fn reported(&self) -> Option<bool> {
        self.reported
    }

    /// The carrier as the kernel says it now; `Some(state)` to report at once.
    pub fn observe(&mut self, now: Duration, carrier: bool) -> Option<bool> {
        if self.reported == Some(carrier) {
            self.pending = None;
            return None;
        }
        if matches!(self.pending, Some((c, _)) if c == carrier) {
            return self.tick(now);
        }
        let delay = if carrier {
            self.up_delay
        } else {
            self.down_delay
        };
        self.pending = Some((carrier, now + delay));
        self.tick(now)
    }

    pub fn deadline(&self) -> Option<Duration> {
        self.pending.map(|(_, t)| t)
    }

    pub fn tick(&mut self, now: Duration) -> Option<bool> {
        match self.pending {
            Some((c, t)) if now >= t => {
                self.pending = None;
                self.reported = Some(c);
                Some(c)
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(x: f64) -> Duration {
        Duration::from_secs_f64(x)
    }

    #[test]
    fn zero_delay_reports_at_once() {
        let mut d = Debounce::new(s(0.0), s(0.0));
        d.start(true);
        assert_eq!(d.observe(s(1.0), false), Some(false));
        assert_eq!(d.observe(s(1.1), false), None);
        assert_eq!(d.observe(s(2.0), true), Some(true));
    }

    #[test]
    fn a_state_must_hold_for_its_delay() {
        let mut d = Debounce::new(s(8.0), s(3.0));
        d.start(true);
        assert_eq!(d.observe(s(10.0), false), None);
        assert_eq!(d.deadline(), Some(s(13.0)));
        assert_eq!(d.tick(s(12.9)), None);
        assert_eq!(d.tick(s(13.0)), Some(false));
        // up must hold 8 s; a flap back down cancels it
        assert_eq!(d.observe(s(20.0), true), None);
        assert_eq!(d.observe(s(25.0), false), None);
        assert_eq!(d.deadline(), None);
        assert_eq!(d.tick(s(40.0)), None);
        assert_eq!(d.observe(s(50.0), true), None);
        assert_eq!(d.tick(s(58.0)), Some(true));
        assert_eq!(d.reported(), Some(true));
    }
}
