#include "fetch.h"

#include <openssl/crypto.h>

#include <fstream>
#include <iterator>

#include "cli.h"
#include "mailjournal/admin_protocol.h"
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

Status FetchMessage(Channel* ch, uint64_t seq, FetchPurpose purpose, FetchForm form,
                    const Opener& opener,
                    const std::function<Status(const json&)>& on_entry,
                    const Journal::ChunkSink& sink) {
  json req = Request("show");
  req["seq"] = seq;
  json shown;
  Status s = ch->Call(req, &shown, NoPayload);
  if (!s.ok()) return s;
  const json& entry = shown["entry"];
  if (entry["kind"] != "message") {
    return Status::NotFound("entry " + std::to_string(seq) + " is a " +
                            entry["kind"].get<std::string>() + " entry, not a message");
  }
  s = on_entry(entry);
  if (!s.ok()) return s;
  req = Request("export");
  req["seq"] = seq;
  req["purpose"] = purpose == FetchPurpose::kRead ? "read" : "export";
  json resp;
  if (!entry.value("sealed", false) || form == FetchForm::kStored) {
    return ch->Call(req, &resp, sink);
  }
  std::string sealed, plaintext;
  s = ch->Call(req, &resp, [&](std::string_view b) {
    sealed.append(b);
    return Status::OK();
  });
  if (s.ok()) s = opener.Open(entry, sealed, &plaintext);
  if (s.ok()) s = sink(plaintext);
  OPENSSL_cleanse(&plaintext[0], plaintext.size());
  return s;
}

}  // namespace mailjournal
