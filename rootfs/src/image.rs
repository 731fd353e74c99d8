//! Assemble the root tree of a board in memory and write it as a gzipped
//! cpio initramfs, with the kernel beside it.

use crate::board::Board;
use crate::cpio;
use crate::fetch;
use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Dir(u32),
    File(u32, Vec<u8>),
    Link(String),
    Char(u32, u32, u32),
}

/// The image's file tree; paths have no leading `/`.
#[derive(Default, Debug, Clone)]
pub struct Tree {
    pub nodes: BTreeMap<String, Node>,
}

impl Tree {
    fn parents(&mut self, path: &str) {
        let mut cur = String::new();
        let parts: Vec<&str> = path.split('/').collect();
        for p in &parts[..parts.len() - 1] {
            if !cur.is_empty() {
                cur.push('/');
            }
            cur.push_str(p);
            self.nodes.entry(cur.clone()).or_insert(Node::Dir(0o755));
        }
    }
    pub fn dir(&mut self, path: &str, perm: u32) {
        let path = path.trim_matches('/');
        self.parents(path);
        self.nodes.insert(path.to_string(), Node::Dir(perm));
    }
    pub fn file(&mut self, path: &str, perm: u32, data: Vec<u8>) {
        let path = path.trim_matches('/');
        self.parents(path);
        self.nodes.insert(path.to_string(), Node::File(perm, data));
    }
    pub fn link(&mut self, path: &str, target: &str) {
        let path = path.trim_matches('/');
        self.parents(path);
        self.nodes
            .insert(path.to_string(), Node::Link(target.to_string()));
    }
    pub fn char_dev(&mut self, path: &str, perm: u32, major: u32, minor: u32) {
        let path = path.trim_matches('/');
        self.parents(path);
        self.nodes
            .insert(path.to_string(), Node::Char(perm, major, minor));
    }

    /// Copy a directory of the build machine into the tree (links stay links).
    pub fn copy_dir(&mut self, src: &Path, dst: &str) -> Result<(), String> {
        self.dir(dst, 0o755);
        let mut entries: Vec<_> = fs::read_dir(src)
            .map_err(|e| format!("{}: {e}", src.display()))?
            .flatten()
            .collect();
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let name = e.file_name().to_string_lossy().into_owned();
            let to = format!("{}/{name}", dst.trim_end_matches('/'));
            let meta = fs::symlink_metadata(e.path()).map_err(|err| err.to_string())?;
            if meta.file_type().is_symlink() {
                let t = fs::read_link(e.path()).map_err(|err| err.to_string())?;
                self.link(&to, &t.to_string_lossy());
            } else if meta.is_dir() {
                self.copy_dir(&e.path(), &to)?;
            } else {
                use std::os::unix::fs::PermissionsExt;
                let data =
                    fs::read(e.path()).map_err(|err| format!("{}: {err}", e.path().display()))?;
                self.file(&to, meta.permissions().mode() & 0o7777, data);
            }
        }
        Ok(())
    }

    pub fn write_cpio(&self, out: impl Write) -> std::io::Result<()> {
        let mut w = cpio::Writer::new(out);
        for (path, node) in &self.nodes {
            match node {
                Node::Dir(p) => w.dir(path, *p)?,
                Node::File(p, d) => w.file(path, *p, d)?,
                Node::Link(t) => w.symlink(path, t)?,
                Node::Char(p, ma, mi) => w.char_dev(path, *p, *ma, *mi)?,
            }
        }
        w.finish()?;
        Ok(())
    }

    /// The tree as a gzipped cpio newc file at `path`.
    pub fn write_cpio_gz(&self, path: &Path) -> Result<(), String> {
        let file = fs::File::create(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let mut gz = flate2::write::GzEncoder::new(
            std::io::BufWriter::new(file),
            flate2::Compression::best(),
        );
        self.write_cpio(&mut gz)
            .and_then(|_| gz.finish())
            .and_then(|mut w| w.flush())
            .map_err(|e| format!("{}: {e}", path.display()))
    }

    pub fn manifest(&self) -> String {
        let mut s = String::new();
        for (path, node) in &self.nodes {
            let line = match node {
                Node::Dir(p) => format!("d {p:04o} /{path}\n"),
                Node::File(p, d) => format!("f {p:04o} /{path} {} bytes\n", d.len()),
                Node::Link(t) => format!("l /{path} -> {t}\n"),
                Node::Char(p, ma, mi) => format!("c {p:04o} /{path} {ma},{mi}\n"),
            };
            s.push_str(&line);
        }
        s
    }
}

