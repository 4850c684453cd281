// The search term sets that segments carry (terms.bin, mailjournal-format(5), SEGMENTS),
// looked up as postings, so that a search of a bucket opens only the candidates
// (EvaluateCandidates, mailjournal/search_query.h) instead of every message; and the
// departments' index keys, opened from the segments' index_key entries with the officers'
// keys. Used by one thread.
#ifndef MAILJOURNAL_TOOL_SEGMENT_POSTINGS_H_
#define MAILJOURNAL_TOOL_SEGMENT_POSTINGS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "fetch.h"
#include "mailjournal/index_keys.h"
#include "mailjournal/search_query.h"
#include "mailjournal/segment.h"

namespace mailjournal {

// The index keys of the segments' index_key entries that a key of `opener` opens, each
// once. An entry no loaded key is a recipient of is skipped; Corruption when a recipient's
// key does not open its entry.
Status OpenSegmentIndexKeys(const std::vector<const VerifiedSegment*>& segments,
                            const Opener& opener, std::vector<IndexKey>* keys);

// A token's postings: the messages whose term set under one of `keys` holds the token's
// hash under that key, with the fields it is in.
class SegmentPostings : public PostingSource {
 public:
  // REQUIRES: the segments and keys outlive this.
  SegmentPostings(const std::vector<const VerifiedSegment*>& segments,
                  const std::vector<IndexKey>& keys);
  Status Postings(const std::string& token, std::vector<Posting>* out) override;
  // Whether message seq has a term set under one of the keys: only then do the postings
  // say anything about it.
  bool Indexed(uint64_t seq) const;

 private:
  const std::vector<const VerifiedSegment*>& segments_;
  const std::vector<IndexKey>& keys_;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_TOOL_SEGMENT_POSTINGS_H_
