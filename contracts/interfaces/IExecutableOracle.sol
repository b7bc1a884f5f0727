// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title IExecutableOracle
/// @notice Entry point of the executable oracle on one chain: escrows funds, emits requests that
/// name a program and its input, and refunds requests nobody answered by their deadline
/// (SPEC 3.1). Funds are accounted per request; only the dispersal path (IDisperser) spends them.
interface IExecutableOracle {
    /// @notice Lifecycle of a request. A request is settled at most once: Ingested xor Refunded.
    enum RequestStatus {
        None,
        Open,
        Ingested,
        Refunded
    }

    /// @notice What the oracle holds for one request.
    struct EscrowInfo {
        address requester;
        address token; // address(0) for ETH
        uint256 amount;
        uint64 requestedAt;
        /// @dev For an Ingested request: the time it was ingested (the deadline no longer matters).
        uint64 deadline;
        RequestStatus status;
    }

    /// @notice `programId` is not published in the ProgramRegistry.
    error Oracle_UnknownProgram(bytes32 programId);
    /// @notice `ttl` is zero or above the maximum.
    error Oracle_InvalidTtl(uint64 ttl, uint64 maxTtl);
    /// @notice The escrow does not cover the protocol fee of its asset.
    error Oracle_FeeNotCovered(address token, uint256 amount, uint256 fee);
    /// @notice The amount does not fit the escrow record (2^128 - 1 at most).
    error Oracle_AmountTooLarge(uint256 amount);
    /// @notice The token is not accepted for escrow (the owner enables tokens with a fee).
    error Oracle_TokenNotAccepted(address token);
    /// @notice No request with this id exists.
    error Oracle_UnknownRequest(bytes32 requestId);
    /// @notice The request is not open (already ingested or refunded).
    error Oracle_RequestNotOpen(bytes32 requestId, RequestStatus status);
    /// @notice The request's deadline has not passed yet.
    error Oracle_DeadlineNotReached(bytes32 requestId, uint64 deadline, uint256 nowTimestamp);
    /// @notice A fee may change at most once per `MAX_TTL` so that every open request knows its fee.
    error Oracle_FeeChangeTooSoon(address token, uint256 allowedAt);
    /// @notice Fee above 2^96 - 1.
    error Oracle_FeeTooLarge(uint256 fee);
    /// @notice Nothing to withdraw.
    error Oracle_NothingToWithdraw(address account, address token);
    /// @notice Sending `amount` of ETH to `to` failed.
    error Oracle_EthTransferFailed(address to, uint256 amount);
    /// @notice The token moved less than it was asked to (fee-on-transfer tokens are not accepted).
    error Oracle_TokenShortfall(address token, uint256 expected, uint256 received);
    /// @notice `token` is not an OmniToken bound to this oracle (its `disperser()` answered `bound`).
    error Oracle_NotOwnOmniToken(address token, address bound);
    /// @notice A zero fee is refused: an asset is free only through {setFree}, on purpose.
    error Oracle_ZeroFee(address token);
    /// @notice The token is already accepted: change its fee with {setFee}.
    error Oracle_TokenAlreadyAccepted(address token);
    /// @notice The acceptance probe moved another amount than asked (fee-on-transfer, either way).
    /// `step` 0 = pulled into the oracle, 1 = left the oracle, 2 = reached the owner.
    error Oracle_TokenNotExact(address token, uint8 step, uint256 expected, uint256 actual);
    /// @notice The zero address is not allowed here.
    error Oracle_ZeroAddress();
    /// @notice Plain ETH transfers are refused: escrow goes through `request`.
    error Oracle_DirectEthRefused(address sender, uint256 amount);

    /// @notice Emitted for every request (SPEC 3.1, normative).
    event ExecutionRequested(
        bytes32 indexed requestId,
        bytes32 indexed programId,
        address indexed requester,
        address token,
        uint256 amount,
        uint64 deadline,
        bytes input
    );
    /// @notice Emitted when an expired request's whole escrow goes back (SPEC 3.1, normative).
    event Refunded(bytes32 indexed requestId, address indexed requester, uint256 amount);
    /// @notice Emitted when the owner enables a token or changes an asset's fee (token 0 = ETH).
    event FeeSet(address indexed token, uint256 fee, uint256 previousFee);
    /// @notice Emitted when the owner makes an asset free on purpose (a zero fee; token 0 = ETH).
    event AssetMadeFree(address indexed token);
    /// @notice Emitted when a token passes its acceptance probe and becomes accepted for escrow.
    event TokenAccepted(address indexed token, uint256 assetId, uint256 probeAmount);
    /// @notice Emitted when a refund could not be pushed and waits to be withdrawn.
    event RefundDeferred(bytes32 indexed requestId, address indexed requester, address token, uint256 amount);
    /// @notice Emitted when deferred refunds are withdrawn.
    event Withdrawn(address indexed account, address indexed token, uint256 amount);
    /// @notice Emitted when the ingestor allowed to settle requests is set.
    event IngestorSet(address indexed ingestor);