/// What `build` needs besides the board.
pub struct Inputs {
    pub repo: PathBuf,
    pub out: PathBuf,
    pub ferrite: Option<PathBuf>,
    pub kernel: Option<PathBuf>,
    /// The Pi's GPU firmware for sdcard.img (`--firmware DIR`).
    pub firmware: Option<PathBuf>,
}

/// Applets of the ferrite binary (`--list`), running the host build when the
/// target binary cannot run here.
fn applets(ferrite: &Path, repo: &Path) -> Result<Vec<String>, String> {
    let out = Command::new(ferrite).arg("--list").output();
    let out = match out {
        Ok(o) if o.status.success() => o,
        _ => Command::new("cargo")
            .args(["run", "-q", "-p", "ferrite", "--", "--list"])
            .current_dir(repo)
            .output()
            .map_err(|e| format!("cannot list applets: {e}"))?,
    };
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(String::from)
        .collect())
}

/// The qemu-user emulator that runs binaries of `target` here (Debian's qemu-user-static).
pub fn user_emulator(target: &str) -> String {
    let arch = target.split('-').next().unwrap_or(target);
    format!("qemu-{arch}-static")
}

fn build_ferrite(board: &Board, repo: &Path) -> Result<PathBuf, String> {
    eprintln!("ferrite-rootfs: building ferrite for {}", board.target);
    let st = Command::new("cargo")
        .args([
            "build",
            "--release",
            "-p",
            "ferrite",
            "--target",
            &board.target,
        ])
        .current_dir(repo)
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !st.success() {
        return Err(format!(
            "cargo build for {} failed (is the target installed? `rustup target add {}`)",
            board.target, board.target
        ));
    }
    Ok(repo
        .join("target")
        .join(&board.target)
        .join("release/ferrite"))
}

