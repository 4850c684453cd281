// The review state of messages (mailjournal-review(8)): the review and tag entries of a
// journal folded per message. A message's status is its latest review decision (none:
// unreviewed); its tags are those added and not removed since.
//
// Thread-safety: a ReviewState is a plain value; use it from one thread or share it const.
#ifndef MAILJOURNAL_REVIEW_STATE_H_
#define MAILJOURNAL_REVIEW_STATE_H_

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "mailjournal/entry.h"
#include "mailjournal/journal.h"
#include "mailjournal/status.h"

namespace mailjournal {

struct MessageReview {
  std::optional<ReviewStatus> status;  // the latest decision; none while unreviewed
  uint64_t status_seq = 0;             // the review entry that made it (0: none)
  std::set<std::string> tags;
};

class ReviewState {
 public:
  // Folds in one entry: review and tag entries change their message's state, other kinds
  // are ignored. REQUIRES: the entries of each kind are applied in sequence order.
  void Apply(uint64_t seq, const Entry& entry);
  // The state of message `seq`; null when no review or tag entry names it.
  const MessageReview* Find(uint64_t seq) const;
  // Every message that a review or tag entry names, by sequence number.
  const std::map<uint64_t, MessageReview>& messages() const { return messages_; }

 private:
  std::map<uint64_t, MessageReview> messages_;
};

// Folds every review and tag entry of `journal` into *state (through the journal's index of
// kinds: the cost depends on the number of those entries only).
Status LoadReviewState(Journal* journal, ReviewState* state);

}  // namespace mailjournal

#endif  // MAILJOURNAL_REVIEW_STATE_H_
