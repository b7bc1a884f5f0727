// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IExecutableOracle} from "./interfaces/IExecutableOracle.sol";
import {IContractFactory} from "./interfaces/IContractFactory.sol";
import {Disperser} from "./core/Disperser.sol";
import {ProgramRegistry} from "./core/ProgramRegistry.sol";
import {EscrowRecord, EscrowRecordLib} from "./core/EscrowRecord.sol";
import {OracleState, OracleStateLib} from "./core/OracleState.sol";
import {AssetEntry, AssetEntryLib} from "./core/AssetEntry.sol";
import {FeeSchedule, FeeScheduleLib} from "./core/FeeSchedule.sol";
import {RequestIds} from "./core/RequestIds.sol";
import {IOmniToken} from "./interfaces/IOmniToken.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {IERC20} from "@openzeppelin/contracts/token/ERC20/IERC20.sol";
import {IERC20Permit} from "@openzeppelin/contracts/token/ERC20/extensions/IERC20Permit.sol";
import {SafeERC20} from "@openzeppelin/contracts/token/ERC20/utils/SafeERC20.sol";

/// @title ExecutableOracle
/// @notice Requests, escrow, refunds, program registry and dispersal of one chain (SPEC 3.1-3.4).
/// @dev One contract holds the escrowed funds and is the only one that can move them: requests
/// write a single storage slot, and a result's dispersal needs no call into another contract.
contract ExecutableOracle is Disperser, ProgramRegistry, Ownable2Step {
    using EscrowRecordLib for EscrowRecord;
    using OracleStateLib for OracleState;
    using AssetEntryLib for AssetEntry;
    using FeeScheduleLib for FeeSchedule;
    using SafeERC20 for IERC20;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param initialOwner Administers fees, the ingestor and the factory.
    /// @param ethFee Protocol fee of an ETH request, in wei: non-zero (ETH is made free, if ever,
    /// with {setFree}, on purpose).
    constructor(address initialOwner, uint256 ethFee) Ownable(initialOwner) {
        if (ethFee == 0) revert Oracle_ZeroFee(address(0));
        _setFee(address(0), ethFee);
    }

    /*//////////////////////////////////////////////////////////////
                                EXTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IExecutableOracle
    function request(
        bytes32 programId,
        bytes calldata input,
        uint64 ttl
    ) external payable nonReentrant returns (bytes32 requestId) {
        OracleState state = _state;
        uint256 fee = state.ethFee();
        if (msg.value < fee) revert Oracle_FeeNotCovered(address(0), msg.value, fee);
        requestId = _open(state, programId, input, ttl, address(0), 0, msg.value);
    }

    /// @inheritdoc IExecutableOracle
    function requestWithToken(
        bytes32 programId,
        bytes calldata input,
        uint64 ttl,
        address token,
        uint256 amount
    ) external nonReentrant returns (bytes32 requestId) {
        requestId = _requestWithToken(programId, input, ttl, token, amount);
    }

    /// @inheritdoc IExecutableOracle
    function requestWithPermit(
        bytes32 programId,
        bytes calldata input,
        uint64 ttl,
        address token,
        uint256 amount,
        uint256 permitDeadline,
        uint8 v,
        bytes32 r,
        bytes32 s
    ) external nonReentrant returns (bytes32 requestId) {
        // A permit someone already submitted must not block the request: the allowance decides.
        try IERC20Permit(token).permit(msg.sender, address(this), amount, permitDeadline, v, r, s) {} catch {}
        requestId = _requestWithToken(programId, input, ttl, token, amount);
    }

    /// @inheritdoc IExecutableOracle
    function refund(bytes32 requestId) external nonReentrant {
        // ---- checks
        EscrowRecord record = _escrows[requestId];
        if (record.isEmpty()) revert Oracle_UnknownRequest(requestId);
        uint8 status = record.status();
        if (status != STATUS_OPEN) revert Oracle_RequestNotOpen(requestId, RequestStatus(status));
        uint256 deadline = record.deadline();
        if (block.timestamp <= deadline) {
            revert Oracle_DeadlineNotReached(requestId, uint64(deadline), block.timestamp);
        }
        // ---- effects
        _escrows[requestId] = record.withStatus(STATUS_REFUNDED);
        address requester = _accountOwner[record.accountId()];
        uint256 amount = record.amount();
        emit Refunded(requestId, requester, amount);
        // ---- interactions
        _refundTo(requestId, requester, _tokenOf(record.assetId()), amount);
    }

    /// @inheritdoc IExecutableOracle
    function withdraw(address token) external nonReentrant {
        uint256 amount = _deferred[msg.sender][token];
        if (amount == 0) revert Oracle_NothingToWithdraw(msg.sender, token);
        _deferred[msg.sender][token] = 0;
        emit Withdrawn(msg.sender, token, amount);
        (bool ok, ) = _tryPay(token, msg.sender, amount);
        if (!ok) revert Oracle_EthTransferFailed(msg.sender, amount);
    }

    /// @inheritdoc IExecutableOracle
    function setFee(address token, uint256 fee) external onlyOwner {
        if (fee == 0) revert Oracle_ZeroFee(token);
        _setFee(token, fee);
    }

    /// @inheritdoc IExecutableOracle
    function setFree(address token) external onlyOwner {
        _setFee(token, 0);
        emit AssetMadeFree(token);
    }

    /// @inheritdoc IExecutableOracle
    function acceptToken(address token, uint256 fee, uint256 probeAmount) external onlyOwner nonReentrant {
        _checkAcceptable(token, fee);
        if (probeAmount == 0) revert Oracle_TokenNotExact(token, 0, 1, 0);
        // ---- interactions first: nothing is recorded unless the token moves exact amounts both ways
        _probe(IERC20(token), probeAmount);
        _accept(token, fee, probeAmount);
    }

    /// @inheritdoc IExecutableOracle
    function acceptOmniToken(address token, uint256 fee) external onlyOwner {
        _checkAcceptable(token, fee);
        // An OmniToken bound to this oracle is the project's own ERC-20 code (created through the
        // factory, which hands it this disperser): exact transfers, no rebasing. No probe, so the
        // token can be accepted on chains where the owner holds none of it yet.
        address bound;
        try IOmniToken(token).disperser() returns (address d) {
            bound = d;
        } catch {}
        if (bound != address(this)) revert Oracle_NotOwnOmniToken(token, bound);
        _accept(token, fee, 0);
    }

    /// @notice Sets the InstructionIngestor, the only caller of the dispersal functions.
    /// @dev Requirements: owner; non-zero. Emits {IngestorSet}.
    function setIngestor(address newIngestor) external onlyOwner {
        if (newIngestor == address(0)) revert Oracle_ZeroAddress();
        ingestor = newIngestor;
        emit IngestorSet(newIngestor);
    }

    /// @notice Sets the factory CREATE instructions go through.
    /// @dev Requirements: owner; non-zero. Emits {FactorySet}.
    function setFactory(IContractFactory newFactory) external onlyOwner {
        if (address(newFactory) == address(0)) revert Oracle_ZeroAddress();
        factory = newFactory;
        emit FactorySet(address(newFactory));
    }

    /// @inheritdoc IExecutableOracle
    function escrowOf(bytes32 requestId) external view returns (EscrowInfo memory) {
        return _escrowInfo(_escrows[requestId]);
    }

    /// @inheritdoc IExecutableOracle
    function settlementOf(bytes32 requestId) external view returns (uint256 ingestedAt, bytes32 signersCommitment) {
        EscrowRecord record = _escrows[requestId];
        if (record.status() != STATUS_INGESTED) return (0, bytes32(0));
        return (record.ingestedAt(), record.commitment());
    }

    /// @inheritdoc IExecutableOracle
    function feeOf(address token) external view returns (uint256) {
        if (token == address(0)) return _state.ethFee();
        AssetEntry entry = _assetOf[token];
        if (!entry.isAccepted()) revert Oracle_TokenNotAccepted(token);
        return entry.fee();
    }

    /// @inheritdoc IExecutableOracle
    function nextRequestId(address requester, bytes32 programId, bytes calldata input) external view returns (bytes32) {
        return RequestIds.compute(address(this), requester, _state.nonce(), programId, keccak256(input));
    }

    /// @inheritdoc IExecutableOracle
    function pendingWithdrawal(address account, address token) external view returns (uint256) {
        return _deferred[account][token];
    }

    /// @dev The oracle's owner publishes without a name reservation (see {IProgramRegistry-publish}).
    function _isRegistryAdmin(address account) internal view override returns (bool) {
        return account == owner();
    }

    /// @notice Refuses plain ETH: it would sit outside every request's escrow.
    receive() external payable {
        revert Oracle_DirectEthRefused(msg.sender, msg.value);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _requestWithToken(
        bytes32 programId,
        bytes calldata input,
        uint64 ttl,
        address token,
        uint256 amount
    ) internal returns (bytes32 requestId) {
        AssetEntry entry = _assetOf[token];
        if (!entry.isAccepted() || token == address(0)) revert Oracle_TokenNotAccepted(token);
        uint256 fee = entry.fee();
        if (amount < fee) revert Oracle_FeeNotCovered(token, amount, fee);
        requestId = _open(_state, programId, input, ttl, token, entry.assetId(), amount);
        // ---- interactions (the request is recorded and emitted; the guard blocks re-entry)
        IERC20 asset = IERC20(token);
        uint256 before = asset.balanceOf(address(this));
        asset.safeTransferFrom(msg.sender, address(this), amount);
        uint256 received = asset.balanceOf(address(this)) - before;
        if (received != amount) revert Oracle_TokenShortfall(token, amount, received);
    }

    /// @dev Validates and records a request, then emits it. `state` is the hot slot as read by the caller.
    function _open(
        OracleState state,
        bytes32 programId,
        bytes calldata input,
        uint64 ttl,
        address token,
        uint256 assetId,
        uint256 amount
    ) internal returns (bytes32 requestId) {
        // ---- checks
        if (!isPublished(programId)) revert Oracle_UnknownProgram(programId);
        if (ttl == 0 || ttl > MAX_TTL) revert Oracle_InvalidTtl(ttl, MAX_TTL);
        if (amount > type(uint128).max) revert Oracle_AmountTooLarge(amount);

        // ---- effects
        uint256 accountId = _accountIdOf[msg.sender];
        if (accountId == 0) {
            // Account ids start at 1; 2^32 - 1 requesters is beyond any chain's account count.
            unchecked {
                accountId = state.accountCount() + 1;
            }
            _accountIdOf[msg.sender] = accountId;
            _accountOwner[accountId] = msg.sender;
            state = state.withAccountCount(accountId);
        }
        uint256 nonce = state.nonce();
        // The id binds the program and the input: a result for another one cannot settle it (SPEC 3.2).
        requestId = RequestIds.compute(address(this), msg.sender, nonce, programId, keccak256(input));
        _state = state.withNextNonce();
        _escrows[requestId] = EscrowRecordLib.pack(amount, block.timestamp, ttl, accountId, assetId, STATUS_OPEN);
        emit ExecutionRequested(requestId, programId, msg.sender, token, amount, uint64(block.timestamp + ttl), input);
    }

    /// @dev Changes the fee of ETH or an accepted token. The schedule keeps the fee before the
    /// change and the first request nonce that pays the new one, so every open request is charged
    /// what it was checked against, whatever second it was made in.
    function _setFee(address token, uint256 fee) internal {
        if (fee > type(uint96).max) revert Oracle_FeeTooLarge(fee);
        OracleState state = _state;
        uint256 assetId;
        uint256 previousFee;
        if (token == address(0)) {
            previousFee = state.ethFee();
            _state = state.withEthFee(fee);
        } else {
            AssetEntry entry = _assetOf[token];
            if (!entry.isAccepted()) revert Oracle_TokenNotAccepted(token);
            assetId = entry.assetId();
            previousFee = entry.fee();
            _assetOf[token] = entry.withFee(fee);
        }
        if (_feeSchedule[assetId].isEmpty() && token == address(0)) {
            // The constructor: no request exists yet, "previous" is never read.
            _feeSchedule[0] = FeeScheduleLib.pack(fee, fee, 0);
        } else {
            uint256 changedAt = _feeChangedAt[assetId];
            // Only two fees are kept: the previous change must be old enough that no request that
            // paid the fee before it is still open (the first change after acceptance has none).
            if (changedAt != 0 && block.timestamp < changedAt + MAX_TTL) {
                revert Oracle_FeeChangeTooSoon(token, changedAt + MAX_TTL);
            }
            _feeChangedAt[assetId] = block.timestamp;
            // Requests from the next nonce on were (and will be) checked against the new fee.
            _feeSchedule[assetId] = FeeScheduleLib.pack(fee, previousFee, state.nonce());
        }
        emit FeeSet(token, fee, previousFee);
    }

    /// @dev Pulls `amount` of `token` from the caller and sends it back, requiring that the oracle's
    /// balance and the caller's move by exactly `amount` at every step.
    function _checkAcceptable(address token, uint256 fee) internal view {
        if (token == address(0)) revert Oracle_ZeroAddress();
        if (_assetOf[token].isAccepted()) revert Oracle_TokenAlreadyAccepted(token);
        if (fee == 0) revert Oracle_ZeroFee(token);
        if (fee > type(uint96).max) revert Oracle_FeeTooLarge(fee);
    }

    /// @dev Gives `token` the next asset id with `fee` (no fee change pending, so {setFree} or
    /// {setFee} may follow at once).
    function _accept(address token, uint256 fee, uint256 probeAmount) internal {
        OracleState state = _state;
        uint256 assetId = state.assetCount() + 1;
        _state = state.withAssetCount(assetId);
        _assetToken[assetId] = token;
        _assetOf[token] = AssetEntryLib.pack(assetId, fee);
        _feeSchedule[assetId] = FeeScheduleLib.pack(fee, fee, 0);
        emit TokenAccepted(token, assetId, probeAmount);
        emit FeeSet(token, fee, 0);
    }

    function _probe(IERC20 token, uint256 amount) internal {
        uint256 start = token.balanceOf(address(this));
        token.safeTransferFrom(msg.sender, address(this), amount);
        uint256 held = token.balanceOf(address(this));
        if (held < start || held - start != amount) {
            revert Oracle_TokenNotExact(address(token), 0, amount, held < start ? 0 : held - start);
        }
        uint256 ownerStart = token.balanceOf(msg.sender);
        token.safeTransfer(msg.sender, amount);
        uint256 left = token.balanceOf(address(this));
        if (left > held || held - left != amount) {
            revert Oracle_TokenNotExact(address(token), 1, amount, left > held ? 0 : held - left);
        }
        uint256 ownerEnd = token.balanceOf(msg.sender);
        if (ownerEnd < ownerStart || ownerEnd - ownerStart != amount) {
            revert Oracle_TokenNotExact(address(token), 2, amount, ownerEnd < ownerStart ? 0 : ownerEnd - ownerStart);
        }
    }
}