/// Put `at_boot` and `on_demand` and every module they need into `t` under
/// `lib/modules/RELEASE/`, with the index files `modprobe` reads there
/// (`modules.dep`, `modules.alias`, `modules.softdep` of what is shipped,
/// and the kernel's `modules.builtin`); returns the `/etc/modules` text
/// (the load order of `at_boot`: init loads those, `modprobe` the others
/// when the kernel or a user asks for them).
fn add_modules(
    t: &mut Tree,
    at_boot: &[String],
    on_demand: &[String],
    modules_dir: Option<&Path>,
) -> Result<String, String> {
    use common::kmod::{modinfo, Found, ModInfo};
    let mut listed = String::new();
    if at_boot.is_empty() && on_demand.is_empty() {
        return Ok(listed);
    }
    let dir = modules_dir.ok_or("modules: the kernel has no module directory")?;
    let release = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // The board names what it wants; what those need comes along, in
    // the order to load them (the package has no modules.dep).
    let index = module_files(dir);
    let builtin_text = fs::read_to_string(dir.join("modules.builtin")).ok();
    let builtin = builtin_text
        .as_deref()
        .map(common::kmod::builtin_names)
        .unwrap_or_default();
    // what each module read declares, for the index files
    let mut infos = BTreeMap::<String, ModInfo>::new();
    // aliases (ext4's `softdep=pre: crypto-crc32c`) need every module's
    // info: read once, when the first one is asked for (~400 MB, ~1 s)
    let mut aliases: Option<BTreeMap<String, Vec<String>>> = None;
    let mut lookup = |m: &str| {
        if let Some(file) = index.get(m) {
            let data = fs::read(file).ok()?;
            let info = modinfo(&data).unwrap_or_default();
            infos.insert(m.to_string(), info.clone());
            return Some(Found::Module(info));
        }
        let all = aliases.get_or_insert_with(|| {
            let mut all = BTreeMap::<String, Vec<String>>::new();
            for (name, file) in &index {
                let Some(info) = fs::read(file).ok().and_then(|d| modinfo(&d)) else {
                    continue;
                };
                for a in info.aliases {
                    if let Some(a) = common::kmod::normalize_alias(&a) {
                        all.entry(a).or_default().push(name.clone());
                    }
                }
            }
            all
        });
        all.get(m).map(|mods| Found::Alias(mods.clone()))
    };
    let boot_order = common::kmod::load_order(at_boot, &mut lookup, &builtin)?;
    let demand_order = common::kmod::load_order(on_demand, &mut lookup, &builtin)
        .map_err(|e| format!("modules_on_demand: {e}"))?;
    let mut shipped = Vec::<common::kmod::Shipped>::new();
    for m in boot_order.iter().chain(&demand_order) {
        let Some(file) = index.get(m) else { continue };
        if shipped.iter().any(|s| &s.name == m) {
            continue;
        }
        let rel = file.strip_prefix(dir).map_err(|e| e.to_string())?;
        let data = fs::read(file).map_err(|e| format!("{}: {e}", file.display()))?;
        t.file(
            &format!("lib/modules/{release}/{}", rel.display()),
            0o644,
            data,
        );
        shipped.push(common::kmod::Shipped {
            name: m.clone(),
            path: rel.to_string_lossy().into_owned(),
            info: infos.get(m).cloned().unwrap_or_default(),
        });
    }
    for m in &boot_order {
        if index.contains_key(m) {
            listed.push_str(m);
            listed.push('\n');
        }
    }
    // depmod's order: the kernel's modules.order, then the rest by path
    let order = fs::read_to_string(dir.join("modules.order"))
        .map(|t| common::kmod::order_names(&t))
        .unwrap_or_default();
    shipped.sort_by_key(|s| {
        (
            order
                .iter()
                .position(|o| o == &s.name)
                .unwrap_or(usize::MAX),
            s.path.clone(),
        )
    });
    let files = common::kmod::index_files(&shipped);
    let at = |f: &str| format!("lib/modules/{release}/{f}");
    t.file(&at("modules.dep"), 0o644, files.dep.into_bytes());
    t.file(&at("modules.alias"), 0o644, files.alias.into_bytes());
    t.file(&at("modules.softdep"), 0o644, files.softdep.into_bytes());
    if let Some(b) = builtin_text {
        t.file(&at("modules.builtin"), 0o644, b.into_bytes());
    }
    Ok(listed)
}

/// Every module file under `dir`, by module name (`-` read as `_`).
fn module_files(dir: &Path) -> std::collections::BTreeMap<String, PathBuf> {
    let mut index = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = fs::read_dir(&d) else { continue };
        for e in rd.flatten() {
            let p = e.path();
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                stack.push(p);
            } else if let Some(name) = common::kmod::name_of_file(&e.file_name().to_string_lossy())
            {
                index.entry(name).or_insert(p);
            }
        }
    }
    index
}

const ISSUE: &str = "\nferrite on \\n (\\s \\r \\m), console \\l\n\n";

