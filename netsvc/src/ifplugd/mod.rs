//! `ifplugd`: acts on the carrier of one interface, from netlink link events
//! (no polling). BusyBox's command line: `-i IF -r PROG [-x ARG] -u SECS
//! -d SECS -a -q -l -p -M -n -s -f -F -I -t SECS -k`; the handler is run as
//! `PROG IF up|down [ARG]`. Without `-r` (native mode) it ups and downs the
//! services `dhcp_IF` and `zcip_IF` under `$SVDIR` that exist, through their
//! control FIFOs: `ifplugd_IF/run` can be a link to ferrite.

pub mod debounce;

use crate::netlink::Netlink;
use common::errtext::describe;
use common::getopt::Opt;
use common::iface::{index_of, set_up};
use common::out;
use common::poll::PollSet;
use common::sig::{self, SignalFd};
use debounce::Debounce;
use std::ffi::OsString;
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const PROG: &str = "ifplugd";

#[derive(Debug, Clone, Default)]
pub struct Options {
    pub interface: String,
    pub script: Option<String>,
    pub extra: Option<String>,
    pub up_delay: u64,
    pub down_delay: u64,
    pub no_ifup: bool,
    pub no_down_on_exit: bool,
    pub no_up_on_start: bool,
    pub always_run_on_start: bool,
    pub may_disappear: bool,
    pub ignore_script_errors: bool,
    pub kill: bool,
    /// -n, or run as a service: stay in the foreground
    pub foreground: bool,
}

pub fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options {
        up_delay: 0,
        down_delay: 5,
        ..Options::default()
    };
    let (opts, rest) = common::getopt::parse(args, "irxudtm")?;
    if rest != args.len() {
        return Err(format!("unexpected argument {}", args[rest]));
    }
    let secs =
        |c: char, v: &str| common::num::ranged(&format!("-{c}"), v, 0, common::num::MAX_SECS);
    for opt in opts {
        match opt {
            Opt::Value('i', v) => o.interface = v,
            Opt::Value('r', v) => o.script = Some(v),
            Opt::Value('x', v) => o.extra = Some(v),
            Opt::Value('u', v) => o.up_delay = secs('u', &v)?,
            Opt::Value('d', v) => o.down_delay = secs('d', &v)?,
            Opt::Value(_, _) => {} // -t (events make polling unnecessary), -m
            Opt::Flag('a') => o.no_ifup = true,
            Opt::Flag('q') => o.no_down_on_exit = true,
            Opt::Flag('p') => o.no_up_on_start = true,
            Opt::Flag('l') => o.always_run_on_start = true,
            Opt::Flag('M') => o.may_disappear = true,
            Opt::Flag('I') => o.ignore_script_errors = true,
            Opt::Flag('k') => o.kill = true,
            Opt::Flag('n') => o.foreground = true,
            Opt::Flag('s' | 'f' | 'F' | 'v' | 'W') => {}
            Opt::Flag(c) => return Err(format!("unknown option -{c}")),
            _ => return Err("unknown option".into()),
        }
    }
    if o.interface.is_empty() {
        o.interface = "eth0".into();
    }
    Ok(o)
}

struct Shell {
    o: Options,
    svdir: PathBuf,
}

impl Shell {
    /// Report a state: the handler, or the services in native mode. `false`
    /// when the handler failed and we must exit (no -I).
    fn report(&self, up: bool) -> bool {
        let word = if up { "up" } else { "down" };
        out::err(&format!("{PROG}: {}: link is {word}\n", self.o.interface));
        match &self.o.script {
            Some(prog) => {
                let mut cmd = std::process::Command::new(prog);
                cmd.arg(&self.o.interface).arg(word);
                if let Some(x) = &self.o.extra {
                    cmd.arg(x);
                }
                match sig::clean_child(&mut cmd).status() {
                    Ok(st) if st.success() => true,
                    Ok(st) => {
                        out::err(&format!("{PROG}: {prog} {word}: {st}\n"));
                        self.o.ignore_script_errors
                    }
                    Err(e) => {
                        out::err(&format!("{PROG}: cannot run {prog}: {}\n", describe(&e)));
                        self.o.ignore_script_errors
                    }
                }
            }
            None => {
                let letter = if up { "u" } else { "d" };
                for name in [
                    format!("dhcp_{}", self.o.interface),
                    format!("zcip_{}", self.o.interface),
                ] {
                    let dir = self.svdir.join(&name);
                    if dir.is_dir() {
                        if let Err(e) = crate::poke(&dir, letter) {
                            out::err(&format!(
                                "{PROG}: cannot control {name}: {}\n",
                                describe(&e)
                            ));
                        }
                    }
                }
                true
            }
        }
    }
}

