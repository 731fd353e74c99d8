//! The `/etc/issue` escapes getty expands, pure.

/// What the escapes refer to.
pub struct IssueInfo<'a> {
    pub hostname: &'a str,
    pub tty: &'a str,
    pub sysname: &'a str,
    pub release: &'a str,
    pub version: &'a str,
    pub machine: &'a str,
    pub domain: &'a str,
}

/// Expand `\n` (host name), `\l` (tty), `\s`, `\r`, `\v`, `\m`, `\o` (domain)
/// and `\\`; other escapes stay as written. Newlines become CR LF for a raw tty.
pub fn expand(text: &[u8], info: &IssueInfo) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len() + 32);
    let mut i = 0;
    while i < text.len() {
        let c = text[i];
        if c == b'\\' && i + 1 < text.len() {
            let rep: Option<&str> = match text[i + 1] {
                b'n' => Some(info.hostname),
                b'l' => Some(info.tty),
                b's' => Some(info.sysname),
                b'r' => Some(info.release),
                b'v' => Some(info.version),
                b'm' => Some(info.machine),
                b'o' => Some(info.domain),
                b'\\' => Some("\\"),
                _ => None,
            };
            if let Some(r) = rep {
                out.extend_from_slice(r.as_bytes());
                i += 2;
                continue;
            }
        }
        if c == b'\n' {
            out.push(b'\r');
        }
        out.push(c);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes() {
        let info = IssueInfo {
            hostname: "router",
            tty: "ttyS0",
            sysname: "Linux",
            release: "6.1.0",
            version: "#1",
            machine: "x86_64",
            domain: "lan",
        };
        assert_eq!(
            expand(b"Welcome to \\n on \\l (\\s \\r \\m) \\x \\\\\n", &info),
            b"Welcome to router on ttyS0 (Linux 6.1.0 x86_64) \\x \\\r\n".to_vec()
        );
        assert_eq!(expand(b"trailing \\", &info), b"trailing \\".to_vec());
    }
}
