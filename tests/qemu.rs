//! Boot the real thing: the qemu-x86_64 board's image (built by `make image`,
//! which `make test` runs first) under QEMU with software emulation, driven
//! through the serial console and the QEMU monitor with bounded waits.

mod common;
use common::*;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub struct Vm {
    child: Child,
    stdin: ChildStdin,
    out: Arc<Mutex<Vec<u8>>>,
    seen: usize,
    pub monitor: PathBuf,
    _dir: TempDir,
}

impl Vm {
    pub fn boot(board_name: &str, no_reboot: bool) -> Vm {
        let board =
            rootfs::board::Board::load(&repo().join(format!("board-configs/{board_name}.toml")))
                .unwrap();
        let images = repo().join("target/images").join(board_name);
        Vm::boot_image(&board, &images, no_reboot, None)
    }

    /// Boot the image built for `board` in `images` (from the disk image
    /// `disk`, which the guest writes to, when given).
    pub fn boot_image(
        board: &rootfs::board::Board,
        images: &Path,
        no_reboot: bool,
        disk: Option<&Path>,
    ) -> Vm {
        Vm::boot_with(board, images, no_reboot, disk, &[])
    }

    /// `boot_image` with host ports forwarded into the guest (`hostfwd`
    /// rules of QEMU's user network, `tcp:127.0.0.1:PORT-:22`).
    pub fn boot_with(
        board: &rootfs::board::Board,
        images: &Path,
        no_reboot: bool,
        disk: Option<&Path>,
        hostfwd: &[String],
    ) -> Vm {
        Vm::boot_taps(board, images, no_reboot, disk, hostfwd, &[])
    }

