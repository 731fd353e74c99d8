//! What the client's events do outside it: odhcp6c's handler protocol
//! (`SCRIPT IFACE STATE`, states started, bound, informed, updated,
//! rebound, ra-updated, unbound, stopped; the bindings (empty while none
//! are held) and the `RA_*` variables in the environment only), or in
//! native mode `FW_DIR/dhcp6_IF.ipconf` written atomically (removed when
//! nothing is held) and `u` to fw when its text changed. And the DUID's
//! state file.

use super::Shell;
use crate::dhcp6::core::client::Bindings;
use crate::dhcp6::core::msg::duid_ll;
use crate::dhcp6::core::report;
use common::errtext::describe;
use common::fsutil::atomic_write;
use std::io::Read;
use std::path::Path;
use std::process::Command;

impl Shell {
    fn ipconf_path(&self) -> std::path::PathBuf {
        self.o
            .fw_dir
            .join(format!("dhcp6_{}.ipconf", self.o.interface))
    }

    /// `SCRIPT IFACE STATE`, the bindings and what the RAs say in its
    /// environment (which a pending `ra-updated` thereby gets too).
    pub(super) fn script(&mut self, state: &str, b: Option<&Bindings>) {
        self.ra_due = None;
        let Some(script) = &self.o.script else {
            return;
        };
        let mut cmd = Command::new(script);
        cmd.arg(&self.o.interface).arg(state);
        // nothing held: the bindings' variables empty, not odhcp6c's own
        let none = Bindings::default();
        cmd.envs(report::script_env(b.unwrap_or(&none)));
        if let Some(r) = &self.ra {
            cmd.envs(r.env(self.now()));
        }
        match common::sig::clean_child(&mut cmd).status() {
            Ok(st) if !st.success() && self.o.verbose => {
                self.log(&format!("{script} {state}: {st}"))
            }
            Err(e) => self.log(&format!("cannot run {script} {state}: {}", describe(&e))),
            _ => {}
        }
    }

    fn poke_fw(&self) {
        if let Err(e) = crate::poke(&self.o.fw_service, "u") {
            self.log(&format!(
                "cannot poke {}: {}",
                self.o.fw_service.display(),
                describe(&e)
            ));
        }
    }

    /// Native mode: the file says what is held; none when nothing is.
    /// `refreshed`: an exchange renewed the lifetimes (see `report::rewrite`).
    fn write_ipconf(&mut self, b: Option<&Bindings>, refreshed: bool) {
        let text = b.map(|b| report::ipconf(&self.o.interface, b));
        if !report::rewrite(self.written.as_deref(), text.as_deref(), refreshed) {
            return;
        }
        let path = self.ipconf_path();
        match &text {
            Some(t) => {
                let _ = std::fs::create_dir_all(&self.o.fw_dir);
                if let Err(e) = atomic_write(&path, t.as_bytes(), 0o644, false) {
                    self.log(&format!(
                        "cannot write {}: {}",
                        path.display(),
                        describe(&e)
                    ));
                    return;
                }
            }
            None => match std::fs::remove_file(&path) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    // nothing there: nothing for fw to change
                    self.written = None;
                    return;
                }
                Err(e) => self.log(&format!(
                    "cannot remove {}: {}",
                    path.display(),
                    describe(&e)
                )),
            },
        }
        self.written = text;
        self.poke_fw();
    }

    pub(super) fn event(&mut self, state: &str, b: &Bindings) {
        self.bound = state != "unbound";
        let n = b.addresses.len() + b.prefixes.len();
        self.log(&format!(
            "{state}: {} address(es), {} prefix(es){}",
            b.addresses.len(),
            b.prefixes.len(),
            b.prefixes
                .iter()
                .map(|p| format!(" {}/{}", p.addr, p.len))
                .collect::<String>()
        ));
        if self.native {
            let keep = state != "unbound" && (n > 0 || state == "informed");
            let refreshed = matches!(state, "bound" | "updated" | "rebound");
            self.write_ipconf(keep.then_some(b), refreshed);
        } else {
            self.script(state, Some(b));
        }
    }

    pub(super) fn started(&mut self) {
        if self.native {
            // nothing held yet: a file left by an earlier run goes
            self.written = Some(String::new());
            self.write_ipconf(None, false);
        } else {
            self.script("started", None);
        }
    }

    /// The end: `stopped`, or the file removed and fw poked.
    pub(super) fn finish(&mut self) -> i32 {
        if self.native {
            self.write_ipconf(None, false);
        } else {
            self.script("stopped", None);
        }
        if let Some(p) = &self.o.pidfile {
            let _ = std::fs::remove_file(p);
        }
        crate::flush_pokes();
        0
    }
}

/// The DUID from `STATE_DIR/duid`; a DUID-LL of `mac` when there is none
/// or it is unusable (then written there, so the DUID stays when the
/// interface's MAC changes).
pub(super) fn duid(dir: &Path, mac: [u8; 6], prog: &str) -> Vec<u8> {
    let path = dir.join("duid");
    let mut text = String::new();
    let read = std::fs::File::open(&path).and_then(|f| f.take(1024).read_to_string(&mut text));
    if read.is_ok() {
        if let Some(d) = report::duid_from_text(&text) {
            return d;
        }
        common::out::err(&format!(
            "{prog}: {}: not a DUID: made anew\n",
            path.display()
        ));
    }
    let d = duid_ll(mac);
    let _ = std::fs::create_dir_all(dir);
    if let Err(e) = atomic_write(&path, report::duid_text(&d).as_bytes(), 0o644, true) {
        common::out::err(&format!(
            "{prog}: cannot keep the DUID in {}: {}\n",
            path.display(),
            describe(&e)
        ));
    }
    d
}
