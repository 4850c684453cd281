// verify --bucket, export --bucket and search --bucket (mailjournal(8), BUCKET): the
// segments several MTAs shipped to an S3 Object Lock bucket, read from a machine with no
// journal and no daemon. Every segment is verified and chained (mailjournal/bucket.h)
// before anything of it is used, and an access record is written to the bucket before any
// message is opened.
#include <sysexits.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <iostream>
#include <memory>
#include <set>

#include "cli.h"
#include "commands.h"
#include "config.h"
#include "fetch.h"
#include "mailjournal/admin_protocol.h"
#include "mailjournal/bucket.h"
#include "mailjournal/policy_holder.h"
#include "mailjournal/query_sealer.h"
#include "mailjournal/review_state.h"
#include "mailjournal/search_admin.h"
#include "mailjournal/time_util.h"
#include "search_hits.h"
#include "segment_channel.h"
#include "segment_postings.h"

namespace mailjournal {

using nlohmann::json;

namespace {

// An access record with no segment retention to follow is kept this long.
constexpr int64_t kDefaultRecordRetentionUs = 366LL * 24 * 3600 * 1000000;

// The bucket of the configuration file's s3_* settings, and a client for it.
Status OpenBucket(const std::string& config_file, std::unique_ptr<S3Client>* client) {
  DaemonConfig config;
  std::vector<std::string> errors;
  ReadConfigFile(config_file, &config, &errors);
  if (!errors.empty()) return Status::InvalidArgument(errors.front());
  if (config.s3_bucket.empty()) {
    return Status::InvalidArgument(config_file + ": s3_bucket is not set");
  }
  S3Config s3;
  Status s = MakeS3Config(config, &s3);
  if (!s.ok()) return s;
  client->reset(new S3Client(std::move(s3)));
  return Status::OK();
}

// The verifier keys, by name.
Status LoadVerifiers(const std::vector<std::string>& files,
                     std::vector<std::unique_ptr<NoteVerifier>>* keys,
                     std::map<std::string, const NoteVerifier*>* by_name) {
  if (files.empty()) {
    return Status::InvalidArgument(
        "--bucket needs the checkpoint verifier key of each MTA (--vkey)");
  }
  for (const std::string& file : files) {
    std::string text;
    std::unique_ptr<NoteVerifier> v;
    Status s = ReadWholeFile(file, &text);
    if (s.ok()) s = NoteVerifier::Create(text, &v);
    if (!s.ok()) return Status::FromCode(s.code(), file + ": " + s.message());
    (*by_name)[v->name()] = v.get();
    keys->push_back(std::move(v));
  }
  return Status::OK();
}

json ReportToJson(const PrefixReport& r) {
  json j{{"prefix", r.prefix},     {"ok", r.ok()},           {"origin", r.origin},
         {"segments", r.segments}, {"verified", r.verified}, {"entries", r.last_seq},
         {"messages", r.messages}, {"last_seq", r.last_seq}, {"locked", r.locked},
         {"replaced", r.replaced}};
  if (!r.ok()) {
    j["problem"] = r.problem;
    j["object"] = r.problem_object;
  }
  return j;
}

void PrintReport(const PrefixReport& r) {
  std::printf(
      "%s: %s: %zu segments (%zu verified), entries 1-%llu, %llu messages, last seq %llu%s\n",
      r.prefix.c_str(), r.ok() ? "ok" : "FAILED", r.segments, r.verified,
      static_cast<unsigned long long>(r.last_seq), static_cast<unsigned long long>(r.messages),
      static_cast<unsigned long long>(r.last_seq),
      r.origin.empty() ? "" : (", origin " + r.origin).c_str());
  std::printf("    object lock: %zu of %zu objects under COMPLIANCE until their retain-until\n",
              r.locked, r.segments);
  if (r.replaced != 0) {
    std::printf("    replaced: %zu objects have versions with different bytes\n", r.replaced);
  }
  if (!r.ok()) {
    std::printf("    first problem: %s: %s\n", r.problem_object.c_str(), r.problem.c_str());
  }
}

// The prefixes to read, with their objects: those given (each must hold segments) or all.
Status SelectPrefixes(S3Client* client, const std::vector<std::string>& wanted,
                      std::map<std::string, std::vector<std::string>>* out) {
  std::map<std::string, std::vector<std::string>> all;
  Status s = ListBucketSegments(client, &all);
  if (!s.ok()) return s;
  if (wanted.empty()) {
    *out = std::move(all);
    return Status::OK();
  }
  out->clear();
  for (const std::string& p : wanted) (*out)[p] = all[p];
  return Status::OK();
}

// Compares the bucket's objects of a prefix with what the local journal's ship entries
// recorded (the newest entry of each object): each object they name within the verified
// range must be in the bucket with the recorded SHA-256. This also catches an object
// replaced by a segment that verifies (e.g. signed with the real key, or its unsigned
// manifest holds changed). "" when they agree; else the first problem.
std::string CompareShipEntries(Channel* local, const PrefixReport& r) {
  json req = Request("list");
  req["kind"] = "ship";
  req["limit"] = kMaxListLimit;
  std::map<std::string, json> newest;  // object -> its newest ship entry
  for (;;) {
    json resp;
    Status s = local->Call(req, &resp, NoPayload);
    if (!s.ok()) return "the local journal's ship entries cannot be read: " + s.message();
    for (const json& e : resp["entries"]) {
      newest[e.value("object", "")] = e;
      req["after"] = e["seq"];
    }
    if (!resp.value("more", false)) break;
  }
  for (const auto& [object, e] : newest) {
    if (object.rfind(r.prefix + "/", 0) != 0 || e.value("last", uint64_t{0}) > r.last_seq) {
      continue;  // another MTA's, or beyond what the bucket proves (reported there)
    }
    auto found = r.digests.find(object);
    std::string entry = "ship entry " + std::to_string(e.value("seq", uint64_t{0}));
    if (found == r.digests.end()) return entry + " names " + object + ", not in the bucket";
    if (DigestToJson(found->second) != e.value("sha256", "")) {
      return object + ": its bytes are not those " + entry + " recorded (SHA-256 " +
             e.value("sha256", "") + ")";
    }
  }
  return "";
}

// Compares the bucket's entries of a prefix with the local journal's: the journal proves
// its first r.last_seq entries have the root of the chained segments' (a consistency proof
// from there to its newest checkpoint; the local journal may be ahead). "" when it does or
// when the journal is of another origin (*same_origin false); else the problem.
std::string CompareLocal(Channel* local, const PrefixReport& r, bool* same_origin) {
  *same_origin = false;
  // The journal's newest checkpoint first (a proof from the empty tree): whose journal it is.
  ProofQuery q;
  json proof;
  Status s = GetCheckedProof(local, q, &proof);
  Checkpoint cp;
  std::string text;
  if (s.ok() &&
      (!NoteText(proof.value("checkpoint", ""), &text).ok() || !ParseCheckpoint(text, &cp).ok())) {
    s = Status::Corruption("its checkpoint does not parse");
  }
  if (!s.ok()) return "the local journal cannot be compared: " + s.message();
  if (cp.origin != r.origin) return "";
  *same_origin = true;
  if (cp.size < r.last_seq) {
    return "the local journal's newest checkpoint is of " + std::to_string(cp.size) +
           " entries, the bucket has " + std::to_string(r.last_seq);
  }
  q.old_size = r.last_seq;
  s = GetCheckedProof(local, q, &proof);
  if (!s.ok())
    return "the local journal cannot prove its first " + std::to_string(r.last_seq) +
           " entries: " + s.message();
  if (proof["old_root"] != DigestToJson(r.root)) {
    return "the local journal's entries 1.." + std::to_string(r.last_seq) +
           " are not the bucket's (another root)";
  }
  return CompareShipEntries(local, r);
}

// The verified segments of the prefixes, each as a channel; a prefix that does not verify
// in full is warned about on standard error, and only its verified segments are used.
struct BucketData {
  std::unique_ptr<S3Client> client;
  std::vector<std::unique_ptr<NoteVerifier>> keys;
  std::vector<PrefixReport> reports;
  std::vector<std::unique_ptr<SegmentChannel>> channels;      // one per report
  std::vector<std::vector<const VerifiedSegment*>> segments;  // one per report
  std::vector<std::string> objects;                           // the segment objects read
  int64_t retain_until_us = 0;                                // the latest of their manifests'
};

Status ReadBucket(const BucketOptions& o, BucketData* d) {
  std::map<std::string, const NoteVerifier*> by_name;
  Status s = LoadVerifiers(o.verifier_key_files, &d->keys, &by_name);
  if (s.ok()) s = OpenBucket(o.config_file, &d->client);
  std::map<std::string, std::vector<std::string>> prefixes;
  if (s.ok()) s = SelectPrefixes(d->client.get(), o.prefixes, &prefixes);
  if (!s.ok()) return s;
  BucketVerifyOptions vo;
  vo.verifiers = by_name;
  vo.keep_segments = true;
  for (const auto& [prefix, objects] : prefixes) {
    PrefixReport r;
    s = VerifyBucketPrefix(d->client.get(), prefix, objects, vo, &r);
    if (!s.ok()) return s;
    if (!r.ok()) {
      std::cerr << "mailjournal: warning: " << prefix << ": " << r.problem_object << ": "
                << r.problem << "; only its entries 1.." << r.last_seq << " are read\n";
    }
    std::vector<const VerifiedSegment*> segs;
    for (const BucketSegment& b : r.kept) {
      segs.push_back(&b.segment);
      d->objects.push_back(b.object);
      int64_t until = 0;
      const json& u = b.segment.manifest.value("retain_until", json());
      if (u.is_string() && ParseTime(u.get<std::string>(), &until).ok()) {
        d->retain_until_us = std::max(d->retain_until_us, until);
      }
    }
    d->channels.push_back(std::make_unique<SegmentChannel>(segs));
    d->segments.push_back(std::move(segs));
    d->reports.push_back(std::move(r));
  }
  return Status::OK();
}

// A bucket search's query for its access record, sealed as the daemon seals a local one
// (search_admin.h QuerySealer): to the keys of `departments` (all when none is named) and
// the escrow keys under the newest policy entry of each prefix read, each key once.
Status SealBucketQuery(const BucketData& d, const std::vector<std::string>& departments,
                       const std::string& query, json* record) {
  RecipientKeys recipients;
  std::set<Sha256Digest> seen;
  for (const std::vector<const VerifiedSegment*>& segs : d.segments) {
    const PolicyEntry* newest = nullptr;
    uint64_t newest_seq = 0;
    for (const VerifiedSegment* seg : segs) {
      for (size_t i = 0; i < seg->entries.size(); ++i) {
        if (seg->entries[i].kind == EntryKind::kPolicy) {
          newest = &seg->entries[i].policy;
          newest_seq = seg->first + i;
        }
      }
    }
    if (newest == nullptr) continue;
    std::shared_ptr<const Policy> policy;
    Status s = PolicyFromEntry(*newest, newest_seq, &policy);
    if (!s.ok()) return s;
    for (const auto& key : SealingRecipients(*policy, departments)) {
      if (seen.insert(key->fingerprint()).second) recipients.push_back(key);
    }
  }
  return SealQueryRecord(recipients, query, record);
}

// Writes the access record; nothing may be opened unless it is written.
Status RecordAccess(BucketData* d, const std::string& operation, const json& arguments) {
  json record = MakeAccessRecord(operation, arguments, d->objects);
  int64_t until = std::max(d->retain_until_us, NowMicros() + kDefaultRecordRetentionUs);
  std::string key;
  Status s = WriteAccessRecord(d->client.get(), record, until, &key);
  if (!s.ok()) {
    return Status::FromCode(s.code(), s.message() +
                                          " (nothing is read from the bucket without its "
                                          "access record)");
  }
  std::cerr << "mailjournal: access recorded as " << d->client->config().bucket << "/" << key
            << "\n";
  return Status::OK();
}

// The review state of one prefix's journal: its segments' review and tag entries folded,
// as far as they were shipped.
ReviewState FoldReviewState(const std::vector<const VerifiedSegment*>& segments) {
  ReviewState state;
  for (const VerifiedSegment* seg : segments) {
    for (size_t i = 0; i < seg->entries.size(); ++i) state.Apply(seg->first + i, seg->entries[i]);
  }
  return state;
}

// What a bucket search did.
struct SearchCounts {
  size_t messages = 0;    // messages in range (time, departments)
  size_t opened = 0;      // opened and matched against their text
  size_t unopened = 0;    // no key given opens them, or their content was disposed of
  size_t index_keys = 0;  // index keys opened from index_key entries
};

// The hits of the query in the bucket's messages that the keys open, newest first within
// each prefix, prefixes in name order; the messages filtered as the journal's search does
// (departments, since, until). Unless `open_all`, the segments' term sets, under the index
// keys the keys open, narrow the messages to open to the query's candidates (a message
// without a term set under such a key is opened); metadata terms narrow them exactly, from
// the message entries and the review state of the segments read (FoldReviewState); every
// hit is confirmed on the text.
Status FindInBucket(const BucketData& d, const SearchCliOptions& o, const Opener& opener,
                    bool open_all, std::vector<Hit>* hits, SearchCounts* counts) {
  QueryNode query;
  Status s = ParseQuery(JoinWords(o.query), &query);
  if (!s.ok()) return s;
  int64_t since = INT64_MIN, until = INT64_MAX;
  if (!o.since.empty() && !(s = ParseTime(o.since, &since)).ok()) return s;
  if (!o.until.empty() && !(s = ParseTime(o.until, &until)).ok()) return s;
  for (size_t i = 0; i < d.channels.size(); ++i) {
    std::vector<IndexKey> keys;
    if (!open_all) s = OpenSegmentIndexKeys(d.segments[i], opener, &keys);
    if (!s.ok()) return s;
    counts->index_keys += keys.size();
    ReviewState review = FoldReviewState(d.segments[i]);
    SegmentPostings postings(d.segments[i], keys);
    Candidates candidates;
    if (!keys.empty()) s = EvaluateCandidates(query, &postings, &candidates);
    if (!s.ok()) return s;
    auto messages = d.channels[i]->Messages();
    for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
      const auto& [seq, entry] = *it;
      if (entry->time_us() < since || entry->time_us() >= until) continue;
      json e = EntryToJson(seq, *entry);
      if (!o.departments.empty()) {
        const json& of = e["departments"];
        bool in =
            std::any_of(o.departments.begin(), o.departments.end(), [&](const std::string& dep) {
              return std::find(of.begin(), of.end(), dep) != of.end();
            });
        if (!in) continue;
      }
      ++counts->messages;
      const MessageReview* message_review = review.Find(seq);
      AddReviewState(message_review, &e);
      const Candidates* bounds = !keys.empty() && postings.Indexed(seq) ? &candidates : nullptr;
      if (Decide(query, bounds, seq, FactsOf(entry->message, message_review)) ==
          MatchDecision::kNo) {
        continue;
      }
      Opened opened;
      s = OpenMessage(d.channels[i].get(), opener, e, &opened);
      if (s.code() == Status::Code::kPermissionDenied || s.IsNotFound()) {
        ++counts->unopened;
        continue;
      }
      if (!s.ok()) return s;
      ++counts->opened;
      if (!Matches(query, opened.doc)) continue;
      Hit hit;
      hit.entry = e;
      hit.prefix = d.reports[i].prefix;
      hit.confirmed = hit.opened = true;
      hit.subject = opened.text.subject.empty() ? "" : opened.text.subject.front();
      hit.snippet = Snippet(query, opened.text);
      hits->push_back(std::move(hit));
    }
  }
  return Status::OK();
}

}  // namespace

