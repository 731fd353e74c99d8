//! The I/O around `Zcip`: an ARP packet socket, a signalfd, one poll; the
//! handler script, or the ipconf file and fw's poke in native mode.

use super::cli::{Options, PROG};
use super::core::{Action, Zcip};
use crate::arp;
use crate::packet::{self, ETH_P_ARP};
use common::errtext::describe;
use common::fsutil::atomic_write;
use common::out;
use common::poll::PollSet;
use common::sig;
use rustix::net::RecvFlags;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// Broadcast an ARP probe (`sender` 0.0.0.0) or announcement.
fn send_arp(fd: &OwnedFd, index: i32, mac: [u8; 6], sender: Ipv4Addr, target: Ipv4Addr) {
    let _ = packet::send_broadcast(
        fd.as_raw_fd(),
        index,
        ETH_P_ARP,
        &packet::arp_request(mac, sender, target),
    );
}

/// Run zcip as the command line says; the exit code.
pub fn main(o: Options) -> i32 {
    let code = run(o);
    crate::flush_pokes();
    code
}

fn handler(o: &Options, event: &str, ip: Option<Ipv4Addr>) {
    match &o.script {
        Some(s) => {
            let mut cmd = std::process::Command::new(s);
            cmd.arg(event).env("interface", &o.interface);
            if let Some(ip) = ip {
                cmd.env("ip", ip.to_string());
            }
            if let Err(e) = sig::clean_child(&mut cmd).status() {
                out::err(&format!("{PROG}: cannot run {s}: {}\n", describe(&e)));
            }
        }
        None => {
            let file = o.fw_dir.join(format!("zcip_{}.ipconf", o.interface));
            let changed = match (event, ip) {
                // a file left by a killed predecessor is stale until we have an address
                ("init", _) => std::fs::remove_file(&file).is_ok(),
                ("config", Some(ip)) => {
                    let text = format!("if='{}'\nipmask='{ip}/16'\n", o.interface);
                    atomic_write(&file, text.as_bytes(), 0o644, true).is_ok()
                }
                ("deconfig", _) => std::fs::remove_file(&file).is_ok(),
                _ => false,
            };
            if changed {
                let _ = crate::poke(&o.fw_service, "u");
            }
        }
    }
}

fn run(o: Options) -> i32 {
    // ready once its address is claimed (runsv's notification-fd)
    let mut ready = common::ready::Ready::from_env();
    let Some(index) = common::iface::index_of(&o.interface) else {
        out::err(&format!(
            "{PROG}: interface {} does not exist\n",
            o.interface
        ));
        return 1;
    };
    let (mac, fd) = match packet::hw_address(&o.interface)
        .and_then(|m| packet::socket(index, ETH_P_ARP).map(|f| (m, f)))
    {
        Ok(x) => x,
        Err(e) => {
            out::err(&format!("{PROG}: {}: {}\n", o.interface, describe(&e)));
            return 1;
        }
    };
    let Some(sigfd) = common::sig::open_signalfd(PROG, &[libc::SIGTERM, libc::SIGINT]) else {
        return 1;
    };
    // the interface and its socket are there: from here on BusyBox's zcip
    // runs in the background unless -f
    if !o.foreground {
        common::daemon::background(None);
    }
    let _ = common::iface::set_up(&o.interface);
    let epoch = Instant::now();
    let (mut z, _) = Zcip::new(Duration::ZERO, mac, o.request);
    handler(&o, "init", None);
    let mut configured = None;
    let mut poll = PollSet::new();
    let mut buf = [0u8; 256];
    loop {
        let now = epoch.elapsed();
        let round = crate::wait_round(
            &mut poll,
            &sigfd,
            fd.as_raw_fd(),
            z.deadline().map(|d| d.saturating_sub(now)),
            PROG,
        );
        if round.stop {
            crate::stopping();
            if configured.is_some() {
                handler(&o, "deconfig", None);
            }
            return 0;
        }
        let mut actions = Vec::new();
        if round.readable {
            // Bounded: an ARP flood must not keep the loop from its
            // signals and deadlines; the rest waits for the next round.
            for _ in 0..crate::MAX_READS_PER_ROUND {
                let n = match rustix::net::recv(&fd, &mut buf[..], RecvFlags::empty()) {
                    Ok((n, _)) if n > 0 => n,
                    _ => break,
                };
                if let Some(p) = arp::parse(&buf[..n]) {
                    actions.extend(z.arp(epoch.elapsed(), p));
                }
            }
        }
        actions.extend(z.tick(epoch.elapsed()));
        for a in actions {
            match a {
                Action::Probe(ip) => send_arp(&fd, index, mac, Ipv4Addr::UNSPECIFIED, ip),
                Action::Announce(ip) => send_arp(&fd, index, mac, ip, ip),
                Action::Config(ip) => {
                    // native mode says it always: this is the service's log
                    if o.verbose || o.script.is_none() {
                        out::err(&format!("{PROG}: {}: using {ip}\n", o.interface));
                    }
                    configured = Some(ip);
                    handler(&o, "config", Some(ip));
                    ready.now();
                    if o.quit {
                        return 0;
                    }
                }
                Action::Deconfig => {
                    if let Some(ip) = configured.take() {
                        out::err(&format!(
                            "{PROG}: {}: {ip} is taken by another host; choosing another\n",
                            o.interface
                        ));
                    }
                    handler(&o, "deconfig", None);
                }
            }
        }
    }
}