/// Build the image: returns the tree (also written as `initramfs.cpio.gz`,
/// `contents.txt` and, with the kernel, `vmlinuz` in `inputs.out`).
pub fn build(board: &Board, board_dir: &Path, inputs: &Inputs) -> Result<Tree, String> {
    let cache = inputs.repo.join("target/cache/debian");
    let ferrite = match &inputs.ferrite {
        Some(p) => p.clone(),
        None => build_ferrite(board, &inputs.repo)?,
    };
    let binary = fs::read(&ferrite).map_err(|e| format!("{}: {e}", ferrite.display()))?;
    // The kernel (and its modules).
    let kernel_path = inputs
        .kernel
        .clone()
        .or_else(|| board.kernel.path.as_ref().map(|p| board_dir.join(p)));
    // (the Debian kernel's device trees too, for the Pi's SD card)
    let mut dtbs = None;
    let (kernel_image, modules_dir) = match (&kernel_path, &board.kernel.debian_package) {
        (Some(k), _) => (
            Some(k.clone()),
            board.kernel.modules_dir.as_ref().map(|m| board_dir.join(m)),
        ),
        (None, Some(pkg)) => {
            let pkg = fetch::resolve(pkg, &board.kernel.arch)?;
            let root = fetch::debian_package(&cache, &pkg, &board.kernel.arch)?;
            let k = fetch::kernel_in(&root)?;
            dtbs = k.dtbs;
            (Some(k.image), k.modules)
        }
        // The board's firmware brings the kernel: the image is the initramfs.
        (None, None) => (
            None,
            board.kernel.modules_dir.as_ref().map(|m| board_dir.join(m)),
        ),
    };

    let mut t = Tree::default();
    for d in [
        "bin",
        "sbin",
        "etc",
        "proc",
        "sys",
        "dev",
        "run",
        "lib",
        "usr/bin",
        "usr/sbin",
        "var/log",
        "etc/ferrite",
    ] {
        t.dir(d, 0o755);
    }
    t.dir("tmp", 0o1777);
    t.dir("root", 0o700);
    t.char_dev("dev/console", 0o600, 5, 1);
    t.char_dev("dev/null", 0o666, 1, 3);
    t.link("var/run", "../run");
    t.link("var/service", "../run/service");
    t.file("bin/ferrite", 0o755, binary.clone());
    t.link("init", "bin/ferrite");

    let ferrite_applets = applets(&ferrite, &inputs.repo)?;
    if board.busybox {
        let root = fetch::debian_package(&cache, "busybox-static", &board.kernel.arch)?;
        let bb = root.join("bin/busybox");
        let data = fs::read(&bb).map_err(|e| format!("{}: {e}", bb.display()))?;
        t.file("bin/busybox", 0o755, data);
        // Its applet list: from the unpacked binary (natively, or under
        // qemu-user for another architecture), else from the host's busybox.
        let run_list = |cmd: &mut Command| cmd.output().ok().filter(|o| o.status.success());
        let list = run_list(Command::new(&bb).arg("--list-full"))
            .or_else(|| {
                run_list(
                    Command::new(user_emulator(&board.target))
                        .arg(&bb)
                        .arg("--list-full"),
                )
            })
            .or_else(|| run_list(Command::new("busybox").arg("--list-full")))
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_else(|| "bin/sh\nbin/ls\nbin/cat\nbin/login\n".into());
        let mut shadowed = Vec::new();
        for path in list
            .lines()
            .filter(|l| !l.is_empty() && !l.ends_with("/busybox"))
        {
            let name = path.rsplit('/').next().unwrap_or(path);
            // ferrite's own applets (runsv, sv, init, getty, ...) are never BusyBox's.
            if ferrite_applets.iter().any(|a| a == name) {
                shadowed.push(name.to_string());
            } else {
                t.link(path, "/bin/busybox");
            }
        }
        // Debian's BusyBox ash runs its own applet for a bare command name
        // before it looks at PATH (FEATURE_SH_STANDALONE): `sv` typed at the
        // console would be BusyBox's sv. A path is always run as a file.
        shadowed.sort();
        shadowed.dedup();
        let profile: String = shadowed
            .iter()
            .map(|a| format!("alias {a}=/bin/{a}\n"))
            .collect();
        t.file(
            "etc/profile",
            0o644,
            format!(
                "# written by ferrite-rootfs: ferrite's applets, not BusyBox's, at the prompt\n{profile}"
            )
            .into_bytes(),
        );
    }
    // ferrite's applets win over BusyBox's.
    for a in &ferrite_applets {
        t.link(&format!("bin/{a}"), "ferrite");
    }
    // /sbin/modprobe is where the kernel runs it (CONFIG_MODPROBE_PATH)
    for a in ["init", "reboot", "poweroff", "halt", "getty", "modprobe"] {
        t.link(&format!("sbin/{a}"), "../bin/ferrite");
    }

    t.file(
        "etc/hostname",
        0o644,
        format!("{}\n", board.hostname).into_bytes(),
    );
    let shell = if board.busybox {
        "/bin/sh"
    } else {
        "/bin/false"
    };
    t.file(
        "etc/passwd",
        0o644,
        format!("root::0:0:root:/root:{shell}\n").into_bytes(),
    );
    t.file("etc/group", 0o644, b"root:x:0:\ntty:x:5:\n".to_vec());
    t.file("etc/issue", 0o644, ISSUE.as_bytes().to_vec());
    t.file("etc/shells", 0o644, format!("{shell}\n").into_bytes());

    // Modules: copied at their path under lib/modules/RELEASE, loaded by name.
    let listed = add_modules(
        &mut t,
        &board.modules,
        &board.modules_on_demand,
        modules_dir.as_deref(),
    )?;
    t.file("etc/modules", 0o644, listed.into_bytes());

    // Debian packages, before the templates and files, which win over them.
    crate::packages::install(&mut t, &board.packages, &board.kernel.arch, &cache)?;

    // Services from templates.
    let templates = inputs.repo.join("rootfs/templates");
    t.dir("etc/service", 0o755);
    for s in &board.services {
        let src = templates.join(&s.template);
        if !src.is_dir() {
            return Err(format!(
                "service {}: no template {} in {}",
                s.name,
                s.template,
                templates.display()
            ));
        }
        let dst = format!("etc/service/{}", s.name);
        t.copy_dir(&src, &dst)?;
        if let Some(a) = &s.args {
            t.file(&format!("{dst}/args"), 0o644, format!("{a}\n").into_bytes());
        }
        if s.down {
            t.file(&format!("{dst}/down"), 0o644, Vec::new());
        }
    }
    for f in &board.files {
        let data = match (&f.content, &f.source) {
            (Some(c), _) => c.clone().into_bytes(),
            (None, Some(src)) => {
                let p = board_dir.join(src);
                fs::read(&p).map_err(|e| format!("{}: {e}", p.display()))?
            }
            _ => Vec::new(),
        };
        t.file(&f.path, f.mode, data);
    }

    // every program finds its libraries and interpreter
    crate::packages::check(&t, &board.kernel.arch, "initramfs")?;
    fs::create_dir_all(&inputs.out).map_err(|e| format!("{}: {e}", inputs.out.display()))?;
    t.write_cpio_gz(&inputs.out.join("initramfs.cpio.gz"))?;
    fs::write(inputs.out.join("contents.txt"), t.manifest()).map_err(|e| e.to_string())?;
    if let Some(kernel_image) = &kernel_image {
        let kdst = inputs.out.join("vmlinuz");
        fs::copy(kernel_image, &kdst)
            .map_err(|e| format!("{} -> {}: {e}", kernel_image.display(), kdst.display()))?;
        if board.qemu.as_ref().is_some_and(|q| q.pvh) {
            extract_vmlinux(&kdst, &inputs.out.join("vmlinux"))?;
        }
    }
    if let Some(disk) = &board.disk {
        disk_images(
            board,
            disk,
            &t,
            &binary,
            modules_dir.as_deref(),
            &inputs.out,
            &cache,
        )?;
        if let Some(card) = &disk.sdcard {
            sdcard_image(
                board,
                card,
                board_dir,
                inputs,
                kernel_image.as_deref(),
                dtbs.as_deref(),
            )?;
        }
    }
    Ok(t)
}

