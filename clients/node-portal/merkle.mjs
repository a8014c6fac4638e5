// The receipt proof of docs/api/portal.md ("The receipt proof"), written from RFC 9162
// (sections 2.1.1 and 2.1.3.2) and that guide alone, not from the voting service's code.
import { createHash } from "node:crypto";

const sha256 = (...parts) => {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
};

const HEX = /^[0-9a-fA-F]{64}$/;

export function receiptBytes(receipt) {
  if (!HEX.test(receipt)) throw new Error(`a receipt is 64 hex digits, not ${JSON.stringify(receipt)}`);
  return Buffer.from(receipt, "hex");
}

export const leafHash = (receipt) => sha256(Buffer.of(0x00), receiptBytes(receipt));
export const nodeHash = (left, right) => sha256(Buffer.of(0x01), left, right);

// The largest power of two smaller than n (n >= 2).
function split(n) {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// MTH(D[n]): the root over leaf hashes.
export function treeHash(leaves) {
  if (leaves.length === 0) return sha256(Buffer.alloc(0));
  if (leaves.length === 1) return leaves[0];
  const k = split(leaves.length);
  return nodeHash(treeHash(leaves.slice(0, k)), treeHash(leaves.slice(k)));
}

// PATH(m, D[n]): the sibling hashes from the leaf up.
export function inclusionPath(index, leaves) {
  if (leaves.length <= 1) return [];
  const k = split(leaves.length);
  return index < k
    ? [...inclusionPath(index, leaves.slice(0, k)), treeHash(leaves.slice(k))]
    : [...inclusionPath(index - k, leaves.slice(k)), treeHash(leaves.slice(0, k))];
}

// RFC 9162 2.1.3.2: does the proof lead from the receipt's leaf to the root?
export function verifyInclusion({ receipt, index, size, proof, root }) {
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(size) && index >= 0 && index < size)) {
    return false;
  }
  let fn = index;
  let sn = size - 1;
  let r = leafHash(receipt);
  for (const siblingHex of proof) {
    const sibling = Buffer.from(siblingHex, "hex");
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(sibling, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, sibling);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.toString("hex") === root.toLowerCase();
}
