//! `fw`: the one-shot network configuration service of the seed's design.
//! It marks itself "once" first (an `up` that arrives while it runs makes
//! runsv run it once more), reads `conf/*.ipconf` and the dynamic
//! `/var/run/service/fw/*.ipconf`, and brings addresses, routes,
//! resolv.conf, the `/etc` files rendered from its `etc/` templates (see
//! `etc`), forwarding and the firewall to the wanted state, changing only
//! what differs. It prints what it changed (for its log) and writes `up`
//! with the time of the run.
//!
//! Routes learned from DHCP (`origin=dhcp`, or a `dhcp_IF.ipconf` without
//! it) are checked at every run against the kernel's routes on other links
//! and the locally configured ones (`shadow`): one that would shadow a VPN's
//! default route, or a static one, is not installed and named on stderr.

pub mod etc;
pub mod ipconf;
pub mod plan;
pub mod shadow;
pub mod state;

use crate::netlink::{Addr, RouteSpec, Rtnl};
use common::errtext::describe;
use common::fsutil::atomic_write;
use common::iface::{index_of, name_of, set_up};
use common::out;
use ipconf::IfConf;
use plan::{Op, A, FW_PROTO, R};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

const PROG: &str = "fw";

struct Paths {
    conf: PathBuf,
    dynamic: PathBuf,
    run_dir: PathBuf,
    resolv: PathBuf,
    /// where the rendered `etc/` templates go
    etc: PathBuf,
}

fn usage() -> i32 {
    out::err(
        "usage: fw [--conf DIR] [--dynamic DIR] [--run-dir DIR] [--resolv-conf FILE] [--etc DIR]\n",
    );
    100
}

fn ipconf_files(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| p.extension().is_some_and(|x| x == "ipconf"))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// `conf/prefer`: interface names, most preferred first (`#` starts a comment).
fn read_prefer(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .flat_map(|l| l.split('#').next().unwrap_or("").split_whitespace())
        .map(String::from)
        .collect()
}

pub fn main(args: &[OsString]) -> i32 {
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut p = Paths {
        conf: cwd.join("conf"),
        dynamic: PathBuf::from("/var/run/service/fw"),
        run_dir: cwd.clone(),
        resolv: PathBuf::from("/etc/resolv.conf"),
        etc: PathBuf::from("/etc"),
    };
    // as fw/run linked to ferrite: options from ./args
    let words = common::service::words(PROG, args);
    let mut i = 0;
    while i < words.len() {
        let v = words.get(i + 1).map(PathBuf::from);
        match (words[i].as_str(), v) {
            ("--conf", Some(v)) => p.conf = v,
            ("--dynamic", Some(v)) => p.dynamic = v,
            ("--run-dir", Some(v)) => p.run_dir = v,
            ("--resolv-conf", Some(v)) => p.resolv = v,
            ("--etc", Some(v)) => p.etc = v,
            _ => return usage(),
        }
        i += 2;
    }
    // "once" first: a poke while we run means one more run, never a lost change.
    let _ = supervisor::sv::send(&cwd, "o");
    run(&p)
}

/// Every ipconf file, `conf/` first; a bad one is reported and skipped
/// (false), the others still count.
fn read_confs(p: &Paths) -> (Vec<IfConf>, bool) {
    let mut ok = true;
    let mut confs: Vec<IfConf> = Vec::new();
    let mut files = ipconf_files(&p.conf);
    for f in ipconf_files(&p.dynamic) {
        if !files
            .iter()
            .any(|g| g.file_name() == f.file_name() && p.conf == p.dynamic)
        {
            files.push(f);
        }
    }
    for f in &files {
        let dynamic = f.parent() == Some(p.dynamic.as_path());
        let name = f
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        // too big, NUL bytes, not UTF-8, a directory, a symlink loop: named
        // and skipped like a file that does not parse (a BOM is stripped)
        let text = match common::fsutil::read_text_checked(f, ipconf::MAX_FILE) {
            Ok(t) => t.unwrap_or_default(),
            Err(why) => {
                out::err(&format!("{PROG}: {}: {why} (file skipped)\n", f.display()));
                ok = false;
                continue;
            }
        };
        if text.trim().is_empty() {
            out::err(&format!(
                "{PROG}: {}: empty: nothing configured from it\n",
                f.display()
            ));
        }
        match ipconf::parse(&text, &f.display().to_string()) {
            Ok(c) => confs.extend(c.into_iter().map(|mut c| {
                if c.origin.is_none() {
                    c.origin = ipconf::default_origin(&name, dynamic).map(String::from);
                }
                c
            })),
            Err(e) => {
                out::err(&format!("{PROG}: {e} (file skipped)\n"));
                ok = false;
            }
        }
    }
    (confs, ok)
}

