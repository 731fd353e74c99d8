//! The I/O of ifplugd: netlink link events, a signalfd, one poll loop
//! around the debounce; the handler or the services' control FIFOs; the
//! pid file and `-k`.

use super::cli::{Options, PROG};
use super::core::Debounce;
use crate::netlink::Netlink;
use common::errtext::describe;
use common::iface::{index_of, set_up};
use common::out;
use common::poll::PollSet;
use common::sig;
use rustix::process::{kill_process, Pid, Signal};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

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

/// Run ifplugd as the command line says (or, with `-k`, stop the one
/// running on the interface); the exit code.
pub fn main(o: Options) -> i32 {
    let pidfile = PathBuf::from(format!("/var/run/ifplugd.{}.pid", o.interface));
    if o.kill {
        return kill(&o.interface, &pidfile);
    }
    let svdir = PathBuf::from(std::env::var("SVDIR").unwrap_or_else(|_| "/var/service".into()));
    let code = run(Shell { o, svdir }, &pidfile);
    crate::flush_pokes();
    code
}

/// `-k`: SIGTERM to the ifplugd of the pid file.
fn kill(ifname: &str, pidfile: &Path) -> i32 {
    let pid = std::fs::read_to_string(pidfile)
        .ok()
        .and_then(|s| s.trim().parse::<i32>().ok())
        .filter(|&p| p > 0)
        .and_then(Pid::from_raw);
    // A stale pid file may name any process now: end it only if it is
    // an ifplugd (this binary) on this interface.
    if let Some(pid) = pid.filter(|p| is_ifplugd_on(p.as_raw_nonzero().get(), ifname)) {
        if kill_process(pid, Signal::TERM).is_ok() {
            return 0;
        }
    }
    out::err(&format!("{PROG}: no ifplugd running on {ifname}\n"));
    1
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

fn run(sh: Shell, pidfile: &Path) -> i32 {
    // ready once the link's state is known and acted on
    let mut ready = common::ready::Ready::from_env();
    let Some(sigfd) = common::sig::open_signalfd(
        PROG,
        &[libc::SIGTERM, libc::SIGINT, libc::SIGQUIT, libc::SIGHUP],
    ) else {
        return 1;
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
    let carrier = index
        .and_then(|i| nl.link_now(i))
        .is_some_and(|l| l.carrier());
    deb.start(carrier);
    let at_start = (carrier && !sh.o.no_up_on_start) || (!carrier && sh.o.always_run_on_start);
    if at_start && !sh.report(carrier) {
        return 1;
    }
    ready.now();
    let mut poll = PollSet::new();
    let code = loop {
        let now = epoch.elapsed();
        let round = crate::wait_round(
            &mut poll,
            &sigfd,
            nl.as_raw_fd(),
            deb.deadline().map(|d| d.saturating_sub(now)),
            PROG,
        );
        if round.stop {
            crate::stopping();
            break 0;
        }
        let mut reports = Vec::new();
        if round.readable {
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
