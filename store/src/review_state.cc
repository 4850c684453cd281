#include "mailjournal/review_state.h"

namespace mailjournal {

void ReviewState::Apply(uint64_t seq, const Entry& entry) {
  if (entry.kind == EntryKind::kReview) {
    MessageReview& m = messages_[entry.review.message];
    m.status = entry.review.status;
    m.status_seq = seq;
  } else if (entry.kind == EntryKind::kTag) {
    MessageReview& m = messages_[entry.tag.message];
    if (entry.tag.action == TagAction::kAdd) {
      m.tags.insert(entry.tag.tag);
    } else {
      m.tags.erase(entry.tag.tag);
    }
  }
}

const MessageReview* ReviewState::Find(uint64_t seq) const {
  auto it = messages_.find(seq);
  return it == messages_.end() ? nullptr : &it->second;
}

Status LoadReviewState(Journal* journal, ReviewState* state) {
  for (EntryKind kind : {EntryKind::kReview, EntryKind::kTag}) {
    Status s = journal->ScanKind(kind, 0, false, [&](uint64_t seq, const Entry& e) {
      state->Apply(seq, e);
      return true;
    });
    if (!s.ok()) return s;
  }
  return Status::OK();
}

}  // namespace mailjournal
