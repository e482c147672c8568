//! The council's majority rules (G9, G10) as one pure function: the draft's kind, the
//! ballots of the seventeen seats, the procedure and the Königsteiner Schlüssel in, the
//! outcome and its arithmetic out. Sources: `domain/FACTS-decisions.md`.
//!
//! The reading konvent implements (shown beside every result as "so gerechnet"):
//! - **Binding decision** (IT-Staatsvertrag § 1 Abs. 5): the Bund votes yes, at least eleven
//!   Länder vote yes, and the yes-Länder together hold at least two thirds of the sixteen
//!   Länder's shares. Both thresholds are fixed over all sixteen Länder: absent, abstaining
//!   and non-voting Länder simply are not yes-Länder (GO § 7 Abs. 4's "abstentions do not
//!   count" only changes simple majorities).
//! - **Decision limited to consenting territories**: it binds only the seats that agreed, so
//!   nobody is outvoted; it is adopted when at least one seat votes yes, and applies in the
//!   territories of the yes-voters (listed in the result).
//! - **Recommendation** and **internal/procedural** decision: simple majority, more yes than
//!   no; abstentions (and absent seats) are not counted; a tie is rejected.
//! - **Procedure**: in a session a seat without a ballot is absent and not counted; in the
//!   written procedure (Umlaufverfahren, GO § 8) a seat without a ballot counts as abstaining.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A voting seat of the council: the Bund and the sixteen Länder.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Seat {
    Bund,
    Bw,
    By,
    Be,
    Bb,
    Hb,
    Hh,
    He,
    Mv,
    Ni,
    Nw,
    Rp,
    Sl,
    Sn,
    St,
    Sh,
    Th,
}

impl Seat {
    /// All seventeen seats, the Bund first, then the Länder alphabetically (German names).
    pub const ALL: [Self; 17] = [
        Self::Bund,
        Self::Bw,
        Self::By,
        Self::Be,
        Self::Bb,
        Self::Hb,
        Self::Hh,
        Self::He,
        Self::Mv,
        Self::Ni,
        Self::Nw,
        Self::Rp,
        Self::Sl,
        Self::Sn,
        Self::St,
        Self::Sh,
        Self::Th,
    ];

    /// The sixteen Länder in the order of a [`KeyTable`].
    pub fn laender() -> impl Iterator<Item = Self> {
        Self::ALL.into_iter().skip(1)
    }

    pub fn is_land(self) -> bool {
        self != Self::Bund
    }

    /// The position of a Land in a [`KeyTable`]; `None` for the Bund.
    pub fn land_index(self) -> Option<usize> {
        Self::ALL
            .iter()
            .position(|s| *s == self)
            .and_then(|i| i.checked_sub(1))
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Bund => "bund",
            Self::Bw => "bw",
            Self::By => "by",
            Self::Be => "be",
            Self::Bb => "bb",
            Self::Hb => "hb",
            Self::Hh => "hh",
            Self::He => "he",
            Self::Mv => "mv",
            Self::Ni => "ni",
            Self::Nw => "nw",
            Self::Rp => "rp",
            Self::Sl => "sl",
            Self::Sn => "sn",
            Self::St => "st",
            Self::Sh => "sh",
            Self::Th => "th",
        }
    }

    /// The seat's name; the names of the Länder are the same in German and English texts.
    pub fn name(self) -> &'static str {
        match self {
            Self::Bund => "Bund",
            Self::Bw => "Baden-Württemberg",
            Self::By => "Bayern",
            Self::Be => "Berlin",
            Self::Bb => "Brandenburg",
            Self::Hb => "Bremen",
            Self::Hh => "Hamburg",
            Self::He => "Hessen",
            Self::Mv => "Mecklenburg-Vorpommern",
            Self::Ni => "Niedersachsen",
            Self::Nw => "Nordrhein-Westfalen",
            Self::Rp => "Rheinland-Pfalz",
            Self::Sl => "Saarland",
            Self::Sn => "Sachsen",
            Self::St => "Sachsen-Anhalt",
            Self::Sh => "Schleswig-Holstein",
            Self::Th => "Thüringen",
        }
    }
}

