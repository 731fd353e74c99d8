//! The files fw writes besides its state: resolv.conf, the `/etc` files
//! rendered from its `etc/` templates, `up`; and forwarding (both
//! families, `accept_ra`) and the firewall. Each file is replaced atomically, and only when its text
//! changed.

use super::super::cli::Options;
use super::super::core::etc;
use super::{say, PROG};
use common::errtext::describe;
use common::fsutil::atomic_write;
use common::out;
use std::path::{Path, PathBuf};

/// The built-in resolv.conf, when there are name servers or fw manages
/// addresses (a lost lease empties it).
pub fn resolv_conf(
    p: &Options,
    dns: &[std::net::IpAddr],
    domain: Option<&str>,
    search: &[String],
    managed: bool,
) {
    if dns.is_empty() && !managed {
        return;
    }
    let text = etc::resolv_conf(dns, domain, search);
    if std::fs::read_to_string(&p.resolv).ok().as_deref() == Some(text.as_str()) {
        return;
    }
    match atomic_write(&p.resolv, text.as_bytes(), 0o644, true) {
        Ok(()) => say(&format!(
            "{PROG}: {}: {} name server(s)\n",
            p.resolv.display(),
            dns.len()
        )),
        Err(e) => out::err(&format!(
            "{PROG}: {}: {}\n",
            p.resolv.display(),
            describe(&e)
        )),
    }
}

/// Template files under `dir`, as paths relative to `root` (sorted).
fn templates(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    let mut entries: Vec<_> = rd.flatten().collect();
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        match e.file_type() {
            Ok(t) if t.is_dir() => templates(root, &path, out),
            Ok(t) if t.is_file() => {
                if let Ok(rel) = path.strip_prefix(root) {
                    out.push(rel.to_path_buf());
                }
            }
            _ => {}
        }
    }
}

/// Render each `etc/` template to the same path under `p.etc`, replacing
/// the file atomically and only when its text changed. False on an error.
pub fn etc_files(p: &Options, vars: &etc::Vars) -> bool {
    let root = p.run_dir.join("etc");
    let mut list = Vec::new();
    templates(&root, &root, &mut list);
    let mut ok = true;
    for rel in list {
        let src = root.join(&rel);
        let dst = p.etc.join(&rel);
        let (template, mode) = match std::fs::read_to_string(&src).and_then(|t| {
            use std::os::unix::fs::PermissionsExt;
            Ok((t, std::fs::metadata(&src)?.permissions().mode() & 0o7777))
        }) {
            Ok(x) => x,
            Err(e) => {
                out::err(&format!("{PROG}: {}: {}\n", src.display(), describe(&e)));
                ok = false;
                continue;
            }
        };
        let (text, warnings) = etc::render(&template, vars, &format!("etc/{}", rel.display()));
        for w in warnings {
            out::err(&format!("{PROG}: {w}\n"));
        }
        if std::fs::read_to_string(&dst).ok().as_deref() == Some(text.as_str()) {
            continue;
        }
        if let Some(parent) = dst.parent() {
            let _ = std::fs::create_dir_all(parent);
        }
        match atomic_write(&dst, text.as_bytes(), mode, true) {
            Ok(()) => say(&format!("{PROG}: {} written\n", dst.display())),
            Err(e) => {
                out::err(&format!("{PROG}: {}: {}\n", dst.display(), describe(&e)));
                ok = false;
            }
        }
    }
    ok
}

/// `conf/forward` present: route between interfaces, IPv4 and IPv6. The
/// IPv6 uplinks get `accept_ra=2` first: with forwarding on, the kernel
/// takes no router advertisement on a link with 1 (no SLAAC address, no
/// default route). Turning IPv6 forwarding on drops the default routes
/// learned from RAs; the next RA brings them back.
pub fn forwarding(p: &Options, uplinks: &[String]) {
    if !p.conf.join("forward").exists() {
        return;
    }
    for u in uplinks {
        sysctl(&format!("/proc/sys/net/ipv6/conf/{u}/accept_ra"), "2");
    }
    sysctl("/proc/sys/net/ipv4/ip_forward", "1");
    if Path::new("/proc/sys/net/ipv6").exists() {
        sysctl("/proc/sys/net/ipv6/conf/all/forwarding", "1");
    }
}

/// Write `value` to `/proc/sys` file `f` unless it holds it.
fn sysctl(f: &str, value: &str) {
    if std::fs::read_to_string(f).is_ok_and(|s| s.trim() == value) {
        return;
    }
    match std::fs::write(f, value) {
        Ok(()) => say(&format!("{PROG}: {f} = {value}\n")),
        Err(e) => out::err(&format!("{PROG}: {f}: {}\n", describe(&e))),
    }
}

/// `firewall.nft` (in the service or conf/ directory) and `nft` present: load it.
pub fn firewall(p: &Options) {
    let file = [p.run_dir.join("firewall.nft"), p.conf.join("firewall.nft")]
        .into_iter()
        .find(|f| f.exists());
    let Some(file) = file else { return };
    let mut cmd = std::process::Command::new("nft");
    cmd.arg("-f").arg(&file);
    match common::sig::clean_child(&mut cmd).status() {
        Ok(st) if st.success() => say(&format!("{PROG}: firewall {} loaded\n", file.display())),
        Ok(st) => out::err(&format!("{PROG}: nft -f {}: {st}\n", file.display())),
        Err(e) => out::err(&format!(
            "{PROG}: nft: {} (firewall not loaded)\n",
            describe(&e)
        )),
    }
}

/// `up`: the time of this run, in seconds since the epoch.
pub fn up(p: &Options) {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    if let Err(e) = atomic_write(
        &p.run_dir.join("up"),
        format!("{now}\n").as_bytes(),
        0o644,
        false,
    ) {
        out::err(&format!(
            "{PROG}: {}/up: {}\n",
            p.run_dir.display(),
            describe(&e)
        ));
    }
}
