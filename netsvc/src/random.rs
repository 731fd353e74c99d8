//! Random numbers for the daemons' shells (transaction ids, jitter, the
//! RA schedule). They need not be secret, and they must not wait: at boot
//! a plain getrandom(2) blocks until the kernel's random pool is ready,
//! which held dhcp's first DISCOVER back by a second in QEMU.

use rustix::rand::{getrandom, GetRandomFlags};

/// Fill `bytes` without waiting: insecure bytes (Linux 5.6+), else what
/// the pool has now. False when neither gave all of them.
fn fill(bytes: &mut [u8]) -> bool {
    [GetRandomFlags::INSECURE, GetRandomFlags::NONBLOCK]
        .into_iter()
        .any(|flags| getrandom(&mut *bytes, flags).is_ok_and(|n| n == bytes.len()))
}

/// A seed: random bytes, else the clock; mixed with the pid in every case.
pub fn seed() -> u64 {
    let mut bytes = [0u8; 8];
    let fallback = if fill(&mut bytes) {
        0
    } else {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0)
    };
    u64::from_ne_bytes(bytes) ^ fallback ^ u64::from(std::process::id())
}

/// A source of random numbers for a sans-I/O core: getrandom at each call,
/// a xorshift from `seed` when even that fails.
pub fn source() -> Box<dyn FnMut() -> u32> {
    let mut x = seed() | 1;
    Box::new(move || {
        let mut b = [0u8; 4];
        if fill(&mut b) {
            return u32::from_ne_bytes(b);
        }
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x as u32
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn numbers_differ() {
        let mut r = super::source();
        let a: Vec<u32> = (0..8).map(|_| r()).collect();
        assert!(a.windows(2).any(|w| w[0] != w[1]), "{a:?}");
        assert_ne!(super::seed(), 0);
    }
}
