// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice One operator's reputation accrual in one ledger epoch, packed in one storage slot
/// (read and written only through {EpochAccrualLib}):
///   [  0.. 15] gained   uint16  reputation gained in the epoch so far (<= 10_000, for the per-epoch cap)
///   [ 16.. 95] tag 0    uint80  ledger tags already accrued (0 = free), see {EpochAccrualLib.tagOf}
///   [ 96..175] tag 1    uint80
///   [176..255] tag 2    uint80
/// The first accrual of an epoch writes one new slot instead of two (the cap's gain and the
/// ledger's "accrued" mark); an operator paid in more than three (asset, share) ledgers in one
/// epoch keeps the marks of the others in a separate mapping.
type EpochAccrual is uint256;

/// @title EpochAccrualLib
/// @notice Typed reads and writes of {EpochAccrual} (the model is Uniswap v4-core's Slot0: one
/// value type, small pure accessors, no raw shifts at the call sites).
library EpochAccrualLib {
    uint256 internal constant TAGS = 3;
    uint256 private constant TAG_BITS = 80;
    uint256 private constant TAG_MASK = (1 << 80) - 1;
    uint256 private constant GAIN_MASK = 0xffff;

    /// @dev The ledger (assetId, share)'s tag: 80 bits of its hash, never 0 (0 marks a free place).
    /// Two ledgers with one tag (2^-79 per pair) would only refuse the second one's reputation.
    function tagOf(uint256 assetId, uint256 share) internal pure returns (uint256) {
        return (uint256(keccak256(abi.encode(assetId, share))) & TAG_MASK) | 1;
    }

    function gained(EpochAccrual a) internal pure returns (uint256) {
        return EpochAccrual.unwrap(a) & GAIN_MASK;
    }

    /// @dev `a` with `gained` set; `value` <= 10_000.
    function withGained(EpochAccrual a, uint256 value) internal pure returns (EpochAccrual) {
        return EpochAccrual.wrap((EpochAccrual.unwrap(a) & ~GAIN_MASK) | (value & GAIN_MASK));
    }

    /// @dev The tag at place `i` (< TAGS), 0 when free.
    function tagAt(EpochAccrual a, uint256 i) internal pure returns (uint256) {
        return (EpochAccrual.unwrap(a) >> (16 + i * TAG_BITS)) & TAG_MASK;
    }

    /// @dev Whether `tag` is among the marks, and the first free place (TAGS when full).
    function find(EpochAccrual a, uint256 tag) internal pure returns (bool present, uint256 free) {
        free = TAGS;
        for (uint256 i; i < TAGS; ++i) {
            uint256 t = tagAt(a, i);
            if (t == tag) return (true, free);
            if (t == 0 && free == TAGS) free = i;
        }
    }

    /// @dev `a` with `tag` written at the free place `i`.
    function withTag(EpochAccrual a, uint256 i, uint256 tag) internal pure returns (EpochAccrual) {
        return EpochAccrual.wrap(EpochAccrual.unwrap(a) | ((tag & TAG_MASK) << (16 + i * TAG_BITS)));
    }
}
