// Channel: how the mailjournal tool reaches a journal — through mailjournald's admin socket,
// or by opening the journal directory itself when the daemon is stopped. Both speak the
// admin protocol (mailjournal/admin_protocol.h), so every command behaves the same way.
// A channel is used by one thread.
#ifndef MAILJOURNAL_TOOL_CHANNEL_H_
#define MAILJOURNAL_TOOL_CHANNEL_H_

#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "mailjournal/admin_protocol.h"
#include "mailjournal/journal.h"
#include "mailjournal/status.h"

namespace mailjournal {

class Channel {
 public:
  virtual ~Channel() = default;
  // Sends one request. On return *response holds the response object (when one arrived).
  // For an "export" that succeeded, the payload bytes are passed to `payload` first; the
  // result is then the trailer's status. Returns the response's error as a Status, or the
  // transport's error (Unavailable, IOError) when no complete response arrived.
  virtual Status Call(const nlohmann::json& request, nlohmann::json* response,
                      const Journal::ChunkSink& payload) = 0;
};

// Talks to the daemon at `path`. Unavailable when nothing listens there.
Status ConnectSocketChannel(const std::string& path, std::unique_ptr<Channel>* channel);

// Opens the journal in `dir` directly (it must exist), with the search index keys in
// `index_keys` (mailjournald's index_keys). Busy, with a hint to use --socket, while
// mailjournald holds it.
Status OpenLocalChannel(const std::string& dir, const std::string& index_keys,
                        std::unique_ptr<Channel>* channel);

// Hands each request to `handler` in this process, as coming from `caller`: how the offline
// channel answers for the tool's own process, and how tests run commands as other callers.
// REQUIRES: handler outlives the channel.
std::unique_ptr<Channel> NewHandlerChannel(AdminHandler* handler, const Caller& caller);

}  // namespace mailjournal

#endif  // MAILJOURNAL_TOOL_CHANNEL_H_
