#include "fetch.h"

#include <openssl/crypto.h>

#include <fstream>
#include <iterator>

#include "cli.h"
#include "mailjournal/admin_protocol.h"
#include "mailjournal/checkpoint.h"
#include "mailjournal/merkle.h"
#include "mailjournal/sha256.h"

namespace mailjournal {

using nlohmann::json;

Status Opener::Load(const std::vector<std::string>& key_files, const std::string& passphrase_file) {
  Passphrase passphrase;
  if (!passphrase_file.empty()) {
    Status s = ReadPassphraseFile(passphrase_file, &passphrase);
    if (!s.ok()) return s;
  }
  for (const std::string& path : key_files) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return Status::NotFound(path + ": cannot read the key file");
    std::string pem(std::istreambuf_iterator<char>(in), {});
    std::unique_ptr<OpeningKey> key;
    Status s = OpeningKey::Load(pem, passphrase_file.empty() ? nullptr : passphrase.data(), &key);
    OPENSSL_cleanse(&pem[0], pem.size());
    if (!s.ok()) return Status::InvalidArgument(path + ": " + s.message());
    keys_.push_back(std::move(key));
  }
  return Status::OK();
}

Status Opener::OpenSealed(const json& recipients, std::string_view sealed,
                          std::string* plaintext) const {
  for (const auto& r : recipients) {
    for (const auto& k : keys_) {
      if (DigestToJson(k->fingerprint()) != r) continue;
      Status s = k->Open(sealed, plaintext);
      return s.ok() ? s : Status::Corruption("sealed query: " + s.message());
    }
  }
  return Status::PermissionDenied("sealed query: no key given is one of its recipients");
}

const OpeningKey* Opener::KeyFor(const std::vector<Sha256Digest>& recipients) const {
  for (const Sha256Digest& r : recipients) {
    for (const auto& k : keys_) {
      if (k->fingerprint() == r) return k.get();
    }
  }
  return nullptr;
}

Status Opener::Open(const json& entry, const std::string& sealed, std::string* plaintext) const {
  const json& seal = entry["seal"];
  std::string what = "message " + std::to_string(entry["seq"].get<uint64_t>());
  std::string fingerprints;
  const OpeningKey* key = nullptr;
  for (const auto& r : seal["recipients"]) {
    fingerprints += (fingerprints.empty() ? "" : ", ") + r.get<std::string>();
    for (const auto& k : keys_) {
      if (key == nullptr && DigestToJson(k->fingerprint()) == r) key = k.get();
    }
  }
  if (seal.value("scheme", 0) != kSealSchemeCms1) {
    return Status::InvalidArgument(what + " is sealed with scheme " + seal["scheme"].dump() +
                                   ", which this mailjournal cannot open");
  }
  if (key == nullptr) {
    return Status::PermissionDenied(what +
                                    " is sealed; it opens with the private key whose "
                                    "fingerprint is " +
                                    fingerprints + " (--key FILE)");
  }
  // The key is a recipient's: whatever fails now is damage, not a wrong key.
  Status s = key->Open(sealed, plaintext);
  if (!s.ok()) return Status::Corruption(what + ": " + s.message());
  Sha256 salted;
  salted.Update(HexDecode(seal["salt"].get<std::string>()));
  salted.Update(*plaintext);
  if (plaintext->size() != seal["plain_size"].get<uint64_t>() ||
      DigestToJson(salted.Final()) != seal["plain_digest"]) {
    OPENSSL_cleanse(&(*plaintext)[0], plaintext->size());
    plaintext->clear();
    return Status::Corruption(what + ": opened, but not the captured bytes its entry records");
  }
  return Status::OK();
}

