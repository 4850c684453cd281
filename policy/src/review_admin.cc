#include "mailjournal/review_admin.h"

#include <algorithm>
#include <memory>
#include <mutex>
#include <vector>

#include "mailjournal/query_sealer.h"
#include "mailjournal/review_state.h"

namespace mailjournal {

using nlohmann::json;

namespace {

constexpr char kReview[] = "review";
constexpr uint64_t kDefaultQueueLimit = 100;

// A message's rank in the queue: its highest severity (1 low .. 4 critical), 0 for a
// message only sampled.
int SeverityRank(const MessageEntry& m) {
  int rank = 0;
  for (const LexiconHit& f : m.flags) rank = std::max(rank, static_cast<int>(f.severity));
  return rank;
}

std::string RankName(int rank) {
  return rank == 0 ? "none" : SeverityName(static_cast<Severity>(rank));
}

// "unreviewed" or the status name.
std::string StatusText(const MessageReview* review) {
  return review == nullptr || !review->status ? "unreviewed" : ReviewStatusName(*review->status);
}

// Where a queue page starts: after the item of this rank and sequence number.
struct QueueCursor {
  int rank = 5;  // above every rank: from the start
  uint64_t seq = 0;
  // Whether an item comes after the cursor in queue order (rank down, then seq up).
  bool Before(int r, uint64_t s) const { return r < rank || (r == rank && s > seq); }
};

struct QueueQuery {
  std::string status = "unreviewed";  // or reviewed, escalated, closed, any
  std::string department;             // "": every department the caller reviews
  int min_rank = 0;
  uint64_t limit = kDefaultQueueLimit;
  QueueCursor after;

  Status Parse(const json& req) {
    std::string severity;
    Status s = RequestString(req, "status", &status);
    if (s.ok()) s = RequestString(req, "department", &department);
    if (s.ok()) s = RequestString(req, "severity", &severity);
    if (s.ok()) s = RequestUnsigned(req, "limit", &limit);
    if (!s.ok()) return s;
    ReviewStatus parsed;
    if (status != "unreviewed" && status != "any" && !ParseReviewStatus(status, &parsed)) {
      return Status::InvalidArgument("status '" + status +
                                     "': expected unreviewed, reviewed, escalated, closed or any");
    }
    if (!severity.empty()) {
      Severity least;
      if (!ParseSeverity(severity, &least)) {
        return Status::InvalidArgument("severity '" + severity +
                                       "': expected low, medium, high or critical");
      }
      min_rank = static_cast<int>(least);
    }
    if (limit == 0 || limit > kMaxListLimit) {
      return Status::InvalidArgument("limit: expected 1 to " + std::to_string(kMaxListLimit));
    }
    auto a = req.find("after");
    if (a != req.end() && !a->is_null()) {
      Status bad = Status::InvalidArgument(
          "after: expected {\"severity\": low|medium|high|critical|none, \"seq\": N}");
      std::string name;
      if (!a->is_object() || !RequestString(*a, "severity", &name).ok() ||
          !RequestUnsigned(*a, "seq", &after.seq).ok()) {
        return bad;
      }
      Severity sev;
      if (name == "none") {
        after.rank = 0;
      } else if (ParseSeverity(name, &sev)) {
        after.rank = static_cast<int>(sev);
      } else {
        return bad;
      }
    }
    return Status::OK();
  }

