//! The tty side of getty: open the line as the controlling terminal of a
//! new session, set its speed and termios, print the issue file, read the
//! login name, exec the login program.

use super::cli::{parse, service_words, Options, OPTIONS, USAGE_LINE};
use super::core::{expand, supported_speed, valid_login_name, IssueInfo};
use common::errtext::describe;
use common::out;
use rustix::termios::{
    self, ControlModes, InputModes, LocalModes, OptionalActions, OutputModes, QueueSelector,
    SpecialCodeIndex,
};
use std::ffi::OsString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::process::CommandExt;

const PROG: &str = "getty";

fn write0(s: &[u8]) {
    let _ = common::out::write_all(1, s);
}

fn uts() -> [String; 6] {
    let u = rustix::system::uname();
    let f = common::cstr::to_string;
    [
        f(u.nodename()),
        f(u.sysname()),
        f(u.release()),
        f(u.version()),
        f(u.machine()),
        f(u.domainname()),
    ]
}

pub fn run(args: &[OsString]) -> i32 {
    // ready when the prompt is out (runsv's notification-fd); closed on
    // the exec of login
    let mut ready = common::ready::Ready::from_env();
    let mut words = common::argv::words(args);
    let service_mode = common::service::is_run_link(args);
    if service_mode {
        // a bad ./args is named and ignored: the tty and speed still come
        // from the directory name and the defaults
        let text = common::service::read_args(PROG).unwrap_or_default();
        let dir = common::service::dir_name();
        let tty = dir
            .split_once('_')
            .map(|(_, t)| t.to_string())
            .unwrap_or_default();
        words = service_words(&text, &tty);
    }
    let o = match parse(&words) {
        Ok(o) if o.help => return common::getopt::help(&format!("{USAGE_LINE}{OPTIONS}")),
        Ok(o) => o,
        Err(e) => {
            out::err(&format!("{PROG}: {e}\n{USAGE_LINE}"));
            return 100;
        }
    };
    let Some(tty) = o.tty.clone() else {
        out::err(USAGE_LINE);
        return 100;
    };
    let baud = o.baud.unwrap_or(115200);
    if !supported_speed(baud) {
        out::err(&format!("{PROG}: unsupported speed {baud}\n"));
        return 100;
    }
    if let Err(e) = open_tty(&tty, baud, &o) {
        out::err(&format!("{PROG}: {tty}: {e}\n"));
        // a missing tty is retried by runsv; do not spin faster than it
        return 1;
    }
    if let Some(t) = &o.term {
        std::env::set_var("TERM", t);
    } else if std::env::var_os("TERM").is_none() {
        std::env::set_var("TERM", "vt100");
    }
    let [host, sysname, release, version, machine, domain] = uts();
    if let Some(init) = &o.init {
        write0(init.as_bytes());
    }
    if !o.no_issue {
        let path = o.issue.clone().unwrap_or_else(|| "/etc/issue".into());
        if let Ok(text) = std::fs::read(&path) {
            let info = IssueInfo {
                hostname: &host,
                tty: tty.trim_start_matches("/dev/"),
                sysname: &sysname,
                release: &release,
                version: &version,
                machine: &machine,
                domain: &domain,
            };
            write0(&expand(&text, &info));
        }
    }
    let login = o.login.clone().unwrap_or_else(|| "/bin/login".into());
    let mut cmd = std::process::Command::new(&login);
    if let Some(h) = &o.host {
        cmd.arg("-h").arg(h);
    }
    if let Some(user) = &o.autologin {
        cmd.arg("-f").arg(user);
    } else if !o.no_prompt {
        match ask_name(&host, o.timeout, &mut ready) {
            Some(name) => {
                cmd.arg("--").arg(name);
            }
            None => return 0,
        }
    }
    ready.now();
    let e = cmd.exec();
    out::err(&format!("{PROG}: cannot run {login}: {}\r\n", describe(&e)));
    // Give a human time to read it before runsv starts us again.
    std::thread::sleep(std::time::Duration::from_secs(2));
    1
}

