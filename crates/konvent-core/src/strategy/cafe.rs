//! The World Café's round state machine (K9): a round is planned, runs, and ends, for
//! all its tables together. Rounds run one at a time and in their order; an ended round
//! does not run again. The store asks [`change_round`] before it writes the change,
//! and [`take_seat`] before it seats somebody at a table.

use super::RoundStatus;

/// Why a round may not change as asked. The texts are German (the store's callers have
/// always shown them); the web shows each case in the reader's language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RoundRefusal {
    /// Round `number` has ended; only the next planned round starts.
    #[error(
        "Runde {number} ist schon beendet und lässt sich nicht noch einmal starten; \
         starten lässt sich nur die nächste geplante Runde."
    )]
    AlreadyEnded { number: i64 },
    /// A round before `number` is still planned: rounds start in their order.
    #[error("Vor Runde {number} ist noch eine frühere Runde geplant; bitte zuerst diese starten.")]
    EarlierPlanned { number: i64 },
    /// Another round runs: one at a time.
    #[error("Es läuft schon eine Runde; bitte sie zuerst beenden.")]
    AnotherRunning,
    /// Any other change: ending a round that does not run, or planning one again.
    #[error("Die Runde ist nicht in dem Stand, der dafür nötig ist.")]
    WrongState,
}

/// Whether round `number`, standing at `from`, may move `to`. `rounds` is where every
/// round of the event stands (number and status, this one included). A planned round
/// starts when no earlier one is still planned and none runs; a running round ends.
pub fn change_round(
    number: i64,
    from: RoundStatus,
    to: RoundStatus,
    rounds: &[(i64, RoundStatus)],
) -> Result<(), RoundRefusal> {
    match (from, to) {
        (RoundStatus::Ended, RoundStatus::Running) => Err(RoundRefusal::AlreadyEnded { number }),
        (RoundStatus::Planned, RoundStatus::Running) => {
            if rounds
                .iter()
                .any(|&(n, status)| status == RoundStatus::Planned && n < number)
            {
                Err(RoundRefusal::EarlierPlanned { number })
            } else if rounds
                .iter()
                .any(|&(_, status)| status == RoundStatus::Running)
            {
                Err(RoundRefusal::AnotherRunning)
            } else {
                Ok(())
            }
        }
        (RoundStatus::Running, RoundStatus::Ended) => Ok(()),
        _ => Err(RoundRefusal::WrongState),
    }
}

/// Why nobody more may sit at a table. The text is German, as [`RoundRefusal`]'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SeatRefusal {
    /// Every seat is taken.
    #[error("Dieser Tisch ist voll. Bitte wählen Sie einen anderen Tisch.")]
    TableFull,
}

/// Whether one more person may sit at a table of `capacity` seats where `seated` others
/// sit already (whoever asks is not counted, so a person may choose their own table
/// again).
pub fn take_seat(seated: i64, capacity: i64) -> Result<(), SeatRefusal> {
    if seated >= capacity {
        Err(SeatRefusal::TableFull)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use RoundStatus::{Ended, Planned, Running};

    #[test]
    fn the_first_planned_round_starts_when_none_runs() {
        let rounds = [(1, Ended), (2, Ended), (3, Planned), (4, Planned)];
        assert_eq!(change_round(3, Planned, Running, &rounds), Ok(()));
    }

    #[test]
    fn a_later_round_waits_for_the_earlier_planned_one() {
        let rounds = [(1, Ended), (2, Planned), (3, Planned)];
        assert_eq!(
            change_round(3, Planned, Running, &rounds),
            Err(RoundRefusal::EarlierPlanned { number: 3 })
        );
    }

    #[test]
    fn only_one_round_runs_at_a_time() {
        let rounds = [(1, Running), (2, Planned)];
        assert_eq!(
            change_round(2, Planned, Running, &rounds),
            Err(RoundRefusal::AnotherRunning)
        );
    }

    #[test]
    fn an_ended_round_never_starts_again() {
        let rounds = [(1, Ended), (2, Planned)];
        let refused = change_round(1, Ended, Running, &rounds);
        assert_eq!(refused, Err(RoundRefusal::AlreadyEnded { number: 1 }));
        let text = refused.err().map(|r| r.to_string()).unwrap_or_default();
        assert_eq!(
            text,
            "Runde 1 ist schon beendet und lässt sich nicht noch einmal starten; \
             starten lässt sich nur die nächste geplante Runde."
        );
    }

    #[test]
    fn a_running_round_ends_and_nothing_else_does() {
        let rounds = [(1, Running), (2, Planned), (3, Ended)];
        assert_eq!(change_round(1, Running, Ended, &rounds), Ok(()));
        for (from, to) in [
            (Planned, Ended),
            (Ended, Ended),
            (Running, Running),
            (Planned, Planned),
            (Running, Planned),
            (Ended, Planned),
        ] {
            assert_eq!(
                change_round(2, from, to, &rounds),
                Err(RoundRefusal::WrongState),
                "{from} → {to}"
            );
        }
    }

    #[test]
    fn a_table_seats_as_many_as_it_has_seats() {
        assert_eq!(take_seat(0, 2), Ok(()));
        assert_eq!(take_seat(1, 2), Ok(()));
        assert_eq!(take_seat(2, 2), Err(SeatRefusal::TableFull));
        assert_eq!(take_seat(3, 2), Err(SeatRefusal::TableFull), "over-full");
        assert_eq!(take_seat(0, 0), Err(SeatRefusal::TableFull), "no seats");
    }
}
