//! The pinboard's rule for deciding an entry (K11): organizers take a pin up or close
//! it; "open" is where every pin starts and no decision. The store asks [`decide`]
//! before it writes.

use super::PinStatus;

/// Why a pin may not be decided as asked. The text is German (the store's callers have
/// always shown it); the web shows it in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PinRefusal {
    /// "Open" is no decision.
    #[error("Bitte aufgreifen oder schließen.")]
    NoDecision,
}

/// Whether a pin may be decided to stand at `status`.
pub fn decide(status: PinStatus) -> Result<(), PinRefusal> {
    match status {
        PinStatus::Open => Err(PinRefusal::NoDecision),
        PinStatus::PickedUp | PinStatus::Closed => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pin_is_taken_up_or_closed_and_open_is_no_decision() {
        assert_eq!(decide(PinStatus::PickedUp), Ok(()));
        assert_eq!(decide(PinStatus::Closed), Ok(()));
        assert_eq!(decide(PinStatus::Open), Err(PinRefusal::NoDecision));
    }
}