impl FromStr for Seat {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_lowercase();
        Self::ALL
            .into_iter()
            .find(|x| x.code() == s)
            .ok_or("Unbekannter Sitz im IT-Planungsrat.")
    }
}

impl fmt::Display for Seat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// One seat's ballot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ballot {
    Yes,
    No,
    Abstain,
}

impl Ballot {
    pub const ALL: [Self; 3] = [Self::Yes, Self::No, Self::Abstain];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Yes => "yes",
            Self::No => "no",
            Self::Abstain => "abstain",
        }
    }
}

impl FromStr for Ballot {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim())
            .ok_or("Bitte ja, nein oder Enthaltung wählen.")
    }
}

/// What a draft resolution is, which decides the majority it needs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DraftKind {
    /// Beschluss under IT-Staatsvertrag § 1 Abs. 5: the qualified majority.
    #[default]
    Binding,
    /// A decision that applies only in the territories whose members agreed.
    Territorial,
    /// Empfehlung: simple majority.
    Recommendation,
    /// Internal or procedural decision: simple majority.
    Procedural,
}

impl DraftKind {
    pub const ALL: [Self; 4] = [
        Self::Binding,
        Self::Territorial,
        Self::Recommendation,
        Self::Procedural,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Binding => "binding",
            Self::Territorial => "territorial",
            Self::Recommendation => "recommendation",
            Self::Procedural => "procedural",
        }
    }
}

impl FromStr for DraftKind {
    type Err = &'static str;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|x| x.as_str() == s.trim())
            .ok_or("Unbekannte Art des Beschlusses.")
    }
}

/// How the council votes: in a session or in writing by a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Procedure {
    Session,
    Written,
}

impl Procedure {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::Written => "written",
        }
    }
}

/// Shares of the Königsteiner Schlüssel are kept in units of 1/100,000 percent (the GWK
/// publishes five decimals), so sums and the two-thirds test are exact integers.
pub const SHARE_UNITS_PER_PERCENT: u32 = 100_000;
/// How far the sixteen shares may sum away from 100 % (0.001 percentage points).
pub const SHARE_SUM_TOLERANCE: u32 = 100;

/// The Königsteiner Schlüssel of one year: the sixteen Länder's shares in the order of
/// [`Seat::laender`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyTable {
    pub year: i32,
    pub shares: [u32; 16],
}

impl KeyTable {
    /// A table from sixteen shares, checked: the sum is 100 % ± 0.001.
    pub fn new(year: i32, shares: [u32; 16]) -> Result<Self, &'static str> {
        if !(1949..=2200).contains(&year) {
            return Err("Bitte ein Jahr angeben.");
        }
        let sum: u32 = shares.iter().sum();
        if sum.abs_diff(100 * SHARE_UNITS_PER_PERCENT) > SHARE_SUM_TOLERANCE {
            return Err("Die sechzehn Anteile müssen zusammen 100 % ergeben (± 0,001).");
        }
        Ok(Self { year, shares })
    }

    pub fn share(&self, land: Seat) -> u32 {
        land.land_index().map_or(0, |i| self.shares[i])
    }

    pub fn total(&self) -> u32 {
        self.shares.iter().sum()
    }

    /// The values of 2016 from the facts file, the demo's table.
    pub fn demo_2016() -> Self {
        Self {
            year: 2016,
            shares: [
                1_296_662, 1_553_327, 508_324, 303_655, 95_331, 255_752, 739_885, 201_240, 933_138,
                2_114_424, 483_089, 121_111, 505_577, 279_941, 339_074, 269_470,
            ],
        }
    }
}

/// A share in percent as written in German or English forms: `12,96662` or `12.96662`,
/// at most five decimals.
pub fn parse_share(value: &str) -> Option<u32> {
    let value = value.trim().replace(',', ".");
    let (whole, frac) = value.split_once('.').unwrap_or((&value, ""));
    if whole.is_empty() && frac.is_empty() || frac.len() > 5 {
        return None;
    }
    if !whole
        .chars()
        .chain(frac.chars())
        .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole: u32 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    if whole > 100 {
        return None;
    }
    let frac: u32 = format!("{frac:0<5}").parse().ok()?;
    Some(whole * SHARE_UNITS_PER_PERCENT + frac)
}

