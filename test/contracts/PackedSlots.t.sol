// SPDX-License-Identifier: MIT
pragma solidity ^0.8.30;

import {Test} from "forge-std/Test.sol";
import {EscrowRecord, EscrowRecordLib} from "../../contracts/core/EscrowRecord.sol";
import {OracleState, OracleStateLib} from "../../contracts/core/OracleState.sol";
import {AssetEntry, AssetEntryLib} from "../../contracts/core/AssetEntry.sol";
import {FeeSchedule, FeeScheduleLib} from "../../contracts/core/FeeSchedule.sol";
import {FeeCounts, FeeCountsLib} from "../../contracts/core/FeeCounts.sol";
import {RemoteIngestion, RemoteIngestionLib} from "../../contracts/core/RemoteIngestion.sol";
import {Tenure, TenureLib} from "../../contracts/staking/Tenure.sol";
import {EpochAccrual, EpochAccrualLib} from "../../contracts/staking/EpochAccrual.sol";
import {Membership, MembershipLib} from "../../contracts/operators/Membership.sol";
import {RateBucket, RateBucketLib} from "../../contracts/tokens/RateBucket.sol";

/// @dev The typed packed-slot libraries: every field reads back what was written, at its
/// boundaries (0 and its maximum), and a setter never touches a neighbouring field.
contract PackedSlotsTest is Test {
    using EscrowRecordLib for EscrowRecord;
    using OracleStateLib for OracleState;
    using AssetEntryLib for AssetEntry;
    using FeeScheduleLib for FeeSchedule;
    using FeeCountsLib for FeeCounts;
    using RemoteIngestionLib for RemoteIngestion;
    using TenureLib for Tenure;
    using EpochAccrualLib for EpochAccrual;
    using MembershipLib for Membership;
    using RateBucketLib for RateBucket;

    /*//////////////////////////////////////////////////////////////
                              EscrowRecord
    //////////////////////////////////////////////////////////////*/

    function testFuzz_escrowRecord_roundTripsEveryField(
        uint128 amount,
        uint40 requestedAt,
        uint24 ttl,
        uint32 accountId,
        uint24 assetId,
        uint8 status
    ) public pure {
        EscrowRecord r = EscrowRecordLib.pack(amount, requestedAt, ttl, accountId, assetId, status);
        assertEq(r.amount(), amount);
        assertEq(r.requestedAt(), requestedAt);
        assertEq(r.ttl(), ttl);
        assertEq(r.deadline(), uint256(requestedAt) + ttl);
        assertEq(r.accountId(), accountId);
        assertEq(r.assetId(), assetId);
        assertEq(r.status(), status);
    }

    function test_escrowRecord_maximaDoNotSpillIntoNeighbours() public pure {
        EscrowRecord r = EscrowRecordLib.pack(type(uint128).max, 0, type(uint24).max, 0, type(uint24).max, 0);
        assertEq(r.amount(), type(uint128).max);
        assertEq(r.requestedAt(), 0);
        assertEq(r.ttl(), type(uint24).max);
        assertEq(r.accountId(), 0);
        assertEq(r.assetId(), type(uint24).max);
        assertEq(r.status(), 0);
        assertFalse(r.isEmpty());
        assertTrue(EscrowRecord.wrap(0).isEmpty());
    }

    function testFuzz_escrowRecord_withStatusKeepsTheEscrow(
        uint128 amount,
        uint40 requestedAt,
        uint24 ttl,
        uint32 accountId,
        uint24 assetId,
        uint8 status,
        uint8 newStatus
    ) public pure {
        EscrowRecord r = EscrowRecordLib.pack(amount, requestedAt, ttl, accountId, assetId, status);
        EscrowRecord s = r.withStatus(newStatus);
        assertEq(s.status(), newStatus);
        assertEq(s.amount(), amount);
        assertEq(s.deadline(), uint256(requestedAt) + ttl);
        assertEq(s.accountId(), accountId);
        assertEq(s.assetId(), assetId);
    }

    function testFuzz_escrowRecord_ingestedFormKeepsTheLow208BitsAndTheTime(
        bytes32 commitment,
        uint40 at,
        uint8 status
    ) public pure {
        EscrowRecord r = EscrowRecordLib.ingested(status, at, commitment);
        assertEq(r.status(), status);
        assertEq(r.ingestedAt(), at);
        assertEq(r.commitment(), bytes32(uint256(uint208(uint256(commitment)))));
    }

    /*//////////////////////////////////////////////////////////////
                              OracleState
    //////////////////////////////////////////////////////////////*/

    function testFuzz_oracleState_settersTouchOnlyTheirField(
        uint256 raw,
        uint32 accounts,
        uint24 assets,
        uint96 fee
    ) public pure {
        OracleState s = OracleState.wrap(raw);
        OracleState a = s.withAccountCount(accounts);
        assertEq(a.accountCount(), accounts);
        assertEq(a.nonce(), s.nonce());
        assertEq(a.assetCount(), s.assetCount());
        assertEq(a.ethFee(), s.ethFee());

        OracleState b = s.withAssetCount(assets);
        assertEq(b.assetCount(), assets);
        assertEq(b.nonce(), s.nonce());
        assertEq(b.accountCount(), s.accountCount());
        assertEq(b.ethFee(), s.ethFee());

        OracleState c = s.withEthFee(fee);
        assertEq(c.ethFee(), fee);
        assertEq(c.nonce(), s.nonce());
        assertEq(c.accountCount(), s.accountCount());
        assertEq(c.assetCount(), s.assetCount());
        // the unused top bits are kept as they were
        assertEq(OracleState.unwrap(c) >> 216, raw >> 216);
    }

    function testFuzz_oracleState_nextNonceAdvancesOnlyTheNonce(
        uint64 nonce,
        uint32 accounts,
        uint24 assets,
        uint96 fee
    ) public pure {
        vm.assume(nonce < type(uint64).max);
        OracleState s = OracleState.wrap(0).withAccountCount(accounts).withAssetCount(assets).withEthFee(fee);
        s = OracleState.wrap(OracleState.unwrap(s) | nonce);
        OracleState n = s.withNextNonce();
        assertEq(n.nonce(), uint256(nonce) + 1);
        assertEq(n.accountCount(), accounts);
        assertEq(n.assetCount(), assets);
        assertEq(n.ethFee(), fee);
    }

    /*//////////////////////////////////////////////////////////////
                               AssetEntry
    //////////////////////////////////////////////////////////////*/

    function testFuzz_assetEntry_roundTripsAndWithFeeKeepsTheId(uint24 assetId, uint96 fee, uint96 newFee) public pure {
        vm.assume(assetId != 0);
        AssetEntry e = AssetEntryLib.pack(assetId, fee);
        assertTrue(e.isAccepted());
        assertEq(e.assetId(), assetId);
        assertEq(e.fee(), fee);
        AssetEntry f = e.withFee(newFee);
        assertEq(f.assetId(), assetId);
        assertEq(f.fee(), newFee);
        assertFalse(AssetEntry.wrap(0).isAccepted());
    }

    /*//////////////////////////////////////////////////////////////
                              FeeSchedule
    //////////////////////////////////////////////////////////////*/

    function testFuzz_feeSchedule_paysCurrentFromItsNonceAndPreviousBefore(
        uint96 current,
        uint96 previous,
        uint64 fromNonce,
        uint64 nonce
    ) public pure {
        FeeSchedule s = FeeScheduleLib.pack(current, previous, fromNonce);
        assertEq(s.current(), current);
        assertEq(s.previous(), previous);
        assertEq(s.fromNonce(), fromNonce);
        assertEq(s.feeAt(nonce), nonce >= fromNonce ? current : previous);
    }

    function test_feeSchedule_boundaryNonceAndMaxima() public pure {
        FeeSchedule s = FeeScheduleLib.pack(type(uint96).max, 1, type(uint64).max);
        assertEq(s.feeAt(type(uint64).max), type(uint96).max);
        assertEq(s.feeAt(type(uint64).max - 1), 1);
        assertEq(s.previous(), 1);
        assertFalse(s.isEmpty());
        assertTrue(FeeSchedule.wrap(0).isEmpty());
    }

    /*//////////////////////////////////////////////////////////////
                               FeeCounts
    //////////////////////////////////////////////////////////////*/

    function testFuzz_feeCounts_oneMoreInExactlyTheMarkedLanes(uint256 raw, uint8 lanes) public pure {
        // every lane below its maximum, so no carry is possible
        raw &= 0x7fffffff7fffffff7fffffff7fffffff7fffffff7fffffff7fffffff7fffffff;
        FeeCounts c = FeeCounts.wrap(raw);
        FeeCounts d = c.plus(FeeCountsLib.oneEach(lanes));
        for (uint256 lane; lane < 8; ++lane) {
            uint256 expected = c.countAt(lane) + ((lanes >> lane) & 1);
            assertEq(d.countAt(lane), expected);
        }
    }

    function test_feeCounts_aFullLaneDoesNotReachItsNeighbourUnlessIncremented() public pure {
        FeeCounts c = FeeCounts.wrap(uint256(type(uint32).max) << 32); // lane 1 full
        FeeCounts d = c.plus(FeeCountsLib.oneEach(0x01)); // lane 0 only
        assertEq(d.countAt(0), 1);
        assertEq(d.countAt(1), type(uint32).max);
        assertEq(d.countAt(2), 0);
        assertEq(FeeCounts.unwrap(FeeCountsLib.oneEach(0)), 0);
    }

    function test_feeCounts_groupAndLaneOfAnIndex() public pure {
        assertEq(FeeCountsLib.groupOf(0), 0);
        assertEq(FeeCountsLib.laneOf(7), 7);
        assertEq(FeeCountsLib.groupOf(8), 1);
        assertEq(FeeCountsLib.laneOf(8), 0);
        assertEq(FeeCountsLib.groupOf(255), 31);
        assertEq(FeeCountsLib.laneOf(255), 7);
    }

    /*//////////////////////////////////////////////////////////////
                            RemoteIngestion
    //////////////////////////////////////////////////////////////*/

    function testFuzz_remoteIngestion_roundTrips(bytes32 commitment, uint40 at) public pure {
        vm.assume(at != 0);
        RemoteIngestion r = RemoteIngestionLib.pack(commitment, at);
        assertFalse(r.isEmpty());
        assertEq(r.ingestedAt(), at);
        assertEq(r.commitment(), bytes32(uint256(uint208(uint256(commitment)))));
        // nothing above the time
        assertEq(RemoteIngestion.unwrap(r) >> 248, 0);
    }

    /*//////////////////////////////////////////////////////////////
                                 Tenure
    //////////////////////////////////////////////////////////////*/

    function testFuzz_tenure_roundTripsAndWithToEpochKeepsTheRest(
        uint8 index,
        uint40 from,
        uint40 to,
        uint40 newTo
    ) public pure {
        Tenure t = TenureLib.pack(index, from, to);
        assertEq(t.index(), index);
        assertEq(t.fromEpoch(), from);
        assertEq(t.toEpoch(), to);
        Tenure u = t.withToEpoch(newTo);
        assertEq(u.index(), index);
        assertEq(u.fromEpoch(), from);
        assertEq(u.toEpoch(), newTo);
    }

    function test_tenure_openEndIsTheMaximum() public pure {
        Tenure t = TenureLib.pack(255, type(uint40).max, type(uint40).max);
        assertEq(t.index(), 255);
        assertEq(t.fromEpoch(), type(uint40).max);
        assertEq(t.toEpoch(), type(uint40).max);
        assertEq(t.withToEpoch(0).fromEpoch(), type(uint40).max);
    }

    /*//////////////////////////////////////////////////////////////
                              EpochAccrual
    //////////////////////////////////////////////////////////////*/

    function testFuzz_epochAccrual_gainAndTagsAreIndependent(uint16 gain, uint256 a, uint256 b) public pure {
        uint256 tagA = EpochAccrualLib.tagOf(a, 1);
        uint256 tagB = EpochAccrualLib.tagOf(b, 2);
        EpochAccrual e = EpochAccrual.wrap(0).withTag(0, tagA).withTag(2, tagB).withGained(gain);
        assertEq(e.gained(), gain);
        assertEq(e.tagAt(0), tagA);
        assertEq(e.tagAt(1), 0);
        assertEq(e.tagAt(2), tagB);
        (bool present, uint256 free) = e.find(tagB);
        assertTrue(present);
        assertEq(free, 1);
        assertEq(e.withGained(0).tagAt(2), tagB);
    }

    /*//////////////////////////////////////////////////////////////
                               Membership
    //////////////////////////////////////////////////////////////*/

    function testFuzz_membership_activeFlagKeepsIndexAndKnown(uint8 index) public pure {
        Membership m = MembershipLib.known(index);
        assertTrue(m.isKnown());
        assertFalse(m.isActive());
        assertEq(m.index(), index);
        Membership a = m.withActive(true);
        assertTrue(a.isActive());
        assertTrue(a.isKnown());
        assertEq(a.index(), index);
        Membership b = a.withActive(false);
        assertFalse(b.isActive());
        assertTrue(b.isKnown());
        assertEq(b.index(), index);
        assertFalse(Membership.wrap(0).isKnown());
    }

    /*//////////////////////////////////////////////////////////////
                               RateBucket
    //////////////////////////////////////////////////////////////*/

    function testFuzz_rateBucket_roundTripsAndWithAvailableKeepsCapacityAndWindow(
        uint96 capacity,
        uint96 available,
        uint40 at,
        uint24 window,
        uint96 newAvailable,
        uint40 newAt
    ) public pure {
        RateBucket b = RateBucketLib.pack(capacity, available, at, window);
        assertEq(b.capacity(), capacity);
        assertEq(b.available(), available);
        assertEq(b.updatedAt(), at);
        assertEq(b.window(), window);
        RateBucket c = b.withAvailable(newAvailable, newAt);
        assertEq(c.capacity(), capacity);
        assertEq(c.window(), window);
        assertEq(c.available(), newAvailable);
        assertEq(c.updatedAt(), newAt);
    }

    function test_rateBucket_maximaDoNotSpill() public pure {
        RateBucket b = RateBucketLib.pack(type(uint96).max, 0, type(uint40).max, 0);
        assertEq(b.available(), 0);
        assertEq(b.window(), 0);
        assertEq(b.capacity(), type(uint96).max);
        assertEq(b.updatedAt(), type(uint40).max);
        assertTrue(RateBucket.wrap(0).isEmpty());
    }
}