    /// @notice Requests a run of `programId` on `input`, escrowing `msg.value` ETH until `ttl` seconds from now.
    /// @dev Requirements: program published; 0 < ttl <= MAX_TTL; msg.value covers the ETH fee and < 2^128.
    /// requestId = bytes32((nonce << 192) | uint192(uint256(keccak256(abi.encode(block.chainid,
    /// address(this), msg.sender, nonce, programId, keccak256(input)))))) (see RequestIds): a result
    /// settles it only if it names this program and input. Emits {ExecutionRequested}.
    function request(bytes32 programId, bytes calldata input, uint64 ttl) external payable returns (bytes32 requestId);

    /// @notice Same as {request}, escrowing `amount` of an accepted ERC-20 (pulled with transferFrom).
    /// @dev The oracle's balance must grow by exactly `amount` ({Oracle_TokenShortfall} otherwise).
    function requestWithToken(
        bytes32 programId,
        bytes calldata input,
        uint64 ttl,
        address token,
        uint256 amount
    ) external returns (bytes32 requestId);

    /// @notice {requestWithToken} with an EIP-2612 permit instead of a prior approval. A permit that
    /// was already used (front-run) is ignored when the allowance suffices.
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
    ) external returns (bytes32 requestId);

    /// @notice Returns the whole escrow of an expired, unanswered request to its requester. Anyone may call.
    /// @dev Requirements: request open and block.timestamp > deadline. Emits {Refunded}.
    function refund(bytes32 requestId) external;

    /// @notice Withdraws refunds that could not be pushed to the caller (a reverting receiver).
    function withdraw(address token) external;

    /// @notice Sets the protocol fee per request for ETH (address(0)) or an accepted token.
    /// @dev Requirements: owner; 0 < fee < 2^96 (a free asset is set with {setFree}); the token is
    /// accepted ({acceptToken}); the previous change of this asset, if any, is at least MAX_TTL old
    /// (the first change after acceptance is not limited: no request paid an earlier fee).
    /// Applies to requests made after this transaction, even within the same block (the schedule
    /// is keyed by the request nonce). Emits {FeeSet}.
    function setFee(address token, uint256 fee) external;

    /// @notice Makes ETH (address(0)) or an accepted token free on purpose: requests pay no fee and
    /// operators earn nothing for them.
    /// @dev Requirements: owner; accepted; the same rate limit as {setFee}. Emits {AssetMadeFree}, {FeeSet}.
    function setFree(address token) external;

    /// @notice Accepts `token` for escrow with `fee` per request, after a probe: `probeAmount` is
    /// pulled from the owner and sent back, and each leg must move exactly `probeAmount` (the
    /// oracle's balance and the owner's). Tokens that take a fee on transfer, in either direction,
    /// are refused, so they can never make the oracle owe more than it holds.
    /// @dev Requirements: owner; token not yet accepted and non-zero; 0 < fee < 2^96; probeAmount > 0
    /// approved by the owner (choose it large enough that a percentage fee would not round to
    /// zero). Rebasing tokens are not detected by a probe: the owner must not accept them.
    /// Emits {TokenAccepted}, {FeeSet}.
    function acceptToken(address token, uint256 fee, uint256 probeAmount) external;

    /// @notice Accepts this chain's OmniToken (an OmniToken whose `disperser()` is this oracle) for
    /// escrow with `fee`, without a probe: it is the project's own exact, non-rebasing ERC-20, and
    /// on chains other than its home the owner holds none of it to probe with.
    /// @dev Requirements: owner; not yet accepted; 0 < fee < 2^96; `disperser()` answers this oracle.
    /// Emits {TokenAccepted} (probe 0), {FeeSet}.
    function acceptOmniToken(address token, uint256 fee) external;

    /// @notice The escrow record of a request. For an ingested request only `status` and, in
    /// `deadline`, the ingestion time are set: the escrow was spent and its slot now holds the ingestion.
    function escrowOf(bytes32 requestId) external view returns (EscrowInfo memory);

    /// @notice When a same-chain request's result was ingested and the commitment to the Result and
    /// its signers recorded then ({ResultTypedData.signersCommitment}); zeros if not ingested.
    function settlementOf(bytes32 requestId) external view returns (uint256 ingestedAt, bytes32 signersCommitment);

    /// @notice The fee a request for `token` pays now (reverts for tokens not accepted).
    function feeOf(address token) external view returns (uint256);

    /// @notice The requestId the next request will get if `requester` sends it for `programId` and
    /// `input` (another request landing first takes that nonce: read the id from the event then).
    function nextRequestId(address requester, bytes32 programId, bytes calldata input) external view returns (bytes32);

    /// @notice Refunds waiting to be withdrawn by `account` in `token`.
    function pendingWithdrawal(address account, address token) external view returns (uint256);
}
