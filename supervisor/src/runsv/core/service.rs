//! The supervision core of one service (a `run` with optional `finish`):
//! wanted state, run/finish/down, the one-second restart throttle and what
//! the status files must say. Pure: it is driven by `(now, event)` and
//! returns actions; it never touches the OS. `runsv` is one I/O shell around
//! it (two instances: the service and its `log/`); a single-process
//! supervisor can drive many instances with the same code.

use super::readiness::Readiness;
use super::status::{pid_text, stat_text, RunState, Status, Want};
use super::timeline::{Event, Kind};
use common::sig::ExitStatus;
use common::tai::Tai64n;
use std::time::Duration;

/// A program that exits within this time of its start is not restarted
/// (nor followed by `finish`) before this time has passed since its start.
pub const MIN_RUN: Duration = Duration::from_secs(1);

/// Starts that failed for lack of resources (fork: EAGAIN, ENOMEM) in a
/// row wait twice as long each, 1, 2, 4 then 8 s, so a box out of processes
/// is not asked again every second; any other failure waits `MIN_RUN`.
pub const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// The wait before the next start after `failures` starts in a row failed
/// for lack of resources.
pub fn backoff(failures: u32) -> Duration {
    let doubled = MIN_RUN.saturating_mul(1u32 << failures.saturating_sub(1).min(8));
    doubled.clamp(MIN_RUN, MAX_BACKOFF)
}

/// Which of the service's programs to start.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Program {
    Run,
    /// `./finish CODE SIGNAL`
    Finish {
        code: i32,
        signal: i32,
    },
}

/// What the I/O shell must do, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// Start the program, then report `started` or `start_failed`.
    Start(Program),
    /// Send this signal to the current pid.
    Signal(i32),
    /// Run `control/X`, ignoring its exit status.
    Custom(u8),
}

/// The clock as the core sees it: monotonic time for throttling, wall time
/// (TAI64N) for the status stamp, and the time since boot
/// (`CLOCK_BOOTTIME`) for the moment a service became ready.
#[derive(Clone, Copy, Debug)]
pub struct Now {
    pub mono: Duration,
    pub wall: Tai64n,
    pub boot: Duration,
}

/// Answers whether `control/X` exists, ran and exited 0 (so the default
/// signal is not sent). The log service passes one that always says no.
pub type Custom<'a> = &'a mut dyn FnMut(u8) -> bool;

#[derive(Debug)]
pub struct Service {
    is_log: bool,
    state: RunState,
    want: Want,
    paused: bool,
    got_term: bool,
    pid: u32,
    since: Tai64n,
    last_start: Option<Duration>,
    /// A start delayed by the throttle.
    pending: Option<(Duration, Program)>,
    /// A start handed to the shell, waiting for `started`/`start_failed`.
    starting: Option<Program>,
    /// Starts in a row that failed for lack of resources.
    start_failures: u32,
    /// Whether `run` said it is ready since it was started.
    readiness: Readiness,
    /// `run` was started before (the next start is a restart).
    ran: bool,
    /// What happened since the shell last took the events (`take_events`),
    /// for `supervise/timeline`.
    events: Vec<Event>,
}

impl Service {
    /// A service that starts when it is not marked `down`.
    pub fn new(now: Now, is_log: bool, down_file: bool) -> (Service, Vec<Action>) {
        let mut s = Service {
            is_log,
            state: RunState::Down,
            want: if down_file { Want::Down } else { Want::Up },
            paused: false,
            got_term: false,
            pid: 0,
            since: now.wall,
            last_start: None,
            pending: None,
            starting: None,
            start_failures: 0,
            readiness: Readiness::NotUsed,
            ran: false,
            events: Vec::new(),
        };
        let actions = if down_file {
            Vec::new()
        } else {
            vec![s.begin(now, Program::Run)]
        };
        (s, actions)
    }

    fn begin(&mut self, now: Now, p: Program) -> Action {
        self.starting = Some(p);
        self.last_start = Some(now.mono);
        Action::Start(p)
    }

    /// The shell started the program handed out by `Action::Start`, a
    /// `run` without readiness notification.
    pub fn started(&mut self, now: Now, pid: u32) {
        self.started_with(now, pid, false);
    }

