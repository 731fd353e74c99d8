//! `udhcpc`: the DHCP client with BusyBox's command line and handler-script
//! protocol (`deconfig`, `bound`, `renew`, `nak`, `leasefail`; lease values
//! in the environment only). One poll loop over a packet socket (before the
//! interface has an address), a UDP socket (unicast renewals), a netlink
//! socket (carrier), a signalfd and, during the `-a` check only, an ARP
//! packet socket; the decisions, the ARP check's included, are
//! `client::Client`'s. Each poll round reads at most `BUDGET` messages from
//! each socket before it looks at signals and deadlines again, so a host
//! flooding port 68 or ARP cannot starve them.

use super::client::{Action, Client, Config, Dest, Event, State};
use super::frame;
use super::lease::Lease;
use super::msg::{opt, Message};
use crate::netlink::Netlink;
use crate::packet::{self, ETH_P_ARP, ETH_P_IP};
use common::errtext::describe;
use common::fsutil::atomic_write;
use common::out;
use common::poll::PollSet;
use common::sig::{self, SignalFd};
use std::ffi::OsString;
use std::io;
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

const PROG: &str = "udhcpc";
/// Messages read from one socket per poll round (netsvc's one limit).
const BUDGET: usize = crate::MAX_READS_PER_ROUND;
const DEFAULT_SCRIPT: &str = "/usr/share/udhcpc/default.script";

#[derive(Debug, Clone)]
pub struct Options {
    pub interface: String,
    pub script: String,
    pub pidfile: Option<PathBuf>,
    pub foreground: bool,
    pub background: bool,
    pub quit: bool,
    pub now: bool,
    pub tries: u32,
    pub timeout: Option<u64>,
    pub pause: u64,
    pub release: bool,
    pub request: Option<Ipv4Addr>,
    pub hostname: Option<String>,
    pub vendor: Option<String>,
    pub extra: Vec<(u8, Vec<u8>)>,
    pub params: Vec<u8>,
    pub no_client_id: bool,
    pub arp: bool,
    /// how long the ARP check listens for an owner (`-a[MSEC]`, BusyBox: 2000)
    pub arp_wait: Duration,
    pub verbose: bool,
    pub no_classless: bool,
    pub broadcast_flag: bool,
    pub state_dir: PathBuf,
    /// Native mode: files and fw instead of a script.
    pub native: Option<super::native::Native>,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            interface: "eth0".into(),
            script: DEFAULT_SCRIPT.into(),
            pidfile: None,
            foreground: false,
            background: false,
            quit: false,
            now: false,
            tries: 3,
            timeout: None,
            pause: 20,
            release: false,
            request: None,
            hostname: None,
            vendor: None,
            extra: Vec::new(),
            params: Vec::new(),
            no_client_id: false,
            arp: false,
            arp_wait: Duration::from_millis(2000),
            verbose: false,
            no_classless: false,
            broadcast_flag: false,
            state_dir: PathBuf::from("/var/lib/ferrite/dhcp"),
            native: None,
        }
    }
}

/// Option names that `-x NAME:VALUE` and `-O NAME` accept (BusyBox's).
fn option_code(name: &str) -> Option<u8> {
    if let Some(hex) = name.strip_prefix("0x") {
        return u8::from_str_radix(hex, 16).ok();
    }
    if let Ok(n) = name.parse::<u8>() {
        return Some(n);
    }
    Some(match name {
        "subnet" => opt::SUBNET_MASK,
        "router" => opt::ROUTER,
        "dns" => opt::DNS,
        "hostname" => opt::HOSTNAME,
        "domain" => opt::DOMAIN_NAME,
        "mtu" => opt::MTU,
        "broadcast" => opt::BROADCAST,
        "ntpsrv" => opt::NTP,
        "lease" => opt::LEASE_TIME,
        "serverid" => opt::SERVER_ID,
        "message" => opt::MESSAGE,
        "vendor" => opt::VENDOR_CLASS,
        "clientid" => opt::CLIENT_ID,
        "fqdn" => opt::FQDN,
        "search" => opt::DOMAIN_SEARCH,
        "staticroutes" => opt::CLASSLESS_ROUTES,
        _ => return None,
    })
}

/// `-x OPT:VAL`: names take text (or a number for `lease`), numbers take hex.
pub fn parse_x(spec: &str) -> Result<(u8, Vec<u8>), String> {
    let (name, val) = spec
        .split_once(':')
        .ok_or(format!("-x {spec}: want OPT:VAL"))?;
    let code = option_code(name).ok_or(format!("-x {spec}: unknown option {name}"))?;
    let data = if name.starts_with("0x") || name.parse::<u8>().is_ok() {
        let clean: String = val.chars().filter(|c| c.is_ascii_hexdigit()).collect();
        if !clean.len().is_multiple_of(2) || clean.is_empty() {
            return Err(format!("-x {spec}: value must be hex bytes"));
        }
        (0..clean.len() / 2)
            .map(|i| u8::from_str_radix(&clean[2 * i..2 * i + 2], 16).map_err(|e| e.to_string()))
            .collect::<Result<Vec<u8>, String>>()?
    } else if code == opt::LEASE_TIME {
        val.parse::<u32>()
            .map_err(|_| format!("-x {spec}: not a number"))?
            .to_be_bytes()
            .to_vec()
    } else {
        val.as_bytes().to_vec()
    };
    Ok((code, data))
}