void BucketOptions::AddTo(CLI::App* command) {
  command->add_flag("--bucket", bucket, "read the segments shipped to the S3 bucket instead");
  command->add_option("-c,--config", config_file,
                      "with --bucket: the s3_* settings (mailjournald.conf format)");
  command->add_option("--prefix", prefixes, "with --bucket: only this MTA's prefix (repeatable)");
  if (command->get_name() == "search") {
    command->add_flag("--open-all", open_all,
                      "with --bucket: open every message, not only the term sets' candidates");
  }
  command->add_option("--vkey", verifier_key_files,
                      "with --bucket: a checkpoint verifier key (one per MTA; repeatable)");
}

int CmdVerifyBucket(const BucketOptions& o, const std::string& format, Channel* local) {
  std::vector<std::unique_ptr<NoteVerifier>> keys;
  std::map<std::string, const NoteVerifier*> by_name;
  std::unique_ptr<S3Client> client;
  Status s = LoadVerifiers(o.verifier_key_files, &keys, &by_name);
  if (s.ok()) s = OpenBucket(o.config_file, &client);
  std::map<std::string, std::vector<std::string>> prefixes;
  if (s.ok()) s = SelectPrefixes(client.get(), o.prefixes, &prefixes);
  if (!s.ok()) return Fail(s);
  if (prefixes.empty()) return Fail(Status::NotFound("the bucket holds no segments"));
  BucketVerifyOptions vo;
  vo.verifiers = by_name;
  bool all_ok = true, local_matched = false;
  for (const auto& [prefix, objects] : prefixes) {
    PrefixReport r;
    s = VerifyBucketPrefix(client.get(), prefix, objects, vo, &r);
    if (!s.ok()) return Fail(s);
    std::string local_problem;
    bool same_origin = false;
    if (local != nullptr && r.last_seq != 0) {
      local_problem = CompareLocal(local, r, &same_origin);
      local_matched = local_matched || same_origin;
    }
    all_ok = all_ok && r.ok() && local_problem.empty();
    if (format == "json") {
      json j = ReportToJson(r);
      if (local != nullptr && (same_origin || !local_problem.empty())) {
        j["local"] = local_problem.empty() ? json("same") : json(local_problem);
      }
      PrintJson(j);
    } else {
      PrintReport(r);
      if (same_origin && local_problem.empty()) {
        std::printf("    local journal: entries 1-%llu the same as the bucket's\n",
                    static_cast<unsigned long long>(r.last_seq));
      } else if (!local_problem.empty()) {
        std::printf("    local journal: FAILED: %s\n", local_problem.c_str());
      }
    }
  }
  if (local != nullptr && !local_matched) {
    std::fprintf(stderr, "mailjournal: no prefix of the bucket is the local journal's origin\n");
    all_ok = false;
  }
  return all_ok ? EX_OK : EX_DATAERR;
}

