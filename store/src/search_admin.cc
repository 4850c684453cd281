#include "mailjournal/search_admin.h"

#include <algorithm>
#include <set>

#include "mailjournal/review_state.h"
#include "mailjournal/search_index.h"
#include "mailjournal/search_query.h"

namespace mailjournal {

using nlohmann::json;

namespace {

// The postings of one department: under each of its keys (the current one and those of
// a reindex in progress), within the sequence numbers [lo, hi]; and the messages of tag:
// and status: terms, from the review state (null when the query has no such term).
// Flags and samples are not known here: they are read from each candidate's entry.
class DepartmentPostings : public PostingSource {
 public:
  DepartmentPostings(Journal* journal, const std::vector<IndexKey>& keys, uint64_t lo, uint64_t hi,
                     const ReviewState* review)
      : journal_(journal), keys_(keys), lo_(lo), hi_(hi), review_(review) {}

  Status MetaMessages(const MetaTerm& term, bool* known, SeqSet* out) override {
    *known = review_ != nullptr &&
             (term.kind == MetaTerm::Kind::kTag || term.kind == MetaTerm::Kind::kStatus);
    if (!*known) return Status::OK();
    // Unreviewed: every message but those with a decision.
    bool unreviewed = term.kind == MetaTerm::Kind::kStatus && !term.status;
    out->complement = unreviewed;
    for (const auto& [seq, review] : review_->messages()) {
      if (seq < lo_ || seq > hi_) continue;
      if (unreviewed ? review.status.has_value() : MetaMatches(term, FactsOf({}, &review))) {
        out->seqs.push_back(seq);
      }
    }
    return Status::OK();
  }

  Status Postings(const std::string& token, std::vector<Posting>* out) override {
    std::vector<Posting> all;
    for (const IndexKey& key : keys_) {
      Status s = journal_->ReadPostings(key.id, TermHasher(key).Hash(token), &all);
      if (!s.ok()) return s;
    }
    all.erase(std::remove_if(all.begin(), all.end(),
                             [this](const Posting& p) { return p.seq < lo_ || p.seq > hi_; }),
              all.end());
    NormalizePostings(&all);
    out->insert(out->end(), all.begin(), all.end());
    return Status::OK();
  }

 private:
  Journal* const journal_;
  const std::vector<IndexKey>& keys_;
  const uint64_t lo_, hi_;
  const ReviewState* const review_;
};

// The first entry committed at or after time_us (last + 1 when none): entry times never go
// backwards, so a binary search over the entries finds it.
Status FirstAtOrAfter(Journal* journal, int64_t time_us, uint64_t last, uint64_t* seq) {
  uint64_t lo = 1, hi = last + 1;  // the answer is in [lo, hi]
  while (lo < hi) {
    uint64_t mid = lo + (hi - lo) / 2;
    Entry e;
    Status s = journal->ReadEntry(mid, &e);
    if (!s.ok()) return s;
    if (e.time_us() >= time_us) {
      hi = mid;
    } else {
      lo = mid + 1;
    }
  }
  *seq = lo;
  return Status::OK();
}

struct SearchRequest {
  std::string query;
  std::vector<std::string> departments;
  EntryWindow window;
  uint64_t offset = 0;

