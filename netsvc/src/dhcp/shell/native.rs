//! Native mode: no shell. Instead of calling a handler script, the client
//! writes `FW_DIR/dhcp_IF.ipconf` (and `env.out` for the pinger) atomically
//! and sends `u` to the `fw` service's control FIFO; when the lease is lost
//! or the client stops, it removes the file and pokes `fw` again. `fw` is
//! poked only when the file really changed.
//!
//! `--apply` also installs the address (with the lease as its lifetime),
//! the routes (option 121 when present) and resolv.conf itself, through
//! netlink, and checks the routes as fw does (`fw::shadow`, CVE-2024-3661)
//! at every lease and renewal, against the kernel's routes on other links.
//!
//! As `dhcp_IF/run` linked to ferrite it needs no arguments: the interface
//! is IF, the lease goes to `/var/run/service/fw/dhcp_IF.ipconf`, `fw`
//! (`/var/service/fw`) is poked, and `env.out` is written in the service
//! directory for the pinger. Extra udhcpc options may come from `./args`.

use super::sockets;
use crate::dhcp::cli::NativeOptions;
use crate::dhcp::core::ipconf::{env_out, interface_from_dir, ipconf};
use crate::dhcp::core::lease::Lease;
use crate::fw::shadow;
use crate::netlink::{Addr, RouteSpec, Rtnl};
use common::errtext::describe;
use common::fsutil::atomic_write;
use std::path::PathBuf;

#[derive(Clone, Debug)]
pub struct Native {
    /// Where ipconf files go (the seed's `/var/run/service/fw`).
    pub fw_dir: PathBuf,
    /// The fw service directory whose `supervise/control` is poked.
    pub fw_service: PathBuf,
    /// Where `env.out` goes (the service directory).
    pub env_out: PathBuf,
    pub classless_routes: bool,
    /// `--apply`: also install the lease through netlink and write resolv.conf.
    pub apply: Option<Apply>,
}

/// Applying the lease directly (for boxes without fw).
#[derive(Debug)]
pub struct Apply {
    pub index: i32,
    pub resolv_conf: PathBuf,
    /// What was installed, to take away again.
    applied: std::cell::RefCell<Option<(Addr, Vec<RouteSpec>)>>,
    /// The link's MTU before the lease's (option 26) replaced it.
    mtu_before: std::cell::Cell<Option<u32>>,
}

impl Clone for Apply {
    fn clone(&self) -> Self {
        Apply::new(self.index, self.resolv_conf.clone())
    }
}

impl Apply {
    pub fn new(index: i32, resolv_conf: PathBuf) -> Apply {
        Apply {
            index,
            resolv_conf,
            applied: std::cell::RefCell::new(None),
            mtu_before: std::cell::Cell::new(None),
        }
    }

    /// The lease's MTU on the link, or the link's own back when it has none.
    fn set_mtu(&self, wanted: Option<u32>) -> Result<(), String> {
        let name = common::iface::name_of(self.index);
        let Ok(now) = common::iface::mtu(&name) else {
            return Ok(());
        };
        let target = match (wanted, self.mtu_before.get()) {
            (Some(m), before) => {
                if before.is_none() && now != m {
                    self.mtu_before.set(Some(now));
                }
                m
            }
            (None, Some(orig)) => {
                self.mtu_before.set(None);
                orig
            }
            (None, None) => return Ok(()),
        };
        if now == target {
            return Ok(());
        }
        common::iface::set_mtu(&name, target).map_err(|e| format!("mtu {target}: {e}"))
    }

    /// The lease's routes that shadow no route on another link (every
    /// routing table, read now: a VPN that came up since the last renewal
    /// counts); each dropped one is named on stderr.
    fn screened_routes(&self, nl: &mut Rtnl, l: &Lease, classless: bool) -> Vec<RouteSpec> {
        let learned: Vec<shadow::Route> = l
            .effective_routes(classless)
            .iter()
            .map(|r| shadow::Route {
                index: self.index,
                dst: r.net,
                prefix: r.prefix,
                gateway: (!r.gateway.is_unspecified()).then_some(r.gateway),
            })
            .collect();
        let guards: Vec<shadow::Guard> = match nl.routes_of_every_table() {
            Ok(rs) => rs
                .into_iter()
                .filter(|r| r.index != self.index)
                .map(|r| shadow::Guard {
                    route: shadow::Route {
                        index: r.index,
                        dst: r.dst,
                        prefix: r.prefix,
                        gateway: r.gateway,
                    },
                    local: false,
                    ordered: None,
                })
                .collect(),
            Err(e) => {
                common::out::err(&format!("dhcp: reading routes: {e}\n"));
                Vec::new()
            }
        };
        let (keep, dropped) = shadow::screen(&learned, None, &guards);
        for d in &dropped {
            common::out::err(&shadow::message("dhcp", d, &common::iface::name_of));
        }
        keep.iter()
            .map(|r| RouteSpec {
                dst: r.dst,
                prefix: r.prefix,
                gateway: r.gateway,
                index: self.index,
                protocol: 3, // "boot": from DHCP
                metric: 0,
            })
            .collect()
    }