    /// The shell started the program handed out by `Action::Start`;
    /// `notification`: it gave `run` a way to say it is ready (a
    /// notification pipe or socket). Readiness starts over at every start
    /// of `run`.
    pub fn started_with(&mut self, now: Now, pid: u32, notification: bool) {
        if self.starting == Some(Program::Run) {
            self.readiness = if notification {
                Readiness::NotReady
            } else {
                Readiness::NotUsed
            };
        }
        let kind = match self.starting {
            Some(Program::Finish { .. }) => Kind::Finish,
            _ if self.ran => Kind::Restarted,
            _ => Kind::Spawned,
        };
        let mut e = Event::new(now.boot, kind, pid);
        if let Some(Program::Finish { code, signal }) = self.starting {
            (e.code, e.signal) = (code, signal);
        } else {
            self.ran = true;
            e.notifies = notification;
        }
        self.events.push(e);
        self.pid = pid;
        self.start_failures = 0;
        self.paused = false;
        self.got_term = false;
        match self.starting.take() {
            Some(Program::Finish { .. }) => self.state = RunState::Finish,
            _ => {
                self.state = RunState::Run;
                self.since = now.wall;
            }
        }
    }

    /// The program could not be started: like runit, this counts as an
    /// exit with code 111 (so `finish 111 0` runs when there is one).
    /// `lack_of_resources` (fork failed: no processes, no memory) makes the
    /// next start back off (`backoff`).
    pub fn start_failed(
        &mut self,
        now: Now,
        has_finish: bool,
        lack_of_resources: bool,
    ) -> Vec<Action> {
        self.start_failures = if lack_of_resources {
            self.start_failures.saturating_add(1)
        } else {
            0
        };
        let p = self.starting.take().unwrap_or(Program::Run);
        let mut e = Event::new(now.boot, Kind::StartFailed, 0);
        e.code = 111;
        self.events.push(e);
        self.state = match p {
            Program::Run => RunState::Run,
            Program::Finish { .. } => RunState::Finish,
        };
        self.ended(
            now,
            ExitStatus {
                code: 111,
                signal: 0,
            },
            has_finish,
        )
    }

    /// The current program (`run` or `finish`) exited.
    pub fn exited(&mut self, now: Now, st: ExitStatus, has_finish: bool) -> Vec<Action> {
        if self.pid == 0 {
            return Vec::new();
        }
        let kind = if self.state == RunState::Finish {
            Kind::Finished
        } else {
            Kind::Exited
        };
        let mut e = Event::new(now.boot, kind, self.pid);
        (e.code, e.signal) = (st.code, st.signal);
        self.events.push(e);
        self.ended(now, st, has_finish)
    }

    fn ended(&mut self, now: Now, st: ExitStatus, has_finish: bool) -> Vec<Action> {
        let was = self.state;
        if self.readiness.used() {
            self.readiness = Readiness::NotReady;
        }
        self.pid = 0;
        self.paused = false;
        self.got_term = false;
        let earliest = self
            .last_start
            .map(|t| t.saturating_add(backoff(self.start_failures)))
            .unwrap_or(now.mono);
        let next = if was == RunState::Run && has_finish {
            self.state = RunState::Finish;
            Program::Finish {
                code: st.code,
                signal: st.signal,
            }
        } else {
            self.state = RunState::Down;
            self.since = now.wall;
            if self.want != Want::Up {
                return Vec::new();
            }
            Program::Run
        };
        if now.mono < earliest {
            self.pending = Some((earliest, next));
            Vec::new()
        } else {
            vec![self.begin(now, next)]
        }
    }

    /// `run` said it is ready (a newline on its notification pipe, or
    /// `READY=1` from its process tree). Counts once per start, and only
    /// while `run` runs with notification; true when readiness changed.
    pub fn notified(&mut self, now: Now) -> bool {
        if self.state != RunState::Run || self.pid == 0 || self.readiness != Readiness::NotReady {
            return false;
        }
        self.readiness = Readiness::Ready {
            wall: now.wall,
            boot: now.boot,
        };
        self.events
            .push(Event::new(now.boot, Kind::Ready, self.pid));
        true
    }