/// BusyBox udhcpc's command line (short and long forms).
pub fn parse_args(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut i = 0;
    while i < args.len() {
        let a = args[i].clone();
        // --long=value and --long value
        let (key, inline): (String, Option<String>) = match a.split_once('=') {
            Some((k, v)) if a.starts_with("--") => (k.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let value = |i: &mut usize| -> Result<String, String> {
            if let Some(v) = inline.clone() {
                return Ok(v);
            }
            *i += 1;
            args.get(*i)
                .cloned()
                .ok_or(format!("option {key} needs a value"))
        };
        // short options may be glued: -fq, -i eth0, -ieth0, -t3
        if !key.starts_with("--") && key.starts_with('-') && key.chars().count() > 2 {
            // Characters, not byte offsets: `-é` is an unknown option, not an abort.
            let mut chars = key.chars();
            chars.next();
            let Some(first) = chars.next() else {
                unreachable!("more than two characters")
            };
            let rest = chars.as_str();
            const FLAGS: &str = "fbqnRvCSoaB";
            if FLAGS.contains(first) && rest.chars().all(|x| FLAGS.contains(x)) {
                for ch in key.chars().skip(1) {
                    args_flag(&mut o, ch)?;
                }
                i += 1;
                continue;
            }
            // -ieth0 style
            let mut name = [0u8; 4];
            apply_valued(&mut o, first.encode_utf8(&mut name), rest.to_string())?;
            i += 1;
            continue;
        }
        match key.as_str() {
            "-i" | "--interface" => o.interface = value(&mut i)?,
            "-s" | "--script" => o.script = value(&mut i)?,
            "-p" | "--pidfile" => o.pidfile = Some(PathBuf::from(value(&mut i)?)),
            "-t" | "--retries" => apply_valued(&mut o, "t", value(&mut i)?)?,
            "-T" | "--timeout" => apply_valued(&mut o, "T", value(&mut i)?)?,
            "-A" | "--tryagain" => apply_valued(&mut o, "A", value(&mut i)?)?,
            "-r" | "--request" => apply_valued(&mut o, "r", value(&mut i)?)?,
            "-x" => apply_valued(&mut o, "x", value(&mut i)?)?,
            "-O" | "--request-option" => apply_valued(&mut o, "O", value(&mut i)?)?,
            "-V" | "--vendorclass" => o.vendor = Some(value(&mut i)?),
            "-H" | "-h" | "--hostname" => apply_valued(&mut o, "H", value(&mut i)?)?,
            "-F" | "--fqdn" => {
                let v = value(&mut i)?;
                let mut d = vec![0x01, 0, 0];
                d.extend_from_slice(v.as_bytes());
                o.extra.push((opt::FQDN, d));
            }
            "--state-dir" => o.state_dir = PathBuf::from(value(&mut i)?),
            "--no-classless-routes" => o.no_classless = true,
            "--foreground" => o.foreground = true,
            "--background" => o.background = true,
            "--quit" => o.quit = true,
            "--now" => o.now = true,
            "--release" => o.release = true,
            "--clientid-none" => o.no_client_id = true,
            "--arping" => match inline.clone() {
                Some(v) => apply_valued(&mut o, "a", v)?,
                None => o.arp = true,
            },
            "--verbose" => o.verbose = true,
            "--broadcast" => o.broadcast_flag = true,
            "--syslog" | "--no-default-options" => {}
            k if k.starts_with('-') && k.chars().count() == 2 => {
                args_flag(&mut o, k.chars().nth(1).unwrap_or('?'))?
            }
            _ => return Err(format!("unknown argument {a}")),
        }
        i += 1;
    }
    Ok(o)
}

fn args_flag(o: &mut Options, c: char) -> Result<(), String> {
    match c {
        'f' => o.foreground = true,
        'b' => o.background = true,
        'q' => o.quit = true,
        'n' => o.now = true,
        'R' => o.release = true,
        'v' => o.verbose = true,
        'C' => o.no_client_id = true,
        'a' => o.arp = true,
        'B' => o.broadcast_flag = true,
        'S' | 'o' => {}
        _ => return Err(format!("unknown option -{c}")),
    }
    Ok(())
}

fn apply_valued(o: &mut Options, c: &str, v: String) -> Result<(), String> {
    // Every number has a range, so no deadline computed from it can overflow.
    let num = |v: &str, lo: u64, hi: u64, unit: &str| {
        let out_of_range = || format!("-{c}: {v} is out of range ({lo} to {hi}{unit})");
        let digits = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit());
        match v.parse::<u64>() {
            Ok(n) if (lo..=hi).contains(&n) => Ok(n),
            _ if digits => Err(out_of_range()),
            _ => Err(format!("-{c}: not a number: {v}")),
        }
    };
    match c {
        "i" => o.interface = v,
        "s" => o.script = v,
        "p" => o.pidfile = Some(PathBuf::from(v)),
        "t" => o.tries = num(&v, 1, 1000, "")? as u32,
        "T" => o.timeout = Some(num(&v, 1, 3600, " s")?),
        "A" => o.pause = num(&v, 0, 86_400, " s")?,
        "a" => {
            o.arp = true;
            o.arp_wait = Duration::from_millis(num(&v, 100, 60_000, " ms")?);
        }
        "r" => o.request = Some(v.parse().map_err(|_| format!("-r: not an address: {v}"))?),
        "x" => {
            let (code, data) = parse_x(&v)?;
            if code == opt::HOSTNAME {
                o.hostname = Some(String::from_utf8_lossy(&data).into_owned());
            } else {
                o.extra.push((code, data));
            }
        }
        "O" => o
            .params
            .push(option_code(&v).ok_or(format!("-O: unknown option {v}"))?),
        "V" => o.vendor = Some(v),
        // `--hostname=null`, as old run scripts pass it, sends no host name
        "H" => o.hostname = (v != "null" && !v.is_empty()).then_some(v),
        _ => return Err(format!("unknown option -{c}")),
    }
    Ok(())
}

fn usage() -> i32 {
    out::err(
        "usage: udhcpc [-fbqnRvCB] [-a[MSEC]] [-i IFACE] [-s PROG] [-p PIDFILE] [-t N] [-T SEC] [-A SEC]\n\
         \x20             [-r IP] [-x OPT:VAL]... [-O OPT]... [-V VENDOR] [-H|--hostname NAME]\n",
    );
    1
}

/// Ask for PACKET_AUXDATA, which says whether a packet's checksum is final.
fn enable_auxdata(fd: RawFd) {
    let one: libc::c_int = 1;
    // SAFETY: valid option value.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_PACKET,
            libc::PACKET_AUXDATA,
            (&one as *const i32).cast(),
            4,
        )
    };
}

