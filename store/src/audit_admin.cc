#include "mailjournal/audit_admin.h"

#include <deque>
#include <utility>

#include "mailjournal/time_util.h"

namespace mailjournal {

using nlohmann::json;

namespace {

struct AuditQuery {
  EntryWindow window;
  std::string user;  // a name, or a uid in digits
  std::string operation;
  uint64_t seq = 0;  // entries about this entry; 0: any

  Status Parse(const json& req) {
    Status s = window.Parse(req);
    if (s.ok()) s = RequestString(req, "user", &user);
    if (s.ok()) s = RequestString(req, "operation", &operation);
    if (s.ok()) s = RequestUnsigned(req, "seq", &seq);
    return s;
  }

  bool Matches(const Entry& e) const {
    if (e.kind == EntryKind::kAccess) return Matches(e.access);
    bool review = e.kind == EntryKind::kReview;
    const Actor& actor = review ? e.review.actor : e.tag.actor;
    uint64_t message = review ? e.review.message : e.tag.message;
    if (!user.empty() && user != actor.user && user != std::to_string(actor.uid)) return false;
    if (!operation.empty() && operation != (review ? "review_mark" : "tag")) return false;
    return seq == 0 || message == seq;
  }

  bool Matches(const AccessEntry& a) const {
    if (!user.empty() && user != a.actor.user && user != std::to_string(a.actor.uid)) {
      return false;
    }
    if (!operation.empty() && operation != a.operation) return false;
    return seq == 0 || AccessConcerns(a, seq);
  }
};

// The entries of the audit trail's kinds, merged in sequence order (backward when
// `reverse`), from `from` (0: the first, or with `reverse` the last), through the kind index.
Status ScanAuditKinds(Journal* journal, uint64_t from, bool reverse,
                      const Journal::Visitor& visit) {
  constexpr size_t kPage = 64;
  struct Stream {
    EntryKind kind = EntryKind::kAccess;
    uint64_t next = 0;  // where its next page starts (0: the first, or from the end)
    bool done = false;
    std::deque<std::pair<uint64_t, Entry>> buffered;
  };
  std::vector<Stream> streams;
  for (EntryKind k : {EntryKind::kAccess, EntryKind::kReview, EntryKind::kTag}) {
    Stream st;
    st.kind = k;
    st.next = from;
    streams.push_back(std::move(st));
  }
  auto refill = [&](Stream* st) -> Status {
    if (st->done || !st->buffered.empty()) return Status::OK();
    Status s = journal->ScanKind(st->kind, st->next, reverse, [&](uint64_t seq, const Entry& e) {
      st->buffered.emplace_back(seq, e);
      return st->buffered.size() < kPage;
    });
    if (!s.ok()) return s;
    if (st->buffered.size() < kPage) st->done = true;
    if (!st->buffered.empty()) {
      uint64_t last = st->buffered.back().first;
      if (reverse && last <= 1) {
        st->done = true;
      } else {
        st->next = reverse ? last - 1 : last + 1;
      }
    }
    return Status::OK();
  };
  for (;;) {
    Stream* best = nullptr;
    for (Stream& st : streams) {
      Status s = refill(&st);
      if (!s.ok()) return s;
      if (st.buffered.empty()) continue;
      uint64_t seq = st.buffered.front().first;
      if (best == nullptr ||
          (reverse ? seq > best->buffered.front().first : seq < best->buffered.front().first)) {
        best = &st;
      }
    }
    if (best == nullptr) return Status::OK();
    auto [seq, entry] = std::move(best->buffered.front());
    best->buffered.pop_front();
    if (!visit(seq, entry)) return Status::OK();
  }
}

Status Audit(Journal* journal, const json& request, AdminCall* call, ResponseWriter* out) {
  AuditQuery q;
  Status s = q.Parse(request);
  if (!s.ok()) return AnswerError(s, out);
  const EntryWindow& w = q.window;
  return AnswerEntryPage(
      w,
      [&](const Journal::Visitor& visit) {
        return ScanAuditKinds(journal, w.ScanStart(), w.reverse, visit);
      },
      [&](uint64_t, const Entry& e) { return q.Matches(e); }, call, out);
}

}  // namespace

bool AccessConcerns(const AccessEntry& access, uint64_t seq) {
  for (const auto& [a, b] : access.seqs) {
    if (seq >= a && seq <= b) return true;
  }
  json args = json::parse(access.arguments, nullptr, false);
  if (!args.is_object()) return false;
  auto named = args.find("seq");
  if (named != args.end() && named->is_number_unsigned() && named->get<uint64_t>() == seq) {
    return true;
  }
  auto list = args.find("seqs");
  if (list != args.end() && list->is_array()) {
    for (const json& v : *list) {
      if (v.is_number_unsigned() && v.get<uint64_t>() == seq) return true;
      if (v.is_array() && v.size() == 2 && v[0].is_number_unsigned() && v[1].is_number_unsigned() &&
          seq >= v[0].get<uint64_t>() && seq <= v[1].get<uint64_t>()) {
        return true;
      }
    }
  }
  return false;
}

void AddAuditOperations(Journal* journal, AdminHandler* handler) {
  handler->AddOperation("audit", "audit",
                        [journal](const json& request, AdminCall* call, ResponseWriter* out) {
                          return Audit(journal, request, call, out);
                        });
}

}  // namespace mailjournal