    /// The events since the last call, oldest first, for the timeline.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    pub fn readiness(&self) -> Readiness {
        self.readiness
    }

    /// When the shell must call `tick` next (a throttled start), if ever.
    pub fn deadline(&self) -> Option<Duration> {
        self.pending.map(|(t, _)| t)
    }

    /// Time passes: start what the throttle held back once it is due.
    pub fn tick(&mut self, now: Now) -> Vec<Action> {
        match self.pending {
            Some((t, p)) if now.mono >= t => {
                self.pending = None;
                match p {
                    Program::Run if self.want != Want::Up => Vec::new(),
                    _ => vec![self.begin(now, p)],
                }
            }
            _ => Vec::new(),
        }
    }

    /// A control letter arrived on `supervise/control`. Unknown bytes are ignored.
    /// Once `x` was given the exit is final: a `u`, `o` or `d` that arrives
    /// while the service stops (from a sibling's finish, say, during a
    /// shutdown) does not keep runsv alive.
    pub fn control(&mut self, now: Now, letter: u8, custom: Custom) -> Vec<Action> {
        if self.want == Want::Exit && matches!(letter, b'u' | b'o' | b'd') {
            return Vec::new();
        }
        let signal = match letter {
            b'u' | b'o' => {
                custom(b'u');
                self.want = if letter == b'u' { Want::Up } else { Want::Down };
                return self.start_if_idle(now);
            }
            b'd' => {
                self.want = Want::Down;
                return self.stop(b'd', custom);
            }
            b'x' => {
                if self.is_log {
                    return Vec::new();
                }
                self.want = Want::Exit;
                return self.stop(b'x', custom);
            }
            b'p' => libc::SIGSTOP,
            b'c' => libc::SIGCONT,
            b'h' => libc::SIGHUP,
            b'a' => libc::SIGALRM,
            b'i' => libc::SIGINT,
            b'q' => libc::SIGQUIT,
            b'1' => libc::SIGUSR1,
            b'2' => libc::SIGUSR2,
            b't' => libc::SIGTERM,
            b'k' => libc::SIGKILL,
            _ => return Vec::new(),
        };
        if custom(letter) || self.pid == 0 {
            return Vec::new();
        }
        match letter {
            b'p' => self.paused = true,
            b'c' => self.paused = false,
            b't' => self.got_term = true,
            _ => {}
        }
        vec![Action::Signal(signal)]
    }

    fn start_if_idle(&mut self, now: Now) -> Vec<Action> {
        if self.state == RunState::Down && self.pending.is_none() && self.starting.is_none() {
            vec![self.begin(now, Program::Run)]
        } else {
            Vec::new()
        }
    }

    /// `d` and `x`: TERM (unless `control/t` handled it), CONT, then `control/d|x`.
    /// A `finish` already running is left to complete.
    fn stop(&mut self, letter: u8, custom: Custom) -> Vec<Action> {
        if matches!(self.pending, Some((_, Program::Run))) {
            self.pending = None;
        }
        if self.pid == 0 || self.state != RunState::Run {
            return Vec::new();
        }
        let mut actions = Vec::new();
        if !custom(b't') {
            actions.push(Action::Signal(libc::SIGTERM));
            self.got_term = true;
        }
        actions.push(Action::Signal(libc::SIGCONT));
        self.paused = false;
        actions.push(Action::Custom(letter));
        actions
    }

    /// Ask the service to end without a signal (the log service, whose input
    /// is about to be closed so that it exits by itself after the last line).
    pub fn want_exit(&mut self) {
        self.want = Want::Exit;
        if matches!(self.pending, Some((_, Program::Run))) {
            self.pending = None;
        }
    }

    /// Wanted to exit and nothing left running or about to run.
    pub fn done(&self) -> bool {
        self.want == Want::Exit
            && self.state == RunState::Down
            && self.pending.is_none()
            && self.starting.is_none()
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn state(&self) -> RunState {
        self.state
    }

    pub fn want(&self) -> Want {
        self.want
    }

    /// The 20-byte `status` record.
    pub fn status(&self) -> Status {
        Status {
            since: self.since,
            pid: self.pid,
            paused: self.paused,
            want: if self.want == Want::Up { b'u' } else { b'd' },
            got_term: self.got_term,
            state: self.state,
        }
    }

    pub fn stat_text(&self) -> String {
        stat_text(self.state, self.paused, self.got_term, self.want)
    }

    pub fn pid_text(&self) -> String {
        pid_text(self.pid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Now {
        Now {
            mono: Duration::from_millis(ms),
            wall: Tai64n::from_unix(1_000_000 + ms / 1000, (ms % 1000) as u32 * 1_000_000),
            boot: Duration::from_millis(50_000 + ms),
        }
    }

    fn no_custom() -> impl FnMut(u8) -> bool {
        |_| false
    }

    /// A service whose `run` (pid 10) started at 0.
    fn running() -> Service {
        let (mut s, _) = Service::new(at(0), false, false);
        s.started(at(0), 10);
        s
    }

    const EXIT0: ExitStatus = ExitStatus { code: 0, signal: 0 };

    #[test]
    fn the_timeline_records_spawn_ready_exit_finish_restart() {
        let (mut s, _) = Service::new(at(0), false, false);
        s.started_with(at(0), 10, true);
        assert!(s.notified(at(300)));
        // a second newline is no event
        assert!(!s.notified(at(400)));
        let a = s.exited(
            at(2000),
            ExitStatus {
                code: -1,
                signal: 15,
            },
            true,
        );
        assert_eq!(
            a,
            vec![Action::Start(Program::Finish {
                code: -1,
                signal: 15
            })]
        );
        s.started(at(2000), 11);
        assert_eq!(s.exited(at(2100), EXIT0, true), Vec::new());
        assert_eq!(s.tick(at(2100)), Vec::new());
        assert_eq!(s.tick(at(3000)), vec![Action::Start(Program::Run)]);
        let _ = s.start_failed(at(3000), false, false);
        let _ = s.tick(at(4000));
        s.started_with(at(4000), 12, true);
        let got: Vec<(u64, Kind, u32, i32, i32, bool)> = s
            .take_events()
            .iter()
            .map(|e| {
                (
                    e.at.as_millis() as u64 - 50_000,
                    e.kind,
                    e.pid,
                    e.code,
                    e.signal,
                    e.notifies,
                )
            })
            .collect();
        assert_eq!(
            got,
            vec![
                (0, Kind::Spawned, 10, 0, 0, true),
                (300, Kind::Ready, 10, 0, 0, false),
                (2000, Kind::Exited, 10, -1, 15, false),
                (2000, Kind::Finish, 11, -1, 15, false),
                (2100, Kind::Finished, 11, 0, 0, false),
                (3000, Kind::StartFailed, 0, 111, 0, false),
                (4000, Kind::Restarted, 12, 0, 0, true),
            ]
        );
        assert!(s.take_events().is_empty());
    }

    #[test]
    fn starts_unless_down_file() {
        let (s, a) = Service::new(at(0), false, false);
        assert_eq!(a, vec![Action::Start(Program::Run)]);
        assert_eq!(s.want(), Want::Up);
        let (s, a) = Service::new(at(0), false, true);
        assert!(a.is_empty());
        assert_eq!(s.status().want, b'd');
    }

    #[test]
    fn quick_exit_is_throttled_to_one_per_second() {
        let mut s = running();
        assert_eq!(s.status().state, RunState::Run);
        // exits after 200 ms: restart held back until 1 s after start
        assert!(s.exited(at(200), EXIT0, false).is_empty());
        assert_eq!(s.state(), RunState::Down);
        assert_eq!(s.deadline(), Some(Duration::from_millis(1000)));
        assert!(s.tick(at(999)).is_empty());
        assert_eq!(s.tick(at(1000)), vec![Action::Start(Program::Run)]);
        s.started(at(1000), 11);
        // ran 5 s: restarted at once
        assert_eq!(
            s.exited(at(6000), EXIT0, false),
            vec![Action::Start(Program::Run)]
        );
        assert_eq!(s.deadline(), None);
    }

    #[test]
    fn finish_gets_exit_code_and_signal() {
        let mut s = running();
        let a = s.exited(
            at(5000),
            ExitStatus {
                code: -1,
                signal: 9,
            },
            true,
        );
        assert_eq!(
            a,
            vec![Action::Start(Program::Finish {
                code: -1,
                signal: 9
            })]
        );
        s.started(at(5000), 11);
        assert_eq!(s.state(), RunState::Finish);
        assert_eq!(s.pid(), 11);
        // finish took 10 ms: the restart waits a second after finish started
        assert!(s.exited(at(5010), EXIT0, true).is_empty());
        assert_eq!(s.state(), RunState::Down);
        assert_eq!(s.tick(at(6000)), vec![Action::Start(Program::Run)]);
    }

    #[test]
    fn down_sends_term_cont_and_stays_down() {
        let mut s = running();
        let a = s.control(at(100), b'd', &mut no_custom());
        assert_eq!(
            a,
            vec![
                Action::Signal(libc::SIGTERM),
                Action::Signal(libc::SIGCONT),
                Action::Custom(b'd')
            ]
        );
        assert_eq!(s.stat_text(), "run, got TERM, want down\n");
        assert!(s.exited(at(3000), EXIT0, false).is_empty());
        assert_eq!(s.stat_text(), "down\n");
        assert_eq!(s.status().since, at(3000).wall);
    }

    #[test]
    fn custom_t_replaces_term() {
        let mut s = running();
        let mut seen = Vec::new();
        let mut custom = |c: u8| {
            seen.push(c);
            c == b't'
        };
        let a = s.control(at(100), b'x', &mut custom);
        assert_eq!(a, vec![Action::Signal(libc::SIGCONT), Action::Custom(b'x')]);
        assert_eq!(seen, vec![b't']);
        assert_eq!(s.want(), Want::Exit);
        assert!(!s.done());
        s.exited(at(200), EXIT0, false);
        assert!(s.done());
    }

    #[test]
    fn exit_is_final() {
        let mut s = running();
        s.control(at(1), b'x', &mut no_custom());
        for l in [b'd', b'u', b'o'] {
            assert!(s.control(at(2), l, &mut no_custom()).is_empty());
            assert_eq!(s.want(), Want::Exit);
        }
        s.exited(at(3), EXIT0, false);
        assert!(s.done());
    }

    #[test]
    fn custom_signal_letter_suppresses_signal() {
        let mut s = running();
        assert!(s.control(at(1), b'h', &mut |_| true).is_empty());
        assert_eq!(
            s.control(at(1), b'h', &mut no_custom()),
            vec![Action::Signal(libc::SIGHUP)]
        );
    }

    #[test]
    fn once_starts_and_does_not_restart() {
        let (mut s, _) = Service::new(at(0), false, true);
        assert_eq!(
            s.control(at(0), b'o', &mut no_custom()),
            vec![Action::Start(Program::Run)]
        );
        s.started(at(0), 10);
        assert_eq!(s.stat_text(), "run, want down\n");
        assert!(s.exited(at(5000), EXIT0, false).is_empty());
        assert_eq!(s.deadline(), None);
        // `u` while running undoes the once: restarted after exit
        assert_eq!(
            s.control(at(5000), b'u', &mut no_custom()),
            vec![Action::Start(Program::Run)]
        );
        s.started(at(5000), 11);
        s.control(at(5001), b'o', &mut no_custom());
        s.control(at(5002), b'u', &mut no_custom());
        assert_eq!(
            s.exited(at(9000), EXIT0, false),
            vec![Action::Start(Program::Run)]
        );
    }

    #[test]
    fn pause_and_continue_flags() {
        let mut s = running();
        assert_eq!(
            s.control(at(1), b'p', &mut no_custom()),
            vec![Action::Signal(libc::SIGSTOP)]
        );
        assert!(s.status().paused);
        s.control(at(2), b'c', &mut no_custom());
        assert!(!s.status().paused);
        // signals with nothing running do nothing
        let (mut d, _) = Service::new(at(0), false, true);
        assert!(d.control(at(1), b'k', &mut no_custom()).is_empty());
        assert!(!d.status().paused);
    }

    #[test]
    fn fork_failures_back_off_and_a_start_resets_them() {
        let secs = |t: u64| at(t * 1000);
        let (mut s, _) = Service::new(secs(0), false, false);
        let mut t = 0;
        let mut waits = Vec::new();
        for _ in 0..6 {
            assert!(s.start_failed(secs(t), false, true).is_empty());
            let due = s.deadline().unwrap().as_secs();
            waits.push(due - t);
            t = due;
            assert_eq!(s.tick(secs(t)), vec![Action::Start(Program::Run)]);
        }
        assert_eq!(waits, [1, 2, 4, 8, 8, 8]);
        s.started(secs(t), 42);
        // a run that exits at once after a good start: the plain 1 s again
        assert!(s
            .exited(secs(t), ExitStatus { code: 1, signal: 0 }, false)
            .is_empty());
        assert_eq!(s.deadline(), Some(Duration::from_secs(t + 1)));
        // a failure that is not for lack of resources: no back-off
        let (mut s, _) = Service::new(secs(0), false, false);
        s.start_failed(secs(0), false, true);
        s.tick(secs(1));
        s.start_failed(secs(1), false, false);
        assert_eq!(s.deadline(), Some(Duration::from_secs(2)));
    }

    #[test]
    fn start_failure_counts_as_111_and_is_throttled() {
        let (mut s, a) = Service::new(at(0), false, false);
        assert_eq!(a, vec![Action::Start(Program::Run)]);
        assert!(s.start_failed(at(0), false, false).is_empty());
        assert_eq!(s.deadline(), Some(Duration::from_secs(1)));
        let (mut s, _) = Service::new(at(0), false, false);
        assert!(s.start_failed(at(0), true, false).is_empty());
        assert_eq!(
            s.tick(at(1000)),
            vec![Action::Start(Program::Finish {
                code: 111,
                signal: 0
            })]
        );
    }

    #[test]
    fn down_cancels_a_throttled_restart() {
        let mut s = running();
        s.exited(at(100), EXIT0, false);
        assert!(s.deadline().is_some());
        assert!(s.control(at(200), b'd', &mut no_custom()).is_empty());
        assert_eq!(s.deadline(), None);
        assert!(s.tick(at(2000)).is_empty());
    }

    #[test]
    fn readiness_counts_once_per_start_and_resets() {
        let (mut s, _) = Service::new(at(0), false, false);
        s.started_with(at(0), 10, true);
        assert_eq!(s.readiness(), Readiness::NotReady);
        assert!(s.notified(at(300)));
        let ready = Readiness::Ready {
            wall: at(300).wall,
            boot: at(300).boot,
        };
        assert_eq!(s.readiness(), ready);
        assert!(!s.notified(at(400)), "the first time counts");
        assert_eq!(s.readiness(), ready);
        // exits: not ready any more, and a word from the dead run is ignored
        assert_eq!(
            s.exited(at(5000), EXIT0, true),
            vec![Action::Start(Program::Finish { code: 0, signal: 0 })]
        );
        assert_eq!(s.readiness(), Readiness::NotReady);
        s.started_with(at(5000), 11, false);
        assert_eq!(s.state(), RunState::Finish);
        assert!(!s.notified(at(5001)), "finish is not the service");
        assert_eq!(s.readiness(), Readiness::NotReady);
        assert!(s.exited(at(5002), EXIT0, true).is_empty());
        assert!(!s.notified(at(5500)), "down");
        // the next start: starting again, then ready at its own time
        assert_eq!(s.tick(at(6000)), vec![Action::Start(Program::Run)]);
        s.started_with(at(6000), 12, true);
        assert_eq!(s.readiness(), Readiness::NotReady);
        assert!(s.notified(at(6700)));
        assert_eq!(
            s.readiness(),
            Readiness::Ready {
                wall: at(6700).wall,
                boot: at(6700).boot
            }
        );
        // a start without notification (the file was removed): not used
        s.control(at(7000), b'd', &mut no_custom());
        s.exited(at(7001), EXIT0, false);
        s.control(at(8000), b'u', &mut no_custom());
        s.started_with(at(8000), 13, false);
        assert_eq!(s.readiness(), Readiness::NotUsed);
        assert!(!s.notified(at(8001)));
    }

    #[test]
    fn a_service_without_notification_never_becomes_ready() {
        let mut s = running();
        assert_eq!(s.readiness(), Readiness::NotUsed);
        assert!(!s.notified(at(10)));
        assert_eq!(s.readiness(), Readiness::NotUsed);
        s.exited(at(2000), EXIT0, false);
        assert_eq!(s.readiness(), Readiness::NotUsed);
    }

    #[test]
    fn log_ignores_exit_and_garbage() {
        let (mut s, _) = Service::new(at(0), true, false);
        s.started(at(0), 10);
        assert!(s.control(at(1), b'x', &mut no_custom()).is_empty());
        assert!(s.control(at(1), 0xff, &mut no_custom()).is_empty());
        assert!(s.control(at(1), b'\n', &mut no_custom()).is_empty());
        assert_eq!(s.want(), Want::Up);
        s.want_exit();
        assert!(s.exited(at(5000), EXIT0, false).is_empty());
        assert!(s.done());
    }
}
