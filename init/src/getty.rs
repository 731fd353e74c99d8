//! `getty [-iLhn] [-l LOGIN] [-f ISSUE] [-H HOST] [-I INIT] [-t SEC] [-a USER] BAUD TTY [TERM]`
//! (BusyBox's command line; `TTY BAUD` is accepted too). Opens the tty as
//! the controlling terminal of a new session, sets speed and sane termios,
//! prints the issue file, asks for a login name and execs the login program.
//!
//! As a service, `getty_TTY/run` may be a link to ferrite: the tty is the
//! directory name's suffix, options come from an optional `./args` file
//! (words, e.g. `-L -a root 115200`) and the speed defaults to 115200.
//! A bad `./args` (too big, NUL bytes, not UTF-8, a directory, ...) is one
//! line on stderr and ignored (`common::service::read_args`).

use crate::issue::{expand, IssueInfo};
use common::errtext::describe;
use common::getopt::Opt;
use common::out;
use std::ffi::{CString, OsString};
use std::os::unix::process::CommandExt;

const PROG: &str = "getty";

#[derive(Debug, Default, PartialEq, Eq)]
pub struct Options {
    pub no_issue: bool,
    pub local: bool,
    pub hw_flow: bool,
    pub no_prompt: bool,
    pub login: Option<String>,
    pub issue: Option<String>,
    pub host: Option<String>,
    pub init: Option<String>,
    pub timeout: Option<u64>,
    pub autologin: Option<String>,
    pub baud: Option<u32>,
    pub tty: Option<String>,
    pub term: Option<String>,
}

/// Parse BusyBox getty's arguments (without argv[0]).
pub fn parse(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let (opts, first) = common::getopt::parse(args, "lfHIta")?;
    for opt in opts {
        match opt {
            Opt::Value('l', v) => o.login = Some(v),
            Opt::Value('f', v) => o.issue = Some(v),
            Opt::Value('H', v) => o.host = Some(v),
            Opt::Value('I', v) => o.init = Some(v),
            Opt::Value('t', v) => {
                o.timeout = Some(v.parse().map_err(|_| format!("bad timeout: {v}"))?)
            }
            Opt::Value(_, v) => o.autologin = Some(v),
            Opt::Flag('i') => o.no_issue = true,
            Opt::Flag('L') => o.local = true,
            Opt::Flag('h') => o.hw_flow = true,
            Opt::Flag('n') => o.no_prompt = true,
            Opt::Flag('m' | 'w') => {}
            Opt::Flag(c) => return Err(format!("unknown option -{c}")),
            _ => return Err("unknown option".into()),
        }
    }
    let positional = &args[first..];
    // BAUD[,BAUD...] TTY [TERM], or TTY BAUD [TERM]
    let speed = |s: &str| s.split(',').next().and_then(|b| b.parse::<u32>().ok());
    match positional.len() {
        0 => {}
        1 => match speed(&positional[0]) {
            Some(b) => o.baud = Some(b),
            None => o.tty = Some(positional[0].clone()),
        },
        _ => {
            if let Some(b) = speed(&positional[0]) {
                o.baud = Some(b);
                o.tty = Some(positional[1].clone());
            } else if let Some(b) = speed(&positional[1]) {
                o.tty = Some(positional[0].clone());
                o.baud = Some(b);
            } else {
                return Err(format!("bad speed: {}", positional[0]));
            }
            o.term = positional.get(2).cloned();
        }
    }
    Ok(o)
}

/// The command line of `getty_TTY/run`: the options and optional
/// `[BAUD] [TERM]` of the `args` file, with the tty from the directory name.
pub fn service_words(args_file: &str, tty: &str) -> Vec<String> {
    let words: Vec<String> = args_file.split_whitespace().map(String::from).collect();
    // Options end at the first word that is neither an option nor an option's value.
    let mut i = 0;
    while i < words.len() && words[i].starts_with('-') {
        let w = &words[i];
        let takes_value = w.len() == 2 && "lfHIta".contains(&w[1..]);
        i += if takes_value { 2 } else { 1 };
    }
    let i = i.min(words.len());
    let mut out = words[..i].to_vec();
    let rest = &words[i..];
    let (baud, term) = match rest.first() {
        Some(b)
            if b.split(',')
                .next()
                .is_some_and(|x| x.parse::<u32>().is_ok()) =>
        {
            (b.clone(), rest.get(1))
        }
        _ => ("115200".to_string(), rest.first()),
    };
    out.push(baud);
    out.push(tty.to_string());
    out.extend(term.cloned());
    out
}

/// A login name we hand to login: not empty, no leading `-` (it would be an
/// option), printable ASCII without spaces.
pub fn valid_login_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with('-')
        && name.len() <= 64
        && name.bytes().all(|b| b.is_ascii_graphic())
}

