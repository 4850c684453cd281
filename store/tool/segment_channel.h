// SegmentChannel: a Channel that answers "show" and "export" from the verified segments of
// one journal (one bucket prefix), as the journal itself would: the entry's admin-protocol
// JSON, and a message's stored content as the export payload. So the tool's fetching,
// opening and output code (fetch.h, export, search) works on a bucket unchanged. Every
// other operation is refused (InvalidArgument). Used by one thread.
#ifndef MAILJOURNAL_TOOL_SEGMENT_CHANNEL_H_
#define MAILJOURNAL_TOOL_SEGMENT_CHANNEL_H_

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "channel.h"
#include "mailjournal/segment.h"

namespace mailjournal {

class SegmentChannel : public Channel {
 public:
  // REQUIRES: the segments outlive the channel.
  explicit SegmentChannel(const std::vector<const VerifiedSegment*>& segments);

  // "show" {seq}: {"entry":...}; NotFound when no segment holds entry seq.
  // "export" {seq}: the message's stored content as payload; NotFound when entry seq is
  // not a message or its segment carries no content for it (disposed of).
  Status Call(const nlohmann::json& request, nlohmann::json* response,
              const Journal::ChunkSink& payload) override;

  // The message entries held, oldest first: (seq, entry).
  std::vector<std::pair<uint64_t, const Entry*>> Messages() const;

 private:
  struct Held {
    const Entry* entry;
    const std::string* content;  // null when the segment carries none
  };
  std::map<uint64_t, Held> entries_;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_TOOL_SEGMENT_CHANNEL_H_
