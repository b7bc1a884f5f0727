// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

/// @title INameRegistry
/// @notice Names in global state: `<label>.<suffix>` (e.g. `app.versatus`) → an owner, an expiry and
/// the records the DNS facade serves (content address, A, AAAA, TXT, service endpoints).
/// @dev A name is one DNS label (1..63 bytes of `a-z`, `0-9`, `-`, not starting or ending with `-`)
/// followed by `.` and the registry's suffix, lower case, 253 bytes at most; the contract checks it.
/// First registration is commit-reveal, so a name cannot be sniped from the mempool.
interface INameRegistry {
    /*//////////////////////////////////////////////////////////////
                                 TYPES
    //////////////////////////////////////////////////////////////*/

    /// @notice A service a name offers, e.g. `{service: "gateway", url: "https://gw.example:8443"}`.
    struct Endpoint {
        string service;
        string url;
    }

    /// @notice Everything a resolver needs about one name, read in one call.
    /// @dev `owner` is zero and the arrays empty when the name was never registered or has expired.
    struct NameRecords {
        address owner;
        uint64 expiresAt;
        /// Bumped on every (re-)registration: records of an earlier holder never carry over.
        uint64 generation;
        bytes32 contentId;
        /// 0 none, 1 program (a programId), 2 static bundle (sha256 of the bundle).
        uint8 contentKind;
        bytes4[] a;
        bytes16[] aaaa;
        string[] txt;
        Endpoint[] endpoints;
    }

    /*//////////////////////////////////////////////////////////////
                                 ERRORS
    //////////////////////////////////////////////////////////////*/

    /// @notice The name is empty, longer than 253 bytes, or its label longer than 63 bytes.
    error Names_InvalidLength(string name, uint256 length);
    /// @notice Byte `index` of the name is not `a-z`, `0-9` or `-` (upper case is refused too).
    error Names_InvalidCharacter(string name, uint256 index);
    /// @notice The label starts or ends with `-`, or is empty.
    error Names_InvalidLabel(string name);
    /// @notice The name is not `<label>.<suffix>` for this registry's suffix.
    error Names_WrongSuffix(string name, string suffix);
    /// @notice The registry's suffix itself is not one valid DNS label.
    error Names_InvalidSuffix(string suffix);
    /// @notice The commitment windows make no sense (min must be below max, max positive).
    error Names_InvalidWindows(uint64 minCommitmentAge, uint64 maxCommitmentAge, uint64 registrationPeriod);

    /// @notice A zero commitment commits to nothing.
    error Names_ZeroCommitment();
    /// @notice No live commitment matches `keccak256(abi.encode(name, owner, secret))`.
    error Names_CommitmentNotFound(bytes32 commitment);
    /// @notice The commitment is too recent: reveal from `usableAt` (a timestamp) on.
    error Names_CommitmentTooNew(bytes32 commitment, uint256 usableAt);
    /// @notice The commitment is too old: it expired at `expiredAt`; commit again.
    error Names_CommitmentExpired(bytes32 commitment, uint256 expiredAt);
    /// @notice The name is held by `owner` until `expiresAt`.
    error Names_NameTaken(string name, address owner, uint64 expiresAt);
    /// @notice The name has no live registration (never registered, or expired at `expiredAt`).
    error Names_NotRegistered(string name, uint64 expiredAt);
    /// @notice Only the name's owner may do this.
    error Names_NotOwner(string name, address caller, address owner);
    /// @notice A name cannot belong to the zero address.
    error Names_ZeroOwner();
    /// @notice Content kind `kind` with id `contentId` is not allowed (kind 1..2 with a non-zero id, or 0 with zero).
    error Names_InvalidContent(bytes32 contentId, uint8 kind);
    /// @notice A record list of `count` entries exceeds the limit `max`.
    error Names_TooManyRecords(string name, uint256 count, uint256 max);
    /// @notice Entry `index` of a record list is empty or longer than `max` bytes.
    error Names_InvalidRecordLength(string name, uint256 index, uint256 length, uint256 max);

    /*//////////////////////////////////////////////////////////////
                                 EVENTS
    //////////////////////////////////////////////////////////////*/