fn speed_const(baud: u32) -> Option<libc::speed_t> {
    Some(match baud {
        0 => libc::B0,
        1200 => libc::B1200,
        2400 => libc::B2400,
        4800 => libc::B4800,
        9600 => libc::B9600,
        19200 => libc::B19200,
        38400 => libc::B38400,
        57600 => libc::B57600,
        115200 => libc::B115200,
        230400 => libc::B230400,
        460800 => libc::B460800,
        500000 => libc::B500000,
        921600 => libc::B921600,
        1000000 => libc::B1000000,
        1500000 => libc::B1500000,
        2000000 => libc::B2000000,
        3000000 => libc::B3000000,
        _ => return None,
    })
}

fn write0(s: &[u8]) {
    let _ = common::out::write_all(1, s);
}

fn uts() -> [String; 6] {
    // SAFETY: utsname is plain data, filled by uname.
    let mut u: libc::utsname = unsafe { std::mem::zeroed() };
    unsafe { libc::uname(&mut u) };
    let f = |a: &[libc::c_char]| {
        let b: Vec<u8> = a
            .iter()
            .take_while(|&&c| c != 0)
            .map(|&c| c as u8)
            .collect();
        String::from_utf8_lossy(&b).into_owned()
    };
    [
        f(&u.nodename),
        f(&u.sysname),
        f(&u.release),
        f(&u.version),
        f(&u.machine),
        f(&u.domainname),
    ]
}

pub fn main(args: &[OsString]) -> i32 {
    let mut words: Vec<String> = args[1.min(args.len())..]
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let service_mode = common::service::is_run_link(args);
    if service_mode {
        // a bad ./args is named and ignored: the tty and speed still come
        // from the directory name and the defaults
        let text = common::service::read_args(PROG).unwrap_or_default();
        let cwd = std::env::current_dir().unwrap_or_default();
        let dir = cwd
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let tty = dir
            .split_once('_')
            .map(|(_, t)| t.to_string())
            .unwrap_or_default();
        words = service_words(&text, &tty);
    }
    let o = match parse(&words) {
        Ok(o) => o,
        Err(e) => {
            out::err(&format!("{PROG}: {e}\nusage: getty [-iLhn] [-l LOGIN] [-f ISSUE] [-H HOST] [-I INIT] [-t SEC] [-a USER] BAUD TTY [TERM]\n"));
            return 100;
        }
    };
    let Some(tty) = o.tty.clone() else {
        out::err("usage: getty [-iLhn] [-l LOGIN] [-f ISSUE] [-H HOST] [-I INIT] [-t SEC] [-a USER] BAUD TTY [TERM]\n");
        return 100;
    };
    let baud = o.baud.unwrap_or(115200);
    let Some(speed) = speed_const(baud) else {
        out::err(&format!("{PROG}: unsupported speed {baud}\n"));
        return 100;
    };
    if let Err(e) = open_tty(&tty, speed, &o) {
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
        match ask_name(&host, o.timeout) {
            Some(name) => {
                cmd.arg("--").arg(name);
            }
            None => return 0,
        }
    }
    let e = cmd.exec();
    out::err(&format!("{PROG}: cannot run {login}: {}\r\n", describe(&e)));
    // Give a human time to read it before runsv starts us again.
    std::thread::sleep(std::time::Duration::from_secs(2));
    1
}

