#[test_only]
module syncer::registry_tests;

use std::string::{Self, String};
use sui::clock;
use sui::test_scenario::{Self as ts, Scenario};
use syncer::registry::{Self, Registry, AdminCap, PublisherCap};

const ADMIN: address = @0xA;
const OTHER_ADMIN: address = @0xB;
const PUBLISHER: address = @0xC;
const OTHER_PUBLISHER: address = @0xD;
const APPROVER_1: address = @0xE1;
const APPROVER_2: address = @0xE2;
const APPROVER_3: address = @0xE3;
const STRANGER: address = @0xF;

// === Helpers ===

/// `n` copies of `byte`.
fun repeat(byte: u8, n: u64): vector<u8> {
    let mut bytes = vector[];
    let mut i = 0;
    while (i < n) {
        bytes.push_back(byte);
        i = i + 1;
    };
    bytes
}

/// A 32-byte sha256 made of `byte`.
fun sha(byte: u8): vector<u8> {
    repeat(byte, 32)
}

/// A 40-digit commit made of the hex digit `digit` (an ASCII byte of [0-9a-f]).
fun commit40(digit: u8): String {
    string::utf8(repeat(digit, 40))
}

/// A 64-digit (SHA-256) commit made of the hex digit `digit`.
fun commit64(digit: u8): String {
    string::utf8(repeat(digit, 64))
}

/// `admin` creates a registry named `name`; returns the shared Registry's ID.
fun create_registry(scenario: &mut Scenario, admin: address, name: vector<u8>): ID {
    scenario.next_tx(admin);
    registry::create(string::utf8(name), scenario.ctx());
    let effects = scenario.next_tx(admin);
    // create emits no event
    assert!(effects.num_user_events() == 0, 100);
    let shared = effects.shared();
    assert!(shared.length() == 1, 101);
    shared[0]
}

/// `admin` lists a new PublisherCap for `recipient`; returns the cap's ID.
fun add_publisher(
    scenario: &mut Scenario,
    admin: address,
    registry_id: ID,
    recipient: address,
): ID {
    scenario.next_tx(admin);
    let admin_cap = scenario.take_from_sender<AdminCap>();
    let mut reg = scenario.take_shared_by_id<Registry>(registry_id);
    registry::add_publisher(&admin_cap, &mut reg, recipient, scenario.ctx());
    ts::return_shared(reg);
    scenario.return_to_sender(admin_cap);
    let effects = scenario.next_tx(admin);
    assert!(effects.num_user_events() == 1, 102);
    ts::most_recent_id_for_address<PublisherCap>(recipient).destroy_some()
}

fun revoke_publisher(scenario: &mut Scenario, admin: address, registry_id: ID, cap: ID) {
    scenario.next_tx(admin);
    let admin_cap = scenario.take_from_sender<AdminCap>();
    let mut reg = scenario.take_shared_by_id<Registry>(registry_id);
    registry::revoke_publisher(&admin_cap, &mut reg, cap);
    ts::return_shared(reg);
    scenario.return_to_sender(admin_cap);
}

fun set_approvers(
    scenario: &mut Scenario,
    admin: address,
    registry_id: ID,
    approvers: vector<address>,
    threshold: u64,
) {
    scenario.next_tx(admin);
    let admin_cap = scenario.take_from_sender<AdminCap>();
    let mut reg = scenario.take_shared_by_id<Registry>(registry_id);
    registry::set_approvers(&admin_cap, &mut reg, approvers, threshold);
    ts::return_shared(reg);
    scenario.return_to_sender(admin_cap);
}

/// `publisher` publishes with its (only) PublisherCap at clock time `now`.
fun publish(
    scenario: &mut Scenario,
    publisher: address,
    registry_id: ID,
    blob_id: u256,
    sha256: vector<u8>,
    commit: String,
    now: u64,
) {
    scenario.next_tx(publisher);
    let cap = scenario.take_from_sender<PublisherCap>();
    let mut reg = scenario.take_shared_by_id<Registry>(registry_id);
    let mut clock = clock::create_for_testing(scenario.ctx());
    clock.increment_for_testing(now);
    registry::publish(&cap, &mut reg, blob_id, sha256, commit, &clock, scenario.ctx());
    clock.destroy_for_testing();
    ts::return_shared(reg);
    scenario.return_to_sender(cap);
}