  Status Parse(const json& req) {
    window.limit = kDefaultSearchLimit;
    Status s = RequestString(req, "query", &query);
    if (s.ok()) s = RequestStrings(req, "departments", &departments);
    if (s.ok()) s = window.Parse(req);
    if (s.ok()) s = RequestUnsigned(req, "offset", &offset);
    return s;
  }
};

// One department searched: its keys and what the postings say.
struct Searched {
  std::string name;
  std::vector<IndexKey> keys;
  Candidates candidates;
};

// The departments to search: those with an index key that the caller may search, limited to
// the ones the request names. PermissionDenied when it names one the caller may not search.
Status ChooseDepartments(IndexKeyStore* keys, const SearchRequest& r, const AdminCall& call,
                         std::vector<Searched>* chosen) {
  for (const std::string& d : r.departments) {
    if (!call.permissions->Allows("search", d)) return call.Refuse("search department " + d);
  }
  std::vector<std::string> indexed;
  Status s = keys->Departments(&indexed);
  if (!s.ok()) return s;
  for (const std::string& d : r.departments) {
    if (!std::binary_search(indexed.begin(), indexed.end(), d)) {
      return Status::NotFound("search: department " + d +
                              " has no search index (no index key; index: false?)");
    }
  }
  std::set<std::string> named(r.departments.begin(), r.departments.end());
  for (const std::string& d : indexed) {
    if (!named.empty() && named.count(d) == 0) continue;
    if (!call.permissions->Allows("search", d)) continue;
    Searched one;
    one.name = d;
    s = keys->Keys(d, false, &one.keys);
    if (s.IsNotFound()) continue;
    if (!s.ok()) return s;
    chosen->push_back(std::move(one));
  }
  return Status::OK();
}

// Which messages are candidates: for each department searched, what its postings say of
// the query's text terms, and the message's facts (its entry's flags and sample, its review
// state when the query asks for it) for the metadata terms.
class CandidateTest {
 public:
  CandidateTest(const QueryNode& query, const std::vector<Searched>& searched,
                const ReviewState* review)
      : query_(query), searched_(searched), review_(review) {}

  // Whether entry `seq` is a candidate message, and whether exactly.
  bool Holds(uint64_t seq, const Entry& entry, bool* exact) const {
    *exact = false;
    if (entry.kind != EntryKind::kMessage) return false;
    const std::vector<std::string>& departments = entry.message.classification.departments;
    MessageFacts facts = FactsOf(entry.message, review_ == nullptr ? nullptr : review_->Find(seq));
    bool candidate = false;
    for (const Searched& s : searched_) {
      if (std::find(departments.begin(), departments.end(), s.name) == departments.end()) continue;
      MatchDecision decision = Decide(query_, &s.candidates, seq, facts);
      if (decision == MatchDecision::kNo) continue;
      candidate = true;
      if (decision == MatchDecision::kYes) *exact = true;
    }
    return candidate;
  }

 private:
  const QueryNode& query_;
  const std::vector<Searched>& searched_;
  const ReviewState* const review_;
};

// Collects the page of hits: candidates newest first within [lo, hi], skipping `offset`.
// With a review state, each hit tells its "review_status" and "tags".
class HitPage {
 public:
  HitPage(Journal* journal, uint64_t offset, uint64_t limit, const ReviewState* review)
      : journal_(journal), offset_(offset), limit_(limit), review_(review) {}

  // Considers message `seq`; false once the page is full (then more() is known).
  bool Add(uint64_t seq, const Entry& entry, bool exact) {
    uint64_t disposal = 0;
    if (journal_->FindDisposal(seq, &disposal).ok()) return true;  // content gone
    if (skipped_ < offset_) {
      ++skipped_;
      return true;
    }
    if (hits_.size() >= limit_) {
      more_ = true;
      return false;
    }
    json hit = EntryToJson(seq, entry);
    hit["exact"] = exact;
    if (review_ != nullptr) AddReviewState(review_->Find(seq), &hit);
    hits_.push_back(std::move(hit));
    seqs_.push_back(seq);
    return true;
  }

  json hits() const { return hits_; }
  bool more() const { return more_; }
  const std::vector<uint64_t>& seqs() const { return seqs_; }

