"""The digest over counted ballots: a Merkle tree as in RFC 9162 (Certificate Transparency v2).

Leaves are the receipts of the counted ballots, ordered by ballot id; a leaf hash is
SHA-256(0x00 || receipt bytes), an inner node SHA-256(0x01 || left || right), and the tree
splits at the largest power of two below its size. Anyone holding a receipt, its inclusion
proof and the digest published in ``Poll.Closed`` can check the ballot was counted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence


def leaf_hash(receipt: str) -> bytes:
    return hashlib.sha256(b"\x00" + bytes.fromhex(receipt)).digest()


def _node(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(size: int) -> int:
    k = 1
    while k * 2 < size:
        k *= 2
    return k


def _root(leaves: Sequence[bytes]) -> bytes:
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return _node(_root(leaves[:k]), _root(leaves[k:]))


def merkle_root(receipts: Sequence[str]) -> str:
    if not receipts:
        return hashlib.sha256(b"").hexdigest()
    return _root([leaf_hash(r) for r in receipts]).hex()


def inclusion_proof(receipts: Sequence[str], index: int) -> list[str]:
    def path(m: int, leaves: Sequence[bytes]) -> list[bytes]:
        if len(leaves) == 1:
            return []
        k = _split(len(leaves))
        if m < k:
            return [*path(m, leaves[:k]), _root(leaves[k:])]
        return [*path(m - k, leaves[k:]), _root(leaves[:k])]

    return [h.hex() for h in path(index, [leaf_hash(r) for r in receipts])]


def verify_inclusion(receipt: str, index: int, size: int, proof: Sequence[str], root: str) -> bool:
    if not 0 <= index < size:
        return False
    fn, sn, r = index, size - 1, leaf_hash(receipt)
    for sibling_hex in proof:
        sibling = bytes.fromhex(sibling_hex)
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = _node(sibling, r)
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            r = _node(r, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r.hex() == root


# A stored tree: the hashes of its aligned perfect subtrees, level by level (level 0 the leaf
# hashes; entry p of level k covers leaves p * 2^k to (p + 1) * 2^k - 1). Any node of the RFC 9162
# tree is the right fold of at most log2(size) of them, so a proof is O(log size) lookups.
Subtree = tuple[int, int]  # (level, position)


def tree_levels(receipts: Sequence[str]) -> list[list[bytes]]:
    levels = [[leaf_hash(r) for r in receipts]]
    while len(levels[-1]) > 1:
        below = levels[-1]
        levels.append([_node(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)])
    return levels


def subtrees(start: int, end: int) -> list[Subtree]:
    """The leaves start..end-1 as aligned perfect subtrees, largest first; the tree hash of the
    range is their right fold (`fold`). For the ranges of a proof, start is always aligned."""
    blocks = []
    while start < end:
        level = (end - start).bit_length() - 1
        blocks.append((level, start >> level))
        start += 1 << level
    return blocks


def fold(hashes: Sequence[bytes]) -> bytes:
    folded = hashes[-1]
    for left in reversed(hashes[:-1]):
        folded = _node(left, folded)
    return folded


def root_subtrees(size: int) -> list[Subtree]:
    return subtrees(0, size)


def proof_subtrees(index: int, size: int) -> list[list[Subtree]]:
    """The inclusion proof of leaf `index` (the path of `inclusion_proof`, deepest first), each
    element as the subtrees whose fold it is."""
    ranges = []
    low, high = 0, size
    while high - low > 1:
        half = _split(high - low)
        if index < low + half:
            ranges.append((low + half, high))
            high = low + half
        else:
            ranges.append((low, low + half))
            low += half
    return [subtrees(start, end) for start, end in reversed(ranges)]
