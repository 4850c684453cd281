// The journal's Merkle tree, hashed as RFC 9162 (section 2.1) specifies: SHA-256, leaf hash
// SHA-256(0x00 || leaf input), node hash SHA-256(0x01 || left || right), a tree of n > 1
// leaves split at the largest power of two smaller than n, and the empty tree's hash
// SHA-256(""). Leaf i is journal entry i + 1; its input is the entry's canonical encoding
// (mailjournal-format(5), "MERKLE TREE").
//
// Proofs and their verification follow RFC 9162 sections 2.1.3 and 2.1.4. All functions are
// thread-safe; a CompactRange is a value used by one thread at a time.
#ifndef MAILJOURNAL_MERKLE_H_
#define MAILJOURNAL_MERKLE_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "mailjournal/entry.h"
#include "mailjournal/status.h"

namespace mailjournal {

Sha256Digest LeafHash(std::string_view leaf_input);
Sha256Digest NodeHash(const Sha256Digest& left, const Sha256Digest& right);
// The root of the empty tree, SHA-256 of no bytes.
Sha256Digest EmptyRoot();

// The right edge of a growing tree: the roots of the perfect subtrees that tree size's
// binary decomposition gives, largest first. Appending a leaf costs O(log n) hashes at
// most (amortised O(1)); so does the root.
class CompactRange {
 public:
  void Append(const Sha256Digest& leaf_hash);
  uint64_t size() const { return size_; }
  Sha256Digest Root() const;
  // A stable encoding (u64 big-endian size, then the subtree roots), for persisting the
  // range next to the journal; Decode returns false for bytes that are not one.
  std::string Encode() const;
  static bool Decode(std::string_view bytes, CompactRange* range);

 private:
  uint64_t size_ = 0;
  std::vector<Sha256Digest> roots_;  // one per set bit of size_, the largest subtree first
};

// Gives the hash of leaf `index` (0-based) of the tree a proof is made for.
using LeafHashSource = std::function<Status(uint64_t index, Sha256Digest* hash)>;

// The root of leaves [begin, end) (RFC 9162 MTH), reading end - begin leaf hashes.
Status SubtreeRoot(uint64_t begin, uint64_t end, const LeafHashSource& leaves, Sha256Digest* root);

// The audit path of leaf `index` in the tree of the first `size` leaves (RFC 9162 PATH).
// InvalidArgument unless index < size.
Status InclusionProof(uint64_t index, uint64_t size, const LeafHashSource& leaves,
                      std::vector<Sha256Digest>* path);

// The proof that the tree of the first `old_size` leaves is a prefix of the tree of the first
// `new_size` (RFC 9162 PROOF). Empty when old_size is 0 or equals new_size.
// InvalidArgument unless old_size <= new_size.
Status ConsistencyProof(uint64_t old_size, uint64_t new_size, const LeafHashSource& leaves,
                        std::vector<Sha256Digest>* proof);

// How the hashes of an inclusion path of `path_size` hashes for leaf `index` of the tree of
// `size` leaves join, following RFC 9162 2.1.3.2: (*left)[i] is true when path[i] is the
// left child of the node it makes with the hash so far, r (NODE(path[i], r)), false when it
// is the right one (NODE(r, path[i])). Returns false, with *left unspecified, when no path
// of that length proves that leaf (index >= size, or a path too long or too short).
bool InclusionPathSides(uint64_t index, uint64_t size, size_t path_size, std::vector<bool>* left);

// RFC 9162 2.1.3.2: true when `path` proves that `leaf_hash` is leaf `index` of the tree of
// `size` leaves whose root is `root`.
bool VerifyInclusion(uint64_t index, uint64_t size, const Sha256Digest& leaf_hash,
                     const std::vector<Sha256Digest>& path, const Sha256Digest& root);

// RFC 9162 2.1.4.2: true when `proof` proves that the tree of `old_size` leaves with root
// `old_root` is a prefix of the tree of `new_size` leaves with root `new_root`. For
// old_size == new_size the proof must be empty and the roots equal; for old_size 0 the proof
// must be empty and old_root the empty tree's.
bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Sha256Digest& old_root,
                       const Sha256Digest& new_root, const std::vector<Sha256Digest>& proof);

}  // namespace mailjournal

#endif  // MAILJOURNAL_MERKLE_H_