/// Receive one packet; returns its length and whether its checksum is ready.
fn recv_packet(fd: RawFd, buf: &mut [u8]) -> Option<(usize, bool)> {
    const TP_STATUS_CSUMNOTREADY: u32 = 1 << 3;
    let mut cbuf = [0u64; 16];
    let mut iov = libc::iovec {
        iov_base: buf.as_mut_ptr().cast(),
        iov_len: buf.len(),
    };
    // SAFETY: msghdr points at valid buffers for the call; cmsg walking uses libc's macros.
    unsafe {
        let mut msg: libc::msghdr = std::mem::zeroed();
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        msg.msg_control = cbuf.as_mut_ptr().cast();
        msg.msg_controllen = std::mem::size_of_val(&cbuf) as _;
        let n = libc::recvmsg(fd, &mut msg, 0);
        if n <= 0 {
            return None;
        }
        let mut ready = true;
        let mut c = libc::CMSG_FIRSTHDR(&msg);
        while !c.is_null() {
            if (*c).cmsg_level == libc::SOL_PACKET && (*c).cmsg_type == libc::PACKET_AUXDATA {
                let aux =
                    std::ptr::read_unaligned(libc::CMSG_DATA(c) as *const libc::tpacket_auxdata);
                if aux.tp_status & TP_STATUS_CSUMNOTREADY != 0 {
                    ready = false;
                }
            }
            c = libc::CMSG_NXTHDR(&msg, c);
        }
        Some((n as usize, ready))
    }
}

fn attach_filter(fd: RawFd, mac: [u8; 6]) -> io::Result<()> {
    let prog: Vec<libc::sock_filter> = frame::bpf_filter(mac)
        .into_iter()
        .map(|(code, jt, jf, k)| libc::sock_filter { code, jt, jf, k })
        .collect();
    let fprog = libc::sock_fprog {
        len: prog.len() as u16,
        filter: prog.as_ptr() as *mut libc::sock_filter,
    };
    // SAFETY: fprog points at `prog`, alive for the call.
    let r = unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_ATTACH_FILTER,
            (&fprog as *const libc::sock_fprog).cast(),
            std::mem::size_of::<libc::sock_fprog>() as u32,
        )
    };
    if r != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// A UDP socket on port 68 bound to the interface, for unicast renewals.
fn udp_socket(ifname: &str) -> io::Result<std::net::UdpSocket> {
    // SAFETY: plain socket calls.
    unsafe {
        let fd = libc::socket(
            libc::AF_INET,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC | libc::SOCK_NONBLOCK,
            0,
        );
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        let sock = std::net::UdpSocket::from_raw_fd(fd);
        let one: libc::c_int = 1;
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_REUSEADDR,
            (&one as *const i32).cast(),
            4,
        );
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_BROADCAST,
            (&one as *const i32).cast(),
            4,
        );
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_BINDTODEVICE,
            ifname.as_ptr().cast(),
            ifname.len() as u32,
        );
        let mut sa: libc::sockaddr_in = std::mem::zeroed();
        sa.sin_family = libc::AF_INET as u16;
        sa.sin_port = frame::CLIENT_PORT.to_be();
        if libc::bind(
            fd,
            (&sa as *const libc::sockaddr_in).cast(),
            std::mem::size_of::<libc::sockaddr_in>() as u32,
        ) != 0
        {
            return Err(io::Error::last_os_error());
        }
        Ok(sock)
    }
}