/// A share written back with five decimals in the German way (`12,96662`).
pub fn format_share(units: u32) -> String {
    format!(
        "{},{:05}",
        units / SHARE_UNITS_PER_PERCENT,
        units % SHARE_UNITS_PER_PERCENT
    )
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Adopted,
    Rejected,
}

/// Which condition a rejected draft failed (the first one, in the order of the rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Failed {
    /// Binding: the Bund did not vote yes.
    Bund,
    /// Binding: fewer than eleven Länder voted yes.
    LaenderCount,
    /// Binding: the yes-Länder hold less than two thirds of the shares.
    LaenderShares,
    /// Simple majority: not more yes than no.
    SimpleMajority,
    /// Territorial: nobody consented.
    NoConsent,
}

/// The result with its arithmetic, kept as data so pages render it in either language
/// and the store keeps it with the resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub kind: DraftKind,
    pub procedure: Procedure,
    pub outcome: Outcome,
    pub failed: Option<Failed>,
    /// The Bund's ballot after the procedure's rule (`None`: absent in a session).
    pub bund: Option<Ballot>,
    /// Counts over all seventeen seats.
    pub yes: u8,
    pub no: u8,
    pub abstain: u8,
    /// Seats without a ballot in a session (always 0 in the written procedure).
    pub absent: u8,
    pub laender_yes: u8,
    /// The yes-Länder's shares and all sixteen shares, in [`SHARE_UNITS_PER_PERCENT`].
    pub laender_yes_shares: u32,
    pub laender_total_shares: u32,
    /// The year of the key used.
    pub key_year: i32,
    /// For a territorial decision: where it applies (the yes-voters).
    pub consenting: Vec<Seat>,
}

/// The number of yes-Länder a binding decision needs.
pub const BINDING_MIN_LAENDER: u8 = 11;

/// Decide a draft: the ballots are given per seat, a missing seat has no ballot.
pub fn decide(
    kind: DraftKind,
    procedure: Procedure,
    ballots: &[(Seat, Ballot)],
    key: &KeyTable,
) -> Tally {
    let ballot_of = |seat: Seat| {
        let cast = ballots
            .iter()
            .rev()
            .find(|(s, _)| *s == seat)
            .map(|(_, b)| *b);
        match (cast, procedure) {
            (None, Procedure::Written) => Some(Ballot::Abstain),
            (cast, _) => cast,
        }
    };
    let mut tally = Tally {
        kind,
        procedure,
        outcome: Outcome::Rejected,
        failed: None,
        bund: ballot_of(Seat::Bund),
        yes: 0,
        no: 0,
        abstain: 0,
        absent: 0,
        laender_yes: 0,
        laender_yes_shares: 0,
        laender_total_shares: key.total(),
        key_year: key.year,
        consenting: Vec::new(),
    };
    for seat in Seat::ALL {
        match ballot_of(seat) {
            Some(Ballot::Yes) => {
                tally.yes += 1;
                tally.consenting.push(seat);
                if seat.is_land() {
                    tally.laender_yes += 1;
                    tally.laender_yes_shares += key.share(seat);
                }
            }
            Some(Ballot::No) => tally.no += 1,
            Some(Ballot::Abstain) => tally.abstain += 1,
            None => tally.absent += 1,
        }
    }
    tally.failed = match kind {
        DraftKind::Binding => {
            if tally.bund != Some(Ballot::Yes) {
                Some(Failed::Bund)
            } else if tally.laender_yes < BINDING_MIN_LAENDER {
                Some(Failed::LaenderCount)
            } else if u64::from(tally.laender_yes_shares) * 3
                < u64::from(tally.laender_total_shares) * 2
            {
                Some(Failed::LaenderShares)
            } else {
                None
            }
        }
        DraftKind::Territorial => (tally.yes == 0).then_some(Failed::NoConsent),
        DraftKind::Recommendation | DraftKind::Procedural => {
            (tally.yes <= tally.no).then_some(Failed::SimpleMajority)
        }
    };
    if tally.failed.is_none() {
        tally.outcome = Outcome::Adopted;
    }
    if kind != DraftKind::Territorial {
        tally.consenting.clear();
    }
    tally
}

