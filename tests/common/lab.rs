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
    netns_prerequisites()
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

/// `Lab::new(tag)` when root, iproute2 and dnsmasq are there; else None,
/// and the test is skipped (or fails in CI: see `require`).
pub fn lab(tag: &str) -> Option<Lab> {
    prerequisites().then(|| Lab::new(tag))
}

/// The range a lab's dnsmasq hands out unless told otherwise: .100 to
/// .150 of the lab's /24, leased for ten minutes.
pub fn default_range(net: &str) -> String {
    format!("{net}.100,{net}.150,255.255.255.0,600")
}

/// The network lab of the DHCP and fw tests: a server namespace whose `vs`
/// has NET.1/24 and is up, a client namespace whose `vc` is up (unless
/// told otherwise), joined by a veth pair, and a temporary directory for
/// the files of servers, clients and handlers. Declare the daemons a test
/// starts after its lab: they go first, then the namespaces, then the
/// directory.
pub struct Lab {
    pub s: Netns,
    pub c: Netns,
    pub dir: TempDir,
    /// The first three numbers of the lab's /24 (`10.77.0`).
    pub net: &'static str,
}

impl Lab {
    /// On 10.77.0.0/24, the client's link up; the directory tagged `tag`.
    pub fn new(tag: &str) -> Lab {
        Lab::on(tag, "10.77.0", true)
    }

    /// On `net`.0/24; the client's `vc` up when `vc_up`, else left down
    /// for the test (its ifplugd) to bring up.
    pub fn on(tag: &str, net: &'static str, vc_up: bool) -> Lab {
        let dir = TempDir::new(tag);
        let (s, c) = (Netns::new("s"), Netns::new("c"));
        veth(&s, "vs", &c, "vc");
        s.ip(&["addr", "add", &format!("{net}.1/24"), "dev", "vs"]);
        s.ip(&["link", "set", "vs", "up"]);
        if vc_up {
            c.ip(&["link", "set", "vc", "up"]);
        }
        Lab { s, c, dir, net }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn join(&self, p: &str) -> PathBuf {
        self.dir.join(p)
    }

    /// dnsmasq on `vs` serving the default range with `extra` options, a
    /// new lease file of its own.
    pub fn dnsmasq(&self, extra: &[&str]) -> Daemon {
        self.dnsmasq_with(&default_range(self.net), None, extra)
    }

    /// dnsmasq on `vs` serving `range`, its lease file as `dnsmasq` says.
    pub fn dnsmasq_with(&self, range: &str, lease_file: Option<&str>, extra: &[&str]) -> Daemon {
        dnsmasq(&self.s, "vs", range, self.path(), lease_file, extra)
    }

    /// Wait up to `t` for a handler event (in the lab's directory) that
    /// starts with `prefix`.
    pub fn wait_event(&self, t: Duration, prefix: &str) -> bool {
        wait_for_event(self.path(), t, |e| e.starts_with(prefix))
    }

    /// The client's IPv4 addresses on `vc`.
    pub fn vc_addresses(&self) -> String {
        addresses(&self.c, "vc")
    }
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
        sw.ip(&["link", "add", "br0", "type", "bridge"]);
        for p in ["pc", "pa", "pb"] {
            sw.ip(&["link", "set", p, "master", "br0"]);
        }
        for p in ["br0", "pc", "pa"] {
            sw.ip(&["link", "set", p, "up"]);
        }
        a.ip(&["addr", "add", "10.71.0.1/24", "dev", "va"]);
        b.ip(&["addr", "add", "10.72.0.1/24", "dev", "vb"]);
        a.ip(&["link", "set", "va", "up"]);
        b.ip(&["link", "set", "vb", "up"]);
        c.ip(&["link", "set", "vc", "up"]);
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
        self.sw.ip(&["link", "set", "pc", "down"]);
        self.sw.ip(&["link", "set", "pa", "down"]);
        self.sw.ip(&["link", "set", "pb", "up"]);
        std::thread::sleep(PULL);
    }