  bool Wants(const MessageReview* review) const {
    return status == "any" || StatusText(review) == status;
  }
};

struct QueueItem {
  int rank;
  uint64_t seq;
  MessageEntry message;
};

json TagsJson(const MessageReview* review) {
  json tags = json::array();
  if (review != nullptr) {
    for (const std::string& t : review->tags) tags.push_back(t);
  }
  return tags;
}

// A queue item: what a reviewer needs to pick a message, nothing of its content.
json QueueItemJson(Journal* journal, const QueueItem& item, const MessageReview* review) {
  json m = EntryToJson(item.seq, [&item] {
    Entry e;
    e.kind = EntryKind::kMessage;
    e.message = item.message;
    return e;
  }());
  uint64_t disposal = 0;
  bool disposed = journal->FindDisposal(item.seq, &disposal).ok();
  return json{{"seq", item.seq},
              {"time", m["time"]},
              {"departments", m["departments"]},
              {"flags", m["flags"]},
              {"severity", RankName(item.rank)},
              {"sampled", m["sampled"]},
              {"status", StatusText(review)},
              {"tags", TagsJson(review)},
              {"mail_from", m["mail_from"]},
              {"rcpt", m["rcpt"]},
              {"content", disposed ? "disposed" : "stored"}};
}

// The message entry `seq` for a decision or a tag, once the caller may review it.
Status ReviewableMessage(Journal* journal, const AdminCall& call, uint64_t seq,
                         MessageEntry* message) {
  if (seq == 0) return Status::InvalidArgument("seq: expected the sequence number of a message");
  Status s = journal->ReadMessage(seq, message);
  if (s.IsNotFound()) return Status::NotFound("entry " + std::to_string(seq) + ": not a message");
  if (!s.ok()) return s;
  if (!call.permissions->AllowsAny(kReview, message->classification.departments)) {
    return call.Refuse("review message " + std::to_string(seq));
  }
  return Status::OK();
}

// The review module's state shared by its operations.
class ReviewDesk {
 public:
  ReviewDesk(Journal* journal, const PolicyHolder* holder) : journal_(journal), holder_(holder) {}

  Status Queue(const json& request, AdminCall* call, ResponseWriter* out) {
    QueueQuery q;
    Status s = q.Parse(request);
    if (s.ok() && !q.department.empty() && !call->permissions->Allows(kReview, q.department)) {
      s = call->Refuse("review department " + q.department);
    }
    if (!s.ok()) return AnswerError(s, out);
    ReviewState state;
    std::vector<QueueItem> items;
    {
      std::lock_guard<std::mutex> l(mu_);  // the state as of the last decision
      s = LoadReviewState(journal_, &state);
    }
    if (s.ok()) {
      s = journal_->ScanSupervised(0, false, [&](uint64_t seq, const Entry& e) {
        const std::vector<std::string>& departments = e.message.classification.departments;
        if (!call->permissions->AllowsAny(kReview, departments)) return true;
        if (!q.department.empty() &&
            std::find(departments.begin(), departments.end(), q.department) == departments.end()) {
          return true;
        }
        int rank = SeverityRank(e.message);
        if (rank < q.min_rank || !q.after.Before(rank, seq) || !q.Wants(state.Find(seq))) {
          return true;
        }
        items.push_back(QueueItem{rank, seq, e.message});
        return true;
      });
    }
    if (!s.ok()) return AnswerError(s, out);
    std::sort(items.begin(), items.end(), [](const QueueItem& a, const QueueItem& b) {
      return a.rank != b.rank ? a.rank > b.rank : a.seq < b.seq;
    });
    bool more = items.size() > q.limit;
    if (more) items.resize(q.limit);
    json listed = json::array();
    for (const QueueItem& item : items) {
      listed.push_back(QueueItemJson(journal_, item, state.Find(item.seq)));
      call->returned.push_back(item.seq);
    }
    json resp = OkResponse();
    resp["messages"] = std::move(listed);
    resp["more"] = more;
    if (more) resp["next"] = {{"severity", RankName(items.back().rank)}, {"seq", items.back().seq}};
    return out->Header(resp);
  }

