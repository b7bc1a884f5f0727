// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IOperatorSet} from "./IOperatorSet.sol";
import {IRestakingAdapter} from "./IRestakingAdapter.sol";
import {Result} from "./IInstruction.sol";

/// @title IStakingRegistry
/// @notice HoneSTake (SPEC 3.5): the staked operator set the InstructionIngestor reads through
/// {IOperatorSet}. An operator is active while the stake its adapter guarantees to keep slashable
/// for `slashableWindowBlocks` covers its required stake,
/// `max(floor, base * (1 - alpha * reputation))`; reputation (basis points) rises with finalised
/// unchallenged results, at most `maxGainPerEpoch` per epoch, decays by `decayPerEpoch` each epoch
/// and resets to zero on any slash. Equivocation (two signed `Result`s for one request) is slashed
/// at once, with a share to whoever proves it, once per (operator, originChainId, requestId).
/// @dev Threshold rule: membership changes without transactions (reputation decays, stake is
/// slashed), so "a strict majority of the active operators" cannot be enforced. Instead the owner
/// sets a fixed threshold that must be a strict majority of the *registered* operators (a superset
/// of the active ones), checked on {setThreshold} and on every {register}. Two conflicting results
/// therefore always share a signer, who is slashable for equivocation. Liveness (enough active
/// operators to reach the threshold) is the owner's and the operators' concern.
interface IStakingRegistry is IOperatorSet {
    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The caller is not a reputation reporter.
    error Staking_NotReporter(address caller);
    /// @notice `operator` is already registered.
    error Staking_AlreadyRegistered(address operator);
    /// @notice `operator` is not registered.
    error Staking_NotRegistered(address operator);
    /// @notice `operator` was never registered.
    error Staking_UnknownOperator(address operator);
    /// @notice All 256 indices are taken.
    error Staking_RegistryFull();
    /// @notice `operator`'s slashable stake is below its required stake.
    error Staking_InsufficientStakeForRegistration(address operator, uint256 slashable, uint256 required);
    /// @notice The threshold must be >= 1 and a strict majority of the registered operators.
    error Staking_InvalidThreshold(uint256 threshold, uint256 registeredCount);
    /// @notice Invalid required-stake parameters (need 0 < base, floor <= base, alpha <= 10_000).
    error Staking_InvalidStakeParams(uint256 base, uint256 floor, uint256 alphaBps);
    /// @notice Invalid reputation parameters (need epochBlocks > 0, gains and decay <= 10_000).
    error Staking_InvalidReputationParams(
        uint256 epochBlocks,
        uint256 gainPerResult,
        uint256 maxGainPerEpoch,
        uint256 decayPerEpoch
    );
    /// @notice Invalid slashing parameters (need 0 < slash <= 10_000, reward <= 10_000, treasury set).
    error Staking_InvalidSlashParams(uint256 equivocationSlashBps, uint256 submitterRewardBps, address treasury);
    /// @notice A zero address where one is needed.
    error Staking_ZeroAddress();
    /// @notice The two results are not for the same (originChainId, requestId).
    error Staking_DifferentRequests(
        uint256 originChainIdA,
        bytes32 requestIdA,
        uint256 originChainIdB,
        bytes32 requestIdB
    );
    /// @notice The two results are identical: no equivocation.
    error Staking_SameResult(bytes32 structHash);
    /// @notice Signature `which` (0 = a, 1 = b) does not recover (malformed or high s).
    error Staking_InvalidSignature(uint256 which);
    /// @notice The two signatures recover to different accounts.
    error Staking_DifferentSigners(address signerA, address signerB);
    /// @notice `operator` was already slashed for equivocating on this request.
    error Staking_AlreadySlashed(address operator, uint256 originChainId, bytes32 requestId);
    /// @notice The caller is not the dispute module.
    error Staking_NotDisputeModule(address caller, address disputeModule);
    /// @notice `account` is already a registered watcher.
    error Staking_WatcherAlreadyRegistered(address account);
    /// @notice `account` is not a registered watcher.
    error Staking_NotWatcher(address account);
    /// @notice An operator cannot also be a watcher (it would vote on its own results).
    error Staking_OperatorCannotWatch(address account);
    /// @notice A watcher cannot also register as an operator.
    error Staking_WatcherCannotOperate(address account);
    /// @notice `account`'s slashable stake is below the watcher minimum.
    error Staking_InsufficientStakeForWatcher(address account, uint256 slashable, uint256 minimum);
    /// @notice Invalid slash cap (need periodBlocks > 0 and a cap below 2^128).
    error Staking_InvalidSlashCap(uint256 capPerPeriod, uint256 periodBlocks);
    /// @notice `operator` still covers its required stake: it cannot be evicted.
    error Staking_StillActive(address operator, uint256 slashable, uint256 required);
    /// @notice A reward share above 10_000 basis points.
    error Staking_InvalidRewardBps(uint256 rewardBps);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Emitted when `operator` registers (first time or again) with its stable index.
    event OperatorRegistered(address indexed operator, uint8 index);
    /// @notice Emitted when `operator` deregisters; it keeps its index.
    event OperatorDeregistered(address indexed operator, uint8 index);
    /// @notice Emitted when `by` evicts `operator`, registered without the stake it needs (it keeps
    /// its index and may register again once staked).
    event OperatorEvicted(address indexed operator, address indexed by, uint256 slashable, uint256 required);
    /// @notice Emitted when the threshold changes.
    event ThresholdSet(uint256 previous, uint256 current);
    /// @notice Emitted when a reporter is added or removed.
    event ReporterSet(address indexed reporter, bool allowed);
    /// @notice Emitted when the required-stake parameters change.
    event StakeParamsSet(uint256 base, uint256 floor, uint256 alphaBps);
    /// @notice Emitted when the reputation parameters change.
    event ReputationParamsSet(
        uint256 epochBlocks,
        uint256 gainPerResult,
        uint256 maxGainPerEpoch,
        uint256 decayPerEpoch
    );
    /// @notice Emitted when the slashing parameters change.
    event SlashParamsSet(uint256 equivocationSlashBps, uint256 submitterRewardBps, address treasury);
    /// @notice Emitted when `account` registers as a watcher.
    event WatcherRegistered(address indexed account);
    /// @notice Emitted when `account` stops being a watcher.
    event WatcherDeregistered(address indexed account);
    /// @notice Emitted when the minimum watcher stake changes.
    event WatcherMinStakeSet(uint256 minimum);
    /// @notice Emitted when the dispute module (allowed to slash faults and record finalised
    /// results) changes.
    event DisputeModuleSet(address indexed previous, address indexed current);
    /// @notice Emitted when the slash cap changes: at most `capPerPeriod` asset units are slashed
    /// in total per `periodBlocks` blocks.
    event SlashCapSet(uint256 capPerPeriod, uint256 periodBlocks);
    /// @notice Emitted when a slash was cut down to what the period's cap still allowed.
    event SlashCapped(address indexed operator, bytes32 indexed faultId, uint256 wanted, uint256 allowed);
    /// @notice Emitted when `operator` is slashed for a fault the dispute module proved:
    /// `reward` went to `rewardRecipient`, `remainder` to the treasury.
    event FaultSlashed(
        address indexed operator,
        bytes32 indexed faultId,
        address rewardRecipient,
        uint256 reward,
        uint256 remainder
    );
    /// @notice Emitted when `operator`'s reputation changes to `reputation` (basis points).
    event ReputationUpdated(address indexed operator, uint256 reputation);
    /// @notice Emitted when `operator` is slashed for signing two results of one request:
    /// `reward` went to `submitter`, `remainder` to the treasury; its reputation is now zero.
    event EquivocationSlashed(
        address indexed operator,
        uint256 indexed originChainId,
        bytes32 indexed requestId,
        address submitter,
        uint256 reward,
        uint256 remainder
    );