pub fn main(args: &[OsString]) -> i32 {
    let mut words = common::service::words(PROG, args);
    let service = common::service::is_run_link(args);
    if service && !words.iter().any(|w| w.starts_with("-i")) {
        if let Some(ifname) = common::service::dir_name().strip_prefix("ifplugd_") {
            words.push("-i".into());
            words.push(ifname.into());
        }
    }
    let mut o = match parse_args(&words) {
        Ok(o) => o,
        Err(e) => {
            out::err(&format!("{PROG}: {e}\nusage: ifplugd [-anqlpMI] -i IFACE [-r PROG] [-x ARG] [-u SECS] [-d SECS]\n"));
            return 1;
        }
    };
    o.foreground |= service;
    let pidfile = PathBuf::from(format!("/var/run/ifplugd.{}.pid", o.interface));
    if o.kill {
        let pid: i32 = std::fs::read_to_string(&pidfile)
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        // A stale pid file may name any process now: end it only if it is
        // an ifplugd (this binary) on this interface.
        // SAFETY: kill(2) of a process checked to be our ifplugd.
        if pid > 0
            && is_ifplugd_on(pid, &o.interface)
            && unsafe { libc::kill(pid, libc::SIGTERM) } == 0
        {
            return 0;
        }
        out::err(&format!("{PROG}: no ifplugd running on {}\n", o.interface));
        return 1;
    }
    let svdir = PathBuf::from(std::env::var("SVDIR").unwrap_or_else(|_| "/var/service".into()));
    let code = run(Shell { o, svdir }, &pidfile);
    crate::flush_pokes();
    code
}

/// `pid` runs this binary as ifplugd for `ifname`: same executable, and
/// `-i IF`/`-iIF` on its command line or a service directory `ifplugd_IF`.
fn is_ifplugd_on(pid: i32, ifname: &str) -> bool {
    let exe = |p: &str| std::fs::read_link(format!("/proc/{p}/exe")).ok();
    if exe(&pid.to_string()).is_none() || exe(&pid.to_string()) != exe("self") {
        return false;
    }
    let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
    let words: Vec<&[u8]> = cmdline.split(|&b| b == 0).collect();
    let on_if = words
        .windows(2)
        .any(|w| w[0] == b"-i" && w[1] == ifname.as_bytes())
        || words
            .iter()
            .any(|w| w.strip_prefix(b"-i") == Some(ifname.as_bytes()));
    let as_service = std::fs::read_link(format!("/proc/{pid}/cwd"))
        .ok()
        .is_some_and(|d| {
            d.file_name()
                .is_some_and(|n| n.as_encoded_bytes() == format!("ifplugd_{ifname}").as_bytes())
        });
    on_if || as_service
}