/// The Pi's `sdcard.img` (after `disk_images` wrote root, data and the
/// small initramfs): the boot partition from Debian's kernel, its DTBs and
/// `u-boot-rpi`, and the GPU firmware when the user gives it.
fn sdcard_image(
    board: &Board,
    card: &crate::board::SdCard,
    board_dir: &Path,
    inputs: &Inputs,
    kernel: Option<&Path>,
    dtbs: Option<&Path>,
) -> Result<(), String> {
    let (Some(kernel), Some(dtbs)) = (kernel, dtbs) else {
        return Err(
            "disk.sdcard: the SD card needs Debian's kernel package (kernel.debian_package), whose device trees it carries".into(),
        );
    };
    let cache = inputs.repo.join("target/cache/debian");
    let uboot_root = fetch::debian_package(&cache, "u-boot-rpi", &board.kernel.arch)?;
    let firmware = inputs
        .firmware
        .clone()
        .or_else(|| card.firmware.as_ref().map(|f| board_dir.join(f)));
    let found = crate::sdcard::images(
        board,
        card,
        &crate::sdcard::Inputs {
            kernel,
            dtbs: &dtbs.join("broadcom"),
            uboot_root: &uboot_root,
            firmware: firmware.as_deref(),
        },
        &inputs.out,
    )?;
    let needed = crate::sdcard::firmware_needed(&card.uboot);
    let missing: Vec<&str> = needed
        .iter()
        .filter(|n| !found.iter().any(|f| f == *n))
        .copied()
        .collect();
    if !missing.is_empty() {
        eprintln!(
            "ferrite-rootfs: {}/sdcard.img has no {} of the Pi's GPU firmware: it will not boot a real Pi until they are added \
(--firmware DIR; from Debian's raspi-firmware package, in non-free-firmware, or the boot/ directory of github.com/raspberrypi/firmware). \
Under QEMU (board rpi3-qemu) the chain from U-Boot on runs without them.",
            inputs.out.display(),
            missing.join(", ")
        );
    }
    Ok(())
}

