// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IOperatorSet} from "./IOperatorSet.sol";
import {IRestakingAdapter} from "./IRestakingAdapter.sol";
import {Result, Instruction} from "./IInstruction.sol";

/// @notice One fee ledger of the oracle whose signature counts grant reputation (see
/// {IStakingRegistry-accrueReputation}): the ledger key minus the operator set (the registry) and
/// the index (the one the operator held in `epoch`, {IOperatorSet-indexIn}).
struct LedgerRef {
    uint256 assetId;
    uint256 share;
    uint256 epoch;
}

/// @notice A Result with the Instruction[] it commits to, one operator's signature on it (a result
/// signature or a batch attestation with the batch's struct hashes appended, {ResultSignatures}), and the
/// ingestor domain it was signed for (`chainId`, `ingestor`): the evidence of a fraud proof.
struct SignedResult {
    Result result;
    Instruction[] instructions;
    bytes signature;
    uint256 chainId;
    address ingestor;
}

/// @title IStakingRegistry
/// @notice HoneSTake (SPEC 3.5): the staked operator set the InstructionIngestor reads through
/// {IOperatorSet}. An operator is active while the stake its adapter guarantees to keep slashable
/// for `slashableWindow` seconds covers its required stake,
/// `max(floor, base * (1 - alpha * reputation))`; reputation (basis points) rises with the results
/// the oracle's fee ledger counted for it at ingestion once they are past their challenge window
/// ({accrueReputation}), at most `maxGainPerEpoch` per ledger epoch, decays by `decayPerEpoch`
/// each reputation epoch and resets to zero on any slash. Objective faults (equivocation, an
/// unbacked mint, a mint of a token the program does not control) are slashed at once from signed
/// Results alone, with a share to whoever proves them; every fault about one request shares the
/// fault id {faultIdOf}, so an operator is slashed at most once per request. All times are seconds.
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

    /// @notice `operator` is already registered.
    error Staking_AlreadyRegistered(address operator);
    /// @notice `operator` is not registered.
    error Staking_NotRegistered(address operator);
    /// @notice `operator` was never registered.
    error Staking_UnknownOperator(address operator);
    /// @notice An activity snapshot cannot be taken: the adapter's unbonding period leaves no time
    /// beyond the slashable window (a snapshot is valid for `unbondingPeriod - slashableWindow`).
    error Staking_NoSnapshotWindow(uint256 slashableWindow, uint256 unbondingPeriod);
    /// @notice `operator` is not active through `until`: `slashable` is its stake guaranteed
    /// slashable until `until + slashableWindow`, `required` its required stake at `until`'s
    /// reputation (the maximum when it is not registered or owes a slash).
    error Staking_NotActiveThrough(address operator, uint256 until, uint256 slashable, uint256 required);
    /// @notice Every index is held, or was freed during the current ledger epoch (bitmap `cooling`,
    /// bit i for index i) and may be given to a new operator only from epoch `freeFromEpoch` on.
    error Staking_RegistryFull(uint256 cooling, uint256 freeFromEpoch);
    /// @notice `operator`'s slashable stake is below its required stake.
    error Staking_InsufficientStakeForRegistration(address operator, uint256 slashable, uint256 required);
    /// @notice The threshold must be >= 1 and a strict majority of the registered operators.
    error Staking_InvalidThreshold(uint256 threshold, uint256 registeredCount);
    /// @notice Invalid required-stake parameters (need 0 < base, floor <= base, alpha <= 10_000).
    error Staking_InvalidStakeParams(uint256 base, uint256 floor, uint256 alphaBps);
    /// @notice Invalid reputation parameters (need epochLength > 0 seconds, gains and decay <= 10_000).
    error Staking_InvalidReputationParams(
        uint256 epochLength,
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
    /// @notice `operator` was already slashed for a fault about this request ({faultIdOf}).
    error Staking_AlreadySlashed(address operator, uint256 originChainId, bytes32 requestId);
    /// @notice The slashable window (seconds) must be > 0 and at most the adapter's unbonding period.
    error Staking_InvalidSlashableWindow(uint256 slashableWindow, uint256 unbondingPeriod);
    /// @notice At most `max` watchers may be registered at once (the participation base is summed over them).
    error Staking_TooManyWatchers(uint256 max);
    /// @notice `account` never registered as a watcher.
    error Staking_NeverWatcher(address account);
    /// @notice The fee ledger was already set, once and for all.
    error Staking_LedgerAlreadySet(address ledger);
    /// @notice The fee ledger is not set yet.
    error Staking_LedgerNotSet();
    /// @notice The ledger's epoch length differs from the registry's.
    error Staking_LedgerEpochMismatch(uint256 ledgerEpoch, uint256 expected);
    /// @notice Ledger epoch `epoch` matures (is over and past the slashable window) at `maturesAt`.
    error Staking_NotMatured(uint256 epoch, uint256 maturesAt, uint256 nowTime);
    /// @notice Ledger epoch `epoch` began at or before `operator`'s last slash (`slashedAt`).
    error Staking_EpochBeforeSlash(address operator, uint256 epoch, uint256 slashedAt);
    /// @notice `operator` held no index in ledger epoch `epoch`.
    error Staking_NoIndexInEpoch(address operator, uint256 epoch);
    /// @notice This ledger of `operator` already granted reputation.
    error Staking_AlreadyAccrued(address operator, uint256 assetId, uint256 share, uint256 epoch);
    /// @notice `operator` may not be evicted: what it lacks was taken by disputes (a subjective
    /// fault), so it is only inactive until it tops up or leaves.
    error Staking_NotEvictable(address operator, uint256 slashable, uint256 disputeSlashed, uint256 required);
    /// @notice Nothing of `operator`'s owed slash can be collected now (`owed` owed, `capLeft` left in the period).
    error Staking_NothingToCollect(address operator, uint256 owed, uint256 capLeft);
    /// @notice Result `which` (0 = origin, 1.. = destinations) was not signed by the operator of the
    /// first signature (`signer` recovered instead).
    error Staking_SignerMismatch(uint256 which, address operator, address signer);
    /// @notice Result `which`'s Instruction[] does not hash to its instructionsHash.
    error Staking_InstructionsMismatch(uint256 which, bytes32 instructionsHash, bytes32 computed);
    /// @notice Result `which` is not for the origin's request, or (origin) not signed on its origin
    /// chain, or (destinations) not on strictly ascending chains other than the origin's.
    error Staking_NotOneRequest(uint256 which);
    /// @notice The Results mint no token beyond what the origin burned of it.
    error Staking_MintsBacked();
    /// @notice Instruction `index` is no MINT or BURN of a token `programId` does not control here.
    error Staking_NotForeignMint(uint256 index, address token, bytes32 programId);
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
    /// @notice Invalid slash cap (need period > 0 seconds and a cap below 2^128).
    error Staking_InvalidSlashCap(uint256 capPerPeriod, uint256 period);
    /// @notice `operator` still covers its required stake: it cannot be evicted.
    error Staking_StillActive(address operator, uint256 slashable, uint256 required);
    /// @notice A reward share above 10_000 basis points.
    error Staking_InvalidRewardBps(uint256 rewardBps);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice Emitted when `operator` registers, holding `index` from ledger epoch `epoch` on.
    event OperatorRegistered(address indexed operator, uint8 index, uint256 epoch);
    /// @notice Emitted when `operator` deregisters: it held `index` until ledger epoch `epoch`
    /// (inclusive); a new operator may take the index from the next epoch on, `operator` at once.
    event OperatorDeregistered(address indexed operator, uint8 index, uint256 epoch);
    /// @notice Emitted when `by` evicts `operator`, registered without the stake it needs for an
    /// objective reason (stake withdrawn or unbonding, an objective fault, a debt owed).
    event OperatorEvicted(address indexed operator, address indexed by, uint256 slashable, uint256 required);
    /// @notice Emitted when the threshold changes.
    event ThresholdSet(uint256 previous, uint256 current);
    /// @notice Emitted when {snapshotActive} proved `operator` active until `until`: `slashable`
    /// stake stays slashable until `until + slashableWindow`, at least its `required` stake then.
    event ActiveSnapshot(address indexed operator, uint256 until, uint256 slashable, uint256 required);
    /// @notice Emitted when the stake or reputation rules change: every activity snapshot taken
    /// under an older `rulesVersion` stops counting.
    event SnapshotsInvalidated(uint256 rulesVersion);
    /// @notice Emitted when the fee ledger (the oracle) whose counts grant reputation is set.
    event LedgerSet(address indexed ledger);
    /// @notice Emitted when `operator` gains `gained` reputation from ledger (assetId, share, epoch),
    /// which counted `count` results it signed.
    event ReputationAccrued(
        address indexed operator,
        uint256 indexed epoch,
        uint256 assetId,
        uint256 share,
        uint256 count,
        uint256 gained
    );
    /// @notice Emitted when `watcher` loses `taken` of its stake (`slashBps` of it) to the treasury.
    event WatcherSlashed(address indexed watcher, uint256 slashBps, uint256 taken);
    /// @notice Emitted when `by` collects `collected` of `operator`'s owed slash for the treasury.
    event OwedSlashCollected(address indexed operator, address indexed by, uint256 collected, uint256 owed);
    /// @notice Emitted when `operator` is slashed for an objective fault other than equivocation:
    /// `kind` 0 = an unbacked mint, 1 = a mint or burn of a token the program does not control.
    event FraudSlashed(
        address indexed operator,
        uint256 indexed originChainId,
        bytes32 indexed requestId,
        uint8 kind,
        address submitter,
        uint256 reward,
        uint256 remainder
    );
    /// @notice Emitted when the required-stake parameters change.
    event StakeParamsSet(uint256 base, uint256 floor, uint256 alphaBps);
    /// @notice Emitted when the reputation parameters change.
    event ReputationParamsSet(
        uint256 epochLength,
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
    /// in total per `period` seconds (what a slash wants beyond it stays owed, {collectOwedSlash}).
    event SlashCapSet(uint256 capPerPeriod, uint256 period);
    /// @notice Emitted when a slash was cut down to what the period's cap still allowed: the
    /// operator owes `wanted - allowed` more ({owedSlash}), collected as the cap refills.
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

    /// @notice Registers the caller as an operator. It takes back its last index at once if no one
    /// held it since; otherwise a never-used index, else one freed in an earlier ledger epoch (so
    /// {IOperatorSet-indexIn} names one holder per index per epoch and a deregistration frees its
    /// index for others from the next epoch on: cycling addresses cannot fill the set for good).
    /// @dev Requirements: not registered; not a watcher; no owed slash; slashable stake >= required
    /// stake; a free index; the threshold stays a strict majority of the registered operators.
    /// Emits {OperatorRegistered}.
    function register() external;

    /// @notice Deregisters the caller; its index cools down until the next ledger epoch.
    /// @dev Requirements: registered. Emits {OperatorDeregistered}.
    function deregister() external;

    /// @notice Deregisters `operator` when it lacks its required stake for an objective reason:
    /// stake withdrawn or unbonding, an objective fault (equivocation, fraud proof), or a slash
    /// debt from one. An operator that lacks stake only because disputes slashed it (a subjective
    /// fault that a bought vote could fake) cannot be evicted by strangers: it is inactive until it
    /// tops up or leaves, and its seat still counts under the threshold rule.
    /// @dev Requirements: `operator` registered, inactive, and `objectiveFault` or
    /// `slashable + disputeSlashed < required`. Emits {OperatorEvicted} and {OperatorDeregistered}.
    function evict(address operator) external;

    /// @notice Grants `operator` reputation for the results the oracle's fee ledger counted for the
    /// index it held in each ledger: `gainPerResult` per result, at most `maxGainPerEpoch` per ledger
    /// epoch, capped at 10_000. Anyone may call it; the counts come from the ingestion itself (one
    /// per signer per result), so nobody earns reputation for results it did not sign then.
    /// @dev Requirements: the ledger set; operator known; every ref's epoch over and past the
    /// slashable window (`(epoch + 1) * LEDGER_EPOCH + slashableWindow <= now`), begun after the
    /// operator's last slash, with an index held by the operator, and not accrued before.
    /// Emits {ReputationAccrued} per ref and {ReputationUpdated}.
    function accrueReputation(address operator, LedgerRef[] calldata refs) external;

    /// @notice {accrueReputation} of `refs` for each of `operators` in one transaction (the signers
    /// of a ledger usually accrue the same ledgers once an epoch matures: one call instead of one
    /// per operator).
    /// @dev Requirements: those of {accrueReputation}, for every operator; any failure reverts all.
    /// Emits what {accrueReputation} emits, per operator.
    function accrueReputationMany(address[] calldata operators, LedgerRef[] calldata refs) external;

    /// @notice Slashes an operator that signed two different `Result`s for the same
    /// (originChainId, requestId) under one ingestor's EIP-712 domain.
    /// @dev The digest is computed exactly as the InstructionIngestor does (domain "Versatus",
    /// "1", `ingestorChainId`, `ingestor`), so only signatures that ingestor would accept count.
    /// Signatures: 65-byte (r, s, v), low s (OpenZeppelin ECDSA), each a result signature or a
    /// batch attestation with its batch's struct hashes appended ({ResultSignatures}). Slashes
    /// `equivocationSlashBps` of the operator's slashable stake; `submitterRewardBps` of that goes
    /// to the caller, the rest to the treasury; reputation resets to zero.
    /// Requirements: same request; different struct hashes; both signatures valid and by the same
    /// known operator; not already slashed for this request ({faultIdOf}).
    /// Emits {EquivocationSlashed} and {ReputationUpdated}.
    function proveEquivocation(
        Result calldata a,
        bytes calldata sigA,
        Result calldata b,
        bytes calldata sigB,
        uint256 ingestorChainId,
        address ingestor
    ) external;

    /// @notice Slashes an operator whose signed Results of one request mint some token, on all the
    /// chains presented together, beyond what the origin Result burned of it (SPEC 3.4): a BURN
    /// counts for the token it names as `target`, a MINT for `abi.decode(data, (address))`; only
    /// status-OK Results count. Slashed like equivocation, reward to the caller.
    /// @param origin The Result signed for the origin chain's ingestor (`chainId == originChainId`).
    /// @param destinations Results of the same request signed for other chains' ingestors, on
    /// strictly ascending chain ids (so none counts twice).
    /// @dev Requirements: every signature valid and by one known operator; every Instruction[]
    /// hashing to its Result's instructionsHash; some token over-minted; not already slashed for
    /// this request. Emits {FraudSlashed} (kind 0) and {ReputationUpdated}.
    function proveUnbackedMint(SignedResult calldata origin, SignedResult[] calldata destinations) external;

    /// @notice Slashes an operator that signed a status-OK Result whose instruction `index` is a
    /// MINT or BURN of a token that does not name the Result's program as a controller
    /// (`IOmniToken(token).isController(programId)` false on this chain; controllers are the same
    /// on every chain). Slashed like equivocation, reward to the caller.
    /// @dev Requirements: valid signature by a known operator; instructions matching the hash;
    /// not already slashed for this request. Emits {FraudSlashed} (kind 1) and {ReputationUpdated}.
    function proveForeignMint(SignedResult calldata signed, uint256 index) external;

    /// @notice Registers the caller as a watcher: it may vote in disputes with its slashable stake
    /// as weight, and that stake is at risk ({slashWatcher}).
    /// @dev Requirements: not a watcher; never an operator; slashable stake >= the watcher minimum;
    /// fewer than 64 watchers. Emits {WatcherRegistered}.
    function registerWatcher() external;

    /// @notice Stops the caller being a watcher. Votes it committed but has not revealed yet no
    /// longer count; it stays slashable by {slashWatcher} (for votes it already revealed) while its
    /// stake is in the adapter.
    /// @dev Requirements: a watcher. Emits {WatcherDeregistered}.
    function deregisterWatcher() external;

    /// @notice Slashes `slashBps` of `operator`'s slashable stake for the fault `faultId` (a
    /// wrong or unavailable result, decided by the dispute module), `rewardBps` of it to
    /// `rewardRecipient` and the rest to the treasury; resets its reputation. What the period's cap
    /// does not allow now stays owed ({owedSlash}, {collectOwedSlash}). A second call for the same
    /// (operator, faultId) does nothing and returns zeros: no operator is slashed twice for one fault.
    /// What this takes counts as subjective for {evict}.
    /// @dev Requirements: the dispute module; operator known; slashBps and rewardBps <= 10_000;
    /// non-zero recipient. Emits {FaultSlashed}, {ReputationUpdated} (and {SlashCapped}).
    function slashFault(
        address operator,
        bytes32 faultId,
        uint256 slashBps,
        address rewardRecipient,
        uint256 rewardBps
    ) external returns (uint256 reward, uint256 remainder);

    /// @notice Slashes `slashBps` of a watcher's slashable stake to the treasury (a vote against a
    /// dispute's resolved outcome). Returns what was taken. Not counted against the slash cap.
    /// @dev Requirements: the dispute module; `watcher` registered as a watcher at some point;
    /// slashBps <= 10_000. Emits {WatcherSlashed}.
    function slashWatcher(address watcher, uint256 slashBps) external returns (uint256 taken);

    /// @notice Takes what the slash cap now allows of `operator`'s owed slash, for the treasury.
    /// Anyone may call it (keepers, the treasury, the next challenger).
    /// @dev Requirements: something owed and some cap left. Emits {OwedSlashCollected}.
    function collectOwedSlash(address operator) external returns (uint256 collected);

    /// @notice Sum of {watcherWeight} over every registered watcher (the participation base of a dispute vote).
    function totalWatcherWeight() external view returns (uint256);

    /// @notice The one fault id of (originChainId, requestId): every claim kind (equivocation, broken
    /// output rule, wrong result, data unavailable) about one request slashes an operator at most once.
    function faultIdOf(uint256 originChainId, bytes32 requestId) external pure returns (bytes32);

    /// @notice Sets the threshold.
    /// @dev Requirements: owner; >= 1 and a strict majority of the registered operators.
    /// Emits {ThresholdSet}.
    function setThreshold(uint256 newThreshold) external;

    /// @notice Sets the fee ledger (the ExecutableOracle) whose signature counts grant reputation, once.
    /// @dev Requirements: owner; not set; non-zero; its LEDGER_EPOCH equals the registry's.
    /// Emits {LedgerSet}.
    function setLedger(address ledger) external;

    /// @notice Sets the required-stake curve.
    /// @dev Requirements: owner; 0 < base; floor <= base; alphaBps <= 10_000. Emits {StakeParamsSet}.
    function setStakeParams(uint256 base, uint256 floor, uint256 alphaBps) external;

    /// @notice Sets the reputation rules (rates in basis points; the decay epoch in seconds; the
    /// gain cap applies per ledger epoch).
    /// @dev Requirements: owner; epochLength > 0; the three rates <= 10_000. Emits {ReputationParamsSet}.
    function setReputationParams(
        uint256 epochLength,
        uint256 gainPerResult,
        uint256 maxGainPerEpoch,
        uint256 decayPerEpoch
    ) external;

    /// @notice Sets the objective-fault slash, the submitter's share and where the rest goes.
    /// @dev Requirements: owner; 0 < slash <= 10_000; reward <= 10_000; non-zero treasury.
    /// Emits {SlashParamsSet}.
    function setSlashParams(uint256 equivocationSlashBps, uint256 submitterRewardBps, address treasury) external;

    /// @notice Sets the dispute module.
    /// @dev Requirements: owner; non-zero. Emits {DisputeModuleSet}.
    function setDisputeModule(address module) external;

    /// @notice Sets how much stake may be slashed in total per period (seconds).
    /// @dev Requirements: owner; period > 0; cap < 2^128. Emits {SlashCapSet}.
    function setSlashCap(uint256 capPerPeriod, uint256 period) external;

    /// @notice Sets the minimum slashable stake of a watcher.
    /// @dev Requirements: owner. Emits {WatcherMinStakeSet}.
    function setWatcherMinStake(uint256 minimum) external;

    /// @notice The account allowed to {slashFault} and {slashWatcher}.
    function disputeModule() external view returns (address);

    /// @notice The fee ledger (the oracle) {accrueReputation} reads, or zero before {setLedger}.
    function ledger() external view returns (address);

    /// @notice The slash cap, its period (seconds), and what is left of it in the current period.
    function slashCap() external view returns (uint256 capPerPeriod, uint256 period, uint256 remaining);

    /// @notice Slash `operator` still owes: wanted by a slash beyond the cap and not collected yet.
    /// While it owes, it is inactive and the adapter keeps that much of its stake.
    function owedSlash(address operator) external view returns (uint256);

    /// @notice Whether `account` is a registered watcher.
    function isWatcher(address account) external view returns (bool);

    /// @notice Minimum slashable stake of a watcher.
    function watcherMinStake() external view returns (uint256);

    /// @notice Voting weight of `account` now: its slashable stake (kept slashable for
    /// `slashableWindow`) if it is a registered watcher holding at least the minimum, else 0.
    function watcherWeight(address account) external view returns (uint256);

    /// @notice Whether `operator` was slashed for the fault `faultId`.
    function faultSlashed(address operator, bytes32 faultId) external view returns (bool);

    /// @notice Required stake curve: `base`, `floor` (asset units) and `alphaBps`.
    function stakeParams() external view returns (uint256 base, uint256 floor, uint256 alphaBps);

    /// @notice Reputation rules: decay epoch length in seconds and the per-result gain, per-ledger-epoch
    /// cap and per-epoch decay in basis points.
    function reputationParams()
        external
        view
        returns (uint256 epochLength, uint256 gainPerResult, uint256 maxGainPerEpoch, uint256 decayPerEpoch);

    /// @notice Objective-fault slash (basis points of slashable stake), submitter share (basis points
    /// of the slash) and the treasury that receives the rest.
    function slashParams()
        external
        view
        returns (uint256 equivocationSlashBps, uint256 submitterRewardBps, address treasury);

    /// @notice The adapter holding the stake.
    function adapter() external view returns (IRestakingAdapter);

    /// @notice Seconds an operator's stake must stay slashable for it to count (challenge window
    /// plus the longest dispute); at most the adapter's unbonding period.
    function slashableWindow() external view returns (uint256);

    /// @notice `operator`'s reputation now (basis points, decay applied).
    function reputationOf(address operator) external view returns (uint256);

    /// @notice `operator`'s required stake now.
    function requiredStake(address operator) external view returns (uint256);

    /// @notice Whether `operator` was slashed for a fault about (originChainId, requestId)
    /// (equivocation or any other: they share {faultIdOf}).
    function equivocationSlashed(
        address operator,
        uint256 originChainId,
        bytes32 requestId
    ) external view returns (bool);

    /// @notice Number of registered operators (active or not).
    function registeredCount() external view returns (uint256);

    /// @notice Whether `operator` is registered (it may still be inactive for lack of stake).
    function isRegistered(address operator) external view returns (bool);

    /// @notice Proves each of `operators_` active until `until` = now + (the adapter's unbonding
    /// period - the slashable window) - 1, so that {IOperatorSet-checkSigners} accepts its signatures
    /// until then without asking the adapter (the ingest's per-signer stake reads). Anyone may call
    /// it (a poster or a keeper, before the snapshot runs out).
    /// @dev Sound because stake the adapter counts in `slashableStake(op, until + slashableWindow)`
    /// stays locked past then, and stake unbonded after the snapshot unlocks at now + unbonding or
    /// later, past the window of any signature accepted up to `until` (the adapter's guarantee; the registry is its only slasher), and
    /// the required stake is taken at the reputation `until`'s decay epoch leaves, the highest it
    /// can be before `until` (only a slash lowers reputation faster). Every rule that could make
    /// the snapshot wrong ends it: a slash of the operator (any kind), deregistration, eviction,
    /// re-registration, a debt collected, and a change of the stake or reputation rules (all
    /// snapshots). Requirements: the window is not empty; every operator registered, owing
    /// nothing and active through `until`. Emits {ActiveSnapshot} per operator.
    /// @return until The last second (inclusive) the snapshots count.
    function snapshotActive(address[] calldata operators_) external returns (uint256 until);

    /// @notice The last second `operator`'s activity snapshot counts (0 if it has none that counts).
    function activeUntil(address operator) external view returns (uint256);
}
