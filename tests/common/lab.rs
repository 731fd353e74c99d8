//! The DHCP lab shared by the network tests: network namespaces joined by
//! veth pairs, dnsmasq as the server (or a small server written here), the
//! clients as children that are killed when dropped, and BusyBox-style
//! handler scripts whose events the tests read back.

use super::*;
use netsvc::dhcp::msg::{Message, MsgType};
use std::net::UdpSocket;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

/// How long the lab waits for a server to start or a daemon to stop.
const T: Duration = Duration::from_secs(15);

/// Root, iproute2 and dnsmasq.
pub fn prerequisites() -> bool {
    require("root (network namespaces)", is_root())
        && require("ip (iproute2)", have_ip())
        && require(
            "dnsmasq (Debian dnsmasq-base)",
            have_program("/usr/sbin/dnsmasq"),
        )
}

/// A veth pair: `a` in namespace `na`, `b` in `nb`.
pub fn veth(na: &Netns, a: &str, nb: &Netns, b: &str) {
    ip(&[
        "link", "add", a, "netns", &na.0, "type", "veth", "peer", "name", b, "netns", &nb.0,
    ]);
}

/// Server namespace (tagged `server`) with `vs` 10.77.0.1/24 up, client
/// namespace (tagged `client`) with `vc` up, joined by a veth pair.
pub fn server_client(server: &str, client: &str) -> (Netns, Netns) {
    let (s, c) = (Netns::new(server), Netns::new(client));
    veth(&s, "vs", &c, "vc");
    ip(&["-n", &s.0, "addr", "add", "10.77.0.1/24", "dev", "vs"]);
    ip(&["-n", &s.0, "link", "set", "vs", "up"]);
    ip(&["-n", &c.0, "link", "set", "vc", "up"]);
    (s, c)
}

/// Out for a moment, as a hand moves a cable (the kernel reports carrier
/// changes of one device at most once a second: a shorter pull is seen late).
pub const PULL: Duration = Duration::from_millis(1200);

/// client `c` (`vc`) --- switch `sw` (bridge `br0`: ports `pc`, `pa`,
/// `pb`) --- network A in `a` (`va` 10.71.0.1/24) / network B in `b`
/// (`vb` 10.72.0.1/24), each with a dnsmasq (leases for an hour; B's with
/// `b_extra`). The cable is in A's port: `pb` is down.
pub struct Cable {
    // the servers go before their namespaces
    pub da: Daemon,
    pub db: Daemon,
    pub c: Netns,
    pub sw: Netns,
    pub a: Netns,
    pub b: Netns,
}

impl Cable {
    /// New namespaces tagged `tags` (client, switch, A, B); the servers'
    /// files in `dir`.
    pub fn new(tags: [&str; 4], dir: &Path, b_extra: &[&str]) -> Cable {
        let [c, sw, a, b] = tags.map(Netns::new);
        veth(&c, "vc", &sw, "pc");
        veth(&a, "va", &sw, "pa");
        veth(&b, "vb", &sw, "pb");
        ip(&["-n", &sw.0, "link", "add", "br0", "type", "bridge"]);
        for p in ["pc", "pa", "pb"] {
            ip(&["-n", &sw.0, "link", "set", p, "master", "br0"]);
        }
        for p in ["br0", "pc", "pa"] {
            ip(&["-n", &sw.0, "link", "set", p, "up"]);
        }
        ip(&["-n", &a.0, "addr", "add", "10.71.0.1/24", "dev", "va"]);
        ip(&["-n", &b.0, "addr", "add", "10.72.0.1/24", "dev", "vb"]);
        ip(&["-n", &a.0, "link", "set", "va", "up"]);
        ip(&["-n", &b.0, "link", "set", "vb", "up"]);
        ip(&["-n", &c.0, "link", "set", "vc", "up"]);
        let da = dnsmasq(
            &a,
            "va",
            "10.71.0.100,10.71.0.150,255.255.255.0,3600",
            dir,
            Some("leases-a"),
            &[],
        );
        let db = dnsmasq(
            &b,
            "vb",
            "10.72.0.100,10.72.0.150,255.255.255.0,3600",
            dir,
            Some("leases-b"),
            b_extra,
        );
        Cable {
            da,
            db,
            c,
            sw,
            a,
            b,
        }
    }

    /// Pull the cable from A's port and hold it out for PULL before B's
    /// port: `plug_in` puts it in.
    pub fn pull_for_b(&self) {
        ip(&["-n", &self.sw.0, "link", "set", "pc", "down"]);
        ip(&["-n", &self.sw.0, "link", "set", "pa", "down"]);
        ip(&["-n", &self.sw.0, "link", "set", "pb", "up"]);
        std::thread::sleep(PULL);
    }

