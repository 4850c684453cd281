#include "segment_postings.h"

#include <algorithm>

#include "mailjournal/index_key_seal.h"

namespace mailjournal {

Status OpenSegmentIndexKeys(const std::vector<const VerifiedSegment*>& segments,
                            const Opener& opener, std::vector<IndexKey>* keys) {
  for (const VerifiedSegment* seg : segments) {
    for (const Entry& e : seg->entries) {
      if (e.kind != EntryKind::kIndexKey) continue;
      if (std::any_of(keys->begin(), keys->end(),
                      [&](const IndexKey& k) { return k.id == e.index_key.key_id; })) {
        continue;
      }
      const OpeningKey* key = opener.KeyFor(e.index_key.recipients);
      if (key == nullptr) continue;
      IndexKey opened;
      Status s = OpenIndexKey(e.index_key, *key, &opened);
      if (!s.ok()) return s;
      keys->push_back(opened);
    }
  }
  return Status::OK();
}

SegmentPostings::SegmentPostings(const std::vector<const VerifiedSegment*>& segments,
                                 const std::vector<IndexKey>& keys)
    : segments_(segments), keys_(keys) {}

Status SegmentPostings::Postings(const std::string& token, std::vector<Posting>* out) {
  std::vector<Posting> all;
  for (const IndexKey& key : keys_) {
    uint64_t hash = TermHasher(key).Hash(token);
    for (const VerifiedSegment* seg : segments_) {
      for (const auto& [seq, sets] : seg->terms) {
        for (const TermSet& set : sets) {
          if (set.key_id != key.id) continue;
          auto it = std::lower_bound(set.terms.begin(), set.terms.end(), hash,
                                     [](const KeyedTerm& t, uint64_t h) { return t.hash < h; });
          if (it != set.terms.end() && it->hash == hash) all.push_back({seq, it->fields});
        }
      }
    }
  }
  NormalizePostings(&all);
  out->insert(out->end(), all.begin(), all.end());
  return Status::OK();
}

bool SegmentPostings::Indexed(uint64_t seq) const {
  for (const VerifiedSegment* seg : segments_) {
    auto it = seg->terms.find(seq);
    if (it == seg->terms.end()) continue;
    for (const TermSet& set : it->second) {
      for (const IndexKey& key : keys_) {
        if (set.key_id == key.id) return true;
      }
    }
  }
  return false;
}

}  // namespace mailjournal
