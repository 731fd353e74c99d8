//! The DHCPv6 client (RFC 8415). `core` is pure (wire format, the state
//! machine); the I/O shell and the command lines come later.

pub mod core;