/// Interface index and MAC address.
fn interface(name: &str) -> io::Result<(i32, [u8; 6])> {
    let index =
        common::iface::index_of(name).ok_or_else(|| io::Error::from_raw_os_error(libc::ENODEV))?;
    Ok((index, packet::hw_address(name)?))
}

struct Shell {
    o: Options,
    index: i32,
    mac: [u8; 6],
    pkt: OwnedFd,
    udp: Option<std::net::UdpSocket>,
    /// Open only while the client probes an address (`-a`): an ARP socket
    /// sees every ARP frame on the link.
    arp: Option<OwnedFd>,
    client: Client,
    epoch: Instant,
    last_type: u8,
}

impl Shell {
    fn now(&self) -> Duration {
        self.epoch.elapsed()
    }

    fn log(&self, msg: &str) {
        if self.o.verbose {
            // with -v, seconds since start: the timing is what one debugs
            out::err(&format!(
                "{PROG}: [{:.3}] {msg}\n",
                self.now().as_secs_f64()
            ));
        } else {
            out::err(&format!("{PROG}: {msg}\n"));
        }
    }

    fn lease_file(&self) -> PathBuf {
        self.o.state_dir.join(format!("{}.lease", self.o.interface))
    }

    /// A remembered lease and how much of it is left (wall clock). A state
    /// file that is there but cannot be used (too big, empty, not UTF-8, a
    /// directory, a symlink loop, malformed) is named with the reason, and
    /// the client starts afresh (DISCOVER); an expired lease is no fault.
    fn remembered(&self) -> Option<(Lease, Duration)> {
        let path = self.lease_file();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()?
            .as_secs();
        let bad = |why: &str| {
            self.log(&format!(
                "{}: {why}: ignored, asking for a new lease",
                path.display()
            ))
        };
        let text = match read_state_file(&path) {
            Ok(Some(t)) => t,
            Ok(None) => return None,
            Err(why) => {
                bad(&why);
                return None;
            }
        };
        // one reader of the state file, with checked arithmetic (fuzzed)
        let l = super::lease::from_state(&text, self.mac, now);
        if l.is_none() && !super::lease::expired_state(&text, now) {
            bad("not a lease state (IP SERVER SECS WRITTEN_AT)");
        }
        l
    }

    fn remember(&self, l: &Lease) {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let text = format!("{} {} {} {}\n", l.ip, l.server, l.lease, now);
        let _ = std::fs::create_dir_all(&self.o.state_dir);
        if let Err(e) = atomic_write(&self.lease_file(), text.as_bytes(), 0o600, true) {
            // a directory or a read-only file system there: the lease still
            // holds, but a restart will ask for a new one, so it is said always
            self.log(&format!(
                "cannot remember the lease in {}: {}",
                self.lease_file().display(),
                describe(&e)
            ));
        }
    }

    fn script(&self, event: &str, lease: Option<&Lease>) {
        if let Some(n) = &self.o.native {
            match (event, lease) {
                ("bound" | "renew", Some(l)) => {
                    let env = l.script_env(&self.o.interface, self.last_type);
                    if let Err(e) = n.bound(&self.o.interface, l, &env) {
                        self.log(&format!("cannot write the lease: {e}"));
                    }
                }
                ("deconfig", _) => n.deconfig(&self.o.interface),
                _ => {}
            }
            return;
        }
        let mut cmd = Command::new(&self.o.script);
        cmd.arg(event).env("interface", &self.o.interface);
        if let Some(l) = lease {
            for (k, v) in l.script_env(&self.o.interface, self.last_type) {
                cmd.env(k, v);
            }
        }
        match sig::clean_child(&mut cmd).status() {
            Ok(st) if !st.success() && self.o.verbose => self.log(&format!("script {event}: {st}")),
            Err(e) => self.log(&format!(
                "cannot run {} {event}: {}",
                self.o.script,
                describe(&e)
            )),
            _ => {}
        }
    }

    fn send(&self, m: &Message, dest: Dest) {
        let payload = m.encode();
        let r = match (dest, &self.udp) {
            (Dest::Unicast(server), Some(udp)) => udp
                .send_to(&payload, (server, frame::SERVER_PORT))
                .map(|_| ()),
            _ => {
                let src = if m.ciaddr.is_unspecified() {
                    Ipv4Addr::UNSPECIFIED
                } else {
                    m.ciaddr
                };
                let p = frame::build(src, Ipv4Addr::BROADCAST, &payload);
                packet::send_broadcast(self.pkt.as_raw_fd(), self.index, ETH_P_IP, &p)
            }
        };
        if let Err(e) = r {
            self.log(&format!("sending: {}", describe(&e)));
        }
        if self.o.verbose {
            self.log(&format!("sent {:?} to {dest:?}", m.msg_type()));
        }
    }

    /// An RFC 5227 probe for `ip`; the ARP socket is opened for the check.
    fn arp_probe(&mut self, ip: Ipv4Addr) {
        if self.arp.is_none() {
            match packet::socket(self.index, ETH_P_ARP) {
                Ok(fd) => self.arp = Some(fd),
                Err(e) => {
                    // without it the check cannot see an owner: it passes,
                    // as BusyBox's does when arping fails
                    self.log(&format!("ARP socket: {}", describe(&e)));
                    return;
                }
            }
        }
        if let Some(fd) = &self.arp {
            let req = packet::arp_request(self.mac, Ipv4Addr::UNSPECIFIED, ip);
            if let Err(e) = packet::send_broadcast(fd.as_raw_fd(), self.index, ETH_P_ARP, &req) {
                self.log(&format!("sending ARP probe: {}", describe(&e)));
            } else if self.o.verbose {
                self.log(&format!("sent ARP probe for {ip}"));
            }
        }
    }