/// The state the files ask for, on interfaces that exist (brought up).
#[derive(Default)]
struct Wanted {
    addrs: Vec<A>,
    routes: Vec<R>,
    mtus: Vec<plan::LinkMtu>,
    dns: Vec<std::net::Ipv4Addr>,
    search: Vec<String>,
    domain: Option<String>,
    /// the entries used, in order (for the /etc templates)
    used: Vec<IfConf>,
}

/// Interfaces named in `prefer` come first, in its order, the others in
/// file order; default route metrics (10, 20, ...), name servers and the
/// domain follow that order. `kernel`: the kernel's routes that fw did not
/// make; DHCP-learned routes that would shadow one of them on another link,
/// or a route of a local file, are left out (`shadow::screen`).
fn wanted(mut confs: Vec<IfConf>, prefer: &[String], kernel: &[shadow::Route]) -> Wanted {
    confs.sort_by_key(|c| plan::preference_rank(&c.interface, prefer));
    let mut present: Vec<(i32, IfConf)> = Vec::new();
    for c in confs {
        let Some(index) = index_of(&c.interface) else {
            out::err(&format!(
                "{PROG}: interface {} does not exist (yet): skipped\n",
                c.interface
            ));
            continue;
        };
        if let Err(e) = set_up(&c.interface) {
            out::err(&format!(
                "{PROG}: cannot bring {} up: {}\n",
                c.interface,
                describe(&e)
            ));
        }
        present.push((index, c));
    }
    let route =
        |index: i32,
         &(dst, prefix, gateway): &(std::net::Ipv4Addr, u8, Option<std::net::Ipv4Addr>)| {
            shadow::Route {
                index,
                dst,
                prefix,
                gateway,
            }
        };
    // the metrics default routes get below, in order (none is ever dropped:
    // nothing is less specific)
    let mut n = 0u32;
    let default_metrics: Vec<Vec<u32>> = present
        .iter()
        .map(|(_, c)| {
            c.routes
                .iter()
                .filter(|r| r.1 == 0)
                .map(|_| {
                    n = n.saturating_add(1);
                    n.saturating_mul(10)
                })
                .collect()
        })
        .collect();
    // what DHCP-learned routes must not cut into: every other route there
    // is or will be; those of local files guard their own link too; fw's
    // own default routes guard leases fw prefers less
    let mut guards: Vec<shadow::Guard> = kernel
        .iter()
        .map(|&route| shadow::Guard {
            route,
            local: false,
            ordered: None,
        })
        .collect();
    for ((index, c), metrics) in present.iter().zip(&default_metrics) {
        let mut metrics = metrics.iter();
        guards.extend(c.routes.iter().map(|r| shadow::Guard {
            route: route(*index, r),
            local: !c.from_dhcp(),
            ordered: if r.1 == 0 {
                metrics.next().copied()
            } else {
                None
            },
        }));
    }
    let mut w = Wanted::default();
    let mut n_default = 0;
    for ((index, mut c), metrics) in present.into_iter().zip(&default_metrics) {
        if c.from_dhcp() {
            let learned: Vec<shadow::Route> = c.routes.iter().map(|r| route(index, r)).collect();
            let own_default = metrics.iter().min().copied();
            let (keep, dropped) = shadow::screen(&learned, own_default, &guards);
            for d in &dropped {
                out::err(&shadow::message(PROG, d, &name_of));
            }
            c.routes = keep.iter().map(|r| (r.dst, r.prefix, r.gateway)).collect();
        }
        for &(ip, prefix) in &c.addrs {
            w.addrs.push(A { index, ip, prefix });
        }
        if let Some(m) = c.mtu {
            if !w.mtus.iter().any(|x| x.0 == index) {
                w.mtus.push((index, m));
            }
        }
        for &(dst, prefix, gateway) in &c.routes {
            let metric = if prefix == 0 {
                n_default += 1;
                n_default * 10
            } else {
                0
            };
            w.routes.push(R {
                index,
                dst,
                prefix,
                gateway,
                metric,
            });
        }
        for d in &c.dns {
            if !w.dns.contains(d) {
                w.dns.push(*d);
            }
        }
        w.search.extend(c.search.iter().cloned());
        if w.domain.is_none() {
            w.domain.clone_from(&c.domain);
        }
        w.used.push(c);
    }
    w
}