fun approve(scenario: &mut Scenario, approver: address, registry_id: ID, seq: u64, now: u64) {
    scenario.next_tx(approver);
    let mut reg = scenario.take_shared_by_id<Registry>(registry_id);
    let mut clock = clock::create_for_testing(scenario.ctx());
    clock.increment_for_testing(now);
    registry::approve(&mut reg, seq, &clock, scenario.ctx());
    clock.destroy_for_testing();
    ts::return_shared(reg);
}

/// A registry with one publisher (PUBLISHER); returns (registry ID, publisher cap ID).
fun setup(scenario: &mut Scenario): (ID, ID) {
    let registry_id = create_registry(scenario, ADMIN, b"shop-prod");
    let cap_id = add_publisher(scenario, ADMIN, registry_id, PUBLISHER);
    (registry_id, cap_id)
}

// === Happy path ===

#[test]
fun create_add_publisher_publish_three() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, cap_id) = setup(&mut scenario);

    // The new registry: named, empty, the cap listed, the AdminCap with the creator.
    scenario.next_tx(ADMIN);
    {
        let reg = scenario.take_shared_by_id<Registry>(registry_id);
        assert!(reg.name() == string::utf8(b"shop-prod"), 0);
        assert!(reg.seq() == 0, 1);
        assert!(reg.head().is_none(), 2);
        assert!(reg.is_allowed(cap_id), 3);
        assert!(!reg.is_revoked(cap_id), 4);
        assert!(reg.publishers() == vector[cap_id], 5);
        assert!(reg.threshold() == 0, 6);
        assert!(reg.version() == 1, 7);
        assert!(!reg.has_release(1), 8);
        let admin_cap = scenario.take_from_sender<AdminCap>();
        assert!(admin_cap.admin_cap_registry() == registry_id, 9);
        scenario.return_to_sender(admin_cap);
        ts::return_shared(reg);
    };
    scenario.next_tx(PUBLISHER);
    {
        let cap = scenario.take_from_sender<PublisherCap>();
        assert!(object::id(&cap) == cap_id, 10);
        assert!(cap.publisher_cap_registry() == registry_id, 11);
        scenario.return_to_sender(cap);
    };

    publish(&mut scenario, PUBLISHER, registry_id, 1, sha(1), commit40(0x61), 1000);
    let effects = scenario.next_tx(PUBLISHER);
    assert!(effects.num_user_events() == 1, 12);
    publish(&mut scenario, PUBLISHER, registry_id, 2, sha(2), commit40(0x62), 2000);
    publish(&mut scenario, PUBLISHER, registry_id, 3, sha(3), commit64(0x63), 3000);
    let effects = scenario.next_tx(PUBLISHER);
    assert!(effects.num_user_events() == 1, 13);

    {
        let reg = scenario.take_shared_by_id<Registry>(registry_id);
        assert!(reg.seq() == 3, 20);
        let head = reg.head().destroy_some();
        assert!(head.release_seq() == 3, 21);
        assert!(head.release_blob_id() == 3, 22);
        assert!(head.release_sha256() == sha(3), 23);
        assert!(head.release_commit() == commit64(0x63), 24);
        assert!(head.release_publisher() == PUBLISHER, 25);
        assert!(head.release_timestamp_ms() == 3000, 26);
        assert!(reg.release(3) == head, 27);

        let first = reg.release(1);
        assert!(first.release_seq() == 1, 28);
        assert!(first.release_blob_id() == 1, 29);
        assert!(first.release_commit() == commit40(0x61), 30);
        assert!(first.release_timestamp_ms() == 1000, 31);
        assert!(reg.release(2).release_commit() == commit40(0x62), 32);
        assert!(reg.has_release(3) && !reg.has_release(4) && !reg.has_release(0), 33);
        // threshold 0: every release counts as approved
        assert!(reg.is_approved(1) && !reg.is_approved(4), 34);
        ts::return_shared(reg);
    };
    scenario.end();
}