    /// Carry out the client's actions; `Some(code)` when the program must end.
    fn execute(&mut self, actions: Vec<Action>) -> Option<i32> {
        for a in actions {
            match a {
                Action::Send(m, d) => self.send(&m, d),
                Action::Deconfig => self.script("deconfig", None),
                Action::Bound(l) => {
                    for w in &l.warnings {
                        self.log(w);
                    }
                    self.log(&format!(
                        "lease of {} obtained from {}, lease time {}",
                        l.ip, l.server, l.lease
                    ));
                    self.last_type = 5;
                    self.script("bound", Some(&l));
                    if self.o.quit {
                        if self.o.release {
                            let r = self.client.handle(self.now(), Event::Release);
                            self.execute(r);
                        }
                        return Some(0);
                    }
                    if !self.o.foreground {
                        daemonize(&self.o);
                    }
                }
                Action::Renew(l) => {
                    self.last_type = 5;
                    self.script("renew", Some(&l));
                }
                Action::Nak => self.script("nak", None),
                Action::LeaseFail => {
                    self.log("no lease, failing");
                    self.script("leasefail", None);
                    if self.o.now {
                        return Some(1);
                    }
                    if self.o.background && !self.o.foreground {
                        daemonize(&self.o);
                    }
                }
                Action::SendArpProbe(ip) => self.arp_probe(ip),
                Action::Conflict(ip, mac) => self.log(&format!(
                    "{ip} is in use by another host: declining (its MAC {})",
                    mac.map(|b| format!("{b:02x}")).join(":")
                )),
                Action::Remember(l) => self.remember(&l),
                Action::Forget => {
                    let _ = std::fs::remove_file(self.lease_file());
                }
            }
        }
        None
    }
}

/// Call `read_one` until it finds nothing more (returns false), at most
/// `BUDGET` times: what is left waits for the next poll round, after
/// signals and deadlines had their turn. Returns how many it read.
fn drain(mut read_one: impl FnMut() -> bool) -> usize {
    let mut n = 0;
    while n < BUDGET && read_one() {
        n += 1;
    }
    n
}

/// A seed for transaction ids and jitter. It need not be secret, and it
/// must not wait: at boot a plain getrandom(2) blocks until the kernel's
/// random pool is ready, which held the first DISCOVER back by a second in
/// QEMU. Insecure bytes (Linux 5.6+), else what the pool has without
/// waiting, else the clock; mixed with the pid in every case.
fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    let got = [libc::GRND_INSECURE, libc::GRND_NONBLOCK]
        .into_iter()
        .any(|flags| {
            // SAFETY: valid buffer of the given length.
            unsafe { libc::getrandom(bytes.as_mut_ptr().cast(), bytes.len(), flags) == 8 }
        });
    let fallback = if got {
        0
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    };
    u64::from_ne_bytes(bytes) ^ fallback ^ std::process::id() as u64
}

/// Go to the background (once), as BusyBox does without -f.
fn daemonize(o: &Options) {
    static DONE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if DONE.swap(true, std::sync::atomic::Ordering::SeqCst) {
        return;
    }
    common::daemon::background(o.pidfile.as_deref());
}

fn write_pidfile(o: &Options) {
    if let Some(p) = &o.pidfile {
        let _ = atomic_write(
            p,
            format!("{}\n", std::process::id()).as_bytes(),
            0o644,
            false,
        );
    }
}

pub fn main(args: &[OsString]) -> i32 {
    let words: Vec<String> = args
        .iter()
        .skip(1)
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let o = match parse_args(&words) {
        Ok(o) => o,
        Err(e) => {
            out::err(&format!("{PROG}: {e}\n"));
            return usage();
        }
    };
    let code = run(o);
    crate::flush_pokes();
    code
}

