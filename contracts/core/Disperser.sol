// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IDisperser} from "../interfaces/IDisperser.sol";
import {IOmniToken} from "../interfaces/IOmniToken.sol";
import {IOperatorSet} from "../interfaces/IOperatorSet.sol";
import {IContractFactory} from "../interfaces/IContractFactory.sol";
import {Instruction, Result, Ops} from "../interfaces/IInstruction.sol";
import {OracleLedger} from "./OracleLedger.sol";
import {EscrowRecord, EscrowRecordLib} from "./EscrowRecord.sol";
import {AssetEntry, AssetEntryLib} from "./AssetEntry.sol";
import {FeeCounts, FeeCountsLib} from "./FeeCounts.sol";
import {RequestIds} from "./RequestIds.sol";
import {BoundedCall} from "./BoundedCall.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title Disperser
/// @notice The only code path that spends escrow: executes quorum-signed instructions against one
/// request's escrow, pays the remainder back, and books the fee to the signers (SPEC 3.2, 3.3).
/// @dev Part of the ExecutableOracle, which holds the funds: dispersal then needs no call between
/// contracts to move them. Only the InstructionIngestor may call it.
abstract contract Disperser is IDisperser, OracleLedger {
    using EscrowRecordLib for EscrowRecord;
    using AssetEntryLib for AssetEntry;
    using FeeCountsLib for FeeCounts;
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @notice The InstructionIngestor, the only caller of {disperse} and {disperseRemote}.
    address public ingestor;
    /// @notice The factory CREATE instructions go through.
    IContractFactory public factory;

    uint8 internal constant SKIP_INGESTED = 1;
    uint8 internal constant SKIP_REFUNDED = 2;
    uint8 internal constant SKIP_UNKNOWN = 3;
    uint8 internal constant SKIP_EXPIRED = 4;
    uint8 internal constant SKIP_NOT_BOUND = 5;

    /// @notice Gas a CALL instruction's target gets, and a MINT's token call (fixed, so a target
    /// can cost a poster at most this much more than a well-behaved one).
    uint256 public constant CALL_GAS_LIMIT = BoundedCall.CALL_GAS;
    /// @notice Gas an ETH TRANSFER's receiver and a refund's receiver get (a stipend).
    uint256 public constant ETH_TRANSFER_GAS_LIMIT = BoundedCall.ETH_TRANSFER_GAS;
    /// @notice Gas an ERC-20 transfer (TRANSFER of a token, token refunds) gets.
    uint256 public constant TOKEN_TRANSFER_GAS_LIMIT = BoundedCall.TOKEN_TRANSFER_GAS;
    /// @notice Bytes of a failed call's return data kept for {InstructionFailed} (never more are copied).
    uint256 public constant MAX_RETURN_COPY = BoundedCall.MAX_RETURN_COPY;

    /*//////////////////////////////////////////////////////////////
                                EXTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IDisperser
    function disperse(
        Result calldata r,
        Instruction[] calldata instructions,
        address operatorSet,
        uint256 signerBitmap,
        uint256 signerCount,
        bytes32 signersCommitment
    ) external nonReentrant returns (uint8 skipReason) {
        _checkIngestor();
        // ---- checks
        EscrowRecord record = _escrows[r.requestId];
        skipReason = _skipReason(record);
        if (skipReason != 0) return skipReason;
        // Binding (SPEC 3.2): the id was derived from the requester, the nonce (its top 64 bits),
        // the program and the input, so recomputing it from the Result proves both are the
        // request's own without storing them.
        address requester = _accountOwner[record.accountId()];
        bytes32 expected = RequestIds.compute(
            address(this),
            requester,
            RequestIds.nonceOf(r.requestId),
            r.programId,
            r.inputHash
        );
        if (expected != r.requestId) return SKIP_NOT_BOUND;
        if (r.status == Ops.STATUS_PROGRAM_ERROR && instructions.length != 0) {
            revert Disperser_InstructionsOnFailedResult(r.requestId, instructions.length);
        }
        _settle(
            r.requestId,
            r.status,
            record,
            requester,
            instructions,
            operatorSet,
            signerBitmap,
            signerCount,
            signersCommitment
        );
    }

    /// @inheritdoc IDisperser
    /// @dev A MINT of a token that does not name `r.programId` as a controller, or that the token
    /// refuses, is not minted and emits {InstructionFailed}; nothing reverts for it (the token
    /// queues what its rate limit cannot take). Malformed data refuses the whole result.
    function disperseRemote(Result calldata r, Instruction[] calldata instructions) external nonReentrant {
        _checkIngestor();
        for (uint256 i; i < instructions.length; ++i) {
            uint8 op = instructions[i].op;
            if (op != Ops.MINT && op != Ops.CREATE) revert Disperser_OpNotAllowedCrossChain(i, op);
        }
        _executeRemote(r, instructions);
    }

    /// @inheritdoc IDisperser
    function claimFees(
        address operatorSet,
        uint256 assetId,
        uint256 share,
        uint256[] calldata epochs
    ) external nonReentrant returns (uint256 amount) {
        // ---- checks and effects: every listed epoch is paid at most once up to what it counts now
        uint256 shares;
        bool heldAny;
        for (uint256 i; i < epochs.length; ++i) {
            uint256 epoch = epochs[i];
            // The lane of an epoch belongs to whoever held that index then, never to a later holder.
            (bool held, uint8 index) = IOperatorSet(operatorSet).indexIn(msg.sender, epoch);
            if (!held) continue;
            heldAny = true;
            uint256 earned = _earnedCount(operatorSet, assetId, share, epoch, index);
            bytes32 claimKey = keccak256(abi.encode(operatorSet, assetId, share, epoch, msg.sender));
            uint256 paid = _feeClaimed[claimKey];
            if (earned > paid) {
                _feeClaimed[claimKey] = earned;
                shares += earned - paid;
            }
        }
        if (!heldAny) revert Disperser_NotOperator(operatorSet, msg.sender);
        if (shares == 0) revert Disperser_NothingToClaim(msg.sender, assetId, share);
        amount = shares * share;
        address token = _tokenOf(assetId);
        emit FeesClaimed(msg.sender, token, shares, amount);
        // ---- interactions
        (bool ok, ) = _tryPay(token, msg.sender, amount);
        if (!ok) revert Oracle_EthTransferFailed(msg.sender, amount);
    }

    /// @inheritdoc IDisperser
    function claimableShares(
        address operatorSet,
        uint256 assetId,
        uint256 share,
        uint256[] calldata epochs,
        address operator
    ) external view returns (uint256 shares) {
        for (uint256 i; i < epochs.length; ++i) {
            uint256 epoch = epochs[i];
            (bool held, uint8 index) = IOperatorSet(operatorSet).indexIn(operator, epoch);
            if (!held) continue;
            uint256 earned = _earnedCount(operatorSet, assetId, share, epoch, index);
            uint256 paid = _feeClaimed[keccak256(abi.encode(operatorSet, assetId, share, epoch, operator))];
            // A repeated epoch in the list is counted once, as claimFees pays it once.
            bool repeated;
            for (uint256 j; j < i; ++j) {
                if (epochs[j] == epoch) repeated = true;
            }
            if (!repeated && earned > paid) shares += earned - paid;
        }
    }

    /// @inheritdoc IDisperser
    uint256 public constant LEDGER_EPOCH = 1 hours;

    /// @inheritdoc IDisperser
    function signatureCount(
        address operatorSet,
        uint256 assetId,
        uint256 share,
        uint256 epoch,
        uint8 index
    ) external view returns (uint256) {
        return _earnedCount(operatorSet, assetId, share, epoch, index);
    }

    /// @inheritdoc IDisperser
    function assetIdOf(address token) external view returns (uint256) {
        if (token == address(0)) return 0;
        AssetEntry entry = _assetOf[token];
        if (!entry.isAccepted()) revert Oracle_TokenNotAccepted(token);
        return entry.assetId();
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _checkIngestor() internal view {
        if (msg.sender != ingestor) revert Disperser_NotIngestor(msg.sender);
    }

    /// @dev Books the fee, runs the instructions and refunds what they did not spend.
    function _settle(
        bytes32 requestId,
        uint8 status,
        EscrowRecord record,
        address requester,
        Instruction[] calldata instructions,
        address operatorSet,
        uint256 signerBitmap,
        uint256 signerCount,
        bytes32 signersCommitment
    ) internal {
        address token = _tokenOf(record.assetId());
        (uint256 fee, uint256 feeBooked) = _settleAndBookFee(
            requestId,
            record,
            token,
            instructions,
            operatorSet,
            signerBitmap,
            signerCount,
            signersCommitment
        );

        // ---- interactions
        uint256 spent = _execute(requestId, block.chainid, instructions, token);
        // The fee's remainder after an equal split (fewer wei than signers) stays with the protocol.
        uint256 refunded = record.amount() - fee - spent;
        if (refunded != 0) _refundTo(requestId, requester, token, refunded);
        emit EscrowSettled(requestId, status, spent, feeBooked, refunded);
    }

    function _skipReason(EscrowRecord record) internal view returns (uint8) {
        if (record.isEmpty()) return SKIP_UNKNOWN;
        uint8 status = record.status();
        if (status == STATUS_INGESTED) return SKIP_INGESTED;
        if (status == STATUS_REFUNDED) return SKIP_REFUNDED;
        if (block.timestamp > record.deadline()) return SKIP_EXPIRED;
        return 0;
    }

    /// @dev Checks the instructions against the budget (escrow minus fee), marks the request
    /// ingested (the same slot now keeps the ingestion time and the signers commitment) so nothing
    /// below can settle it again, and books the fee to the signers. Returns the request's fee and
    /// the part booked to signers (the rest, below the signer count, is protocol dust).
    function _settleAndBookFee(
        bytes32 requestId,
        EscrowRecord record,
        address token,
        Instruction[] calldata instructions,
        address operatorSet,
        uint256 signerBitmap,
        uint256 signerCount,
        bytes32 signersCommitment
    ) internal returns (uint256 fee, uint256 feeBooked) {
        uint256 amount = record.amount();
        // The fee the request was checked against: the schedule is keyed by the request nonce.
        fee = _feeAt(record.assetId(), RequestIds.nonceOf(requestId));
        if (fee > amount) fee = amount;
        uint256 needed = _spendingTotal(instructions, token);
        if (needed > amount - fee) revert Disperser_BudgetExceeded(requestId, amount - fee, needed);
        _escrows[requestId] = EscrowRecordLib.ingested(STATUS_INGESTED, block.timestamp, signersCommitment);
        feeBooked = _bookFee(operatorSet, record.assetId(), fee, signerBitmap, signerCount);
    }

    /// @dev Validates every instruction before anything moves and sums what they may spend.
    /// Conservation of omni tokens (SPEC 3.4): MINT and BURN only in a result of a controller
    /// program of the token; BURN only of the escrowed token (its `target` names it); per token,
    /// what the result MINTs here never exceeds what it BURNs here (only the escrowed token can be
    /// burned, so a MINT of any other token is unbacked). Each breach refuses the whole result.
    function _spendingTotal(Instruction[] calldata instructions, address token) internal view returns (uint256 total) {
        uint256 minted;
        uint256 burned;
        bool movesToken;
        for (uint256 i; i < instructions.length; ++i) {
            Instruction calldata ix = instructions[i];
            uint8 op = ix.op;
            if (op > Ops.CREATE) revert Disperser_UnknownOp(i, op);
            if (op == Ops.TRANSFER || op == Ops.CALL) {
                address target = ix.target;
                if (target == address(0) || target == address(this)) revert Disperser_ForbiddenTarget(i, target);
                // A CALL into an escrowed token could move other requests' escrow with the oracle's balance.
                if (op == Ops.CALL && _assetOf[target].isAccepted()) revert Disperser_ForbiddenTarget(i, target);
                total += ix.amount;
            } else if (op == Ops.BURN) {
                if (token == address(0)) revert Disperser_BurnNeedsToken(i);
                if (ix.target != token) revert Disperser_BurnTargetNotToken(i, ix.target, token);
                movesToken = true;
                burned += ix.amount;
                total += ix.amount;
            } else if (op == Ops.MINT) {
                address minting = _decodeAddress(ix.data, i, op);
                if (ix.target == address(0)) revert Disperser_ForbiddenTarget(i, address(0));
                if (minting == token && token != address(0)) {
                    movesToken = true;
                    minted += ix.amount;
                } else {
                    bytes32 programId = _dispersedResult().programId;
                    _checkController(programId, minting);
                    // Nothing of `minting` can be burned in this result: any amount is unbacked.
                    if (ix.amount != 0) revert Disperser_UnbackedMint(programId, minting, ix.amount, 0);
                }
            }
        }
        if (movesToken) {
            bytes32 programId = _dispersedResult().programId;
            _checkController(programId, token);
            if (minted > burned) revert Disperser_UnbackedMint(programId, token, minted, burned);
        }
    }

    /// @dev Refuses the result unless `token` names `programId` as a controller.
    function _checkController(bytes32 programId, address token) internal view {
        if (!BoundedCall.isController(token, programId, BoundedCall.VIEW_GAS)) {
            revert Disperser_NotController(programId, token);
        }
    }

    /// @dev The Result of the dispersal call being executed. `disperse` and `disperseRemote` both
    /// take the (static, 7-word) Result struct as their first argument, so it sits in calldata
    /// right after the selector: reading it there spares threading `programId` through the
    /// settlement helpers. Only the ingestor reaches these calls, with ABI-encoded arguments.
    function _dispersedResult() internal pure returns (Result calldata r) {
        if (msg.sig != IDisperser.disperse.selector && msg.sig != IDisperser.disperseRemote.selector) {
            revert Disperser_NotDispersalCall(msg.sig);
        }
        assembly ("memory-safe") {
            r := 4
        }
    }

    /// @dev Splits `fee` equally among the signers and counts one share for each of them in this
    /// epoch's ledger, in one storage write per group of eight operator indices. Returns the part
    /// booked (the rest, less than `signerCount` units, stays in the oracle as protocol dust).
    function _bookFee(
        address operatorSet,
        uint256 assetId,
        uint256 fee,
        uint256 signerBitmap,
        uint256 signerCount
    ) internal returns (uint256 booked) {
        uint256 share = fee / signerCount;
        if (share == 0) return 0;
        booked = share * signerCount;
        uint256 epoch = block.timestamp / LEDGER_EPOCH;
        // The signer bitmap, eight operator indices (one ledger group) at a time.
        for (uint256 group; signerBitmap != 0; ++group) {
            uint256 lanes = signerBitmap & 0xff;
            signerBitmap >>= FeeCountsLib.LANES;
            if (lanes == 0) continue;
            bytes32 key = keccak256(abi.encode(operatorSet, assetId, share, epoch, group));
            FeeCounts increments = FeeCountsLib.oneEach(lanes);
            _feeCounts[key] = _feeCounts[key].plus(increments);
        }
    }

    function _earnedCount(
        address operatorSet,
        uint256 assetId,
        uint256 share,
        uint256 epoch,
        uint8 index
    ) internal view returns (uint256) {
        bytes32 key = keccak256(abi.encode(operatorSet, assetId, share, epoch, FeeCountsLib.groupOf(index)));
        return _feeCounts[key].countAt(FeeCountsLib.laneOf(index));
    }

    /// @dev Runs validated instructions of a same-chain result. Returns what left the escrow (failed
    /// spends are not counted, so they are refunded). Every call into a target is bounded
    /// ({BoundedCall}): a target can fail its own instruction, never the settlement.
    function _execute(
        bytes32 requestId,
        uint256 originChainId,
        Instruction[] calldata instructions,
        address token
    ) internal returns (uint256 spent) {
        for (uint256 i; i < instructions.length; ++i) {
            Instruction calldata ix = instructions[i];
            uint8 op = ix.op;
            if (op == Ops.TRANSFER) {
                uint256 gasLimit = token == address(0) ? BoundedCall.ETH_TRANSFER_GAS : BoundedCall.TOKEN_TRANSFER_GAS;
                (bool ok, bytes memory reason) = BoundedCall.pay(token, ix.target, ix.amount, gasLimit);
                if (ok) spent += ix.amount;
                else emit InstructionFailed(requestId, i, op, ix.target, reason);
            } else if (op == Ops.CALL) {
                spent += _call(requestId, i, ix, token);
            } else if (op == Ops.MINT) {
                // Validated: the escrowed omni token, a controller's result, backed by this result's
                // burns. Over its rate limit the token queues the mint; it reverts for nothing else
                // a validated MINT can carry, and a revert here refuses the result (burns included).
                IOmniToken(token).mint(ix.target, ix.amount, originChainId, requestId);
            } else if (op == Ops.BURN) {
                IOmniToken(token).burn(ix.amount);
                spent += ix.amount;
            } else {
                _create(requestId, i, ix);
            }
        }
    }

    /// @dev Runs a remote result's MINT and CREATE instructions (the ops were checked).
    function _executeRemote(Result calldata r, Instruction[] calldata instructions) internal {
        for (uint256 i; i < instructions.length; ++i) {
            Instruction calldata ix = instructions[i];
            if (ix.op == Ops.MINT) {
                _mintRemote(r, i, ix, _decodeAddress(ix.data, i, Ops.MINT));
            } else {
                _create(r.requestId, i, ix);
            }
        }
    }

    /// @dev MINT for a result from another chain: only a controller's, with the origin reference;
    /// the token gets a bounded call (a fake "token" a program names cannot sink the ingest).
    function _mintRemote(Result calldata r, uint256 index, Instruction calldata ix, address token) internal {
        if (!BoundedCall.isController(token, r.programId, BoundedCall.VIEW_GAS)) {
            emit InstructionFailed(
                r.requestId,
                index,
                Ops.MINT,
                token,
                abi.encodeWithSelector(Disperser_NotController.selector, r.programId, token)
            );
            return;
        }
        (bool ok, bytes memory reason) = BoundedCall.call(
            token,
            0,
            abi.encodeCall(IOmniToken.mint, (ix.target, ix.amount, r.originChainId, r.requestId)),
            BoundedCall.CALL_GAS
        );
        if (!ok) emit InstructionFailed(r.requestId, index, Ops.MINT, token, reason);
    }

    /// @dev CALL: ETH as value, or an ERC-20 allowance that is zero again afterwards, with a fixed
    /// gas limit and bounded return data. Returns what the target took; a failing target (revert,
    /// out of gas, return bomb) takes nothing and the failure is reported with its truncated reason.
    function _call(
        bytes32 requestId,
        uint256 index,
        Instruction calldata ix,
        address token
    ) internal returns (uint256 taken) {
        address target = ix.target;
        if (token == address(0)) {
            (bool ok, bytes memory reason) = BoundedCall.callCalldata(target, ix.amount, ix.data, BoundedCall.CALL_GAS);
            if (!ok) {
                emit InstructionFailed(requestId, index, Ops.CALL, target, reason);
                return 0;
            }
            taken = ix.amount;
        } else {
            IERC20 asset = IERC20(token);
            asset.forceApprove(target, ix.amount);
            (bool ok, bytes memory reason) = BoundedCall.callCalldata(target, 0, ix.data, BoundedCall.CALL_GAS);
            uint256 left = asset.allowance(address(this), target);
            if (left != 0) asset.forceApprove(target, 0);
            if (!ok) {
                emit InstructionFailed(requestId, index, Ops.CALL, target, reason);
                return 0;
            }
            taken = ix.amount - left;
        }
        emit CallExecuted(requestId, index, target, taken);
    }

    /// @dev CREATE through the factory. A failure (unknown kind, a used salt, a constructor that
    /// reverts) emits {InstructionFailed}; a failure for want of gas refuses the whole ingest, so a
    /// poster cannot make a creation fail on purpose.
    function _create(bytes32 requestId, uint256 index, Instruction calldata ix) internal {
        IContractFactory f = factory;
        if (address(f) == address(0)) revert Disperser_NoFactory();
        bytes calldata data = ix.data;
        // abi.encode(bytes32 kind, bytes32 salt, bytes init): two words, the offset 0x60, the length, the bytes.
        if (data.length < 128 || uint256(bytes32(data[64:96])) != 96) revert Disperser_BadData(index, Ops.CREATE);
        uint256 initLength = uint256(bytes32(data[96:128]));
        if (initLength > data.length - 128) revert Disperser_BadData(index, Ops.CREATE);
        uint256 gasBefore = gasleft();
        try f.create(bytes32(data[0:32]), bytes32(data[32:64]), data[128:128 + initLength]) {} catch {
            // The factory got 63/64 of the gas: with at most 1/63 of it left, it ran out of gas.
            uint256 left = gasleft();
            if (left <= gasBefore / 63) revert Disperser_GasTooLow(left, gasBefore);
            emit InstructionFailed(requestId, index, Ops.CREATE, address(f), BoundedCall.returnData());
        }
    }

    function _decodeAddress(bytes calldata data, uint256 index, uint8 op) internal pure returns (address) {
        if (data.length != 32) revert Disperser_BadData(index, op);
        uint256 word = uint256(bytes32(data));
        if (word >> 160 != 0) revert Disperser_BadData(index, op);
        return address(uint160(word));
    }
}
