//! `pinger`: the seed's `dhcp_IF_pinger` watchdog. It pings the router of
//! the lease (`../dhcp_IF/env.out`) every 67 s, every 5 s after a failure,
//! and after 5 failures in a row restarts `dhcp_IF` (and `supplicant_IF`
//! when there is one) through the supervision tree. No lease or no router:
//! it sleeps until the DHCP service's directory changes (inotify), then
//! looks again. A new lease's router is first pinged one retry after it
//! appeared, once fw has applied the lease. Intervals and the count are options:
//! `pinger [-i IF] [--interval SECS] [--retry SECS] [--failures N] [--timeout SECS]`.

use common::errtext::describe;
use common::out;
use std::ffi::OsString;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

const PROG: &str = "pinger";

/// The pure part: what a ping result means.
#[derive(Debug)]
pub struct Watchdog {
    pub interval: Duration,
    pub retry: Duration,
    pub max_failures: u32,
    failures: u32,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Ping again after this long.
    Wait(Duration),
    /// Restart the DHCP client (and supplicant), then wait this long.
    Restart(Duration),
}

impl Watchdog {
    pub fn new(interval: Duration, retry: Duration, max_failures: u32) -> Watchdog {
        Watchdog {
            interval,
            retry,
            max_failures: max_failures.max(1),
            failures: 0,
        }
    }

    pub fn failures(&self) -> u32 {
        self.failures
    }

    pub fn result(&mut self, answered: bool) -> Verdict {
        if answered {
            self.failures = 0;
            return Verdict::Wait(self.interval);
        }
        self.failures += 1;
        if self.failures >= self.max_failures {
            self.failures = 0;
            // give the new lease time to come before judging again
            return Verdict::Restart(self.interval);
        }
        Verdict::Wait(self.retry)
    }
}

