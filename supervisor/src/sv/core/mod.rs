//! The pure parts of `sv`: which arguments are paths, what each command sends
//! and waits for, when what it waits for is reached, which changes in
//! `supervise/` are worth a new look, and the status line runit's `sv`
//! prints (with ferrite's readiness words after it).

pub mod timeline;

use crate::runsv::core::readiness::Readiness;
use crate::status::{Extension, RunState, Status};
use common::tai::Tai64n;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Default service directory of ferrite (runit's own default is /service,
/// Debian's /etc/service); `$SVDIR` overrides it.
pub const DEFAULT_SVDIR: &str = "/var/service";

/// runit's rule: an argument that starts with `.` or `/`, or ends with `/`,
/// is a path; anything else is a name under `$SVDIR`.
pub fn service_path(svdir: &Path, arg: &str) -> PathBuf {
    if arg.starts_with('.') || arg.starts_with('/') || arg.ends_with('/') {
        PathBuf::from(arg)
    } else {
        svdir.join(arg)
    }
}

/// The condition `sv` waits for after sending a command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wait {
    /// running (and `./check` passes)
    Up,
    /// down, nothing running
    Down,
    /// runsv gone
    Exit,
    /// ran since the command was sent (for `once`)
    Once,
    /// restarted since the command was sent, or down when wanted down
    Restarted,
    /// not paused
    Cont,
    /// the state the service is wanted in (up: with `./check`)
    Requested,
    /// nothing: report the status at once
    Report,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    /// Control bytes to send.
    pub send: &'static str,
    /// What to wait for; `None`: send and return.
    pub wait: Option<Wait>,
    /// On timeout send `k` (force-* commands).
    pub kill_on_timeout: bool,
    /// Only when the service is running (try-restart).
    pub only_if_running: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Command {
    Status,
    Control(Plan),
}

fn plan(send: &'static str, wait: Option<Wait>) -> Command {
    Command::Control(Plan {
        send,
        wait,
        kill_on_timeout: false,
        only_if_running: false,
    })
}

fn force(send: &'static str, wait: Wait) -> Command {
    Command::Control(Plan {
        send,
        wait: Some(wait),
        kill_on_timeout: true,
        only_if_running: false,
    })
}

/// Parse the command word. The LSB names are matched whole; every other
/// command by its first character, as runit's `sv` does (`sv d x` = down).
/// `verbose` (-v or -w) makes up/down/once/term/cont/exit wait, and the
/// other letters report the status after sending.
pub fn parse_command(word: &str, verbose: bool) -> Option<Command> {
    let lsb = match word {
        "start" => Some(plan("u", Some(Wait::Up))),
        "stop" => Some(plan("d", Some(Wait::Down))),
        "reload" => Some(plan("h", Some(Wait::Report))),
        "restart" => Some(plan("tcu", Some(Wait::Restarted))),
        "shutdown" => Some(plan("x", Some(Wait::Exit))),
        "force-stop" => Some(force("d", Wait::Down)),
        "force-reload" => Some(force("tc", Wait::Restarted)),
        "force-restart" => Some(force("tcu", Wait::Restarted)),
        "force-shutdown" => Some(force("x", Wait::Exit)),
        "try-restart" => Some(Command::Control(Plan {
            send: "tc",
            wait: Some(Wait::Restarted),
            kill_on_timeout: false,
            only_if_running: true,
        })),
        "check" => Some(plan("", Some(Wait::Requested))),
        _ => None,
    };
    if lsb.is_some() {
        return lsb;
    }
    let v = |w: Wait| if verbose { Some(w) } else { None };
    Some(match word.as_bytes().first()? {
        b's' => Command::Status,
        b'u' => plan("u", v(Wait::Up)),
        b'd' => plan("d", v(Wait::Down)),
        b'o' => plan("o", v(Wait::Once)),
        b'x' | b'e' => plan("x", v(Wait::Exit)),
        b't' => plan("t", v(Wait::Restarted)),
        b'c' => plan("c", v(Wait::Cont)),
        b'p' => plan("p", v(Wait::Report)),
        b'h' => plan("h", v(Wait::Report)),
        b'a' => plan("a", v(Wait::Report)),
        b'i' => plan("i", v(Wait::Report)),
        b'q' => plan("q", v(Wait::Report)),
        b'1' => plan("1", v(Wait::Report)),
        b'2' => plan("2", v(Wait::Report)),
        b'k' => plan("k", v(Wait::Report)),
        _ => return None,
    })
}

/// One service's part of a status line, e.g.
/// `run: NAME: (pid 123) 45s, normally down, want down, got TERM`.
pub fn status_line(name: &str, st: &Status, now_unix: u64, normally_up: bool) -> String {
    let state = match st.state {
        RunState::Down => "down",
        RunState::Run => "run",
        RunState::Finish => "finish",
    };
    let mut s = format!("{state}: {name}: ");
    let running = st.pid != 0;
    if running {
        s.push_str(&format!("(pid {}) ", st.pid));
    }
    s.push_str(&format!(
        "{}s",
        now_unix.saturating_sub(st.since.unix_secs())
    ));
    if running && !normally_up {
        s.push_str(", normally down");
    }
    if !running && normally_up {
        s.push_str(", normally up");
    }
    if running && st.paused {
        s.push_str(", paused");
    }
    if !running && st.want == b'u' {
        s.push_str(", want up");
    }
    if running && st.want == b'd' {
        s.push_str(", want down");
    }
    if running && st.got_term {
        s.push_str(", got TERM");
    }
    s
}

/// What a look at a service's `supervise/` found, for `reached`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Seen {
    /// No runsv reads `supervise/ok`.
    NotRunning,
    /// The record and the readiness in its extension (`NotUsed` for a
    /// record of runit's runsv).
    Running(Status, Readiness),
    /// Anything else: no such directory, no `supervise/`, a bad record.
    Unknown,
}

