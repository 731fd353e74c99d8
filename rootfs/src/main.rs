//! `ferrite-rootfs`: the host tool behind `make image` and `make qemu`.
//!
//!   ferrite-rootfs image BOARD.toml [--ferrite BIN] [--kernel IMAGE] [--firmware DIR] [--out DIR]
//!   ferrite-rootfs qemu  BOARD.toml [--out DIR] [--monitor SOCK] [--no-reboot] [--ram] [--hostfwd RULE]... [--tap IF]...
//!   ferrite-rootfs cpio  DIR OUT.cpio.gz      (any directory as an initramfs)
//!   ferrite-rootfs monitor BOARD.toml|SOCK COMMAND...   (e.g. `set_link n0 off`)

use rootfs::board::Board;
use rootfs::image::{build, Inputs, Tree};
use std::path::{Path, PathBuf};

const USAGE: &str =
    "usage: ferrite-rootfs image BOARD.toml [--ferrite BIN] [--kernel IMAGE] [--firmware DIR] [--out DIR]\n       \
ferrite-rootfs qemu BOARD.toml [--out DIR] [--monitor SOCK] [--no-reboot] [--ram] [--hostfwd RULE]... [--tap IF]...\n       \
ferrite-rootfs cpio DIR OUT.cpio.gz\n       \
ferrite-rootfs monitor BOARD.toml|SOCK COMMAND...";

struct Args {
    cmd: String,
    board: PathBuf,
    out: Option<PathBuf>,
    ferrite: Option<PathBuf>,
    kernel: Option<PathBuf>,
    /// the Pi's GPU firmware for sdcard.img
    firmware: Option<PathBuf>,
    monitor: Option<PathBuf>,
    no_reboot: bool,
    /// boot the initramfs alone, not the board's disk image
    ram: bool,
    /// QEMU user-network port forwards (`tcp:127.0.0.1:2222-:22`)
    hostfwd: Vec<String>,
    /// tap devices for the board's NICs, in order (`[qemu] nics`)
    taps: Vec<String>,
    rest: Vec<String>,
}

fn parse() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let cmd = it.next().ok_or(USAGE)?;
    let mut a = Args {
        cmd,
        board: PathBuf::new(),
        out: None,
        ferrite: None,
        kernel: None,
        firmware: None,
        monitor: None,
        no_reboot: false,
        ram: false,
        hostfwd: Vec::new(),
        taps: Vec::new(),
        rest: Vec::new(),
    };
    while let Some(x) = it.next() {
        let mut val = |name: &str| {
            it.next()
                .map(PathBuf::from)
                .ok_or(format!("{name} needs a value"))
        };
        match x.as_str() {
            "--out" => a.out = Some(val("--out")?),
            "--ferrite" => a.ferrite = Some(val("--ferrite")?),
            "--kernel" => a.kernel = Some(val("--kernel")?),
            "--firmware" => a.firmware = Some(val("--firmware")?),
            "--monitor" => a.monitor = Some(val("--monitor")?),
            "--no-reboot" => a.no_reboot = true,
            "--ram" => a.ram = true,
            "--hostfwd" => a
                .hostfwd
                .push(val("--hostfwd")?.to_string_lossy().into_owned()),
            "--tap" => a.taps.push(val("--tap")?.to_string_lossy().into_owned()),
            s if s.starts_with("--") => return Err(format!("unknown option {s}\n{USAGE}")),
            _ => a.rest.push(x),
        }
    }
    if let Some(b) = a.rest.first() {
        a.board = PathBuf::from(b);
    }
    Ok(a)
}

fn default_monitor(board: &Board) -> PathBuf {
    std::env::temp_dir().join(format!("ferrite-{}-monitor.sock", board.name))
}

/// Remove terminal escape sequences (`ESC [ ... letter`).
fn strip_escapes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c == '\x1b' {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else if c != '\r' {
            out.push(c);
        }
    }
    out
}

