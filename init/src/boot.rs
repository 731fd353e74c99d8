//! Stage 1 of init: the mounts, host name, kernel modules, loopback, the
//! board's boot hook and the live service directory. Every step reports its
//! failure on the console and boot goes on.

use common::errtext::describe;
use rustix::mount::MountFlags;
use std::ffi::{CStr, CString};
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// Where the image keeps its service definitions (read-only is fine).
pub const SERVICE_SOURCE: &str = "/etc/service";
/// The live copies on tmpfs: runsv writes `supervise/` there, and the
/// network services drop their ipconf files into `/var/run/service/fw/`.
pub const SERVICE_LIVE: &str = "/run/service";

pub fn log(msg: &str) {
    common::out::err(&format!("ferrite init: {msg}\n"));
}

/// Mount `src` on `target` (made first when missing).
pub(crate) fn mount(
    src: impl rustix::path::Arg,
    target: &str,
    fstype: impl rustix::path::Arg,
    flags: MountFlags,
    data: &CStr,
) -> io::Result<()> {
    let _ = fs::create_dir_all(target);
    let t = CString::new(target).unwrap_or_default();
    rustix::mount::mount(src, t.as_c_str(), fstype, flags, data)?;
    Ok(())
}

/// Whether something is mounted on `target` already (per /proc/self/mounts).
pub(crate) fn is_mountpoint(target: &str) -> bool {
    fs::read_to_string("/proc/self/mounts")
        .unwrap_or_default()
        .lines()
        .any(|l| l.split_whitespace().nth(1) == Some(target))
}

/// Mount the pseudo file systems; returns what was mounted, in order.
pub fn mount_basics() -> Vec<String> {
    let nosuid = MountFlags::NOSUID;
    let nodev = MountFlags::NODEV;
    let noexec = MountFlags::NOEXEC;
    let table: [(&CStr, &str, &CStr, MountFlags, &CStr); 6] = [
        (c"proc", "/proc", c"proc", nosuid | nodev | noexec, c""),
        (c"sysfs", "/sys", c"sysfs", nosuid | nodev | noexec, c""),
        (c"devtmpfs", "/dev", c"devtmpfs", nosuid, c"mode=0755"),
        (
            c"devpts",
            "/dev/pts",
            c"devpts",
            nosuid | noexec,
            c"gid=5,mode=0620,ptmxmode=0666",
        ),
        (c"tmpfs", "/dev/shm", c"tmpfs", nosuid | nodev, c"mode=1777"),
        (c"tmpfs", "/run", c"tmpfs", nosuid | nodev, c"mode=0755"),
    ];
    let mut mounted = Vec::new();
    for (src, target, fstype, flags, data) in table {
        if target != "/proc" && is_mountpoint(target) {
            continue;
        }
        match mount(src, target, fstype, flags, data) {
            Ok(()) => mounted.push(target.to_string()),
            Err(e) if e.raw_os_error() == Some(libc::EBUSY) => {}
            Err(e) => log(&format!("cannot mount {target}: {}", describe(&e))),
        }
    }
    // /var/run is /run (a symlink in the image; made here when missing).
    let var_run = Path::new("/var/run");
    if fs::symlink_metadata(var_run).is_err() {
        let _ = fs::create_dir_all("/var");
        if let Err(e) = std::os::unix::fs::symlink("/run", var_run) {
            log(&format!("cannot link /var/run to /run: {}", describe(&e)));
        }
    }
    mounted
}

/// Set the host name from /etc/hostname (first line).
pub fn set_hostname() {
    let Ok(text) = fs::read_to_string("/etc/hostname") else {
        return;
    };
    let name = text.lines().next().unwrap_or("").trim();
    if name.is_empty() {
        return;
    }
    if let Err(e) = rustix::system::sethostname(name.as_bytes()) {
        let e = io::Error::from(e);
        log(&format!("cannot set host name {name}: {}", describe(&e)));
    }
}

/// The running kernel's release (`uname -r`).
pub fn kernel_release() -> String {
    common::cstr::to_string(rustix::system::uname().release())
}

