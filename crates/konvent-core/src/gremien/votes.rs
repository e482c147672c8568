//! Why the council's votes (G9, G10) refuse a ballot, a vote or a request to stop a
//! written procedure. The facts (closed, stopped, who is present) are the store's;
//! [`ballot`] is the rule a ballot meets first. The texts are German; the web shows
//! each case in the reader's language.

/// Why a vote, a ballot or a written procedure's stop is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum VoteRefusal {
    #[error("Dieses Umlaufverfahren wurde abgebrochen.")]
    Stopped,
    #[error("Diese Abstimmung ist geschlossen.")]
    Closed,
    #[error("Diese Abstimmung ist schon geschlossen.")]
    AlreadyClosed,
    #[error("Für diesen Sitz hat das Mitglied selbst schon abgestimmt.")]
    MemberVoted,
    #[error("Diese Stimme ist schon zu oft geändert worden.")]
    TooManyChanges,
    #[error(
        "Über diesen Beschluss ist schon abgestimmt worden; nur Entwürfe kommen zur Abstimmung."
    )]
    NotADraft,
    #[error("Es ist noch kein Königsteiner Schlüssel hinterlegt.")]
    NoKey,
    /// The seat's member is present and votes; a deputy counts only for an absent one.
    #[error(
        "Das Mitglied Ihres Sitzes ist anwesend und stimmt selbst ab; die Stimme der \
         Stellvertretung zählt nur für ein abwesendes Mitglied."
    )]
    MemberPresent,
    #[error(
        "Sie sind in dieser Sitzung nicht als anwesend erfasst. Es zählen nur die Stimmen \
         anwesender Mitglieder oder der anwesenden Stellvertretung eines abwesenden Mitglieds."
    )]
    NotPresent,
    #[error("Für Ihren Sitz liegt schon ein Antrag auf Abbruch dieses Umlaufverfahrens vor.")]
    StopAlreadyRequested,
    #[error("Dieses Umlaufverfahren läuft nicht mehr.")]
    NotRunning,
    #[error("Es liegt kein offener Antrag auf Abbruch vor.")]
    NoOpenStopRequest,
    #[error(
        "Nur ein Umlaufverfahren kann abgebrochen werden; eine Abstimmung in der Sitzung \
         schließt die Sitzungsleitung."
    )]
    NotWritten,
    #[error("Dieses Umlaufverfahren wurde schon abgebrochen.")]
    AlreadyStopped,
    #[error("Dieses Umlaufverfahren ist schon beendet.")]
    AlreadyOver,
}

/// A ballot is cast only while its vote runs: not after a written procedure was
/// stopped, nor once the vote is closed or its deadline (`deadline`, microseconds) has
/// passed at `now`.
pub fn ballot(
    stopped: bool,
    closed: bool,
    deadline: Option<i64>,
    now: i64,
) -> Result<(), VoteRefusal> {
    if stopped {
        return Err(VoteRefusal::Stopped);
    }
    if closed || deadline.is_some_and(|d| d <= now) {
        return Err(VoteRefusal::Closed);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_ballot_needs_a_running_vote() {
        assert_eq!(ballot(false, false, None, 5), Ok(()));
        assert_eq!(ballot(false, false, Some(6), 5), Ok(()));
        assert_eq!(ballot(false, false, Some(5), 5), Err(VoteRefusal::Closed));
        assert_eq!(ballot(false, true, None, 5), Err(VoteRefusal::Closed));
        assert_eq!(ballot(true, true, None, 5), Err(VoteRefusal::Stopped));
    }
}
