//! The admin forms of the directory: conferences, persons, role assignments. Every
//! handler asks `authz` first, for the form as for its POST; invalid input re-renders
//! the form with the message beside the field and stores nothing.
//!
//! Conferences ([`conferences`]), persons ([`persons`]) and role assignments
//! ([`assignments`]) each have their own file.

pub mod assignments;
pub mod conferences;
pub mod persons;