/// Open the tty as our controlling terminal on 0, 1, 2 with sane settings.
fn open_tty(tty: &str, speed: libc::speed_t, o: &Options) -> Result<(), String> {
    let path = if tty.starts_with('/') {
        tty.to_string()
    } else {
        format!("/dev/{tty}")
    };
    let c = CString::new(path).map_err(|_| "bad tty name".to_string())?;
    // SAFETY: plain syscalls with valid arguments; termios is plain data.
    unsafe {
        libc::setsid();
        let fd = libc::open(c.as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_NONBLOCK);
        if fd < 0 {
            return Err(describe(&std::io::Error::last_os_error()));
        }
        let flags = libc::fcntl(fd, libc::F_GETFL);
        libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK);
        if libc::ioctl(fd, libc::TIOCSCTTY as _, 1) != 0 {
            let e = std::io::Error::last_os_error();
            return Err(format!(
                "cannot make it the controlling tty: {}",
                describe(&e)
            ));
        }
        for target in 0..3 {
            if fd != target {
                libc::dup2(fd, target);
            }
        }
        if fd > 2 {
            libc::close(fd);
        }
        libc::fchown(0, 0, 0);
        libc::fchmod(0, 0o620);
        let mut t: libc::termios = std::mem::zeroed();
        if libc::tcgetattr(0, &mut t) == 0 {
            t.c_iflag = libc::ICRNL | libc::IXON | libc::BRKINT | libc::IMAXBEL;
            t.c_oflag = libc::OPOST | libc::ONLCR;
            t.c_cflag = (t.c_cflag & libc::CBAUD) | libc::CS8 | libc::CREAD | libc::HUPCL;
            if o.local {
                t.c_cflag |= libc::CLOCAL;
            }
            if o.hw_flow {
                t.c_cflag |= libc::CRTSCTS;
            }
            t.c_lflag = libc::ISIG
                | libc::ICANON
                | libc::ECHO
                | libc::ECHOE
                | libc::ECHOK
                | libc::ECHOCTL
                | libc::ECHOKE
                | libc::IEXTEN;
            t.c_cc[libc::VINTR] = 3;
            t.c_cc[libc::VQUIT] = 28;
            t.c_cc[libc::VERASE] = 127;
            t.c_cc[libc::VKILL] = 21;
            t.c_cc[libc::VEOF] = 4;
            t.c_cc[libc::VSTART] = 17;
            t.c_cc[libc::VSTOP] = 19;
            t.c_cc[libc::VSUSP] = 26;
            t.c_cc[libc::VMIN] = 1;
            t.c_cc[libc::VTIME] = 0;
            if speed != libc::B0 {
                libc::cfsetispeed(&mut t, speed);
                libc::cfsetospeed(&mut t, speed);
            }
            libc::tcsetattr(0, libc::TCSANOW, &t);
        }
        libc::tcflush(0, libc::TCIFLUSH);
    }
    Ok(())
}

/// Prompt `HOST login: ` until a valid name is typed; `None` on timeout or EOF.
fn ask_name(host: &str, timeout: Option<u64>) -> Option<String> {
    let mut poll = common::poll::PollSet::new();
    loop {
        write0(format!("\r\n{host} login: ").as_bytes());
        poll.clear();
        let i = poll.add(0);
        let _ = poll.wait(timeout.map(std::time::Duration::from_secs));
        if !poll.readable(i) {
            write0(b"\r\nlogin timed out\r\n");
            return None;
        }
        let mut buf = [0u8; 256];
        // SAFETY: valid buffer.
        let n = unsafe { libc::read(0, buf.as_mut_ptr().cast(), buf.len()) };
        if n <= 0 {
            return None;
        }
        let line = String::from_utf8_lossy(&buf[..n as usize])
            .trim()
            .to_string();
        if line.is_empty() {
            continue;
        }
        if valid_login_name(&line) {
            return Some(line);
        }
        write0(b"\r\ninvalid login name\r\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Options, String> {
        parse(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn busybox_command_lines() {
        let o = p("-L 115200 ttyS0 vt100").unwrap();
        assert!(o.local);
        assert_eq!(
            (o.baud, o.tty.as_deref(), o.term.as_deref()),
            (Some(115200), Some("ttyS0"), Some("vt100"))
        );
        let o = p("ttyS1 9600").unwrap();
        assert_eq!((o.baud, o.tty.as_deref()), (Some(9600), Some("ttyS1")));
        let o = p("-a root -l /bin/sh -t60 -f /etc/issue.net 38400,9600 tty1").unwrap();
        assert_eq!(o.autologin.as_deref(), Some("root"));
        assert_eq!(o.login.as_deref(), Some("/bin/sh"));
        assert_eq!(o.timeout, Some(60));
        assert_eq!(o.issue.as_deref(), Some("/etc/issue.net"));
        assert_eq!(o.baud, Some(38400));
        assert!(p("-Z 9600 tty1").is_err());
        assert!(p("fast tty1").is_err());
        assert!(p("-t").is_err());
    }

    #[test]
    fn service_mode_takes_the_tty_from_the_directory() {
        let w = service_words("-L 115200 vt100\n", "ttyS0");
        assert_eq!(w, ["-L", "115200", "ttyS0", "vt100"]);
        let o = parse(&w).unwrap();
        assert_eq!(
            (o.tty.as_deref(), o.baud, o.term.as_deref()),
            (Some("ttyS0"), Some(115200), Some("vt100"))
        );
        assert_eq!(service_words("", "tty1"), ["115200", "tty1"]);
        assert_eq!(
            service_words("-a root -l /bin/sh linux", "ttyAMA0"),
            ["-a", "root", "-l", "/bin/sh", "115200", "ttyAMA0", "linux"]
        );
    }

    #[test]
    fn login_names() {
        assert!(valid_login_name("root"));
        assert!(!valid_login_name("-froot"));
        assert!(!valid_login_name("a b"));
        assert!(!valid_login_name(""));
        assert!(!valid_login_name("x;reboot\u{7}"));
    }
}