/// `disk.img` and the small initramfs that boots it (`initrd.cpio.gz`),
/// with the kernel command line it needs in `cmdline`.
fn disk_images(
    board: &Board,
    disk: &crate::board::Disk,
    tree: &Tree,
    binary: &[u8],
    modules_dir: Option<&Path>,
    out: &Path,
    cache: &Path,
) -> Result<(), String> {
    // the root: the same tree, with the mount points early boot uses
    let mut root = tree.clone();
    for d in ["data", "var/lib/ferrite", "var/log"] {
        root.dir(d, 0o755);
    }
    // and the packages only the disk's root has
    crate::packages::install(&mut root, &disk.packages, &board.kernel.arch, cache)?;
    if disk.logs_mib > 0 {
        if disk.logs_mib > disk.data_mib / 2 {
            return Err(format!(
                "[disk] logs_mib = {}: at most half the data partition ({} MiB)",
                disk.logs_mib,
                disk.data_mib / 2
            ));
        }
        crate::disk::cap_logs(&mut root, u64::from(disk.logs_mib) << 20)?;
    }
    // a board without a real-time clock boots in 1970: e2fsck must not
    // take a last-mount time "in the future" for damage
    if !root.nodes.contains_key("etc/e2fsck.conf") {
        root.file(
            "etc/e2fsck.conf",
            0o644,
            b"[options]\n\tbroken_system_clock = 1\n".to_vec(),
        );
    }
    crate::packages::check(&root, &board.kernel.arch, "root.img")?;
    // the initramfs: ferrite, the modules to reach the disk, nothing else
    let mut initrd = Tree::default();
    for d in ["bin", "sbin", "etc", "proc", "sys", "dev", "run", "newroot"] {
        initrd.dir(d, 0o755);
    }
    initrd.char_dev("dev/console", 0o600, 5, 1);
    initrd.file("bin/ferrite", 0o755, binary.to_vec());
    initrd.link("init", "bin/ferrite");
    initrd.link("sbin/init", "../bin/ferrite");
    // the kernel's module requests while early boot runs (`fs-squashfs`, ...)
    initrd.link("sbin/modprobe", "../bin/ferrite");
    let wanted: Vec<String> = disk.modules.iter().chain(&board.modules).cloned().collect();
    let listed = add_modules(&mut initrd, &wanted, &[], modules_dir)?;
    initrd.file("etc/modules", 0o644, listed.into_bytes());
    // early boot's own words, before the kernel command line's: where the
    // root is (so a boot loader's line needs no root=), and the board's
    // failsafe
    let mut early = match &disk.sdcard {
        // an MBR has no names: the card's partitions by PARTUUID
        Some(_) => crate::sdcard::root_words(&board.name),
        None => format!("root=PARTLABEL={}", crate::disk::ROOT_NAME),
    };
    if disk.failsafe {
        early.push_str(" ferrite.failsafe");
    }
    if disk.logs_mib > 0 {
        early.push_str(" ferrite.logs=data");
    }
    initrd.file(
        "etc/ferrite/early",
        0o644,
        format!("{early}\n").into_bytes(),
    );
    crate::packages::check(&initrd, &board.kernel.arch, "initrd.cpio.gz")?;
    initrd.write_cpio_gz(&out.join("initrd.cpio.gz"))?;
    let data_bytes = u64::from(disk.data_mib) << 20;
    if disk.sdcard.is_some() {
        // root and data go on the SD card (sdcard_image), with its cmdline
        return crate::disk::root_and_data(&root, data_bytes, out);
    }
    crate::disk::images(&root, &board.name, data_bytes, out)?;
    fs::write(
        out.join("cmdline"),
        format!(
            "console={},{} root=PARTLABEL={}\n",
            board.console.tty,
            board.console.baud,
            crate::disk::ROOT_NAME
        ),
    )
    .map_err(|e| e.to_string())
}