#[test]
fun valid_names() {
    let mut scenario = ts::begin(ADMIN);
    create_registry(&mut scenario, ADMIN, b"a");
    create_registry(&mut scenario, ADMIN, b"Shop_prod.v1-2");
    // 63 bytes
    create_registry(
        &mut scenario,
        ADMIN,
        b"a12345678901234567890123456789012345678901234567890123456789012",
    );
    scenario.end();
}

// === No-op republish ===

#[test]
fun republishing_the_head_is_a_noop() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    publish(&mut scenario, PUBLISHER, registry_id, 7, sha(7), commit40(0x37), 1000);
    scenario.next_tx(PUBLISHER);

    publish(&mut scenario, PUBLISHER, registry_id, 7, sha(7), commit40(0x37), 2000);
    let effects = scenario.next_tx(PUBLISHER);
    assert!(effects.num_user_events() == 0, 0);
    {
        let reg = scenario.take_shared_by_id<Registry>(registry_id);
        assert!(reg.seq() == 1, 1);
        assert!(reg.head().destroy_some().release_timestamp_ms() == 1000, 2);
        assert!(!reg.has_release(2), 3);
        ts::return_shared(reg);
    };

    // The same commit with another blob is a release; so is going back to an older commit.
    publish(&mut scenario, PUBLISHER, registry_id, 8, sha(8), commit40(0x37), 3000);
    publish(&mut scenario, PUBLISHER, registry_id, 9, sha(9), commit40(0x38), 4000);
    publish(&mut scenario, PUBLISHER, registry_id, 7, sha(7), commit40(0x37), 5000);
    scenario.next_tx(PUBLISHER);
    {
        let reg = scenario.take_shared_by_id<Registry>(registry_id);
        assert!(reg.seq() == 4, 4);
        let head = reg.head().destroy_some();
        assert!(head.release_blob_id() == 7 && head.release_seq() == 4, 5);
        ts::return_shared(reg);
    };
    scenario.end();
}

#[test]
fun republishing_the_head_with_another_sha256_is_a_noop_too() {
    // The no-op rule looks at commit and blob ID only; the head keeps its sha256.
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    publish(&mut scenario, PUBLISHER, registry_id, 7, sha(7), commit40(0x37), 1000);
    publish(&mut scenario, PUBLISHER, registry_id, 7, sha(8), commit40(0x37), 2000);
    let effects = scenario.next_tx(PUBLISHER);
    assert!(effects.num_user_events() == 0, 0);
    {
        let reg = scenario.take_shared_by_id<Registry>(registry_id);
        assert!(reg.seq() == 1, 1);
        assert!(reg.head().destroy_some().release_sha256() == sha(7), 2);
        ts::return_shared(reg);
    };
    scenario.end();
}

// === Publisher caps ===

#[test, expected_failure(abort_code = registry::ECapRevoked)]
fun revoked_cap_cannot_publish() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, cap_id) = setup(&mut scenario);
    publish(&mut scenario, PUBLISHER, registry_id, 1, sha(1), commit40(0x61), 1000);
    revoke_publisher(&mut scenario, ADMIN, registry_id, cap_id);
    scenario.next_tx(ADMIN);
    {
        let reg = scenario.take_shared_by_id<Registry>(registry_id);
        assert!(!reg.is_allowed(cap_id), 0);
        assert!(reg.is_revoked(cap_id), 1);
        assert!(reg.publishers().is_empty(), 2);
        ts::return_shared(reg);
    };
    publish(&mut scenario, PUBLISHER, registry_id, 2, sha(2), commit40(0x62), 2000);
    scenario.end();
}