pub fn run(o: Options) -> i32 {
    let (index, mac) = match interface(&o.interface) {
        Ok(x) => x,
        Err(e) => {
            out::err(&format!(
                "{PROG}: interface {}: {}\n",
                o.interface,
                describe(&e)
            ));
            return 1;
        }
    };
    let sigfd = match SignalFd::new(&[libc::SIGUSR1, libc::SIGUSR2, libc::SIGTERM, libc::SIGINT]) {
        Ok(s) => s,
        Err(e) => {
            out::err(&format!("{PROG}: signalfd: {}\n", describe(&e)));
            return 1;
        }
    };
    let pkt = match packet::socket(index, ETH_P_IP)
        .and_then(|fd| attach_filter(fd.as_raw_fd(), mac).map(|_| fd))
    {
        Ok(fd) => fd,
        Err(e) => {
            out::err(&format!(
                "{PROG}: packet socket on {}: {}\n",
                o.interface,
                describe(&e)
            ));
            return 1;
        }
    };
    enable_auxdata(pkt.as_raw_fd());
    let udp = udp_socket(&o.interface).ok();
    let mut nl = Netlink::link_events().ok();
    let mut cfg = Config::new(mac, seed());
    if o.no_client_id {
        cfg.client_id.clear();
    }
    cfg.hostname = o.hostname.clone();
    cfg.vendor_class = o.vendor.as_ref().map(|v| v.as_bytes().to_vec());
    cfg.request_ip = o.request;
    cfg.extra_params = o.params.clone();
    cfg.extra_options = o.extra.clone();
    cfg.tries = o.tries;
    if let Some(t) = o.timeout {
        cfg.initial_timeout = Duration::from_secs(t);
    }
    cfg.failure_pause = Duration::from_secs(o.pause);
    cfg.arp_check = o.arp;
    cfg.arp_wait = o.arp_wait;
    cfg.classless_routes = !o.no_classless;
    cfg.broadcast_flag = o.broadcast_flag;
    let mut sh = Shell {
        o,
        index,
        mac,
        pkt,
        udp,
        arp: None,
        client: Client::new(cfg),
        epoch: Instant::now(),
        last_type: 0,
    };
    if sh.o.foreground || sh.o.quit {
        write_pidfile(&sh.o);
    }
    // The carrier now: a netlink request (answered below), or assume up.
    let mut link_up = true;
    let mut carrier_downs: Option<u32> = None;
    if let Some(n) = nl.as_mut() {
        if n.request_link(index).is_ok() {
            let mut poll = PollSet::new();
            poll.add(n.as_raw_fd());
            let _ = poll.wait(Some(Duration::from_millis(500)));
            if let Some(l) = n.read_links().into_iter().rev().find(|l| l.index == index) {
                link_up = l.carrier();
                carrier_downs = l.carrier_downs;
            }
        }
    }
    if !link_up {
        sh.log(&format!("{}: no carrier, waiting for it", sh.o.interface));
    }
    let remembered = sh.remembered();
    let start = sh.client.handle(
        sh.now(),
        Event::Start {
            link_up,
            remembered,
        },
    );
    if let Some(code) = sh.execute(start) {
        return finish(&sh, code);
    }
    let mut poll = PollSet::new();
    let mut buf = vec![0u8; 2048];
    loop {
        let timeout = crate::with_pokes(sh.client.deadline().map(|d| d.saturating_sub(sh.now())));
        poll.clear();
        let si = poll.add(sigfd.as_raw_fd());
        let pi = poll.add(sh.pkt.as_raw_fd());
        let ui = sh.udp.as_ref().map(|u| poll.add(u.as_raw_fd()));
        let ni = nl.as_ref().map(|n| poll.add(n.as_raw_fd()));
        let ai = sh.arp.as_ref().map(|a| poll.add(a.as_raw_fd()));
        if let Err(e) = poll.wait(timeout) {
            sh.log(&format!("poll: {}", describe(&e)));
            std::thread::sleep(Duration::from_millis(100));
        }
        crate::retry_pokes_and_say(PROG);
        let mut actions = Vec::new();
        if poll.readable(si) {
            for s in sigfd.read_all() {
                match s {
                    libc::SIGUSR1 => actions.extend(sh.client.handle(sh.now(), Event::RenewNow)),
                    libc::SIGUSR2 => actions.extend(sh.client.handle(sh.now(), Event::Release)),
                    _ => {
                        crate::stopping();
                        let name = if s == libc::SIGINT {
                            "SIGINT"
                        } else {
                            "SIGTERM"
                        };
                        sh.log(&format!("received {name}: stopping"));
                        if sh.o.release {
                            let r = sh.client.handle(sh.now(), Event::Release);
                            sh.execute(r);
                        }
                        return finish(&sh, 0);
                    }
                }
            }
        }
        if let (Some(i), Some(n)) = (ni, nl.as_ref()) {
            if poll.readable(i) {
                // bounded per round by Netlink::read_links itself
                for l in n.read_links().into_iter().filter(|l| l.index == index) {
                    // a loss too short to be reported on its own still counts
                    let bounced =
                        matches!((carrier_downs, l.carrier_downs), (Some(a), Some(b)) if b > a);
                    carrier_downs = l.carrier_downs.or(carrier_downs);
                    if bounced || !l.carrier() {
                        if sh.o.verbose {
                            sh.log("carrier down");
                        }
                        actions.extend(sh.client.handle(sh.now(), Event::LinkDown));
                    }
                    if l.carrier() {
                        if sh.o.verbose {
                            sh.log("carrier up");
                        }
                        actions.extend(sh.client.handle(sh.now(), Event::LinkUp));
                    }
                }
            }
        }
        if poll.readable(pi) {
            drain(|| {
                let Some((n, ready)) = recv_packet(sh.pkt.as_raw_fd(), &mut buf) else {
                    return false;
                };
                let Some(payload) = frame::parse_with(&buf[..n], ready) else {
                    return true;
                };
                let Ok(m) = Message::decode(payload) else {
                    return true;
                };
                if let Some(t) = m.msg_type() {
                    sh.last_type = t as u8;
                }
                actions.extend(sh.client.handle(sh.now(), Event::Packet(&m)));
                true
            });
        }
        if let (Some(i), Some(u)) = (ui, sh.udp.as_ref()) {
            if poll.readable(i) {
                // Replies are read from the packet socket; this one only keeps
                // port 68 open (no ICMP unreachable) and is drained.
                let mut b = [0u8; 1500];
                drain(|| u.recv(&mut b).is_ok());
            }
        }
        if let (Some(i), Some(fd)) = (ai, sh.arp.as_ref()) {
            if poll.readable(i) {
                let mut b = [0u8; 64];
                let fd = fd.as_raw_fd();
                drain(|| {
                    // SAFETY: valid buffer of the given length.
                    let n = unsafe { libc::recv(fd, b.as_mut_ptr().cast(), b.len(), 0) };
                    if n < 0 {
                        return false;
                    }
                    if let Some(p) = frame::parse_arp(&b[..n as usize]) {
                        actions.extend(sh.client.handle(sh.now(), Event::Arp(p)));
                    }
                    true
                });
            }
        }
        if sh.client.deadline().is_some_and(|d| sh.now() >= d) {
            actions.extend(sh.client.handle(sh.now(), Event::Timer));
        }
        if let Some(code) = sh.execute(actions) {
            return finish(&sh, code);
        }
        if sh.client.state() != State::Checking {
            sh.arp = None;
        }
        if sh.o.verbose && sh.client.state() == State::Released {
            sh.log("released; SIGUSR1 to start again");
        }
    }
}