    /*//////////////////////////////////////////////////////////////
                                FUNCTIONS
    //////////////////////////////////////////////////////////////*/

    /// @notice Registers the caller as an operator, giving it the next index (or its old one).
    /// @dev Requirements: not registered; slashable stake >= required stake; fewer than 256
    /// indices used; the threshold stays a strict majority of the registered operators (the owner
    /// raises it first when needed). Emits {OperatorRegistered}.
    function register() external;

    /// @notice Deregisters the caller; it keeps its index and can register again.
    /// @dev Requirements: registered. Emits {OperatorDeregistered}.
    function deregister() external;

    /// @notice Deregisters `operator` when it no longer covers its required stake (withdrawn,
    /// slashed): anyone may call it, so stake-less registrations cannot hold seats under the
    /// threshold rule (which counts registered operators) or block the owner from lowering it.
    /// @dev Requirements: `operator` registered and inactive. Emits {OperatorEvicted} and
    /// {OperatorDeregistered}.
    function evict(address operator) external;

    /// @notice Raises the reputation of each operator that signed a result that finalised
    /// unchallenged, by `gainPerResult`, at most `maxGainPerEpoch` per epoch, capped at 10_000.
    /// @dev Requirements: a reporter or the dispute module (which calls it when a result finalises
    /// unchallenged on chain); every operator known. Emits {ReputationUpdated} per operator.
    function recordFinalized(address[] calldata operators) external;