#[test]
fun a_new_cap_after_revocation_can_publish() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, cap_id) = setup(&mut scenario);
    revoke_publisher(&mut scenario, ADMIN, registry_id, cap_id);
    let new_cap_id = add_publisher(&mut scenario, ADMIN, registry_id, OTHER_PUBLISHER);
    assert!(new_cap_id != cap_id, 0);
    publish(&mut scenario, OTHER_PUBLISHER, registry_id, 1, sha(1), commit40(0x61), 1000);
    scenario.next_tx(ADMIN);
    {
        let reg = scenario.take_shared_by_id<Registry>(registry_id);
        assert!(reg.seq() == 1, 1);
        assert!(reg.is_allowed(new_cap_id) && !reg.is_allowed(cap_id), 2);
        assert!(reg.head().destroy_some().release_publisher() == OTHER_PUBLISHER, 3);
        ts::return_shared(reg);
    };
    scenario.end();
}

#[test, expected_failure(abort_code = registry::EWrongRegistry)]
fun cap_of_another_registry_cannot_publish() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    let other_id = create_registry(&mut scenario, OTHER_ADMIN, b"shop-dev");
    add_publisher(&mut scenario, OTHER_ADMIN, other_id, OTHER_PUBLISHER);
    // OTHER_PUBLISHER holds only the cap of shop-dev.
    publish(&mut scenario, OTHER_PUBLISHER, registry_id, 1, sha(1), commit40(0x61), 1000);
    scenario.end();
}

#[test, expected_failure(abort_code = registry::ENotPublisher)]
fun revoking_an_unlisted_cap_fails() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    revoke_publisher(&mut scenario, ADMIN, registry_id, object::id_from_address(@0x1234));
    scenario.end();
}

#[test, expected_failure(abort_code = registry::ENotPublisher)]
fun revoking_twice_fails() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, cap_id) = setup(&mut scenario);
    revoke_publisher(&mut scenario, ADMIN, registry_id, cap_id);
    revoke_publisher(&mut scenario, ADMIN, registry_id, cap_id);
    scenario.end();
}

// === Foreign AdminCap ===

#[test, expected_failure(abort_code = registry::ENotAdmin)]
fun foreign_admin_cap_cannot_add_publisher() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    create_registry(&mut scenario, OTHER_ADMIN, b"shop-dev");
    // OTHER_ADMIN holds only the AdminCap of shop-dev.
    add_publisher(&mut scenario, OTHER_ADMIN, registry_id, STRANGER);
    scenario.end();
}

#[test, expected_failure(abort_code = registry::ENotAdmin)]
fun foreign_admin_cap_cannot_revoke() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, cap_id) = setup(&mut scenario);
    create_registry(&mut scenario, OTHER_ADMIN, b"shop-dev");
    revoke_publisher(&mut scenario, OTHER_ADMIN, registry_id, cap_id);
    scenario.end();
}

#[test, expected_failure(abort_code = registry::ENotAdmin)]
fun foreign_admin_cap_cannot_set_approvers() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    create_registry(&mut scenario, OTHER_ADMIN, b"shop-dev");
    set_approvers(&mut scenario, OTHER_ADMIN, registry_id, vector[STRANGER], 1);
    scenario.end();
}

// === Bad sha256, commit, name ===

#[test, expected_failure(abort_code = registry::EBadSha256)]
fun short_sha256_fails() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    publish(&mut scenario, PUBLISHER, registry_id, 1, repeat(1, 31), commit40(0x61), 1000);
    scenario.end();
}

#[test, expected_failure(abort_code = registry::EBadSha256)]
fun hex_sha256_fails() {
    // 64 hex digits are the text form; the contract takes the 32 bytes.
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    publish(&mut scenario, PUBLISHER, registry_id, 1, repeat(0x61, 64), commit40(0x61), 1000);
    scenario.end();
}

#[test, expected_failure(abort_code = registry::EBadCommit)]
fun uppercase_commit_fails() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    // 'A'
    publish(&mut scenario, PUBLISHER, registry_id, 1, sha(1), commit40(0x41), 1000);
    scenario.end();
}