/// Addresses and fw's routes: only the difference. False on an error.
fn addresses_and_routes(nl: &mut Rtnl, w: &Wanted, previous: &[A]) -> bool {
    let current_a: Vec<A> = nl
        .addresses()
        .unwrap_or_default()
        .into_iter()
        .map(|a| A {
            index: a.index,
            ip: a.ip,
            prefix: a.prefix,
        })
        .collect();
    let ours = |nl: &mut Rtnl| -> Vec<R> {
        nl.routes()
            .unwrap_or_default()
            .into_iter()
            .filter(|r| r.protocol == FW_PROTO)
            .map(|r| R {
                index: r.index,
                dst: r.dst,
                prefix: r.prefix,
                gateway: r.gateway,
                metric: r.metric,
            })
            .collect()
    };
    let ops = plan::diff(&w.addrs, &w.routes, &current_a, previous, &ours(nl));
    let mut ok = apply(nl, &ops);
    // Routes again: removing an address can take routes through it along.
    let again: Vec<Op> = plan::diff(&[], &w.routes, &[], &[], &ours(nl))
        .into_iter()
        .filter(|o| matches!(o, Op::AddRoute(_)))
        .collect();
    ok &= apply(nl, &again);
    ok
}

/// Link MTUs; returns the links' own MTUs to remember, and false on an error.
fn mtus(want: &[plan::LinkMtu], saved: &[plan::LinkMtu]) -> (Vec<plan::LinkMtu>, bool) {
    let current: Vec<plan::LinkMtu> = want
        .iter()
        .chain(saved)
        .filter_map(|&(i, _)| Some((i, common::iface::mtu(&name_of(i)).ok()?)))
        .collect();
    let (set, keep) = plan::mtus(want, &current, saved);
    let mut ok = true;
    for (i, m) in set {
        match common::iface::set_mtu(&name_of(i), m) {
            Ok(()) => say(&format!("{PROG}: mtu {m} dev {}\n", name_of(i))),
            Err(e) => {
                out::err(&format!(
                    "{PROG}: mtu {m} dev {}: {}\n",
                    name_of(i),
                    describe(&e)
                ));
                ok = false;
            }
        }
    }
    (keep, ok)
}

/// The kernel's routes, of every table, that fw did not make (its own are
/// wanted again or not from the files alone).
fn kernel_routes(nl: &mut Rtnl) -> Result<Vec<shadow::Route>, String> {
    Ok(nl
        .routes_of_every_table()
        .map_err(|e| format!("{PROG}: reading routes: {}\n", describe(&e)))?
        .into_iter()
        .filter(|r| r.protocol != FW_PROTO)
        .map(|r| shadow::Route {
            index: r.index,
            dst: r.dst,
            prefix: r.prefix,
            gateway: r.gateway,
        })
        .collect())
}

fn run(p: &Paths) -> i32 {
    let (confs, mut ok) = read_confs(p);
    let mut nl = match Rtnl::open() {
        Ok(n) => n,
        Err(e) => {
            out::err(&format!("{PROG}: netlink: {}\n", describe(&e)));
            return 111;
        }
    };
    let kernel = kernel_routes(&mut nl).unwrap_or_else(|e| {
        out::err(&e);
        ok = false;
        Vec::new()
    });
    let w = wanted(confs, &read_prefer(&p.conf.join("prefer")), &kernel);
    // what fw applied last time: addresses, and links' own MTUs; written
    // first with what this run may add, so a cut in the middle forgets nothing
    let state = state::StateFile::in_dir(&p.run_dir);
    let before = state.read();
    ok &= save_state(&state, &before.with(&w.addrs));
    ok &= addresses_and_routes(&mut nl, &w, &before.addrs);
    let (own_mtus, mtus_ok) = mtus(&w.mtus, &before.mtus);
    ok &= mtus_ok;
    ok &= save_state(
        &state,
        &state::Applied {
            addrs: w.addrs.clone(),
            mtus: own_mtus,
        },
    );
    // an etc/resolv.conf template replaces the built-in one
    if !p.run_dir.join("etc/resolv.conf").exists() {
        resolv_conf(
            p,
            &w.dns,
            w.domain.as_deref(),
            &w.search,
            !before.addrs.is_empty() || !w.addrs.is_empty(),
        );
    }
    ok &= etc_files(p, &etc::Vars::from_confs(&w.used, &hostname()));
    forwarding(p);
    firewall(p);
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
    if let Err(e) = state.keep_reserve() {
        out::err(&format!(
            "{PROG}: no room to set space aside for {}: {}\n",
            state.path().display(),
            describe(&e)
        ));
    }
    if ok {
        0
    } else {
        1
    }
}

