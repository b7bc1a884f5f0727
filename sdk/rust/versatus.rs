//! The request context for Versatus programs written in Rust (one module, std only, no crates).
//!
//! Every node gives a program the context of the request it runs (taken from the origin chain's
//! ExecutionRequested event and the oracle's fee at the request's block) as WASI environment
//! variables, identical on every node and covered by the execution record (SPEC 4, 5; the
//! variables are listed in sdk/c/versatus.h and protocol/programContext.ts).
//!
//! Include it as a module (plain rustc, no cargo):
//!
//! ```ignore
//! #[path = "../../../sdk/rust/versatus.rs"]
//! mod versatus;
//! let ctx = versatus::Context::read().expect("a request context");
//! if !ctx.is_requester("0xf39fd6e51aad88f6f4ce6ab8827279cfffb92266") { /* refuse */ }
//! let budget: Option<u128> = ctx.spendable_u128();
//! ```
#![allow(dead_code)]

/// Who asked, what was escrowed, where and when. Addresses and ids are lowercase 0x-hex;
/// amounts are decimal strings because they are uint256 on chain (see `*_u128`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Context {
    pub request_id: String,
    pub origin_chain_id: u64,
    pub oracle: String,
    /// Who made and paid for the request.
    pub requester: String,
    /// Escrowed token; all zeros for ETH.
    pub asset: String,
    /// The whole escrow, fee included.
    pub amount: String,
    /// The oracle's fee.
    pub fee: String,
    pub block_number: u64,
    /// Unix seconds of the request's block.
    pub timestamp: u64,
    pub program_id: String,
}

pub const ZERO_ADDRESS: &str = "0x0000000000000000000000000000000000000000";

fn is_hex(value: &str, digits: usize) -> bool {
    value.len() == digits + 2
        && value.starts_with("0x")
        && value[2..].bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

fn is_decimal(value: &str) -> bool {
    !value.is_empty()
        && value.len() <= 78
        && !(value.len() > 1 && value.starts_with('0'))
        && value.bytes().all(|b| b.is_ascii_digit())
}

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}

impl Context {
    /// The request context; `None` when the run has none (a bare run without a request: an empty
    /// environment) or, which no node does, a malformed one.
    pub fn read() -> Option<Context> {
        let hex = |name: &str, digits: usize| var(name).filter(|v| is_hex(v, digits));
        let decimal = |name: &str| var(name).filter(|v| is_decimal(v));
        let number = |name: &str| decimal(name).and_then(|v| v.parse::<u64>().ok());
        Some(Context {
            request_id: hex("VERSATUS_REQUEST_ID", 64)?,
            origin_chain_id: number("VERSATUS_ORIGIN_CHAIN_ID")?,
            oracle: hex("VERSATUS_ORACLE", 40)?,
            requester: hex("VERSATUS_REQUESTER", 40)?,
            asset: hex("VERSATUS_ASSET", 40)?,
            amount: decimal("VERSATUS_AMOUNT")?,
            fee: decimal("VERSATUS_FEE")?,
            block_number: number("VERSATUS_BLOCK_NUMBER")?,
            timestamp: number("VERSATUS_TIMESTAMP")?,
            program_id: hex("VERSATUS_PROGRAM_ID", 64)?,
        })
    }

    /// True when the escrow is ETH.
    pub fn is_eth(&self) -> bool {
        self.asset == ZERO_ADDRESS
    }

    /// Whether `address` (any case) is the requester.
    pub fn is_requester(&self, address: &str) -> bool {
        address.to_ascii_lowercase() == self.requester
    }

    /// The escrow as a u128, `None` above 2^128 - 1.
    pub fn amount_u128(&self) -> Option<u128> {
        self.amount.parse().ok()
    }

    pub fn fee_u128(&self) -> Option<u128> {
        self.fee.parse().ok()
    }

    /// What the program may spend, escrow minus fee, as a u128 (`None` above 2^128 - 1 or when the
    /// fee exceeds the escrow).
    pub fn spendable_u128(&self) -> Option<u128> {
        self.amount_u128()?.checked_sub(self.fee_u128()?)
    }
}
