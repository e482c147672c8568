//! Integration tests through a real server: every route's happy path, the authorization
//! matrix, and bad input.

mod auth;
mod authz;
mod bulk_invitations;
mod cafe;
mod cooperation;
mod council;
mod deletion;
mod directory;
mod edge;
mod helpers;
mod import;
mod invitations;
mod konvent;
mod leaks;
mod legal;
mod live;
mod live_limits;
mod lobby;
mod mail;
mod map;
mod moderation;
mod networking;
mod oidc;
mod oparl;
mod podium;
mod pseudonyms;
mod questions_pins;
mod registration;
mod reminders;
mod shell;
mod strategy;
mod votes;
mod walkthrough;
mod walkthrough_gremien;
