/// The on-chain record of one syncer channel.
///
/// A shared `Registry` per channel holds the channel's releases: seq, Walrus blob ID, SHA-256
/// of the bundle, git commit, publisher and time. Only the holders of a listed `PublisherCap`
/// may publish; the holder of the channel's `AdminCap` lists and revokes publisher caps and
/// chooses the approvers. Only IDs and hashes go on chain, never manifests.
///
/// The rules are those of syncer's Python side (`syncer/ledger/rules.py`), enforced here
/// natively:
/// - a channel name is a Kubernetes label value: 1..63 bytes of [A-Za-z0-9-_.], starting and
///   ending alphanumeric;
/// - `sha256` is 32 bytes; `commit` is 40 (SHA-1) or 64 (SHA-256) lowercase hex digits;
/// - the publisher cap is listed and was never revoked; revocation is final (a revoked cap
///   cannot be listed again, a new cap must be minted);
/// - seq is the head's seq + 1 (the first release is seq 1; seq 0 means no release);
/// - timestamps come from the Sui `Clock`, which never goes back;
/// - publishing the commit and blob that are already the head is not a release: nothing
///   changes and no event is emitted.
///
/// Abort codes are fixed: syncer's client maps them to messages.
module syncer::registry;

use std::string::String;
use sui::clock::Clock;
use sui::event;
use sui::table::{Self, Table};
use sui::vec_set::{Self, VecSet};

// === Abort codes (fixed: the Python client maps them to messages) ===

/// The `PublisherCap` belongs to another registry.
const EWrongRegistry: u64 = 1;
/// The `PublisherCap` is not listed on this registry.
const ENotPublisher: u64 = 2;
/// The `PublisherCap` was revoked.
const ECapRevoked: u64 = 3;
/// `sha256` is not 32 bytes.
const EBadSha256: u64 = 4;
/// `commit` is not 40 or 64 lowercase hex digits.
const EBadCommit: u64 = 5;
/// The `AdminCap` belongs to another registry.
const ENotAdmin: u64 = 6;
/// The approval threshold is larger than the number of approvers.
const EBadThreshold: u64 = 7;
/// The sender is not an approver of this registry.
const ENotApprover: u64 = 8;
/// The registry has no release with that seq.
const ENoSuchRelease: u64 = 9;
/// The sender already approved that release.
const EAlreadyApproved: u64 = 10;
/// The channel name is not a Kubernetes label value.
const EBadName: u64 = 11;
/// The registry was written by another version of this package (reserved for upgrades).
const EWrongVersion: u64 = 12;

// === Other constants ===

/// The version of the registry layout and rules this package writes.
const VERSION: u64 = 1;
const MAX_NAME_LENGTH: u64 = 63;
const SHA256_LENGTH: u64 = 32;
const SHA1_HEX_LENGTH: u64 = 40;
const SHA256_HEX_LENGTH: u64 = 64;

// === Objects ===

/// One channel. Shared. Every field exists from the first version of the package, because
/// package upgrades cannot add fields to a struct.
public struct Registry has key {
    id: UID,
    /// The channel name (a Kubernetes label value).
    name: String,
    /// The head's seq; 0 = no release yet.
    seq: u64,
    head: Option<Release>,
    /// Every release, keyed by seq (1..=seq).
    releases: Table<u64, Release>,
    /// The IDs of the `PublisherCap`s allowed to publish.
    publishers: VecSet<ID>,
    /// The IDs of revoked `PublisherCap`s; never allowed again.
    revoked: VecSet<ID>,
    approvers: VecSet<address>,
    /// The approvals a release needs; 0 = none.
    threshold: u64,
    /// Who approved each release, keyed by seq.
    approvals: Table<u64, VecSet<address>>,
    /// The layout version, for future package upgrades.
    version: u64,
}

/// One release of a channel.
public struct Release has copy, drop, store {
    seq: u64,
    /// The Walrus blob ID of the bundle, as Walrus writes it on chain.
    blob_id: u256,
    /// The SHA-256 of the bundle's bytes (32 bytes).
    sha256: vector<u8>,
    /// The git commit the bundle was made from (40 or 64 lowercase hex digits).
    commit: String,
    /// The address that sent the publishing transaction.
    publisher: address,
    /// The Sui clock's time when it was published.
    timestamp_ms: u64,
}

/// Administers one registry: lists and revokes publisher caps, sets the approvers.
public struct AdminCap has key, store {
    id: UID,
    registry: ID,
}

/// Allows its holder to publish to one registry, while listed and not revoked.
public struct PublisherCap has key, store {
    id: UID,
    registry: ID,
}

// === Events ===

public struct Published has copy, drop {
    registry: ID,
    seq: u64,
    blob_id: u256,
    sha256: vector<u8>,
    commit: String,
    publisher: address,
    timestamp_ms: u64,
}

public struct Approved has copy, drop {
    registry: ID,
    seq: u64,
    approver: address,
    /// The release's approvals after this one.
    approvals: u64,
    timestamp_ms: u64,
}

