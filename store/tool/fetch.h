// Fetching a message's captured bytes through a Channel, opening sealed messages in the
// tool with the officer's private keys (never in the daemon) and checking what they yield
// against the entry's recorded size and salted digest before any byte is passed on.
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

// Fetches message `seq`: calls on_entry with its entry (admin-protocol JSON), then passes
// its bytes, in the wanted form, to sink. NotFound when entry `seq` is not a message.
Status FetchMessage(Channel* channel, uint64_t seq, FetchPurpose purpose, FetchForm form,
                    const Opener& opener,
                    const std::function<Status(const nlohmann::json&)>& on_entry,
                    const Journal::ChunkSink& sink);

}  // namespace mailjournal

#endif  // MAILJOURNAL_TOOL_FETCH_H_
