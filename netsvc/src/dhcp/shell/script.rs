//! What the client's events do outside it: BusyBox's handler-script
//! protocol (`deconfig`, `bound`, `renew`, `nak`, `leasefail`; the lease
//! in the environment only), or in native mode the files and fw poke of
//! `native`.

use super::Shell;
use crate::dhcp::core::lease::Lease;
use common::errtext::describe;
use common::sig;
use std::process::Command;

impl Shell {
    pub(super) fn script(&self, event: &str, lease: Option<&Lease>) {
        if let Some(n) = &self.native {
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
}
