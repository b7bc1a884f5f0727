// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IOperatorSet} from "../interfaces/IOperatorSet.sol";
import {IStakingRegistry} from "../interfaces/IStakingRegistry.sol";
import {IRestakingAdapter} from "../interfaces/IRestakingAdapter.sol";
import {Result, ResultTypedData} from "../interfaces/IInstruction.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";
import {MessageHashUtils} from "@openzeppelin/contracts/utils/cryptography/MessageHashUtils.sol";
import {Ownable, Ownable2Step} from "@openzeppelin/contracts/access/Ownable2Step.sol";
import {ReentrancyGuardTransient} from "@openzeppelin/contracts/utils/ReentrancyGuardTransient.sol";

/// @title StakingRegistry
/// @notice HoneSTake operator set (SPEC 3.5): staked operators with reputation-discounted required
/// stake, read by the InstructionIngestor through {IOperatorSet}, and equivocation slashing.
/// @dev See {IStakingRegistry} for the threshold rule. Reputation and epochs use block numbers,
/// like the adapter's unbonding. Each operator's record is one slot.
contract StakingRegistry is IStakingRegistry, Ownable2Step, ReentrancyGuardTransient {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @dev One slot per operator. `reputation` is as of `lastEpoch` (decay not yet applied);
    /// `epochGain` is what it gained during `lastEpoch`.
    struct Member {
        uint8 index;
        bool known;
        bool registered;
        uint16 reputation;
        uint16 epochGain;
        uint64 lastEpoch;
    }

    /// @notice Constructor argument: the required-stake curve.
    struct StakeConfig {
        uint256 base;
        uint256 floor;
        uint256 alphaBps;
    }

    /// @notice Constructor argument: the reputation rules.
    struct ReputationConfig {
        uint256 epochBlocks;
        uint256 gainPerResult;
        uint256 maxGainPerEpoch;
        uint256 decayPerEpoch;
    }

    /// @notice Constructor argument: the equivocation slash and the cap on all slashing.
    struct SlashConfig {
        uint256 equivocationSlashBps;
        uint256 submitterRewardBps;
        address treasury;
        uint256 capPerPeriod;
        uint256 capPeriodBlocks;
    }

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice keccak256("Result(bytes32 requestId,uint256 originChainId,bytes32 programId,bytes32 inputHash,uint8 status,bytes32 instructionsHash,bytes32 bodyHash)"),
    /// the InstructionIngestor's RESULT_TYPEHASH.
    bytes32 public constant RESULT_TYPEHASH = ResultTypedData.RESULT_TYPEHASH;
    /// @notice keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    bytes32 public constant DOMAIN_TYPEHASH = ResultTypedData.DOMAIN_TYPEHASH;
    /// @notice keccak256("Versatus")
    bytes32 public constant NAME_HASH = ResultTypedData.NAME_HASH;
    /// @notice keccak256("1")
    bytes32 public constant VERSION_HASH = ResultTypedData.VERSION_HASH;

    uint256 internal constant BPS = 10_000;
    /// @dev Tags equivocation fault ids apart from the dispute module's.
    bytes32 internal constant EQUIVOCATION = keccak256("equivocation");
    uint256 internal constant MAX_OPERATORS = 256;

    /*//////////////////////////////////////////////////////////////
                               IMMUTABLES
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IStakingRegistry
    IRestakingAdapter public immutable adapter;
    /// @inheritdoc IStakingRegistry
    uint256 public immutable slashableWindowBlocks;

    /*//////////////////////////////////////////////////////////////
                                STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev Required-stake curve, one slot.
    struct Curve {
        uint128 base;
        uint128 floor;
    }

    /// @dev Reputation and slashing rates (basis points; epochs in blocks), one slot.
    struct Rates {
        uint64 epochBlocks;
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
        uint64 periodBlocks;
    }

    /// @dev `periodPlusOne` is never zero once set (from the constructor on), so booking a slash
    /// rewrites a live slot instead of creating one.
    struct CapUse {
        uint128 slashed;
        uint64 periodPlusOne;
    }

    mapping(address operator => Member) private _members;
    mapping(bytes32 operatorFault => bool) private _faultSlashed;
    mapping(address account => bool) public isReporter;
    /// @inheritdoc IStakingRegistry
    mapping(address account => bool) public isWatcher;
    /// @notice Operator of each index, in the order they first registered.
    address[] public operators;
    /// @inheritdoc IOperatorSet
    uint256 public threshold;
    /// @inheritdoc IStakingRegistry
    uint256 public registeredCount;
    /// @inheritdoc IStakingRegistry
    address public disputeModule;
    /// @inheritdoc IStakingRegistry
    uint256 public watcherMinStake;
    address internal _treasury;
    Curve internal _curve;
    Rates internal _rates;
    CapRule internal _capRule;
    CapUse internal _capUse;

    /*//////////////////////////////////////////////////////////////
                              CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param slashableWindowBlocks_ Challenge window plus escalation, in blocks: stake counts only
    /// if it stays slashable that long.
    constructor(
        address initialOwner,
        IRestakingAdapter adapter_,
        uint256 slashableWindowBlocks_,
        uint256 initialThreshold,
        StakeConfig memory stake,
        ReputationConfig memory rep,
        SlashConfig memory slashing
    ) Ownable(initialOwner) {
        if (address(adapter_) == address(0)) revert Staking_ZeroAddress();
        adapter = adapter_;
        slashableWindowBlocks = slashableWindowBlocks_;
        _setThreshold(initialThreshold);
        _setStakeParams(stake.base, stake.floor, stake.alphaBps);
        _setReputationParams(rep.epochBlocks, rep.gainPerResult, rep.maxGainPerEpoch, rep.decayPerEpoch);
        _setSlashParams(slashing.equivocationSlashBps, slashing.submitterRewardBps, slashing.treasury);
        _setSlashCap(slashing.capPerPeriod, slashing.capPeriodBlocks);
        _capUse = CapUse(0, uint64(block.number / slashing.capPeriodBlocks) + 1);
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
        uint256 required = _required(m);
        if (slashable < required) revert Staking_InsufficientStakeForRegistration(msg.sender, slashable, required);
        uint256 count = registeredCount + 1;
        if (2 * threshold <= count) revert Staking_InvalidThreshold(threshold, count);
        if (!m.known) {
            uint256 index = operators.length;
            if (index >= MAX_OPERATORS) revert Staking_RegistryFull();
            operators.push(msg.sender);
            m.index = uint8(index);
            m.known = true;
            m.lastEpoch = uint64(_epoch());
        }
        m.registered = true;
        _members[msg.sender] = m;
        registeredCount = count;
        emit OperatorRegistered(msg.sender, m.index);
    }

    /// @inheritdoc IStakingRegistry
    function deregister() external {
        Member storage m = _members[msg.sender];
        if (!m.registered) revert Staking_NotRegistered(msg.sender);
        m.registered = false;
        --registeredCount;
        emit OperatorDeregistered(msg.sender, m.index);
    }

    /// @inheritdoc IStakingRegistry
    function evict(address operator) external {
        Member storage m = _members[operator];
        if (!m.registered) revert Staking_NotRegistered(operator);
        uint256 slashable = _slashable(operator);
        uint256 required = _required(m);
        if (slashable >= required) revert Staking_StillActive(operator, slashable, required);
        m.registered = false;
        --registeredCount;
        emit OperatorEvicted(operator, msg.sender, slashable, required);
        emit OperatorDeregistered(operator, m.index);
    }

    /// @inheritdoc IStakingRegistry
    function recordFinalized(address[] calldata operators_) external {
        if (!isReporter[msg.sender] && msg.sender != disputeModule) revert Staking_NotReporter(msg.sender);
        uint256 epoch = _epoch();
        Rates memory rates = _rates;
        uint256 gain = rates.gainPerResult;
        uint256 cap = rates.maxGainPerEpoch;
        for (uint256 i; i < operators_.length; ++i) {
            address op = operators_[i];
            Member memory m = _members[op];
            if (!m.known) revert Staking_UnknownOperator(op);
            uint256 rep = _reputation(m, epoch);
            uint256 epochGain = m.lastEpoch == epoch ? m.epochGain : 0;
            uint256 add = epochGain >= cap ? 0 : cap - epochGain;
            if (add > gain) add = gain;
            if (rep + add > BPS) add = BPS - rep;
            // rep + add <= BPS and epochGain + add <= cap <= BPS: both fit u16
            m.reputation = uint16(rep + add);
            m.epochGain = uint16(epochGain + add);
            m.lastEpoch = uint64(epoch);
            _members[op] = m;
            emit ReputationUpdated(op, rep + add);
        }
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
        // ---- checks
        address operator = _equivocator(a, sigA, b, sigB, ingestorChainId, ingestor);
        bytes32 faultId = equivocationFaultId(a.originChainId, a.requestId);
        bytes32 key = _faultKey(operator, faultId);
        if (_faultSlashed[key]) revert Staking_AlreadySlashed(operator, a.originChainId, a.requestId);

        // ---- effects (everything is settled before the one external call, so no reentrancy
        // guard is needed: a re-entered proof is simply another proof)
        Rates memory rates = _rates;
        (uint256 total, uint256 reward) = _book(
            operator,
            faultId,
            key,
            rates.equivocationSlashBps,
            rates.submitterRewardBps
        );
        emit EquivocationSlashed(operator, a.originChainId, a.requestId, msg.sender, reward, total - reward);

        // ---- interactions
        _take(operator, total, msg.sender, reward);
    }

    /// @inheritdoc IStakingRegistry
    function slashFault(
        address operator,
        bytes32 faultId,
        uint256 slashBps,
        address rewardRecipient,
        uint256 rewardBps
    ) external nonReentrant returns (uint256 reward, uint256 remainder) {
        if (msg.sender != disputeModule) revert Staking_NotDisputeModule(msg.sender, disputeModule);
        if (!_members[operator].known) revert Staking_UnknownOperator(operator);
        if (slashBps > BPS) revert Staking_InvalidSlashParams(slashBps, rewardBps, _treasury);
        if (rewardBps > BPS) revert Staking_InvalidRewardBps(rewardBps);
        if (rewardRecipient == address(0)) revert Staking_ZeroAddress();
        bytes32 key = _faultKey(operator, faultId);
        if (_faultSlashed[key]) return (0, 0);
        uint256 total;
        (total, reward) = _book(operator, faultId, key, slashBps, rewardBps);
        remainder = total - reward;
        emit FaultSlashed(operator, faultId, rewardRecipient, reward, remainder);
        _take(operator, total, rewardRecipient, reward);
    }

    /// @inheritdoc IStakingRegistry
    function slashWatcher(address, uint256) external pure returns (uint256) {
        revert("TODO(staking)");
    }

    /// @inheritdoc IStakingRegistry
    function totalWatcherWeight() external pure returns (uint256) {
        return 0; // TODO(staking)
    }

    /// @inheritdoc IStakingRegistry
    function faultIdOf(uint256 originChainId, bytes32 requestId) public pure returns (bytes32) {
        return keccak256(abi.encode(keccak256("fault"), originChainId, requestId));
    }

    /// @inheritdoc IStakingRegistry
    function registerWatcher() external {
        if (isWatcher[msg.sender]) revert Staking_WatcherAlreadyRegistered(msg.sender);
        if (_members[msg.sender].known) revert Staking_OperatorCannotWatch(msg.sender);
        uint256 slashable = _slashable(msg.sender);
        uint256 minimum = watcherMinStake;
        if (slashable < minimum || slashable == 0) {
            revert Staking_InsufficientStakeForWatcher(msg.sender, slashable, minimum);
        }
        isWatcher[msg.sender] = true;
        emit WatcherRegistered(msg.sender);
    }

    /// @inheritdoc IStakingRegistry
    function deregisterWatcher() external {
        if (!isWatcher[msg.sender]) revert Staking_NotWatcher(msg.sender);
        isWatcher[msg.sender] = false;
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
    function setReporter(address reporter, bool allowed) external onlyOwner {
        if (reporter == address(0)) revert Staking_ZeroAddress();
        isReporter[reporter] = allowed;
        emit ReporterSet(reporter, allowed);
    }

    /// @inheritdoc IStakingRegistry
    function setDisputeModule(address module) external onlyOwner {
        if (module == address(0)) revert Staking_ZeroAddress();
        emit DisputeModuleSet(disputeModule, module);
        disputeModule = module;
    }

    /// @inheritdoc IStakingRegistry
    function setSlashCap(uint256 capPerPeriod, uint256 periodBlocks) external onlyOwner {
        _setSlashCap(capPerPeriod, periodBlocks);
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
        uint256 epochBlocks,
        uint256 gainPerResult,
        uint256 maxGainPerEpoch,
        uint256 decayPerEpoch
    ) external onlyOwner {
        _setReputationParams(epochBlocks, gainPerResult, maxGainPerEpoch, decayPerEpoch);
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
    function checkSigners(address[] calldata signers) external view returns (uint256, uint256 indexBitmap) {
        for (uint256 i; i < signers.length; ++i) {
            address signer = signers[i];
            Member memory m = _members[signer];
            if (!m.registered || _slashable(signer) < _required(m)) revert OperatorSet_NotActive(signer);
            indexBitmap |= 1 << m.index;
        }
        return (threshold, indexBitmap);
    }

    /// @inheritdoc IOperatorSet
    function indexOf(address operator) external view returns (bool known, uint8 index) {
        Member memory m = _members[operator];
        return (m.known, m.index);
    }

    /// @inheritdoc IOperatorSet
    function indexIn(address operator, uint256) external view returns (bool held, uint8 index) {
        return this.indexOf(operator);
    }

    /// @inheritdoc IOperatorSet
    function isActive(address operator) external view returns (bool) {
        Member memory m = _members[operator];
        return m.registered && _slashable(operator) >= _required(m);
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
        return _faultSlashed[_faultKey(operator, equivocationFaultId(originChainId, requestId))];
    }

    /// @inheritdoc IStakingRegistry
    function faultSlashed(address operator, bytes32 faultId) external view returns (bool) {
        return _faultSlashed[_faultKey(operator, faultId)];
    }

    /// @notice The fault id of equivocating on (originChainId, requestId).
    function equivocationFaultId(uint256 originChainId, bytes32 requestId) public pure returns (bytes32) {
        return keccak256(abi.encode(EQUIVOCATION, originChainId, requestId));
    }

    /// @inheritdoc IStakingRegistry
    function watcherWeight(address account) external view returns (uint256) {
        if (!isWatcher[account]) return 0;
        uint256 slashable = _slashable(account);
        return slashable < watcherMinStake ? 0 : slashable;
    }

    /// @inheritdoc IStakingRegistry
    function slashCap() external view returns (uint256 capPerPeriod, uint256 periodBlocks, uint256 remaining) {
        CapRule memory rule = _capRule;
        (, uint256 remaining, ) = _capState(rule);
        return (rule.capPerPeriod, rule.periodBlocks, remaining);
    }

    /// @inheritdoc IStakingRegistry
    function stakeParams() external view returns (uint256 base, uint256 floor, uint256 alphaBps) {
        return (_curve.base, _curve.floor, _rates.alphaBps);
    }

    /// @inheritdoc IStakingRegistry
    function reputationParams()
        external
        view
        returns (uint256 epochBlocks, uint256 gainPerResult, uint256 maxGainPerEpoch, uint256 decayPerEpoch)
    {
        Rates memory r = _rates;
        return (r.epochBlocks, r.gainPerResult, r.maxGainPerEpoch, r.decayPerEpoch);
    }

    /// @inheritdoc IStakingRegistry
    function slashParams()
        external
        view
        returns (uint256 equivocationSlashBps, uint256 submitterRewardBps, address treasury)
    {
        return (_rates.equivocationSlashBps, _rates.submitterRewardBps, _treasury);
    }

    /// @notice All operators ever registered, by index.
    function allOperators() external view returns (address[] memory) {
        return operators;
    }

    /*//////////////////////////////////////////////////////////////
                                INTERNAL
    //////////////////////////////////////////////////////////////*/

    function _setThreshold(uint256 newThreshold) internal {
        if (newThreshold == 0 || 2 * newThreshold <= registeredCount) {
            revert Staking_InvalidThreshold(newThreshold, registeredCount);
        }
        uint256 previous = threshold;
        threshold = newThreshold;
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
    }

    function _setReputationParams(
        uint256 epochBlocks,
        uint256 gainPerResult,
        uint256 maxGainPerEpoch,
        uint256 decayPerEpoch
    ) internal {
        if (
            epochBlocks == 0 ||
            epochBlocks > type(uint64).max ||
            gainPerResult > BPS ||
            maxGainPerEpoch > BPS ||
            decayPerEpoch > BPS
        ) revert Staking_InvalidReputationParams(epochBlocks, gainPerResult, maxGainPerEpoch, decayPerEpoch);
        // note: changing epochBlocks re-buckets epochs; decay is then measured in the new epochs
        Rates storage r = _rates;
        r.epochBlocks = uint64(epochBlocks);
        r.gainPerResult = uint16(gainPerResult);
        r.maxGainPerEpoch = uint16(maxGainPerEpoch);
        r.decayPerEpoch = uint16(decayPerEpoch);
        emit ReputationParamsSet(epochBlocks, gainPerResult, maxGainPerEpoch, decayPerEpoch);
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

    function _setSlashCap(uint256 capPerPeriod, uint256 periodBlocks) internal {
        if (periodBlocks == 0 || periodBlocks > type(uint64).max || capPerPeriod > type(uint128).max) {
            revert Staking_InvalidSlashCap(capPerPeriod, periodBlocks);
        }
        _capRule = CapRule(uint128(capPerPeriod), uint64(periodBlocks));
        emit SlashCapSet(capPerPeriod, periodBlocks);
    }

    /// @dev What the current period already slashed (0 in a new period), what is left of the cap,
    /// and the period's tag as stored in {CapUse}.
    function _capState(
        CapRule memory rule
    ) internal view returns (uint256 usedNow, uint256 remaining, uint64 periodPlusOne) {
        periodPlusOne = uint64(block.number / rule.periodBlocks) + 1;
        CapUse memory used = _capUse;
        usedNow = used.periodPlusOne == periodPlusOne ? used.slashed : 0;
        remaining = usedNow >= rule.capPerPeriod ? 0 : rule.capPerPeriod - usedNow;
    }

    function _epoch() internal view returns (uint256) {
        return block.number / _rates.epochBlocks;
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
        Curve memory curve = _curve;
        uint256 discountBps = (uint256(_rates.alphaBps) * _reputation(m, _epoch())) / BPS;
        uint256 required = (uint256(curve.base) * (BPS - discountBps)) / BPS;
        uint256 floor = curve.floor;
        return required < floor ? floor : required;
    }

    function _slashable(address operator) internal view returns (uint256) {
        return adapter.slashableStake(operator, block.number + slashableWindowBlocks);
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
        operator = _recover(MessageHashUtils.toTypedDataHash(domain, hashA), sigA, 0);
        address signerB = _recover(MessageHashUtils.toTypedDataHash(domain, hashB), sigB, 1);
        if (operator != signerB) revert Staking_DifferentSigners(operator, signerB);
        if (!_members[operator].known) revert Staking_UnknownOperator(operator);
    }

    function _faultKey(address operator, bytes32 faultId) internal pure returns (bytes32) {
        return keccak256(abi.encode(operator, faultId));
    }

    /// @dev Effects of a slash: marks the fault, resets reputation and books `slashBps` of the
    /// operator's slashable stake against the period's cap. Returns what {_take} must take and
    /// the reward's part of it.
    function _book(
        address operator,
        bytes32 faultId,
        bytes32 key,
        uint256 slashBps,
        uint256 rewardBps
    ) internal returns (uint256 total, uint256 reward) {
        _faultSlashed[key] = true;
        Member storage m = _members[operator];
        m.reputation = 0;
        m.lastEpoch = uint64(_epoch());
        emit ReputationUpdated(operator, 0);

        total = (adapter.slashableStake(operator, block.number) * slashBps) / BPS;
        (uint256 usedNow, uint256 allowed, uint64 periodPlusOne) = _capState(_capRule);
        if (total > allowed) {
            emit SlashCapped(operator, faultId, total, allowed);
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

    function _recover(bytes32 digest, bytes calldata sig, uint256 which) internal pure returns (address signer) {
        ECDSA.RecoverError err;
        (signer, err, ) = ECDSA.tryRecover(digest, sig);
        if (err != ECDSA.RecoverError.NoError) revert Staking_InvalidSignature(which);
    }
}