    pub fn plug_in(&self) {
        ip(&["-n", &self.sw.0, "link", "set", "pc", "up"]);
    }
}

/// A child the test started, killed and reaped when dropped; stderr in `log`.
pub struct Daemon {
    pub child: Child,
    pub log: PathBuf,
}

impl Daemon {
    pub fn log(&self) -> String {
        fs::read_to_string(&self.log).unwrap_or_default()
    }
    /// TERM, then wait (bounded) for the exit.
    pub fn stop(&mut self) {
        unsafe { libc::kill(self.child.id() as i32, libc::SIGTERM) };
        let done = wait_until(T, || matches!(self.child.try_wait(), Ok(Some(_))));
        assert!(done, "{} did not stop", self.log.display());
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Spawn `cmd` with stdin and stdout on /dev/null and stderr in `log`.
pub fn spawn_logged(cmd: &mut Command, log: PathBuf) -> Daemon {
    let child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(&log).unwrap())
        .spawn()
        .unwrap();
    Daemon { child, log }
}

/// dnsmasq in `ns` serving `range` on `iface`, with `extra` options, once
/// it says "DHCP, sockets bound". Its lease file is `dir/lease_file` (kept
/// across restarts, so that a restarted server knows its leases), or a new
/// `leases-N` for each server when `None`.
pub fn dnsmasq(
    ns: &Netns,
    iface: &str,
    range: &str,
    dir: &Path,
    lease_file: Option<&str>,
    extra: &[&str],
) -> Daemon {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let log = dir.join(format!("dnsmasq-{n}.log"));
    let leases = match lease_file {
        Some(f) => dir.join(f),
        None => dir.join(format!("leases-{n}")),
    };
    let mut dnsmasq = ns.exec();
    let cmd = dnsmasq
        .args([
            "/usr/sbin/dnsmasq",
            "--no-daemon",
            "--port=0",
            "--bind-interfaces",
            "--no-ping",
            "--log-dhcp",
        ])
        .arg(format!("--interface={iface}"))
        .arg(format!("--dhcp-range={range}"))
        .arg(format!("--dhcp-leasefile={}", leases.display()))
        .arg(format!(
            "--pid-file={}",
            dir.join(format!("dnsmasq-{n}.pid")).display()
        ))
        .args(extra);
    let d = spawn_logged(cmd, log);
    assert!(
        wait_until(T, || d.log().contains("DHCP, sockets bound")),
        "dnsmasq did not start: {}",
        d.log()
    );
    d
}

/// A BusyBox-style handler `dir/handler`: logs each event to `dir/events`
/// with the variables `fields` of its environment (`bound ip=... mask=...`)
/// and configures the interface as the usual default.script does, except
/// that a new address is added before the old ones go: with flush-then-add
/// the tests' address watch caught the gap between the two commands.
pub fn handler(dir: &Path, fields: &[&str]) -> PathBuf {
    let p = dir.join("handler");
    let vars: String = fields.iter().map(|f| format!(" {f}=${f}")).collect();
    script(
        &p,
        &format!(
            "echo \"$1{vars}\" >> {log}\n\
             case $1 in\n\
             deconfig) ip addr flush dev $interface ;;\n\
             bound|renew) ip addr add $ip/$mask broadcast $broadcast dev $interface 2>/dev/null\n\
               for a in $(ip -4 -o addr show dev $interface | awk '{{print $4}}'); do\n\
                 [ \"$a\" = \"$ip/$mask\" ] || ip addr del $a dev $interface; done ;;\n\
             esac",
            log = dir.join("events").display()
        ),
    );
    p
}

/// The events the handler logged, one a line.
pub fn events(dir: &Path) -> Vec<String> {
    fs::read_to_string(dir.join("events"))
        .unwrap_or_default()
        .lines()
        .map(String::from)
        .collect()
}

/// The value of `key` in an event line, or "".
pub fn field<'a>(event: &'a str, key: &str) -> &'a str {
    event
        .split(' ')
        .find_map(|kv| kv.strip_prefix(&format!("{key}=")))
        .unwrap_or("")
}

/// Our udhcpc in `ns` in the foreground (`-f`, then `flags`) with
/// `handler`, its state in `dir/state`, stderr in `dir/udhcpc.log`.
pub fn udhcpc(ns: &Netns, dir: &Path, flags: &[&str], handler: &Path, args: &[&str]) -> Daemon {
    let mut udhcpc = ns.exec();
    udhcpc
        .arg(applet("udhcpc"))
        .arg("-f")
        .args(flags)
        .arg("-s")
        .arg(handler)
        .arg("--state-dir")
        .arg(dir.join("state"))
        .args(args);
    spawn_logged(&mut udhcpc, dir.join("udhcpc.log"))
}

