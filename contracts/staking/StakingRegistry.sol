// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IOperatorSet} from "../interfaces/IOperatorSet.sol";
import {IStakingRegistry, LedgerRef, SignedResult} from "../interfaces/IStakingRegistry.sol";
import {IRestakingAdapter} from "../interfaces/IRestakingAdapter.sol";
import {IDisperser} from "../interfaces/IDisperser.sol";
import {IOmniToken} from "../interfaces/IOmniToken.sol";
import {Result, Instruction, Ops, ResultTypedData} from "../interfaces/IInstruction.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {ResultSignatures} from "../core/ResultSignatures.sol";
import {EpochAccrual, EpochAccrualLib} from "./EpochAccrual.sol";
import {Tenure, TenureLib} from "./Tenure.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";

/// @title StakingRegistry
/// @notice HoneSTake operator set (SPEC 3.5): staked operators with reputation-discounted required
/// stake, read by the InstructionIngestor through {IOperatorSet}; reputation from the oracle's fee
/// ledger; objective-fault slashing (equivocation, unbacked and foreign mints); watchers whose
/// stake is at risk; a slash cap whose excess stays owed.
/// @dev See {IStakingRegistry} for the threshold rule. All times are seconds (block timestamps).
/// Design choices against the attacks of issue 10:
/// - Indices are recycled, never within one ledger epoch (case 5): a deregistered operator's index
///   cools down until the next ledger epoch, then any new operator may take it; {indexIn} reads
///   each operator's tenures. Filling all 256 indices for the rest of one epoch needs 256 staked
///   addresses (each covering the base stake, locked for the unbonding period); nothing stays full
///   for good, and the threshold rule bounds how many may be registered at once.
/// - A capped slash is not forgiven (case 3): the excess stays owed ({owedSlash}); while it owes,
///   the operator is inactive, cannot withdraw the owed part from the adapter and cannot register,
///   and anyone collects it when the cap refills ({collectOwedSlash}). Colluders that spend the cap
///   on themselves only delay the collection from a guilty operator, they do not shield it.
/// - {evict} only for objective reasons (case 2): stake taken by disputes is remembered
///   (`_disputeSlashed`), and an operator lacking stake only for that reason keeps its seat.
/// - No reentrancy guard: every slash settles all its effects before its one interaction, a call
///   to the immutable adapter, which pays at most one reward (bounded gas) and credits the rest;
///   a recipient that re-enters can only start another, independent proof or collection.
contract StakingRegistry is IStakingRegistry, Ownable2Step {
    using EpochAccrualLib for EpochAccrual;
    using TenureLib for Tenure;
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @dev One slot per operator. `reputation` is as of decay epoch `lastEpoch` (decay not yet
    /// applied). `owes`: {owedSlash} is non-zero (kept here so the ingestor's hot path reads one
    /// slot). `objectiveFault`: slashed for an objective fault since it last registered.
    struct Member {
        uint8 index;
        bool known;
        bool registered;
        bool owes;
        bool objectiveFault;
        uint16 reputation;
        uint64 lastEpoch;
        uint40 lastSlashedAt;
        // activity snapshot ({snapshotActive}): counts until `activeUntil` (inclusive) under rules `activeRules`
        uint40 activeUntil;
        uint32 activeRules;
    }

    /// @notice Constructor argument: the required-stake curve.
    struct StakeConfig {
        uint256 base;
        uint256 floor;
        uint256 alphaBps;
    }

    /// @notice Constructor argument: the reputation rules (decay epoch in seconds).
    struct ReputationConfig {
        uint256 epochLength;
        uint256 gainPerResult;
        uint256 maxGainPerEpoch;
        uint256 decayPerEpoch;
    }

    /// @notice Constructor argument: the objective-fault slash and the cap on all slashing (period
    /// in seconds).
    struct SlashConfig {
        uint256 equivocationSlashBps;
        uint256 submitterRewardBps;
        address treasury;
        uint256 capPerPeriod;
        uint256 capPeriod;
    }

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice The oracle's fee-ledger epoch (seconds, {IDisperser-LEDGER_EPOCH}): index tenures and
    /// reputation maturity are counted in it. {setLedger} checks the ledger agrees.
    uint256 public constant LEDGER_EPOCH = 1 hours;
    /// @dev At most this many registered watchers: {totalWatcherWeight} sums over all of them.
    uint256 internal constant MAX_WATCHERS = 64;

    uint256 internal constant BPS = 10_000;
    uint256 internal constant MAX_OPERATORS = 256;
    /// @dev A tenure still running ends at this epoch.
    uint256 internal constant OPEN = type(uint40).max;
    uint8 internal constant KIND_UNBACKED_MINT = 0;
    uint8 internal constant KIND_FOREIGN_MINT = 1;

    /*//////////////////////////////////////////////////////////////
                               IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IStakingRegistry
    IRestakingAdapter public immutable adapter;
    /// @inheritdoc IStakingRegistry
    uint256 public immutable slashableWindow;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Required-stake curve, one slot.
    struct Curve {
        uint128 base;
        uint128 floor;
    }

    /// @dev Reputation and slashing rates (basis points; decay epoch in seconds), one slot.
    struct Rates {
        uint64 epochLength;
        uint16 alphaBps;
        uint16 gainPerResult;
        uint16 maxGainPerEpoch;
        uint16 decayPerEpoch;
        uint16 equivocationSlashBps;
        uint16 submitterRewardBps;
    }

    /// @dev The slash cap and how much of it the current period used, one slot each.
    struct CapRule {
        uint128 capPerPeriod;
        uint64 period;
    }

    /// @dev `periodPlusOne` is never zero once set (from the constructor on), so booking a slash
    /// rewrites a live slot instead of creating one.
    struct CapUse {
        uint128 slashed;
        uint64 periodPlusOne;
    }

    /// @dev Indices that nobody holds: `free` may go to anyone; `cooling` were freed during ledger
    /// epoch `coolingEpoch` and go to their last holder only, until a later epoch moves them to `free`.
    struct IndexPool {
        uint256 free;
        uint256 cooling;
        uint256 coolingEpoch;
    }

    mapping(address operator => Member) private _members;
    mapping(bytes32 operatorFault => bool) private _faultSlashed;
    /// @dev Per operator, its index tenures ({Tenure}: index, first and last ledger epoch), in order.
    mapping(address operator => Tenure[]) private _tenures;
    /// @dev (operator, assetId, share, epoch) ledgers that already granted reputation, beyond the
    /// three an {EpochAccrual} slot marks itself.
    mapping(bytes32 ledgerKey => bool) private _accrued;
    /// @dev Per (operator, ledger epoch): the reputation gained (for the per-epoch cap) and the
    /// first three ledgers that granted it, in one slot.
    mapping(bytes32 operatorEpoch => EpochAccrual) private _epochAccrual;
    /// @dev Stake taken by dispute slashes since the operator last registered (subjective).
    mapping(address operator => uint256) private _disputeSlashed;
    /// @inheritdoc IStakingRegistry
    mapping(address operator => uint256) public owedSlash;
    /// @inheritdoc IStakingRegistry
    mapping(address account => bool) public isWatcher;
    /// @notice Whether `account` ever registered as a watcher ({slashWatcher} reaches it afterwards too).
    mapping(address account => bool) public wasWatcher;
    /// @dev Position + 1 of each registered watcher in `_watchers`.
    mapping(address account => uint256) private _watcherSlot;
    address[] private _watchers;
    /// @notice The current (or last) holder of each index, by index.
    address[] public operators;
    /// @dev The signature threshold and the version of the stake rules activity snapshots are
    /// taken under: one slot, which {checkSigners} reads once.
    struct SignerRules {
        uint128 threshold;
        uint32 rulesVersion;
    }

    SignerRules internal _signerRules;
    /// @inheritdoc IStakingRegistry
    uint256 public registeredCount;
    /// @inheritdoc IStakingRegistry
    address public disputeModule;
    /// @inheritdoc IStakingRegistry
    address public ledger;
    /// @inheritdoc IStakingRegistry
    uint256 public watcherMinStake;
    address internal _treasury;
    Curve internal _curve;
    Rates internal _rates;
    CapRule internal _capRule;
    CapUse internal _capUse;
    IndexPool internal _pool;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param slashableWindow_ Seconds: the challenge window plus the longest dispute. Stake counts
    /// only if it stays slashable that long; at most `adapter_.unbondingPeriod()`.
    constructor(
        address initialOwner,
        IRestakingAdapter adapter_,
        uint256 slashableWindow_,
        uint256 initialThreshold,
        StakeConfig memory stake,
        ReputationConfig memory rep,
        SlashConfig memory slashing
    ) Ownable(initialOwner) {
        if (address(adapter_) == address(0)) revert Staking_ZeroAddress();
        uint256 unbonding = adapter_.unbondingPeriod();
        if (slashableWindow_ == 0 || slashableWindow_ > unbonding) {
            revert Staking_InvalidSlashableWindow(slashableWindow_, unbonding);
        }
        adapter = adapter_;
        slashableWindow = slashableWindow_;
        _setThreshold(initialThreshold);
        _setStakeParams(stake.base, stake.floor, stake.alphaBps);
        _setReputationParams(rep.epochLength, rep.gainPerResult, rep.maxGainPerEpoch, rep.decayPerEpoch);
        _setSlashParams(slashing.equivocationSlashBps, slashing.submitterRewardBps, slashing.treasury);
        _setSlashCap(slashing.capPerPeriod, slashing.capPeriod);
        _capUse = CapUse(0, uint64(block.timestamp / slashing.capPeriod) + 1);
    }

    /*//////////////////////////////////////////////////////////////
                          EXTERNAL: OPERATORS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IStakingRegistry
    function register() external {
        Member memory m = _members[msg.sender];
        if (m.registered) revert Staking_AlreadyRegistered(msg.sender);
        if (isWatcher[msg.sender]) revert Staking_WatcherCannotOperate(msg.sender);
        uint256 slashable = _slashable(msg.sender);
        // an operator that owes a slash is short of its stake until it is collected
        uint256 required = m.owes ? type(uint256).max : _required(m);
        if (slashable < required) revert Staking_InsufficientStakeForRegistration(msg.sender, slashable, required);
        uint256 count = registeredCount + 1;
        uint256 threshold_ = _signerRules.threshold;
        if (2 * threshold_ <= count) revert Staking_InvalidThreshold(threshold_, count);

        uint256 epoch = block.timestamp / LEDGER_EPOCH;
        IndexPool memory pool = _rolledPool(epoch);
        Tenure[] storage tenures = _tenures[msg.sender];
        if (m.known && operators[m.index] == msg.sender) {
            // its own index, held by nobody since: take it back at once (one holder per epoch still)
            uint256 bit = 1 << m.index;
            pool.free &= ~bit;
            pool.cooling &= ~bit;
            tenures.push(TenureLib.pack(m.index, epoch, OPEN));
        } else {
            uint256 index;
            if (operators.length < MAX_OPERATORS) {
                index = operators.length;
                operators.push(msg.sender);
            } else {
                if (pool.free == 0) revert Staking_RegistryFull(pool.cooling, epoch + 1);
                index = _lowestBit(pool.free);
                pool.free &= ~(1 << index);
                operators[index] = msg.sender;
            }
            if (!m.known) {
                m.known = true;
                m.lastEpoch = uint64(_epoch());
            }
            m.index = uint8(index);
            tenures.push(TenureLib.pack(index, epoch, OPEN));
        }
        _pool = pool;
        m.registered = true;
        m.activeUntil = 0; // a snapshot of an earlier registration never carries over
        // a fresh start: stake history of the last registration no longer decides evictions
        m.objectiveFault = false;
        if (_disputeSlashed[msg.sender] != 0) _disputeSlashed[msg.sender] = 0;
        _members[msg.sender] = m;
        registeredCount = count;
        emit OperatorRegistered(msg.sender, m.index, epoch);
    }

    /// @inheritdoc IStakingRegistry
    function deregister() external {
        Member storage m = _members[msg.sender];
        if (!m.registered) revert Staking_NotRegistered(msg.sender);
        _leave(msg.sender, m);
    }

    /// @inheritdoc IStakingRegistry
    function evict(address operator) external {
        Member storage m = _members[operator];
        if (!m.registered) revert Staking_NotRegistered(operator);
        uint256 slashable = _slashable(operator);
        uint256 required = _required(m);
        if (!m.owes && slashable >= required) revert Staking_StillActive(operator, slashable, required);
        if (!m.objectiveFault) {
            // only what disputes took is forgiven here: would it still be short without them?
            uint256 disputed = _disputeSlashed[operator];
            if (slashable + disputed >= required) {
                revert Staking_NotEvictable(operator, slashable, disputed, required);
            }
        }
        emit OperatorEvicted(operator, msg.sender, slashable, required);
        _leave(operator, m);
    }

    /// @inheritdoc IStakingRegistry
    function accrueReputation(address operator, LedgerRef[] calldata refs) public {
        address ledger_ = ledger;
        if (ledger_ == address(0)) revert Staking_LedgerNotSet();
        Member memory m = _members[operator];
        if (!m.known) revert Staking_UnknownOperator(operator);
        uint256 decayEpoch = _epoch();
        uint256 rep = _reputation(m, decayEpoch);
        Rates memory rates = _rates;
        for (uint256 i; i < refs.length; ++i) {
            rep = _accrueOne(operator, refs[i], m.lastSlashedAt, ledger_, rep, rates);
        }
        // rep <= BPS fits u16
        m.reputation = uint16(rep);
        m.lastEpoch = uint64(decayEpoch);
        _members[operator] = m;
        emit ReputationUpdated(operator, rep);
    }

    /// @inheritdoc IStakingRegistry
    function accrueReputationMany(address[] calldata operators_, LedgerRef[] calldata refs) external {
        for (uint256 i; i < operators_.length; ++i) accrueReputation(operators_[i], refs);
    }

    /// @inheritdoc IStakingRegistry
    function proveEquivocation(
        Result calldata a,
        bytes calldata sigA,
        Result calldata b,
        bytes calldata sigB,
        uint256 ingestorChainId,
        address ingestor
    ) external {
        address operator = _equivocator(a, sigA, b, sigB, ingestorChainId, ingestor);
        (uint256 reward, uint256 remainder) = _slashObjective(operator, a.originChainId, a.requestId);
        emit EquivocationSlashed(operator, a.originChainId, a.requestId, msg.sender, reward, remainder);
    }

    /// @inheritdoc IStakingRegistry
    function proveUnbackedMint(SignedResult calldata origin, SignedResult[] calldata destinations) external {
        // ---- checks: one request, one signer, the preimages
        Result calldata o = origin.result;
        if (origin.chainId != o.originChainId) revert Staking_NotOneRequest(0);
        address operator = _signerOf(origin, 0);
        if (!_members[operator].known) revert Staking_UnknownOperator(operator);
        // per token: minted on every chain presented and burned on the origin, each summed
        // exactly and saturating at 2^256 - 1 (a signed amount is arbitrary; burns that large
        // could never execute, mints that large are unbacked either way)
        address[] memory tokens = new address[](_instructionCount(origin, destinations));
        uint256[] memory minted = new uint256[](tokens.length);
        uint256[] memory burned = new uint256[](tokens.length);
        uint256 n = _tally(origin.instructions, o.status, true, tokens, minted, burned, 0);
        uint256 lastChain;
        for (uint256 i; i < destinations.length; ++i) {
            SignedResult calldata d = destinations[i];
            Result calldata r = d.result;
            // strictly ascending destination chains, none the origin: no Result counts twice
            if (
                r.requestId != o.requestId ||
                r.originChainId != o.originChainId ||
                d.chainId == o.originChainId ||
                d.chainId <= lastChain
            ) revert Staking_NotOneRequest(i + 1);
            lastChain = d.chainId;
            address signer = _signerOf(d, i + 1);
            if (signer != operator) revert Staking_SignerMismatch(i + 1, operator, signer);
            n = _tally(d.instructions, r.status, false, tokens, minted, burned, n);
        }
        bool unbacked;
        for (uint256 t; t < n; ++t) {
            if (minted[t] > burned[t]) {
                unbacked = true;
                break;
            }
        }
        if (!unbacked) revert Staking_MintsBacked();
        // ---- effects and the one interaction
        (uint256 reward, uint256 remainder) = _slashObjective(operator, o.originChainId, o.requestId);
        emit FraudSlashed(operator, o.originChainId, o.requestId, KIND_UNBACKED_MINT, msg.sender, reward, remainder);
    }

    /// @inheritdoc IStakingRegistry
    function proveForeignMint(SignedResult calldata signed, uint256 index) external {
        Result calldata r = signed.result;
        address operator = _signerOf(signed, 0);
        if (!_members[operator].known) revert Staking_UnknownOperator(operator);
        if (index >= signed.instructions.length || r.status != Ops.STATUS_OK) {
            revert Staking_NotForeignMint(index, address(0), r.programId);
        }
        Instruction calldata ix = signed.instructions[index];
        address token;
        if (ix.op == Ops.BURN) token = ix.target;
        else if (ix.op == Ops.MINT) token = _mintToken(ix.data);
        // a token that answers false; one without code or answering garbage is not proven foreign
        // here (it may not exist on this chain yet)
        if (token == address(0) || token.code.length == 0 || _controls(token, r.programId)) {
            revert Staking_NotForeignMint(index, token, r.programId);
        }
        (uint256 reward, uint256 remainder) = _slashObjective(operator, r.originChainId, r.requestId);
        emit FraudSlashed(operator, r.originChainId, r.requestId, KIND_FOREIGN_MINT, msg.sender, reward, remainder);
    }

    /// @inheritdoc IStakingRegistry
    function slashFault(
        address operator,
        bytes32 faultId,
        uint256 slashBps,
        address rewardRecipient,
        uint256 rewardBps
    ) external returns (uint256 reward, uint256 remainder) {
        if (msg.sender != disputeModule) revert Staking_NotDisputeModule(msg.sender, disputeModule);
        if (!_members[operator].known) revert Staking_UnknownOperator(operator);
        if (slashBps > BPS) revert Staking_InvalidSlashParams(slashBps, rewardBps, _treasury);
        if (rewardBps > BPS) revert Staking_InvalidRewardBps(rewardBps);
        if (rewardRecipient == address(0)) revert Staking_ZeroAddress();
        bytes32 key = _faultKey(operator, faultId);
        if (_faultSlashed[key]) return (0, 0);
        uint256 total;
        (total, reward) = _book(operator, faultId, key, slashBps, rewardBps, false);
        remainder = total - reward;
        // what a dispute takes is subjective: it does not make the operator evictable
        _disputeSlashed[operator] += total;
        emit FaultSlashed(operator, faultId, rewardRecipient, reward, remainder);
        _take(operator, total, rewardRecipient, reward);
    }

    /// @inheritdoc IStakingRegistry
    function slashWatcher(address watcher, uint256 slashBps) external returns (uint256 taken) {
        // no guard needed: the adapter (immutable, trusted) only credits the treasury, it calls nobody
        if (msg.sender != disputeModule) revert Staking_NotDisputeModule(msg.sender, disputeModule);
        if (!wasWatcher[watcher]) revert Staking_NeverWatcher(watcher);
        if (slashBps > BPS) revert Staking_InvalidSlashParams(slashBps, 0, _treasury);
        // everything still in the adapter (bonded and unbonding), not only what counts as weight:
        // a voter cannot escape by unbonding after its vote
        uint256 amount = (adapter.slashableStake(watcher, block.timestamp) * slashBps) / BPS;
        if (amount != 0) {
            address treasury = _treasury;
            taken = adapter.slash(watcher, amount, treasury, 0, treasury);
        }
        emit WatcherSlashed(watcher, slashBps, taken);
    }

    /// @inheritdoc IStakingRegistry
    function collectOwedSlash(address operator) external returns (uint256 collected) {
        // no guard needed: the adapter (immutable, trusted) only credits the treasury, it calls nobody
        uint256 owed = owedSlash[operator];
        (uint256 usedNow, uint256 capLeft, uint64 periodPlusOne) = _capState(_capRule);
        uint256 amount = owed < capLeft ? owed : capLeft;
        if (amount == 0) revert Staking_NothingToCollect(operator, owed, capLeft);
        address treasury = _treasury;
        collected = adapter.slash(operator, amount, treasury, 0, treasury);
        if (collected == 0) revert Staking_NothingToCollect(operator, owed, capLeft);
        // collected <= amount <= capLeft: the sum stays under the cap (< 2^128)
        _capUse = CapUse(uint128(usedNow + collected), periodPlusOne);
        owed -= collected;
        owedSlash[operator] = owed;
        Member storage m = _members[operator];
        m.activeUntil = 0; // stake left the adapter
        if (owed == 0) m.owes = false;
        if (!m.objectiveFault) _disputeSlashed[operator] += collected;
        emit OwedSlashCollected(operator, msg.sender, collected, owed);
    }

    /// @inheritdoc IStakingRegistry
    function totalWatcherWeight() external view returns (uint256 total) {
        uint256 n = _watchers.length;
        for (uint256 i; i < n; ++i) total += _watcherWeight(_watchers[i]);
    }

    /// @inheritdoc IStakingRegistry
    function faultIdOf(uint256 originChainId, bytes32 requestId) public pure returns (bytes32) {
        return keccak256(abi.encode(keccak256("fault"), originChainId, requestId));
    }

    /// @inheritdoc IStakingRegistry
    function registerWatcher() external {
        if (isWatcher[msg.sender]) revert Staking_WatcherAlreadyRegistered(msg.sender);
        if (_members[msg.sender].known) revert Staking_OperatorCannotWatch(msg.sender);
        if (_watchers.length >= MAX_WATCHERS) revert Staking_TooManyWatchers(MAX_WATCHERS);
        uint256 slashable = _slashable(msg.sender);
        uint256 minimum = watcherMinStake;
        if (slashable < minimum || slashable == 0) {
            revert Staking_InsufficientStakeForWatcher(msg.sender, slashable, minimum);
        }
        isWatcher[msg.sender] = true;
        wasWatcher[msg.sender] = true;
        _watchers.push(msg.sender);
        _watcherSlot[msg.sender] = _watchers.length;
        emit WatcherRegistered(msg.sender);
    }

    /// @inheritdoc IStakingRegistry
    function deregisterWatcher() external {
        if (!isWatcher[msg.sender]) revert Staking_NotWatcher(msg.sender);
        isWatcher[msg.sender] = false;
        // swap-and-pop keeps the list dense
        uint256 slot = _watcherSlot[msg.sender];
        address last = _watchers[_watchers.length - 1];
        _watchers[slot - 1] = last;
        _watcherSlot[last] = slot;
        _watchers.pop();
        delete _watcherSlot[msg.sender];
        emit WatcherDeregistered(msg.sender);
    }

    /*//////////////////////////////////////////////////////////////
                            EXTERNAL: OWNER
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IStakingRegistry
    function setThreshold(uint256 newThreshold) external onlyOwner {
        _setThreshold(newThreshold);
    }

    /// @inheritdoc IStakingRegistry
    function setLedger(address ledger_) external onlyOwner {
        if (ledger != address(0)) revert Staking_LedgerAlreadySet(ledger);
        if (ledger_ == address(0)) revert Staking_ZeroAddress();
        uint256 epoch = IDisperser(ledger_).LEDGER_EPOCH();
        if (epoch != LEDGER_EPOCH) revert Staking_LedgerEpochMismatch(epoch, LEDGER_EPOCH);
        ledger = ledger_;
        emit LedgerSet(ledger_);
    }

    /// @inheritdoc IStakingRegistry
    function setDisputeModule(address module) external onlyOwner {
        if (module == address(0)) revert Staking_ZeroAddress();
        emit DisputeModuleSet(disputeModule, module);
        disputeModule = module;
    }

    /// @inheritdoc IStakingRegistry
    function setSlashCap(uint256 capPerPeriod, uint256 period) external onlyOwner {
        _setSlashCap(capPerPeriod, period);
    }

    /// @inheritdoc IStakingRegistry
    function setWatcherMinStake(uint256 minimum) external onlyOwner {
        watcherMinStake = minimum;
        emit WatcherMinStakeSet(minimum);
    }

    /// @inheritdoc IStakingRegistry
    function setStakeParams(uint256 base, uint256 floor, uint256 alphaBps) external onlyOwner {
        _setStakeParams(base, floor, alphaBps);
    }

    /// @inheritdoc IStakingRegistry
    function setReputationParams(
        uint256 epochLength,
        uint256 gainPerResult,
        uint256 maxGainPerEpoch,
        uint256 decayPerEpoch
    ) external onlyOwner {
        _setReputationParams(epochLength, gainPerResult, maxGainPerEpoch, decayPerEpoch);
    }

    /// @inheritdoc IStakingRegistry
    function setSlashParams(
        uint256 equivocationSlashBps,
        uint256 submitterRewardBps,
        address treasury
    ) external onlyOwner {
        _setSlashParams(equivocationSlashBps, submitterRewardBps, treasury);
    }

    /*//////////////////////////////////////////////////////////////
                             EXTERNAL: VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IOperatorSet
    /// @dev A signer with an activity snapshot that still counts ({snapshotActive}) costs its
    /// member slot only; any other is asked of the adapter, as {isActive} does.
    function checkSigners(address[] calldata signers) external view returns (uint256, uint256 indexBitmap) {
        SignerRules memory rules = _signerRules;
        for (uint256 i; i < signers.length; ++i) {
            address signer = signers[i];
            Member memory m = _members[signer];
            if (!_snapshotCounts(m, rules.rulesVersion) && !_isActive(signer, m)) {
                revert OperatorSet_NotActive(signer);
            }
            indexBitmap |= 1 << m.index;
        }
        return (rules.threshold, indexBitmap);
    }

    /// @inheritdoc IOperatorSet
    function threshold() external view returns (uint256) {
        return _signerRules.threshold;
    }

    /// @inheritdoc IStakingRegistry
    function snapshotActive(address[] calldata operators_) external returns (uint256 until) {
        uint256 unbonding = adapter.unbondingPeriod();
        uint256 window = slashableWindow;
        if (unbonding <= window) revert Staking_NoSnapshotWindow(window, unbonding);
        // The live rule at time t counts stake still locked after t + window. Stake unbonded from
        // now on unlocks at now + unbonding or later, so it passes that rule up to the second before
        // now + unbonding - window: the snapshot's last second.
        until = block.timestamp + (unbonding - window) - 1;
        uint256 untilEpoch = until / _rates.epochLength;
        uint32 rules = _signerRules.rulesVersion;
        for (uint256 i; i < operators_.length; ++i) {
            address operator = operators_[i];
            Member memory m = _members[operator];
            // stake counted for `until + window` (= now + unbonding - 1) is locked past that second
            uint256 slashable = adapter.slashableStake(operator, until + window);
            uint256 required = (!m.registered || m.owes) ? type(uint256).max : _requiredAt(m, untilEpoch);
            if (slashable < required) revert Staking_NotActiveThrough(operator, until, slashable, required);
            // until < 2^40 for any block timestamp before year 36812
            m.activeUntil = uint40(until);
            m.activeRules = rules;
            _members[operator] = m;
            emit ActiveSnapshot(operator, until, slashable, required);
        }
    }

    /// @inheritdoc IStakingRegistry
    function activeUntil(address operator) external view returns (uint256) {
        Member memory m = _members[operator];
        return _snapshotCounts(m, _signerRules.rulesVersion) ? m.activeUntil : 0;
    }

    /// @inheritdoc IOperatorSet
    function indexOf(address operator) external view returns (bool known, uint8 index) {
        Member memory m = _members[operator];
        return (m.known, m.index);
    }

    /// @inheritdoc IOperatorSet
    function indexIn(address operator, uint256 epoch) external view returns (bool held, uint8 index) {
        return _indexIn(operator, epoch);
    }

    /// @inheritdoc IOperatorSet
    function allOperators() external view returns (address[] memory) {
        return operators;
    }

    /// @inheritdoc IOperatorSet
    function isActive(address operator) external view returns (bool) {
        return _isActive(operator, _members[operator]);
    }

    /// @inheritdoc IStakingRegistry
    function isRegistered(address operator) external view returns (bool) {
        return _members[operator].registered;
    }

    /// @inheritdoc IStakingRegistry
    function reputationOf(address operator) external view returns (uint256) {
        return _reputation(_members[operator], _epoch());
    }

    /// @inheritdoc IStakingRegistry
    function requiredStake(address operator) external view returns (uint256) {
        return _required(_members[operator]);
    }

    /// @inheritdoc IStakingRegistry
    function equivocationSlashed(
        address operator,
        uint256 originChainId,
        bytes32 requestId
    ) external view returns (bool) {
        return _faultSlashed[_faultKey(operator, faultIdOf(originChainId, requestId))];
    }

    /// @inheritdoc IStakingRegistry
    function faultSlashed(address operator, bytes32 faultId) external view returns (bool) {
        return _faultSlashed[_faultKey(operator, faultId)];
    }

    /// @inheritdoc IStakingRegistry
    function watcherWeight(address account) external view returns (uint256) {
        return _watcherWeight(account);
    }

    /// @inheritdoc IStakingRegistry
    function slashCap() external view returns (uint256 capPerPeriod, uint256 period, uint256 remaining) {
        CapRule memory rule = _capRule;
        (, remaining, ) = _capState(rule);
        return (rule.capPerPeriod, rule.period, remaining);
    }

    /// @inheritdoc IStakingRegistry
    function stakeParams() external view returns (uint256 base, uint256 floor, uint256 alphaBps) {
        return (_curve.base, _curve.floor, _rates.alphaBps);
    }

    /// @inheritdoc IStakingRegistry
    function reputationParams()
        external
        view
        returns (uint256 epochLength, uint256 gainPerResult, uint256 maxGainPerEpoch, uint256 decayPerEpoch)
    {
        Rates memory r = _rates;
        return (r.epochLength, r.gainPerResult, r.maxGainPerEpoch, r.decayPerEpoch);
    }

    /// @inheritdoc IStakingRegistry
    function slashParams()
        external
        view
        returns (uint256 equivocationSlashBps, uint256 submitterRewardBps, address treasury)
    {
        return (_rates.equivocationSlashBps, _rates.submitterRewardBps, _treasury);
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev One ledger of {accrueReputation}: returns `rep` plus what its count earns under the
    /// ledger epoch's cap (and 10_000).
    function _accrueOne(
        address operator,
        LedgerRef calldata ref,
        uint256 lastSlashedAt,
        address ledger_,
        uint256 rep,
        Rates memory rates
    ) internal returns (uint256) {
        bytes32 accrualKey = keccak256(abi.encode(operator, ref.epoch));
        EpochAccrual accrual = _markAccrued(operator, ref, _epochAccrual[accrualKey]);
        uint256 count = _ledgerCount(operator, ref, lastSlashedAt, ledger_);
        uint256 add = _gain(count, accrual.gained(), rep, rates);
        // one write: the ledger's mark and the epoch's gain share the slot
        _epochAccrual[accrualKey] = accrual.withGained(accrual.gained() + add);
        emit ReputationAccrued(operator, ref.epoch, ref.assetId, ref.share, count, add);
        return rep + add;
    }

    /// @dev What `count` results earn: `gainPerResult` each, within the epoch's room under
    /// `maxGainPerEpoch` (after `epochGain`) and the room under 10_000 (after `rep`).
    function _gain(
        uint256 count,
        uint256 epochGain,
        uint256 rep,
        Rates memory rates
    ) internal pure returns (uint256 add) {
        uint256 room = epochGain >= rates.maxGainPerEpoch ? 0 : rates.maxGainPerEpoch - epochGain;
        uint256 gain = rates.gainPerResult;
        // count comes from the ledger: compare before multiplying (count * gain < room <= 10_000)
        add =
            gain == 0
                ? 0
                : count >= (room + gain - 1) / gain
                    ? room
                    : count * gain;
        if (rep + add > BPS) add = BPS - rep;
    }

    /// @dev Marks ledger `ref` of `operator` accrued: in the epoch's slot while it has a free place
    /// (returned, to be written with the gain), else in `_accrued`. Reverts if it already was.
    function _markAccrued(
        address operator,
        LedgerRef calldata ref,
        EpochAccrual accrual
    ) internal returns (EpochAccrual) {
        uint256 tag = EpochAccrualLib.tagOf(ref.assetId, ref.share);
        (bool present, uint256 free) = accrual.find(tag);
        bytes32 key = keccak256(abi.encode(operator, ref.assetId, ref.share, ref.epoch));
        if (present || _accrued[key]) revert Staking_AlreadyAccrued(operator, ref.assetId, ref.share, ref.epoch);
        if (free < EpochAccrualLib.TAGS) return accrual.withTag(free, tag);
        _accrued[key] = true;
        return accrual;
    }

    /// @dev Checks one ledger may grant `operator` reputation and returns the results it counted
    /// for the index `operator` held in its epoch.
    function _ledgerCount(
        address operator,
        LedgerRef calldata ref,
        uint256 lastSlashedAt,
        address ledger_
    ) internal view returns (uint256) {
        uint256 epoch = ref.epoch;
        // over, and past every dispute that could still slash its results
        uint256 maturesAt = (epoch + 1) * LEDGER_EPOCH + slashableWindow;
        if (maturesAt > block.timestamp) revert Staking_NotMatured(epoch, maturesAt, block.timestamp);
        // results signed before a slash earn nothing after it
        if (lastSlashedAt != 0 && epoch * LEDGER_EPOCH <= lastSlashedAt) {
            revert Staking_EpochBeforeSlash(operator, epoch, lastSlashedAt);
        }
        (bool held, uint8 index) = _indexIn(operator, epoch);
        if (!held) revert Staking_NoIndexInEpoch(operator, epoch);
        return IDisperser(ledger_).signatureCount(address(this), ref.assetId, ref.share, epoch, index);
    }

    function _setThreshold(uint256 newThreshold) internal {
        if (newThreshold == 0 || 2 * newThreshold <= registeredCount) {
            revert Staking_InvalidThreshold(newThreshold, registeredCount);
        }
        uint256 previous = _signerRules.threshold;
        // a threshold above 2^128 could never be met (at most 256 signers): refused, so the cast is exact
        if (newThreshold > type(uint128).max) revert Staking_InvalidThreshold(newThreshold, registeredCount);
        _signerRules.threshold = uint128(newThreshold);
        emit ThresholdSet(previous, newThreshold);
    }

    function _setStakeParams(uint256 base, uint256 floor, uint256 alphaBps) internal {
        if (base == 0 || base > type(uint128).max || floor > base || alphaBps > BPS) {
            revert Staking_InvalidStakeParams(base, floor, alphaBps);
        }
        // casts exact: floor <= base <= u128 max, alphaBps <= 10_000
        _curve = Curve(uint128(base), uint128(floor));
        _rates.alphaBps = uint16(alphaBps);
        emit StakeParamsSet(base, floor, alphaBps);
        _invalidateSnapshots();
    }

    function _setReputationParams(
        uint256 epochLength,
        uint256 gainPerResult,
        uint256 maxGainPerEpoch,
        uint256 decayPerEpoch
    ) internal {
        if (
            epochLength == 0 ||
            epochLength > type(uint64).max ||
            gainPerResult > BPS ||
            maxGainPerEpoch > BPS ||
            decayPerEpoch > BPS
        ) revert Staking_InvalidReputationParams(epochLength, gainPerResult, maxGainPerEpoch, decayPerEpoch);
        // note: changing epochLength re-buckets decay epochs; decay is then measured in the new ones
        Rates storage r = _rates;
        r.epochLength = uint64(epochLength);
        r.gainPerResult = uint16(gainPerResult);
        r.maxGainPerEpoch = uint16(maxGainPerEpoch);
        r.decayPerEpoch = uint16(decayPerEpoch);
        emit ReputationParamsSet(epochLength, gainPerResult, maxGainPerEpoch, decayPerEpoch);
        _invalidateSnapshots();
    }

    /// @dev New stake or reputation rules: no snapshot taken under the old ones counts any more.
    function _invalidateSnapshots() internal {
        uint32 version = _signerRules.rulesVersion + 1;
        _signerRules.rulesVersion = version;
        emit SnapshotsInvalidated(version);
    }

    function _setSlashParams(uint256 equivocationSlashBps, uint256 submitterRewardBps, address treasury) internal {
        if (
            equivocationSlashBps == 0 ||
            equivocationSlashBps > BPS ||
            submitterRewardBps > BPS ||
            treasury == address(0)
        ) revert Staking_InvalidSlashParams(equivocationSlashBps, submitterRewardBps, treasury);
        _rates.equivocationSlashBps = uint16(equivocationSlashBps);
        _rates.submitterRewardBps = uint16(submitterRewardBps);
        _treasury = treasury;
        emit SlashParamsSet(equivocationSlashBps, submitterRewardBps, treasury);
    }

    function _setSlashCap(uint256 capPerPeriod, uint256 period) internal {
        if (period == 0 || period > type(uint64).max || capPerPeriod > type(uint128).max) {
            revert Staking_InvalidSlashCap(capPerPeriod, period);
        }
        _capRule = CapRule(uint128(capPerPeriod), uint64(period));
        emit SlashCapSet(capPerPeriod, period);
    }

    /// @dev What the current period already slashed (0 in a new period), what is left of the cap,
    /// and the period's tag as stored in {CapUse}.
    function _capState(
        CapRule memory rule
    ) internal view returns (uint256 usedNow, uint256 remaining, uint64 periodPlusOne) {
        periodPlusOne = uint64(block.timestamp / rule.period) + 1;
        CapUse memory used = _capUse;
        usedNow = used.periodPlusOne == periodPlusOne ? used.slashed : 0;
        remaining = usedNow >= rule.capPerPeriod ? 0 : rule.capPerPeriod - usedNow;
    }

    /// @dev The reputation (decay) epoch now.
    function _epoch() internal view returns (uint256) {
        return block.timestamp / _rates.epochLength;
    }

    /// @dev Stored reputation minus `decayPerEpoch` for every epoch since it was stored, floored at 0.
    function _reputation(Member memory m, uint256 epoch) internal view returns (uint256) {
        uint256 rep = m.reputation;
        if (rep == 0 || epoch <= m.lastEpoch) return rep;
        uint256 decay = (epoch - m.lastEpoch) * _rates.decayPerEpoch;
        return decay >= rep ? 0 : rep - decay;
    }

    /// @dev max(floor, base * (1 - alpha * reputation)), alpha and reputation in basis points.
    function _required(Member memory m) internal view returns (uint256) {
        return _requiredAt(m, _epoch());
    }

    /// @dev {_required} at the reputation decay epoch `epoch` (>= now) leaves.
    function _requiredAt(Member memory m, uint256 epoch) internal view returns (uint256) {
        Curve memory curve = _curve;
        uint256 discountBps = (uint256(_rates.alphaBps) * _reputation(m, epoch)) / BPS;
        uint256 required = (uint256(curve.base) * (BPS - discountBps)) / BPS;
        uint256 floor = curve.floor;
        return required < floor ? floor : required;
    }

    function _isActive(address operator, Member memory m) internal view returns (bool) {
        return m.registered && !m.owes && _slashable(operator) >= _required(m);
    }

    /// @dev Whether `m`'s activity snapshot still counts: registered, owing nothing, not past its
    /// last second, taken under the current rules.
    function _snapshotCounts(Member memory m, uint256 rulesVersion) internal view returns (bool) {
        return m.registered && !m.owes && block.timestamp <= m.activeUntil && m.activeRules == rulesVersion;
    }

    function _slashable(address account) internal view returns (uint256) {
        return adapter.slashableStake(account, block.timestamp + slashableWindow);
    }

    function _watcherWeight(address account) internal view returns (uint256) {
        if (!isWatcher[account]) return 0;
        uint256 slashable = _slashable(account);
        return slashable < watcherMinStake ? 0 : slashable;
    }

    /// @dev Ends `operator`'s registration: its tenure ends this ledger epoch and its index cools
    /// down (others may take it from the next epoch on).
    function _leave(address operator, Member storage m) internal {
        uint256 epoch = block.timestamp / LEDGER_EPOCH;
        uint8 index = m.index;
        m.registered = false;
        m.activeUntil = 0;
        --registeredCount;
        Tenure[] storage tenures = _tenures[operator];
        uint256 last = tenures.length - 1;
        tenures[last] = tenures[last].withToEpoch(epoch);
        IndexPool memory pool = _rolledPool(epoch);
        pool.cooling |= 1 << index;
        pool.coolingEpoch = epoch;
        _pool = pool;
        emit OperatorDeregistered(operator, index, epoch);
    }

    /// @dev The index pool with every index that cooled in an earlier epoch moved to `free`.
    function _rolledPool(uint256 epoch) internal view returns (IndexPool memory pool) {
        pool = _pool;
        if (pool.cooling != 0 && pool.coolingEpoch < epoch) {
            pool.free |= pool.cooling;
            pool.cooling = 0;
        }
    }

    function _indexIn(address operator, uint256 epoch) internal view returns (bool, uint8) {
        Tenure[] storage list = _tenures[operator];
        for (uint256 i = list.length; i != 0; --i) {
            Tenure t = list[i - 1];
            if (epoch > t.toEpoch()) return (false, 0); // tenures are in order: no earlier one reaches it
            if (epoch >= t.fromEpoch()) return (true, t.index());
        }
        return (false, 0);
    }

    /// @dev Index of the lowest set bit of `x` (x != 0).
    function _lowestBit(uint256 x) internal pure returns (uint256 r) {
        while (x & (1 << r) == 0) ++r;
    }

    /// @dev Checks that `a` and `b` are two different results for one request, both validly
    /// signed under the given ingestor's domain by the same known operator, and returns it.
    function _equivocator(
        Result calldata a,
        bytes calldata sigA,
        Result calldata b,
        bytes calldata sigB,
        uint256 ingestorChainId,
        address ingestor
    ) internal view returns (address operator) {
        if (a.originChainId != b.originChainId || a.requestId != b.requestId) {
            revert Staking_DifferentRequests(a.originChainId, a.requestId, b.originChainId, b.requestId);
        }
        bytes32 hashA = ResultTypedData.structHash(a);
        bytes32 hashB = ResultTypedData.structHash(b);
        if (hashA == hashB) revert Staking_SameResult(hashA);
        bytes32 domain = ResultTypedData.domainSeparator(ingestorChainId, ingestor);
        operator = _recover(domain, hashA, sigA, 0);
        address signerB = _recover(domain, hashB, sigB, 1);
        if (operator != signerB) revert Staking_DifferentSigners(operator, signerB);
        if (!_members[operator].known) revert Staking_UnknownOperator(operator);
    }

    /// @dev The signer of `s` under its own ingestor domain, after checking its Instruction[]
    /// preimage exactly as the ingestor hashes it.
    function _signerOf(SignedResult calldata s, uint256 which) internal pure returns (address) {
        bytes32 computed = keccak256(abi.encode(s.instructions));
        if (computed != s.result.instructionsHash) {
            revert Staking_InstructionsMismatch(which, s.result.instructionsHash, computed);
        }
        bytes32 domain = ResultTypedData.domainSeparator(s.chainId, s.ingestor);
        return _recover(domain, ResultTypedData.structHash(s.result), s.signature, which);
    }

    /// @dev Upper bound of the distinct tokens the proof can name: its instruction count.
    function _instructionCount(
        SignedResult calldata origin,
        SignedResult[] calldata destinations
    ) internal pure returns (uint256 n) {
        n = origin.instructions.length;
        for (uint256 i; i < destinations.length; ++i) n += destinations[i].instructions.length;
    }

    /// @dev Adds one Result's MINTs (+) and, on the origin, BURNs (-) per token to the tally of
    /// `n` tokens so far; returns the new count. A Result that is not OK disperses nothing.
    /// BURNs on a destination move nothing the origin owes (a destination result may only MINT).
    function _tally(
        Instruction[] calldata ix,
        uint8 status,
        bool isOrigin,
        address[] memory tokens,
        uint256[] memory minted,
        uint256[] memory burned,
        uint256 n
    ) internal pure returns (uint256) {
        if (status != Ops.STATUS_OK) return n;
        for (uint256 i; i < ix.length; ++i) {
            Instruction calldata x = ix[i];
            bool isMint = x.op == Ops.MINT;
            address token;
            if (isMint) token = _mintToken(x.data);
            else if (x.op == Ops.BURN && isOrigin) token = x.target;
            // not a mint or origin burn, or undecodable (the disperser executes no such MINT)
            if (token == address(0)) continue;
            uint256 t;
            while (t < n && tokens[t] != token) ++t;
            if (t == n) tokens[n++] = token;
            uint256[] memory sums = isMint ? minted : burned;
            uint256 sum = sums[t];
            sums[t] = x.amount > type(uint256).max - sum ? type(uint256).max : sum + x.amount;
        }
        return n;
    }

    /// @dev The token of a MINT (`abi.decode(data, (address))` as the disperser reads it), or zero
    /// when `data` does not decode to an address.
    function _mintToken(bytes calldata data) internal pure returns (address) {
        if (data.length < 32) return address(0);
        uint256 word = uint256(bytes32(data[:32]));
        return word >> 160 == 0 ? address(uint160(word)) : address(0);
    }

    /// @dev Whether `token` names `programId` as a controller; a call that fails or returns
    /// garbage counts as "controls" (not proven otherwise).
    function _controls(address token, bytes32 programId) internal view returns (bool) {
        (bool ok, bytes memory ret) = token.staticcall(abi.encodeCall(IOmniToken.isController, (programId)));
        if (!ok || ret.length != 32) return true;
        uint256 v = abi.decode(ret, (uint256));
        return v != 0;
    }

    function _faultKey(address operator, bytes32 faultId) internal pure returns (bytes32) {
        return keccak256(abi.encode(operator, faultId));
    }

    /// @dev Slashes an objective fault about (originChainId, requestId) once: `equivocationSlashBps`
    /// of the stake, `submitterRewardBps` of that to the caller. Reverts if already slashed.
    function _slashObjective(
        address operator,
        uint256 originChainId,
        bytes32 requestId
    ) internal returns (uint256 reward, uint256 remainder) {
        bytes32 faultId = faultIdOf(originChainId, requestId);
        bytes32 key = _faultKey(operator, faultId);
        if (_faultSlashed[key]) revert Staking_AlreadySlashed(operator, originChainId, requestId);
        // effects all settled before the one external call: a re-entered proof is another proof
        Rates memory rates = _rates;
        uint256 total;
        (total, reward) = _book(operator, faultId, key, rates.equivocationSlashBps, rates.submitterRewardBps, true);
        remainder = total - reward;
        _take(operator, total, msg.sender, reward);
    }

    /// @dev Effects of a slash: marks the fault, resets reputation, remembers when, and books
    /// `slashBps` of the operator's stake against the period's cap; what the cap does not allow
    /// now stays owed. Returns what {_take} must take and the reward's part of it.
    function _book(
        address operator,
        bytes32 faultId,
        bytes32 key,
        uint256 slashBps,
        uint256 rewardBps,
        bool objective
    ) internal returns (uint256 total, uint256 reward) {
        _faultSlashed[key] = true;
        Member storage m = _members[operator];
        m.reputation = 0;
        m.lastEpoch = uint64(_epoch());
        m.lastSlashedAt = uint40(block.timestamp);
        m.activeUntil = 0; // the stake the snapshot counted is being taken
        if (objective) m.objectiveFault = true;
        emit ReputationUpdated(operator, 0);

        // everything still in the adapter (bonded and unbonding): stake leaving soon is still liable
        total = (adapter.slashableStake(operator, block.timestamp) * slashBps) / BPS;
        (uint256 usedNow, uint256 allowed, uint64 periodPlusOne) = _capState(_capRule);
        if (total > allowed) {
            // not forgiven: the excess stays owed ({collectOwedSlash}); SlashCapped tells how much
            emit SlashCapped(operator, faultId, total, allowed);
            owedSlash[operator] += total - allowed;
            m.owes = true;
            total = allowed;
        }
        // total <= remaining cap < 2^128, so the sum fits
        _capUse = CapUse(uint128(usedNow + total), periodPlusOne);
        reward = (total * rewardBps) / BPS;
    }

    /// @dev The one interaction of a slash: the adapter pays `reward` to `rewardRecipient` and
    /// credits the rest to the treasury. `total` <= the operator's stake, so it is taken in full.
    function _take(address operator, uint256 total, address rewardRecipient, uint256 reward) internal {
        if (total != 0) adapter.slash(operator, total, rewardRecipient, reward, _treasury);
    }

    /// @dev The operator that attested the Result with struct hash `structHash` in `domain` with
    /// `evidence`: a result signature or a batch attestation ({ResultSignatures}).
    function _recover(
        bytes32 domain,
        bytes32 structHash,
        bytes calldata evidence,
        uint256 which
    ) internal pure returns (address signer) {
        (bytes32 digest, bytes calldata rsv, bool wellFormed) = ResultSignatures.digestOf(domain, structHash, evidence);
        if (!wellFormed) revert Staking_InvalidSignature(which);
        ECDSA.RecoverError err;
        (signer, err, ) = ECDSA.tryRecover(digest, rsv);
        if (err != ECDSA.RecoverError.NoError) revert Staking_InvalidSignature(which);
    }
}
