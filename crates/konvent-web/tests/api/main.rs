//! Integration tests through a real server: every route's happy path, the authorization
//! matrix, and bad input.

mod auth;
mod authz;
mod cooperation;
mod council;
mod directory;
mod edge;
mod helpers;
mod import;
mod konvent;
mod leaks;
mod live;
mod live_limits;
mod map;
mod moderation;
mod oparl;
mod questions_pins;
mod shell;
mod strategy;
