// SegmentChain: whether verified segments of one journal (the segments of one bucket
// prefix, mailjournal-format(5), BUCKET) together prove entries 1..last of one tree.
//
// Each segment proves on its own (VerifySegment) that its entries are leaves first-1..last-1
// of its checkpoint's tree, given the compact range of the leaves before it (tree.json
// "left"). The chain adds what one segment cannot prove: that the segments are contiguous
// from entry 1 (no gap, no overlap), that each segment's "left" is exactly what the
// segments before it add up to, so every segment is of the same tree, and that every
// checkpoint is consistent with the entries: the root of the first N leaves of the chain
// is the root a checkpoint of a tree of N entries signs, checked as soon as the chain
// reaches N entries. A plain value; not thread-safe.
#ifndef MAILJOURNAL_SEGMENT_CHAIN_H_
#define MAILJOURNAL_SEGMENT_CHAIN_H_

#include <cstdint>
#include <string>
#include <vector>

#include "mailjournal/checkpoint.h"
#include "mailjournal/merkle.h"
#include "mailjournal/segment.h"
#include "mailjournal/status.h"

namespace mailjournal {

class SegmentChain {
 public:
  // Adds the next segment (verified by VerifySegment). Corruption naming the problem,
  // and the chain unchanged, when its first entry is not the one after the chain's last
  // (a gap or an overlap; the first segment must start at entry 1), its origin is not the
  // chain's, its "left" is not the compact range of the chain's entries (another tree), or
  // the chain now reaches the size of a checkpoint (this segment's or an earlier one's)
  // whose root is not that of the chain's first entries.
  Status Add(const VerifiedSegment& segment);

  uint64_t last() const { return range_.size(); }      // the last entry proven; 0 when empty
  Sha256Digest root() const { return range_.Root(); }  // of the tree of entries 1..last()
  size_t segments() const { return segments_; }
  uint64_t messages() const { return messages_; }
  const std::string& origin() const { return origin_; }
  // The checkpoints seen of trees larger than the chain (none for an honest journal but
  // the last segment's, whose tree may be ahead of its last entry).
  size_t checkpoints_ahead() const { return ahead_.size(); }

 private:
  CompactRange range_;
  std::string origin_;
  size_t segments_ = 0;
  uint64_t messages_ = 0;
  std::vector<Checkpoint> ahead_;  // sorted by size
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_SEGMENT_CHAIN_H_
