//! fw's run, the only part that touches the system: it reads the files
//! (`read`), asks `core` what to change, applies it through netlink
//! (`kernel`), writes resolv.conf and the `/etc` files, turns on
//! forwarding and loads the firewall (`files`), and keeps its state file
//! (`state`).

mod files;
mod kernel;
mod read;
pub mod state;

use super::cli::Options;
use super::core::{etc, shadow, state::Applied, v6, wanted};
use crate::netlink::Rtnl;
use common::errtext::describe;
use common::iface::name_of;
use common::out;
use std::path::Path;

pub const PROG: &str = "fw";

/// Mark the service "once" in `cwd`, then run.
pub fn main(o: &Options, cwd: &Path) -> i32 {
    let mut ready = common::ready::Ready::from_env();
    // "once" first: a poke while we run means one more run, never a lost change.
    let _ = supervisor::sv::send(cwd, "o");
    let code = run(o);
    // a whole run applied: what `fw/check` asks about
    if code == 0 {
        let _ = common::fsutil::atomic_write(&o.run_dir.join(APPLIED_MARK), b"", 0o644, false);
    }
    // ready: this run has applied what it could (runsv's notification-fd)
    ready.now();
    code
}

/// Left in the run directory after a run that applied everything.
pub const APPLIED_MARK: &str = "applied-ok";

fn run(p: &Options) -> i32 {
    let (mut confs, mut ok) = read::confs(p);
    let mut nl = match Rtnl::open() {
        Ok(n) => n,
        Err(e) => {
            out::err(&format!("{PROG}: netlink: {}\n", describe(&e)));
            return 111;
        }
    };
    let kernel = kernel::other_routes(&mut nl).unwrap_or_else(|e| {
        out::err(&e);
        ok = false;
        Vec::new()
    });
    wanted::in_preference_order(&mut confs, &read::prefer(&p.conf.join("prefer")));
    let present = read::present(confs);
    let (ours6, others6) = kernel::routes6(&mut nl);
    let w6 = v6::wanted6(&present, &others6);
    for n in &w6.notes {
        out::err(&format!("{PROG}: {n}\n"));
    }
    let (w, dropped) = wanted::wanted(present, &kernel);
    for d in &dropped {
        out::err(&shadow::message(PROG, d, &name_of));
    }
    // what fw applied last time: addresses, and links' own MTUs; written
    // first with what this run may add, so a cut in the middle forgets nothing
    let state = state::StateFile::in_dir(&p.run_dir);
    let before = state.read();
    ok &= state::save(&state, &before.with(&w.addrs));
    ok &= kernel::addresses_and_routes(&mut nl, &w, &before.addrs);
    let (managed6, ok6) = kernel::ipv6(&mut nl, &w6, &ours6);
    ok &= ok6;
    let (own_mtus, mtus_ok) = kernel::mtus(&w.mtus, &before.mtus);
    ok &= mtus_ok;
    ok &= state::save(
        &state,
        &Applied {
            addrs: w.addrs.clone(),
            mtus: own_mtus,
        },
    );
    // an etc/resolv.conf template replaces the built-in one
    // name servers and search domains: IPv4's first, then IPv6's
    if !p.run_dir.join("etc/resolv.conf").exists() {
        let dns: Vec<std::net::IpAddr> = w
            .dns
            .iter()
            .map(|&d| d.into())
            .chain(w6.dns.iter().map(|&d| d.into()))
            .collect();
        let mut search = w.search.clone();
        search.extend(w6.search.iter().filter(|s| !w.search.contains(s)).cloned());
        files::resolv_conf(
            p,
            &dns,
            w.domain.as_deref(),
            &search,
            !before.addrs.is_empty() || !w.addrs.is_empty() || managed6,
        );
    }
    ok &= files::etc_files(p, &etc::Vars::from_confs(&w.used, &read::hostname()));
    files::forwarding(p, &w6.uplinks);
    files::firewall(p);
    files::up(p);
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

/// What fw changed, on stdout (its log); a closed stdout is no reason to fail.
fn say(msg: &str) {
    let _ = out::out(msg);
}