fn run(sh: Shell, pidfile: &std::path::Path) -> i32 {
    let sigfd = match SignalFd::new(&[libc::SIGTERM, libc::SIGINT, libc::SIGQUIT, libc::SIGHUP]) {
        Ok(s) => s,
        Err(e) => {
            out::err(&format!("{PROG}: signalfd: {}\n", describe(&e)));
            return 1;
        }
    };
    let mut nl = match Netlink::link_events() {
        Ok(n) => n,
        Err(e) => {
            out::err(&format!("{PROG}: netlink: {}\n", describe(&e)));
            return 1;
        }
    };
    let name = sh.o.interface.clone();
    let epoch = Instant::now();
    let mut deb = Debounce::new(
        Duration::from_secs(sh.o.up_delay),
        Duration::from_secs(sh.o.down_delay),
    );
    let mut index = index_of(&name);
    if index.is_none() && !sh.o.may_disappear {
        out::err(&format!(
            "{PROG}: interface {name} does not exist (use -M to wait for it)\n"
        ));
        return 1;
    }
    // the command line was good and the interface is there (or may come):
    // from here on BusyBox's ifplugd runs in the background unless -n
    if !sh.o.foreground {
        common::daemon::background(Some(pidfile));
    }
    let _ = common::fsutil::atomic_write(
        pidfile,
        format!("{}\n", std::process::id()).as_bytes(),
        0o644,
        false,
    );
    if index.is_some() && !sh.o.no_ifup {
        let _ = set_up(&name);
    }
    // the state at start
    let mut carrier = false;
    if let Some(i) = index {
        if nl.request_link(i).is_ok() {
            let mut p = PollSet::new();
            p.add(nl.as_raw_fd());
            let _ = p.wait(Some(Duration::from_millis(500)));
            if let Some(l) = nl.read_links().into_iter().rev().find(|l| l.index == i) {
                carrier = l.carrier();
            }
        }
    }
    deb.start(carrier);
    let at_start = (carrier && !sh.o.no_up_on_start) || (!carrier && sh.o.always_run_on_start);
    if at_start && !sh.report(carrier) {
        return 1;
    }
    let mut poll = PollSet::new();
    let code = loop {
        let now = epoch.elapsed();
        poll.clear();
        let si = poll.add(sigfd.as_raw_fd());
        let ni = poll.add(nl.as_raw_fd());
        let _ = poll.wait(crate::with_pokes(
            deb.deadline().map(|d| d.saturating_sub(now)),
        ));
        crate::retry_pokes_and_say(PROG);
        if poll.readable(si) && !sigfd.read_all().is_empty() {
            crate::stopping();
            break 0;
        }
        let mut reports = Vec::new();
        if poll.readable(ni) {
            for l in nl.read_links() {
                let ours = match index {
                    Some(i) => l.index == i,
                    None => l.name.as_deref() == Some(name.as_str()),
                };
                if !ours {
                    continue;
                }
                if l.deleted {
                    index = None;
                } else if index.is_none() {
                    // -M: the interface appeared (again)
                    index = Some(l.index);
                    if !sh.o.no_ifup {
                        let _ = set_up(&name);
                    }
                }
                reports.extend(deb.observe(epoch.elapsed(), l.carrier()));
            }
        }
        reports.extend(deb.tick(epoch.elapsed()));
        let mut failed = false;
        for up in reports {
            failed |= !sh.report(up);
        }
        if failed {
            break 1;
        }
    };
    if deb.reported() == Some(true) && !sh.o.no_down_on_exit {
        sh.report(false);
    }
    let _ = std::fs::remove_file(pidfile);
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Options, String> {
        parse_args(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn busybox_command_lines() {
        // the seed's ifplugd_if/run
        let o = p("-apqns -t3 -u8 -d8 -i eth0 -r ./ifplugd_handler").unwrap();
        assert!(o.no_ifup && o.no_up_on_start && o.no_down_on_exit);
        assert_eq!((o.up_delay, o.down_delay), (8, 8));
        assert_eq!(o.script.as_deref(), Some("./ifplugd_handler"));
        let o = p("-i wlan0 -M -I -l -x extra").unwrap();
        assert!(o.may_disappear && o.ignore_script_errors && o.always_run_on_start);
        assert_eq!(o.extra.as_deref(), Some("extra"));
        assert_eq!(o.down_delay, 5, "BusyBox's default down delay");
        assert!(p("-Z").is_err());
        assert!(p("-u x").is_err());
    }

    #[test]
    fn delays_out_of_range_are_errors() {
        // Regression: `-u 18446744073709551615` overflowed the debounce deadline.
        let e = p("-i eth0 -u 18446744073709551615").unwrap_err();
        assert!(e.contains("-u") && e.contains("out of range"), "{e}");
        assert!(p("-i eth0 -d 86401").is_err());
        assert!(p("-i eth0 -u 86400 -d 0").is_ok());
    }
}
