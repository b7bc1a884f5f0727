// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Instruction, Result} from "./IInstruction.sol";

/// @title IDisperser
/// @notice Executes the instructions of quorum-signed results against a request's escrow. Callable
/// only by the InstructionIngestor; never spends more than the request's escrow minus its fee
/// (SPEC 3.2, 3.3). The fee is owed to the operators that signed and is claimed by them.
interface IDisperser {
    /// @notice The caller is not the InstructionIngestor.
    error Disperser_NotIngestor(address caller);
    /// @notice Spending instructions need more than the escrow minus fee.
    error Disperser_BudgetExceeded(bytes32 requestId, uint256 budget, uint256 needed);
    /// @notice A PROGRAM_ERROR result carries instructions.
    error Disperser_InstructionsOnFailedResult(bytes32 requestId, uint256 count);
    /// @notice Unknown opcode at `index`.
    error Disperser_UnknownOp(uint256 index, uint8 op);
    /// @notice `op` at `index` is not allowed in a result from another chain (only MINT and CREATE).
    error Disperser_OpNotAllowedCrossChain(uint256 index, uint8 op);
    /// @notice BURN needs the request to escrow the omni token itself.
    error Disperser_BurnNeedsToken(uint256 index);
    /// @notice The target of a spending instruction is an escrowed asset, the oracle or zero.
    error Disperser_ForbiddenTarget(uint256 index, address target);
    /// @notice MINT or CREATE `data` does not decode.
    error Disperser_BadData(uint256 index, uint8 op);
    /// @notice No contract factory is configured.
    error Disperser_NoFactory();
    /// @notice The operator is unknown to the operator set it claims fees from.
    error Disperser_NotOperator(address operatorSet, address operator);
    /// @notice Nothing to claim.
    error Disperser_NothingToClaim(address operator, uint256 assetId, uint256 share);
    /// @notice Less gas is left than a bounded call needs to get its whole limit: the whole ingest
    /// is refused, so a poster cannot make a target fail by starving it of gas.
    error Disperser_GasTooLow(uint256 gasLeft, uint256 needed);
    /// @notice A same-chain result MINTs or BURNs `token` although `programId` is not one of its
    /// controller programs (SPEC 3.4): the result is refused.
    error Disperser_NotController(bytes32 programId, address token);
    /// @notice A same-chain result MINTs more of `token` than it BURNs (SPEC 3.4): refused.
    error Disperser_UnbackedMint(bytes32 programId, address token, uint256 minted, uint256 burned);
    /// @notice BURN `index` names `target`, not the request's escrowed token `token`.
    error Disperser_BurnTargetNotToken(uint256 index, address target, address token);
    /// @notice Internal: the Result of the dispersal call was read outside a dispersal call.
    error Disperser_NotDispersalCall(bytes4 selector);

    /// @notice Emitted when a request's escrow is settled by a result: what went where.
    event EscrowSettled(bytes32 indexed requestId, uint8 status, uint256 spent, uint256 fee, uint256 refunded);
    /// @notice Emitted when a spending or creating instruction failed; its share went back to the requester.
    event InstructionFailed(bytes32 indexed requestId, uint256 index, uint8 op, address target, bytes reason);
    /// @notice Emitted when a CALL instruction succeeded, with what it actually took.
    event CallExecuted(bytes32 indexed requestId, uint256 index, address indexed target, uint256 spent);
    /// @notice Emitted when an operator claims fees.
    event FeesClaimed(address indexed operator, address indexed token, uint256 shares, uint256 amount);
    /// @notice Emitted when the contract factory used by CREATE is set.
    event FactorySet(address indexed factory);

    /// @notice Settles a same-chain request with a verified result.
    /// A PROGRAM_ERROR status disperses nothing (refund minus fee, no instructions).
    /// @param operatorSet The set the signers were checked against (fee accounting is per set).
    /// @param signerBitmap Bit i set for each signer of index i; `signerCount` bits are set.
    /// @return skipReason 0 when settled; otherwise nothing changed and the reason is
    /// 1 = already ingested, 2 = refunded, 3 = no such request, 4 = deadline passed,
    /// 5 = not bound (the Result's programId or inputHash is not the request's: the id recomputed
    /// with them, the requester and the nonce in the id's top 64 bits differs, see RequestIds).
    /// @dev Requirements: caller is the ingestor.
    /// Emits {EscrowSettled}, and {InstructionFailed}/{CallExecuted} per instruction as they happen.
    /// @param r The verified Result (its requestId, programId, inputHash and status are checked
    /// against the request here).
    /// @param signersCommitment {ResultTypedData.signersCommitment} of `r` and its signers, kept for
    /// disputes in the request's escrow slot with the ingestion time (see {IExecutableOracle-settlementOf}).
    function disperse(
        Result calldata r,
        Instruction[] calldata instructions,
        address operatorSet,
        uint256 signerBitmap,
        uint256 signerCount,
        bytes32 signersCommitment
    ) external returns (uint8 skipReason);

    /// @notice Executes a verified result that originates on another chain: MINT and CREATE only.
    /// @dev Requirements: caller is the ingestor (which guarantees once per (originChainId, requestId)).
    function disperseRemote(Result calldata r, Instruction[] calldata instructions) external;

    /// @notice Pays the caller its fee shares of one (operator set, asset, share size) ledger for
    /// each listed fee-ledger epoch, counted at the index the caller held in that epoch
    /// ({IOperatorSet-indexIn}): a recycled index's earlier epochs stay with their earlier holder.
    /// @dev Epochs the caller held no index in are ignored; an epoch listed twice is paid once; an
    /// epoch still running can be claimed again later for what it counted since. Reverts with
    /// {Disperser_NotOperator} if the caller held no index in any listed epoch and with
    /// {Disperser_NothingToClaim} if nothing is owed. Emits {FeesClaimed}.
    function claimFees(
        address operatorSet,
        uint256 assetId,
        uint256 share,
        uint256[] calldata epochs
    ) external returns (uint256 amount);

    /// @notice Fee shares `operator` could claim now with {claimFees} for the listed epochs of a
    /// ledger (same rules: the index held in each epoch, each epoch once).
    function claimableShares(
        address operatorSet,
        uint256 assetId,
        uint256 share,
        uint256[] calldata epochs,
        address operator
    ) external view returns (uint256);

    /// @notice Length in seconds of a fee-ledger epoch: signature counts are kept per
    /// (operator set, asset, share, epoch = block.timestamp / LEDGER_EPOCH, group of 8 indices).
    function LEDGER_EPOCH() external view returns (uint256);

    /// @notice Results signed by the holder of `index` in one ledger (operator set, asset, share size, epoch).
    /// @dev The StakingRegistry grants reputation from these counts once the epoch and the challenge window passed.
    function signatureCount(
        address operatorSet,
        uint256 assetId,
        uint256 share,
        uint256 epoch,
        uint8 index
    ) external view returns (uint256);

    /// @notice The asset id the oracle uses for `token` in fee ledgers (0 = ETH).
    function assetIdOf(address token) external view returns (uint256);
}