  Status Mark(const json& request, AdminCall* call, ResponseWriter* out) {
    // The note is words of the reviewer's: recorded in the access entry only as given or not.
    json recorded = request;
    if (recorded.is_object() && recorded.contains("note")) recorded["note"] = "(sealed)";
    call->audit_arguments = recorded;
    if (!call->permissions->AllowsSome(kReview)) {
      return AnswerError(call->Refuse("review (operation review_mark)"), out);
    }
    uint64_t seq = 0;
    std::string status_name, note;
    Status s = RequestUnsigned(request, "seq", &seq);
    if (s.ok()) s = RequestString(request, "status", &status_name);
    if (s.ok()) s = RequestString(request, "note", &note);
    Entry e;
    e.kind = EntryKind::kReview;
    ReviewEntry& r = e.review;
    if (s.ok() && !ParseReviewStatus(status_name, &r.status)) {
      s = Status::InvalidArgument("status '" + status_name +
                                  "': expected reviewed, escalated or closed");
    }
    if (s.ok() && note.size() > kMaxReviewNoteBytes) {
      s = Status::InvalidArgument("note: longer than " + std::to_string(kMaxReviewNoteBytes) +
                                  " bytes");
    }
    if (s.ok()) s = CheckUtf8(note);
    MessageEntry message;
    if (s.ok()) s = ReviewableMessage(journal_, *call, seq, &message);
    if (s.ok() && !note.empty()) s = SealNote(message, note, &r);
    r.actor = call->caller.actor();
    r.message = seq;
    uint64_t appended = 0;
    if (s.ok()) s = Append(&e, &appended);
    if (!s.ok()) return AnswerError(s, out);
    call->returned.push_back(appended);
    json resp = OkResponse();
    resp["seq"] = appended;
    resp["status"] = ReviewStatusName(r.status);
    return out->Header(resp);
  }

  Status Tag(const json& request, AdminCall* call, ResponseWriter* out) {
    uint64_t seq = 0;
    std::string action;
    Entry e;
    e.kind = EntryKind::kTag;
    TagEntry& t = e.tag;
    Status s = RequestUnsigned(request, "seq", &seq);
    if (s.ok()) s = RequestString(request, "action", &action);
    if (s.ok()) s = RequestString(request, "tag", &t.tag);
    if (s.ok()) {
      if (action == "add") {
        t.action = TagAction::kAdd;
      } else if (action == "remove") {
        t.action = TagAction::kRemove;
      } else {
        s = Status::InvalidArgument("action '" + action + "': expected add or remove");
      }
    }
    if (s.ok()) s = CheckTagName(t.tag);
    MessageEntry message;
    if (s.ok()) s = ReviewableMessage(journal_, *call, seq, &message);
    t.actor = call->caller.actor();
    t.message = seq;
    uint64_t appended = 0;
    if (s.ok()) {
      std::lock_guard<std::mutex> l(mu_);  // the check and the append as one step
      ReviewState state;
      s = LoadReviewState(journal_, &state);
      const MessageReview* review = state.Find(seq);
      bool present = review != nullptr && review->tags.count(t.tag) > 0;
      std::string on = "message " + std::to_string(seq);
      if (s.ok() && t.action == TagAction::kAdd && present) {
        s = Status::InvalidArgument(on + " has tag '" + t.tag + "' already");
      } else if (s.ok() && t.action == TagAction::kRemove && !present) {
        s = Status::NotFound(on + " has no tag '" + t.tag + "'");
      }
      if (s.ok()) s = AppendLocked(&e, &appended);
    }
    if (!s.ok()) return AnswerError(s, out);
    call->returned.push_back(appended);
    json resp = OkResponse();
    resp["seq"] = appended;
    return out->Header(resp);
  }

