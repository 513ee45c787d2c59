//! lvyue node: the sequencer (group commit onto the sled store), the HTTP
//! API and the operator/client CLI logic.
//!
//! In scope: sequencing, durability, proofs, tiles, receipts.
//! Out of scope here: the rules engine (in `lvyue-ledger`), verification of
//! whole logs (in `lvyue-verifier`).
#![forbid(unsafe_code)]

pub mod cli;
pub mod client;
pub mod clock;
pub mod config;
pub mod demo;
pub mod export;
pub mod import;
pub mod index;
pub mod input;
pub mod metrics;
pub mod node;
pub mod query;
pub mod reads;
pub mod remote;
pub mod sequencer;
pub mod server;
pub mod webhook;
