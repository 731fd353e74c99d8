//! The pinger's I/O: an ICMP echo socket, inotify on the DHCP service's
//! directory, a signalfd, one poll loop; the pokes that restart dhcp_IF.

use super::cli::{Options, PROG};
use super::core::{echo_reply_seq, echo_request, router_from_env, Action, Event, Pinger};
use common::errtext::describe;
use common::out;
use rustix::net::{
    ipproto, recvfrom, sendto, socket_with, AddressFamily, RecvFlags, SendFlags, SocketFlags,
    SocketType,
};
use std::net::{Ipv4Addr, SocketAddrV4};
use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;
use std::time::{Duration, Instant};

/// Run the pinger as the command line says; the exit code.
pub fn main(o: Options) -> i32 {
    let code = run(o);
    crate::flush_pokes();
    code
}

/// An ICMP echo socket: a ping socket (the kernel matches replies to it),
/// or a raw one as root where ping sockets are not allowed.
struct IcmpSocket {
    fd: OwnedFd,
    raw: bool,
}

impl IcmpSocket {
    fn open() -> std::io::Result<IcmpSocket> {
        let open = |kind| {
            let flags = SocketFlags::CLOEXEC | SocketFlags::NONBLOCK;
            socket_with(AddressFamily::INET, kind, flags, Some(ipproto::ICMP))
        };
        Ok(match open(SocketType::DGRAM) {
            Ok(fd) => IcmpSocket { fd, raw: false },
            Err(_) => IcmpSocket {
                fd: open(SocketType::RAW)?,
                raw: true,
            },
        })
    }

    fn send(&self, ip: Ipv4Addr, seq: u16) -> std::io::Result<()> {
        let id = (std::process::id() & 0xffff) as u16;
        let to = SocketAddrV4::new(ip, 0);
        sendto(&self.fd, &echo_request(id, seq), SendFlags::empty(), &to)?;
        Ok(())
    }

    /// The echo replies waiting (at most `MAX_READS_PER_ROUND`, so an ICMP
    /// flood cannot keep the loop from its signals and deadlines): (from, seq).
    fn replies(&self) -> Vec<(Ipv4Addr, u16)> {
        let mut out = Vec::new();
        let mut buf = [0u8; 1500];
        for _ in 0..crate::MAX_READS_PER_ROUND {
            let Ok((n, _, from)) = recvfrom(&self.fd, &mut buf[..], RecvFlags::DONTWAIT) else {
                break;
            };
            let from = from.and_then(|a| SocketAddrV4::try_from(a).ok());
            let from = from.map_or(Ipv4Addr::UNSPECIFIED, |a| *a.ip());
            let b = buf.get(..n).unwrap_or(&[]);
            if let Some(seq) = echo_reply_seq(b, self.raw) {
                out.push((from, seq));
            }
        }
        out
    }
}

fn say(msg: &str) {
    let _ = out::out(&format!("{PROG}: {msg}\n"));
}

/// The router of the lease in `dhcp/env.out`, if any.
fn lease_router(dhcp: &Path) -> Option<Ipv4Addr> {
    std::fs::read_to_string(dhcp.join("env.out"))
        .ok()
        .as_deref()
        .and_then(router_from_env)
}

fn run(o: Options) -> i32 {
    let dhcp = o.svdir.join(format!("dhcp_{}", o.interface));
    let supplicant = o.svdir.join(format!("supplicant_{}", o.interface));
    let Some(sigfd) =
        common::sig::open_signalfd(PROG, &[libc::SIGTERM, libc::SIGINT, libc::SIGHUP])
    else {
        return 111;
    };
    let sock = match IcmpSocket::open() {
        Ok(s) => s,
        Err(e) => {
            out::err(&format!(
                "{PROG}: cannot open an ICMP socket: {}\n",
                describe(&e)
            ));
            return 111;
        }
    };
    let epoch = Instant::now();
    let now = || epoch.elapsed();
    let mut core = Pinger::new(&o.interface, o.interval, o.retry, o.failures, o.timeout);
    // The DHCP service's directory, or its parent until it exists.
    let mut watch: Option<(common::inotify::Watch, bool)> = None;
    let mut actions = core.handle(now(), Event::Lease(lease_router(&dhcp)));
    let mut poll = common::poll::PollSet::new();
    loop {
        let mut more = Vec::new();
        for a in std::mem::take(&mut actions) {
            match a {
                Action::Say(m) => say(&m),
                Action::Ping { router, seq } => {
                    if let Err(e) = sock.send(router, seq) {
                        more.extend(core.handle(now(), Event::SendFailed(describe(&e))));
                    }
                }
                Action::Restart => {
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
                }
            }
        }
        if !more.is_empty() {
            actions = more;
            continue;
        }
        // (Re)watch the DHCP directory; its parent while it does not exist.
        if !watch
            .as_ref()
            .is_some_and(|(_, on_dir)| *on_dir || !dhcp.is_dir())
        {
            let on_dir = dhcp.is_dir();
            let target = if on_dir {
                dhcp.as_path()
            } else {
                o.svdir.as_path()
            };
            watch = common::inotify::Watch::new(target, common::inotify::DIR_CHANGES)
                .ok()
                .map(|w| (w, on_dir));
            // it may have changed before the watch was in place
            actions = core.handle(now(), Event::Lease(lease_router(&dhcp)));
            if !actions.is_empty() {
                continue;
            }
        }
        // Without inotify, look at the lease again every retry.
        let relook = watch.is_none().then_some(o.retry);
        let timeout = crate::earliest(core.deadline().map(|d| d.saturating_sub(now())), relook);
        poll.clear();
        let i_sig = poll.add(sigfd.as_raw_fd());
        let i_sock = poll.add(sock.fd.as_raw_fd());
        let i_watch = watch.as_ref().map(|(w, _)| poll.add(w.as_raw_fd()));
        if let Err(e) = poll.wait(crate::with_pokes(timeout)) {
            out::err(&format!("{PROG}: poll: {}\n", describe(&e)));
            std::thread::sleep(Duration::from_millis(100));
        }
        crate::retry_pokes_and_say(PROG);
        if poll.readable(i_sig) {
            if let Some(sig) = sigfd.read_all().into_iter().next() {
                let name = match sig {
                    libc::SIGTERM => "SIGTERM",
                    libc::SIGINT => "SIGINT",
                    _ => "SIGHUP",
                };
                say(&format!("received {name}: stopping"));
                return 0;
            }
        }
        if poll.readable(i_sock) {
            for (from, seq) in sock.replies() {
                actions.extend(core.handle(now(), Event::Reply { from, seq }));
            }
        }
        let changed = i_watch.is_some_and(|i| poll.readable(i));
        if changed {
            if let Some((w, on_dir)) = &watch {
                w.drain();
                // the directory itself went: watch its parent again
                if *on_dir && !dhcp.is_dir() {
                    watch = None;
                }
            }
        }
        if changed || relook.is_some() {
            actions.extend(core.handle(now(), Event::Lease(lease_router(&dhcp))));
        }
        actions.extend(core.handle(now(), Event::Timer));
    }
}