/// Up as `sv -w` means it: running, ready when the service uses
/// notification, and `./check` passing (asked only when the rest holds;
/// `check` says yes when there is no script).
fn up(st: &Status, r: &Readiness, check: &mut dyn FnMut() -> bool) -> bool {
    st.pid != 0 && st.state == RunState::Run && (!r.used() || r.is_ready()) && check()
}

/// Whether the service reached what `wait` asks for, the command having
/// been sent at `sent`.
pub fn reached(wait: Wait, seen: &Seen, sent: Tai64n, check: &mut dyn FnMut() -> bool) -> bool {
    let (st, r) = match seen {
        Seen::NotRunning => return wait == Wait::Exit,
        Seen::Running(st, r) => (st, r),
        Seen::Unknown => return false,
    };
    let running = st.pid != 0 && st.state == RunState::Run;
    let down = st.pid == 0 && st.state == RunState::Down;
    match wait {
        Wait::Report => true,
        Wait::Exit => false,
        Wait::Up => up(st, r, check),
        Wait::Down => down,
        Wait::Once => (running && st.want == b'd') || (st.pid == 0 && st.since >= sent),
        Wait::Restarted => {
            (st.pid == 0 && st.want == b'd')
                || (st.since >= sent && !st.got_term && up(st, r, check))
        }
        Wait::Cont => st.pid == 0 || !st.paused,
        Wait::Requested => {
            if st.want == b'u' {
                up(st, r, check)
            } else {
                down
            }
        }
    }
}

/// Whether an inotify event in a watched directory (`name` the entry,
/// `mask` the event) can have brought a waited-for state: a new `status`
/// (renamed into place, or written), the last reader of `ok` gone (runsv
/// exited), `supervise/` appearing in a service directory, a watch gone
/// or the queue overflowing. sv's own opens of `ok`, `control` and
/// `status` are none of these, so a waiting `sv` does not wake itself.
pub fn wakes(name: Option<&[u8]>, mask: u32) -> bool {
    let any = |m: u32| mask & m != 0;
    match name {
        Some(b"status") => any(libc::IN_CLOSE_WRITE | libc::IN_MOVED_TO),
        Some(b"ok") => any(libc::IN_CLOSE_NOWRITE | libc::IN_DELETE),
        Some(b"lock") => any(libc::IN_CLOSE_WRITE),
        Some(b"supervise") => any(libc::IN_CREATE | libc::IN_MOVED_TO),
        Some(_) => false,
        None => {
            any(libc::IN_Q_OVERFLOW | libc::IN_IGNORED | libc::IN_DELETE_SELF | libc::IN_MOVE_SELF)
        }
    }
}

/// What a waiting `sv` watches in `supervise/` (`wakes` sorts the events).
pub const SUPERVISE_EVENTS: u32 = libc::IN_CLOSE_WRITE
    | libc::IN_CLOSE_NOWRITE
    | libc::IN_MOVED_TO
    | libc::IN_DELETE
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF;