    /// `boot_with`, the board's NICs in order on the tap devices `taps`.
    pub fn boot_taps(
        board: &rootfs::board::Board,
        images: &Path,
        no_reboot: bool,
        disk: Option<&Path>,
        hostfwd: &[String],
        taps: &[String],
    ) -> Vm {
        let dir = TempDir::new("qemu");
        let monitor = dir.join("monitor.sock");
        let mut cmd = rootfs::qemu::command_with_taps(
            board, images, &monitor, no_reboot, disk, hostfwd, taps,
        )
        .unwrap();
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot start QEMU");
        let stdin = child.stdin.take().unwrap();
        let out = Arc::new(Mutex::new(Vec::new()));
        for mut pipe in [
            Box::new(child.stdout.take().unwrap()) as Box<dyn Read + Send>,
            Box::new(child.stderr.take().unwrap()),
        ] {
            let out = out.clone();
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = pipe.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    out.lock().unwrap().extend_from_slice(&buf[..n]);
                }
            });
        }
        Vm {
            child,
            stdin,
            out,
            seen: 0,
            monitor,
            _dir: dir,
        }
    }

    pub fn output(&self) -> String {
        String::from_utf8_lossy(&self.out.lock().unwrap()).into_owned()
    }

    fn tail(&self) -> String {
        let o = self.output();
        let start = o.len().saturating_sub(3000);
        o[o.floor_char_boundary(start)..].to_string()
    }

    /// Wait for `pat` in the console output after what earlier expects consumed.
    pub fn expect(&mut self, pat: &str, timeout: Duration) -> Duration {
        let t0 = Instant::now();
        loop {
            {
                let o = self.out.lock().unwrap();
                if let Some(i) = find(&o[self.seen..], pat.as_bytes()) {
                    self.seen += i + pat.len();
                    return t0.elapsed();
                }
            }
            if t0.elapsed() > timeout {
                panic!(
                    "timed out after {timeout:?} waiting for {pat:?}; console tail:\n{}",
                    self.tail()
                );
            }
            if let Ok(Some(st)) = self.child.try_wait() {
                panic!(
                    "QEMU exited ({st}) while waiting for {pat:?}; console tail:\n{}",
                    self.tail()
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn send(&mut self, s: &str) {
        self.stdin.write_all(s.as_bytes()).unwrap();
        self.stdin.flush().unwrap();
    }

    /// One QEMU monitor command; returns what the monitor answered.
    pub fn monitor(&self, cmd: &str) -> String {
        let mut s = None;
        for _ in 0..100 {
            if let Ok(c) = UnixStream::connect(&self.monitor) {
                s = Some(c);
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut s = s.expect("QEMU monitor socket");
        s.set_read_timeout(Some(Duration::from_millis(500)))
            .unwrap();
        let mut answer = Vec::new();
        let mut buf = [0u8; 1024];
        let mut read_some = |s: &mut UnixStream, answer: &mut Vec<u8>| {
            while let Ok(n) = s.read(&mut buf) {
                if n == 0 {
                    break;
                }
                answer.extend_from_slice(&buf[..n]);
            }
        };
        read_some(&mut s, &mut answer);
        s.write_all(format!("{cmd}\n").as_bytes()).unwrap();
        answer.clear();
        read_some(&mut s, &mut answer);
        String::from_utf8_lossy(&answer).into_owned()
    }

    /// Send `line` to the console, then expect each of `wants` in turn
    /// (each within STEP).
    pub fn says(&mut self, line: &str, wants: &[&str]) {
        self.send(line);
        for w in wants {
            self.expect(w, STEP);
        }
    }

    /// Log in as root at the console's prompt (within `wait`).
    pub fn login(&mut self, wait: Duration) -> Duration {
        let took = self.expect("ferrite login: ", wait);
        self.send("root\n");
        self.expect("# ", STEP);
        took
    }

    /// The console says `says` (init stopping the services), then QEMU
    /// exits 0 within 60 s (`what` if it does not exit).
    pub fn shuts_down(&mut self, says: &str, what: &str) {
        self.expect(says, STEP);
        let st = self.wait_exit(Duration::from_secs(60)).expect(what);
        assert_eq!(st.code(), Some(0));
    }

    pub fn wait_exit(&mut self, timeout: Duration) -> Option<std::process::ExitStatus> {
        let t0 = Instant::now();
        while t0.elapsed() < timeout {
            if let Ok(Some(st)) = self.child.try_wait() {
                return Some(st);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

pub fn image_ready(board: &str) -> bool {
    let images = repo().join("target/images").join(board);
    let b =
        rootfs::board::Board::load(&repo().join(format!("board-configs/{board}.toml"))).unwrap();
    let qemu = b.qemu.map(|q| q.binary).unwrap_or_default();
    let on_path = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(&qemu).exists()))
        .unwrap_or(false);
    require(
        &format!("{qemu} and the {board} image (make image BOARD={board})"),
        on_path
            && images.join("vmlinuz").exists()
            && images.join("initramfs.cpio.gz").exists()
            && (b.disk.as_ref().is_none_or(|d| d.sdcard.is_none())
                || images.join("sdcard.img").exists()),
    )
}

const BOOT: Duration = Duration::from_secs(120);
const STEP: Duration = Duration::from_secs(30);

/// Boot `board`, log in on its serial console, run a command, power off.
fn login_command_poweroff(board: &str, tty: &str, machine: &str) {
    if !image_ready(board) {
        return;
    }
    let mut vm = Vm::boot(board, false);
    vm.expect("ferrite init: booting", BOOT);
    vm.expect(&format!("console {tty}"), BOOT);
    let took = vm.expect("ferrite login: ", BOOT);
    // init loads the NIC's drivers beside the boot: their line may come
    // before or after the prompt
    assert!(
        wait_until(STEP, || vm
            .output()
            .contains("ferrite init: loaded modules ")
            && vm.output().contains(" virtio_net ")),
        "no line naming the loaded modules; console:\n{}",
        vm.output()
    );
    eprintln!("{board}: login prompt after {took:?}");
    vm.send("root\n");
    vm.expect("# ", STEP);
    vm.send("uname -m; echo fe$((20+22))rrite\n");
    vm.expect(machine, STEP);
    vm.expect("fe42rrite", STEP);
    // the supervision tree as a user sees it
    // ferrite's applets at the prompt, not BusyBox ash's built-in ones
    vm.send("alias svok udhcpc\n");
    vm.expect("svok='/bin/svok'", STEP);
    vm.expect("udhcpc='/bin/udhcpc'", STEP);
    vm.send(&format!("sv status getty_{tty}; readlink /proc/1/exe\n"));
    vm.expect(&format!("run: getty_{tty}: (pid "), STEP);
    vm.expect("/bin/ferrite", STEP);
    // the pinger's short log: its log/config installed by the standard logger
    vm.send("grep -h ^s /var/log/service/dhcp_eth0_pinger/config\n");
    vm.expect("\ns65536", STEP);
    cable_pull_and_replug(&mut vm);
    // the pinger saw the router answer, and never counted a failure: not
    // even at boot or after the replug, while fw was still applying a lease
    let pinger = "/var/log/service/dhcp_eth0_pinger/current";
    vm.send(&format!(
        "i=0; while [ $i -lt 120 ] && ! grep -q 'answers$' {pinger}; do sleep 0.25; i=$((i+1)); done; \
         echo pinger=$(grep -c 'does not answer' {pinger})-$(grep -q 'answers$' {pinger} && echo ans''wered)\n"
    ));
    vm.expect("pinger=0-answered", Duration::from_secs(60));
    vm.send("poweroff\n");
    let t0 = Instant::now();
    vm.expect("ferrite init: power off: stopping services", STEP);
    let st = vm
        .wait_exit(Duration::from_secs(60))
        .expect("QEMU did not exit after poweroff");
    eprintln!("{board}: poweroff → QEMU gone in {:?}", t0.elapsed());
    assert_eq!(st.code(), Some(0), "QEMU exit status after poweroff");
    // every service, the login session included, stopped within the timeout
    let out = vm.output();
    assert!(
        !out.contains("services still running"),
        "a service outlived the stop timeout: {out}"
    );
}

/// The seed's network tree with no shell: ifplugd ups dhcp_eth0 when the
/// cable is in, the client's ipconf makes fw configure eth0 with QEMU's
/// lease; pulling the virtual cable takes address and route away, the
/// replug brings them back.
fn cable_pull_and_replug(vm: &mut Vm) {
    // wait (bounded) until eth0's addresses match PATTERN on 1 line (want 1) or none (0)
    let wait_for = |pattern: &str, want: u8| {
        format!(
            "i=0; while [ $i -lt 160 ] && [ \"$(ip -4 addr show dev eth0 | grep -c '{pattern}')\" != {want} ]; do sleep 0.25; i=$((i+1)); done; \
             echo net=$(ip -4 addr show dev eth0 | grep -c '{pattern}')\n"
        )
    };
    let wait = |want: u8| wait_for("10.0.2.15", want);
    let link_local = "inet 169.254.*/16 .*scope link";
    vm.send(&wait(1));
    vm.expect("net=1", Duration::from_secs(60));
    // zcip_eth0 claims a link-local address next to the lease (1-9 s of probes)
    vm.send(&wait_for(link_local, 1));
    vm.expect("net=1", Duration::from_secs(60));
    vm.send("ip route; cat /etc/resolv.conf\n");
    vm.expect("default via 10.0.2.2 dev eth0", STEP);
    vm.expect("nameserver 10.0.2.3", STEP);
    vm.monitor("set_link n0 off");
    let t0 = Instant::now();
    vm.send(&wait(0));
    vm.expect("net=0", Duration::from_secs(60));
    eprintln!("cable pulled: address gone after {:?}", t0.elapsed());
    vm.send("ip route | grep -c default\n");
    vm.expect("\n0", STEP);
    vm.send(&wait_for(link_local, 0));
    vm.expect("net=0", Duration::from_secs(60));
    vm.monitor("set_link n0 on");
    let t1 = Instant::now();
    vm.send(&wait(1));
    vm.expect("net=1", Duration::from_secs(60));
    eprintln!("cable replugged: lease back after {:?}", t1.elapsed());
}

#[test]
fn boots_to_login_runs_a_command_and_powers_off() {
    login_command_poweroff("qemu-x86_64", "ttyS0", "x86_64");
}

#[test]
fn aarch64_boots_to_login_runs_a_command_and_powers_off() {
    login_command_poweroff("qemu-aarch64", "ttyAMA0", "aarch64");
}

#[test]
fn ctrl_alt_delete_reboots_cleanly() {
    if !image_ready("qemu-x86_64") {
        return;
    }
    let mut vm = Vm::boot("qemu-x86_64", true);
    vm.expect("ferrite login: ", BOOT);
    vm.monitor("sendkey ctrl-alt-delete");
    vm.expect("ferrite init: reboot: stopping services", STEP);
    vm.expect("ferrite init: reboot", STEP);
    // -no-reboot: QEMU exits instead of rebooting
    let st = vm
        .wait_exit(Duration::from_secs(60))
        .expect("QEMU did not exit on reboot");
    assert_eq!(st.code(), Some(0));
}

/// The services of a board's image that are ferrite itself (`run` a link
/// to it), each with the standard logger.
const NATIVE_SERVICES: [&str; 7] = [
    "getty_ttyS0",
    "ifplugd_eth0",
    "dhcp_eth0",
    "dhcp6_eth0",
    "zcip_eth0",
    "fw",
    "dhcp_eth0_pinger",
];

#[test]
fn image_contents_match_the_board() {
    if !image_ready("qemu-x86_64") {
        return;
    }
    let entries = image_entries(&repo().join("target/images/qemu-x86_64/initramfs.cpio.gz"));
    let get = |name: &str| {
        entries
            .iter()
            .find(|e| e.0 == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    assert_eq!(get("init").2, b"bin/ferrite");
    assert_eq!(get("etc/service/getty_ttyS0/run").2, b"/bin/ferrite");
    for svc in NATIVE_SERVICES {
        assert_eq!(get(&format!("etc/service/{svc}/run")).2, b"/bin/ferrite");
        assert_eq!(
            get(&format!("etc/service/{svc}/log/run")).2,
            b"/bin/ferrite"
        );
    }
    get("etc/service/zcip_eth0/down");
    assert_eq!(get("dev/console").3, (5, 1));
    assert_eq!(get("var/service").2, b"../run/service");
    assert_eq!(get("bin/sv").2, b"ferrite");
    assert_eq!(get("bin/login").2, b"/bin/busybox");
    let profile = String::from_utf8_lossy(&get("etc/profile").2).into_owned();
    assert!(
        profile.contains("alias svok=/bin/svok\n")
            && profile.contains("alias udhcpc=/bin/udhcpc\n"),
        "{profile}"
    );
    assert!(!profile.contains("alias ls="), "{profile}");
    assert!(String::from_utf8_lossy(&get("etc/modules").2).contains("\nvirtio_net\n"));
    // modules shipped on demand: in the index files, not loaded at boot
    assert!(!String::from_utf8_lossy(&get("etc/modules").2).contains("dummy"));
    assert_eq!(get("sbin/modprobe").2, b"../bin/ferrite");
    let index = |f: &str| {
        let e = entries
            .iter()
            .find(|e| e.0.starts_with("lib/modules/") && e.0.ends_with(f))
            .unwrap_or_else(|| panic!("{f} missing"));
        String::from_utf8_lossy(&e.2).into_owned()
    };
    assert!(index("/modules.alias").contains("\nalias rtnl-link-dummy dummy\n"));
    assert!(index("/modules.dep").contains("kernel/drivers/net/dummy.ko:\n"));
    assert!(index("/modules.dep").contains(
        "kernel/drivers/net/virtio_net.ko: kernel/drivers/net/net_failover.ko kernel/net/core/failover.ko"
    ));
    assert!(index("/modules.builtin").contains("kernel/net/unix/unix.ko\n"));
    assert!(entries
        .iter()
        .any(|e| e.0.starts_with("lib/modules/") && e.0.ends_with("/virtio_net.ko")));
    let ferrite = &get("bin/ferrite").2;
    assert!(
        ferrite.len() < 1_572_864,
        "ferrite is {} bytes",
        ferrite.len()
    );
}

/// The default board's file, for tests that build a variant of it.
fn default_board_text() -> String {
    std::fs::read_to_string(repo().join("board-configs/qemu-x86_64.toml")).unwrap()
}

/// The members of an image's `initramfs.cpio.gz`.
fn image_entries(cpio_gz: &Path) -> Vec<rootfs::cpio::Member> {
    let gz = std::fs::read(cpio_gz).unwrap();
    let mut raw = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut raw)
        .unwrap();
    rootfs::cpio::read_all(&raw).unwrap()
}

/// An x86_64 image of a variant of the default board (`board_text`) in `out`.
fn build_x86_image(board_text: &str, out: &Path) -> rootfs::board::Board {
    let board = rootfs::board::Board::parse(board_text, "test board").unwrap();
    let inputs = rootfs::image::Inputs {
        repo: repo(),
        out: out.to_path_buf(),
        ferrite: Some(repo().join("target/x86_64-unknown-linux-musl/release/ferrite")),
        kernel: None,
        firmware: None,
    };
    rootfs::image::build(&board, &repo().join("board-configs"), &inputs).unwrap();
    board
}

/// A root shell on the console with no login (`getty -n -l /bin/sh`) is the
/// session leader and ignores TERM: init hangs the terminal up instead of
/// letting it hold poweroff for the 7 s stop timeout.
#[test]
fn a_console_shell_that_ignores_term_does_not_hold_up_poweroff() {
    if !image_ready("qemu-x86_64") {
        return;
    }
    let dir = TempDir::new("shell-console");
    let board_text = default_board_text().replace(
        "args = \"-L 115200 vt100\"",
        "args = \"-n -l /bin/sh -L 115200 vt100\"",
    );
    assert!(board_text.contains("-n -l /bin/sh"));
    let board = build_x86_image(&board_text, &dir.join("image"));
    let mut vm = Vm::boot_image(&board, &dir.join("image"), true, None);
    vm.expect("ferrite init: booting", BOOT);
    // the shell's prompt: ask for a marker until the shell answers
    let ok = (0..60).any(|_| {
        vm.send("echo sh-$((40+2))\n");
        let out = vm.output();
        std::thread::sleep(Duration::from_millis(500));
        out.contains("sh-42")
    });
    assert!(ok, "no shell on the console: {}", vm.output());
    vm.send("trap '' TERM; poweroff\n");
    let t0 = Instant::now();
    let st = vm
        .wait_exit(Duration::from_secs(60))
        .expect("QEMU did not exit after poweroff");
    eprintln!(
        "poweroff with a TERM-ignoring console shell: {:?}",
        t0.elapsed()
    );
    assert_eq!(st.code(), Some(0));
    let out = vm.output();
    assert!(out.contains("hung up 1 terminal session(s)"), "{out}");
    assert!(
        !out.contains("services still running"),
        "the shell held poweroff up: {out}"
    );
}

/// The box needs no shell: an image without BusyBox (no /bin/sh, no /bin/ip)
/// boots, and the network tree alone configures eth0 with QEMU's lease,
/// takes it away on a cable pull and brings it back on the replug. With no
/// shell to look, fw's log lines reach the console through its logger's
/// `e*` config (a `log/config` the standard logger installs).
#[test]
fn a_box_without_a_shell_configures_its_network_by_itself() {
    if !image_ready("qemu-x86_64") {
        return;
    }
    let dir = TempDir::new("no-shell");
    let board_text = default_board_text().replace("busybox = true", "busybox = false")
        + "\n[[file]]\npath = \"/etc/service/fw/log/config\"\ncontent = \"e*\\n\"\n";
    assert!(board_text.contains("busybox = false"));
    let board = build_x86_image(&board_text, &dir.join("image"));
    let entries = image_entries(&dir.join("image/initramfs.cpio.gz"));
    for gone in ["bin/sh", "bin/busybox", "bin/ip", "sbin/ip"] {
        assert!(!entries.iter().any(|e| e.0 == gone), "{gone} in the image");
    }
    let mut vm = Vm::boot_image(&board, &dir.join("image"), true, None);
    vm.expect("ferrite init: booting", BOOT);
    vm.expect("fw: + 10.0.2.15/24 dev eth0", BOOT);
    vm.expect("fw: + route default via 10.0.2.2 dev eth0", STEP);
    vm.expect("fw: + 169.254.", Duration::from_secs(60));
    vm.monitor("set_link n0 off");
    vm.expect("fw: - 10.0.2.15/24 dev eth0", Duration::from_secs(60));
    vm.monitor("set_link n0 on");
    vm.expect("fw: + 10.0.2.15/24 dev eth0", Duration::from_secs(60));
    // and it shuts down cleanly with nobody logged in
    vm.monitor("sendkey ctrl-alt-delete");
    vm.shuts_down(
        "ferrite init: reboot: stopping services",
        "QEMU did not exit after the reboot",
    );
    let out = vm.output();
    assert!(!out.contains("services still running"), "{out}");
    assert!(!out.contains("/bin/sh"), "something wanted a shell: {out}");
}

#[test]
fn a_module_that_fails_to_load_is_reported_and_boot_continues() {
    if !image_ready("qemu-x86_64") {
        return;
    }
    // The kernel release, from the default image's module path.
    let contents =
        std::fs::read_to_string(repo().join("target/images/qemu-x86_64/contents.txt")).unwrap();
    let release = contents
        .lines()
        .find_map(|l| l.split("/lib/modules/").nth(1))
        .and_then(|r| r.split('/').next())
        .expect("module path in contents.txt")
        .to_string();
    let dir = TempDir::new("bad-modules");
    let board_text = default_board_text()
        + &format!(
            "\n[[file]]\npath = \"/etc/modules\"\ncontent = \"no_such_module\\nbroken\\nvirtio_ring\\n\"\n\
             [[file]]\npath = \"/lib/modules/{release}/extra/broken.ko\"\ncontent = \"not an ELF file\"\n"
        );
    let board = build_x86_image(&board_text, &dir.join("image"));
    // boot that image in place of the default one
    let mut cmd = rootfs::qemu::command(
        &board,
        &dir.join("image"),
        &dir.join("mon.sock"),
        true,
        None,
    )
    .unwrap();
    let out = std::fs::File::create(dir.join("console")).unwrap();
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(out.try_clone().unwrap())
        .stderr(out)
        .spawn()
        .unwrap();
    let console = || std::fs::read_to_string(dir.join("console")).unwrap_or_default();
    // the modules load beside the boot: their lines may follow the prompt
    let ok = wait_until(BOOT, || {
        let c = console();
        c.contains("ferrite login: ") && c.contains("ferrite init: loaded modules ")
    });
    let _ = child.kill();
    let _ = child.wait();
    let c = console();
    assert!(ok, "no login prompt or no modules line; console:\n{c}");
    assert!(
        c.contains("ferrite init: module no_such_module: not found under /lib/modules/"),
        "{c}"
    );
    assert!(
        c.contains("ferrite init: module broken (/lib/modules/"),
        "{c}"
    );
    assert!(
        c.contains("ferrite init: loaded modules virtio_ring "),
        "{c}"
    );
}

/// The kernel's own module requests reach ferrite's modprobe: `ip link add
/// d0 type dummy` makes the kernel ask for `rtnl-link-dummy`, which
/// modules.alias resolves to `dummy`, shipped on demand and not loaded at
/// boot; the link appears. `modprobe` by hand passes parameters and
/// removes; what is not there is kmod's message and exit code.
#[test]
fn the_kernel_asks_and_modprobe_loads_a_module_shipped_on_demand() {
    if !image_ready("qemu-x86_64") {
        return;
    }
    let mut vm = Vm::boot("qemu-x86_64", true);
    vm.login(BOOT);
    vm.says(
        "echo sysctl=$(cat /proc/sys/kernel/modprobe) link=$(readlink /sbin/modprobe)\n",
        &["sysctl=/sbin/modprobe link=../bin/ferrite"],
    );
    vm.says(
        "echo before=$(grep -c '^dummy ' /proc/modules)\n",
        &["before=0"],
    );
    let t0 = Instant::now();
    vm.says(
        "ip link add d0 type dummy && ip link show d0 && echo loaded=$(grep -c '^dummy ' /proc/modules)\n",
        &["d0: <BROADCAST,NOARP", "loaded=1"],
    );
    eprintln!(
        "ip link add d0 type dummy: link there after {:?}",
        t0.elapsed()
    );
    // by hand: a parameter reaches the module (one ifb device, not two)
    vm.says(
        "modprobe ifb numifbs=1; echo rc=$? ifbs=$(ls /sys/class/net | grep -c ^ifb)\n",
        &["rc=0 ifbs=1"],
    );
    vm.says(
        "modprobe -v ifb; echo again=$?; modprobe -r ifb; echo removed=$? left=$(grep -c '^ifb ' /proc/modules)\n",
        &["again=0", "removed=0 left=0"],
    );
    vm.says(
        "modprobe no_such_module; echo rc=$?\n",
        &[
            "modprobe: FATAL: Module no_such_module not found in directory /lib/modules/",
            "rc=1",
        ],
    );
    vm.says("modprobe -q no_such_module; echo quiet=$?\n", &["quiet=1"]);
    let out = vm.output();
    assert!(
        !out.contains("no link to ferrite's modprobe"),
        "init did not find /sbin/modprobe: {out}"
    );
}

/// nftables NAT needs modules the kernel asks for itself: nft's netlink
/// socket makes it ask for `net-pf-16-proto-12` (nfnetlink) and
/// `nfnetlink-subsys-10` (nf_tables), a nat chain for `nft-chain-2-nat`
/// (nft_chain_nat, with nf_nat and nf_conntrack), `masquerade` for
/// `nft-expr-masq`. An image with Debian's nftables and those modules on
/// demand loads the ruleset; none of them is loaded before.
#[test]
fn a_nat_ruleset_makes_the_kernel_load_nft_chain_nat() {
    if !image_ready("qemu-x86_64") {
        return;
    }
    let dir = TempDir::new("nft-nat");
    let board_text = default_board_text()
        .replace(
            "busybox = true",
            "busybox = true\npackages = [\"nftables\"]",
        )
        .replace(
            "modules_on_demand = [\"dummy\", \"ifb\"]",
            "modules_on_demand = [\"nfnetlink\", \"nf_tables\", \"nft_chain_nat\", \"nft_masq\"]",
        );
    assert!(board_text.contains("nft_chain_nat") && board_text.contains("\"nftables\""));
    let board = build_x86_image(&board_text, &dir.join("image"));
    let mut vm = Vm::boot_image(&board, &dir.join("image"), true, None);
    vm.login(BOOT);
    vm.says(
        "echo before=$(grep -c -e '^nf_tables ' -e '^nft_chain_nat ' /proc/modules)\n",
        &["before=0"],
    );
    let t0 = Instant::now();
    vm.says(
        "nft add table ip nat && nft add chain ip nat post '{ type nat hook postrouting priority 100 ; }' && nft add rule ip nat post oifname eth0 masquerade && echo nat=o''k\n",
        &["nat=ok"],
    );
    eprintln!("NAT ruleset loaded in {:?}", t0.elapsed());
    vm.says(
        "nft list ruleset\n",
        &["type nat hook postrouting priority srcnat", "masquerade"],
    );
    vm.says(
        "echo chain=$(grep -c '^nft_chain_nat ' /proc/modules) nat=$(grep -c '^nf_nat ' /proc/modules) masq=$(grep -c '^nft_masq ' /proc/modules)\n",
        &["chain=1 nat=1 masq=1"],
    );
}

#[test]
fn rpi4_image_has_what_the_board_promises() {
    let ferrite = repo().join("target/aarch64-unknown-linux-musl/release/ferrite");
    if !require("the aarch64 build (make aarch64)", ferrite.exists()) {
        return;
    }
    let board = rootfs::board::Board::load(&repo().join("board-configs/rpi4.toml")).unwrap();
    let dir = TempDir::new("rpi4");
    let inputs = rootfs::image::Inputs {
        repo: repo(),
        out: dir.join("image"),
        ferrite: Some(ferrite),
        kernel: None,
        firmware: None,
    };
    rootfs::image::build(&board, &repo().join("board-configs"), &inputs).unwrap();
    // Debian's arm64 kernel, on the SD card too (rootfs/tests/sdcard.rs
    // checks the card's layout and boot files)
    let kernel = std::fs::read(dir.join("image/vmlinuz")).unwrap();
    assert_eq!(&kernel[56..60], b"ARM\x64", "an arm64 Image");
    assert!(dir.join("image/sdcard.img").exists());
    let entries = image_entries(&dir.join("image/initramfs.cpio.gz"));
    let get = |name: &str| {
        entries
            .iter()
            .find(|e| e.0 == name)
            .unwrap_or_else(|| panic!("{name} missing"))
    };
    // aarch64 ELF binaries (e_machine 183)
    for bin in ["bin/ferrite", "bin/busybox"] {
        let elf = &get(bin).2;
        assert_eq!(&elf[..4], b"\x7fELF", "{bin}");
        assert_eq!(
            u16::from_le_bytes([elf[18], elf[19]]),
            183,
            "{bin} is not aarch64"
        );
    }
    assert_eq!(get("init").2, b"bin/ferrite");
    assert_eq!(get("etc/hostname").2, b"rpi4\n");
    // the tree of the QEMU board, but the console is the mini UART, ttyS1
    for svc in NATIVE_SERVICES.map(|s| s.replace("ttyS0", "ttyS1")) {
        assert_eq!(
            get(&format!("etc/service/{svc}/log/run")).2,
            b"/bin/ferrite"
        );
    }
    assert_eq!(get("etc/service/getty_ttyS1/run").2, b"/bin/ferrite");
    assert_eq!(get("etc/service/getty_ttyS1/args").2, b"-L 115200 vt100\n");
    let supplicant = get("etc/service/supplicant_wlan0/run");
    assert_eq!(supplicant.1 & 0o111, 0o111, "supplicant run not executable");
    assert!(String::from_utf8_lossy(&supplicant.2).contains("wpa_supplicant -i \"$IF\""));
    assert_eq!(
        get("etc/service/supplicant_wlan0/log/run").2,
        b"/bin/ferrite"
    );
    assert_eq!(get("dev/console").3, (5, 1));
    // eth0's driver, its MDIO bus and PHY, loaded by name (no udev)
    let modules = String::from_utf8_lossy(&get("etc/modules").2).into_owned();
    for m in ["mdio_bcm_unimac", "broadcom", "genet"] {
        assert!(modules.lines().any(|l| l == m), "{m} in\n{modules}");
    }
}

/// The aarch64 board from its disk.img (virtio-blk on the virt PCI bus):
/// the root read-only from the disk, data mounted, a login prompt, and
/// poweroff ends QEMU.
#[test]
fn aarch64_boots_from_its_disk_image_to_a_login_prompt() {
    if !image_ready("qemu-aarch64") {
        return;
    }
    let images = repo().join("target/images/qemu-aarch64");
    assert!(
        images.join("disk.img").exists(),
        "the board has [disk]: make image writes disk.img"
    );
    let board =
        rootfs::board::Board::load(&repo().join("board-configs/qemu-aarch64.toml")).unwrap();
    let dir = TempDir::new("aarch64-disk");
    let disk = dir.join("disk.img");
    std::fs::copy(images.join("disk.img"), &disk).unwrap();
    let t0 = Instant::now();
    let mut vm = Vm::boot_image(&board, &images, false, Some(&disk));
    vm.expect("root /dev/vda1 mounted read-only", BOOT);
    vm.login(BOOT);
    eprintln!(
        "qemu-aarch64 from disk.img: logged in {:?} after QEMU started (TCG)",
        t0.elapsed()
    );
    vm.says(
        "grep vda /proc/mounts | cut -d' ' -f1-4 | sort; touch /bin/x 2>&1; echo touched=$?\n",
        &[
            "/dev/vda1 / squashfs ro",
            "/dev/vda2 /data ext4 rw",
            "Read-only file system",
            "touched=1",
        ],
    );
    vm.send("poweroff\n");
    vm.shuts_down(
        "ferrite init: power off: stopping services",
        "QEMU did not exit after poweroff",
    );
}

/// The Pi's SD card run for real, from U-Boot on (QEMU cannot run the
/// Pi's GPU firmware; it starts the card's U-Boot itself): U-Boot reads
/// extlinux.conf from the FAT boot partition and boots Debian's kernel,
/// DTB and the small initramfs from it, ferrite mounts the root from the
/// card's partition 2 and data from 3, the console gives a login prompt,
/// and the network tree gets QEMU's lease on usb0.
#[test]
fn rpi3_qemu_boots_its_sd_card_through_u_boot_to_a_login_prompt_and_a_lease() {
    if !image_ready("rpi3-qemu") {
        return;
    }
    let images = repo().join("target/images/rpi3-qemu");
    let board = rootfs::board::Board::load(&repo().join("board-configs/rpi3-qemu.toml")).unwrap();
    let dir = TempDir::new("rpi3-sd");
    let card = dir.join("sdcard.img");
    rootfs::sdcard::qemu_copy(&images.join("sdcard.img"), &card).unwrap();
    // a wiped data partition (partition 3 of the MBR zeroed): early boot
    // makes it anew with the root's mke2fs
    {
        use std::io::{Seek, SeekFrom};
        let head = std::fs::read(&card).unwrap();
        let data = &::common::partition::mbr(&head[..512]).unwrap()[2];
        let mut f = std::fs::OpenOptions::new().write(true).open(&card).unwrap();
        f.seek(SeekFrom::Start(data.first_lba * 512)).unwrap();
        // all of it, backup superblocks too
        let len = ((data.last_lba - data.first_lba + 1) * 512) as usize;
        f.write_all(&vec![0u8; len]).unwrap();
    }
    // under software emulation U-Boot and the kernel's load from the
    // emulated card take a minute or more, longer while the machine builds
    const SD_BOOT: Duration = Duration::from_secs(300);
    let t0 = Instant::now();
    let mut vm = Vm::boot_image(&board, &images, false, Some(&card));
    vm.expect("U-Boot 20", SD_BOOT);
    vm.expect("RPI 3 Model B", STEP);
    vm.expect("Found /extlinux/extlinux.conf", SD_BOOT);
    vm.expect("Retrieving file: /vmlinuz", SD_BOOT);
    vm.expect("Starting kernel", SD_BOOT);
    let kernel = t0.elapsed();
    vm.expect("Machine model: Raspberry Pi 3 Model B", SD_BOOT);
    vm.expect("ferrite init: booting", SD_BOOT);
    vm.expect("ferrite init: loaded modules bcm2835 ", SD_BOOT);
    vm.expect(
        "ferrite init: root /dev/mmcblk0p2 mounted read-only",
        SD_BOOT,
    );
    vm.expect(
        "data partition /dev/mmcblk0p3 held no file system (new or wiped): made an empty ext4 one",
        SD_BOOT,
    );
    vm.expect("console ttyS1", SD_BOOT);
    vm.expect("ferrite login: ", SD_BOOT);
    eprintln!(
        "rpi3-qemu: U-Boot started the kernel after {kernel:?}, login prompt after {:?} (TCG)",
        t0.elapsed()
    );
    // the USB network adapter goes in now (board: nic_hotplug)
    vm.monitor(&rootfs::qemu::nic_hotplug_command(&board).unwrap());
    vm.send("root\n");
    vm.expect("# ", STEP);
    vm.says("uname -m\n", &["aarch64"]);
    vm.says(
        "grep mmcblk0 /proc/mounts | cut -d' ' -f1-4 | sort\n",
        &[
            "/dev/mmcblk0p2 / squashfs ro",
            "/dev/mmcblk0p3 /data ext4 rw",
        ],
    );
    vm.says(
        "touch /bin/x 2>&1; echo touched=$?\n",
        &["Read-only file system", "touched=1"],
    );
    // the seed's tree on usb0: ifplugd sees the carrier, dhcp_usb0 leases
    let t1 = Instant::now();
    vm.send("i=0; while [ $i -lt 480 ] && ! ip -4 addr show dev usb0 2>/dev/null | grep -q 10.0.2.15; do sleep 0.25; i=$((i+1)); done; echo usb0=$(ip -4 addr show dev usb0 | grep -c 10.0.2.15)\n");
    vm.expect("usb0=1", Duration::from_secs(150));
    eprintln!(
        "rpi3-qemu: usb0 leased 10.0.2.15 {:?} after the plug",
        t1.elapsed()
    );
    vm.says("ip route\n", &["default via 10.0.2.2 dev usb0"]);
    // raspi3b cannot power off: the guest halts and QEMU stays (dropped here)
    vm.send("poweroff\n");
    vm.expect("ferrite init: power off: stopping services", STEP);
}

/// The fault campaign in the booted tree (tests/data/fault-campaign.sh):
/// signals to PID 1, then kill -9 of runsvdir, each runsv, each logger and
/// each service in turn; after each the tree is whole again, and at the end
/// a cable pull and replug still gives the lease back and poweroff works.
#[test]
fn fault_campaign_in_the_booted_tree() {
    if !image_ready("qemu-x86_64") {
        return;
    }
    let dir = TempDir::new("fault-campaign");
    let board_text = default_board_text()
        + "\n[[file]]\npath = \"/bin/fault-campaign\"\nsource = \"../tests/data/fault-campaign.sh\"\nmode = 0o755\n";
    let board = build_x86_image(&board_text, &dir.join("image"));
    let mut vm = Vm::boot_image(&board, &dir.join("image"), false, None);
    vm.login(BOOT);
    // the lease first, so that the tree is complete when the faults begin
    vm.send("i=0; while [ $i -lt 240 ] && ! ip -4 addr show dev eth0 | grep -q 10.0.2.15; do sleep 0.25; i=$((i+1)); done; echo leased=$i\n");
    vm.expect("leased=", Duration::from_secs(90));
    vm.send("fault-campaign 2>&1\n");
    vm.expect("FC-TOTAL", Duration::from_secs(600));
    vm.expect("# ", STEP);
    let out = vm.output();
    let lines: Vec<&str> = out.lines().filter(|l| l.starts_with("FC")).collect();
    for l in &lines {
        eprintln!("{l}");
    }
    let total = lines.iter().find(|l| l.starts_with("FC-TOTAL")).unwrap();
    let broken: Vec<&&str> = lines.iter().filter(|l| l.contains("NOT WHOLE")).collect();
    assert!(broken.is_empty(), "the tree did not recover: {broken:#?}");
    assert!(total.contains("broken=0"), "{total}");
    let faults: u32 = total
        .split_whitespace()
        .find_map(|w| w.strip_prefix("faults="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(faults >= 15, "too few faults tried: {total}");
    // getty last, from outside the script: its kill ends this very login
    // session, and runsv must give the console a new login prompt
    vm.send("kill -9 $(cat /var/service/getty_ttyS0/supervise/pid)\n");
    let again = vm.login(Duration::from_secs(30));
    vm.send("ferrite sv status getty_ttyS0; echo checked=$?\n");
    vm.expect("checked=0", STEP);
    eprintln!("FC getty_ttyS0 (the console session): a new login prompt {again:?} after the kill");
    // the network tree still works: pull and replug, the lease comes back
    cable_pull_and_replug(&mut vm);
    let faults = faults + 1;
    eprintln!("fault campaign: QEMU tree: {faults} faults, 0 daemons died (each part of the tree whole again), 0 leases lost");
    vm.send("poweroff\n");
    vm.shuts_down(
        "ferrite init: power off: stopping services",
        "poweroff after the campaign",
    );
}

/// What a boot from the qemu-x86_64 board's disk.img needs (None when the
/// image is not there: the test is skipped): the image's directory, the
/// board, a temporary directory and the path there for the test's copy of
/// disk.img (not written yet).
fn disk_boot(tag: &str) -> Option<(PathBuf, rootfs::board::Board, TempDir, PathBuf)> {
    if !image_ready("qemu-x86_64") {
        return None;
    }
    let images = repo().join("target/images/qemu-x86_64");
    assert!(
        images.join("disk.img").exists(),
        "the board has [disk]: make image writes disk.img"
    );
    let board = rootfs::board::Board::load(&repo().join("board-configs/qemu-x86_64.toml")).unwrap();
    let dir = TempDir::new(tag);
    let disk = dir.join("disk.img");
    Some((images, board, dir, disk))
}

#[test]
fn disk_image_keeps_etc_and_new_services_across_a_reboot_with_a_read_only_root() {
    let Some((images, board, _dir, disk)) = disk_boot("disk-boot") else {
        return;
    };
    std::fs::copy(images.join("disk.img"), &disk).unwrap();
    // QEMU's reset kept: `reboot` comes back up on the same disk
    let mut vm = Vm::boot_image(&board, &images, false, Some(&disk));
    vm.expect("root /dev/vda1 mounted read-only", BOOT);
    vm.login(BOOT);
    vm.says(
        "touch /bin/x 2>&1; echo touched=$?\n",
        &["Read-only file system", "touched=1"],
    );
    // the lease is remembered on the data partition
    vm.says("i=0; while [ $i -lt 120 ] && ! [ -s /var/lib/ferrite/dhcp/eth0.lease ]; do sleep 0.25; i=$((i+1)); done; cut -d' ' -f1 /var/lib/ferrite/dhcp/eth0.lease\n", &["10.0.2.15"]);
    vm.says("echo kept-$((6*7)) > /etc/ferrite-test && mkdir /etc/service/hello && printf '#!/bin/sh\\nexec sleep 1000\\n' > /etc/service/hello/run && chmod +x /etc/service/hello/run && sync && echo written=$?\n", &["written=0"]);
    vm.says("reboot\n", &["reboot: stopping services"]);
    // the second boot, same QEMU, same disk
    vm.expect("root /dev/vda1 mounted read-only", BOOT);
    vm.login(BOOT);
    vm.says("cat /etc/ferrite-test; i=0; while [ $i -lt 40 ] && ! ferrite sv status /var/service/hello | grep -q ^run; do sleep 0.25; i=$((i+1)); done; ferrite sv status /var/service/hello\n", &["kept-42", "run: /var/service/hello: (pid "]);
    // the second boot's DHCP asks for the same address first (INIT-REBOOT)
    let log = "/var/log/service/dhcp_eth0/current";
    vm.says(&format!("i=0; while [ $i -lt 80 ] && ! grep -q INIT-REBOOT {log}; do sleep 0.25; i=$((i+1)); done; grep -o 'lease of [0-9.]* remembered' {log}\n"), &["lease of 10.0.2.15 remembered"]);
    // factory reset: the next boot has the image's /etc again
    vm.says(
        "ferrite factory-reset\n",
        &["factory-reset: done at the next boot"],
    );
    vm.says("reboot\n", &["reboot: stopping services"]);
    vm.expect("factory reset: /etc is the image's again", BOOT);
    vm.login(BOOT);
    vm.says(
        "cat /etc/ferrite-test 2>&1; ls -d /etc/service/hello 2>&1; echo listed\n",
        &["No such file", "listed"],
    );
    let out = vm.output();
    let third_boot = &out[out.rfind("factory reset: /etc").unwrap()..];
    assert!(!third_boot.contains("kept-42"), "{third_boot}");
    vm.send("poweroff\n");
    vm.shuts_down(
        "ferrite init: power off: stopping services",
        "QEMU did not exit after poweroff",
    );
}

#[test]
fn a_zeroed_data_partition_is_made_anew_and_the_box_boots_with_defaults_and_says_so() {
    let Some((images, board, _dir, disk)) = disk_boot("disk-zeroed") else {
        return;
    };
    let mut bytes = std::fs::read(images.join("disk.img")).unwrap();
    // the data partition's start, from the GPT the image tool wrote
    let last = bytes.len() as u64 / 512 - 1;
    let parts = {
        let b = &bytes;
        let mut read = |lba: u64, n: u64| {
            b.get((lba * 512) as usize..((lba + n) * 512) as usize)
                .map(|s| s.to_vec())
        };
        ::common::partition::gpt(&mut read, last).unwrap()
    };
    let data = parts.iter().find(|p| p.name == "ferrite-data").unwrap();
    // all of it: with the backup superblocks left, early boot would
    // rightly repair the file system from them instead
    let at = (data.first_lba * 512) as usize;
    let len = ((data.last_lba - data.first_lba + 1) * 512) as usize;
    bytes[at..at + len].fill(0);
    std::fs::write(&disk, &bytes).unwrap();
    // the root's mke2fs makes it anew: defaults now, persistence again
    let mut vm = Vm::boot_image(&board, &images, false, Some(&disk));
    vm.expect(
        "held no file system (new or wiped): made an empty ext4 one; booting with the image's defaults",
        BOOT,
    );
    vm.login(BOOT);
    vm.says(
        "cat /etc/hostname; echo kept > /etc/after-wipe; sync; grep ' /data ' /proc/mounts | cut -d' ' -f1-3\n",
        &["ferrite", "/dev/vda2 /data ext4"],
    );
    vm.says("reboot\n", &["reboot: stopping services"]);
    // the second boot finds it clean (e2fsck -p says nothing) and keeps /etc
    vm.expect("root /dev/vda1 mounted read-only", BOOT);
    vm.login(BOOT);
    vm.says("cat /etc/after-wipe\n", &["kept"]);
    let out = vm.output();
    assert_eq!(
        out.matches("made an empty ext4 one").count(),
        1,
        "made once, not at every boot"
    );
    vm.send("poweroff\n");
    vm.expect("ferrite init: power off: stopping services", STEP);
    assert_eq!(
        vm.wait_exit(Duration::from_secs(60)).map(|s| s.code()),
        Some(Some(0))
    );
}

/// A data partition whose root directory's inode was wiped while it was
/// in use (not cleanly unmounted): `e2fsck -p` refuses ("UNEXPECTED
/// INCONSISTENCY"), early boot then runs `e2fsck -y`, which repairs it, and
/// the box mounts it; it is not made anew.
#[test]
fn a_damaged_data_partition_is_repaired_by_e2fsck_and_mounted() {
    let Some((images, board, dir, disk)) = disk_boot("disk-damaged") else {
        return;
    };
    let tool = |prog: &str, args: &[&str]| {
        let out = std::process::Command::new(prog)
            .args(args)
            .output()
            .unwrap_or_else(|e| panic!("{prog}: {e} (scripts/deps test installs e2fsprogs)"));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let data = dir.join("data.img");
    std::fs::copy(images.join("data.img"), &data).unwrap();
    let d = data.to_str().unwrap();
    let info = tool("dumpe2fs", &[d]);
    let field = |name: &str| -> u64 {
        info.lines()
            .find_map(|l| l.trim().strip_prefix(name))
            .and_then(|v| v.trim().split(|c: char| !c.is_ascii_digit()).next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no {name} in dumpe2fs"))
    };
    let block = field("Block size:");
    let table = field("Inode table at");
    let inode_size = field("Inode size:");
    // inode 2, the root directory, is the second entry of the first table
    let mut bytes = std::fs::read(&data).unwrap();
    let at = (table * block + inode_size) as usize;
    bytes[at..at + inode_size as usize].fill(0);
    std::fs::write(&data, &bytes).unwrap();
    tool("debugfs", &["-w", "-R", "ssv state 0", d]);
    // into a copy of disk.img, at the data partition's place
    let mut whole = std::fs::read(images.join("disk.img")).unwrap();
    let last = whole.len() as u64 / 512 - 1;
    let parts = {
        let b = &whole;
        let mut read = |lba: u64, n: u64| {
            b.get((lba * 512) as usize..((lba + n) * 512) as usize)
                .map(|s| s.to_vec())
        };
        ::common::partition::gpt(&mut read, last).unwrap()
    };
    let part = parts.iter().find(|p| p.name == "ferrite-data").unwrap();
    let start = (part.first_lba * 512) as usize;
    let bytes = std::fs::read(&data).unwrap();
    whole[start..start + bytes.len()].copy_from_slice(&bytes);
    std::fs::write(&disk, &whole).unwrap();
    let mut vm = Vm::boot_image(&board, &images, true, Some(&disk));
    vm.expect("e2fsck -p could not fix it; trying e2fsck -y", BOOT);
    vm.login(BOOT);
    vm.says(
        "grep ' /data ' /proc/mounts | cut -d' ' -f1-3; echo x > /etc/repaired && echo wrote=$?\n",
        &["/dev/vda2 /data ext4", "wrote=0"],
    );
    assert!(
        !vm.output().contains("made an empty ext4 one"),
        "repaired, not made anew"
    );
    vm.send("poweroff\n");
    vm.shuts_down(
        "ferrite init: power off: stopping services",
        "QEMU did not exit after poweroff",
    );
}

/// The power-cut test's service and checker, added to the default board.
const POWER_CUT_FILES: &str = r##"
[[file]]
path = "/etc/service/writer/run"
source = "../tests/data/power-cut-writer.sh"
mode = 0o755

[[file]]
path = "/etc/service/writer/log/run"
content = "#!/bin/sh\nmkdir -p /data/log/writer\necho s4096 > /data/log/writer/config\nexec svlogd /data/log/writer\n"
mode = 0o755

[[file]]
path = "/bin/pc-check"
source = "../tests/data/power-cut-check.sh"
mode = 0o755
"##;

/// 20 times: boot disk.img while a service writes to the data partition
/// (numbered log lines through svlogd, rotated every 4 KB; a file under
/// /etc replaced atomically; DHCP renewals rewriting the lease state), then
/// kill QEMU with SIGKILL at a random moment. Each next boot mounts data
/// (journal replay), finds every file parsing (old or new, never torn) and
/// every rotated log file whole, and reaches the login prompt. What this
/// cannot show: killing QEMU loses the guest's unsynced pages, not a
/// disk's volatile write cache.
#[test]
fn power_cuts_while_data_is_written_leave_every_file_whole() {
    if !image_ready("qemu-x86_64") {
        return;
    }
    let dir = TempDir::new("power-cut");
    let board = build_x86_image(
        &(default_board_text() + POWER_CUT_FILES),
        &dir.join("image"),
    );
    let disk = dir.join("disk.img");
    std::fs::copy(dir.join("image/disk.img"), &disk).unwrap();
    let mut seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    const CUTS: u32 = 20;
    let (mut bad, mut lines, mut cut_after) = (Vec::new(), 0u64, Vec::new());
    for cycle in 0..=CUTS {
        let mut vm = Vm::boot_image(&board, &dir.join("image"), true, Some(&disk));
        vm.expect("ferrite login: ", BOOT);
        vm.send("root\n");
        vm.expect("# ", STEP);
        vm.send("pc-check\n");
        vm.expect("PC-CHECK bad=", STEP);
        vm.expect("\n", STEP);
        let out = vm.output();
        let result = out[out.rfind("PC-CHECK bad=").unwrap()..]
            .lines()
            .next()
            .unwrap()
            .to_string();
        for l in out.lines().filter(|l| l.starts_with("PC-BAD")) {
            bad.push(format!("boot {cycle}: {l}"));
        }
        if out.contains("nothing persists") {
            bad.push(format!("boot {cycle}: the data partition was not mounted"));
        }
        lines = result
            .split("lines=")
            .nth(1)
            .and_then(|n| n.trim().parse().ok())
            .unwrap_or(0);
        if cycle == CUTS {
            vm.send("poweroff\n");
            vm.expect("ferrite init: power off: stopping services", STEP);
            assert!(vm.wait_exit(Duration::from_secs(60)).is_some());
            break;
        }
        // the writer runs a random 0.3 to 3 s, then the power goes
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let ms = 300 + (seed >> 33) % 2700;
        cut_after.push(ms);
        std::thread::sleep(Duration::from_millis(ms));
        let _ = vm.child.kill();
        let _ = vm.child.wait();
    }
    eprintln!(
        "power cuts: {CUTS} cuts after {:?} ms of writing; {} boots checked, {} bad; {lines} log lines read back at the last boot",
        cut_after,
        CUTS + 1,
        bad.len()
    );
    assert!(bad.is_empty(), "{bad:#?}");
}

/// A board with `[disk] failsafe = true` and `logs_mib = 8`: /etc is the
/// image's, read-only, while the lease state still persists; the logs live
/// on the data partition within their share and outlive a reboot.
#[test]
fn a_failsafe_board_keeps_etc_as_built_and_capped_logs_on_data() {
    if !image_ready("qemu-x86_64") {
        return;
    }
    let dir = TempDir::new("disk-failsafe");
    let text = default_board_text().replace(
        "data_mib = 64\n",
        "data_mib = 64\nfailsafe = true\nlogs_mib = 8\n",
    );
    assert!(
        text.contains("logs_mib = 8"),
        "the default board has [disk]"
    );
    let images = dir.join("image");
    let board = build_x86_image(&text, &images);
    let disk = dir.join("disk.img");
    std::fs::copy(images.join("disk.img"), &disk).unwrap();
    let mut vm = Vm::boot_image(&board, &images, false, Some(&disk));
    vm.expect("logs kept on the data partition", BOOT);
    vm.expect("failsafe: /etc is the image's", BOOT);
    vm.login(BOOT);
    vm.says(
        "echo x > /etc/ferrite-test 2>&1; echo wrote=$?\n",
        &["Read-only file system", "wrote=1"],
    );
    // each logger's share of the 8 MiB: 4 files of at most s bytes
    let log = "/var/log/service/dhcp_eth0";
    vm.says(
        &format!("i=0; while [ $i -lt 120 ] && ! grep -q 'lease of' {log}/current; do sleep 0.25; i=$((i+1)); done; grep -c 'lease of' {log}/current; cat {log}/config; grep ' /var/log ' /proc/mounts | cut -d' ' -f1\n"),
        &["logs_mib", "n3", "/dev/vda2"],
    );
    vm.says("sync; reboot\n", &["reboot: stopping services"]);
    vm.expect("logs kept on the data partition", BOOT);
    vm.login(BOOT);
    // the first boot's lines are still there, and the second boot's come
    // after them (its DHCP remembers the lease: INIT-REBOOT)
    vm.says(
        &format!("i=0; while [ $i -lt 120 ] && ! grep -q remembered {log}/current; do sleep 0.25; i=$((i+1)); done; echo boots=$(cat {log}/current {log}/@* 2>/dev/null | grep -c 'ferrite init\\|lease of'); grep -o 'lease of [0-9.]* remembered' {log}/current\n"),
        &["lease of 10.0.2.15 remembered"],
    );
    let out = vm.output();
    let boots: u32 = out
        .rsplit("boots=")
        .next()
        .and_then(|s| s.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(boots >= 2, "lines of both boots in the log: {boots}");
    vm.send("poweroff\n");
    vm.shuts_down(
        "ferrite init: power off: stopping services",
        "QEMU did not exit after poweroff",
    );
}

/// A free TCP port on the loopback (for QEMU's hostfwd).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(program).exists()))
        .unwrap_or(false)
}

/// `ssh` to the guest's port 22 through `port`, as root with the key
/// `dir/id`, host keys in `dir/known_hosts` checked as `strict` says
/// (`accept-new`, `yes`); retried until it runs `command` and exits 0
/// within `wait` (each try at most 90 s). Returns what it printed.
fn ssh_until(port: u16, dir: &Path, strict: &str, command: &str, wait: Duration) -> String {
    let t0 = Instant::now();
    let mut last = String::new();
    while t0.elapsed() < wait {
        let mut child = std::process::Command::new("ssh")
            .args(["-F", "/dev/null", "-p", &port.to_string(), "-i"])
            .arg(dir.join("id"))
            .args(["-o", "BatchMode=yes", "-o", "IdentitiesOnly=yes"])
            .args(["-o", "ConnectTimeout=30", "-o", "ServerAliveInterval=10"])
            .args(["-o", &format!("StrictHostKeyChecking={strict}")])
            .arg("-o")
            .arg(format!(
                "UserKnownHostsFile={}",
                dir.join("known_hosts").display()
            ))
            .args(["root@127.0.0.1", command])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cannot run ssh");
        let started = Instant::now();
        let status = loop {
            if let Ok(Some(st)) = child.try_wait() {
                break Some(st);
            }
            if started.elapsed() > Duration::from_secs(90) {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(100));
        };
        let mut out = String::new();
        let mut err = String::new();
        if let Some(mut o) = child.stdout.take() {
            let _ = o.read_to_string(&mut out);
        }
        if let Some(mut e) = child.stderr.take() {
            let _ = e.read_to_string(&mut err);
        }
        if status.is_some_and(|s| s.success()) {
            return out;
        }
        last = format!("{status:?}\n{out}\n{err}");
        std::thread::sleep(Duration::from_secs(2));
    }
    panic!("ssh to the guest did not work within {wait:?}; the last try:\n{last}");
}

/// An image with Debian's dropbear-bin and nftables (issue 14): only what
/// the programs load comes in with them, `ssh` from the host through
/// QEMU's hostfwd logs in with a key and runs a command, fw's
/// firewall.nft is loaded (`nft list ruleset` shows it), and after a
/// `reboot` of the disk image the host key is the one of the first boot
/// (made by `dropbear -R` under /etc, kept on the data partition).
#[test]
fn an_image_with_dropbear_and_nftables_takes_ssh_and_loads_the_firewall() {
    if !image_ready("qemu-x86_64")
        || !require(
            "ssh and ssh-keygen (openssh-client)",
            on_path("ssh") && on_path("ssh-keygen"),
        )
    {
        return;
    }
    let dir = TempDir::new("packages");
    let (rc, _, err) = run(std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "ferrite-test", "-f"])
        .arg(dir.join("id")));
    assert_eq!(rc, 0, "ssh-keygen: {err}");
    let public = std::fs::read_to_string(dir.join("id.pub")).unwrap();
    let text = std::fs::read_to_string(repo().join("tests/data/boards/qemu-x86_64-packages.toml"))
        .unwrap()
        + &format!(
            "\n[[file]]\npath = \"/root/.ssh/authorized_keys\"\ncontent = {:?}\nmode = 0o600\n",
            public.trim()
        );
    let images = dir.join("image");
    let board = build_x86_image(&text, &images);

    // what came in: the programs and what they load, not the rest
    let contents = std::fs::read_to_string(images.join("contents.txt")).unwrap();
    for want in [
        "/usr/sbin/dropbear ",
        "/usr/sbin/nft ",
        "/lib/x86_64-linux-gnu/libc.so.6 ",
        "/usr/lib/x86_64-linux-gnu/libtomcrypt.so.1 -> ",
        "/usr/lib/x86_64-linux-gnu/libnftables.so.1 -> ",
        "/lib64/ld-linux-x86-64.so.2 -> /lib/x86_64-linux-gnu/ld-linux-x86-64.so.2",
    ] {
        assert!(contents.contains(want), "{want} not in the image");
    }
    for not in [
        "/usr/share/doc",
        "/usr/share/man",
        "libgcc_s.so",
        "/gconv/",
        "libm.so",
    ] {
        assert!(!contents.contains(not), "{not} is in the image, unneeded");
    }
    assert!(
        !contents.contains("/sbin/e2fsck"),
        "[disk] packages stay out of the initramfs"
    );

    let disk = dir.join("disk.img");
    std::fs::copy(images.join("disk.img"), &disk).unwrap();
    let port = free_port();
    let mut vm = Vm::boot_with(
        &board,
        &images,
        false,
        Some(&disk),
        &[format!("tcp:127.0.0.1:{port}-:22")],
    );
    vm.expect("root /dev/vda1 mounted read-only", BOOT);
    vm.expect("ferrite login: ", BOOT);
    // fw loads the ruleset once it has applied the lease
    let out = ssh_until(
        port,
        dir.path(),
        "accept-new",
        "echo ssh-$((6*7)); i=0; while [ $i -lt 120 ] && ! /usr/sbin/nft list tables | grep -q ferrite_test; do sleep 0.25; i=$((i+1)); done; /usr/sbin/nft list ruleset; grep -h firewall /var/log/service/fw/current; /sbin/e2fsck -V 2>&1 | head -1",
        Duration::from_secs(240),
    );
    for want in [
        "ssh-42",
        "table inet ferrite_test",
        "tcp dport 22 counter packets",
        "firewall.nft loaded",
        "e2fsck 1.47",
    ] {
        assert!(out.contains(want), "{want:?} not in:\n{out}");
    }
    // the host key outlives a reboot: ssh checks it strictly the second time
    vm.send("root\n");
    vm.expect("# ", STEP);
    vm.says("reboot\n", &["reboot: stopping services"]);
    vm.expect("root /dev/vda1 mounted read-only", BOOT);
    vm.expect("ferrite login: ", BOOT);
    let out = ssh_until(
        port,
        dir.path(),
        "yes",
        "echo again-$((6*7)); ls /etc/dropbear",
        Duration::from_secs(240),
    );
    assert!(out.contains("again-42"), "{out}");
    assert!(out.contains("dropbear_ed25519_host_key"), "{out}");
    vm.send("root\n");
    vm.expect("# ", STEP);
    vm.send("poweroff\n");
    vm.shuts_down(
        "ferrite init: power off: stopping services",
        "QEMU did not exit after poweroff",
    );
}

/// Readiness on the booted box (issue 15): the native services say when
/// they are ready through runsv's notification-fd, so `sv -w 30 start
/// dhcp_eth0` returns once the client holds its lease (not when it was
/// forked), and `sv -w 30 check` asks each one's `./check` about now.
#[test]
fn sv_waits_for_the_lease_and_the_native_services_report_readiness() {
    if !image_ready("qemu-x86_64") {
        return;
    }
    let mut vm = Vm::boot("qemu-x86_64", true);
    vm.login(BOOT);
    let state = "/var/lib/ferrite/dhcp/eth0.lease";
    // ifplugd starts them when it sees the carrier; sv -w waits until
    // each says it is ready: the lease held, the link-local address claimed
    vm.says(
        &format!("sv -w 30 start dhcp_eth0 zcip_eth0; echo started=$?; cut -d' ' -f1 {state}; ip -4 addr show dev eth0 | grep -c 'inet 169.254'; sv status getty_ttyS0 ifplugd_eth0 dhcp_eth0 zcip_eth0 fw\n"),
        &["started=0", "10.0.2.15", "\n1", "run: getty_ttyS0: (pid "],
    );
    let out = vm.output();
    for s in ["getty_ttyS0", "ifplugd_eth0", "dhcp_eth0", "zcip_eth0"] {
        let line = out
            .lines()
            .rev()
            .find(|l| l.starts_with(&format!("run: {s}:")))
            .unwrap_or_else(|| panic!("no status of {s}: {out}"));
        assert!(line.contains("; ready "), "{s} reports readiness: {line}");
    }
    // the checks test the state now
    vm.says(
        "sv -w 30 check dhcp_eth0 zcip_eth0 fw; echo checked=$?\n",
        &["checked=0"],
    );
    // IPv6 (issue 16): the kernel's SLAAC address from QEMU's router
    // advertisements (fec0::/64) stays on eth0 through fw's runs, and
    // dhcp6_eth0, seeing M=0 O=0, says so, is ready and sends nothing (no
    // UDP over IPv6 left the box at all; dhcp6 is its only user)
    vm.says(
        "i=0; while [ $i -lt 120 ] && ! ip -6 addr show dev eth0 | grep -q 'inet6 fec0::.*/64'; do sleep 0.25; i=$((i+1)); done; \
         i=0; while [ $i -lt 120 ] && ! grep -q 'M=0 O=0' /var/log/service/dhcp6_eth0/current; do sleep 0.25; i=$((i+1)); done; \
         echo slaac=$(ip -6 addr show dev eth0 | grep -c 'inet6 fec0::.*/64') ipconf=$(ls /var/run/service/fw | grep -c dhcp6) \
         udp6=$(awk '/^Udp6OutDatagrams/ {print $2}' /proc/net/snmp6); \
         grep -h 'M=0 O=0' /var/log/service/dhcp6_eth0/current; sv status dhcp6_eth0\n",
        &[
            "slaac=1 ipconf=0 udp6=0",
            "dhcp6: router advertisement: M=0 O=0: no DHCPv6 on this link, nothing sent",
            "run: dhcp6_eth0: (pid ",
        ],
    );
    let out = vm.output();
    let line = out
        .lines()
        .rev()
        .find(|l| l.starts_with("run: dhcp6_eth0:"))
        .unwrap_or_default();
    assert!(
        line.contains("; ready "),
        "dhcp6_eth0 reports readiness: {line}"
    );
    // restarted without its state, sv returns only once the lease is back
    vm.says(
        &format!("sv -w 10 down dhcp_eth0; rm -f {state}; sv -w 30 start dhcp_eth0; echo again=$?; cut -d' ' -f1 {state}\n"),
        &["again=0", "10.0.2.15"],
    );
    vm.send("poweroff\n");
    vm.shuts_down(
        "ferrite init: power off: stopping services",
        "QEMU did not exit after poweroff",
    );
}

/// A dynamically linked program put into an image without its libraries
/// (here the build machine's own `true`, through a board `[[file]]`) fails
/// the build with a message naming the program and each missing library.
#[test]
fn a_program_without_its_libraries_fails_the_build_naming_them() {
    if !image_ready("qemu-x86_64") {
        return;
    }
    let host_true = std::fs::read("/bin/true").unwrap_or_default();
    let needs = ::common::elf::dynamic(&host_true).unwrap_or_default();
    if !require(
        "a dynamically linked /bin/true (glibc) on the build machine",
        needs.needed.iter().any(|n| n == "libc.so.6") && needs.interp.is_some(),
    ) {
        return;
    }
    let dir = TempDir::new("missing-lib");
    let text = default_board_text()
        + "\n[[file]]\npath = \"/usr/bin/hosttrue\"\nsource = \"/bin/true\"\nmode = 0o755\n";
    let board = rootfs::board::Board::parse(&text, "test board").unwrap();
    let inputs = rootfs::image::Inputs {
        repo: repo(),
        out: dir.join("image"),
        ferrite: Some(repo().join("target/x86_64-unknown-linux-musl/release/ferrite")),
        kernel: None,
        firmware: None,
    };
    let e = rootfs::image::build(&board, &repo().join("board-configs"), &inputs).unwrap_err();
    let interp = needs.interp.unwrap();
    assert!(
        e.contains(&format!(
            "/usr/bin/hosttrue needs its interpreter {interp}, libc.so.6, not in the image"
        )),
        "{e}"
    );
    assert!(
        !dir.join("image/initramfs.cpio.gz").exists(),
        "no image is written"
    );
}

/// The boot draws its own timeline (issue 15): `sv timeline` on the booted
/// default board shows the console getty spawned and ready, and `sv
/// timeline --svg`, fetched through the serial console as base64, is
/// well-formed XML (python3's parser) with a row for every service of the
/// image and its logger. Kept as target/boot-timeline.svg.
#[test]
fn the_boot_timeline_has_every_service_and_the_getty_ready() {
    if !image_ready("qemu-x86_64") {
        return;
    }
    if !require("python3", on_path("python3")) {
        return;
    }
    let entries = image_entries(&repo().join("target/images/qemu-x86_64/initramfs.cpio.gz"));
    let mut services: Vec<String> = entries
        .iter()
        .filter_map(|e| {
            let rest = e.0.strip_prefix("etc/service/")?;
            let name = rest.strip_suffix("/run")?;
            Some(name.to_string())
        })
        .collect();
    services.sort();
    assert!(services.len() >= 5, "{services:?}");
    let mut vm = Vm::boot("qemu-x86_64", true);
    vm.login(BOOT);
    // the table: getty_ttyS0 spawned, then ready once its prompt was out
    vm.says(
        "sv timeline getty_ttyS0 | grep -c -e '^getty_ttyS0 *spawned' -e '^getty_ttyS0 *ready'\n",
        &["\n2\r\n"],
    );
    vm.send("echo TL-''BEGIN; sv timeline --svg | busybox base64; echo TL-''END\n");
    vm.expect("TL-BEGIN\r\n", STEP);
    let from = vm.seen;
    vm.expect("TL-END", Duration::from_secs(120));
    let raw = vm.out.lock().unwrap()[from..vm.seen].to_vec();
    let text = String::from_utf8_lossy(&raw);
    // only the base64 lines: a console line of the kernel's or init's
    // (the modules load beside the boot) may come in between
    let b64: String = text
        .trim_end_matches("TL-END")
        .lines()
        .map(str::trim)
        .filter(|l| {
            l.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
        })
        .collect();
    let artefact = repo().join("target/boot-timeline.svg");
    let py = "import sys, base64, xml.etree.ElementTree as E\n\
              svg = base64.b64decode(sys.stdin.read())\n\
              open(sys.argv[1], 'wb').write(svg)\n\
              r = E.fromstring(svg)\n\
              print('\\n'.join(t.text or '' for t in r.iter('{http://www.w3.org/2000/svg}text')))";
    let mut p = std::process::Command::new("python3")
        .args(["-c", py])
        .arg(&artefact)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    p.stdin.take().unwrap().write_all(b64.as_bytes()).unwrap();
    let o = p.wait_with_output().unwrap();
    assert!(
        o.status.success(),
        "the SVG is not well-formed XML: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    let texts = String::from_utf8_lossy(&o.stdout).into_owned();
    let rows: Vec<&str> = texts.lines().collect();
    assert!(rows.contains(&"kernel"), "{texts}");
    for s in &services {
        assert!(rows.contains(&s.as_str()), "no row for {s}: {texts}");
        if entries
            .iter()
            .any(|e| e.0 == format!("etc/service/{s}/log/run"))
        {
            let log = format!("{s}/log");
            assert!(rows.contains(&log.as_str()), "no row for {log}: {texts}");
        }
    }
    vm.send("poweroff\n");
    vm.shuts_down(
        "ferrite init: power off: stopping services",
        "QEMU did not exit after poweroff",
    );
}

// ---- the router board (issue 16) -------------------------------------------

/// Tap devices made here for QEMU and moved into the test's namespaces;
/// removed wherever they are when dropped (also when the test fails).
struct Taps(Vec<(String, String)>);

impl Drop for Taps {
    fn drop(&mut self) {
        for (tap, ns) in &self.0 {
            for args in [
                vec!["-n", ns.as_str(), "link", "del", tap.as_str()],
                vec!["link", "del", tap.as_str()],
            ] {
                let _ = std::process::Command::new("ip")
                    .args(&args)
                    .stderr(Stdio::null())
                    .status();
            }
        }
    }
}

/// The router's surroundings: an ISP namespace on its WAN tap (10.9.0.1/24,
/// dnsmasq for DHCPv4), a LAN host namespace on its LAN tap (the kernel and
/// a DHCPv4 client only). Fields drop in order: the daemons, the taps, the
/// namespaces.
struct RouterLab {
    daemons: Vec<common::lab::Daemon>,
    kea: Option<Guard>,
    _taps: Taps,
    isp: Netns,
    lan: Netns,
    dir: TempDir,
    wan_tap: String,
    lan_tap: String,
}

impl RouterLab {
    fn new() -> RouterLab {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let id = format!("{}{n}", std::process::id() % 100000);
        let (wan_tap, lan_tap) = (format!("frw{id}"), format!("frl{id}"));
        let isp = Netns::new("isp");
        let lan = Netns::new("lan");
        let taps = Taps(vec![
            (wan_tap.clone(), isp.0.clone()),
            (lan_tap.clone(), lan.0.clone()),
        ]);
        for t in [&wan_tap, &lan_tap] {
            // left down here: nothing of this namespace answers the guest
            ip(&["tuntap", "add", "dev", t, "mode", "tap"]);
        }
        for ns in [&isp, &lan] {
            for kv in [
                "net.ipv6.conf.default.accept_dad=0",
                "net.ipv6.conf.all.accept_dad=0",
            ] {
                ns.run(&["sysctl", "-q", "-w", kv]);
            }
        }
        RouterLab {
            daemons: Vec::new(),
            kea: None,
            _taps: taps,
            isp,
            lan,
            dir: TempDir::new("router"),
            wan_tap,
            lan_tap,
        }
    }

    /// Once QEMU holds both taps (its fdinfo names them), move them into
    /// their namespaces and bring them up; the ISP side gets its address.
    fn plug(&mut self, qemu_pid: u32) {
        let holds = |tap: &str| {
            let want = format!("iff:\t{tap}\n");
            std::fs::read_dir(format!("/proc/{qemu_pid}/fdinfo"))
                .map(|rd| {
                    rd.flatten()
                        .any(|e| std::fs::read_to_string(e.path()).is_ok_and(|t| t.contains(&want)))
                })
                .unwrap_or(false)
        };
        assert!(
            wait_until(STEP, || holds(&self.wan_tap) && holds(&self.lan_tap)),
            "QEMU did not open its tap devices"
        );
        ip(&["link", "set", &self.wan_tap, "netns", &self.isp.0]);
        ip(&["link", "set", &self.lan_tap, "netns", &self.lan.0]);
        self.isp
            .ip(&["addr", "add", "10.9.0.1/24", "dev", &self.wan_tap]);
        self.isp.ip(&["link", "set", &self.wan_tap, "up"]);
        self.lan.ip(&["link", "set", &self.lan_tap, "up"]);
    }

    /// The ISP's DHCPv4 server on the WAN.
    fn isp_dhcp4(&mut self) {
        let d = common::lab::dnsmasq(
            &self.isp,
            &self.wan_tap,
            "10.9.0.50,10.9.0.99,255.255.255.0,1h",
            self.dir.path(),
            None,
            &[
                "--dhcp-option=option:router,10.9.0.1",
                "--dhcp-option=option:dns-server,10.9.0.1",
            ],
        );
        self.daemons.push(d);
    }

    /// The ISP's IPv6 on the WAN: 2001:db8:1::1/64, forwarding, kea
    /// (addresses, /60 prefixes out of 2001:db8:100::/48) and radvd (the
    /// /64 for SLAAC, M and O set, every 3-10 s).
    fn isp_ipv6(&mut self) {
        self.isp.ip(&[
            "addr",
            "add",
            "2001:db8:1::1/64",
            "dev",
            &self.wan_tap,
            "nodad",
        ]);
        let conf = common::kea::kea_conf(&self.wan_tap, "2001:db8:100::", 60, "");
        self.kea = Some(common::kea::start(&self.isp, self.dir.path(), &conf, STEP));
        let d = common::radvd::start(&self.isp, &self.wan_tap, "2001:db8:1::/64", self.dir.path());
        self.daemons.push(d);
    }

    /// ferrite's DHCPv4 client on the LAN host, applying what it gets.
    fn lan_dhcp4(&mut self) {
        let d = self.dir.path();
        let mut cmd = self.lan.exec();
        // env.out goes to the working directory: the lab's
        cmd.current_dir(d)
            .arg(ferrite())
            .args(["dhcp", "--apply", "-f", "-v", "-i", &self.lan_tap])
            .arg("--state-dir")
            .arg(d.join("lan-state"))
            .arg("--fw-dir")
            .arg(d.join("lan-fw"))
            .arg("--fw-service")
            .arg(d.join("no-fw"))
            .arg("--resolv-conf")
            .arg(d.join("lan-resolv.conf"));
        let daemon = common::lab::spawn_logged(&mut cmd, d.join("lan-dhcp.log"));
        self.daemons.push(daemon);
    }

    /// The ISP's name server on 10.9.0.1 (the DHCPv4 lease names it):
    /// a dnsmasq that knows only `www.isp.example` (10.9.0.1).
    fn isp_dns(&mut self) {
        let mut cmd = self.isp.exec();
        cmd.args([
            "/usr/sbin/dnsmasq",
            "--no-daemon",
            "--keep-in-foreground",
            "--log-facility=-",
            "--port=53",
            "--listen-address=10.9.0.1",
            "--bind-interfaces",
            "--no-resolv",
            "--no-hosts",
            "--address=/www.isp.example/10.9.0.1",
        ])
        .arg(format!("--pid-file={}", self.dir.join("dns.pid").display()));
        let d = common::lab::spawn_logged(&mut cmd, self.dir.join("isp-dns.log"));
        let up = wait_until(STEP, || {
            self.isp.output(&["ss", "-uln"]).contains("10.9.0.1:53 ")
        });
        assert!(up, "the ISP's name server did not start: {}", d.log());
        self.daemons.push(d);
    }

    /// From the LAN host, ask the name server SERVER for NAME's A record
    /// (DNS_QUERY): `a=ADDR` or `failed=...`.
    fn resolve(&self, server: &str, name: &str) -> String {
        self.lan
            .output(&["python3", "-c", DNS_QUERY, server, name])
            .trim()
            .to_string()
    }

    /// A python3 TCP server in the ISP's (`isp`) or the LAN host's
    /// namespace on ADDR PORT that tells each client its address.
    fn serve(&mut self, isp: bool, addr: &str, port: u16) {
        let ns = if isp { &self.isp } else { &self.lan };
        let d = common::lab::tell_peer(ns, addr, port, self.dir.path());
        self.daemons.push(d);
    }

    /// Connect from there to ADDR PORT within `secs` seconds: `peer=ADDR`
    /// or `failed=REASON`.
    fn connect(&self, isp: bool, addr: &str, port: u16, secs: u32) -> String {
        let ns = if isp { &self.isp } else { &self.lan };
        common::lab::connect(ns, addr, port, secs)
    }
}

/// A DNS client in python3: one A query for NAME to SERVER port 53, asked
/// up to 5 times 3 s apart; prints `a=ADDR` (the answer's last record) or
/// `failed=` with the reply's first bytes.
const DNS_QUERY: &str = r#"
import socket, struct, sys
srv, name = sys.argv[1], sys.argv[2]
q = struct.pack('>HHHHHH', 0x4655, 0x0100, 1, 0, 0, 0)
q += b''.join(bytes([len(p)]) + p.encode() for p in name.split('.')) + b'\0'
q += struct.pack('>HH', 1, 1)
s = socket.socket(socket.AF_INET6 if ':' in srv else socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(3)
r = b''
for i in range(5):
    try:
        s.sendto(q, (srv, 53))
        r = s.recv(512)
        break
    except OSError:
        pass
if len(r) >= 16 and r[:2] == q[:2] and r[3] & 15 == 0 and struct.unpack('>H', r[6:8])[0] >= 1:
    print('a=' + socket.inet_ntoa(r[-4:]))
else:
    print('failed=%r' % r[:4])
"#;

fn router_prerequisites() -> bool {
    image_ready("router")
        && common::lab::prerequisites()
        && common::kea::prerequisites()
        && common::radvd::prerequisites()
        && require("python3", on_path("python3"))
}

/// The router board between an ISP and a LAN host (issue 16), both network
/// namespaces on the router's two tap NICs. IPv4: the WAN gets its lease
/// from the ISP's dnsmasq, the LAN host its own from the router's dnsmasq
/// (Debian's, from the board's packages), and reaches the ISP through the
/// router's NAT (nftables masquerade: the ISP's server sees the router's WAN
/// address) and its firewall.
#[test]
fn the_router_board_serves_its_lan_and_routes_it_to_the_isp() {
    if !router_prerequisites() {
        return;
    }
    let board = rootfs::board::Board::load(&repo().join("board-configs/router.toml")).unwrap();
    let images = repo().join("target/images/router");
    let mut lab = RouterLab::new();
    let taps = [lab.wan_tap.clone(), lab.lan_tap.clone()];
    let t0 = Instant::now();
    let mut vm = Vm::boot_taps(&board, &images, true, None, &[], &taps);
    lab.plug(vm.child.id());
    lab.isp_dhcp4();
    lab.isp_dns();
    lab.isp_ipv6();
    vm.expect("router login: ", BOOT);
    vm.send("root\n");
    vm.expect("# ", STEP);
    // the WAN's lease, the LAN's static address, the firewall loaded
    vm.says(
        "i=0; while [ $i -lt 240 ] && ! ip -4 addr show dev eth0 | grep -q 'inet 10.9.0.'; do sleep 0.25; i=$((i+1)); done; \
         ip -4 addr show dev eth1 | grep -o 'inet 192.168.1.1/24'; \
         i=0; while [ $i -lt 120 ] && ! grep -q 'firewall.*loaded' /var/log/service/fw/current; do sleep 0.25; i=$((i+1)); done; \
         echo wan=$(ip -4 -o addr show dev eth0 | grep -c 'inet 10.9.0.') fwd=$(cat /proc/sys/net/ipv4/ip_forward) nat=$(nft list table ip nat | grep -c masquerade)\n",
        &["inet 192.168.1.1/24", "wan=1 fwd=1 nat=1"],
    );
    eprintln!(
        "router: WAN lease, LAN address and firewall after {:?}",
        t0.elapsed()
    );
    vm.says("sv status dnsmasq\n", &["run: dnsmasq: (pid "]);
    // the LAN host's lease from the router's dnsmasq
    lab.lan_dhcp4();
    let t1 = Instant::now();
    let leased = wait_until(Duration::from_secs(60), || {
        lab.lan
            .output(&["ip", "-4", "addr", "show", "dev", &lab.lan_tap])
            .contains("inet 192.168.1.1")
    });
    assert!(
        leased,
        "the LAN host got no lease: {}\nconsole:\n{}",
        text_of(&lab.dir.join("lan-dhcp.log")),
        vm.tail()
    );
    eprintln!(
        "LAN host: lease from the router's dnsmasq in {:?}",
        t1.elapsed()
    );
    let routes = lab.lan.output(&["ip", "-4", "route"]);
    assert!(routes.contains("default via 192.168.1.1"), "{routes}");
    // through the router to the ISP: ping, and TCP out through the NAT
    let pinged = wait_until(STEP, || {
        lab.lan
            .exec()
            .args(["ping", "-c", "1", "-W", "2", "10.9.0.1"])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    assert!(pinged, "the LAN host cannot ping the ISP: {}", vm.tail());
    lab.serve(true, "10.9.0.1", 8080);
    let out = lab.connect(false, "10.9.0.1", 8080, 10);
    assert!(
        out.starts_with("peer=10.9.0.") && !out.contains("192.168."),
        "the ISP should see the router's WAN address (NAT): {out}"
    );
    // names: the router's dnsmasq answers the LAN, asking the ISP's server
    // the lease named (fw's resolv.conf)
    assert_eq!(
        lab.resolve("192.168.1.1", "www.isp.example"),
        "a=10.9.0.1",
        "the LAN host's DNS query to the router: {}",
        vm.tail()
    );
    // IPv6 on the WAN: a SLAAC address from radvd's /64 (the kernel's) and
    // a delegated /60 from kea (dhcp6_eth0 -P 60, in its ipconf for fw)
    let ipconf = "/var/run/service/fw/dhcp6_eth0.ipconf";
    vm.says(
        &format!(
            "i=0; while [ $i -lt 240 ] && ! grep -q '^prefix6=' {ipconf} 2>/dev/null; do sleep 0.25; i=$((i+1)); done; \
             i=0; while [ $i -lt 120 ] && ! ip -6 addr show dev eth0 | grep -q 'inet6 2001:db8:1:0:.*/64 scope global'; do sleep 0.25; i=$((i+1)); done; \
             echo pd=$(sed -n \"s/^prefix6='\\([^,]*\\),.*/\\1/p\" {ipconf}) \
             ll=$(ip -6 addr show dev eth0 scope link | sed -n 's/.*inet6 \\(fe80[^/]*\\).*/\\1/p') \
             slaac=$(ip -6 addr show dev eth0 | grep -c 'inet6 2001:db8:1:0:.*/64 scope global') =6\n"
        ),
        &["slaac=1 =6"],
    );
    let out = vm.output();
    let line = out
        .lines()
        .rev()
        .find(|l| l.starts_with("pd=") && l.contains(" =6"))
        .unwrap_or_default()
        .to_string();
    let word = |k: &str| {
        line.split_whitespace()
            .find_map(|w| w.strip_prefix(k))
            .unwrap_or_default()
            .to_string()
    };
    let (pd, ll) = (word("pd="), word("ll="));
    assert!(
        pd.starts_with("2001:db8:100:") && pd.ends_with("/60") && ll.starts_with("fe80::"),
        "delegated prefix and link-local address: {line}\nkea:\n{}",
        text_of(&lab.dir.join("kea.log"))
    );
    eprintln!("router: delegated {pd}, WAN link-local {ll}");
    // the ISP routes the delegated prefix to the router
    lab.isp
        .ip(&["-6", "route", "add", &pd, "via", &ll, "dev", &lab.wan_tap]);
    // the LAN's IPv6: fw gives eth1 PREFIX:0::1/64 of the delegated /60,
    // ra_eth1 announces it, and the LAN host makes its SLAAC address there
    let mut groups: Vec<&str> = pd
        .split("::")
        .next()
        .unwrap_or_default()
        .split(':')
        .collect();
    groups.resize(4, "0");
    let lan64 = format!("{}:", groups.join(":"));
    vm.says(
        "i=0; while [ $i -lt 120 ] && ! ip -6 addr show dev eth1 | grep -q 'inet6 2001:db8:100:[0-9a-f:]*:1/64 scope global'; do sleep 0.25; i=$((i+1)); done; \
         ip -6 addr show dev eth1 scope global | grep -c '::1/64' | sed 's/^/lan6=/'; sv status ra_eth1\n",
        &["lan6=1", "run: ra_eth1: (pid "],
    );
    // the router's side of it: eth1's ::1 carries the prefix's lifetimes
    // (dynamic), the rest of the /60 is unreachable (RFC 7084 WPD-5: no
    // loop to the ISP), forwarding is on and the WAN still takes RAs. fw
    // sets these in one run, after the address the loop above waited for,
    // so the guest looks again for up to 10 s before it answers.
    vm.says(
        &format!(
            "i=0; while [ $i -lt 40 ]; do \
             s=$(ip -6 addr show dev eth1 scope global | grep -c '::1/64 scope global dynamic')\
$(ip -6 route | grep -c '^unreachable {pd}')\
$(cat /proc/sys/net/ipv6/conf/all/forwarding)$(cat /proc/sys/net/ipv6/conf/eth0/accept_ra); \
             [ \"$s\" = 1112 ] && break; sleep 0.25; i=$((i+1)); done; echo side6=$s.\n"
        ),
        &["side6=1112."],
    );
    let host_addr = || {
        lab.lan
            .output(&[
                "ip",
                "-6",
                "-o",
                "addr",
                "show",
                "dev",
                &lab.lan_tap,
                "scope",
                "global",
            ])
            .split_whitespace()
            .find(|w| w.starts_with(&lan64))
            .map(|w| w.split('/').next().unwrap_or_default().to_string())
    };
    assert!(
        wait_until(Duration::from_secs(60), || host_addr().is_some()),
        "the LAN host made no address in {lan64}:/64: {}\nconsole:\n{}",
        lab.lan.output(&["ip", "-6", "addr"]),
        vm.tail()
    );
    let host6 = host_addr().unwrap_or_default();
    eprintln!("LAN host: SLAAC address {host6} from ra_eth1");
    let pinged6 = wait_until(STEP, || {
        lab.lan
            .exec()
            .args(["ping", "-6", "-c", "1", "-W", "2", "2001:db8:1::1"])
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    });
    assert!(
        pinged6,
        "the LAN host cannot ping the ISP over IPv6: {}\n{}",
        lab.lan.output(&["ip", "-6", "route"]),
        vm.tail()
    );
    // the router's name server over IPv6 too, at its LAN address
    assert_eq!(
        lab.resolve(&format!("{lan64}:1"), "www.isp.example"),
        "a=10.9.0.1",
        "the LAN host's DNS query to the router over IPv6"
    );
    // out over IPv6 with its own address (no NAT); in from the ISP: dropped
    lab.serve(true, "2001:db8:1::1", 8081);
    let out = lab.connect(false, "2001:db8:1::1", 8081, 10);
    assert_eq!(
        out,
        format!("peer={host6}"),
        "the LAN host's connection out over IPv6"
    );
    lab.serve(false, &host6, 8082);
    let inward = lab.connect(true, &host6, 8082, 3);
    // dropped, not refused (RFC 6092): the connect times out unanswered
    assert!(
        inward.starts_with("failed=") && !inward.contains("Refused"),
        "the router's firewall let the ISP connect into the LAN: {inward}"
    );

    vm.send("poweroff\n");
    vm.shuts_down(
        "ferrite init: power off: stopping services",
        "QEMU did not exit after poweroff",
    );
}
