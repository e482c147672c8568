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
mod live;
mod map;
mod oparl;
mod shell;
mod strategy;
