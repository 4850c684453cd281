#include "mailjournal/proof_admin.h"

#include "mailjournal/checkpoint.h"
#include "mailjournal/merkle.h"
#include "mailjournal/verify.h"

namespace mailjournal {

using nlohmann::json;

namespace {

json DigestsToJson(const std::vector<Sha256Digest>& digests) {
  json out = json::array();
  for (const Sha256Digest& d : digests) out.push_back(DigestToJson(d));
  return out;
}

Status GetSize(const json& request, const char* name, uint64_t* value, bool* given) {
  auto it = request.find(name);
  *given = it != request.end();
  if (!*given) return Status::OK();
  if (!it->is_number_unsigned()) {
    return Status::InvalidArgument(std::string(name) + ": expected a non-negative integer");
  }
  *value = it->get<uint64_t>();
  return Status::OK();
}

Status Verify(Journal* journal, const DisposalCheckerFactory& disposal_checker,
              const VerifyObserver& on_verify, const json& request, ResponseWriter* out) {
  VerifyOptions options;
  std::unique_ptr<DisposalChecker> checker;
  if (disposal_checker) checker = disposal_checker();
  options.disposals = checker.get();
  std::string verifier_key;
  Status s = RequestString(request, "verifier_key", &verifier_key);
  if (s.ok()) s = RequestString(request, "since", &options.since);
  std::unique_ptr<NoteVerifier> verifier;
  if (s.ok() && !verifier_key.empty()) s = NoteVerifier::Create(verifier_key, &verifier);
  options.verifier = verifier.get();
  auto cps = request.find("checkpoints");
  if (s.ok() && cps != request.end()) {
    if (!cps->is_array()) s = Status::InvalidArgument("checkpoints: expected an array");
    for (size_t i = 0; s.ok() && i < cps->size(); ++i) {
      const json& c = (*cps)[i];
      if (!c.is_object() || !c.value("name", json()).is_string() ||
          !c.value("note", json()).is_string()) {
        s = Status::InvalidArgument("checkpoints: expected {\"name\",\"note\"} objects");
      } else {
        options.checkpoints.push_back({c["name"].get<std::string>(), c["note"].get<std::string>()});
      }
    }
  }
  VerifyReport r;
  if (s.ok()) {
    s = VerifyJournal(journal, options, &r);
    if (on_verify) on_verify(s, r);
  }
  if (!s.ok()) return AnswerError(s, out);
  json resp = OkResponse();
  resp["report"] = {{"intact", r.intact},
                    {"first_bad_seq", r.first_bad_seq},
                    {"problem", r.problem},
                    {"entries", r.entries},
                    {"messages", r.messages},
                    {"disposals", r.disposals},
                    {"content_bytes", r.content_bytes},
                    {"checkpoints", r.checkpoints},
                    {"signatures", r.signatures},
                    {"off_host", r.off_host},
                    {"tree_size", r.tree_size},
                    {"root", DigestToJson(r.root)},
                    {"signatures_checked", verifier != nullptr}};
  return out->Header(resp);
}

// The newest checkpoint entry (its note and tree size); found false when there is none.
Status LatestCheckpoint(Journal* journal, std::string* note, uint64_t* size, bool* found) {
  *found = false;
  Status scan = journal->Scan(0, true, [&](uint64_t seq, const Entry& e) {
    if (e.kind != EntryKind::kCheckpoint) return true;
    *note = e.checkpoint.note;
    *size = seq - 1;
    *found = true;
    return false;
  });
  return scan;
}

Status Proof(Journal* journal, const json& request, ResponseWriter* out) {
  LeafHashSource leaves = [journal](uint64_t index, Sha256Digest* hash) {
    return journal->ReadLeafHash(index + 1, hash);
  };
  uint64_t seq = 0, size = 0, old_size = 0;
  bool has_seq = false, has_size = false, has_old = false;
  Status s = GetSize(request, "seq", &seq, &has_seq);
  if (s.ok()) s = GetSize(request, "size", &size, &has_size);
  if (s.ok()) s = GetSize(request, "old_size", &old_size, &has_old);
  if (s.ok() && has_seq == has_old) {
    s = Status::InvalidArgument("proof: give either seq (inclusion) or old_size (consistency)");
  }
  json resp = OkResponse();
  if (s.ok() && !has_size) {
    // For the newest checkpoint, so that the proof can be checked against a signed root.
    std::string note;
    bool found = false;
    s = LatestCheckpoint(journal, &note, &size, &found);
    if (s.ok() && !found)
      s = Status::NotFound("proof: the journal has no checkpoint yet (give size)");
    if (s.ok()) resp["checkpoint"] = note;
  }
  if (s.ok() && size > journal->LastSequence()) {
    s = Status::NotFound("proof: the journal has only " + std::to_string(journal->LastSequence()) +
                         " entries");
  }
  Sha256Digest root;
  if (s.ok()) s = SubtreeRoot(0, size, leaves, &root);
  std::vector<Sha256Digest> path;
  if (s.ok() && has_seq) {
    std::string bytes;
    Sha256Digest leaf;
    s = seq == 0 || seq > size
            ? Status::InvalidArgument("proof: entry " + std::to_string(seq) +
                                      " is not in the tree of " + std::to_string(size))
            : journal->ReadEntryBytes(seq, &bytes);
    if (s.ok()) s = journal->ReadLeafHash(seq, &leaf);
    if (s.ok() && leaf != LeafHash(bytes)) {
      s = Status::Corruption("proof: entry " + std::to_string(seq) + " differs from its leaf hash");
    }
    if (s.ok()) s = InclusionProof(seq - 1, size, leaves, &path);
    if (s.ok()) {
      resp["proof"] = {{"type", "inclusion"},         {"seq", seq},
                       {"leaf_index", seq - 1},       {"tree_size", size},
                       {"entry", HexEncode(bytes)},   {"leaf_hash", DigestToJson(leaf)},
                       {"path", DigestsToJson(path)}, {"root", DigestToJson(root)}};
    }
  } else if (s.ok()) {
    Sha256Digest old_root;
    s = SubtreeRoot(0, old_size, leaves, &old_root);
    if (s.ok()) s = ConsistencyProof(old_size, size, leaves, &path);
    if (s.ok()) {
      resp["proof"] = {{"type", "consistency"},
                       {"old_size", old_size},
                       {"old_root", DigestToJson(old_root)},
                       {"tree_size", size},
                       {"root", DigestToJson(root)},
                       {"path", DigestsToJson(path)}};
    }
  }
  if (!s.ok()) return AnswerError(s, out);
  return out->Header(resp);
}

}  // namespace

void AddProofOperations(Journal* journal, DisposalCheckerFactory disposal_checker,
                        AdminHandler* handler, VerifyObserver on_verify) {
  handler->AddOperation(
      "verify", "verify",
      [journal, disposal_checker, on_verify](const json& request, AdminCall*, ResponseWriter* out) {
        return Verify(journal, disposal_checker, on_verify, request, out);
      });
  handler->AddOperation("proof", "verify",
                        [journal](const json& request, AdminCall*, ResponseWriter* out) {
                          return Proof(journal, request, out);
                        });
}

}  // namespace mailjournal