public struct PublisherAdded has copy, drop {
    registry: ID,
    cap: ID,
    recipient: address,
}

public struct PublisherRevoked has copy, drop {
    registry: ID,
    cap: ID,
}

// === Admin ===

/// Create a channel named `name`: shares its `Registry` and sends its `AdminCap` to the
/// sender. Emits no event.
entry fun create(name: String, ctx: &mut TxContext) {
    assert!(is_valid_name(name.as_bytes()), EBadName);
    let registry = Registry {
        id: object::new(ctx),
        name,
        seq: 0,
        head: option::none(),
        releases: table::new(ctx),
        publishers: vec_set::empty(),
        revoked: vec_set::empty(),
        approvers: vec_set::empty(),
        threshold: 0,
        approvals: table::new(ctx),
        version: VERSION,
    };
    let admin = AdminCap { id: object::new(ctx), registry: object::id(&registry) };
    transfer::share_object(registry);
    transfer::public_transfer(admin, ctx.sender());
}

/// Mint a `PublisherCap` for this registry, list it, and send it to `recipient`.
entry fun add_publisher(
    admin: &AdminCap,
    registry: &mut Registry,
    recipient: address,
    ctx: &mut TxContext,
) {
    assert_admin(admin, registry);
    let registry_id = object::id(registry);
    let cap = PublisherCap { id: object::new(ctx), registry: registry_id };
    let cap_id = object::id(&cap);
    registry.publishers.insert(cap_id);
    event::emit(PublisherAdded { registry: registry_id, cap: cap_id, recipient });
    transfer::public_transfer(cap, recipient);
}

/// Revoke the listed `PublisherCap` with ID `cap`, for good.
entry fun revoke_publisher(admin: &AdminCap, registry: &mut Registry, cap: ID) {
    assert_admin(admin, registry);
    assert!(registry.publishers.contains(&cap), ENotPublisher);
    registry.publishers.remove(&cap);
    registry.revoked.insert(cap);
    event::emit(PublisherRevoked { registry: object::id(registry), cap });
}

/// Replace the approvers and the number of approvals a release needs (0 = none). An address
/// given twice aborts in `sui::vec_set` (`EKeyAlreadyExists`). Approvals already recorded
/// are kept.
entry fun set_approvers(
    admin: &AdminCap,
    registry: &mut Registry,
    approvers: vector<address>,
    threshold: u64,
) {
    assert_admin(admin, registry);
    let mut set = vec_set::empty();
    let n = approvers.length();
    let mut i = 0;
    while (i < n) {
        set.insert(approvers[i]);
        i = i + 1;
    };
    assert!(threshold <= set.size(), EBadThreshold);
    registry.approvers = set;
    registry.threshold = threshold;
}

// === Publish and approve ===

/// Record a release: seq = head + 1, stored, made the head, and a `Published` event.
/// Publishing the head's commit and blob again changes nothing and emits nothing.
public fun publish(
    cap: &PublisherCap,
    registry: &mut Registry,
    blob_id: u256,
    sha256: vector<u8>,
    commit: String,
    clock: &Clock,
    ctx: &TxContext,
) {
    assert!(registry.version == VERSION, EWrongVersion);
    let registry_id = object::id(registry);
    assert!(cap.registry == registry_id, EWrongRegistry);
    let cap_id = object::id(cap);
    // A revoked cap is no longer listed: check revocation first so that it is reported.
    assert!(!registry.revoked.contains(&cap_id), ECapRevoked);
    assert!(registry.publishers.contains(&cap_id), ENotPublisher);
    assert!(sha256.length() == SHA256_LENGTH, EBadSha256);
    assert!(is_valid_commit(commit.as_bytes()), EBadCommit);

    if (registry.head.is_some()) {
        let head = registry.head.borrow();
        if (head.blob_id == blob_id && &head.commit == &commit) return;
    };

    let seq = registry.seq + 1;
    let publisher = ctx.sender();
    let timestamp_ms = clock.timestamp_ms();
    let release = Release { seq, blob_id, sha256, commit, publisher, timestamp_ms };
    registry.releases.add(seq, release);
    registry.seq = seq;
    registry.head = option::some(release);
    event::emit(Published {
        registry: registry_id,
        seq,
        blob_id,
        sha256: release.sha256,
        commit: release.commit,
        publisher,
        timestamp_ms,
    });
}

/// Approve release `seq` as the sender, a listed approver. Emits `Approved` with the
/// release's approvals after this one.
public fun approve(registry: &mut Registry, seq: u64, clock: &Clock, ctx: &TxContext) {
    assert!(registry.version == VERSION, EWrongVersion);
    let approver = ctx.sender();
    assert!(registry.approvers.contains(&approver), ENotApprover);
    assert!(registry.releases.contains(seq), ENoSuchRelease);
    if (!registry.approvals.contains(seq)) {
        registry.approvals.add(seq, vec_set::empty());
    };
    let approved = registry.approvals.borrow_mut(seq);
    assert!(!approved.contains(&approver), EAlreadyApproved);
    approved.insert(approver);
    let count = approved.size();
    event::emit(Approved {
        registry: object::id(registry),
        seq,
        approver,
        approvals: count,
        timestamp_ms: clock.timestamp_ms(),
    });
}

