//! DHCPv4 client: wire format (`msg`), validated leases (`lease`), the
//! sans-I/O state machine (`client`), framing (`frame`) and the `udhcpc`
//! applet (`udhcpc`).

pub mod client;
pub mod frame;
pub mod lease;
pub mod msg;
pub mod native;
pub mod udhcpc;