/// The first router in an `env.out` (`router='10.0.2.2 10.0.2.1'`).
pub fn router_from_env(text: &str) -> Option<Ipv4Addr> {
    let line = text.lines().find_map(|l| l.strip_prefix("router="))?;
    line.trim_matches('\'')
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

fn checksum(data: &[u8]) -> u16 {
    let mut sum = 0u32;
    for c in data.chunks(2) {
        sum += u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)]) as u32;
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// One ICMP echo to `ip`; true when an echo reply from it came within `timeout`.
pub fn ping(ip: Ipv4Addr, seq: u16, timeout: Duration) -> std::io::Result<bool> {
    // A ping socket (the kernel matches replies to it); raw as root otherwise.
    // SAFETY: plain socket calls with valid buffers.
    unsafe {
        let mut raw = false;
        let mut fd = libc::socket(
            libc::AF_INET,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::IPPROTO_ICMP,
        );
        if fd < 0 {
            fd = libc::socket(
                libc::AF_INET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                libc::IPPROTO_ICMP,
            );
            raw = true;
        }
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let sock = std::os::fd::OwnedFd::from_raw_fd(fd);
        use std::os::fd::{AsRawFd, FromRawFd};
        let id = (std::process::id() & 0xffff) as u16;
        let mut pkt = vec![8u8, 0, 0, 0];
        pkt.extend_from_slice(&id.to_be_bytes());
        pkt.extend_from_slice(&seq.to_be_bytes());
        pkt.extend_from_slice(b"ferrite pinger");
        let c = checksum(&pkt);
        pkt[2..4].copy_from_slice(&c.to_be_bytes());
        let mut sa: libc::sockaddr_in = std::mem::zeroed();
        sa.sin_family = libc::AF_INET as u16;
        sa.sin_addr.s_addr = u32::from_ne_bytes(ip.octets());
        if libc::sendto(
            sock.as_raw_fd(),
            pkt.as_ptr().cast(),
            pkt.len(),
            0,
            (&sa as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as u32,
        ) < 0
        {
            return Err(std::io::Error::last_os_error());
        }
        let end = Instant::now() + timeout;
        let mut poll = common::poll::PollSet::new();
        let mut buf = [0u8; 1500];
        while Instant::now() < end {
            poll.clear();
            poll.add(sock.as_raw_fd());
            poll.wait(Some(end.saturating_duration_since(Instant::now())))?;
            let mut from: libc::sockaddr_in = std::mem::zeroed();
            let mut len = std::mem::size_of::<libc::sockaddr_in>() as u32;
            let n = libc::recvfrom(
                sock.as_raw_fd(),
                buf.as_mut_ptr().cast(),
                buf.len(),
                libc::MSG_DONTWAIT,
                (&mut from as *mut libc::sockaddr_in).cast(),
                &mut len,
            );
            if n <= 0 {
                continue;
            }
            let b = &buf[..n as usize];
            // a raw socket hands over the IP header too
            let icmp = if raw {
                b.get(((b[0] & 0xf) as usize) * 4..).unwrap_or(&[])
            } else {
                b
            };
            let from_ip = Ipv4Addr::from(u32::from_be(from.sin_addr.s_addr));
            if icmp.len() >= 8
                && icmp[0] == 0
                && from_ip == ip
                && u16::from_be_bytes([icmp[6], icmp[7]]) == seq
            {
                return Ok(true);
            }
        }
        Ok(false)
    }
}

struct Opts {
    interface: String,
    interval: Duration,
    retry: Duration,
    failures: u32,
    timeout: Duration,
    svdir: PathBuf,
}

/// Seconds for `what`: at least 1 ms (0 would ping in a busy loop), at most a day.
fn secs(what: &str, v: &str) -> Result<Duration, String> {
    common::num::secs_f64(what, v, 0.001, common::num::MAX_SECS as f64)
}

fn parse(words: &[String], o: &mut Opts) -> Result<(), String> {
    let mut i = 0;
    while i < words.len() {
        let v = words.get(i + 1).cloned().unwrap_or_default();
        match words[i].as_str() {
            "-i" => o.interface = v,
            "--interval" => o.interval = secs("--interval", &v)?,
            "--retry" => o.retry = secs("--retry", &v)?,
            "--failures" => o.failures = common::num::ranged("--failures", &v, 1, 1000)? as u32,
            "--timeout" => o.timeout = secs("--timeout", &v)?,
            w => return Err(format!("unknown argument {w}")),
        }
        i += 2;
    }
    Ok(())
}

pub fn main(args: &[OsString]) -> i32 {
    let words = common::service::words(args);
    let cwd = std::env::current_dir().unwrap_or_default();
    let dir = common::service::dir_name();
    let mut o = Opts {
        interface: dir
            .strip_prefix("dhcp_")
            .and_then(|d| d.strip_suffix("_pinger"))
            .unwrap_or("")
            .to_string(),
        interval: Duration::from_secs(67),
        retry: Duration::from_secs(5),
        failures: 5,
        timeout: Duration::from_secs(1),
        svdir: cwd
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| PathBuf::from("/var/service")),
    };
    if let Err(e) = parse(&words, &mut o) {
        out::err(&format!("{PROG}: {e}\nusage: pinger [-i IF] [--interval SECS] [--retry SECS] [--failures N] [--timeout SECS]\n"));
        return 100;
    }
    if o.interface.is_empty() {
        out::err(&format!(
            "{PROG}: no interface: give -i IF or run it as dhcp_IF_pinger/run\n"
        ));
        return 100;
    }
    run(o)
}

fn say(msg: &str) {
    let _ = out::out(&format!("{PROG}: {msg}\n"));
}

/// No lease yet: sleep until the DHCP service's directory changes (its
/// `env.out` appears), with no periodic wake-ups; where it cannot be
/// watched, look again after `retry`.
/// `seen` is the `env.out` text that had no router.
fn wait_for_lease(dhcp: &Path, seen: &Option<String>, retry: Duration) {
    let watched = [dhcp, dhcp.parent().unwrap_or(dhcp)]
        .into_iter()
        .find_map(|d| common::inotify::Watch::new(d, common::inotify::DIR_CHANGES).ok());
    match watched {
        // the file may have changed between the last look and the watch
        Some(_) if std::fs::read_to_string(dhcp.join("env.out")).ok() != *seen => {}
        Some(w) => {
            w.wait(None);
        }
        None => std::thread::sleep(retry),
    }
}