    /// @notice A registration was committed (the name stays hidden until it is revealed).
    event NameCommitted(bytes32 indexed commitment, address indexed committer);
    /// @notice `name` now belongs to `owner` until `expiresAt`; its records start empty.
    event NameRegistered(
        bytes32 indexed nameHash,
        string name,
        address indexed owner,
        uint64 expiresAt,
        uint64 generation
    );
    /// @notice The owner renewed `name` until `expiresAt`.
    event NameRenewed(bytes32 indexed nameHash, string name, uint64 expiresAt);
    /// @notice `name` moved from `from` to `to` (records kept).
    event NameTransferred(bytes32 indexed nameHash, string name, address indexed from, address indexed to);
    /// @notice The content address of `name` changed.
    event ContentSet(bytes32 indexed nameHash, string name, bytes32 contentId, uint8 kind);
    /// @notice The A and AAAA records of `name` were replaced.
    event AddressesSet(bytes32 indexed nameHash, string name, bytes4[] a, bytes16[] aaaa);
    /// @notice The TXT records of `name` were replaced.
    event TextSet(bytes32 indexed nameHash, string name, string[] txt);
    /// @notice The service endpoints of `name` were replaced.
    event EndpointsSet(bytes32 indexed nameHash, string name, Endpoint[] endpoints);

    /*//////////////////////////////////////////////////////////////
                               REGISTRATION
    //////////////////////////////////////////////////////////////*/

    /// @notice Commits to a registration without revealing the name: `commitment` =
    /// {makeCommitment}(name, owner, secret).
    /// @dev Requirements: non-zero commitment. The first commit of a commitment counts until it
    /// expires (a copy cannot push it later). Emits {NameCommitted}.
    function commit(bytes32 commitment) external;

    /// @notice Reveals a commitment and registers `name` to `owner` for the registration period.
    /// @dev Anyone may send it: the commitment binds the owner, so a front-runner who copies the
    /// reveal registers the name for the committed owner, and one who commits its own now is too
    /// recent. Requirements: a valid name; a commitment at least `minCommitmentAge` and at most
    /// `maxCommitmentAge` seconds old; the name unregistered or expired; `owner` non-zero.
    /// The commitment is consumed. Emits {NameRegistered}.
    function register(string calldata name, address owner, bytes32 secret) external;

    /// @notice Extends `name` to `registrationPeriod` seconds from now.
    /// @dev Requirements: caller is the owner and the name has not expired. Emits {NameRenewed}.
    function renew(string calldata name) external;

    /// @notice Gives `name` (with its records) to `to`.
    /// @dev Requirements: caller is the owner, the name has not expired, `to` non-zero. Emits {NameTransferred}.
    function transfer(string calldata name, address to) external;

    /*//////////////////////////////////////////////////////////////
                                 RECORDS
    //////////////////////////////////////////////////////////////*/

    /// @notice Points `name` at content: a program (kind 1, its programId) or a static bundle
    /// (kind 2, sha256 of the bundle); kind 0 with a zero id clears it.
    /// @dev Requirements: caller is the owner of an unexpired name. Emits {ContentSet}.
    function setContent(string calldata name, bytes32 contentId, uint8 kind) external;

    /// @notice Replaces the A (IPv4) and AAAA (IPv6) records of `name`.
    /// @dev Requirements: owner, unexpired, at most 8 of each. Emits {AddressesSet}.
    function setAddresses(string calldata name, bytes4[] calldata a, bytes16[] calldata aaaa) external;

    /// @notice Replaces the TXT records of `name` (each one DNS character-string: 1..255 bytes).
    /// @dev Requirements: owner, unexpired, at most 8 strings. Emits {TextSet}.
    function setText(string calldata name, string[] calldata txt) external;

    /// @notice Replaces the service endpoints of `name` (service 1..63 bytes, url 1..255 bytes).
    /// @dev Requirements: owner, unexpired, at most 8 endpoints. Emits {EndpointsSet}.
    function setEndpoints(string calldata name, Endpoint[] calldata endpoints) external;

    /*//////////////////////////////////////////////////////////////
                                  VIEWS
    //////////////////////////////////////////////////////////////*/

    /// @notice The suffix every name ends with (e.g. `versatus`).
    function suffix() external view returns (string memory);

    /// @notice The commitment of a registration: keccak256(abi.encode(name, owner, secret)).
    function makeCommitment(string calldata name, address owner, bytes32 secret) external pure returns (bytes32);

    /// @notice When `commitment` was made (0 if never, consumed, or replaced after expiring).
    function committedAt(bytes32 commitment) external view returns (uint256);

    /// @notice Reverts with the reason if `name` is not a valid name of this registry; returns its hash.
    function checkName(string calldata name) external view returns (bytes32 nameHash);

    /// @notice The owner of a live name (zero if unregistered or expired).
    function ownerOf(string calldata name) external view returns (address);

    /// @notice Every record of `name` (all empty when it has no live registration).
    function records(string calldata name) external view returns (NameRecords memory);
}