impl Tally {
    /// The yes-Länder's part of the Länder's shares in percent with one decimal, German
    /// comma (`84,2`); rounded down so 66,66… never shows as 66,7 beside "rejected".
    pub fn share_percent_de(&self) -> String {
        let total = u64::from(self.laender_total_shares.max(1));
        let tenths = u64::from(self.laender_yes_shares) * 1000 / total;
        format!("{},{}", tenths / 10, tenths % 10)
    }

    /// The same with a decimal point, for English pages.
    pub fn share_percent_en(&self) -> String {
        self.share_percent_de().replace(',', ".")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KEY: fn() -> KeyTable = KeyTable::demo_2016;

    fn all(ballot: Ballot) -> Vec<(Seat, Ballot)> {
        Seat::ALL.into_iter().map(|s| (s, ballot)).collect()
    }

    fn with(
        mut ballots: Vec<(Seat, Ballot)>,
        seats: &[Seat],
        ballot: Ballot,
    ) -> Vec<(Seat, Ballot)> {
        for seat in seats {
            ballots.retain(|(s, _)| s != seat);
            ballots.push((*seat, ballot));
        }
        ballots
    }

    use Seat::*;

    /// The eleven Länder with the smallest shares (the facts file's worked check).
    const SMALL_ELEVEN: [Seat; 11] = [Hb, Sl, Mv, Hh, Th, St, Bb, Sh, Rp, Sn, Be];

    #[test]
    fn the_demo_key_sums_to_one_hundred_percent() {
        let key = KEY();
        assert_eq!(key.total(), 100 * SHARE_UNITS_PER_PERCENT);
        assert!(KeyTable::new(2016, key.shares).is_ok());
        assert_eq!(key.share(Nw), 2_114_424);
        assert_eq!(key.share(Bund), 0);
    }

    #[test]
    fn a_key_that_does_not_sum_to_one_hundred_is_refused() {
        let mut shares = KEY().shares;
        shares[0] += 101;
        assert!(KeyTable::new(2016, shares).is_err());
        shares[0] -= 1;
        assert!(KeyTable::new(2016, shares).is_ok());
    }

    #[test]
    fn shares_parse_with_comma_or_point_and_five_decimals() {
        assert_eq!(parse_share("12,96662"), Some(1_296_662));
        assert_eq!(parse_share(" 0.95331 "), Some(95_331));
        assert_eq!(parse_share("3"), Some(300_000));
        assert_eq!(parse_share("3,5"), Some(350_000));
        assert_eq!(parse_share("1,123456"), None);
        assert_eq!(parse_share("-1"), None);
        assert_eq!(parse_share("abc"), None);
        assert_eq!(parse_share(""), None);
        assert_eq!(parse_share("101"), None);
        assert_eq!(format_share(95_331), "0,95331");
    }

    #[test]
    fn the_eleven_smallest_laender_hold_a_third_of_the_shares() {
        let tally = decide(
            DraftKind::Binding,
            Procedure::Session,
            &with(all(Ballot::No), &[Bund], Ballot::Yes)
                .into_iter()
                .chain(SMALL_ELEVEN.map(|s| (s, Ballot::Yes)))
                .collect::<Vec<_>>(),
            &KEY(),
        );
        assert_eq!(tally.laender_yes, 11);
        assert_eq!(tally.share_percent_de(), "33,6");
        assert_eq!(tally.outcome, Outcome::Rejected);
        assert_eq!(tally.failed, Some(Failed::LaenderShares));
    }

    #[test]
    fn a_unanimous_binding_decision_is_adopted() {
        let tally = decide(
            DraftKind::Binding,
            Procedure::Session,
            &all(Ballot::Yes),
            &KEY(),
        );
        assert_eq!(tally.outcome, Outcome::Adopted);
        assert_eq!((tally.yes, tally.no, tally.laender_yes), (17, 0, 16));
        assert_eq!(tally.share_percent_de(), "100,0");
    }

    #[test]
    fn without_the_bund_a_binding_decision_is_rejected() {
        for ballot in [Ballot::No, Ballot::Abstain] {
            let ballots = with(all(Ballot::Yes), &[Bund], ballot);
            let tally = decide(DraftKind::Binding, Procedure::Session, &ballots, &KEY());
            assert_eq!(tally.outcome, Outcome::Rejected);
            assert_eq!(tally.failed, Some(Failed::Bund));
        }
        let absent: Vec<_> = all(Ballot::Yes)
            .into_iter()
            .filter(|(s, _)| *s != Bund)
            .collect();
        let tally = decide(DraftKind::Binding, Procedure::Session, &absent, &KEY());
        assert_eq!(
            (tally.failed, tally.bund, tally.absent),
            (Some(Failed::Bund), None, 1)
        );
    }

    #[test]
    fn ten_laender_are_not_enough_even_with_most_of_the_shares() {
        // The ten largest hold about 87 %, but the count is eleven.
        let ballots = with(
            all(Ballot::No),
            &[Bund, Nw, By, Bw, Ni, He, Be, Sn, Rp, Sh, Bb],
            Ballot::Yes,
        );
        let tally = decide(DraftKind::Binding, Procedure::Session, &ballots, &KEY());
        assert_eq!(tally.laender_yes, 10);
        assert_eq!(tally.failed, Some(Failed::LaenderCount));
    }

    #[test]
    fn eleven_laender_with_two_thirds_of_the_shares_adopt_a_binding_decision() {
        let ballots = with(
            all(Ballot::No),
            &[Bund, Nw, By, Bw, Ni, He, Be, Sn, Rp, Sh, Bb, St],
            Ballot::Yes,
        );
        let tally = decide(DraftKind::Binding, Procedure::Session, &ballots, &KEY());
        assert_eq!(tally.laender_yes, 11);
        assert_eq!(tally.outcome, Outcome::Adopted, "{tally:?}");
        assert_eq!(tally.share_percent_de(), "90,5");
        assert_eq!(tally.share_percent_en(), "90.5");
    }

    #[test]
    fn thirteen_laender_without_the_two_largest_fall_short_of_two_thirds() {
        // All but NW, BY and BW: 13 Länder, 50.36 % of the shares.
        let ballots = with(all(Ballot::Yes), &[Nw, By, Bw], Ballot::No);
        let tally = decide(DraftKind::Binding, Procedure::Session, &ballots, &KEY());
        assert_eq!(tally.laender_yes, 13);
        assert_eq!(tally.share_percent_de(), "50,3");
        assert_eq!(tally.failed, Some(Failed::LaenderShares));
    }

    #[test]
    fn abstentions_do_not_lower_the_binding_thresholds() {
        // Twelve Länder yes, four abstain: the thresholds stay over all sixteen.
        let ballots = with(all(Ballot::Yes), &[Nw, By, Bw, Ni], Ballot::Abstain);
        let tally = decide(DraftKind::Binding, Procedure::Session, &ballots, &KEY());
        assert_eq!((tally.laender_yes, tally.abstain), (12, 4));
        assert_eq!(tally.failed, Some(Failed::LaenderShares));
    }

    #[test]
    fn abstentions_do_not_count_for_a_simple_majority() {
        let mut ballots = with(all(Ballot::Abstain), &[Bund, Hb], Ballot::Yes);
        ballots = with(ballots, &[Nw], Ballot::No);
        let tally = decide(
            DraftKind::Recommendation,
            Procedure::Session,
            &ballots,
            &KEY(),
        );
        assert_eq!((tally.yes, tally.no, tally.abstain), (2, 1, 14));
        assert_eq!(tally.outcome, Outcome::Adopted);
    }

    #[test]
    fn a_tie_rejects_a_recommendation_or_procedural_decision() {
        let ballots = with(
            with(all(Ballot::Abstain), &[Bund, Hb], Ballot::Yes),
            &[Nw, By],
            Ballot::No,
        );
        for kind in [DraftKind::Recommendation, DraftKind::Procedural] {
            let tally = decide(kind, Procedure::Session, &ballots, &KEY());
            assert_eq!(tally.failed, Some(Failed::SimpleMajority));
        }
        let none = decide(DraftKind::Procedural, Procedure::Session, &[], &KEY());
        assert_eq!((none.outcome, none.absent), (Outcome::Rejected, 17));
    }

    #[test]
    fn a_recommendation_passes_with_a_simple_majority_against_the_bund() {
        let ballots = with(all(Ballot::Yes), &[Bund], Ballot::No);
        let tally = decide(
            DraftKind::Recommendation,
            Procedure::Session,
            &ballots,
            &KEY(),
        );
        assert_eq!(tally.outcome, Outcome::Adopted);
    }

    #[test]
    fn a_territorial_decision_applies_where_members_consented() {
        let ballots = with(
            with(all(Ballot::No), &[Hb, Sl], Ballot::Yes),
            &[Bund],
            Ballot::Abstain,
        );
        let tally = decide(DraftKind::Territorial, Procedure::Session, &ballots, &KEY());
        assert_eq!(tally.outcome, Outcome::Adopted);
        assert_eq!(tally.consenting, vec![Hb, Sl]);
        let nobody = decide(
            DraftKind::Territorial,
            Procedure::Session,
            &all(Ballot::No),
            &KEY(),
        );
        assert_eq!(nobody.failed, Some(Failed::NoConsent));
        assert!(nobody.consenting.is_empty());
    }

    #[test]
    fn in_the_written_procedure_a_missing_ballot_is_an_abstention() {
        let ballots = vec![(Bund, Ballot::Yes), (Nw, Ballot::No), (By, Ballot::Yes)];
        let written = decide(
            DraftKind::Recommendation,
            Procedure::Written,
            &ballots,
            &KEY(),
        );
        assert_eq!(
            (written.yes, written.no, written.abstain, written.absent),
            (2, 1, 14, 0)
        );
        assert_eq!(written.outcome, Outcome::Adopted);
        let session = decide(
            DraftKind::Recommendation,
            Procedure::Session,
            &ballots,
            &KEY(),
        );
        assert_eq!((session.abstain, session.absent), (0, 14));
        // A binding decision cannot pass in writing with silent Länder.
        let binding = decide(DraftKind::Binding, Procedure::Written, &ballots, &KEY());
        assert_eq!(binding.failed, Some(Failed::LaenderCount));
    }

    #[test]
    fn the_last_ballot_of_a_seat_counts() {
        let ballots = vec![(Hb, Ballot::No), (Hb, Ballot::Yes)];
        let tally = decide(DraftKind::Procedural, Procedure::Session, &ballots, &KEY());
        assert_eq!((tally.yes, tally.no), (1, 0));
    }

    fn ballot_strategy() -> impl Strategy<Value = Option<Ballot>> {
        prop_oneof![
            Just(None),
            Just(Some(Ballot::Yes)),
            Just(Some(Ballot::No)),
            Just(Some(Ballot::Abstain)),
        ]
    }

    fn kind_strategy() -> impl Strategy<Value = DraftKind> {
        prop::sample::select(DraftKind::ALL.to_vec())
    }

    proptest! {
        #[test]
        fn adding_a_yes_never_turns_adopted_into_rejected(
            seats in prop::collection::vec(ballot_strategy(), 17),
            kind in kind_strategy(),
            written in any::<bool>(),
            changed in 0usize..17,
        ) {
            let procedure = if written { Procedure::Written } else { Procedure::Session };
            let ballots: Vec<(Seat, Ballot)> = Seat::ALL
                .into_iter()
                .zip(&seats)
                .filter_map(|(s, b)| b.map(|b| (s, b)))
                .collect();
            let before = decide(kind, procedure, &ballots, &KEY());
            let after = decide(kind, procedure, &with(ballots, &[Seat::ALL[changed]], Ballot::Yes), &KEY());
            prop_assert!(!(before.outcome == Outcome::Adopted && after.outcome == Outcome::Rejected));
            prop_assert!(after.yes >= before.yes);
        }
    }
}