    /// @notice Slashes an operator that signed two different `Result`s for the same
    /// (originChainId, requestId) under one ingestor's EIP-712 domain.
    /// @dev The digest is computed exactly as the InstructionIngestor does (domain "Versatus",
    /// "1", `ingestorChainId`, `ingestor`), so only signatures that ingestor would accept count.
    /// Signatures: 65-byte (r, s, v), low s (OpenZeppelin ECDSA). Slashes
    /// `equivocationSlashBps` of the operator's slashable stake; `submitterRewardBps` of that goes
    /// to the caller, the rest to the treasury; reputation resets to zero.
    /// Requirements: same request; different struct hashes; both signatures valid and by the same
    /// known operator; not already slashed for this request.
    /// Emits {EquivocationSlashed} and {ReputationUpdated}.
    function proveEquivocation(
        Result calldata a,
        bytes calldata sigA,
        Result calldata b,
        bytes calldata sigB,
        uint256 ingestorChainId,
        address ingestor
    ) external;

    /// @notice Registers the caller as a watcher: it may vote in disputes with its slashable stake
    /// as weight.
    /// @dev Requirements: not a watcher; never an operator; slashable stake >= the watcher minimum.
    /// Emits {WatcherRegistered}.
    function registerWatcher() external;

    /// @notice Stops the caller being a watcher. Votes it committed but has not revealed yet no
    /// longer count (a reveal counts at most the weight the voter has then, zero once deregistered).
    /// @dev Requirements: a watcher. Emits {WatcherDeregistered}.
    function deregisterWatcher() external;

    /// @notice Slashes `slashBps` of `operator`'s slashable stake for the fault `faultId` (a
    /// wrong or unavailable result, decided by the dispute module), `rewardBps` of it to
    /// `rewardRecipient` and the rest to the treasury; resets its reputation. Slashing is cut to
    /// what the period's cap still allows. A second call for the same (operator, faultId) does
    /// nothing and returns zeros: no operator is slashed twice for one fault.
    /// @dev Requirements: the dispute module; operator known; slashBps and rewardBps <= 10_000;
    /// non-zero recipient. Emits {FaultSlashed}, {ReputationUpdated} (and {SlashCapped}).
    function slashFault(
        address operator,
        bytes32 faultId,
        uint256 slashBps,
        address rewardRecipient,
        uint256 rewardBps
    ) external returns (uint256 reward, uint256 remainder);

    /// @notice Slashes `slashBps` of a registered watcher's slashable stake to the treasury (a vote
    /// against a dispute's resolved outcome). Returns what was taken.
    /// @dev Requirements: the dispute module.
    function slashWatcher(address watcher, uint256 slashBps) external returns (uint256 taken);

    /// @notice Sum of {watcherWeight} over every registered watcher (the participation base of a dispute vote).
    function totalWatcherWeight() external view returns (uint256);

    /// @notice The one fault id of (originChainId, requestId): every claim kind (equivocation, broken
    /// output rule, wrong result, data unavailable) about one request slashes an operator at most once.
    function faultIdOf(uint256 originChainId, bytes32 requestId) external pure returns (bytes32);

    /// @notice Sets the threshold.
    /// @dev Requirements: owner; >= 1 and a strict majority of the registered operators.
    /// Emits {ThresholdSet}.
    function setThreshold(uint256 newThreshold) external;

    /// @notice Adds or removes a reputation reporter.
    /// @dev Requirements: owner; non-zero. Emits {ReporterSet}.
    function setReporter(address reporter, bool allowed) external;

