//! The pure parts of `sv`: which arguments are paths, what each command sends
//! and waits for, and the status line runit's `sv` prints.

use crate::status::{RunState, Status};
use std::path::{Path, PathBuf};

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

#[cfg(test)]
mod tests {
    use super::*;
    use common::tai::Tai64n;

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
}