/// Send one command to a QEMU monitor socket and print its answer.
fn monitor(sock: &Path, cmd: &str) -> Result<i32, String> {
    use std::io::{Read, Write};
    let mut s = std::os::unix::net::UnixStream::connect(sock)
        .map_err(|e| format!("{}: {e} (is `make qemu` running?)", sock.display()))?;
    s.set_read_timeout(Some(std::time::Duration::from_millis(300)))
        .map_err(|e| e.to_string())?;
    let mut buf = [0u8; 4096];
    while matches!(s.read(&mut buf), Ok(n) if n > 0) {}
    s.write_all(format!("{cmd}\n").as_bytes())
        .map_err(|e| e.to_string())?;
    let mut answer = Vec::new();
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        answer.extend_from_slice(&buf[..n]);
    }
    // The monitor echoes the command (with line-editing escapes) on the first line.
    let text = String::from_utf8_lossy(&answer);
    let text = text.split_once('\n').map_or("", |(_, rest)| rest);
    let text = strip_escapes(text).replace("(qemu)", "");
    let text = text.trim();
    if !text.is_empty() {
        println!("{text}");
    }
    Ok(0)
}

/// Copy QEMU's console to our stdout; at the first login prompt send
/// `plug` to the monitor (the NIC of a `nic_hotplug` board).
fn console_then_plug(mut out: impl std::io::Read, sock: &Path, plug: &str) {
    use std::io::Write;
    let want = b"login: ";
    let mut tail: Vec<u8> = Vec::new();
    let mut plugged = false;
    let mut buf = [0u8; 4096];
    let mut stdout = std::io::stdout();
    while let Ok(n) = out.read(&mut buf) {
        if n == 0 {
            break;
        }
        let _ = stdout.write_all(&buf[..n]);
        let _ = stdout.flush();
        if !plugged {
            tail.extend_from_slice(&buf[..n]);
            if tail.windows(want.len()).any(|w| w == want) {
                plugged = true;
                if let Err(e) = monitor(sock, plug) {
                    eprintln!("ferrite-rootfs: {e}");
                }
            }
            let keep = tail.len().saturating_sub(want.len());
            tail.drain(..keep);
        }
    }
}

fn image_dir(board: &Board, out: &Option<PathBuf>) -> PathBuf {
    out.clone()
        .unwrap_or_else(|| PathBuf::from("target/images").join(&board.name))
}

fn load_board(path: &Path) -> Result<(Board, PathBuf), String> {
    if path.as_os_str().is_empty() {
        return Err(USAGE.into());
    }
    let board = Board::load(path)?;
    let dir = path.parent().unwrap_or(Path::new(".")).to_path_buf();
    Ok((board, dir))
}

