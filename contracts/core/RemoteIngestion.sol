// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @notice The ingestor's record of another chain's result (only through {RemoteIngestionLib}),
/// the same fields as an ingested {EscrowRecord} without the status:
///   [  0..207] commitment  uint208  ResultTypedData.signersCommitment of the Result and its signers
///   [208..247] ingestedAt  uint40   block timestamp of the ingestion (never 0 on a live chain)
/// The zero record means not ingested.
type RemoteIngestion is uint256;

/// @title RemoteIngestionLib
/// @notice Typed reads and writes of {RemoteIngestion} (the Slot0 model: no raw shifts at call sites).
library RemoteIngestionLib {
    uint256 private constant AT_SHIFT = 208;

    function pack(bytes32 commitment_, uint256 ingestedAt_) internal pure returns (RemoteIngestion) {
        return
            RemoteIngestion.wrap(uint256(uint208(uint256(commitment_))) | (uint256(uint40(ingestedAt_)) << AT_SHIFT));
    }

    function isEmpty(RemoteIngestion r) internal pure returns (bool) {
        return RemoteIngestion.unwrap(r) == 0;
    }

    function ingestedAt(RemoteIngestion r) internal pure returns (uint256) {
        return uint40(RemoteIngestion.unwrap(r) >> AT_SHIFT);
    }

    function commitment(RemoteIngestion r) internal pure returns (bytes32) {
        return bytes32(uint256(uint208(RemoteIngestion.unwrap(r))));
    }
}