 private:
  Journal* const journal_;
  const uint64_t offset_, limit_;
  const ReviewState* const review_;
  uint64_t skipped_ = 0;
  json hits_ = json::array();
  std::vector<uint64_t> seqs_;
  bool more_ = false;
};

// Pages through the candidates when every department's are a list: the union, newest first.
// Each department's list is sorted and unique (SeqSet), so the lists are walked together from
// their ends: a page costs its hits, not a sort of every candidate.
Status PageFromLists(Journal* journal, const std::vector<Searched>& searched,
                     const CandidateTest& test, HitPage* page) {
  std::vector<size_t> left;  // per department: its candidates not visited yet
  for (const Searched& s : searched) left.push_back(s.candidates.upper.seqs.size());
  while (true) {
    bool any = false;
    uint64_t seq = 0;  // the newest candidate not visited yet
    for (size_t i = 0; i < searched.size(); ++i) {
      if (left[i] == 0) continue;
      seq = std::max(seq, searched[i].candidates.upper.seqs[left[i] - 1]);
      any = true;
    }
    if (!any) break;
    for (size_t i = 0; i < searched.size(); ++i) {
      if (left[i] > 0 && searched[i].candidates.upper.seqs[left[i] - 1] == seq) --left[i];
    }
    Entry e;
    Status s = journal->ReadEntry(seq, &e);
    if (!s.ok()) return s;
    bool exact = false;
    if (!test.Holds(seq, e, &exact)) continue;
    if (!page->Add(seq, e, exact)) break;
  }
  return Status::OK();
}

// With flag terms, candidates are read by a scan of the window when they are at least one
// in this many of its entries.
constexpr uint64_t kScanWhenCandidatesOneIn = 8;

// Pages through the candidates when some are "every message but ...", or with flag terms
// when they are many: the entries from hi down to lo.
Status PageFromScan(Journal* journal, const CandidateTest& test, uint64_t lo, uint64_t hi,
                    HitPage* page) {
  return journal->Scan(hi, true, [&](uint64_t seq, const Entry& e) {
    if (seq < lo) return false;
    bool exact = false;
    if (!test.Holds(seq, e, &exact)) return true;
    return page->Add(seq, e, exact);
  });
}

// What the access entry of a search records: its arguments, the query sealed.
Status RecordSealedQuery(const QuerySealer& seal_query, const json& request, const SearchRequest& r,
                         const std::vector<Searched>& searched, AdminCall* call) {
  json recorded = request;
  recorded.erase("query");
  call->audit_arguments = recorded;  // nothing of the query, should sealing fail
  std::vector<std::string> departments;
  for (const Searched& d : searched) departments.push_back(d.name);
  if (departments.empty()) departments = r.departments;
  json sealed;
  Status s = seal_query(departments, r.query, &sealed);
  if (!s.ok())
    return Status::Internal("search: the query cannot be sealed for the audit trail: " +
                            s.message());
  for (auto it = sealed.begin(); it != sealed.end(); ++it) recorded[it.key()] = it.value();
  call->audit_arguments = recorded;
  return Status::OK();
}

Status Search(Journal* journal, IndexKeyStore* keys, const QuerySealer& seal_query,
              const json& request, AdminCall* call, ResponseWriter* out) {
  SearchRequest r;
  Status s = r.Parse(request);
  std::vector<Searched> searched;
  if (s.ok()) s = ChooseDepartments(keys, r, *call, &searched);
  // The query is sealed before anything is answered, refusals included.
  Status recorded = RecordSealedQuery(seal_query, request, r, searched, call);
  if (s.ok() && !call->permissions->AllowsSome("search")) s = call->Refuse("search messages");
  if (s.ok()) s = recorded;
  QueryNode query;
  if (s.ok()) s = ParseQuery(r.query, &query);
  // Review status and tags are the supervision's findings: searching by them needs the
  // `review` grant on the department as well (mailjournal-search(8), Supervision terms).
  if (s.ok() && HasMetaTerm(query, {MetaTerm::Kind::kTag, MetaTerm::Kind::kStatus})) {
    for (const std::string& d : r.departments) {
      if (!call->permissions->Allows("review", d)) {
        s = call->Refuse("search department " + d + " by review status or tags");
      }
    }
    searched.erase(std::remove_if(searched.begin(), searched.end(),
                                  [&](const Searched& d) {
                                    return !call->permissions->Allows("review", d.name);
                                  }),
                   searched.end());
  }
  if (!s.ok()) return AnswerError(s, out);

  // The sequence numbers to search: the window's, as commit times map to them.
  uint64_t last = journal->LastSequence();
  uint64_t lo = 1, hi = r.window.before > 0 ? std::min(r.window.before - 1, last) : last;
  uint64_t first = 0;
  if (r.window.since_us != INT64_MIN) {
    s = FirstAtOrAfter(journal, r.window.since_us, last, &first);
    lo = std::max(lo, first);
  }
  if (s.ok() && r.window.until_us != INT64_MAX) {
    s = FirstAtOrAfter(journal, r.window.until_us, last, &first);
    hi = std::min(hi, first - 1);
  }
  // Tags and review status come from the review and tag entries, folded once per request.
  ReviewState review_state;
  const ReviewState* review = nullptr;
  if (s.ok() && HasMetaTerm(query, {MetaTerm::Kind::kTag, MetaTerm::Kind::kStatus})) {
    s = LoadReviewState(journal, &review_state);
    review = &review_state;
  }
  bool scan = false;
  uint64_t listed = 0;  // the candidates of the departments, counted once per department
  for (Searched& d : searched) {
    if (!s.ok()) break;
    DepartmentPostings source(journal, d.keys, lo, hi, review);
    s = EvaluateCandidates(query, &source, &d.candidates);
    scan = scan || d.candidates.upper.complement;
    listed += d.candidates.upper.seqs.size();
  }
  // Flags and samples are known only from the entries: the page may need every candidate
  // read, and reading the window in order costs about a tenth of reading entries one by one
  // (measured: 1.5 against 23 microseconds an entry), so many candidates are read by a scan.
  bool flag_terms = HasMetaTerm(
      query, {MetaTerm::Kind::kFlag, MetaTerm::Kind::kSeverity, MetaTerm::Kind::kSampled});
  if (flag_terms && lo <= hi && listed >= (hi - lo + 1) / kScanWhenCandidatesOneIn) scan = true;
  HitPage page(journal, r.offset, r.window.limit, review);
  CandidateTest test(query, searched, review);
  if (s.ok() && lo <= hi && !searched.empty()) {
    s = scan ? PageFromScan(journal, test, lo, hi, &page)
             : PageFromLists(journal, searched, test, &page);
  }
  if (!s.ok()) return AnswerError(s, out);
  json resp = OkResponse();
  resp["hits"] = page.hits();
  resp["more"] = page.more();
  json names = json::array();
  for (const Searched& d : searched) names.push_back(d.name);
  resp["departments"] = names;
  call->returned = page.seqs();
  return out->Header(resp);
}

// The department a reindex request names, which the caller must be allowed to read.
Status ReindexDepartment(const json& request, const AdminCall& call, std::string* department) {
  Status s = RequestString(request, "department", department);
  if (s.ok() && department->empty()) s = Status::InvalidArgument("reindex: name a department");
  // Reading every message of the department takes "read"; finding them, "search".
  if (s.ok() && (!call.permissions->Allows("read", *department) ||
                 !call.permissions->Allows("search", *department))) {
    s = call.Refuse("reindex department " + *department + " (it needs search and read on it)");
  }
  return s;
}

Status ReindexBegin(IndexKeyStore* keys, const json& request, AdminCall* call,
                    ResponseWriter* out) {
  std::string department;
  IndexKey key;
  Status s = ReindexDepartment(request, *call, &department);
  if (s.ok()) s = keys->Rotate(department, &key);
  if (!s.ok()) return AnswerError(s, out);
  char id[17];
  snprintf(id, sizeof id, "%016llx", static_cast<unsigned long long>(key.id));
  json resp = OkResponse();
  resp["key_id"] = id;
  return out->Header(resp);
}

// Reads one message of a reindex_add request.
Status ParseReindexMessage(const json& m, uint64_t* seq, TokenFields* tokens) {
  if (!m.is_object() || !m.contains("seq") || !m["seq"].is_number_unsigned() ||
      !m.contains("tokens") || !m["tokens"].is_array()) {
    return Status::InvalidArgument("reindex_add: each message needs \"seq\" and \"tokens\"");
  }
  *seq = m["seq"].get<uint64_t>();
  for (const json& t : m["tokens"]) {
    if (!t.is_array() || t.size() != 2 || !t[0].is_string() || !t[1].is_number_integer() ||
        t[1].get<int64_t>() < 1 || t[1].get<int64_t>() > kAllFields) {
      return Status::InvalidArgument("reindex_add: a token is [text, fields (1 to 63)]");
    }
    tokens->emplace_back(t[0].get<std::string>(), static_cast<uint8_t>(t[1].get<int64_t>()));
  }
  return Status::OK();
}

Status ReindexAdd(Journal* journal, IndexKeyStore* keys, const json& request, AdminCall* call,
                  ResponseWriter* out) {
  std::string department;
  Status s = ReindexDepartment(request, *call, &department);
  // The tokens are words of mail: the audit trail records which messages, not the words.
  json recorded{{"department", department}, {"seqs", json::array()}};
  std::vector<IndexKey> department_keys;
  if (s.ok()) s = keys->Keys(department, false, &department_keys);
  if (s.ok() && (!request.contains("messages") || !request["messages"].is_array())) {
    s = Status::InvalidArgument("reindex_add: \"messages\" must be an array");
  }
  size_t added = 0;
  for (size_t i = 0; s.ok() && i < request["messages"].size(); ++i) {
    uint64_t seq = 0;
    TokenFields tokens;
    s = ParseReindexMessage(request["messages"][i], &seq, &tokens);
    MessageEntry message;
    if (s.ok()) s = journal->ReadMessage(seq, &message);
    const auto& of = message.classification.departments;
    if (s.ok() && std::find(of.begin(), of.end(), department) == of.end()) {
      s = Status::InvalidArgument("reindex_add: message " + std::to_string(seq) +
                                  " is not of department " + department);
    }
    if (s.ok()) s = journal->AddTerms(seq, {HashTokens(tokens, department_keys.front())});
    if (s.ok()) {
      recorded["seqs"].push_back(seq);
      ++added;
    }
  }
  call->audit_arguments = recorded;
  if (!s.ok()) return AnswerError(s, out);
  json resp = OkResponse();
  resp["added"] = added;
  return out->Header(resp);
}

Status ReindexFinish(Journal* journal, IndexKeyStore* keys, const json& request, AdminCall* call,
                     ResponseWriter* out) {
  std::string department;
  std::vector<IndexKey> department_keys;
  Status s = ReindexDepartment(request, *call, &department);
  if (s.ok()) s = keys->Keys(department, false, &department_keys);
  for (size_t i = 1; s.ok() && i < department_keys.size(); ++i) {
    s = journal->DropIndexKey(department_keys[i].id);
  }
  if (s.ok()) s = keys->RetireOld(department);
  if (!s.ok()) return AnswerError(s, out);
  json resp = OkResponse();
  resp["dropped_keys"] = department_keys.size() - 1;
  return out->Header(resp);
}

}  // namespace

void AddReviewState(const MessageReview* review, json* hit) {
  bool reviewed = review != nullptr && review->status;
  (*hit)["review_status"] = reviewed ? ReviewStatusName(*review->status) : "unreviewed";
  (*hit)["tags"] = review == nullptr ? json::array() : json(review->tags);
}

void AddSearchOperations(Journal* journal, IndexKeyStore* keys, QuerySealer seal_query,
                         AdminHandler* handler) {
  // Registered without a required grant, checked in Search once the query is sealed: a
  // refusal by the handler would record the query in plain text.
  handler->AddOperation(
      "search", "",
      [journal, keys, seal_query](const json& req, AdminCall* call, ResponseWriter* out) {
        return Search(journal, keys, seal_query, req, call, out);
      });
  handler->AddOperation("reindex_begin", "policy",
                        [keys](const json& req, AdminCall* call, ResponseWriter* out) {
                          return ReindexBegin(keys, req, call, out);
                        });
  handler->AddOperation("reindex_add", "policy",
                        [journal, keys](const json& req, AdminCall* call, ResponseWriter* out) {
                          return ReindexAdd(journal, keys, req, call, out);
                        });
  handler->AddOperation("reindex_finish", "policy",
                        [journal, keys](const json& req, AdminCall* call, ResponseWriter* out) {
                          return ReindexFinish(journal, keys, req, call, out);
                        });
}

}  // namespace mailjournal
