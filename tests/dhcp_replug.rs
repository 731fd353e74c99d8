//! A lease survives what should not cost it (root only): a replug while the
//! server is down, a cable moved to another network (whose server NAKs, or
//! ignores, the old address), and floods of UDP to port 68 and of ARP while
//! a renewal is due (ARP also while the client checks its new address). Network namespaces joined by veth, dnsmasq as the server; every
//! namespace, interface and process is the test's own and goes when it ends.

mod common;
use common::lab::*;
use common::*;
use netsvc::dhcp::msg::{opt, Message, MsgType, BOOTREPLY};
use std::net::Ipv4Addr;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(15);

/// What the handler logs of each event.
const FIELDS: &[&str] = &["ip", "mask", "serverid", "lease"];

fn udhcpc(ns: &Netns, dir: &Path, args: &[&str]) -> Daemon {
    lab::udhcpc(ns, dir, &["-v"], &handler(dir, FIELDS), args)
}

#[test]
fn replug_with_the_server_down_keeps_the_address_until_it_answers() {
    let Some(lab) = lab("down") else { return };
    let range = default_range(lab.net);
    let srv = lab.dnsmasq_with(&range, Some("leases"), &[]);
    let cl = udhcpc(&lab.c, lab.path(), &["-i", "vc"]);
    assert!(lab.wait_event(T, "bound"), "no lease: {}", cl.log());
    let ipaddr = field(&events(lab.path())[1], "ip").to_string();
    let have = || lab.vc_addresses().contains(&format!("{ipaddr}/24"));
    assert!(wait_until(T, have), "{}", lab.vc_addresses());
    // the server goes, then the cable is pulled and plugged back
    drop(srv);
    lab.s.ip(&["link", "set", "vs", "down"]);
    std::thread::sleep(PULL);
    let replug = Instant::now();
    lab.s.ip(&["link", "set", "vs", "up"]);
    // silence for 6.5 s (the old client deconfigured after 0.5 s): the
    // address stays, checked every 100 ms
    while replug.elapsed() < Duration::from_millis(6500) {
        assert!(
            have(),
            "address gone {:?} after the replug: {:?}\n{}",
            replug.elapsed(),
            events(lab.path()),
            cl.log()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let ev = events(lab.path());
    assert_eq!(ev.len(), 2, "no event during the silence: {ev:?}");
    let log = cl.log();
    let after = &log[log.find("carrier up").expect("carrier up seen")..];
    assert!(after.contains("sent Some(Request)"), "INIT-REBOOT: {log}");
    assert!(
        after.contains("sent Some(Discover)"),
        "DISCOVER fallback: {log}"
    );
    // the server comes back with its lease file: the next DISCOVER (back-off:
    // about 8.5 s after the replug, then 16.5 s) gets the same address again
    let _srv = lab.dnsmasq_with(&range, Some("leases"), &[]);
    assert!(
        wait_for_event(lab.path(), Duration::from_secs(25), |e| e
            .starts_with("renew")),
        "no renewal: {:?}\n{}",
        events(lab.path()),
        cl.log()
    );
    let renewed = replug.elapsed();
    let ev = events(lab.path());
    assert_eq!(ev.len(), 3, "{ev:?}");
    assert_eq!(field(&ev[2], "ip"), ipaddr, "{ev:?}");
    assert!(
        !ev.iter().skip(1).any(|e| e.starts_with("deconfig")),
        "{ev:?}"
    );
    // (the handler logs the event, then flushes and adds the address again)
    assert!(wait_until(T, have), "{}", lab.vc_addresses());
    eprintln!(
        "address kept through {:?} of silence after the replug ({:?} with the pull), renewed {renewed:?} after the replug",
        Duration::from_millis(6500),
        Duration::from_millis(6500) + PULL
    );
}

/// Traffic for the link's server while the cable is out leaves its ARP
/// entry unresolved (INCOMPLETE, then FAILED); once the carrier is back
/// under the lease the client has the kernel forget it, so the next packet
/// asks at once, not at ARP's next retry a second after the last (a
/// router's LAN traffic waited that long for the WAN's gateway).
#[test]
fn a_replug_forgets_the_arp_entries_left_unresolved_with_the_cable_out() {
    let Some(lab) = lab("arpf") else { return };
    let _srv = lab.dnsmasq_with(&default_range(lab.net), Some("leases"), &[]);
    let cl = udhcpc(&lab.c, lab.path(), &["-i", "vc"]);
    assert!(lab.wait_event(T, "bound"), "no lease: {}", cl.log());
    let ipaddr = field(&events(lab.path())[1], "ip").to_string();
    assert!(wait_until(T, || lab
        .vc_addresses()
        .contains(&format!("{ipaddr}/24"))));
    let gw = format!("{}.1", lab.net);
    let unresolved = || {
        let n = lab
            .c
            .output(&["ip", "-4", "neigh", "show", "dev", "vc", "to", &gw]);
        n.contains("INCOMPLETE") || n.contains("FAILED")
    };
    lab.s.ip(&["link", "set", "vs", "down"]);
    assert!(
        wait_until(T, || cl.log().contains("carrier down")),
        "{}",
        cl.log()
    );
    lab.c.output(&["ping", "-c1", "-W0.2", &gw]);
    assert!(unresolved(), "nothing asked for with the cable out");
    lab.s.ip(&["link", "set", "vs", "up"]);
    assert!(
        wait_until(Duration::from_millis(300), || !unresolved()),
        "the entry unresolved with the cable out is still there: {}\n{}",
        lab.c.output(&["ip", "-4", "neigh", "show", "dev", "vc"]),
        cl.log()
    );
    assert!(
        cl.log().contains("unresolved neighbour(s) forgotten"),
        "{}",
        cl.log()
    );
}

/// client --- switch (bridge) --- network A (10.71/24) / network B (10.72/24):
/// a lease from A, then the cable moved to B, whose dnsmasq gets `b_extra`.
/// Returns the replug-to-new-lease time, the events and the client's log.
fn move_cable(tag: &str, b_extra: &[&str]) -> (Duration, Vec<String>, String, bool) {
    let t = TempDir::new(tag);
    let cable = Cable::new(["mc", "mw", "ma", "mb"], t.path(), b_extra);
    let c = &cable.c;
    let cl = udhcpc(c, t.path(), &["-i", "vc"]);
    assert!(
        wait_for_event(t.path(), T, |e| e.starts_with("bound ip=10.71.0.")),
        "{}",
        cl.log()
    );
    assert!(wait_until(T, || addresses(c, "vc").contains("10.71.0.")));
    cable.pull_for_b();
    let t0 = Instant::now();
    cable.plug_in();
    // until the new lease: the box has the old address or the new one,
    // never none (unless a NAK said the old one is wrong here)
    let mut never_without = true;
    let got = wait_until(T, || {
        let a = addresses(c, "vc");
        if !a.contains("10.71.0.") && !a.contains("10.72.0.") {
            never_without = false;
        }
        events(t.path())
            .last()
            .is_some_and(|e| e.starts_with("bound ip=10.72.0."))
    });
    let took = t0.elapsed();
    assert!(got, "no lease from B: {:?}\n{}", events(t.path()), cl.log());
    assert!(
        wait_until(T, || {
            let a = addresses(c, "vc");
            a.contains("10.72.0.") && !a.contains("10.71.0.")
        }),
        "{}",
        addresses(c, "vc")
    );
    (took, events(t.path()), cl.log(), never_without)
}

#[test]
fn cable_moved_to_an_authoritative_network_gets_its_lease_at_once() {
    if !prerequisites() {
        return;
    }
    let (took, ev, log, _) = move_cable("move-auth", &["--dhcp-authoritative"]);
    eprintln!("replug into an authoritative network to new lease: {took:?}\n{log}");
    // B's server NAKs the foreign address: nak, deconfig, then B's lease
    let n = ev.len();
    assert!(n >= 4, "{ev:?}");
    assert!(ev[n - 3].starts_with("nak"), "{ev:?}");
    assert!(ev[n - 2].starts_with("deconfig"), "{ev:?}");
    assert!(
        took < Duration::from_secs(4),
        "new network's lease {took:?} after the replug"
    );
}

#[test]
fn cable_moved_to_a_network_that_ignores_the_old_address_gets_its_lease_by_discover() {
    if !prerequisites() {
        return;
    }
    let (took, ev, log, never_without) = move_cable("move-quiet", &[]);
    eprintln!("replug into a non-authoritative network to new lease: {took:?}\n{log}");
    // B's dnsmasq ignores the REQUEST for 10.71.x; the DISCOVER that goes
    // out a second after the replug gets B's offer. The old address stays
    // until then, and the new lease replaces it: no deconfig, no nak.
    assert_eq!(ev.len(), 3, "deconfig, bound A, bound B: {ev:?}");
    assert!(ev[2].starts_with("bound ip=10.72.0."), "{ev:?}");
    assert!(never_without, "the box was left without an address: {ev:?}");
    let after = &log[log.find("carrier up").expect("carrier up seen")..];
    assert!(after.contains("sent Some(Discover)"), "{log}");
    assert!(
        took < Duration::from_secs(5),
        "new network's lease {took:?} after the replug"
    );
}

// ---- a flood of UDP to port 68 while a renewal is due --------------------

/// The reply of a server that leases 10.77.0.42 for 10 s (T1 5 s): dnsmasq
/// will not lease for less than two minutes.
fn short_lease_reply(m: &Message, t: MsgType) -> Message {
    let mut r = Message::new(BOOTREPLY, m.xid, m.mac());
    r.yiaddr = Ipv4Addr::new(10, 77, 0, 42);
    r.set(opt::MSG_TYPE, vec![t as u8]);
    r.set(opt::SERVER_ID, vec![10, 77, 0, 1]);
    r.set(opt::SUBNET_MASK, vec![255, 255, 255, 0]);
    r.set(opt::LEASE_TIME, 10u32.to_be_bytes().to_vec());
    r
}

/// A thread in namespace `ns` sending UDP to port 68 by broadcast on
/// `iface` as fast as it can, until dropped: every other datagram is noise,
/// the rest BOOTREPLYs for `mac` with wrong xids, which pass the client's
/// packet filter and reach its state machine.
struct Flood {
    sent: Arc<AtomicU64>,
    _worker: Worker,
}

impl Flood {
    fn start(ns: &Netns, iface: &str, mac: [u8; 6]) -> Flood {
        let sent = Arc::new(AtomicU64::new(0));
        let n = sent.clone();
        let ns = ns.0.clone();
        let iface = iface.to_string();
        let worker = Worker::spawn(move |st| {
            let sock = broadcast_socket(&ns, &iface, 0);
            let noise = [0x5au8; 300];
            let mut i: u32 = 0;
            while !st.load(Ordering::Relaxed) {
                i = i.wrapping_add(1);
                let r = if i.is_multiple_of(2) {
                    sock.send_to(&noise, "255.255.255.255:68")
                } else {
                    let mut m = Message::new(BOOTREPLY, i.wrapping_mul(2_654_435_761), mac);
                    m.yiaddr = Ipv4Addr::new(10, 77, 0, 99);
                    m.set(opt::MSG_TYPE, vec![MsgType::Offer as u8]);
                    m.set(opt::SERVER_ID, vec![10, 77, 0, 66]);
                    sock.send_to(&m.encode(), "255.255.255.255:68")
                };
                if r.is_ok() {
                    n.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        Flood {
            sent,
            _worker: worker,
        }
    }
}

/// One flood at a time: two flooding threads and their clients on a
/// two-core machine measure the machine, not the client's loop.
static ONE_FLOOD: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn one_flood() -> std::sync::MutexGuard<'static, ()> {
    ONE_FLOOD.lock().unwrap_or_else(|e| e.into_inner())
}

#[test]
fn a_flood_to_port_68_does_not_delay_the_renewal_or_signals() {
    let _one = one_flood();
    let Some(lab) = lab("flood") else { return };
    let _srv = short_lease_server(&lab);
    let mut cl = udhcpc(&lab.c, lab.path(), &["-i", "vc"]);
    assert!(lab.wait_event(T, "bound"), "{}", cl.log());
    let bound = Instant::now();
    let flood = Flood::start(&lab.s, "vs", mac_of(&lab.c, "vc"));
    // T1 is 5 s after the lease
    assert!(
        wait_for_event(lab.path(), Duration::from_secs(12), |e| e
            .starts_with("renew")),
        "no renewal under the flood ({} datagrams sent): {:?}\n{}",
        flood.sent.load(Ordering::Relaxed),
        events(lab.path()),
        cl.log()
    );
    let renewed = bound.elapsed();
    // signals are still read: SIGTERM ends the client at once
    let stopped = stop_under(&mut cl, "flood");
    let sent = flood.sent.load(Ordering::Relaxed);
    let flood_time = bound.elapsed();
    drop(flood);
    eprintln!(
        "flood: {sent} datagrams in {flood_time:?}; renewed {renewed:?} after the lease (T1 5 s); SIGTERM to exit {stopped:?}"
    );
    // renewed before T2 (8.75 s): the flood fills the socket queues, so
    // the kernel may drop the first RENEW's ACK; the client asks again at
    // half the time left (7.5 s) and keeps its lease either way
    let t1 = Duration::from_millis(4500)..Duration::from_millis(8750);
    let said = "after the lease, T1 is 5 s, the retry 7.5 s, T2 8.75 s";
    assert_unhurried(sent, renewed, t1, said, stopped, &cl.log());
}

/// A flood of `sent` (over 10,000 to count) moved neither the renewal
/// (`renewed`, within `t1`: `said` tells when it is due) nor the exit
/// on SIGTERM (`stopped`, under a second).
fn assert_unhurried(
    sent: u64,
    renewed: Duration,
    t1: std::ops::Range<Duration>,
    said: &str,
    stopped: Duration,
    log: &str,
) {
    assert!(sent > 10_000, "not much of a flood: {sent}");
    assert!(t1.contains(&renewed), "renewal {renewed:?} {said}\n{log}");
    assert!(stopped < Duration::from_secs(1), "{stopped:?}");
}

/// A TestServer in the lab leasing as `short_lease_reply` says.
fn short_lease_server(lab: &Lab) -> TestServer {
    TestServer::start(&lab.s, "vs", short_lease_reply)
}

/// SIGTERM to the client under the `what` flood: it must exit within 5 s;
/// how long it took.
fn stop_under(cl: &mut Daemon, what: &str) -> Duration {
    let term = Instant::now();
    cl.signal(libc::SIGTERM);
    let mut status = None;
    assert!(
        wait_until(Duration::from_secs(5), || {
            status = cl.child.try_wait().unwrap();
            status.is_some()
        }),
        "SIGTERM not handled under the {what}"
    );
    term.elapsed()
}

// ---- ARP floods at a client that checks its address (-a) ----------------

/// The address `short_lease_reply` leases, and its server.
const LEASED: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 42);
const SERVER: Ipv4Addr = Ipv4Addr::new(10, 77, 0, 1);

/// ARP from the server's side at the client `vc`: many hosts of 10.77/16,
/// none of them the leased address or the server's.
fn arp_flood(lab: &Lab) -> ArpFlood {
    let net = Ipv4Addr::new(10, 77, 0, 0);
    ArpFlood::start(
        &lab.s,
        "vs",
        mac_of(&lab.c, "vc"),
        net,
        16,
        &[LEASED, SERVER],
    )
}

/// The lease is still the one it was: `deconfig`, `bound` with LEASED, then
/// only `renew`s of it, and the address on the interface.
fn assert_lease_kept(lab: &Lab, log: &str) {
    let ev = events(lab.path());
    let ip = LEASED.to_string();
    assert!(
        ev.len() >= 2 && ev[1].starts_with("bound") && field(&ev[1], "ip") == ip,
        "{ev:?}\n{log}"
    );
    assert!(
        ev[2..]
            .iter()
            .all(|e| e.starts_with("renew") && field(e, "ip") == ip),
        "the lease was disturbed: {ev:?}\n{log}"
    );
    assert!(
        lab.vc_addresses().contains(&format!("{ip}/24")),
        "{}",
        lab.vc_addresses()
    );
    assert!(!log.contains("in use by another host"), "{log}");
    assert!(!log.contains("sent Some(Decline)"), "{log}");
}

#[test]
fn an_arp_flood_does_not_delay_the_renewal_of_a_checked_lease_or_signals() {
    let _one = one_flood();
    let Some(lab) = lab("arpflood") else { return };
    let _srv = short_lease_server(&lab);
    let mut cl = udhcpc(&lab.c, lab.path(), &["-i", "vc", "-a"]);
    assert!(lab.wait_event(T, "bound"), "{}", cl.log());
    let bound = Instant::now();
    assert!(
        cl.log().contains(&format!("sent ARP probe for {LEASED}")),
        "no ARP check: {}",
        cl.log()
    );
    let flood = arp_flood(&lab);
    // T1 is 5 s after the lease (bound after the check)
    assert!(
        wait_for_event(lab.path(), Duration::from_secs(12), |e| e
            .starts_with("renew")),
        "no renewal under the ARP flood ({} frames sent): {:?}\n{}",
        flood.sent(),
        events(lab.path()),
        cl.log()
    );
    let renewed = bound.elapsed();
    assert_lease_kept(&lab, &cl.log());
    let stopped = stop_under(&mut cl, "ARP flood");
    let sent = flood.sent();
    let flood_time = bound.elapsed();
    drop(flood);
    eprintln!(
        "ARP flood: {sent} frames in {flood_time:?}; renewed {renewed:?} after bound (T1 5 s after the ACK, which came 2 s before bound: the check); SIGTERM to exit {stopped:?}"
    );
    // the lease counts from the ACK, and `bound` comes after the 2 s check:
    // T1 is due 3 s after `bound`
    let t1 = Duration::from_millis(2500)..Duration::from_millis(5000);
    let said = "after bound, T1 is 5 s after the ACK (2 s before bound)";
    assert_unhurried(sent, renewed, t1, said, stopped, &cl.log());
}

#[test]
fn an_arp_flood_during_the_check_is_no_conflict() {
    let _one = one_flood();
    let Some(lab) = lab("arpcheck") else { return };
    let _srv = short_lease_server(&lab);
    // the flood is on before the client starts: its whole check (three
    // probes over 2 s) reads ARP of other addresses
    let flood = arp_flood(&lab);
    let start = Instant::now();
    let cl = udhcpc(&lab.c, lab.path(), &["-i", "vc", "-a"]);
    assert!(
        lab.wait_event(T, "bound"),
        "not bound under the ARP flood ({} frames sent): {:?}\n{}",
        flood.sent(),
        events(lab.path()),
        cl.log()
    );
    let took = start.elapsed();
    let sent = flood.sent();
    drop(flood);
    let log = cl.log();
    assert_eq!(
        log.matches(&format!("sent ARP probe for {LEASED}")).count(),
        3,
        "{log}"
    );
    assert_lease_kept(&lab, &log);
    eprintln!(
        "ARP flood during the check: {sent} frames; bound {took:?} after the start (the check listens 2 s)"
    );
    assert!(sent > 10_000, "not much of a flood: {sent}");
}