/// Where the kernel's own module requests go (`request_module()` runs it
/// as `PATH -q -- NAME`).
pub const MODPROBE_SYSCTL: &str = "/proc/sys/kernel/modprobe";
/// Where a link to ferrite's `modprobe` is looked for, the first one found
/// written to [`MODPROBE_SYSCTL`].
const MODPROBE_LINKS: &[&str] = &["/sbin/modprobe", "/bin/modprobe", "/usr/sbin/modprobe"];

/// Point the kernel's module requests at ferrite's `modprobe` (a link to
/// this binary in /sbin or /bin). Never fatal and never blocking: a kernel
/// without modules, no /proc or no link is one console line, and boot goes on.
pub fn set_modprobe_path() {
    let own = std::env::current_exe().and_then(fs::canonicalize).ok();
    let ours = MODPROBE_LINKS
        .iter()
        .find(|l| own.is_some() && fs::canonicalize(l).ok() == own);
    let current = fs::read_to_string(MODPROBE_SYSCTL).unwrap_or_default();
    let Some(path) = ours else {
        log(&format!(
            "no link to ferrite's modprobe in /sbin or /bin: the kernel's module requests go to {}",
            match current.trim() {
                "" => "nothing",
                c => c,
            }
        ));
        return;
    };
    if current.trim() == *path {
        return;
    }
    let written = fs::OpenOptions::new()
        .write(true)
        .open(MODPROBE_SYSCTL)
        .and_then(|mut f| std::io::Write::write_all(&mut f, format!("{path}\n").as_bytes()));
    if let Err(e) = written {
        log(&format!(
            "cannot point {MODPROBE_SYSCTL} at {path}: {}",
            describe(&e)
        ));
    }
}

/// Every `NAME.ko` under `dir`, by name (module names treat `-` and `_`
/// alike): one walk of the tree for the whole list.
fn module_files(dir: &Path) -> std::collections::BTreeMap<String, PathBuf> {
    let mut found = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            match e.file_type() {
                Ok(ft) if ft.is_dir() => stack.push(p),
                Ok(_) => {
                    let name = e.file_name().to_string_lossy().replace('-', "_");
                    if let Some(stem) = name.strip_suffix(".ko") {
                        found.entry(stem.to_string()).or_insert(p);
                    }
                }
                Err(_) => {}
            }
        }
    }
    found
}

/// The module list: one name or path per line; `#` starts a comment.
pub fn parse_module_list(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('#').next().unwrap_or("").trim())
        .filter(|l| !l.is_empty())
        .map(|l| l.split_whitespace().next().unwrap_or("").to_string())
        .collect()
}

/// Load one module file with finit_module(2); already loaded counts as done.
pub fn load_module_file(path: &Path) -> io::Result<()> {
    let f = fs::File::open(path)?;
    match rustix::system::finit_module(&f, c"", 0) {
        Ok(()) | Err(rustix::io::Errno::EXIST) => Ok(()),
        Err(e) => Err(e.into()),
    }
}

/// Load the modules listed in `list`, in order: one console line names
/// those loaded and how long it took, and one line reports each failure.
pub fn load_modules(list: &Path) {
    let Ok(text) = fs::read_to_string(list) else {
        return;
    };
    let started = std::time::Instant::now();
    let moddir = PathBuf::from("/lib/modules").join(kernel_release());
    let mut files = None;
    let mut loaded = Vec::new();
    for entry in parse_module_list(&text) {
        let path = if entry.contains('/') {
            Some(PathBuf::from(&entry))
        } else {
            files
                .get_or_insert_with(|| module_files(&moddir))
                .get(&entry.replace('-', "_"))
                .cloned()
        };
        match path {
            None => log(&format!(
                "module {entry}: not found under {}",
                moddir.display()
            )),
            Some(p) => match load_module_file(&p) {
                Ok(()) => loaded.push(entry),
                Err(e) => log(&format!(
                    "module {entry} ({}): {}",
                    p.display(),
                    describe(&e)
                )),
            },
        }
    }
    if !loaded.is_empty() {
        log(&format!(
            "loaded modules {} in {} ms",
            loaded.join(" "),
            started.elapsed().as_millis()
        ));
    }
}

