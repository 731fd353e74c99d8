//! Native mode: no shell. Instead of calling a handler script, the client
//! writes `FW_DIR/dhcp_IF.ipconf` (and `env.out` for the pinger) atomically
//! and sends `u` to the `fw` service's control FIFO; when the lease is lost
//! or the client stops, it removes the file and pokes `fw` again. `fw` is
//! poked only when the file really changed.

use super::lease::Lease;
use common::fsutil::atomic_write;
use std::path::{Path, PathBuf};

#[derive(Clone, Debug)]
pub struct Native {
    /// Where ipconf files go (the seed's `/var/run/service/fw`).
    pub fw_dir: PathBuf,
    /// The fw service directory whose `supervise/control` is poked.
    pub fw_service: PathBuf,
    /// Where `env.out` goes (the service directory).
    pub env_out: PathBuf,
    pub classless_routes: bool,
}

/// A value single-quoted for sh: the file stays safe to source.
pub fn quote(v: &str) -> String {
    format!("'{}'", v.replace('\'', "'\\''"))
}

/// The ipconf text for a lease on `interface`.
pub fn ipconf(interface: &str, l: &Lease, classless: bool) -> String {
    let mut s = format!("# written by ferrite's DHCP client for {interface}\n");
    s.push_str(&format!("if={}\n", quote(interface)));
    s.push_str(&format!("ip={}\n", quote(&l.ip.to_string())));
    s.push_str(&format!(
        "ipmask={}\n",
        quote(&format!("{}/{}", l.ip, l.prefix))
    ));
    for r in l.effective_routes(classless) {
        let net = if r.prefix == 0 {
            "0/0".to_string()
        } else {
            format!("{}/{}", r.net, r.prefix)
        };
        s.push_str(&format!(
            "gw={}\nnet={}\n",
            quote(&r.gateway.to_string()),
            quote(&net)
        ));
    }
    if !l.dns.is_empty() {
        let dns: Vec<String> = l.dns.iter().map(|d| d.to_string()).collect();
        s.push_str(&format!("dns={}\n", quote(&dns.join(" "))));
    }
    if let Some(d) = &l.domain {
        s.push_str(&format!("domain={}\n", quote(d)));
    }
    if !l.search.is_empty() {
        s.push_str(&format!("search={}\n", quote(&l.search.join(" "))));
    }
    if let Some(m) = l.mtu {
        s.push_str(&format!("mtu={}\n", quote(&m.to_string())));
    }
    s
}

/// `env.out`: the udhcpc script environment, one `key='value'` a line.
pub fn env_out(env: &[(String, String)]) -> String {
    env.iter()
        .map(|(k, v)| format!("{k}={}\n", quote(v)))
        .collect()
}

impl Native {
    fn ipconf_path(&self, interface: &str) -> PathBuf {
        self.fw_dir.join(format!("dhcp_{interface}.ipconf"))
    }

    /// Send `u` to fw's runsv (missing or stopped fw: nothing to do).
    pub fn poke_fw(&self) {
        use std::io::Write;
        use std::os::unix::fs::OpenOptionsExt;
        if let Ok(mut f) = std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NONBLOCK)
            .open(self.fw_service.join("supervise/control"))
        {
            let _ = f.write_all(b"u");
        }
    }

    /// A lease is in force: write the files; poke fw when ipconf changed.
    pub fn bound(
        &self,
        interface: &str,
        l: &Lease,
        env: &[(String, String)],
    ) -> Result<(), String> {
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
        let _ = std::fs::remove_file(&self.env_out);
        if std::fs::remove_file(self.ipconf_path(interface)).is_ok() {
            self.poke_fw();
        }
    }
}

/// The interface a service directory `dhcp_IF` stands for.
pub fn interface_from_dir(dir: &Path) -> Option<String> {
    let name = dir.file_name()?.to_string_lossy().into_owned();
    let rest = name.strip_prefix("dhcp_")?;
    (!rest.is_empty() && !rest.contains('/')).then(|| rest.to_string())
}

#[cfg(test)]
mod tests {
    use super::super::msg::{opt, Message, BOOTREPLY};
    use super::*;
    use std::net::Ipv4Addr;

    #[test]
    fn ipconf_text_is_safe_to_source() {
        let mut m = Message::new(BOOTREPLY, 1, [0; 6]);
        m.yiaddr = Ipv4Addr::new(10, 0, 2, 15);
        m.set(opt::SERVER_ID, vec![10, 0, 2, 2]);
        m.set(opt::SUBNET_MASK, vec![255, 255, 255, 0]);
        m.set(opt::ROUTER, vec![10, 0, 2, 2]);
        m.set(opt::DNS, vec![10, 0, 2, 3]);
        let l = Lease::from_message(&m).unwrap();
        assert_eq!(
            ipconf("eth0", &l, true),
            "# written by ferrite's DHCP client for eth0\nif='eth0'\nip='10.0.2.15'\nipmask='10.0.2.15/24'\ngw='10.0.2.2'\nnet='0/0'\ndns='10.0.2.3'\n"
        );
        assert_eq!(quote("a'b; $(reboot)"), "'a'\\''b; $(reboot)'");
        assert_eq!(
            env_out(&[("hostname".into(), "x'y".into())]),
            "hostname='x'\\''y'\n"
        );
        assert_eq!(
            interface_from_dir(Path::new("/var/service/dhcp_eth0")).as_deref(),
            Some("eth0")
        );
        assert_eq!(interface_from_dir(Path::new("/var/service/fw")), None);
    }
}
