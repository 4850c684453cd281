#include "mailjournal/segment_chain.h"

#include <algorithm>

namespace mailjournal {

Status SegmentChain::Add(const VerifiedSegment& segment) {
  auto bad = [&](const std::string& why) {
    return Status::Corruption("segment " + std::to_string(segment.first) + "-" +
                              std::to_string(segment.last) + ": " + why);
  };
  uint64_t expected = last() + 1;
  if (segment.first != expected) {
    return bad(segment.first > expected
                   ? "entries " + std::to_string(expected) + ".." +
                         std::to_string(segment.first - 1) + " are missing (a gap)"
                   : "overlaps the segments before it (entries up to " + std::to_string(last()) +
                         " are in them)");
  }
  if (segments_ > 0 && segment.checkpoint.origin != origin_) {
    return bad("its checkpoint is of origin " + segment.checkpoint.origin + ", the segments " +
               "before it of " + origin_);
  }
  if (segment.left_range != range_.Encode()) {
    return bad("its tree.json \"left\" is not the compact range of the entries of the segments " +
               std::string("before it: they are not of one tree"));
  }
  CompactRange range = range_;
  std::vector<Checkpoint> ahead = ahead_;
  ahead.push_back(segment.checkpoint);
  std::stable_sort(ahead.begin(), ahead.end(),
                   [](const Checkpoint& a, const Checkpoint& b) { return a.size < b.size; });
  auto check_reached = [&]() -> Status {
    while (!ahead.empty() && ahead.front().size <= range.size()) {
      if (ahead.front().size == range.size() && ahead.front().root != range.Root()) {
        return bad("the checkpoint of a tree of " + std::to_string(range.size()) +
                   " entries signs another root than that of entries 1.." +
                   std::to_string(range.size()) + " of the segments");
      }
      ahead.erase(ahead.begin());
    }
    return Status::OK();
  };
  for (const std::string& entry : segment.entry_bytes) {
    range.Append(LeafHash(entry));
    Status s = check_reached();
    if (!s.ok()) return s;
  }
  range_ = std::move(range);
  ahead_ = std::move(ahead);
  origin_ = segment.checkpoint.origin;
  ++segments_;
  messages_ += segment.messages;
  return Status::OK();
}

}  // namespace mailjournal