fn run() -> Result<i32, String> {
    let a = parse()?;
    match a.cmd.as_str() {
        "image" => {
            let (board, dir) = load_board(&a.board)?;
            let out = image_dir(&board, &a.out);
            let inputs = Inputs {
                repo: std::env::current_dir().map_err(|e| e.to_string())?,
                out: out.clone(),
                ferrite: a.ferrite,
                kernel: a.kernel,
                firmware: a.firmware,
            };
            let tree = build(&board, &dir, &inputs)?;
            let size = |p: &Path| std::fs::metadata(p).map(|m| m.len()).unwrap_or(0);
            let initramfs = out.join("initramfs.cpio.gz");
            println!(
                "{}: {} entries, {} bytes",
                initramfs.display(),
                tree.nodes.len(),
                size(&initramfs)
            );
            let kernel = out.join("vmlinuz");
            if kernel.exists() {
                println!("{}: {} bytes", kernel.display(), size(&kernel));
            }
            // the flashable images (issue 14), for boards with a [disk]
            if let Some(d) = &board.disk {
                let last = if d.sdcard.is_some() {
                    ["boot.img", "sdcard.img"]
                } else {
                    ["disk.img", ""]
                };
                let files = ["initrd.cpio.gz", "root.img", "data.img"];
                for f in files.iter().chain(&last).filter(|f| !f.is_empty()) {
                    let p = out.join(f);
                    println!("{}: {} bytes", p.display(), size(&p));
                }
            }
            if let Some(notes) = &board.install_notes {
                println!(
                    "\n{}",
                    notes
                        .trim_end()
                        .replace("{out}", &out.display().to_string())
                );
            }
            Ok(0)
        }
        "qemu" => {
            let (board, _) = load_board(&a.board)?;
            let out = image_dir(&board, &a.out);
            if !out.join("initramfs.cpio.gz").exists() {
                return Err(format!(
                    "no image in {}: run `make image BOARD={}` first",
                    out.display(),
                    board.name
                ));
            }
            let monitor = a.monitor.unwrap_or_else(|| default_monitor(&board));
            let _ = std::fs::remove_file(&monitor);
            // a board with [disk] boots its disk image, kept between runs
            let disk = match &board.disk {
                Some(d) if !a.ram && d.sdcard.is_some() => Some(rootfs::sdcard::live_copy(&out)?),
                Some(_) if !a.ram => Some(rootfs::disk::live_copy(&out)?),
                _ => None,
            };
            let mut cmd = rootfs::qemu::command_with_taps(
                &board,
                &out,
                &monitor,
                a.no_reboot,
                disk.as_deref(),
                &a.hostfwd,
                &a.taps,
            )?;
            if let Some(d) = &disk {
                eprintln!(
                    "ferrite-rootfs: the disk is {} (its data partition is kept when the image is rebuilt; delete the file to start afresh)",
                    d.display()
                );
            }
            eprintln!(
                "ferrite-rootfs: booting {} in QEMU (software emulation)",
                board.name
            );
            let m = monitor.display();
            let b = &board.name;
            eprintln!("  QEMU monitor on {m}; from another terminal:");
            eprintln!("    make cable-off BOARD={b}    pull the cable (set_link n0 off)");
            eprintln!("    make cable-on BOARD={b}     replug it (set_link n0 on)");
            eprintln!("    make monitor BOARD={b} CMD='info network'");
            for r in &a.hostfwd {
                eprintln!("  host port forwarded into the guest: {r}");
            }
            for (n, t) in a.taps.iter().enumerate() {
                eprintln!("  NIC {n} (eth{n}) on the tap device {t}");
            }
            eprintln!("  log in as root (no password); `poweroff` ends QEMU");
            let program = cmd.get_program().to_owned();
            let cannot = |e: std::io::Error| {
                format!("cannot run {program:?}: {e} (Debian: apt-get install qemu-system-x86 / qemu-system-arm)")
            };
            let Some(plug) = rootfs::qemu::nic_hotplug_command(&board) else {
                let st = cmd.status().map_err(cannot)?;
                return Ok(st.code().unwrap_or(1));
            };
            // the NIC goes in at the login prompt: the console passes
            // through here to be watched for it
            eprintln!("  the NIC is plugged in at the login prompt ({plug})");
            let mut child = cmd
                .stdout(std::process::Stdio::piped())
                .spawn()
                .map_err(cannot)?;
            if let Some(out) = child.stdout.take() {
                std::thread::spawn(move || console_then_plug(out, &monitor, &plug));
            }
            let st = child.wait().map_err(|e| e.to_string())?;
            Ok(st.code().unwrap_or(1))
        }
        "cpio" => {
            let (Some(dir), Some(out)) = (a.rest.first(), a.rest.get(1)) else {
                return Err(USAGE.into());
            };
            let mut t = Tree::default();
            t.copy_dir(Path::new(dir), "")?;
            t.nodes.remove("");
            t.char_dev("dev/console", 0o600, 5, 1);
            t.char_dev("dev/null", 0o666, 1, 3);
            t.write_cpio_gz(Path::new(out))?;
            Ok(0)
        }
        "monitor" => {
            let (Some(target), true) = (a.rest.first(), a.rest.len() > 1) else {
                return Err(USAGE.into());
            };
            let sock = if target.ends_with(".toml") {
                default_monitor(&Board::load(Path::new(target))?)
            } else {
                PathBuf::from(target)
            };
            monitor(&sock, &a.rest[1..].join(" "))
        }
        _ => Err(USAGE.into()),
    }
}

fn main() {
    match run() {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            eprintln!("ferrite-rootfs: {e}");
            std::process::exit(2);
        }
    }
}