// PREFIX:N, PREFIX:N-M, or N / N-M when exactly one --prefix is given.
Status ParseBucketSeqs(const std::vector<std::string>& args,
                       const std::vector<std::string>& prefixes,
                       std::vector<std::pair<std::string, uint64_t>>* out) {
  for (const std::string& a : args) {
    size_t colon = a.rfind(':');
    std::string prefix = colon == std::string::npos ? "" : a.substr(0, colon);
    if (prefix.empty()) {
      if (prefixes.size() != 1) {
        return Status::InvalidArgument(a + ": give PREFIX:SEQ (or exactly one --prefix)");
      }
      prefix = prefixes[0];
    }
    std::vector<uint64_t> seqs;
    Status s = ParseSeqRange(colon == std::string::npos ? a : a.substr(colon + 1), &seqs);
    if (!s.ok()) return s;
    for (uint64_t seq : seqs) out->emplace_back(prefix, seq);
  }
  return Status::OK();
}

int CmdExportBucket(const BucketOptions& bo, const std::vector<std::string>& args,
                    const std::string& search_query, const ExportOptions& xo) {
  if (!xo.bundle.dir.empty()) {
    return Fail(Status::InvalidArgument("--bundle is not available with --bucket"));
  }
  if (args.empty() == search_query.empty()) {
    return Fail(Status::InvalidArgument("export --bucket: give PREFIX:SEQ... or --search QUERY"));
  }
  std::vector<std::pair<std::string, uint64_t>> wanted;
  Status s = ParseBucketSeqs(args, bo.prefixes, &wanted);
  if (!s.ok()) return Fail(s);
  BucketOptions o = bo;
  if (o.prefixes.empty() && search_query.empty()) {
    for (const auto& [prefix, seq] : wanted) {
      if (std::find(o.prefixes.begin(), o.prefixes.end(), prefix) == o.prefixes.end()) {
        o.prefixes.push_back(prefix);
      }
    }
  }
  BucketData d;
  s = ReadBucket(o, &d);
  if (!s.ok()) return Fail(s);
  json arguments{{"prefixes", o.prefixes}, {"format", xo.format}, {"sealed", xo.sealed}};
  if (!search_query.empty()) {
    json sealed;
    s = SealBucketQuery(d, {}, search_query, &sealed);
    if (!s.ok()) return Fail(s);
    arguments["search"] = sealed;
  }
  json seqs = json::array();
  for (const auto& [prefix, seq] : wanted) seqs.push_back(prefix + ":" + std::to_string(seq));
  arguments["messages"] = seqs;
  s = RecordAccess(&d, "export", arguments);
  if (!s.ok()) return Fail(s);
  std::vector<ExportItem> items;
  bool several = d.channels.size() > 1;
  auto stem = [several](const std::string& prefix, uint64_t seq) {
    return several ? prefix + "/" + std::to_string(seq) : std::to_string(seq);
  };
  if (!search_query.empty()) {
    Opener opener;
    s = opener.Load(xo.keys.files, xo.keys.passphrase_file);
    SearchCliOptions so;
    so.query = {search_query};
    std::vector<Hit> hits;
    SearchCounts counts;
    if (s.ok()) s = FindInBucket(d, so, opener, bo.open_all, &hits, &counts);
    if (!s.ok()) return Fail(s);
    // Oldest first within each prefix, as the journal's own export of the same seqs.
    std::stable_sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
      return a.prefix != b.prefix ? a.prefix < b.prefix : a.entry["seq"] < b.entry["seq"];
    });
    for (const Hit& h : hits) {
      uint64_t seq = h.entry["seq"].get<uint64_t>();
      for (size_t i = 0; i < d.channels.size(); ++i) {
        if (d.reports[i].prefix == h.prefix)
          items.push_back({d.channels[i].get(), seq, stem(h.prefix, seq)});
      }
    }
    if (items.empty()) {
      std::fprintf(stderr, "mailjournal: no message matches\n");
      return EX_OK;
    }
  }
  for (const auto& [prefix, seq] : wanted) {
    for (size_t i = 0; i < d.channels.size(); ++i) {
      if (d.reports[i].prefix == prefix)
        items.push_back({d.channels[i].get(), seq, stem(prefix, seq)});
    }
  }
  return WriteExport(items, xo);
}

