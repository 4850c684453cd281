// mailjournal verify and mailjournal proof (mailjournal(8)).
#include <sysexits.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>

#include "cli.h"
#include "commands.h"
#include "fetch.h"
#include "mailjournal/admin_protocol.h"
#include "mailjournal/checkpoint.h"

namespace mailjournal {

using nlohmann::json;

namespace {

// True for the name of an off-host copy, "checkpoint." and decimal digits (not the
// daemon's temporary files, nor anything else kept there).
bool IsCheckpointFileName(const std::string& name) {
  const std::string prefix = "checkpoint.";
  return name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
         name.find_first_not_of("0123456789", prefix.size()) == std::string::npos;
}

// Every checkpoint.N file of `dir`, in name order, as an off-host checkpoint.
Status ReadCheckpointDir(const std::string& dir, json* checkpoints) {
  std::error_code ec;
  std::vector<std::string> paths;
  for (const auto& f : std::filesystem::directory_iterator(dir, ec)) {
    if (f.is_regular_file() && IsCheckpointFileName(f.path().filename().string())) {
      paths.push_back(f.path().string());
    }
  }
  if (ec) return Status::NotFound(dir + ": " + ec.message());
  std::sort(paths.begin(), paths.end());
  for (const std::string& p : paths) {
    std::string note;
    Status s = ReadWholeFile(p, &note);
    if (!s.ok()) return s;
    checkpoints->push_back({{"name", p}, {"note", note}});
  }
  return Status::OK();
}

}  // namespace

int CmdVerify(Channel* channel, const VerifyCliOptions& o) {
  json req = Request("verify");
  Status s;
  if (!o.verifier_key_file.empty()) {
    std::string key;
    s = ReadWholeFile(o.verifier_key_file, &key);
    req["verifier_key"] = key;
  }
  if (s.ok() && !o.checkpoint_dir.empty()) {
    req["checkpoints"] = json::array();
    s = ReadCheckpointDir(o.checkpoint_dir, &req["checkpoints"]);
  }
  if (s.ok() && !o.since_file.empty()) {
    std::string since;
    s = ReadWholeFile(o.since_file, &since);
    req["since"] = since;
  }
  if (!s.ok()) return Fail(s);
  json resp;
  s = channel->Call(req, &resp, NoPayload);
  if (!s.ok()) return Fail(s);
  const json& r = resp["report"];
  bool intact = r["intact"].get<bool>();
  if (o.format == "json") {
    PrintJson(r);
  } else {
    if (intact) {
      std::printf("journal intact: %llu entries verified\n",
                  static_cast<unsigned long long>(r["entries"].get<uint64_t>()));
    } else {
      uint64_t bad = r["first_bad_seq"].get<uint64_t>();
      std::printf("journal NOT intact: %s%s\n",
                  bad == 0 ? "" : ("first bad entry " + std::to_string(bad) + ": ").c_str(),
                  r["problem"].get<std::string>().c_str());
    }
    for (const char* field : {"entries", "messages", "disposals", "content_bytes", "checkpoints",
                              "signatures", "off_host", "tree_size"}) {
      PrintField(field, std::to_string(r[field].get<uint64_t>()), 14);
    }
    PrintField("root", r["root"].get<std::string>(), 14);
    if (!r["signatures_checked"].get<bool>()) {
      std::printf("checkpoint signatures were not checked (no --verifier-key)\n");
    }
  }
  // A journal that takes no more entries (found corrupt) is still checked, unrecorded.
  if (resp.contains("audit_error")) {
    std::fprintf(stderr, "mailjournal: %s\n", resp["audit_error"].get<std::string>().c_str());
  }
  std::fflush(stdout);
  return intact ? EX_OK : EX_DATAERR;
}

int CmdProof(Channel* channel, const ProofCliOptions& o) {
  ProofQuery query;
  query.seq = o.inclusion;
  query.old_size = o.old_size;
  query.size = o.new_size;
  if (!o.checkpoint_file.empty()) {
    std::string text;
    Checkpoint checkpoint;
    Status s = ReadWholeFile(o.checkpoint_file, &query.checkpoint);
    if (!s.ok()) return Fail(s);
    s = NoteText(query.checkpoint, &text);
    if (s.ok()) s = ParseCheckpoint(text, &checkpoint);
    if (!s.ok()) return Fail(Status::InvalidArgument(o.checkpoint_file + ": " + s.message()));
    query.size = checkpoint.size;
  }
  json proof;
  Status s = GetCheckedProof(channel, query, &proof);
  if (!s.ok()) return Fail(s);
  if (o.format == "json") {
    PrintJson(proof);
  } else {
    for (auto it = proof.begin(); it != proof.end(); ++it) {
      if (it.key() == "path" || it.key() == "checkpoint") continue;
      std::string v = it->is_string() ? it->get<std::string>() : it->dump();
      PrintField(it.key().c_str(), v, 11);
    }
    for (const json& p : proof["path"]) PrintField("path", p.get<std::string>(), 11);
    if (proof.contains("checkpoint")) {
      std::printf("checkpoint:\n%s", proof["checkpoint"].get<std::string>().c_str());
    }
  }
  std::fflush(stdout);
  return EX_OK;
}

int CmdKeygenSigning(const std::string& origin, const std::string& dir, const std::string& format) {
  SigningKeyResult r;
  Status s = GenerateSigningKey(origin, dir, &r);
  if (!s.ok()) return s.code() == Status::Code::kIOError ? FailWith(EX_CANTCREAT, s) : Fail(s);
  if (format == "json") {
    PrintJson({{"origin", origin},
               {"key", r.key_path},
               {"verifier", r.verifier_path},
               {"verifier_key", r.verifier_key}});
  } else {
    PrintField("origin", origin);
    PrintField("key", r.key_path + " (signs checkpoints; readable by mailjournald only)");
    PrintField("verifier", r.verifier_path + " (for auditors and mailjournal verify)");
    PrintField("verifier_key", r.verifier_key);
  }
  std::fflush(stdout);
  return EX_OK;
}

}  // namespace mailjournal