fn run(o: Opts) -> i32 {
    let dhcp = o.svdir.join(format!("dhcp_{}", o.interface));
    let supplicant = o.svdir.join(format!("supplicant_{}", o.interface));
    let mut wd = Watchdog::new(o.interval, o.retry, o.failures);
    let mut seq: u16 = 0;
    let mut waiting_said = false;
    // the router of the lease being watched; None while there is none
    let mut watching: Option<Ipv4Addr> = None;
    let mut first_ping = false;
    loop {
        let env = std::fs::read_to_string(dhcp.join("env.out")).ok();
        let router = env.as_deref().and_then(router_from_env);
        let Some(router) = router else {
            if !waiting_said {
                say(&format!(
                    "no lease with a router on {} yet; waiting",
                    o.interface
                ));
                waiting_said = true;
            }
            watching = None;
            wait_for_lease(&dhcp, &env, o.retry);
            continue;
        };
        waiting_said = false;
        if watching != Some(router) {
            // A new lease: fw applies it a moment after the client wrote it.
            // Pinging at once would count "network unreachable" against a
            // router that is fine, so the first ping waits one retry.
            say(&format!(
                "router {router} on {}: first ping in {:?}",
                o.interface, o.retry
            ));
            watching = Some(router);
            wd = Watchdog::new(o.interval, o.retry, o.failures);
            first_ping = true;
            std::thread::sleep(o.retry);
            continue;
        }
        seq = seq.wrapping_add(1);
        let answered = match ping(router, seq, o.timeout) {
            Ok(a) => a,
            Err(e) => {
                say(&format!("ping {router}: {}", describe(&e)));
                false
            }
        };
        if !answered {
            say(&format!(
                "router {router} does not answer ({}/{})",
                wd.failures() + 1,
                wd.max_failures
            ));
        } else if first_ping || wd.failures() > 0 {
            // said once per lease and after failures, not every interval
            say(&format!("router {router} answers"));
        }
        first_ping = false;
        let wait = match wd.result(answered) {
            Verdict::Wait(d) => d,
            Verdict::Restart(d) => {
                for svc in [&dhcp, &supplicant] {
                    if svc.is_dir() {
                        say(&format!("restarting {}", svc.display()));
                        if let Err(e) = crate::poke(svc, "tcu") {
                            say(&format!(
                                "cannot restart {}: {}",
                                svc.display(),
                                describe(&e)
                            ));
                        }
                    }
                }
                d
            }
        };
        std::thread::sleep(wait);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_failures_and_restarts_after_the_limit() {
        let s = Duration::from_secs;
        let mut w = Watchdog::new(s(67), s(5), 5);
        assert_eq!(w.result(true), Verdict::Wait(s(67)));
        for _ in 0..4 {
            assert_eq!(w.result(false), Verdict::Wait(s(5)));
        }
        assert_eq!(w.result(false), Verdict::Restart(s(67)));
        // a success in between starts the count again
        for _ in 0..4 {
            w.result(false);
        }
        w.result(true);
        assert_eq!(w.result(false), Verdict::Wait(s(5)));
    }

    #[test]
    fn numbers_out_of_range_are_errors() {
        // Regression: `--interval inf` aborted in Duration::from_secs_f64.
        let mut o = Opts {
            interface: String::new(),
            interval: Duration::from_secs(67),
            retry: Duration::from_secs(5),
            failures: 5,
            timeout: Duration::from_secs(1),
            svdir: PathBuf::new(),
        };
        let w = |s: &str| s.split_whitespace().map(String::from).collect::<Vec<_>>();
        for bad in [
            "--interval inf",
            "--interval NaN",
            "--retry -1",
            "--timeout 1e30",
            "--failures 0",
            "--interval 0",
        ] {
            assert!(parse(&w(bad), &mut o).is_err(), "{bad}");
        }
        assert!(parse(&w("--interval 0.5 --failures 3"), &mut o).is_ok());
        assert_eq!((o.interval, o.failures), (Duration::from_millis(500), 3));
    }

    #[test]
    fn router_from_the_lease_environment() {
        assert_eq!(
            router_from_env("ip='10.0.2.15'\nrouter='10.0.2.2 10.0.2.1'\n"),
            Some(Ipv4Addr::new(10, 0, 2, 2))
        );
        assert_eq!(router_from_env("ip='10.0.2.15'\n"), None);
        assert_eq!(router_from_env("router='x'\n"), None);
    }
}