/// The ELF kernel inside an XZ-compressed bzImage (for PVH boots).
pub fn extract_vmlinux(bzimage: &Path, out: &Path) -> Result<(), String> {
    let data = fs::read(bzimage).map_err(|e| format!("{}: {e}", bzimage.display()))?;
    let magic = [0xfd, b'7', b'z', b'X', b'Z', 0];
    let start = data
        .windows(magic.len())
        .position(|w| w == magic)
        .ok_or_else(|| {
            format!(
                "{}: no XZ-compressed kernel inside (pvh needs one)",
                bzimage.display()
            )
        })?;
    // The payload is XZ with the x86 BCJ filter; xz(1) decodes it and
    // --single-stream ignores what the bzImage carries after the stream.
    let mut child = Command::new("xz")
        .args(["--decompress", "--stdout", "--single-stream"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run xz (Debian: apt-get install xz-utils): {e}"))?;
    let mut stdin = child.stdin.take().ok_or("xz: no stdin")?;
    let payload = data[start..].to_vec();
    let feeder = std::thread::spawn(move || stdin.write_all(&payload));
    let output = child.wait_with_output().map_err(|e| format!("xz: {e}"))?;
    let _ = feeder.join();
    let elf = output.stdout;
    if !elf.starts_with(b"\x7fELF") {
        return Err(format!(
            "{}: the XZ payload is not an ELF kernel",
            bzimage.display()
        ));
    }
    fs::write(out, &elf).map_err(|e| format!("{}: {e}", out.display()))
}