  Status Show(const json& request, AdminCall* call, ResponseWriter* out) {
    uint64_t seq = 0;
    Status s = RequestUnsigned(request, "seq", &seq);
    MessageEntry message;
    if (s.ok()) s = ReviewableMessage(journal_, *call, seq, &message);
    json entries = json::array();
    ReviewState state;
    for (EntryKind kind : {EntryKind::kReview, EntryKind::kTag}) {
      if (!s.ok()) break;
      s = journal_->ScanKind(kind, 0, false, [&](uint64_t at, const Entry& e) {
        if ((kind == EntryKind::kReview ? e.review.message : e.tag.message) != seq) return true;
        state.Apply(at, e);
        entries.push_back(EntryToJson(at, e));
        call->returned.push_back(at);
        return true;
      });
    }
    if (!s.ok()) return AnswerError(s, out);
    std::sort(entries.begin(), entries.end(), [](const json& a, const json& b) {
      return a["seq"].get<uint64_t>() < b["seq"].get<uint64_t>();
    });
    const MessageReview* review = state.Find(seq);
    int rank = SeverityRank(message);
    json resp = OkResponse();
    resp["message"] = {{"seq", seq},
                       {"departments", message.classification.departments},
                       {"severity", RankName(rank)},
                       {"sampled", message.sampled},
                       {"supervised", !message.flags.empty() || message.sampled},
                       {"status", StatusText(review)},
                       {"tags", TagsJson(review)}};
    resp["message"]["flags"] = json::array();
    for (const LexiconHit& f : message.flags) {
      resp["message"]["flags"].push_back(
          {{"lexicon", f.lexicon}, {"severity", SeverityName(f.severity)}});
    }
    resp["entries"] = std::move(entries);
    return out->Header(resp);
  }

 private:
  static Status CheckUtf8(const std::string& text) {
    try {
      (void)json(text).dump();  // strict: throws on invalid UTF-8
    } catch (const json::exception&) {
      return Status::InvalidArgument("note: not valid UTF-8");
    }
    return Status::OK();
  }

  // Seals the note to the keys of the message's departments and the escrow keys of the
  // policy in force; never recorded in clear, so no key is an error.
  Status SealNote(const MessageEntry& message, const std::string& note, ReviewEntry* r) {
    std::shared_ptr<const Policy> policy = holder_->Active();
    if (policy == nullptr) return NoPolicyInForce();
    RecipientKeys recipients = SealingRecipients(*policy, message.classification.departments);
    if (recipients.empty()) {
      return Status::InvalidArgument(
          "note: the policy in force has no key for the message's departments and no escrow "
          "key to seal it to (mark without --note)");
    }
    return SealText(recipients, note, &r->note_sealed, &r->note_recipients);
  }

  Status Append(Entry* e, uint64_t* seq) {
    std::lock_guard<std::mutex> l(mu_);
    return AppendLocked(e, seq);
  }
  Status AppendLocked(Entry* e, uint64_t* seq) {
    std::vector<Entry> entries(1, *e);
    return journal_->AppendEntries(&entries, seq);
  }

  Journal* const journal_;
  const PolicyHolder* const holder_;
  std::mutex mu_;  // serialises decisions and tags
};

}  // namespace

Status CheckTagName(const std::string& tag) {
  if (tag.empty() || tag.size() > kMaxTagLength) {
    return Status::InvalidArgument("tag '" + tag + "': expected 1 to " +
                                   std::to_string(kMaxTagLength) + " characters");
  }
  for (char c : tag) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-';
    if (!ok) {
      return Status::InvalidArgument("tag '" + tag +
                                     "': only letters A-Z a-z, digits and . _ - are allowed");
    }
  }
  return Status::OK();
}

void AddReviewOperations(Journal* journal, const PolicyHolder* holder, AdminHandler* handler) {
  auto desk = std::make_shared<ReviewDesk>(journal, holder);
  handler->AddOperation("review_queue", kReview,
                        [desk](const json& request, AdminCall* call, ResponseWriter* out) {
                          return desk->Queue(request, call, out);
                        });
  // Checks the grant itself, after keeping the note out of the access entry.
  handler->AddOperation("review_mark", "",
                        [desk](const json& request, AdminCall* call, ResponseWriter* out) {
                          return desk->Mark(request, call, out);
                        });
  handler->AddOperation("tag", kReview,
                        [desk](const json& request, AdminCall* call, ResponseWriter* out) {
                          return desk->Tag(request, call, out);
                        });
  handler->AddOperation("review_show", kReview,
                        [desk](const json& request, AdminCall* call, ResponseWriter* out) {
                          return desk->Show(request, call, out);
                        });
}

}  // namespace mailjournal
