//! lvyue ledger: records, canonical encoding, hashing, signing, the Merkle
//! log, checkpoints and (behind the `store` feature) the sled store.
//!
//! In scope: everything needed to write and to verify a lvyue log.
//! Out of scope: networking and clocks (the node), command-line user interfaces.
#![forbid(unsafe_code)]

pub mod checkpoint;
pub mod hash;
pub mod note;
pub mod tlog;
pub mod tlog_proof;

pub use hash::Hash;