    fn install(&self, l: &Lease, classless: bool) -> Result<(), String> {
        let mut nl = Rtnl::open().map_err(|e| format!("netlink: {e}"))?;
        let addr = Addr {
            ip: l.ip,
            prefix: l.prefix,
            broadcast: Some(l.broadcast_or_default()),
            lifetime: l.lease,
        };
        let routes = self.screened_routes(&mut nl, l, classless);
        if let Some((old, old_routes)) = self.applied.borrow().as_ref() {
            // routes of the last lease not wanted now (changed, or shadowing
            // a VPN that came up since) go
            for r in old_routes.iter().rev().filter(|r| !routes.contains(r)) {
                let _ = nl.del_route(r);
            }
            // another address than before: the old one goes first
            if old.ip != addr.ip || old.prefix != addr.prefix {
                let _ = nl.del_address(self.index, old);
            }
        }
        nl.set_address(self.index, &addr)
            .map_err(|e| format!("address {}/{}: {e}", addr.ip, addr.prefix))?;
        for r in &routes {
            if let Err(e) = nl.add_route(r) {
                return Err(format!(
                    "route {}/{} via {:?}: {e}",
                    r.dst, r.prefix, r.gateway
                ));
            }
        }
        *self.applied.borrow_mut() = Some((addr, routes));
        self.set_mtu(l.mtu.map(u32::from))?;
        if !l.dns.is_empty() {
            let mut text = String::new();
            if let Some(d) = &l.domain {
                text.push_str(&format!("domain {d}\n"));
            }
            if !l.search.is_empty() {
                text.push_str(&format!("search {}\n", l.search.join(" ")));
            }
            for d in &l.dns {
                text.push_str(&format!("nameserver {d}\n"));
            }
            atomic_write(&self.resolv_conf, text.as_bytes(), 0o644, true)
                .map_err(|e| format!("{}: {e}", self.resolv_conf.display()))?;
        }
        Ok(())
    }

    fn remove(&self) {
        if let Some((addr, routes)) = self.applied.borrow_mut().take() {
            if let Ok(mut nl) = Rtnl::open() {
                for r in routes.iter().rev() {
                    let _ = nl.del_route(r);
                }
                let _ = nl.del_address(self.index, &addr);
            }
        }
        let _ = self.set_mtu(None);
    }
}

impl Native {
    fn ipconf_path(&self, interface: &str) -> PathBuf {
        self.fw_dir.join(format!("dhcp_{interface}.ipconf"))
    }

    /// Send `u` to fw's runsv (missing fw: nothing to do; a runsv still
    /// starting is waited for a little).
    pub fn poke_fw(&self) {
        let _ = crate::poke(&self.fw_service, "u");
    }

    /// A lease is in force: write the files; poke fw when ipconf changed.
    pub fn bound(
        &self,
        interface: &str,
        l: &Lease,
        env: &[(String, String)],
    ) -> Result<(), String> {
        if let Some(a) = &self.apply {
            a.install(l, self.classless_routes)?;
        }
        let text = ipconf(interface, l, self.classless_routes);
        let path = self.ipconf_path(interface);
        let _ = std::fs::create_dir_all(&self.fw_dir);
        let changed = std::fs::read_to_string(&path).ok().as_deref() != Some(text.as_str());
        let _ = atomic_write(&self.env_out, env_out(env).as_bytes(), 0o644, false);
        if changed {
            atomic_write(&path, text.as_bytes(), 0o644, true)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            self.poke_fw();
        }
        Ok(())
    }

    /// No lease: remove the files; poke fw when there was one.
    pub fn deconfig(&self, interface: &str) {
        if let Some(a) = &self.apply {
            a.remove();
        }
        let _ = std::fs::remove_file(&self.env_out);
        if std::fs::remove_file(self.ipconf_path(interface)).is_ok() {
            self.poke_fw();
        }
    }
}

/// The native client: the interface from the service directory unless
/// `-i` names one, always in the foreground.
pub fn run(n: NativeOptions) -> i32 {
    let cwd = std::env::current_dir().unwrap_or_default();
    let mut o = n.udhcpc;
    if !o.interface_given {
        match interface_from_dir(&cwd) {
            Some(ifname) => o.interface = ifname,
            None => {
                common::out::err("dhcp: no interface: give -i IF or run it as dhcp_IF/run\n");
                return 1;
            }
        }
    }
    o.foreground = true;
    let apply = if n.apply {
        match sockets::interface(&o.interface) {
            Ok((index, _)) => Some(Apply::new(index, n.resolv_conf)),
            Err(e) => {
                common::out::err(&format!(
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
    let native = Native {
        fw_dir: n.fw_dir,
        fw_service: n.fw_service,
        env_out: cwd.join("env.out"),
        classless_routes: !o.no_classless,
        apply,
    };
    super::run(o, Some(native))
}