Status ShowMessage(Channel* ch, uint64_t seq, json* shown) {
  json req = Request("show");
  req["seq"] = seq;
  Status s = ch->Call(req, shown, NoPayload);
  if (!s.ok()) return s;
  const json& entry = (*shown)["entry"];
  if (entry["kind"] != "message") {
    return Status::NotFound("entry " + std::to_string(seq) + " is a " +
                            entry["kind"].get<std::string>() + " entry, not a message");
  }
  return Status::OK();
}

Status ExportStored(Channel* ch, uint64_t seq, FetchPurpose purpose,
                    const Journal::ChunkSink& sink) {
  json req = Request("export");
  req["seq"] = seq;
  req["purpose"] = purpose == FetchPurpose::kRead ? "read" : "export";
  json resp;
  return ch->Call(req, &resp, sink);
}

Status FetchMessage(Channel* ch, uint64_t seq, FetchPurpose purpose, FetchForm form,
                    const Opener& opener, const std::function<Status(const json&)>& on_entry,
                    const Journal::ChunkSink& sink) {
  json shown;
  Status s = ShowMessage(ch, seq, &shown);
  if (!s.ok()) return s;
  const json& entry = shown["entry"];
  s = on_entry(entry);
  if (!s.ok()) return s;
  if (!entry.value("sealed", false) || form == FetchForm::kStored) {
    return ExportStored(ch, seq, purpose, sink);
  }
  std::string sealed, plaintext;
  s = ExportStored(ch, seq, purpose, [&](std::string_view b) {
    sealed.append(b);
    return Status::OK();
  });
  if (s.ok()) s = opener.Open(entry, sealed, &plaintext);
  if (s.ok()) s = sink(plaintext);
  OPENSSL_cleanse(&plaintext[0], plaintext.size());
  return s;
}

namespace {

Sha256Digest Digest(const json& hex) {
  std::string bytes = HexDecode(hex.get<std::string>());
  Sha256Digest d{};
  if (bytes.size() == d.size()) std::copy(bytes.begin(), bytes.end(), d.begin());
  return d;
}

std::vector<Sha256Digest> Digests(const json& array) {
  std::vector<Sha256Digest> out;
  for (const json& h : array) out.push_back(Digest(h));
  return out;
}

}  // namespace

Status GetCheckedProof(Channel* ch, const ProofQuery& query, json* proof) {
  json req = Request("proof");
  if (query.size != 0) req["size"] = query.size;
  if (query.seq != 0) {
    req["seq"] = query.seq;
  } else {
    req["old_size"] = query.old_size;
  }
  json resp;
  Status s = ch->Call(req, &resp, NoPayload);
  if (!s.ok()) return s;
  *proof = resp["proof"];
  std::string note = resp.value("checkpoint", query.checkpoint);
  Checkpoint checkpoint;
  if (!note.empty()) {
    std::string text;
    s = NoteText(note, &text);
    if (s.ok()) s = ParseCheckpoint(text, &checkpoint);
    if (!s.ok()) return Status::Corruption("the checkpoint of the proof: " + s.message());
  }
  // The proof against its root, the root against the checkpoint.
  Sha256Digest root = Digest((*proof)["root"]);
  uint64_t size = (*proof)["tree_size"].get<uint64_t>();
  bool valid =
      (*proof)["type"] == "inclusion"
          ? VerifyInclusion((*proof)["leaf_index"].get<uint64_t>(), size,
                            LeafHash(HexDecode((*proof)["entry"].get<std::string>())),
                            Digests((*proof)["path"]), root)
          : VerifyConsistency((*proof)["old_size"].get<uint64_t>(), size,
                              Digest((*proof)["old_root"]), root, Digests((*proof)["path"]));
  if (!valid) return Status::Corruption("the journal gave a proof that does not verify");
  if (!note.empty() && (checkpoint.size != size || checkpoint.root != root)) {
    return Status::Corruption("the journal's tree of " + std::to_string(size) +
                              " entries does not have the checkpoint's root");
  }
  if (!note.empty()) (*proof)["checkpoint"] = note;
  return Status::OK();
}

}  // namespace mailjournal