#[test, expected_failure(abort_code = registry::EBadCommit)]
fun short_commit_fails() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    publish(&mut scenario, PUBLISHER, registry_id, 1, sha(1), string::utf8(repeat(0x61, 39)), 1000);
    scenario.end();
}

#[test, expected_failure(abort_code = registry::EBadCommit)]
fun non_hex_commit_fails() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    // 'g'
    publish(&mut scenario, PUBLISHER, registry_id, 1, sha(1), commit40(0x67), 1000);
    scenario.end();
}

#[test, expected_failure(abort_code = registry::EBadName)]
fun name_with_slash_fails() {
    let mut scenario = ts::begin(ADMIN);
    create_registry(&mut scenario, ADMIN, b"shop/prod");
    scenario.end();
}

#[test, expected_failure(abort_code = registry::EBadName)]
fun empty_name_fails() {
    let mut scenario = ts::begin(ADMIN);
    create_registry(&mut scenario, ADMIN, b"");
    scenario.end();
}

#[test, expected_failure(abort_code = registry::EBadName)]
fun name_starting_with_dash_fails() {
    let mut scenario = ts::begin(ADMIN);
    create_registry(&mut scenario, ADMIN, b"-shop");
    scenario.end();
}

#[test, expected_failure(abort_code = registry::EBadName)]
fun name_ending_with_dot_fails() {
    let mut scenario = ts::begin(ADMIN);
    create_registry(&mut scenario, ADMIN, b"shop.");
    scenario.end();
}

#[test, expected_failure(abort_code = registry::EBadName)]
fun name_of_64_bytes_fails() {
    let mut scenario = ts::begin(ADMIN);
    create_registry(&mut scenario, ADMIN, repeat(0x61, 64));
    scenario.end();
}

// === Approvals ===

#[test]
fun approvals_reach_the_threshold() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    set_approvers(
        &mut scenario,
        ADMIN,
        registry_id,
        vector[APPROVER_1, APPROVER_2, APPROVER_3],
        2,
    );
    publish(&mut scenario, PUBLISHER, registry_id, 1, sha(1), commit40(0x61), 1000);
    scenario.next_tx(ADMIN);
    {
        let reg = scenario.take_shared_by_id<Registry>(registry_id);
        assert!(reg.approvers() == vector[APPROVER_1, APPROVER_2, APPROVER_3], 0);
        assert!(reg.threshold() == 2, 1);
        assert!(reg.approvals(1) == 0 && !reg.is_approved(1), 2);
        ts::return_shared(reg);
    };

    approve(&mut scenario, APPROVER_1, registry_id, 1, 2000);
    let effects = scenario.next_tx(ADMIN);
    assert!(effects.num_user_events() == 1, 3);
    {
        let reg = scenario.take_shared_by_id<Registry>(registry_id);
        assert!(reg.approvals(1) == 1 && !reg.is_approved(1), 4);
        assert!(reg.has_approved(1, APPROVER_1) && !reg.has_approved(1, APPROVER_2), 5);
        ts::return_shared(reg);
    };

    approve(&mut scenario, APPROVER_3, registry_id, 1, 3000);
    scenario.next_tx(ADMIN);
    {
        let reg = scenario.take_shared_by_id<Registry>(registry_id);
        assert!(reg.approvals(1) == 2 && reg.is_approved(1), 6);
        ts::return_shared(reg);
    };

    // Approvals stay recorded when the approvers change.
    set_approvers(&mut scenario, ADMIN, registry_id, vector[APPROVER_2, APPROVER_3], 2);
    scenario.next_tx(ADMIN);
    {
        let reg = scenario.take_shared_by_id<Registry>(registry_id);
        assert!(reg.approvers() == vector[APPROVER_2, APPROVER_3], 7);
        assert!(reg.approvals(1) == 2 && reg.is_approved(1), 8);
        assert!(reg.has_approved(1, APPROVER_1), 9);
        ts::return_shared(reg);
    };

    // A second release starts with no approvals.
    publish(&mut scenario, PUBLISHER, registry_id, 2, sha(2), commit40(0x62), 4000);
    approve(&mut scenario, APPROVER_2, registry_id, 2, 5000);
    scenario.next_tx(ADMIN);
    {
        let reg = scenario.take_shared_by_id<Registry>(registry_id);
        assert!(reg.approvals(2) == 1 && !reg.is_approved(2), 10);
        assert!(reg.approvals(1) == 2, 11);
        ts::return_shared(reg);
    };
    scenario.end();
}