/// `ip -4 -o addr show dev IFACE` in `ns`.
pub fn addresses(ns: &Netns, iface: &str) -> String {
    let out = ns
        .exec()
        .args(["ip", "-4", "-o", "addr", "show", "dev", iface])
        .output()
        .unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Our fw in `ns` on the tree in `dir` (`conf`, `dyn`, `resolv.conf`, `gen`).
pub fn fw(ns: &Netns, dir: &Path) -> (i32, String, String) {
    run(ns
        .exec()
        .arg(applet("fw"))
        .arg("--conf")
        .arg(dir.join("conf"))
        .arg("--dynamic")
        .arg(dir.join("dyn"))
        .arg("--run-dir")
        .arg(dir)
        .arg("--resolv-conf")
        .arg(dir.join("resolv.conf"))
        .arg("--etc")
        .arg(dir.join("gen"))
        .current_dir(dir))
}

/// Enter namespace `ns` on this thread (setns is per thread).
pub fn enter(ns: &str) {
    let f = fs::File::open(format!("/run/netns/{ns}")).unwrap();
    assert_eq!(
        unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) },
        0,
        "setns"
    );
}

/// A UDP socket on `port` in namespace `ns` (which this thread enters),
/// bound to `iface`, that may send broadcasts.
pub fn broadcast_socket(ns: &str, iface: &str, port: u16) -> UdpSocket {
    enter(ns);
    let sock = UdpSocket::bind(("0.0.0.0", port)).unwrap();
    sock.set_broadcast(true).unwrap();
    bind_to_device(&sock, iface);
    sock
}

pub fn bind_to_device(sock: &UdpSocket, iface: &str) {
    unsafe {
        libc::setsockopt(
            sock.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            iface.as_ptr().cast(),
            iface.len() as u32,
        )
    };
}

