#include "mailjournal/merkle.h"

#include "mailjournal/sha256.h"

namespace mailjournal {

namespace {

// The largest power of two smaller than n (n > 1): RFC 9162's split point.
uint64_t Split(uint64_t n) {
  uint64_t k = 1;
  while (k < n - k) k <<= 1;
  return k;
}

std::string_view Bytes(const Sha256Digest& d) {
  return std::string_view(reinterpret_cast<const char*>(d.data()), d.size());
}

// RFC 9162 SUBPROOF(m, D[begin:end], complete), appended to *proof.
Status SubProof(uint64_t m, uint64_t begin, uint64_t end, bool complete,
                const LeafHashSource& leaves, std::vector<Sha256Digest>* proof) {
  uint64_t n = end - begin;
  if (m == n) {
    if (complete) return Status::OK();
    Sha256Digest root;
    Status s = SubtreeRoot(begin, end, leaves, &root);
    if (s.ok()) proof->push_back(root);
    return s;
  }
  uint64_t k = Split(n);
  Sha256Digest other;
  Status s;
  if (m <= k) {
    s = SubProof(m, begin, begin + k, complete, leaves, proof);
    if (s.ok()) s = SubtreeRoot(begin + k, end, leaves, &other);
  } else {
    s = SubProof(m - k, begin + k, end, false, leaves, proof);
    if (s.ok()) s = SubtreeRoot(begin, begin + k, leaves, &other);
  }
  if (s.ok()) proof->push_back(other);
  return s;
}

}  // namespace

Sha256Digest LeafHash(std::string_view leaf_input) {
  Sha256 sha;
  sha.Update(std::string_view("\x00", 1));
  sha.Update(leaf_input);
  return sha.Final();
}

Sha256Digest NodeHash(const Sha256Digest& left, const Sha256Digest& right) {
  Sha256 sha;
  sha.Update(std::string_view("\x01", 1));
  sha.Update(Bytes(left));
  sha.Update(Bytes(right));
  return sha.Final();
}

Sha256Digest EmptyRoot() { return Sha256::Of(""); }

void CompactRange::Append(const Sha256Digest& leaf_hash) {
  // Merge equal-sized subtrees from the right, as adding 1 carries through the set bits.
  Sha256Digest node = leaf_hash;
  for (uint64_t bit = 1; (size_ & bit) != 0; bit <<= 1) {
    node = NodeHash(roots_.back(), node);
    roots_.pop_back();
  }
  roots_.push_back(node);
  ++size_;
}

Sha256Digest CompactRange::Root() const {
  if (roots_.empty()) return EmptyRoot();
  // The smaller subtrees are the right children of the larger ones, folded from the right.
  Sha256Digest root = roots_.back();
  for (size_t i = roots_.size() - 1; i-- > 0;) root = NodeHash(roots_[i], root);
  return root;
}

std::string CompactRange::Encode() const {
  std::string out;
  for (int i = 7; i >= 0; --i) out.push_back(static_cast<char>((size_ >> (8 * i)) & 0xff));
  for (const Sha256Digest& r : roots_) out.append(Bytes(r));
  return out;
}

bool CompactRange::Decode(std::string_view bytes, CompactRange* range) {
  if (bytes.size() < 8) return false;
  uint64_t size = 0;
  for (int i = 0; i < 8; ++i) size = (size << 8) | static_cast<unsigned char>(bytes[i]);
  bytes.remove_prefix(8);
  size_t count = static_cast<size_t>(__builtin_popcountll(size));
  if (bytes.size() != count * 32) return false;
  CompactRange r;
  r.size_ = size;
  for (size_t i = 0; i < count; ++i) {
    Sha256Digest d;
    std::copy(bytes.begin() + 32 * i, bytes.begin() + 32 * (i + 1), d.begin());
    r.roots_.push_back(d);
  }
  *range = std::move(r);
  return true;
}

Status SubtreeRoot(uint64_t begin, uint64_t end, const LeafHashSource& leaves, Sha256Digest* root) {
  if (begin == end) {
    *root = EmptyRoot();
    return Status::OK();
  }
  if (end - begin == 1) return leaves(begin, root);
  // Leaves in order through a compact range: no recursion, O(log n) memory.
  CompactRange range;
  for (uint64_t i = begin; i < end; ++i) {
    Sha256Digest leaf;
    Status s = leaves(i, &leaf);
    if (!s.ok()) return s;
    range.Append(leaf);
  }
  *root = range.Root();
  return Status::OK();
}

Status InclusionProof(uint64_t index, uint64_t size, const LeafHashSource& leaves,
                      std::vector<Sha256Digest>* path) {
  if (index >= size) {
    return Status::InvalidArgument("inclusion proof: leaf " + std::to_string(index) +
                                   " is not in a tree of " + std::to_string(size));
  }
  path->clear();
  // PATH(m, D[begin:end]) from the top down; the RFC lists the path from the leaf up.
  std::vector<Sha256Digest> top_down;
  uint64_t begin = 0, end = size, m = index;
  while (end - begin > 1) {
    uint64_t k = Split(end - begin);
    Sha256Digest sibling;
    Status s;
    if (m < k) {
      s = SubtreeRoot(begin + k, end, leaves, &sibling);
      end = begin + k;
    } else {
      s = SubtreeRoot(begin, begin + k, leaves, &sibling);
      begin += k;
      m -= k;
    }
    if (!s.ok()) return s;
    top_down.push_back(sibling);
  }
  path->assign(top_down.rbegin(), top_down.rend());
  return Status::OK();
}

Status ConsistencyProof(uint64_t old_size, uint64_t new_size, const LeafHashSource& leaves,
                        std::vector<Sha256Digest>* proof) {
  if (old_size > new_size) {
    return Status::InvalidArgument("consistency proof: tree size " + std::to_string(old_size) +
                                   " is larger than " + std::to_string(new_size));
  }
  proof->clear();
  if (old_size == 0 || old_size == new_size) return Status::OK();
  return SubProof(old_size, 0, new_size, true, leaves, proof);
}

bool InclusionPathSides(uint64_t index, uint64_t size, size_t path_size, std::vector<bool>* left) {
  left->clear();
  if (index >= size) return false;
  uint64_t fn = index, sn = size - 1;
  for (size_t i = 0; i < path_size; ++i) {
    if (sn == 0) return false;
    bool on_left = (fn & 1) != 0 || fn == sn;
    left->push_back(on_left);
    if (on_left) {
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0;
}

bool VerifyInclusion(uint64_t index, uint64_t size, const Sha256Digest& leaf_hash,
                     const std::vector<Sha256Digest>& path, const Sha256Digest& root) {
  std::vector<bool> left;
  if (!InclusionPathSides(index, size, path.size(), &left)) return false;
  Sha256Digest r = leaf_hash;
  for (size_t i = 0; i < path.size(); ++i)
    r = left[i] ? NodeHash(path[i], r) : NodeHash(r, path[i]);
  return r == root;
}

bool VerifyConsistency(uint64_t old_size, uint64_t new_size, const Sha256Digest& old_root,
                       const Sha256Digest& new_root, const std::vector<Sha256Digest>& proof) {
  if (old_size > new_size) return false;
  if (old_size == new_size) return proof.empty() && old_root == new_root;
  if (old_size == 0) return proof.empty() && old_root == EmptyRoot();
  if (proof.empty()) return false;
  std::vector<Sha256Digest> path;
  if ((old_size & (old_size - 1)) == 0) path.push_back(old_root);  // a power of two
  path.insert(path.end(), proof.begin(), proof.end());
  uint64_t fn = old_size - 1, sn = new_size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  Sha256Digest fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const Sha256Digest& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == old_root && sr == new_root && sn == 0;
}

}  // namespace mailjournal
