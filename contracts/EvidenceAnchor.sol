// SPDX-License-Identifier: Apache-2.0
pragma solidity ^0.8.24;

/// @title EvidenceAnchor: tree heads of one RFC 9162 Merkle log, anchored so history cannot be rewritten
/// @notice Stores `(size, root)` pairs of the Lianzheng evidence log. The first pair is taken as given;
/// every later pair only with an RFC 9162 §2.1.4 consistency proof from the latest anchored pair, so an
/// anchored history can be extended but never forked or rewritten. Anyone can read the anchored roots and
/// check an inclusion proof (RFC 9162 §2.1.3) against them with nothing but an RPC endpoint.
/// @dev Hashes are SHA-256 through the precompile at address 0x02, with RFC 9162's domain separation:
/// a node is SHA-256(0x01 || left || right); leaf hashes (SHA-256(0x00 || event)) are computed off chain.
contract EvidenceAnchor {
    /// @notice The caller is not the owner.
    error NotOwner(address caller);
    /// @notice The caller is not the account the ownership is being handed to.
    error NotPendingOwner(address caller);
    /// @notice The caller is not an authorised anchor account.
    error NotAnchorer(address caller);
    /// @notice The zero address cannot own the contract or anchor.
    error ZeroAddress();
    /// @notice A log of size 0 has no root worth anchoring.
    error EmptyLog();
    /// @notice The first anchor of a log is taken without a proof; one was given.
    error UnexpectedProof(uint256 length);
    /// @notice This exact pair is already the latest anchor.
    error AlreadyAnchored(uint64 size, bytes32 root);
    /// @notice A different root is already anchored at this size: the log's history was rewritten.
    error RootConflict(uint64 size, bytes32 anchoredRoot, bytes32 root);
    /// @notice Anchors only move forward: the size must exceed the latest anchored size.
    error SizeNotIncreasing(uint64 latestSize, uint64 size);
    /// @notice The proof has too few or too many hashes for these sizes.
    error MalformedProof(uint64 fromSize, uint64 toSize, uint256 length);
    /// @notice The consistency proof does not link the anchored root to the new one: a fork or rewrite.
    error InconsistentHistory(uint64 fromSize, uint64 toSize);
    /// @notice No root is anchored at this size.
    error NotAnchored(uint64 size);
    /// @notice The leaf index is not inside a log of this size.
    error IndexOutOfRange(uint64 index, uint64 size);
    /// @notice The inclusion proof leads to another root than the one anchored at this size.
    error RootMismatch(uint64 size, bytes32 anchoredRoot, bytes32 computedRoot);

    /// @notice A new tree head was anchored, extending the one at `previousSize` (0 for the first).
    event Anchored(uint64 indexed size, bytes32 indexed root, uint64 previousSize);
    event AnchorerAdded(address indexed account);
    event AnchorerRemoved(address indexed account);
    event OwnershipTransferStarted(address indexed previousOwner, address indexed newOwner);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);

    address public owner;
    address public pendingOwner;
    mapping(address => bool) public isAnchorer;

    /// @notice Size of the latest anchored tree head, and how many anchors were taken (one storage slot).
    uint64 public latestSize;
    uint64 public anchorCount;
    mapping(uint64 => bytes32) private _roots;

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    /// @notice The deployer owns the contract and is its first anchor account.
    constructor() {
        owner = msg.sender;
        emit OwnershipTransferred(address(0), msg.sender);
        isAnchorer[msg.sender] = true;
        emit AnchorerAdded(msg.sender);
    }

    // ----- anchoring -----

    /// @notice Anchor the tree head `(size, root)`.
    /// @param proof The RFC 9162 consistency proof from the latest anchored tree head to this one;
    /// empty for the first anchor.
    function anchor(uint64 size, bytes32 root, bytes32[] calldata proof) external {
        if (!isAnchorer[msg.sender]) revert NotAnchorer(msg.sender);
        if (size == 0) revert EmptyLog();
        uint64 previous = latestSize;
        if (previous == 0) {
            if (proof.length != 0) revert UnexpectedProof(proof.length);
        } else {
            _refuseRewrite(previous, size, root);
            if (!_consistent(previous, size, _roots[previous], root, proof)) {
                revert InconsistentHistory(previous, size);
            }
        }
        _roots[size] = root;
        latestSize = size;
        anchorCount += 1;
        emit Anchored(size, root, previous);
    }

    /// @dev Named refusals for a tree head that does not extend the latest one.
    function _refuseRewrite(uint64 previous, uint64 size, bytes32 root) private view {
        bytes32 anchored = _roots[size];
        if (anchored != bytes32(0) && anchored != root) revert RootConflict(size, anchored, root);
        if (size == previous) revert AlreadyAnchored(size, root);
        if (size < previous) revert SizeNotIncreasing(previous, size);
    }

    // ----- reading -----

    /// @notice The latest anchored tree head; (0, 0) before the first anchor.
    function latest() external view returns (uint64 size, bytes32 root) {
        return (latestSize, _roots[latestSize]);
    }

    /// @notice The root anchored at `size`, or zero if no tree head of that size was anchored.
    function rootAt(uint64 size) external view returns (bytes32) {
        return _roots[size];
    }

    /// @notice Check that `leafHash` is the leaf at `index` of the anchored tree of `size` leaves.
    /// @return True when the proof holds; otherwise the call reverts with the error naming the failed check.
    function verifyInclusion(bytes32 leafHash, uint64 index, uint64 size, bytes32[] calldata proof)
        external
        view
        returns (bool)
    {
        bytes32 anchored = _roots[size];
        if (anchored == bytes32(0)) revert NotAnchored(size);
        if (index >= size) revert IndexOutOfRange(index, size);
        bytes32 computed = _rootFromInclusion(leafHash, index, size, proof);
        if (computed != anchored) revert RootMismatch(size, anchored, computed);
        return true;
    }

    // ----- RFC 9162 proof verification -----

    /// @dev RFC 9162 §2.1.3.2: the root that `proof` leads to from the leaf at `index` (< size).
    function _rootFromInclusion(bytes32 leafHash, uint64 index, uint64 size, bytes32[] calldata proof)
        private
        view
        returns (bytes32 r)
    {
        // fn and sn are the node's and the last node's index at the current level; they only shrink.
        unchecked {
            uint256 fn = index;
            uint256 sn = uint256(size) - 1;
            r = leafHash;
            for (uint256 i = 0; i < proof.length; ++i) {
                if (sn == 0) revert MalformedProof(index, size, proof.length); // longer than the path
                if ((fn & 1) == 1 || fn == sn) {
                    // We are a right child, or the last node of a level with no right sibling.
                    r = _node(proof[i], r);
                    // Climb past the levels where the lone last node is promoted without hashing.
                    while ((fn & 1) == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                } else {
                    r = _node(r, proof[i]);
                }
                fn >>= 1;
                sn >>= 1;
            }
            if (sn != 0) revert MalformedProof(index, size, proof.length); // shorter than the path
        }
    }

    /// @dev RFC 9162 §2.1.4.2: true when `proof` shows the tree (`first`, `firstRoot`) is a prefix of
    /// (`second`, `secondRoot`). Requires 0 < first < second; reverts MalformedProof on a wrong length.
    function _consistent(uint64 first, uint64 second, bytes32 firstRoot, bytes32 secondRoot, bytes32[] calldata proof)
        private
        view
        returns (bool)
    {
        if (proof.length == 0) revert MalformedProof(first, second, 0);
        unchecked {
            uint256 fn = uint256(first) - 1;
            uint256 sn = uint256(second) - 1;
            // Skip the levels where the old tree's last node is a right child: they are shared unchanged.
            while ((fn & 1) == 1) {
                fn >>= 1;
                sn >>= 1;
            }
            // When `first` is a power of two its root is itself a node of the new tree: the RFC prepends
            // it to the proof. Starting from it instead of proof[0] does the same without copying.
            bool prepended = (first & (first - 1)) == 0;
            bytes32 fr = prepended ? firstRoot : proof[0];
            bytes32 sr = fr;
            for (uint256 i = prepended ? 0 : 1; i < proof.length; ++i) {
                if (sn == 0) revert MalformedProof(first, second, proof.length);
                bytes32 c = proof[i];
                if ((fn & 1) == 1 || fn == sn) {
                    fr = _node(c, fr);
                    sr = _node(c, sr);
                    while ((fn & 1) == 0 && fn != 0) {
                        fn >>= 1;
                        sn >>= 1;
                    }
                } else {
                    sr = _node(sr, c);
                }
                fn >>= 1;
                sn >>= 1;
            }
            if (sn != 0) revert MalformedProof(first, second, proof.length);
            return fr == firstRoot && sr == secondRoot;
        }
    }

    /// @dev SHA-256(0x01 || left || right) via the precompile, in scratch memory past the free pointer
    /// (not reserved: nothing else is allocated while it is in use).
    function _node(bytes32 left, bytes32 right) private view returns (bytes32 h) {
        assembly {
            let p := mload(0x40)
            mstore8(p, 0x01)
            mstore(add(p, 1), left)
            mstore(add(p, 33), right)
            if iszero(staticcall(gas(), 0x02, p, 65, 0x00, 0x20)) { revert(0, 0) }
            h := mload(0x00)
        }
    }

    // ----- who may anchor -----

    /// @notice Let `account` anchor tree heads.
    function addAnchorer(address account) external onlyOwner {
        if (account == address(0)) revert ZeroAddress();
        isAnchorer[account] = true;
        emit AnchorerAdded(account);
    }

    /// @notice Stop `account` from anchoring.
    function removeAnchorer(address account) external onlyOwner {
        isAnchorer[account] = false;
        emit AnchorerRemoved(account);
    }

    /// @notice Start handing the contract to `newOwner`, who must accept; until then the owner stays.
    function transferOwnership(address newOwner) external onlyOwner {
        if (newOwner == address(0)) revert ZeroAddress();
        pendingOwner = newOwner;
        emit OwnershipTransferStarted(owner, newOwner);
    }

    /// @notice Take over the ownership offered by `transferOwnership`.
    function acceptOwnership() external {
        if (msg.sender != pendingOwner) revert NotPendingOwner(msg.sender);
        emit OwnershipTransferred(owner, msg.sender);
        owner = msg.sender;
        pendingOwner = address(0);
    }
}
