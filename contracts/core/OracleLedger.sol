// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IExecutableOracle} from "../interfaces/IExecutableOracle.sol";
import {EscrowRecord, EscrowRecordLib} from "./EscrowRecord.sol";
import {OracleState, OracleStateLib} from "./OracleState.sol";
import {AssetEntry, AssetEntryLib} from "./AssetEntry.sol";
import {FeeSchedule, FeeScheduleLib} from "./FeeSchedule.sol";
import {FeeCounts, FeeCountsLib} from "./FeeCounts.sol";
import {BoundedCall} from "./BoundedCall.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title OracleLedger
/// @notice Storage of the oracle shared by its request side and its dispersal side: escrow records,
/// the requester and asset tables, fee schedules, deferred refunds and the operators' fee ledgers.
abstract contract OracleLedger is IExecutableOracle, ReentrancyGuardTransient {
    using EscrowRecordLib for EscrowRecord;
    using OracleStateLib for OracleState;
    using AssetEntryLib for AssetEntry;
    using FeeScheduleLib for FeeSchedule;
    using FeeCountsLib for FeeCounts;

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Longest time a request may wait for a result (and the minimum time between fee changes).
    uint64 public constant MAX_TTL = 7 days;

    uint256 internal constant STATUS_OPEN = uint256(RequestStatus.Open);
    uint256 internal constant STATUS_INGESTED = uint256(RequestStatus.Ingested);
    uint256 internal constant STATUS_REFUNDED = uint256(RequestStatus.Refunded);

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Hot slot read and written by every request: nonce, account and asset counts, ETH fee.
    OracleState internal _state;

    mapping(bytes32 requestId => EscrowRecord record) internal _escrows;

    /// @dev Requesters get a 32-bit id on their first request so the escrow record fits one slot.
    mapping(address requester => uint256 accountId) internal _accountIdOf;
    mapping(uint256 accountId => address requester) internal _accountOwner;

    /// @dev token => its asset id and current fee. Zero means the token is not accepted.
    mapping(address token => AssetEntry entry) internal _assetOf;
    mapping(uint256 assetId => address token) internal _assetToken;

    /// @dev assetId => fee now, previous fee and the first request nonce that pays "now". Fee
    /// changes are at least MAX_TTL apart, so every open request paid "now" or "previous".
    mapping(uint256 assetId => FeeSchedule schedule) internal _feeSchedule;
    /// @dev assetId => time of the last fee change (0 until the first change after acceptance).
    mapping(uint256 assetId => uint256 changedAt) internal _feeChangedAt;

    /// @dev Refunds a receiver refused, waiting for withdraw().
    mapping(address account => mapping(address token => uint256 amount)) internal _deferred;

    /// @dev keccak256(operatorSet, assetId, share, epoch, group) => eight 32-bit signature counts
    /// (indices group*8..group*8+7), epoch = block.timestamp / LEDGER_EPOCH.
    mapping(bytes32 ledgerKey => FeeCounts counts) internal _feeCounts;
    /// @dev keccak256(operatorSet, assetId, share, epoch, operator) => signature count already paid out.
    mapping(bytes32 claimKey => uint256 claimed) internal _feeClaimed;

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev The fee the request with nonce `nonce` pays for `assetId`: the one it was checked against.
    function _feeAt(uint256 assetId, uint256 nonce) internal view returns (uint256) {
        return _feeSchedule[assetId].feeAt(nonce);
    }

    /// @dev Sends `amount` of `token` (0 = ETH) to `to` with all the gas left: for receivers that
    /// pay for their own call (withdraw, fee claims). Returns false instead of reverting, with the
    /// reason truncated to {BoundedCall.MAX_RETURN_COPY} bytes (a return bomb cannot cost more).
    function _tryPay(address token, address to, uint256 amount) internal returns (bool ok, bytes memory reason) {
        return BoundedCall.pay(token, to, amount, 0);
    }

    /// @dev Returns `amount` to the requester with a fixed gas limit (an ETH stipend, or a token
    /// transfer's gas); if the receiver refuses, reverts, burns its gas or bombs its return data,
    /// keeps it for withdraw() instead: a requester cannot sink the settlement of its own request.
    /// Reverts only when less gas is left than the limit needs ({IDisperser.Disperser_GasTooLow}).
    function _refundTo(bytes32 requestId, address requester, address token, uint256 amount) internal {
        if (amount == 0) return;
        uint256 gasLimit = token == address(0) ? BoundedCall.ETH_TRANSFER_GAS : BoundedCall.TOKEN_TRANSFER_GAS;
        (bool ok, ) = BoundedCall.pay(token, requester, amount, gasLimit);
        if (!ok) {
            _deferred[requester][token] += amount;
            emit RefundDeferred(requestId, requester, token, amount);
        }
    }

    function _tokenOf(uint256 assetId) internal view returns (address) {
        return assetId == 0 ? address(0) : _assetToken[assetId];
    }

    /// @dev An ingested record no longer holds the escrow (it was spent) but the ingestion: only
    /// its status and, in `deadline`, the ingestion time are reported for it.
    function _escrowInfo(EscrowRecord record) internal view returns (EscrowInfo memory info) {
        if (record.isEmpty()) return info;
        if (record.status() == STATUS_INGESTED) {
            info.deadline = uint64(record.ingestedAt());
            info.status = RequestStatus.Ingested;
            return info;
        }
        info.requester = _accountOwner[record.accountId()];
        info.token = _tokenOf(record.assetId());
        info.amount = record.amount();
        info.requestedAt = uint64(record.requestedAt());
        info.deadline = uint64(record.deadline());
        info.status = RequestStatus(record.status());
    }
}
