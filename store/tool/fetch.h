// Fetching through a Channel, checked in the tool: a message's captured bytes, opening
// sealed messages with the officer's private keys (never in the daemon) and checking what
// they yield against the entry's recorded size and salted digest before any byte is passed
// on; and proofs, checked against their root and checkpoint.
#ifndef MAILJOURNAL_TOOL_FETCH_H_
#define MAILJOURNAL_TOOL_FETCH_H_

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "channel.h"
#include "keygen.h"
#include "mailjournal/journal.h"
#include "mailjournal/seal.h"
#include "mailjournal/status.h"

namespace mailjournal {

// The private keys a command may use to open sealed messages.
class Opener {
 public:
  // Loads each key file, with the passphrase from the first line of passphrase_file ("":
  // OpenSSL prompts for an encrypted key). NotFound when a file cannot be read;
  // InvalidArgument when a key does not load (e.g. a wrong passphrase).
  Status Load(const std::vector<std::string>& key_files, const std::string& passphrase_file);

  // Opens a message's sealed bytes (`entry` as the admin protocol shows it) with the keys
  // whose fingerprints the entry names as recipients, and checks the result against the
  // entry's size and salted digest. NoPermission when no loaded key is a recipient (the
  // message names the fingerprints that would open it); Corruption when a recipient's key
  // does not open it or it opens to other bytes than were captured.
  Status Open(const nlohmann::json& entry, const std::string& sealed, std::string* plaintext) const;
  // Opens sealed bytes that are not a message (a search query in the audit trail) with the
  // loaded key whose fingerprint is among `recipients` (lower-case hex). PermissionDenied
  // when none is; Corruption when it does not open.
  Status OpenSealed(const nlohmann::json& recipients, std::string_view sealed,
                    std::string* plaintext) const;
  // The loaded key whose fingerprint is among `recipients`; null when none is.
  const OpeningKey* KeyFor(const std::vector<Sha256Digest>& recipients) const;

 private:
  std::vector<std::unique_ptr<OpeningKey>> keys_;
};

// How a message's bytes are wanted.
enum class FetchForm {
  kCaptured,  // the captured bytes (sealed messages are opened)
  kStored,    // the bytes as stored (the CMS structure for a sealed message)
};

// Why the bytes are fetched: the daemon checks the caller's "read" or "export" grant and
// records which in the audit trail.
enum class FetchPurpose { kRead, kExport };

// Shows message `seq` ("show"): on success *shown is the response, whose "entry" is the
// entry's admin-protocol JSON and whose "disposal", when present, is the dispose entry of a
// message whose content is gone. NotFound when entry `seq` is not a message.
Status ShowMessage(Channel* channel, uint64_t seq, nlohmann::json* shown);

// Passes message `seq`'s bytes as stored (for a sealed message, its CMS structure) to sink
// ("export"; the daemon checks them against the entry's size and SHA-256). NotFound when its
// content was disposed of; PermissionDenied when the caller may not have it for `purpose`.
Status ExportStored(Channel* channel, uint64_t seq, FetchPurpose purpose,
                    const Journal::ChunkSink& sink);

// Fetches message `seq`: calls on_entry with its entry (admin-protocol JSON), then passes
// its bytes, in the wanted form, to sink. NotFound when entry `seq` is not a message.
Status FetchMessage(Channel* channel, uint64_t seq, FetchPurpose purpose, FetchForm form,
                    const Opener& opener,
                    const std::function<Status(const nlohmann::json&)>& on_entry,
                    const Journal::ChunkSink& sink);

// A proof to ask the journal for ("proof", mailjournald(8)).
struct ProofQuery {
  uint64_t seq = 0;        // an inclusion proof of this entry; 0: a consistency proof
  uint64_t old_size = 0;   // from the tree of this many entries (consistency proofs)
  uint64_t size = 0;       // the tree to prove against; 0: that of the newest checkpoint
  std::string checkpoint;  // the signed note of the tree of `size`, when the caller has one
};

// Gets a proof and checks it before it is used: the path against the root it leads to
// (the leaf hash computed from the entry's bytes), and the root against the checkpoint: the
// one given, or the journal's newest, which the answer carries when no size is given. On
// success *proof is the proof object of mailjournald(8), with member "checkpoint", the
// note, when a checkpoint is known. The note's signature is not checked here. Corruption
// when the proof does not verify, its root is not the checkpoint's, or the checkpoint does
// not parse; the channel's errors as they are.
Status GetCheckedProof(Channel* channel, const ProofQuery& query, nlohmann::json* proof);

}  // namespace mailjournal

#endif  // MAILJOURNAL_TOOL_FETCH_H_
