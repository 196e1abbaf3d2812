//! The interval during which a node claims a leader lease: from the turn in
//! which it first held one until the lease ends — or until the turn in
//! which it stopped holding it early (it stepped down, or began a
//! leadership transfer). Lease Safety says no two nodes' claims overlap in
//! real time; `electorate cluster` counts the pairs that do.

use crate::core::time::Time;

/// One lease claim, on the node's own clock. Invariant: `began <= ends`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Claim {
    pub began: Time,
    pub ends: Time,
}

/// The node's latest claim, updated after every turn.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LeaseClaims {
    latest: Option<Claim>,
}

impl LeaseClaims {
    /// After a turn at `now`, in which the node's lease (if it holds one)
    /// ends at `expiry`; returns the latest claim.
    pub fn update(&mut self, now: Time, expiry: Option<Time>) -> Option<Claim> {
        self.latest = match (self.latest, expiry) {
            // Still the same claim, extended by a newer confirmed round.
            (Some(claim), Some(expiry)) if now < claim.ends => Some(Claim {
                began: claim.began,
                ends: claim.ends.max(expiry),
            }),
            // A new claim: none before, or the last one had run out.
            (_, Some(expiry)) => Some(Claim {
                began: now,
                ends: expiry,
            }),
            // Given up before it ran out: the claim ends now.
            (Some(claim), None) if now < claim.ends => Some(Claim {
                began: claim.began,
                ends: now.max(claim.began),
            }),
            (latest, None) => latest,
        };
        if let Some(claim) = self.latest {
            assert!(claim.began <= claim.ends, "a claim ends after it began");
        }
        self.latest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(millis: u64) -> Time {
        Time::from_millis(millis)
    }

    #[test]
    fn a_renewed_lease_extends_one_claim() {
        let mut claims = LeaseClaims::default();
        claims.update(at(10), Some(at(110)));
        let claim = claims.update(at(60), Some(at(160))).unwrap();
        assert_eq!((claim.began, claim.ends), (at(10), at(160)));
    }

    #[test]
    fn a_lease_given_up_early_ends_the_claim_at_that_turn() {
        let mut claims = LeaseClaims::default();
        claims.update(at(10), Some(at(110)));
        let claim = claims.update(at(40), None).unwrap();
        assert_eq!((claim.began, claim.ends), (at(10), at(40)));
        // Later turns without a lease leave it as it was.
        assert_eq!(claims.update(at(500), None), Some(claim));
    }

    #[test]
    fn a_lease_after_one_ran_out_is_a_new_claim() {
        let mut claims = LeaseClaims::default();
        claims.update(at(10), Some(at(110)));
        let claim = claims.update(at(200), Some(at(300))).unwrap();
        assert_eq!((claim.began, claim.ends), (at(200), at(300)));
    }
}
