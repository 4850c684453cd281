#include "segment_channel.h"

#include "mailjournal/admin_protocol.h"

namespace mailjournal {

using nlohmann::json;

SegmentChannel::SegmentChannel(const std::vector<const VerifiedSegment*>& segments) {
  for (const VerifiedSegment* seg : segments) {
    for (size_t i = 0; i < seg->entries.size(); ++i) {
      uint64_t seq = seg->first + i;
      auto c = seg->content.find(seq);
      entries_[seq] = Held{&seg->entries[i], c == seg->content.end() ? nullptr : &c->second};
    }
  }
}

std::vector<std::pair<uint64_t, const Entry*>> SegmentChannel::Messages() const {
  std::vector<std::pair<uint64_t, const Entry*>> out;
  for (const auto& [seq, held] : entries_) {
    if (held.entry->kind == EntryKind::kMessage) out.emplace_back(seq, held.entry);
  }
  return out;
}

Status SegmentChannel::Call(const json& request, json* response,
                            const Journal::ChunkSink& payload) {
  const std::string op = request.value("op", "");
  if (op != "show" && op != "export") {
    Status s = Status::InvalidArgument("operation " + op + " is not available from a bucket");
    *response = ErrorResponse(s);
    return s;
  }
  uint64_t seq = request.value("seq", uint64_t{0});
  auto it = entries_.find(seq);
  Status s;
  if (it == entries_.end()) {
    s = Status::NotFound("entry " + std::to_string(seq) + " is in no segment of the bucket");
  } else if (op == "show") {
    *response = {
        {"v", kAdminProtocolVersion}, {"ok", true}, {"entry", EntryToJson(seq, *it->second.entry)}};
    return Status::OK();
  } else if (it->second.entry->kind != EntryKind::kMessage) {
    s = Status::NotFound("entry " + std::to_string(seq) + " is not a message");
  } else if (it->second.content == nullptr) {
    s = Status::NotFound("message " + std::to_string(seq) +
                         ": its content was disposed of (its segment does not carry it)");
  } else {
    s = payload(*it->second.content);
    *response = {{"v", kAdminProtocolVersion}, {"ok", s.ok()}};
    return s;
  }
  *response = ErrorResponse(s);
  return s;
}

}  // namespace mailjournal