/// The lease state file's text: `None` when there is none; the reason when
/// it cannot be one (a line of about 60 bytes: 4 KiB at most is read).
fn read_state_file(path: &std::path::Path) -> Result<Option<String>, String> {
    use std::io::Read;
    const MAX_STATE: u64 = 4096;
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(describe(&e)),
    };
    match f.metadata() {
        Ok(m) if m.is_dir() => return Err("is a directory".into()),
        Ok(m) if !m.is_file() => return Err("not a regular file".into()),
        _ => {}
    }
    let mut bytes = Vec::new();
    f.take(MAX_STATE + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| describe(&e))?;
    if bytes.len() as u64 > MAX_STATE {
        return Err(format!("larger than {MAX_STATE} bytes"));
    }
    if bytes.is_empty() {
        return Err("empty".into());
    }
    String::from_utf8(bytes)
        .map(Some)
        .map_err(|_| "not UTF-8".into())
}

fn finish(sh: &Shell, code: i32) -> i32 {
    if let Some(p) = &sh.o.pidfile {
        let _ = std::fs::remove_file(p);
    }
    // Native mode ends like the seed's `finish`: the address is no longer ours.
    if let Some(n) = &sh.o.native {
        if !sh.o.quit {
            n.deconfig(&sh.o.interface);
        }
    }
    code
}

