//! Readiness: a service says when it is ready, by s6's protocol (the first
//! newline written to the descriptor named in `notification-fd`) or by
//! systemd's (`READY=1` in a datagram to `$NOTIFY_SOCKET`, when the service
//! directory has `notify-socket`). Pure: the parsers of the files and
//! messages, the process-tree rule for who may speak, and the state the
//! `status` extension publishes. The shell owns the pipe and the socket.

use common::tai::Tai64n;
use std::time::Duration;

/// Whether the service said it is ready since its `run` was last started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Readiness {
    /// The service does not use notification (no valid `notification-fd`
    /// nor `notify-socket`): `run` started is all there is to know.
    #[default]
    NotUsed,
    /// It uses notification and has not said it is ready since the last
    /// start (or is not running).
    NotReady,
    /// It said so at this wall-clock time and this time since boot
    /// (`CLOCK_BOOTTIME`, which the clock being set does not move).
    Ready { wall: Tai64n, boot: Duration },
}

impl Readiness {
    pub fn used(&self) -> bool {
        *self != Readiness::NotUsed
    }

    pub fn is_ready(&self) -> bool {
        matches!(self, Readiness::Ready { .. })
    }
}

/// The file in the service directory that names the descriptor.
pub const NOTIFICATION_FD_FILE: &str = "notification-fd";
/// The file whose presence asks for `$NOTIFY_SOCKET`.
pub const NOTIFY_SOCKET_FILE: &str = "notify-socket";
/// runsv puts the descriptor's number here in the service's environment,
/// so that a program need not read `notification-fd` itself.
pub const READY_FD_ENV: &str = common::ready::ENV;
/// The highest descriptor number accepted.
pub const MAX_NOTIFICATION_FD: u32 = 1023;

/// The descriptor number in the text of `notification-fd`: a decimal
/// number, blanks and a newline around it allowed. 0, 1 and 2 are refused:
/// runsv gives the service its stdin, stdout (the log pipe when there is a
/// `log/`) and stderr there, and the pipe would replace one of them.
pub fn parse_notification_fd(text: &[u8]) -> Result<u32, String> {
    let t = text.trim_ascii();
    if t.is_empty() || t.len() > 10 || !t.iter().all(u8::is_ascii_digit) {
        return Err(format!(
            "{NOTIFICATION_FD_FILE} must hold a descriptor number, e.g. 3"
        ));
    }
    let n = t
        .iter()
        .try_fold(0u32, |n, &d| {
            n.checked_mul(10)?.checked_add(u32::from(d - b'0'))
        })
        .unwrap_or(u32::MAX);
    match n {
        0 => Err(format!(
            "{NOTIFICATION_FD_FILE} 0 would replace stdin: use 3 or more"
        )),
        1 => Err(format!(
            "{NOTIFICATION_FD_FILE} 1 would replace stdout (the log pipe): use 3 or more, \
             and `exec 1>&3` in run if the program can only write to stdout"
        )),
        2 => Err(format!(
            "{NOTIFICATION_FD_FILE} 2 would replace stderr: use 3 or more"
        )),
        n if n > MAX_NOTIFICATION_FD => Err(format!(
            "{NOTIFICATION_FD_FILE} {n} is above {MAX_NOTIFICATION_FD}"
        )),
        n => Ok(n),
    }
}

/// Bytes read from the notification pipe: true when they hold the newline
/// that makes the service ready (what came before it is ignored).
pub fn pipe_says_ready(bytes: &[u8]) -> bool {
    bytes.contains(&b'\n')
}

/// One `sd_notify` datagram: true when one of its newline-separated
/// assignments is exactly `READY=1`. Everything else (`STATUS=`,
/// `MAINPID=`, `WATCHDOG=1`, ...) is ignored.
pub fn datagram_says_ready(msg: &[u8]) -> bool {
    msg.split(|&b| b == b'\n').any(|line| line == b"READY=1")
}

/// How many parents `in_tree` climbs at most: deeper than any real service
/// tree, and a bound on the work one datagram can cause.
pub const MAX_TREE_DEPTH: usize = 64;

/// Whether `sender` is `service` or one of its descendants, following
/// `parent` (the shell reads `/proc/PID/stat`; `None` when the process is
/// gone) at most `MAX_TREE_DEPTH` steps. A sender that exited before its
/// message was read cannot be placed and does not count.
pub fn in_tree(sender: u32, service: u32, mut parent: impl FnMut(u32) -> Option<u32>) -> bool {
    if service == 0 || sender == 0 {
        return false;
    }
    let mut p = sender;
    for _ in 0..=MAX_TREE_DEPTH {
        if p == service {
            return true;
        }
        match parent(p) {
            Some(pp) if pp != 0 && pp != p => p = pp,
            _ => return false,
        }
    }
    false
}

