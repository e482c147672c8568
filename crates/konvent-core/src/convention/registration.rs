//! Why a registration for an event (K1) or a pseudonym in it is refused. The states
//! themselves are the store's; the refusals are typed here so the web shows each in the
//! reader's language. The texts are the German ones the pages have always shown.

/// Why a registration, its approval or its decline is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RegistrationRefusal {
    /// The event takes no registrations of its own: the organizers invite.
    #[error("Diese Veranstaltung ist nur auf Einladung: das Organisationsteam lädt ein.")]
    InvitationOnly,
    #[error("Nur eine Anmeldung, die auf Zulassung wartet, kann zugelassen werden.")]
    NotAwaitingApproval,
    #[error("Diese Anmeldung ist bereits storniert oder abgelehnt.")]
    AlreadyEnded,
}

/// Why a pseudonym is refused (its shape is checked by the store's field errors).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PseudonymRefusal {
    #[error("Diese Veranstaltung erlaubt keine Pseudonyme.")]
    NotAllowed,
    /// Another person of the event goes by that real name: nobody passes as somebody else.
    #[error("Dieser Name gehört einer anderen Person der Veranstaltung.")]
    SomebodysName,
    /// Another person of the event already chose it.
    #[error("Diesen Namen trägt schon eine andere Person.")]
    Taken,
}