/// `dhcp [--apply [--resolv-conf FILE]] [--fw-dir DIR] [--fw-service DIR]
/// [udhcpc options]`: the native client. `--apply` installs the address
/// (with the lease as its lifetime), the routes (option 121 when present) and
/// resolv.conf itself, through netlink. As `dhcp_IF/run` linked
/// to ferrite it needs no arguments: the interface is IF, the lease goes to
/// `/var/run/service/fw/dhcp_IF.ipconf`, `fw` (`/var/service/fw`) is poked,
/// and `env.out` is written in the service directory for the pinger. Extra
/// udhcpc options may come from `./args`.
pub fn native_main(args: &[OsString]) -> i32 {
    let words = common::service::words("dhcp", args);
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut fw_dir = PathBuf::from("/var/run/service/fw");
    let mut fw_service = PathBuf::from("/var/service/fw");
    let mut apply = false;
    let mut resolv_conf = PathBuf::from("/etc/resolv.conf");
    // --fw-dir / --fw-service are native-only options
    let mut rest = Vec::new();
    let mut i = 0;
    while i < words.len() {
        match words[i].as_str() {
            "--fw-dir" if i + 1 < words.len() => {
                fw_dir = PathBuf::from(&words[i + 1]);
                i += 1;
            }
            "--fw-service" if i + 1 < words.len() => {
                fw_service = PathBuf::from(&words[i + 1]);
                i += 1;
            }
            "--apply" => apply = true,
            "--resolv-conf" if i + 1 < words.len() => {
                resolv_conf = PathBuf::from(&words[i + 1]);
                i += 1;
            }
            w => rest.push(w.to_string()),
        }
        i += 1;
    }
    let mut o = match parse_args(&rest) {
        Ok(o) => o,
        Err(e) => {
            out::err(&format!("dhcp: {e}\n"));
            return usage();
        }
    };
    if !rest
        .iter()
        .any(|w| w == "-i" || w.starts_with("-i") || w.starts_with("--interface"))
    {
        match super::native::interface_from_dir(&cwd) {
            Some(ifname) => o.interface = ifname,
            None => {
                out::err("dhcp: no interface: give -i IF or run it as dhcp_IF/run\n");
                return 1;
            }
        }
    }
    o.foreground = true;
    let apply = if apply {
        match interface(&o.interface) {
            Ok((index, _)) => Some(super::native::Apply::new(index, resolv_conf)),
            Err(e) => {
                out::err(&format!(
                    "dhcp: interface {}: {}\n",
                    o.interface,
                    describe(&e)
                ));
                return 1;
            }
        }
    } else {
        None
    };
    o.native = Some(super::native::Native {
        fw_dir,
        fw_service,
        env_out: cwd.join("env.out"),
        classless_routes: !o.no_classless,
        apply,
    });
    let code = run(o);
    crate::flush_pokes();
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Result<Options, String> {
        parse_args(&s.split_whitespace().map(String::from).collect::<Vec<_>>())
    }

    #[test]
    fn a_poll_round_reads_at_most_the_budget() {
        // a flooded socket: 150 datagrams waiting
        let mut fds = [0; 2];
        // SAFETY: valid array for the two descriptors.
        let r = unsafe {
            libc::socketpair(
                libc::AF_UNIX,
                libc::SOCK_DGRAM | libc::SOCK_NONBLOCK | libc::SOCK_CLOEXEC,
                0,
                fds.as_mut_ptr(),
            )
        };
        assert_eq!(r, 0);
        // SAFETY: fresh descriptors owned from here on.
        let (a, b) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        let mut queued = 0;
        while queued < 150 {
            // SAFETY: valid buffer.
            if unsafe { libc::send(a.as_raw_fd(), b"x".as_ptr().cast(), 1, 0) } != 1 {
                break;
            }
            queued += 1;
        }
        assert!(queued > BUDGET, "{queued}");
        let read = || {
            let mut buf = [0u8; 8];
            // SAFETY: valid buffer.
            unsafe { libc::recv(b.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len(), 0) > 0 }
        };
        // round by round: never more than the budget, all of it in the end
        let mut rounds = Vec::new();
        loop {
            let n = drain(read);
            if n == 0 {
                break;
            }
            rounds.push(n);
            assert!(rounds.len() <= queued, "drain never ends");
        }
        assert_eq!(rounds[0], BUDGET);
        assert!(rounds.iter().all(|&n| n <= BUDGET), "{rounds:?}");
        assert_eq!(rounds.iter().sum::<usize>(), queued);
        assert_eq!(drain(read), 0);
    }

    #[test]
    fn bad_arguments_are_errors_not_aborts() {
        // Regression: `-é` sliced a str inside a character and aborted;
        // `-T`/`-A` with huge numbers overflowed a deadline.
        assert!(p("-é").unwrap_err().contains("unknown option -é"));
        assert!(p("-fé").is_err());
        assert!(p("-ié€").is_ok_and(|o| o.interface == "é€"));
        let e = p("-T 18446744073709551615").unwrap_err();
        assert!(e.contains("out of range (1 to 3600 s)"), "{e}");
        assert!(p("-A 99999999999999999999")
            .unwrap_err()
            .contains("out of range"));
        assert!(p("-T0").unwrap_err().contains("out of range"));
        assert!(p("-t 2x").unwrap_err().contains("not a number"));
        assert!(p("-a999999999").unwrap_err().contains("out of range"));
        assert!(p("-T 3600 -A 86400 -t 1000").is_ok());
    }

    #[test]
    fn busybox_command_lines() {
        let o = p("-i eth1 -f -q -n -t 5 -T 2 -A 10 -s /etc/dhcp.sh -p /run/u.pid -R").unwrap();
        assert_eq!(o.interface, "eth1");
        assert!(o.foreground && o.quit && o.now && o.release);
        assert_eq!((o.tries, o.timeout, o.pause), (5, Some(2), 10));
        assert_eq!(o.script, "/etc/dhcp.sh");
        // -a[MSEC]: the ARP check and how long it listens
        assert_eq!(p("-a").unwrap().arp_wait, Duration::from_millis(2000));
        let o = p("-a1500").unwrap();
        assert!(o.arp);
        assert_eq!(o.arp_wait, Duration::from_millis(1500));
        assert_eq!(
            p("--arping=300").unwrap().arp_wait,
            Duration::from_millis(300)
        );
        assert!(p("-fa").unwrap().arp);
        let o = p("-fqn -ieth2 -t3").unwrap();
        assert!(o.foreground && o.quit && o.now);
        assert_eq!((o.interface.as_str(), o.tries), ("eth2", 3));
        let o = p("--interface=eth0 --foreground --hostname=router -x lease:3600 -x 0x3d:0100beef -O staticroutes -V acme -r 10.0.0.9").unwrap();
        assert_eq!(o.hostname.as_deref(), Some("router"));
        assert_eq!(
            o.extra,
            vec![
                (51, 3600u32.to_be_bytes().to_vec()),
                (0x3d, vec![1, 0, 0xbe, 0xef])
            ]
        );
        assert_eq!(o.params, vec![121]);
        assert_eq!(o.vendor.as_deref(), Some("acme"));
        assert_eq!(o.request, Some(Ipv4Addr::new(10, 0, 0, 9)));
        // the seed's run script
        let o = p("-S -a -i eth0 --hostname=null -s ./dhcp_handler -f").unwrap();
        assert_eq!(o.hostname, None);
        assert!(o.arp);
        let o = p("-x hostname:bbox").unwrap();
        assert_eq!(o.hostname.as_deref(), Some("bbox"));
        assert!(p("-Z").is_err());
        assert!(p("-x nocolon").is_err());
        assert!(p("-x 0x3d:zz").is_err());
        assert!(p("-t").is_err());
    }
}