    /// @notice Sets the required-stake curve.
    /// @dev Requirements: owner; 0 < base; floor <= base; alphaBps <= 10_000. Emits {StakeParamsSet}.
    function setStakeParams(uint256 base, uint256 floor, uint256 alphaBps) external;

    /// @notice Sets the reputation rules (all in basis points, epochs in blocks).
    /// @dev Requirements: owner; epochBlocks > 0; the three rates <= 10_000. Emits {ReputationParamsSet}.
    function setReputationParams(
        uint256 epochBlocks,
        uint256 gainPerResult,
        uint256 maxGainPerEpoch,
        uint256 decayPerEpoch
    ) external;

    /// @notice Sets the equivocation slash, the submitter's share and where the rest goes.
    /// @dev Requirements: owner; 0 < slash <= 10_000; reward <= 10_000; non-zero treasury.
    /// Emits {SlashParamsSet}.
    function setSlashParams(uint256 equivocationSlashBps, uint256 submitterRewardBps, address treasury) external;

    /// @notice Sets the dispute module.
    /// @dev Requirements: owner; non-zero. Emits {DisputeModuleSet}.
    function setDisputeModule(address module) external;

    /// @notice Sets how much stake may be slashed in total per period.
    /// @dev Requirements: owner; periodBlocks > 0; cap < 2^128. Emits {SlashCapSet}.
    function setSlashCap(uint256 capPerPeriod, uint256 periodBlocks) external;

    /// @notice Sets the minimum slashable stake of a watcher.
    /// @dev Requirements: owner. Emits {WatcherMinStakeSet}.
    function setWatcherMinStake(uint256 minimum) external;

    /// @notice The account allowed to {slashFault} and to record finalised results.
    function disputeModule() external view returns (address);

    /// @notice The slash cap, its period, and what is left of it in the current period.
    function slashCap() external view returns (uint256 capPerPeriod, uint256 periodBlocks, uint256 remaining);

    /// @notice Whether `account` is a registered watcher.
    function isWatcher(address account) external view returns (bool);

    /// @notice Minimum slashable stake of a watcher.
    function watcherMinStake() external view returns (uint256);

    /// @notice Voting weight of `account` now: its slashable stake (kept slashable for
    /// `slashableWindowBlocks`) if it is a registered watcher holding at least the minimum, else 0.
    function watcherWeight(address account) external view returns (uint256);

    /// @notice Whether `operator` was slashed for the fault `faultId`.
    function faultSlashed(address operator, bytes32 faultId) external view returns (bool);

    /// @notice Required stake curve: `base`, `floor` (asset units) and `alphaBps`.
    function stakeParams() external view returns (uint256 base, uint256 floor, uint256 alphaBps);

    /// @notice Reputation rules: epoch length in blocks and the per-result gain, per-epoch cap and
    /// per-epoch decay in basis points.
    function reputationParams()
        external
        view
        returns (uint256 epochBlocks, uint256 gainPerResult, uint256 maxGainPerEpoch, uint256 decayPerEpoch);

    /// @notice Equivocation slash (basis points of slashable stake), submitter share (basis points
    /// of the slash) and the treasury that receives the rest.
    function slashParams()
        external
        view
        returns (uint256 equivocationSlashBps, uint256 submitterRewardBps, address treasury);

    /// @notice The adapter holding the stake.
    function adapter() external view returns (IRestakingAdapter);

    /// @notice Blocks an operator's stake must stay slashable for it to count (challenge window
    /// plus escalation).
    function slashableWindowBlocks() external view returns (uint256);

    /// @notice `operator`'s reputation now (basis points, decay applied).
    function reputationOf(address operator) external view returns (uint256);

    /// @notice `operator`'s required stake now.
    function requiredStake(address operator) external view returns (uint256);

    /// @notice Whether `operator` was slashed for equivocating on (originChainId, requestId).
    function equivocationSlashed(
        address operator,
        uint256 originChainId,
        bytes32 requestId
    ) external view returns (bool);

    /// @notice Number of registered operators (active or not).
    function registeredCount() external view returns (uint256);

    /// @notice Whether `operator` is registered (it may still be inactive for lack of stake).
    function isRegistered(address operator) external view returns (bool);
}