/// A DHCP server written here, for what dnsmasq will not do: answers
/// DISCOVER and REQUEST from a thread inside namespace `ns`, by broadcast
/// on `iface`, with replies built by `reply`; stops answering when `quiet`
/// is set, and ends when dropped.
pub struct TestServer {
    stop: Arc<AtomicBool>,
    pub quiet: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl TestServer {
    pub fn start(ns: &Netns, iface: &str, reply: fn(&Message, MsgType) -> Message) -> TestServer {
        let stop = Arc::new(AtomicBool::new(false));
        let quiet = Arc::new(AtomicBool::new(false));
        let (st, qt) = (stop.clone(), quiet.clone());
        let ns = ns.0.clone();
        let iface = iface.to_string();
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            let sock = broadcast_socket(&ns, &iface, 67);
            sock.set_read_timeout(Some(Duration::from_millis(100)))
                .unwrap();
            tx.send(()).unwrap();
            let mut buf = [0u8; 1500];
            while !st.load(Ordering::SeqCst) {
                let Ok((n, _)) = sock.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(m) = Message::decode(&buf[..n]) else {
                    continue;
                };
                if qt.load(Ordering::SeqCst) {
                    continue;
                }
                let t = match m.msg_type() {
                    Some(MsgType::Discover) => MsgType::Offer,
                    Some(MsgType::Request) => MsgType::Ack,
                    _ => continue,
                };
                let r = reply(&m, t);
                let _ = sock.send_to(&r.encode(), "255.255.255.255:68");
            }
        });
        rx.recv_timeout(T).expect("test server did not start");
        TestServer {
            stop,
            quiet,
            handle: Some(handle),
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// The MAC address of `iface` in `ns`.
pub fn mac_of(ns: &Netns, iface: &str) -> [u8; 6] {
    let out = ns
        .exec()
        .args(["ip", "-o", "link", "show", iface])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let hex = text
        .split_whitespace()
        .skip_while(|w| *w != "link/ether")
        .nth(1)
        .unwrap_or_else(|| panic!("no MAC in {text}"));
    let mut mac = [0u8; 6];
    for (m, h) in mac.iter_mut().zip(hex.split(':')) {
        *m = u8::from_str_radix(h, 16).unwrap();
    }
    mac
}

/// A thread in namespace `ns` writing raw Ethernet ARP frames out of
/// `iface` as fast as it can, until dropped: the traffic of a crowd of
/// other hosts. In turn who-has requests, RFC 5227 probes (sender 0.0.0.0)
/// and gratuitous announcements by broadcast, and replies sent to `to`;
/// each from a new random MAC, with addresses random in `net`/`prefix` but
/// never one of `spare` (nor the subnet's first and last): none is about
/// the addresses the daemon under test holds or checks, so none is a
/// conflict.
pub struct ArpFlood {
    stop: Arc<AtomicBool>,
    sent: Arc<std::sync::atomic::AtomicU64>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl ArpFlood {
    pub fn start(
        ns: &Netns,
        iface: &str,
        to: [u8; 6],
        net: std::net::Ipv4Addr,
        prefix: u32,
        spare: &[std::net::Ipv4Addr],
    ) -> ArpFlood {
        use std::net::Ipv4Addr;
        use std::os::fd::FromRawFd;
        let stop = Arc::new(AtomicBool::new(false));
        let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let (st, n) = (stop.clone(), sent.clone());
        let ns = ns.0.clone();
        let iface = iface.to_string();
        let spare = spare.to_vec();
        let (tx, rx) = std::sync::mpsc::channel();
        let handle = std::thread::spawn(move || {
            enter(&ns);
            const ETH_P_ARP: u16 = 0x0806;
            // SAFETY: plain socket calls; the descriptor is owned at once.
            let fd = unsafe {
                let fd = libc::socket(
                    libc::AF_PACKET,
                    libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                    ETH_P_ARP.to_be() as i32,
                );
                assert!(
                    fd >= 0,
                    "packet socket: {}",
                    std::io::Error::last_os_error()
                );
                std::os::fd::OwnedFd::from_raw_fd(fd)
            };
            let name = std::ffi::CString::new(iface.clone()).unwrap();
            let index = unsafe { libc::if_nametoindex(name.as_ptr()) } as i32;
            assert!(index > 0, "no {iface} in {ns}");
            tx.send(()).unwrap();
            let mut rng = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
                | 1;
            let mut next = move || {
                rng ^= rng << 13;
                rng ^= rng >> 7;
                rng ^= rng << 17;
                rng
            };
            let host_mask = u32::MAX >> prefix;
            let base = u32::from(net) & !host_mask;
            let mut frame = [0u8; 60];
            let mut i: u64 = 0;
            while !st.load(Ordering::Relaxed) {
                i += 1;
                let r = next();
                // a locally administered unicast MAC
                let mut mac = [0u8; 6];
                mac.copy_from_slice(&r.to_be_bytes()[..6]);
                mac[0] = (mac[0] & 0xfc) | 0x02;
                let mut addr = || loop {
                    let h = next() as u32 & host_mask;
                    let a = Ipv4Addr::from(base | h);
                    if h != 0 && h != host_mask && !spare.contains(&a) {
                        return a;
                    }
                };
                let (op, dst, sender, target) = match i % 4 {
                    0 => (1u16, [0xff; 6], addr(), addr()),
                    1 => (1, [0xff; 6], Ipv4Addr::UNSPECIFIED, addr()),
                    2 => {
                        let a = addr();
                        (1, [0xff; 6], a, a)
                    }
                    _ => (2, to, addr(), addr()),
                };
                frame[0..6].copy_from_slice(&dst);
                frame[6..12].copy_from_slice(&mac);
                frame[12..14].copy_from_slice(&ETH_P_ARP.to_be_bytes());
                frame[14..22].copy_from_slice(&[0, 1, 8, 0, 6, 4, 0, op as u8]);
                frame[22..28].copy_from_slice(&mac);
                frame[28..32].copy_from_slice(&sender.octets());
                frame[32..38].copy_from_slice(if op == 2 { &to } else { &[0; 6] });
                frame[38..42].copy_from_slice(&target.octets());
                // SAFETY: valid buffer and address.
                let r = unsafe {
                    let mut sa: libc::sockaddr_ll = std::mem::zeroed();
                    sa.sll_family = libc::AF_PACKET as u16;
                    sa.sll_protocol = ETH_P_ARP.to_be();
                    sa.sll_ifindex = index;
                    sa.sll_halen = 6;
                    sa.sll_addr[..6].copy_from_slice(&dst);
                    libc::sendto(
                        fd.as_raw_fd(),
                        frame.as_ptr().cast(),
                        frame.len(),
                        0,
                        (&sa as *const libc::sockaddr_ll).cast(),
                        std::mem::size_of::<libc::sockaddr_ll>() as u32,
                    )
                };
                if r > 0 {
                    n.fetch_add(1, Ordering::Relaxed);
                }
            }
        });
        rx.recv_timeout(T).expect("ARP flood did not start");
        ArpFlood {
            stop,
            sent,
            handle: Some(handle),
        }
    }

    /// Frames sent so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

impl Drop for ArpFlood {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}
