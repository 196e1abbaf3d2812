//! A running fingerprint of a simulation, so that "the same seed gives the
//! same run, bit for bit" is something a test can check.

/// FNV-1a applied to whole 64-bit words (one xor and one multiply per
/// word): tiny, fast, and stable across platforms and Rust versions (unlike
/// `DefaultHasher`, whose algorithm may change).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceHash(u64);

const OFFSET_BASIS: u64 = 0xcbf2_9ce4_8422_2325;
const PRIME: u64 = 0x0000_0100_0000_01b3;

impl Default for TraceHash {
    fn default() -> Self {
        TraceHash(OFFSET_BASIS)
    }
}

impl TraceHash {
    pub fn add(&mut self, word: u64) {
        self.0 = (self.0 ^ word).wrapping_mul(PRIME);
    }

    pub fn value(self) -> u64 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_matters() {
        let mut first = TraceHash::default();
        first.add(1);
        first.add(2);
        let mut second = TraceHash::default();
        second.add(2);
        second.add(1);
        assert_ne!(first.value(), second.value());
    }
}
