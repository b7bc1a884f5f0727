// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {INameRegistry} from "./INameRegistry.sol";

/// @title NameRegistry
/// @notice Names in global state for the DNS facade (`versatus dns`) and, later, the content gateway.
/// @dev One label under one suffix per name; no fee (squatting is bounded only by the commit-reveal
/// delay and the registration period, see docs/dns.md). Records live under (name, generation), so
/// a name registered again after it expired starts with no records of its earlier holder.
contract NameRegistry is INameRegistry {
    /*//////////////////////////////////////////////////////////////
                                 STORAGE
    //////////////////////////////////////////////////////////////*/

    /// @dev One slot: 160 + 64 + 32 bits.
    struct Registration {
        address owner;
        uint64 expiresAt;
        /// A name needs a commit and a reveal at least `minCommitmentAge` apart per registration, so
        /// 2^32 registrations of one name cannot happen.
        uint32 generation;
    }

    struct Records {
        bytes32 contentId;
        uint8 contentKind;
        bytes4[] a;
        bytes16[] aaaa;
        string[] txt;
        Endpoint[] endpoints;
    }

    mapping(bytes32 nameHash => Registration) private _registrations;
    mapping(bytes32 recordsKey => Records) private _records;
    mapping(bytes32 commitment => uint256 timestamp) private _committedAt;

    /*//////////////////////////////////////////////////////////////
                                CONSTANTS
    //////////////////////////////////////////////////////////////*/

    uint256 private constant MAX_NAME_BYTES = 253;
    uint256 private constant MAX_LABEL_BYTES = 63;
    uint256 private constant MAX_RECORDS = 8;
    /// One DNS character-string holds at most 255 bytes.
    uint256 private constant MAX_TXT_BYTES = 255;
    uint256 private constant MAX_URL_BYTES = 255;
    uint8 private constant CONTENT_NONE = 0;
    uint8 private constant CONTENT_BUNDLE = 2;

    /// @notice Seconds a commitment must age before its reveal (a reveal's front-runner cannot wait that long).
    uint64 public immutable minCommitmentAge;
    /// @notice Seconds after which a commitment can no longer be revealed.
    uint64 public immutable maxCommitmentAge;
    /// @notice Seconds a registration (or a renewal) lasts.
    uint64 public immutable registrationPeriod;

    string private _suffix;

    /*//////////////////////////////////////////////////////////////
                               CONSTRUCTOR
    //////////////////////////////////////////////////////////////*/

    /// @param suffix_ the network's top-level label, e.g. `versatus`
    /// @param minAge seconds before a commitment can be revealed (at least 1: a reveal in the commit's block would defeat it)
    /// @param maxAge seconds after which it can no longer be (more than `minAge`)
    /// @param period seconds a registration lasts (positive)
    constructor(string memory suffix_, uint64 minAge, uint64 maxAge, uint64 period) {
        bytes memory s = bytes(suffix_);
        if (s.length == 0 || s.length > MAX_LABEL_BYTES || !_isLabel(s, 0, s.length))
            revert Names_InvalidSuffix(suffix_);
        if (minAge == 0 || maxAge <= minAge || period == 0) revert Names_InvalidWindows(minAge, maxAge, period);
        _suffix = suffix_;
        minCommitmentAge = minAge;
        maxCommitmentAge = maxAge;
        registrationPeriod = period;
    }

    /*//////////////////////////////////////////////////////////////
                               REGISTRATION
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc INameRegistry
    function commit(bytes32 commitment) external {
        if (commitment == bytes32(0)) revert Names_ZeroCommitment();
        uint256 at = _committedAt[commitment];
        // The first live commit stands: a copy must not push its time later. An expired one may be renewed.
        if (at == 0 || block.timestamp > at + maxCommitmentAge) _committedAt[commitment] = block.timestamp;
        emit NameCommitted(commitment, msg.sender);
    }

    /// @inheritdoc INameRegistry
    function register(string calldata name, address owner, bytes32 secret) external {
        bytes32 nameHash = _checkName(name);
        if (owner == address(0)) revert Names_ZeroOwner();
        bytes32 commitment = makeCommitment(name, owner, secret);
        uint256 at = _committedAt[commitment];
        if (at == 0) revert Names_CommitmentNotFound(commitment);
        if (block.timestamp < at + minCommitmentAge) revert Names_CommitmentTooNew(commitment, at + minCommitmentAge);
        if (block.timestamp > at + maxCommitmentAge) revert Names_CommitmentExpired(commitment, at + maxCommitmentAge);
        Registration storage reg = _registrations[nameHash];
        if (reg.owner != address(0) && block.timestamp < reg.expiresAt)
            revert Names_NameTaken(name, reg.owner, reg.expiresAt);

        // effects
        delete _committedAt[commitment];
        uint64 expiresAt = uint64(block.timestamp) + registrationPeriod;
        uint32 generation = reg.generation + 1;
        _registrations[nameHash] = Registration({owner: owner, expiresAt: expiresAt, generation: generation});
        emit NameRegistered(nameHash, name, owner, expiresAt, generation);
    }

    /// @inheritdoc INameRegistry
    function renew(string calldata name) external {
        (bytes32 nameHash, Registration storage reg) = _ownedByCaller(name);
        uint64 expiresAt = uint64(block.timestamp) + registrationPeriod;
        reg.expiresAt = expiresAt;
        emit NameRenewed(nameHash, name, expiresAt);
    }

    /// @inheritdoc INameRegistry
    function transfer(string calldata name, address to) external {
        if (to == address(0)) revert Names_ZeroOwner();
        (bytes32 nameHash, Registration storage reg) = _ownedByCaller(name);
        reg.owner = to;
        emit NameTransferred(nameHash, name, msg.sender, to);
    }

    /*//////////////////////////////////////////////////////////////
                                 RECORDS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc INameRegistry
    function setContent(string calldata name, bytes32 contentId, uint8 kind) external {
        if (kind > CONTENT_BUNDLE || (kind == CONTENT_NONE) != (contentId == bytes32(0)))
            revert Names_InvalidContent(contentId, kind);
        (bytes32 nameHash, Registration storage reg) = _ownedByCaller(name);
        Records storage r = _records[_recordsKey(nameHash, reg.generation)];
        r.contentId = contentId;
        r.contentKind = kind;
        emit ContentSet(nameHash, name, contentId, kind);
    }

    /// @inheritdoc INameRegistry
    function setAddresses(string calldata name, bytes4[] calldata a, bytes16[] calldata aaaa) external {
        if (a.length > MAX_RECORDS) revert Names_TooManyRecords(name, a.length, MAX_RECORDS);
        if (aaaa.length > MAX_RECORDS) revert Names_TooManyRecords(name, aaaa.length, MAX_RECORDS);
        (bytes32 nameHash, Registration storage reg) = _ownedByCaller(name);
        Records storage r = _records[_recordsKey(nameHash, reg.generation)];
        r.a = a;
        r.aaaa = aaaa;
        emit AddressesSet(nameHash, name, a, aaaa);
    }

    /// @inheritdoc INameRegistry
    function setText(string calldata name, string[] calldata txt) external {
        if (txt.length > MAX_RECORDS) revert Names_TooManyRecords(name, txt.length, MAX_RECORDS);
        for (uint256 i = 0; i < txt.length; ++i) _checkLength(name, i, bytes(txt[i]).length, MAX_TXT_BYTES);
        (bytes32 nameHash, Registration storage reg) = _ownedByCaller(name);
        Records storage r = _records[_recordsKey(nameHash, reg.generation)];
        delete r.txt;
        for (uint256 i = 0; i < txt.length; ++i) r.txt.push(txt[i]);
        emit TextSet(nameHash, name, txt);
    }

    /// @inheritdoc INameRegistry
    function setEndpoints(string calldata name, Endpoint[] calldata endpoints) external {
        if (endpoints.length > MAX_RECORDS) revert Names_TooManyRecords(name, endpoints.length, MAX_RECORDS);
        for (uint256 i = 0; i < endpoints.length; ++i) {
            _checkLength(name, i, bytes(endpoints[i].service).length, MAX_LABEL_BYTES);
            _checkLength(name, i, bytes(endpoints[i].url).length, MAX_URL_BYTES);
        }
        (bytes32 nameHash, Registration storage reg) = _ownedByCaller(name);
        Records storage r = _records[_recordsKey(nameHash, reg.generation)];
        delete r.endpoints;
        for (uint256 i = 0; i < endpoints.length; ++i) r.endpoints.push(endpoints[i]);
        emit EndpointsSet(nameHash, name, endpoints);
    }

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @inheritdoc INameRegistry
    function suffix() external view returns (string memory) {
        return _suffix;
    }

    /// @inheritdoc INameRegistry
    function committedAt(bytes32 commitment) external view returns (uint256) {
        return _committedAt[commitment];
    }

    /// @inheritdoc INameRegistry
    function checkName(string calldata name) external view returns (bytes32) {
        return _checkName(name);
    }

    /// @inheritdoc INameRegistry
    function ownerOf(string calldata name) external view returns (address) {
        Registration storage reg = _registrations[keccak256(bytes(name))];
        return block.timestamp < reg.expiresAt ? reg.owner : address(0);
    }

    /// @inheritdoc INameRegistry
    function records(string calldata name) external view returns (NameRecords memory out) {
        bytes32 nameHash = keccak256(bytes(name));
        Registration storage reg = _registrations[nameHash];
        if (reg.owner == address(0) || block.timestamp >= reg.expiresAt) return out;
        Records storage r = _records[_recordsKey(nameHash, reg.generation)];
        out.owner = reg.owner;
        out.expiresAt = reg.expiresAt;
        out.generation = reg.generation;
        out.contentId = r.contentId;
        out.contentKind = r.contentKind;
        out.a = r.a;
        out.aaaa = r.aaaa;
        out.txt = r.txt;
        out.endpoints = r.endpoints;
    }

    /// @inheritdoc INameRegistry
    function makeCommitment(string calldata name, address owner, bytes32 secret) public pure returns (bytes32) {
        return keccak256(abi.encode(name, owner, secret));
    }

    /*//////////////////////////////////////////////////////////////
                                 INTERNAL
    //////////////////////////////////////////////////////////////*/

    /// @dev The live registration of `name` if the caller owns it, else reverts with why not.
    function _ownedByCaller(string calldata name) private view returns (bytes32 nameHash, Registration storage reg) {
        nameHash = keccak256(bytes(name));
        reg = _registrations[nameHash];
        if (reg.owner == address(0) || block.timestamp >= reg.expiresAt)
            revert Names_NotRegistered(name, reg.expiresAt);
        if (reg.owner != msg.sender) revert Names_NotOwner(name, msg.sender, reg.owner);
    }

    function _recordsKey(bytes32 nameHash, uint32 generation) private pure returns (bytes32) {
        return keccak256(abi.encode(nameHash, generation));
    }

    function _checkLength(string calldata name, uint256 index, uint256 length, uint256 max) private pure {
        if (length == 0 || length > max) revert Names_InvalidRecordLength(name, index, length, max);
    }

    /// @dev `<label>.<suffix>`: length, charset and label rules (RFC 1035 letter-digit-hyphen, lower case).
    function _checkName(string calldata name) private view returns (bytes32) {
        bytes calldata b = bytes(name);
        bytes memory s = bytes(_suffix);
        uint256 n = b.length;
        if (n == 0 || n > MAX_NAME_BYTES) revert Names_InvalidLength(name, n);
        // characters first, so an upper-case or stray byte is named by its position
        for (uint256 i = 0; i < n; ++i) {
            bytes1 c = b[i];
            if (!((c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "-" || c == ".")) {
                revert Names_InvalidCharacter(name, i);
            }
        }
        if (n <= s.length + 1 || b[n - s.length - 1] != ".") revert Names_WrongSuffix(name, _suffix);
        for (uint256 i = 0; i < s.length; ++i) if (b[n - s.length + i] != s[i]) revert Names_WrongSuffix(name, _suffix);
        uint256 labelLength = n - s.length - 1;
        if (labelLength > MAX_LABEL_BYTES) revert Names_InvalidLength(name, n);
        for (uint256 i = 0; i < labelLength; ++i) if (b[i] == ".") revert Names_WrongSuffix(name, _suffix);
        if (b[0] == "-" || b[labelLength - 1] == "-") revert Names_InvalidLabel(name);
        return keccak256(b);
    }

    /// @dev Whether s[from:to] is a letter-digit-hyphen label that neither starts nor ends with `-`.
    function _isLabel(bytes memory s, uint256 from, uint256 to) private pure returns (bool) {
        if (to <= from || s[from] == "-" || s[to - 1] == "-") return false;
        for (uint256 i = from; i < to; ++i) {
            bytes1 c = s[i];
            if (!((c >= "a" && c <= "z") || (c >= "0" && c <= "9") || c == "-")) return false;
        }
        return true;
    }
}
