//! lvyue ledger: records, canonical encoding, hashing, signing, the Merkle
//! log, checkpoints and (behind the `store` feature) the sled store.
//!
//! In scope: everything needed to write and to verify a lvyue log.
//! Out of scope: networking and clocks (the node), command-line user interfaces.
#![forbid(unsafe_code)]

pub mod admission;
pub mod audit;
pub mod book;
pub mod checkpoint;
pub mod codec;
pub mod engine;
pub mod event;
pub mod export;
pub mod hash;
pub mod keys;
pub mod note;
pub mod record;
pub mod rules;
pub mod serde_bytes;
#[cfg(feature = "store")]
pub mod store;
pub mod tlog;
pub mod tlog_proof;
pub mod types;
pub mod uscc;

pub use hash::Hash;