/// How long ago a service became ready: by the time since boot when the
/// record is of this boot (`this_boot`, `boot_now`), so that the clock
/// being set (NTP on a box without a real-time clock) does not change it;
/// by the wall clock otherwise.
pub fn ready_age(
    ext: &Extension,
    this_boot: Option<[u8; 16]>,
    boot_now: Duration,
    wall_now: Tai64n,
) -> Option<Duration> {
    let Readiness::Ready { wall, boot } = ext.readiness else {
        return None;
    };
    if this_boot.is_some_and(|id| id == ext.boot_id) {
        return Some(boot_now.saturating_sub(boot));
    }
    Some(Duration::from_secs(
        wall_now.unix_secs().saturating_sub(wall.unix_secs()),
    ))
}

/// ferrite's addition to a running service's part of the status line:
/// `; ready 3s` or `; starting` when it uses notification.
pub fn readiness_suffix(st: &Status, r: &Readiness, age: Option<Duration>) -> String {
    if st.pid == 0 || st.state != RunState::Run {
        return String::new();
    }
    crate::runsv::core::readiness::status_words(r, age)
        .map(|w| format!("; {w}"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_rule() {
        let d = Path::new("/var/service");
        assert_eq!(service_path(d, "svc/a"), Path::new("/var/service/svc/a"));
        assert_eq!(service_path(d, "./svc/a"), Path::new("./svc/a"));
        assert_eq!(service_path(d, "/x/y"), Path::new("/x/y"));
        assert_eq!(service_path(d, "fw/"), Path::new("fw/"));
        assert_eq!(service_path(d, ".."), Path::new(".."));
        assert_eq!(
            service_path(d, "getty_ttyS0"),
            Path::new("/var/service/getty_ttyS0")
        );
    }

    #[test]
    fn commands_by_first_letter_and_lsb_names() {
        assert_eq!(parse_command("status", false), Some(Command::Status));
        assert_eq!(parse_command("s", false), Some(Command::Status));
        assert_eq!(parse_command("dance", false), parse_command("down", false));
        assert_eq!(parse_command("exit", false), parse_command("x", false));
        let Some(Command::Control(p)) = parse_command("restart", false) else {
            panic!()
        };
        assert_eq!(p.send, "tcu");
        assert_eq!(p.wait, Some(Wait::Restarted));
        let Some(Command::Control(p)) = parse_command("up", true) else {
            panic!()
        };
        assert_eq!(p.wait, Some(Wait::Up));
        let Some(Command::Control(p)) = parse_command("up", false) else {
            panic!()
        };
        assert_eq!(p.wait, None);
        let Some(Command::Control(p)) = parse_command("force-stop", false) else {
            panic!()
        };
        assert!(p.kill_on_timeout);
        // `hup` does not wait for a state, but -v reports the status
        let Some(Command::Control(p)) = parse_command("hup", true) else {
            panic!()
        };
        assert_eq!(p.wait, Some(Wait::Report));
        assert_eq!(parse_command("bogus", false), None);
        assert_eq!(parse_command("", false), None);
    }

    fn st(pid: u32, state: RunState, want: u8, paused: bool, term: bool) -> Status {
        Status {
            since: Tai64n::from_unix(1000, 0),
            pid,
            paused,
            want,
            got_term: term,
            state,
        }
    }

    #[test]
    fn status_lines_as_runit_prints_them() {
        use RunState::{Down, Finish, Run};
        // (service, now, normally up): the line runit's sv prints
        let cases = [
            (st(2321, Run, b'u', false, false), 1001, true),
            (st(0, Down, b'u', false, false), 1000, false),
            (st(0, Down, b'd', false, false), 1001, true),
            (st(2412, Run, b'd', false, true), 1001, true),
            (st(2388, Run, b'd', true, false), 1001, false),
            (st(7, Finish, b'd', false, false), 999, true),
        ];
        let lines = [
            "run: a: (pid 2321) 1s",
            "down: a: 0s, want up",
            "down: a: 1s, normally up",
            "run: a: (pid 2412) 1s, want down, got TERM",
            "run: a: (pid 2388) 1s, normally down, paused, want down",
            "finish: a: (pid 7) 0s, want down",
        ];
        for ((status, now, up), line) in cases.iter().zip(lines) {
            assert_eq!(status_line("a", status, *now, *up), line);
        }
    }

    #[test]
    fn waits_for_readiness_when_the_service_uses_it() {
        use RunState::{Down, Run};
        let sent = Tai64n::from_unix(1000, 0);
        let ready = Readiness::Ready {
            wall: Tai64n::from_unix(1001, 0),
            boot: Duration::from_secs(9),
        };
        let yes = &mut || true;
        let run = Seen::Running(st(5, Run, b'u', false, false), Readiness::NotUsed);
        let starting = Seen::Running(st(5, Run, b'u', false, false), Readiness::NotReady);
        let is_ready = Seen::Running(st(5, Run, b'u', false, false), ready);
        for w in [Wait::Up, Wait::Requested, Wait::Restarted] {
            assert!(reached(w, &run, sent, yes), "{w:?}: no notification");
            assert!(!reached(w, &starting, sent, yes), "{w:?}: not ready yet");
            assert!(reached(w, &is_ready, sent, yes), "{w:?}: ready");
        }
        // ./check is asked only once the service is ready, and still counts
        let mut asked = 0;
        let mut no = || {
            asked += 1;
            false
        };
        assert!(!reached(Wait::Up, &starting, sent, &mut no));
        assert!(!reached(Wait::Up, &is_ready, sent, &mut no));
        assert_eq!(asked, 1);
        // the other waits do not care about readiness
        let down = Seen::Running(st(0, Down, b'd', false, false), Readiness::NotReady);
        assert!(reached(Wait::Down, &down, sent, yes));
        assert!(reached(Wait::Requested, &down, sent, yes));
        assert!(reached(Wait::Exit, &Seen::NotRunning, sent, yes));
        assert!(!reached(Wait::Up, &Seen::NotRunning, sent, yes));
        assert!(!reached(Wait::Up, &Seen::Unknown, sent, yes));
        // restarted: started before the command was sent is not restarted
        let old = Status {
            since: Tai64n::from_unix(999, 0),
            ..st(5, Run, b'u', false, false)
        };
        assert!(!reached(
            Wait::Restarted,
            &Seen::Running(old, ready),
            sent,
            yes
        ));
    }

    #[test]
    fn only_changes_that_matter_wake_a_waiter() {
        assert!(wakes(Some(b"status"), libc::IN_MOVED_TO));
        assert!(wakes(Some(b"status"), libc::IN_CLOSE_WRITE));
        assert!(
            !wakes(Some(b"status"), libc::IN_CLOSE_NOWRITE),
            "sv read it"
        );
        assert!(wakes(Some(b"ok"), libc::IN_CLOSE_NOWRITE), "runsv exited");
        assert!(!wakes(Some(b"ok"), libc::IN_CLOSE_WRITE), "sv's probe");
        assert!(
            !wakes(Some(b"control"), libc::IN_CLOSE_WRITE),
            "sv's command"
        );
        assert!(wakes(Some(b"lock"), libc::IN_CLOSE_WRITE));
        assert!(!wakes(Some(b"status.tmp1234"), libc::IN_CLOSE_WRITE));
        assert!(wakes(Some(b"supervise"), libc::IN_CREATE));
        assert!(wakes(None, libc::IN_Q_OVERFLOW));
        assert!(wakes(None, libc::IN_IGNORED));
        assert!(!wakes(None, 0));
    }

    #[test]
    fn readiness_in_the_status_line() {
        let ready = Readiness::Ready {
            wall: Tai64n::from_unix(1000, 0),
            boot: Duration::from_secs(100),
        };
        let ext = |readiness| Extension {
            start_time: 1,
            boot_id: [4; 16],
            readiness,
        };
        let here = Some([4; 16]);
        let wall_now = Tai64n::from_unix(2000, 0);
        // this boot: by boot time, whatever the wall clock says
        assert_eq!(
            ready_age(&ext(ready), here, Duration::from_secs(103), wall_now),
            Some(Duration::from_secs(3))
        );
        // another boot, or unknown: by the wall clock
        assert_eq!(
            ready_age(
                &ext(ready),
                Some([5; 16]),
                Duration::from_secs(103),
                wall_now
            ),
            Some(Duration::from_secs(1000))
        );
        assert_eq!(
            ready_age(&ext(Readiness::NotReady), here, Duration::ZERO, wall_now),
            None
        );
        let running = st(5, RunState::Run, b'u', false, false);
        let age = Some(Duration::from_secs(3));
        assert_eq!(readiness_suffix(&running, &ready, age), "; ready 3s");
        assert_eq!(
            readiness_suffix(&running, &Readiness::NotReady, None),
            "; starting"
        );
        assert_eq!(readiness_suffix(&running, &Readiness::NotUsed, None), "");
        let down = st(0, RunState::Down, b'u', false, false);
        assert_eq!(readiness_suffix(&down, &Readiness::NotReady, None), "");
    }
}