/// Field 4 (the parent's pid) of a `/proc/PID/stat` line.
pub fn ppid_from_stat(stat: &str) -> Option<u32> {
    // comm (field 2) may hold spaces and ')': the fields resume after the last ')'.
    let rest = stat.get(stat.rfind(')')? + 1..)?;
    rest.split_ascii_whitespace().nth(1)?.parse().ok()
}

/// The words ferrite's `sv status` adds after a running service's part of
/// the line: `ready 3s` (its age) or `starting`; nothing for a service that
/// does not use notification. `age` is how long ago it became ready.
pub fn status_words(r: &Readiness, age: Option<Duration>) -> Option<String> {
    match r {
        Readiness::NotUsed => None,
        Readiness::NotReady => Some("starting".to_string()),
        Readiness::Ready { .. } => Some(format!("ready {}s", age.unwrap_or_default().as_secs())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notification_fd_numbers() {
        assert_eq!(parse_notification_fd(b"3\n"), Ok(3));
        assert_eq!(parse_notification_fd(b"  7 "), Ok(7));
        assert_eq!(parse_notification_fd(b"1023"), Ok(1023));
        let e = parse_notification_fd(b"1\n").unwrap_err();
        assert!(e.contains("stdout (the log pipe)"), "{e}");
        assert!(parse_notification_fd(b"0").unwrap_err().contains("stdin"));
        assert!(parse_notification_fd(b"2").unwrap_err().contains("stderr"));
        for bad in [
            &b""[..],
            b"\n",
            b"-3",
            b"3x",
            b"+3",
            b"1024",
            b"99999999999999",
            b"\xff",
        ] {
            assert!(parse_notification_fd(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn the_first_newline_is_readiness() {
        assert!(!pipe_says_ready(b"starting up"));
        assert!(pipe_says_ready(b"junk\n"));
        assert!(pipe_says_ready(b"\n"));
        assert!(!pipe_says_ready(b""));
    }

    #[test]
    fn ready_is_exactly_ready_1() {
        assert!(datagram_says_ready(b"READY=1"));
        assert!(datagram_says_ready(b"STATUS=up\nREADY=1\n"));
        for no in [
            &b"READY=0"[..],
            b"READY=11",
            b" READY=1",
            b"ready=1",
            b"STATUS=READY=1",
            b"",
        ] {
            assert!(!datagram_says_ready(no), "{no:?}");
        }
    }

    #[test]
    fn only_the_services_tree_may_speak() {
        // 100 is the service; 101 its child; 102 a grandchild; 50 runsv.
        let parent = |p: u32| match p {
            102 => Some(101),
            101 => Some(100),
            100 => Some(50),
            50 => Some(1),
            200 => Some(1),
            300 => Some(300), // a loop: stops
            _ => None,
        };
        assert!(in_tree(100, 100, parent));
        assert!(in_tree(102, 100, parent));
        assert!(!in_tree(200, 100, parent), "unrelated");
        assert!(!in_tree(50, 100, parent), "runsv itself is not the service");
        assert!(!in_tree(300, 100, parent));
        assert!(!in_tree(999, 100, parent), "gone");
        assert!(!in_tree(100, 0, parent));
        // a chain longer than the bound is not followed to its end
        let deep = |p: u32| Some(p + 1);
        assert!(in_tree(1, 1 + MAX_TREE_DEPTH as u32, deep));
        assert!(!in_tree(1, 2 + MAX_TREE_DEPTH as u32, deep));
    }

    #[test]
    fn ppid_after_a_hostile_comm() {
        assert_eq!(ppid_from_stat("4242 (a) b) S 17 4242 4242 0"), Some(17));
        assert_eq!(ppid_from_stat("4242 (x) S"), None);
        assert_eq!(ppid_from_stat("nothing"), None);
    }

    #[test]
    fn words_for_sv_status() {
        let ready = Readiness::Ready {
            wall: Tai64n::from_unix(1000, 0),
            boot: Duration::from_secs(5),
        };
        assert_eq!(status_words(&Readiness::NotUsed, None), None);
        assert_eq!(
            status_words(&Readiness::NotReady, None).as_deref(),
            Some("starting")
        );
        assert_eq!(
            status_words(&ready, Some(Duration::from_millis(3900))).as_deref(),
            Some("ready 3s")
        );
    }
}
