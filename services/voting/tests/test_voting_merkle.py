"""A stored tree (aligned perfect subtrees) gives the same root and proofs as RFC 9162's
recursive definition, for every leaf of every size up to 70 and around 128."""

from __future__ import annotations

import hashlib

from voting.domain.merkle import (
    fold,
    inclusion_proof,
    merkle_root,
    proof_subtrees,
    root_subtrees,
    tree_levels,
    verify_inclusion,
)


def receipts(size: int) -> list[str]:
    return [hashlib.sha256(str(i).encode()).hexdigest() for i in range(size)]


def test_the_stored_subtrees_fold_to_the_digest_and_to_every_proof():
    for size in [*range(1, 71), 127, 128, 129]:
        leaves = receipts(size)
        levels = tree_levels(leaves)
        root = fold([levels[level][p] for level, p in root_subtrees(size)]).hex()
        assert root == merkle_root(leaves), size
        for index in range(size):
            groups = proof_subtrees(index, size)
            proof = [fold([levels[level][p] for level, p in g]).hex() for g in groups]
            assert proof == inclusion_proof(leaves, index), (size, index)
            assert verify_inclusion(leaves[index], index, size, proof, root)


def test_a_proof_reads_at_most_two_subtrees_per_level_of_the_tree():
    size = 100_003
    for index in (0, 1, 65_535, 65_536, 99_999, size - 1):
        read = {s for group in proof_subtrees(index, size) for s in group}
        assert len(read) <= 2 * size.bit_length()