#[test, expected_failure(abort_code = registry::EBadThreshold)]
fun threshold_above_approvers_fails() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    set_approvers(&mut scenario, ADMIN, registry_id, vector[APPROVER_1, APPROVER_2], 3);
    scenario.end();
}

#[test, expected_failure(abort_code = sui::vec_set::EKeyAlreadyExists, location = sui::vec_set)]
fun duplicate_approver_fails() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    set_approvers(&mut scenario, ADMIN, registry_id, vector[APPROVER_1, APPROVER_1], 1);
    scenario.end();
}

#[test]
fun threshold_zero_and_no_approvers() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    set_approvers(&mut scenario, ADMIN, registry_id, vector[APPROVER_1], 1);
    set_approvers(&mut scenario, ADMIN, registry_id, vector[], 0);
    publish(&mut scenario, PUBLISHER, registry_id, 1, sha(1), commit40(0x61), 1000);
    scenario.next_tx(ADMIN);
    {
        let reg = scenario.take_shared_by_id<Registry>(registry_id);
        assert!(reg.approvers().is_empty() && reg.threshold() == 0, 0);
        assert!(reg.is_approved(1), 1);
        ts::return_shared(reg);
    };
    scenario.end();
}

#[test, expected_failure(abort_code = registry::EAlreadyApproved)]
fun double_approval_fails() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    set_approvers(&mut scenario, ADMIN, registry_id, vector[APPROVER_1, APPROVER_2], 2);
    publish(&mut scenario, PUBLISHER, registry_id, 1, sha(1), commit40(0x61), 1000);
    approve(&mut scenario, APPROVER_1, registry_id, 1, 2000);
    approve(&mut scenario, APPROVER_1, registry_id, 1, 3000);
    scenario.end();
}

#[test, expected_failure(abort_code = registry::ENoSuchRelease)]
fun approving_an_unknown_seq_fails() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    set_approvers(&mut scenario, ADMIN, registry_id, vector[APPROVER_1], 1);
    publish(&mut scenario, PUBLISHER, registry_id, 1, sha(1), commit40(0x61), 1000);
    approve(&mut scenario, APPROVER_1, registry_id, 2, 2000);
    scenario.end();
}

#[test, expected_failure(abort_code = registry::ENoSuchRelease)]
fun approving_seq_zero_fails() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    set_approvers(&mut scenario, ADMIN, registry_id, vector[APPROVER_1], 1);
    approve(&mut scenario, APPROVER_1, registry_id, 0, 2000);
    scenario.end();
}

#[test, expected_failure(abort_code = registry::ENotApprover)]
fun non_approver_cannot_approve() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    set_approvers(&mut scenario, ADMIN, registry_id, vector[APPROVER_1], 1);
    publish(&mut scenario, PUBLISHER, registry_id, 1, sha(1), commit40(0x61), 1000);
    approve(&mut scenario, STRANGER, registry_id, 1, 2000);
    scenario.end();
}

#[test, expected_failure(abort_code = registry::ENoSuchRelease)]
fun reading_an_unknown_release_fails() {
    let mut scenario = ts::begin(ADMIN);
    let (registry_id, _) = setup(&mut scenario);
    scenario.next_tx(ADMIN);
    let reg = scenario.take_shared_by_id<Registry>(registry_id);
    reg.release(1);
    ts::return_shared(reg);
    scenario.end();
}