/// Make `fd` the controlling terminal of our new session, stealing it
/// from another session if need be (the `1`; root only), as BusyBox's
/// getty does. rustix's `ioctl_tiocsctty` passes 0, which fails while a
/// killed login's session still holds the console.
fn make_controlling(fd: &OwnedFd) -> std::io::Result<()> {
    // SAFETY: TIOCSCTTY takes an integer argument, not a pointer, so no
    // memory is read or written; `fd` is an open descriptor we own.
    let r = unsafe { libc::ioctl(fd.as_raw_fd(), libc::TIOCSCTTY as _, 1) };
    if r != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Open the tty as our controlling terminal on 0, 1, 2 with sane settings.
fn open_tty(tty: &str, baud: u32, o: &Options) -> Result<(), String> {
    use rustix::fs::OFlags;
    let path = if tty.starts_with('/') {
        tty.to_string()
    } else {
        format!("/dev/{tty}")
    };
    let path = std::ffi::CString::new(path).map_err(|_| "bad tty name".to_string())?;
    let _ = rustix::process::setsid();
    let fd = rustix::fs::open(
        path.as_c_str(),
        OFlags::RDWR | OFlags::NOCTTY | OFlags::NONBLOCK,
        rustix::fs::Mode::empty(),
    )
    .map_err(|e| describe(&e.into()))?;
    if let Ok(flags) = rustix::fs::fcntl_getfl(&fd) {
        let _ = rustix::fs::fcntl_setfl(&fd, flags - OFlags::NONBLOCK);
    }
    make_controlling(&fd)
        .map_err(|e| format!("cannot make it the controlling tty: {}", describe(&e)))?;
    let raw = fd.as_raw_fd();
    if raw != 0 {
        let _ = rustix::stdio::dup2_stdin(&fd);
    }
    if raw != 1 {
        let _ = rustix::stdio::dup2_stdout(&fd);
    }
    if raw != 2 {
        let _ = rustix::stdio::dup2_stderr(&fd);
    }
    if raw <= 2 {
        // it is one of 0, 1, 2 now: keep it open
        std::mem::forget(fd);
    } else {
        drop(fd);
    }
    let stdin = rustix::stdio::stdin();
    let _ = rustix::fs::fchown(
        stdin,
        Some(rustix::fs::Uid::ROOT),
        Some(rustix::fs::Gid::ROOT),
    );
    let _ = rustix::fs::fchmod(stdin, rustix::fs::Mode::from_raw_mode(0o620));
    if let Ok(mut t) = termios::tcgetattr(stdin) {
        t.input_modes =
            InputModes::ICRNL | InputModes::IXON | InputModes::BRKINT | InputModes::IMAXBEL;
        t.output_modes = OutputModes::OPOST | OutputModes::ONLCR;
        // keep the line's speed bits; the input speed follows the output's
        let speed_bits = t.control_modes.bits() & libc::CBAUD;
        t.control_modes = ControlModes::from_bits_retain(speed_bits)
            | ControlModes::CS8
            | ControlModes::CREAD
            | ControlModes::HUPCL;
        if o.local {
            t.control_modes |= ControlModes::CLOCAL;
        }
        if o.hw_flow {
            t.control_modes |= ControlModes::CRTSCTS;
        }
        t.local_modes = LocalModes::ISIG
            | LocalModes::ICANON
            | LocalModes::ECHO
            | LocalModes::ECHOE
            | LocalModes::ECHOK
            | LocalModes::ECHOCTL
            | LocalModes::ECHOKE
            | LocalModes::IEXTEN;
        for (i, v) in [
            (SpecialCodeIndex::VINTR, 3),
            (SpecialCodeIndex::VQUIT, 28),
            (SpecialCodeIndex::VERASE, 127),
            (SpecialCodeIndex::VKILL, 21),
            (SpecialCodeIndex::VEOF, 4),
            (SpecialCodeIndex::VSTART, 17),
            (SpecialCodeIndex::VSTOP, 19),
            (SpecialCodeIndex::VSUSP, 26),
            (SpecialCodeIndex::VMIN, 1),
            (SpecialCodeIndex::VTIME, 0),
        ] {
            t.special_codes[i] = v;
        }
        if baud != 0 {
            let _ = t.set_speed(baud);
        }
        let _ = termios::tcsetattr(stdin, OptionalActions::Now, &t);
    }
    let _ = termios::tcflush(stdin, QueueSelector::IFlush);
    Ok(())
}

/// Prompt `HOST login: ` until a valid name is typed; `None` on timeout or EOF.
fn ask_name(host: &str, timeout: Option<u64>, ready: &mut common::ready::Ready) -> Option<String> {
    let mut poll = common::poll::PollSet::new();
    loop {
        write0(format!("\r\n{host} login: ").as_bytes());
        ready.now();
        poll.clear();
        let i = poll.add(0);
        let _ = poll.wait(timeout.map(std::time::Duration::from_secs));
        if !poll.readable(i) {
            write0(b"\r\nlogin timed out\r\n");
            return None;
        }
        let mut buf = [0u8; 256];
        let n = match rustix::io::read(rustix::stdio::stdin(), &mut buf) {
            Ok(n) if n > 0 => n,
            _ => return None,
        };
        let line = String::from_utf8_lossy(&buf[..n]).trim().to_string();
        if line.is_empty() {
            continue;
        }
        if valid_login_name(&line) {
            return Some(line);
        }
        write0(b"\r\ninvalid login name\r\n");
    }
}