/// [`load_modules`] in a child process of its own, so that the console's
/// login and the supervision tree start while the kernel links and probes
/// the drivers (under emulation that is most of stage 1). Returns the
/// child's pid, or `None` when it could not be made and the modules were
/// loaded here. Call it only while PID 1 has a single thread.
pub fn load_modules_beside(list: &Path) -> Option<rustix::process::Pid> {
    // SAFETY: PID 1 has one thread here (it makes none), so the child may
    // run any code; it loads the modules, writes to the console and exits.
    let pid = unsafe { libc::fork() };
    match pid {
        0 => {
            load_modules(list);
            std::process::exit(0)
        }
        p if p > 0 => rustix::process::Pid::from_raw(p),
        _ => {
            load_modules(list);
            None
        }
    }
}

/// Bring `lo` up; the kernel gives it 127.0.0.1/8 itself.
pub fn loopback_up() {
    if let Err(e) = common::iface::set_up("lo") {
        log(&format!("cannot bring lo up: {}", describe(&e)));
    }
}

/// Run the board's boot hook if there is one, waiting for it.
pub fn run_hook(path: &Path) {
    if !path.is_file() {
        return;
    }
    let mut cmd = std::process::Command::new(path);
    match common::sig::clean_child(&mut cmd).status() {
        Ok(st) if st.success() => {}
        Ok(st) => log(&format!("{} exited with {st}", path.display())),
        Err(e) => log(&format!("cannot run {}: {}", path.display(), describe(&e))),
    }
}

/// Copy a tree, keeping symlinks as links and file modes; existing entries are kept.
pub fn copy_tree(src: &Path, dst: &Path) -> io::Result<()> {
    fs::create_dir_all(dst)?;
    for e in fs::read_dir(src)? {
        let e = e?;
        let (from, to) = (e.path(), dst.join(e.file_name()));
        if fs::symlink_metadata(&to).is_ok() {
            continue;
        }
        let ft = e.file_type()?;
        if ft.is_symlink() {
            std::os::unix::fs::symlink(fs::read_link(&from)?, &to)?;
        } else if ft.is_dir() {
            copy_tree(&from, &to)?;
        } else {
            fs::copy(&from, &to)?;
        }
    }
    Ok(())
}

/// Make the live service directory: a copy of each service definition.
pub fn install_services(src: &Path, live: &Path) {
    if !src.is_dir() {
        log(&format!("no service definitions in {}", src.display()));
        let _ = fs::create_dir_all(live);
        return;
    }
    if let Err(e) = copy_tree(src, live) {
        log(&format!(
            "cannot copy {} to {}: {}",
            src.display(),
            live.display(),
            describe(&e)
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn module_list_format() {
        assert_eq!(
            parse_module_list("# net\ne1000\n\n  virtio_net  # comment\n/lib/x.ko\n"),
            vec!["e1000", "virtio_net", "/lib/x.ko"]
        );
    }

    #[test]
    fn copies_trees_with_links() {
        let d = std::env::temp_dir().join(format!("ferrite-copy-{}", std::process::id()));
        let _ = fs::remove_dir_all(&d);
        fs::create_dir_all(d.join("src/getty_ttyS0/log")).unwrap();
        fs::write(d.join("src/getty_ttyS0/args"), "-L").unwrap();
        std::os::unix::fs::symlink("/bin/ferrite", d.join("src/getty_ttyS0/run")).unwrap();
        copy_tree(&d.join("src"), &d.join("live")).unwrap();
        assert_eq!(
            fs::read_link(d.join("live/getty_ttyS0/run")).unwrap(),
            Path::new("/bin/ferrite")
        );
        assert_eq!(fs::read(d.join("live/getty_ttyS0/args")).unwrap(), b"-L");
        assert!(d.join("live/getty_ttyS0/log").is_dir());
        // a second copy keeps what is there
        copy_tree(&d.join("src"), &d.join("live")).unwrap();
        fs::remove_dir_all(&d).unwrap();
    }
}