/// Write the state file; false (and a message) when it cannot be.
fn save_state(state: &state::StateFile, s: &state::Applied) -> bool {
    match state.save(s) {
        Ok(state::Saved::Written) => true,
        Ok(state::Saved::UsedReserve) => {
            out::err(&format!(
                "{PROG}: {}: disk full, written into the space set aside for it (free some space)\n",
                state.path().display()
            ));
            false
        }
        Err(e) => {
            out::err(&format!(
                "{PROG}: {}: {} (addresses added now may be left behind when their lease goes)\n",
                state.path().display(),
                describe(&e)
            ));
            false
        }
    }
}

fn apply(nl: &mut Rtnl, ops: &[Op]) -> bool {
    let mut ok = true;
    for op in ops {
        let (what, r) = match op {
            Op::AddAddr(a) => (
                format!("+ {}/{} dev {}", a.ip, a.prefix, name_of(a.index)),
                nl.set_address(a.index, &addr(a)),
            ),
            Op::DelAddr(a) => (
                format!("- {}/{} dev {}", a.ip, a.prefix, name_of(a.index)),
                nl.del_address(a.index, &addr(a)),
            ),
            Op::AddRoute(r) => (format!("+ route {}", show(r)), nl.add_route(&spec(r))),
            Op::DelRoute(r) => (format!("- route {}", show(r)), nl.del_route(&spec(r))),
        };
        match r {
            Ok(()) => say(&format!("{PROG}: {what}\n")),
            Err(e) => {
                out::err(&format!("{PROG}: {what}: {}\n", describe(&e)));
                ok = false;
            }
        }
    }
    ok
}

fn addr(a: &A) -> Addr {
    let bc = if a.prefix < 31 {
        Some(std::net::Ipv4Addr::from(
            u32::from(a.ip) | (u32::MAX >> a.prefix),
        ))
    } else {
        None
    };
    Addr {
        ip: a.ip,
        prefix: a.prefix,
        broadcast: bc,
        lifetime: u32::MAX,
    }
}

fn spec(r: &R) -> RouteSpec {
    RouteSpec {
        dst: r.dst,
        prefix: r.prefix,
        gateway: r.gateway,
        index: r.index,
        protocol: FW_PROTO,
        metric: r.metric,
    }
}

fn show(r: &R) -> String {
    let dst = if r.prefix == 0 {
        "default".to_string()
    } else {
        format!("{}/{}", r.dst, r.prefix)
    };
    match r.gateway {
        Some(g) => format!("{dst} via {g} dev {} metric {}", name_of(r.index), r.metric),
        None => format!("{dst} dev {} metric {}", name_of(r.index), r.metric),
    }
}

fn resolv_conf(
    p: &Paths,
    dns: &[std::net::Ipv4Addr],
    domain: Option<&str>,
    search: &[String],
    managed: bool,
) {
    if dns.is_empty() && !managed {
        return;
    }
    let mut text = String::from("# written by ferrite fw\n");
    if let Some(d) = domain {
        text.push_str(&format!("domain {d}\n"));
    }
    if !search.is_empty() {
        text.push_str(&format!("search {}\n", search.join(" ")));
    }
    for d in dns {
        text.push_str(&format!("nameserver {d}\n"));
    }
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

fn hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
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
fn etc_files(p: &Paths, vars: &etc::Vars) -> bool {
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

/// `conf/forward` present: route between interfaces.
fn forwarding(p: &Paths) {
    if !p.conf.join("forward").exists() {
        return;
    }
    let f = "/proc/sys/net/ipv4/ip_forward";
    if std::fs::read_to_string(f)
        .map(|s| s.trim() == "1")
        .unwrap_or(false)
    {
        return;
    }
    match std::fs::write(f, "1\n") {
        Ok(()) => say(&format!("{PROG}: forwarding on\n")),
        Err(e) => out::err(&format!("{PROG}: {f}: {}\n", describe(&e))),
    }
}

/// `firewall.nft` (in the service or conf/ directory) and `nft` present: load it.
fn firewall(p: &Paths) {
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

/// What fw changed, on stdout (its log); a closed stdout is no reason to fail.
fn say(msg: &str) {
    let _ = out::out(msg);
}