int CmdSearchBucket(const BucketOptions& bo, const SearchCliOptions& so) {
  QueryNode query;
  Status s = ParseQuery(JoinWords(so.query), &query);
  if (!s.ok()) return Fail(s);
  if (so.keys.files.empty()) {
    return Fail(Status::InvalidArgument("search --bucket opens the messages: give --key"));
  }
  BucketData d;
  s = ReadBucket(bo, &d);
  if (!s.ok()) return Fail(s);
  json arguments;
  s = SealBucketQuery(d, so.departments, JoinWords(so.query), &arguments);
  if (!s.ok()) return Fail(s);
  arguments.update(json{{"prefixes", bo.prefixes},
                        {"departments", so.departments},
                        {"since", so.since},
                        {"until", so.until}});
  s = RecordAccess(&d, "search", arguments);
  if (!s.ok()) return Fail(s);
  Opener opener;
  s = opener.Load(so.keys.files, so.keys.passphrase_file);
  std::vector<Hit> hits;
  SearchCounts counts;
  if (s.ok()) s = FindInBucket(d, so, opener, bo.open_all, &hits, &counts);
  if (!s.ok()) return Fail(s);
  for (uint64_t i = so.offset; i < hits.size() && i < so.offset + so.limit; ++i) {
    PrintHit(hits[i], so.format);
  }
  std::fprintf(stderr, "mailjournal: %zu hits; %zu of %zu messages opened (%s)%s\n", hits.size(),
               counts.opened, counts.messages,
               bo.open_all ? "--open-all"
                           : (std::to_string(counts.index_keys) +
                              " index keys opened: the others are not candidates")
                                 .c_str(),
               counts.unopened == 0 ? ""
                                    : (", " + std::to_string(counts.unopened) +
                                       " not searched: no key given opens them, or their "
                                       "content was disposed of")
                                          .c_str());
  return EX_OK;
}

}  // namespace mailjournal