// === Read-only accessors ===

/// The channel name.
public fun name(registry: &Registry): String {
    registry.name
}

/// The head's seq; 0 = no release yet.
public fun seq(registry: &Registry): u64 {
    registry.seq
}

/// The head release, if any.
public fun head(registry: &Registry): Option<Release> {
    registry.head
}

/// Whether release `seq` exists.
public fun has_release(registry: &Registry, seq: u64): bool {
    registry.releases.contains(seq)
}

/// Release `seq`; aborts with `ENoSuchRelease` if there is none.
public fun release(registry: &Registry, seq: u64): Release {
    assert!(registry.releases.contains(seq), ENoSuchRelease);
    *registry.releases.borrow(seq)
}

/// Whether the `PublisherCap` with ID `cap` may publish (listed, never revoked).
public fun is_allowed(registry: &Registry, cap: ID): bool {
    registry.publishers.contains(&cap) && !registry.revoked.contains(&cap)
}

/// Whether the `PublisherCap` with ID `cap` was revoked.
public fun is_revoked(registry: &Registry, cap: ID): bool {
    registry.revoked.contains(&cap)
}

/// The IDs of the listed `PublisherCap`s, in the order they were added.
public fun publishers(registry: &Registry): vector<ID> {
    *registry.publishers.keys()
}

/// The approvers.
public fun approvers(registry: &Registry): vector<address> {
    *registry.approvers.keys()
}

/// The approvals a release needs; 0 = none.
public fun threshold(registry: &Registry): u64 {
    registry.threshold
}

/// The number of approvals recorded for release `seq` (0 if none). An approval stays
/// recorded when its approver is later removed by `set_approvers`.
public fun approvals(registry: &Registry, seq: u64): u64 {
    if (!registry.approvals.contains(seq)) return 0;
    registry.approvals.borrow(seq).size()
}

/// Whether `approver` approved release `seq` (whether or not it is still an approver).
public fun has_approved(registry: &Registry, seq: u64, approver: address): bool {
    registry.approvals.contains(seq) && registry.approvals.borrow(seq).contains(&approver)
}

/// Whether release `seq` exists and has the approvals it needs.
public fun is_approved(registry: &Registry, seq: u64): bool {
    registry.releases.contains(seq) && approvals(registry, seq) >= registry.threshold
}

/// The layout version of the registry.
public fun version(registry: &Registry): u64 {
    registry.version
}

/// The ID of the registry an `AdminCap` administers.
public fun admin_cap_registry(cap: &AdminCap): ID {
    cap.registry
}

/// The ID of the registry a `PublisherCap` publishes to.
public fun publisher_cap_registry(cap: &PublisherCap): ID {
    cap.registry
}

// === Release getters ===

public fun release_seq(release: &Release): u64 {
    release.seq
}

public fun release_blob_id(release: &Release): u256 {
    release.blob_id
}

public fun release_sha256(release: &Release): vector<u8> {
    release.sha256
}

public fun release_commit(release: &Release): String {
    release.commit
}

public fun release_publisher(release: &Release): address {
    release.publisher
}

public fun release_timestamp_ms(release: &Release): u64 {
    release.timestamp_ms
}

// === Rules ===

fun assert_admin(admin: &AdminCap, registry: &Registry) {
    assert!(registry.version == VERSION, EWrongVersion);
    assert!(admin.registry == object::id(registry), ENotAdmin);
}

/// A Kubernetes label value, not empty: 1..63 bytes of [A-Za-z0-9-_.], starting and ending
/// alphanumeric. (A multi-byte UTF-8 character has bytes >= 0x80, none of them allowed.)
fun is_valid_name(bytes: &vector<u8>): bool {
    let n = bytes.length();
    if (n == 0 || n > MAX_NAME_LENGTH) return false;
    if (!is_alphanumeric(bytes[0]) || !is_alphanumeric(bytes[n - 1])) return false;
    let mut i = 0;
    while (i < n) {
        let b = bytes[i];
        // '-' 0x2d, '.' 0x2e, '_' 0x5f
        if (!(is_alphanumeric(b) || b == 0x2d || b == 0x2e || b == 0x5f)) return false;
        i = i + 1;
    };
    true
}

/// A full git object name: 40 (SHA-1) or 64 (SHA-256) lowercase hex digits.
fun is_valid_commit(bytes: &vector<u8>): bool {
    let n = bytes.length();
    if (n != SHA1_HEX_LENGTH && n != SHA256_HEX_LENGTH) return false;
    let mut i = 0;
    while (i < n) {
        if (!is_lower_hex(bytes[i])) return false;
        i = i + 1;
    };
    true
}

/// [0-9a-f]
fun is_lower_hex(b: u8): bool {
    (b >= 0x30 && b <= 0x39) || (b >= 0x61 && b <= 0x66)
}

/// [0-9A-Za-z]
fun is_alphanumeric(b: u8): bool {
    (b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a)
}