    pub fn plug_in(&self) {
        self.sw.ip(&["link", "set", "pc", "up"]);
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
    pub fn pid(&self) -> i32 {
        self.child.id() as i32
    }
    pub fn signal(&self, sig: i32) {
        unsafe { libc::kill(self.pid(), sig) };
    }
    /// Wait up to `t` for the exit; the exit status when it ended.
    pub fn exited(&mut self, t: Duration) -> Option<std::process::ExitStatus> {
        let mut st = None;
        wait_until(t, || {
            st = self.child.try_wait().ok().flatten();
            st.is_some()
        });
        st
    }
    /// TERM, then wait (bounded) for the exit.
    pub fn stop(&mut self) {
        self.signal(libc::SIGTERM);
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

/// Wait up to `t` for a handler event in `dir` for which `ok` holds.
pub fn wait_for_event(dir: &Path, t: Duration, mut ok: impl FnMut(&str) -> bool) -> bool {
    wait_until(t, || events(dir).iter().any(|e| ok(e)))
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

/// Our native DHCP client (`dhcp`) in `ns`, in the service directory
/// `svc` (made if missing; `dhcp_IF` names the interface): `extra` first,
/// then its ipconf to `fw_dir`, pokes to `fw_service`, its state in
/// `state`; stderr in `log`.
pub fn dhcp(
    ns: &Netns,
    svc: &Path,
    extra: &[&str],
    fw_dir: &Path,
    fw_service: &Path,
    state: &Path,
    log: PathBuf,
) -> Daemon {
    fs::create_dir_all(svc).unwrap();
    let mut dhcp = ns.exec();
    dhcp.arg(applet("dhcp"))
        .args(extra)
        .arg("--fw-dir")
        .arg(fw_dir)
        .arg("--fw-service")
        .arg(fw_service)
        .arg("--state-dir")
        .arg(state)
        .current_dir(svc);
    spawn_logged(&mut dhcp, log)
}

/// `ip -4 -o addr show dev IFACE` in `ns`.
pub fn addresses(ns: &Netns, iface: &str) -> String {
    ns.output(&["ip", "-4", "-o", "addr", "show", "dev", iface])
}

/// `ip -4 route` in `ns`.
pub fn routes(ns: &Netns) -> String {
    ns.output(&["ip", "-4", "route"])
}

/// The directories fw reads in `dir`: `conf` (static ipconf files) and
/// `dyn` (those of the DHCP client).
pub fn fw_dirs(dir: &Path) {
    fs::create_dir_all(dir.join("conf")).unwrap();
    fs::create_dir_all(dir.join("dyn")).unwrap();
}

/// A namespace with two links, `eth0` and `eth1`, each with a peer that
/// is up.
pub fn two_links(tag: &str) -> Netns {
    let n = Netns::new(tag);
    n.veth("eth0", "peer0");
    n.veth("eth1", "peer1");
    n
}

/// Our fw in `ns` on the tree in `dir` (`conf`, `dyn`, `resolv.conf`, `gen`).
pub fn fw(ns: &Netns, dir: &Path) -> (i32, String, String) {
    run(&mut fw_command(ns, dir))
}

/// The command `fw` runs.
pub fn fw_command(ns: &Netns, dir: &Path) -> Command {
    let mut fw = ns.exec();
    fw.arg(applet("fw"))
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
        .current_dir(dir);
    fw
}

/// runsvdir over `tree` in namespace `ns`, stderr in `console`, `$SVDIR`
/// set to the tree when `svdir`: stopped (with its services) when dropped.
pub fn runsvdir_in(ns: &Netns, tree: &Path, console: &Path, svdir: bool) -> TreeGuard {
    let mut rsd = ns.exec();
    rsd.arg(applet("runsvdir")).arg(tree);
    if svdir {
        rsd.env("SVDIR", tree);
    }
    let child = rsd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(fs::File::create(console).unwrap())
        .spawn()
        .unwrap();
    TreeGuard {
        child,
        tree: tree.to_path_buf(),
    }
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

/// A thread of the test that runs until dropped: its body gets a flag that
/// is set when the Worker is dropped, and must return soon after; the drop
/// waits for it.
pub struct Worker {
    stop: Arc<AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    pub fn spawn(body: impl FnOnce(Arc<AtomicBool>) + Send + 'static) -> Worker {
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let handle = std::thread::spawn(move || body(flag));
        Worker {
            stop,
            handle: Some(handle),
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// A DHCP server written here, for what dnsmasq will not do: answers
/// DISCOVER and REQUEST from a thread inside namespace `ns`, by broadcast
/// on `iface`, with replies built by `reply`; stops answering when `quiet`
/// is set, and ends when dropped.
pub struct TestServer {
    pub quiet: Arc<AtomicBool>,
    _worker: Worker,
}

impl TestServer {
    pub fn start(ns: &Netns, iface: &str, reply: fn(&Message, MsgType) -> Message) -> TestServer {
        let quiet = Arc::new(AtomicBool::new(false));
        let qt = quiet.clone();
        let ns = ns.0.clone();
        let iface = iface.to_string();
        let (tx, rx) = std::sync::mpsc::channel();
        let worker = Worker::spawn(move |st| {
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
            quiet,
            _worker: worker,
        }
    }
}

/// The MAC address of `iface` in `ns`.
pub fn mac_of(ns: &Netns, iface: &str) -> [u8; 6] {
    let text = ns.output(&["ip", "-o", "link", "show", iface]);
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
    sent: Arc<std::sync::atomic::AtomicU64>,
    _worker: Worker,
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
        let sent = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let n = sent.clone();
        let ns = ns.0.clone();
        let iface = iface.to_string();
        let spare = spare.to_vec();
        let (tx, rx) = std::sync::mpsc::channel();
        let worker = Worker::spawn(move |st| {
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
            sent,
            _worker: worker,
        }
    }

    /// Frames sent so far.
    pub fn sent(&self) -> u64 {
        self.sent.load(Ordering::Relaxed)
    }
}

/// A TCP server in python3 on ADDR PORT that tells each client its address
/// (`peer=ADDR`), so a test sees what NAT made of it.
pub const TELL_PEER: &str = r#"
import socket, sys
a = sys.argv[1]
s = socket.socket(socket.AF_INET6 if ':' in a else socket.AF_INET)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind((a, int(sys.argv[2])))
s.listen(8)
while True:
    c, p = s.accept()
    c.sendall(('peer=%s\n' % p[0]).encode())
    c.close()
"#;

/// A TCP client in python3: connects to ADDR PORT within SEC seconds and
/// prints what it hears, or the error's name (`timeout`, `ConnectionRefusedError`).
pub const CONNECT: &str = r#"
import socket, sys
try:
    c = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=float(sys.argv[3]))
    print(c.recv(200).decode().strip())
except Exception as e:
    print('failed=%s' % type(e).__name__)
"#;

/// A python3 TCP server (TELL_PEER) in `ns` on ADDR PORT, once it listens;
/// its stderr in `dir`.
pub fn tell_peer(ns: &Netns, addr: &str, port: u16, dir: &Path) -> Daemon {
    let mut cmd = ns.exec();
    cmd.args(["python3", "-c", TELL_PEER, addr, &port.to_string()]);
    let d = spawn_logged(&mut cmd, dir.join(format!("serve-{addr}-{port}.log")));
    let listening = wait_until(T, || {
        ns.output(&["ss", "-tln"]).contains(&format!(":{port} "))
    });
    assert!(listening, "no server on {addr} port {port}: {}", d.log());
    d
}

/// From `ns`, connect to ADDR PORT within `secs` seconds (CONNECT): what
/// the server said (`peer=ADDR`) or `failed=REASON` (`failed=timeout`).
pub fn connect(ns: &Netns, addr: &str, port: u16, secs: u32) -> String {
    ns.output(&[
        "python3",
        "-c",
        CONNECT,
        addr,
        &port.to_string(),
        &secs.to_string(),
    ])
    .trim()
    .to_string()
}
