// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {IOperatorSet} from "../interfaces/IOperatorSet.sol";
import {IStakingRegistry} from "../interfaces/IStakingRegistry.sol";
import {IRestakingAdapter} from "../interfaces/IRestakingAdapter.sol";
import {Result} from "../interfaces/IInstruction.sol";
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

    /// @notice Constructor argument: the equivocation slash.
    struct SlashConfig {
        uint256 equivocationSlashBps;
        uint256 submitterRewardBps;
        address treasury;
    }

    /*//////////////////////////////////////////////////////////////
                               CONSTANTS
    //////////////////////////////////////////////////////////////*/

    /// @notice keccak256("Result(bytes32 requestId,uint256 originChainId,bytes32 programId,bytes32 inputHash,uint8 status,bytes32 instructionsHash,bytes32 bodyHash)"),
    /// the InstructionIngestor's RESULT_TYPEHASH.
    bytes32 public constant RESULT_TYPEHASH = keccak256(
        "Result(bytes32 requestId,uint256 originChainId,bytes32 programId,bytes32 inputHash,uint8 status,bytes32 instructionsHash,bytes32 bodyHash)"
    );
    /// @notice keccak256("EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)")
    bytes32 public constant DOMAIN_TYPEHASH = keccak256(
        "EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)"
    );
    /// @notice keccak256("Versatus")
    bytes32 public constant NAME_HASH = keccak256("Versatus");
    /// @notice keccak256("1")
    bytes32 public constant VERSION_HASH = keccak256("1");

    uint256 internal constant BPS = 10_000;
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

    mapping(address operator => Member) private _members;
    mapping(bytes32 operatorOriginRequest => bool) private _equivocationSlashed;
    mapping(address account => bool) public isReporter;
    /// @notice Operator of each index, in the order they first registered.
    address[] public operators;
    /// @inheritdoc IOperatorSet
    uint256 public threshold;
    /// @inheritdoc IStakingRegistry
    uint256 public registeredCount;

    // required stake: one slot
    uint128 internal _base;
    uint128 internal _floor;
    // reputation and slashing rates: one slot
    uint64 internal _epochBlocks;
    uint16 internal _alphaBps;
    uint16 internal _gainPerResult;
    uint16 internal _maxGainPerEpoch;
    uint16 internal _decayPerEpoch;
    uint16 internal _equivocationSlashBps;
    uint16 internal _submitterRewardBps;
    address internal _treasury;

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
    }

    /*//////////////////////////////////////////////////////////////
                          EXTERNAL: OPERATORS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc IStakingRegistry
    function register() external {
        Member memory m = _members[msg.sender];
        if (m.registered) revert Staking_AlreadyRegistered(msg.sender);
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
    function recordFinalized(address[] calldata operators_) external {
        if (!isReporter[msg.sender]) revert Staking_NotReporter(msg.sender);
        uint256 epoch = _epoch();
        uint256 gain = _gainPerResult;
        uint256 cap = _maxGainPerEpoch;
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
    ) external nonReentrant {
        // ---- checks
        address operator = _equivocator(a, sigA, b, sigB, ingestorChainId, ingestor);
        _slashEquivocation(operator, a.originChainId, a.requestId);
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
    function isActive(address operator) external view returns (bool) {
        Member memory m = _members[operator];
        return m.registered && _slashable(operator) >= _required(m);
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
        return _equivocationSlashed[keccak256(abi.encode(operator, originChainId, requestId))];
    }

    /// @inheritdoc IStakingRegistry
    function stakeParams() external view returns (uint256 base, uint256 floor, uint256 alphaBps) {
        return (_base, _floor, _alphaBps);
    }

    /// @inheritdoc IStakingRegistry
    function reputationParams()
        external
        view
        returns (uint256 epochBlocks, uint256 gainPerResult, uint256 maxGainPerEpoch, uint256 decayPerEpoch)
    {
        return (_epochBlocks, _gainPerResult, _maxGainPerEpoch, _decayPerEpoch);
    }

    /// @inheritdoc IStakingRegistry
    function slashParams()
        external
        view
        returns (uint256 equivocationSlashBps, uint256 submitterRewardBps, address treasury)
    {
        return (_equivocationSlashBps, _submitterRewardBps, _treasury);
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
        _base = uint128(base);
        _floor = uint128(floor);
        _alphaBps = uint16(alphaBps);
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
        _epochBlocks = uint64(epochBlocks);
        _gainPerResult = uint16(gainPerResult);
        _maxGainPerEpoch = uint16(maxGainPerEpoch);
        _decayPerEpoch = uint16(decayPerEpoch);
        emit ReputationParamsSet(epochBlocks, gainPerResult, maxGainPerEpoch, decayPerEpoch);
    }

    function _setSlashParams(uint256 equivocationSlashBps, uint256 submitterRewardBps, address treasury) internal {
        if (
            equivocationSlashBps == 0 ||
            equivocationSlashBps > BPS ||
            submitterRewardBps > BPS ||
            treasury == address(0)
        ) revert Staking_InvalidSlashParams(equivocationSlashBps, submitterRewardBps, treasury);
        _equivocationSlashBps = uint16(equivocationSlashBps);
        _submitterRewardBps = uint16(submitterRewardBps);
        _treasury = treasury;
        emit SlashParamsSet(equivocationSlashBps, submitterRewardBps, treasury);
    }

    function _epoch() internal view returns (uint256) {
        return block.number / _epochBlocks;
    }

    /// @dev Stored reputation minus `decayPerEpoch` for every epoch since it was stored, floored at 0.
    function _reputation(Member memory m, uint256 epoch) internal view returns (uint256) {
        uint256 rep = m.reputation;
        if (rep == 0 || epoch <= m.lastEpoch) return rep;
        uint256 decay = (epoch - m.lastEpoch) * _decayPerEpoch;
        return decay >= rep ? 0 : rep - decay;
    }

    /// @dev max(floor, base * (1 - alpha * reputation)), alpha and reputation in basis points.
    function _required(Member memory m) internal view returns (uint256) {
        uint256 discountBps = (uint256(_alphaBps) * _reputation(m, _epoch())) / BPS;
        uint256 required = (uint256(_base) * (BPS - discountBps)) / BPS;
        uint256 floor = _floor;
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
        bytes32 hashA = keccak256(abi.encode(RESULT_TYPEHASH, a));
        bytes32 hashB = keccak256(abi.encode(RESULT_TYPEHASH, b));
        if (hashA == hashB) revert Staking_SameResult(hashA);
        bytes32 domain = keccak256(abi.encode(DOMAIN_TYPEHASH, NAME_HASH, VERSION_HASH, ingestorChainId, ingestor));
        operator = _recover(MessageHashUtils.toTypedDataHash(domain, hashA), sigA, 0);
        address signerB = _recover(MessageHashUtils.toTypedDataHash(domain, hashB), sigB, 1);
        if (operator != signerB) revert Staking_DifferentSigners(operator, signerB);
        if (!_members[operator].known) revert Staking_UnknownOperator(operator);
    }

    /// @dev Marks the fault, resets reputation, emits, then takes the slash (CEI).
    function _slashEquivocation(address operator, uint256 originChainId, bytes32 requestId) internal {
        bytes32 key = keccak256(abi.encode(operator, originChainId, requestId));
        if (_equivocationSlashed[key]) revert Staking_AlreadySlashed(operator, originChainId, requestId);

        // ---- effects
        _equivocationSlashed[key] = true;
        Member storage m = _members[operator];
        m.reputation = 0;
        m.lastEpoch = uint64(_epoch());
        emit ReputationUpdated(operator, 0);
        uint256 total = (adapter.slashableStake(operator, block.number) * _equivocationSlashBps) / BPS;
        uint256 reward = (total * _submitterRewardBps) / BPS;
        uint256 remainder = total - reward;
        emit EquivocationSlashed(operator, originChainId, requestId, msg.sender, reward, remainder);

        // ---- interactions (reward + remainder <= the operator's stake, so both are taken in full)
        if (reward != 0) adapter.slash(operator, reward, msg.sender);
        if (remainder != 0) adapter.slash(operator, remainder, _treasury);
    }

    function _recover(bytes32 digest, bytes calldata sig, uint256 which) internal pure returns (address signer) {
        ECDSA.RecoverError err;
        (signer, err, ) = ECDSA.tryRecover(digest, sig);
        if (err != ECDSA.RecoverError.NoError) revert Staking_InvalidSignature(which);
    }
}
