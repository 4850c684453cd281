// Segments: the journal cut into self-contained, verifiable pieces for shipping to object
// storage (mailjournal-format(5), SEGMENTS).
//
// A segment holds entries first..last exactly as stored, the stored content of their
// messages (the sealed CMS structure for a sealed message; none for a disposed one), the
// signed checkpoint that covers entry `last` (the first checkpoint entry after it) and the
// Merkle data that proves the entries are leaves first-1..last-1 of that checkpoint's tree:
// the roots of the perfect subtrees left of the segment (the compact range of the first
// first-1 leaves) and the RFC 9162 consistency proof from the tree of `last` leaves to the
// checkpoint's. It also carries its messages' search term sets (terms.bin: what the
// journal's ReadTerms gives, so that the segment can be searched without the journal;
// not leaves of the tree, see EncodeSegmentTerms). A manifest names the parts with their
// SHA-256. The container is a POSIX
// ustar archive, written and read with libarchive, members in a fixed order with fixed
// metadata, so the same range always gives the same bytes.
//
// All functions are thread-safe when the journal is.
#ifndef MAILJOURNAL_SEGMENT_H_
#define MAILJOURNAL_SEGMENT_H_

#include <cstdint>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "mailjournal/admin_protocol.h"
#include "mailjournal/checkpoint.h"
#include "mailjournal/entry.h"
#include "mailjournal/journal.h"
#include "mailjournal/status.h"

namespace mailjournal {

// 2: terms.bin added (the messages' search term sets).
constexpr int kSegmentFormatVersion = 2;

// Where segments are cut: after max_entries entries, or earlier before the first entry
// committed max_age_us or more after the segment's first entry, or before the first
// message whose stored content would bring the segment's messages' stored content
// (ContentRef::size, as the entries say, disposed or not) over max_content_bytes,
// whichever comes first; a message larger than that alone is a segment of its own. The
// byte limit bounds the memory a segment is built in (WriteSegment). The cut depends only
// on the journal's entries, so it is the same whenever it is made.
struct SegmentCut {
  uint64_t max_entries = 10000;
  int64_t max_age_us = 3600LL * 1000000;             // one hour
  uint64_t max_content_bytes = 64ULL * 1024 * 1024;  // 64 MiB
};

struct SegmentRange {
  uint64_t first = 0, last = 0;
  uint64_t checkpoint_seq = 0;  // the checkpoint entry that covers `last`
  int64_t first_time_us = 0, last_time_us = 0;
};

// The segments of the journal that can be written now, from entry `from` on (1: the
// journal's cut; from the first entry after a segment, the rest of that cut): those complete
// (an entry after them exists) and covered by a checkpoint entry after their last entry.
// Reads the entries from `from` on only, so a shipper that knows where it stopped need not
// read the whole journal. REQUIRES: from >= 1.
Status ListSegments(Journal* journal, const SegmentCut& cut, std::vector<SegmentRange>* ranges,
                    uint64_t from = 1);

// The segment's object name: PREFIX/segments/FIRST-LAST.seg, both numbers 20 digits wide
// (so names sort in journal order); without "PREFIX/" when prefix is "".
std::string SegmentObjectName(const std::string& prefix, uint64_t first, uint64_t last);

// The case ids of the legal holds in force that cover a message (null: holds unknown).
using CoveringHoldsFn = std::function<std::vector<std::string>(uint64_t seq, const MessageEntry&)>;

// Writes the segment of entries first..last into *bytes. NotFound when the range is not in
// the journal or no checkpoint entry after `last` exists yet (Busy); Corruption when an
// entry differs from its leaf hash or a message's stored content does not match its entry.
// REQUIRES: 1 <= first <= last.
Status WriteSegment(Journal* journal, uint64_t first, uint64_t last, const CoveringHoldsFn& holds,
                    std::string* bytes);

// terms.bin (mailjournal-format(5), SEGMENTS): for each message with term sets, in seq
// order: u64 seq, u32 number of sets; per set (by key id) u64 key id, u32 number of terms,
// then per term (by hash, strictly increasing) u64 hash, u8 fields; integers big-endian.
// Appends message seq's record to *out (nothing when `sets` is empty).
// REQUIRES: sets sorted by key id, each non-empty and sorted by hash (as ReadTerms gives).
void EncodeSegmentTerms(uint64_t seq, const std::vector<TermSet>& sets, std::string* out);
// Decodes a whole terms.bin into *out. Corruption ("terms.bin: ...") when it is truncated,
// out of order or has an empty set.
Status DecodeSegmentTerms(std::string_view in, std::map<uint64_t, std::vector<TermSet>>* out);

// What a verified segment holds.
struct VerifiedSegment {
  nlohmann::json manifest;
  Checkpoint checkpoint;  // the covering checkpoint, its signature checked
  uint64_t first = 0, last = 0;
  // The leaves before `first` as tree.json's "left" gives them, in CompactRange's encoding
  // (mailjournal/merkle.h): what the segments before this one must add up to.
  std::string left_range;
  std::vector<std::string> entry_bytes;     // entry first + i, as stored
  std::vector<Entry> entries;               // the same, decoded
  std::map<uint64_t, std::string> content;  // message seq -> stored content
  // message seq -> its term sets (key id order, terms by hash); messages not indexed (or
  // disposed of) have none. Only the manifest's digest vouches for them: a forged
  // terms.bin can hide or add candidates, never content (a search confirms every hit
  // against the decrypted, tree-proven content).
  std::map<uint64_t, std::vector<TermSet>> terms;
  size_t messages = 0;
  size_t without_content = 0;  // message entries whose content the segment does not carry
};

// Checks a segment: the container and its members, each part's size and SHA-256 against
// the manifest, that terms.bin decodes and names only message entries of the segment, the
// checkpoint's signature with `verifier`, that the entries are exactly leaves first-1..last-1 of
// the checkpoint's tree, each content against its message entry, and the manifest's statements that
// the entries determine (range, times, retain-until). Corruption naming the first thing that failed
// otherwise.
Status VerifySegment(std::string_view bytes, const NoteVerifier& verifier, VerifiedSegment* out);

// The members of a segment's container in order, (name, bytes): manifest.json first.
using SegmentMembers = std::vector<std::pair<std::string, std::string>>;
// Reads a ustar archive's members. Corruption for anything but regular files, a name that
// appears twice, or an archive that does not read to its end.
Status UnpackSegment(std::string_view bytes, SegmentMembers* members);
// Sets the manifest's (members[0]) "parts" to the names, sizes and SHA-256 of the other
// members. REQUIRES: members[0] is manifest.json holding a JSON object.
void SealManifest(SegmentMembers* members);
// Writes the members as a ustar archive with fixed metadata (regular files, mode 0444,
// owner 0:0 without names, modification time mtime), so the same members give the same bytes.
Status PackSegment(const SegmentMembers& members, int64_t mtime, std::string* bytes);

// The admin operations (mailjournald(8), ADMIN PROTOCOL): "segment_list" lists
// ListSegments' ranges ("entries", "seconds" set the cut); "segment" sends segment
// "first".."last" as its payload. Both need the "export" grant on every department.
// `holds` makes the covering-holds function for one segment (null: holds unknown).
void AddSegmentOperations(Journal* journal, std::function<CoveringHoldsFn()> holds,
                          AdminHandler* handler);

}  // namespace mailjournal

#endif  // MAILJOURNAL_SEGMENT_H_
