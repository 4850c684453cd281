#include "mailjournal/segment.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <set>

#include "mailjournal/merkle.h"
#include "mailjournal/sha256.h"
#include "mailjournal/time_util.h"

namespace mailjournal {

using nlohmann::json;

namespace {

constexpr char kManifest[] = "manifest.json";
constexpr char kEntries[] = "entries.bin";
constexpr char kTerms[] = "terms.bin";
constexpr char kTree[] = "tree.json";
constexpr char kCheckpoint[] = "checkpoint.note";
constexpr char kContentDir[] = "content/";
constexpr char kFormatName[] = "mailjournal-segment";

std::string Seq20(uint64_t seq) {
  char buf[24];
  std::snprintf(buf, sizeof buf, "%020llu", static_cast<unsigned long long>(seq));
  return buf;
}

std::string ContentName(uint64_t seq) { return kContentDir + Seq20(seq); }

std::string Hex(const Sha256Digest& d) { return DigestToJson(d).get<std::string>(); }

json HexList(const std::vector<Sha256Digest>& digests) {
  json out = json::array();
  for (const Sha256Digest& d : digests) out.push_back(Hex(d));
  return out;
}

// A JSON array of 64-hex-digit strings as digests; false when it is not one.
bool DigestList(const json& j, std::vector<Sha256Digest>* out) {
  if (!j.is_array()) return false;
  for (const json& h : j) {
    if (!h.is_string() || h.get<std::string>().size() != 64) return false;
    std::string raw = HexDecode(h.get<std::string>());
    if (raw.size() != 32) return false;
    Sha256Digest d;
    std::copy(raw.begin(), raw.end(), d.begin());
    out->push_back(d);
  }
  return true;
}

void PutBE(std::string* out, uint64_t v, int bytes) {
  for (int i = bytes - 1; i >= 0; --i) out->push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}

void PutU32(std::string* out, uint32_t v) { PutBE(out, v, 4); }

// Reads a big-endian integer of `bytes` bytes from the front of *in; false when too short.
bool GetBE(std::string_view* in, int bytes, uint64_t* v) {
  if (in->size() < static_cast<size_t>(bytes)) return false;
  *v = 0;
  for (int i = 0; i < bytes; ++i) *v = (*v << 8) | static_cast<unsigned char>((*in)[i]);
  in->remove_prefix(bytes);
  return true;
}

// The roots of the perfect subtrees that make up the tree of the first `size` leaves,
// largest first (its compact range), as CompactRange's encoding.
Status LeftFrontier(uint64_t size, const LeafHashSource& leaves, std::vector<Sha256Digest>* roots) {
  uint64_t begin = 0;
  for (int bit = 63; bit >= 0; --bit) {
    uint64_t width = uint64_t{1} << bit;
    if ((size & width) == 0) continue;
    Sha256Digest root;
    Status s = SubtreeRoot(begin, begin + width, leaves, &root);
    if (!s.ok()) return s;
    roots->push_back(root);
    begin += width;
  }
  return Status::OK();
}

// CompactRange's encoding of the compact range of the first `left_size` leaves whose
// subtree roots are `left`.
std::string EncodeLeft(uint64_t left_size, const std::vector<Sha256Digest>& left) {
  std::string encoded;
  for (int i = 7; i >= 0; --i) encoded.push_back(static_cast<char>((left_size >> (8 * i)) & 0xff));
  for (const Sha256Digest& d : left) encoded.append(d.begin(), d.end());
  return encoded;
}

// The root of the tree of the first `size` leaves, from the compact range of the first
// `left_size` (its subtree roots) and the leaf hashes after it. False when `left` is not a
// compact range of that size.
bool ExtendedRoot(uint64_t left_size, const std::vector<Sha256Digest>& left,
                  const std::vector<Sha256Digest>& leaf_hashes, Sha256Digest* root) {
  CompactRange range;
  if (!CompactRange::Decode(EncodeLeft(left_size, left), &range)) return false;
  for (const Sha256Digest& h : leaf_hashes) range.Append(h);
  *root = range.Root();
  return true;
}

// The Merkle check of a segment: entries with `leaf_hashes` are leaves first-1.. of the
// tree of `tree_size` leaves whose root is `root`. "" when they are, else the reason.
std::string CheckLeaves(uint64_t first, const std::vector<Sha256Digest>& leaf_hashes,
                        const std::vector<Sha256Digest>& left,
                        const std::vector<Sha256Digest>& consistency, uint64_t tree_size,
                        const Sha256Digest& root) {
  uint64_t last = first - 1 + leaf_hashes.size();
  if (last > tree_size) return "the checkpoint's tree has fewer entries than the segment";
  Sha256Digest segment_root;
  if (!ExtendedRoot(first - 1, left, leaf_hashes, &segment_root)) {
    return "tree.json: \"left\" is not the compact range of " + std::to_string(first - 1) +
           " leaves";
  }
  if (!VerifyConsistency(last, tree_size, segment_root, root, consistency)) {
    return "the entries are not leaves " + std::to_string(first) + ".." + std::to_string(last) +
           " of the checkpoint's tree (tree of " + std::to_string(last) +
           " leaves built from them is not consistent with the signed root)";
  }
  return "";
}

}  // namespace

void EncodeSegmentTerms(uint64_t seq, const std::vector<TermSet>& sets, std::string* out) {
  if (sets.empty()) return;
  PutBE(out, seq, 8);
  PutBE(out, sets.size(), 4);
  for (const TermSet& set : sets) {
    PutBE(out, set.key_id, 8);
    PutBE(out, set.terms.size(), 4);
    for (const KeyedTerm& t : set.terms) {
      PutBE(out, t.hash, 8);
      out->push_back(static_cast<char>(t.fields));
    }
  }
}

Status DecodeSegmentTerms(std::string_view in, std::map<uint64_t, std::vector<TermSet>>* out) {
  auto bad = [](const std::string& why) { return Status::Corruption("terms.bin: " + why); };
  uint64_t previous_seq = 0;
  while (!in.empty()) {
    uint64_t seq = 0, sets = 0;
    if (!GetBE(&in, 8, &seq) || !GetBE(&in, 4, &sets)) return bad("truncated record");
    if (seq <= previous_seq) return bad("message " + std::to_string(seq) + " out of order");
    if (sets == 0) return bad("message " + std::to_string(seq) + " with no term set");
    previous_seq = seq;
    std::vector<TermSet>& list = (*out)[seq];
    for (uint64_t i = 0; i < sets; ++i) {
      TermSet set;
      uint64_t n = 0;
      if (!GetBE(&in, 8, &set.key_id) || !GetBE(&in, 4, &n)) return bad("truncated term set");
      if (!list.empty() && set.key_id <= list.back().key_id) {
        return bad("message " + std::to_string(seq) + ": key ids out of order");
      }
      if (n == 0 || in.size() / 9 < n) return bad("empty or truncated term set");
      set.terms.resize(n);
      for (uint64_t j = 0; j < n; ++j) {
        uint64_t fields = 0;
        GetBE(&in, 8, &set.terms[j].hash);
        GetBE(&in, 1, &fields);
        set.terms[j].fields = static_cast<uint8_t>(fields);
        if (j > 0 && set.terms[j].hash <= set.terms[j - 1].hash) {
          return bad("message " + std::to_string(seq) + ": hashes out of order");
        }
      }
      list.push_back(std::move(set));
    }
  }
  return Status::OK();
}

namespace {

// --- the container: ustar through libarchive ------------------------------------------

struct ArchiveDeleter {
  void operator()(struct archive* a) const { archive_free(a); }
};
struct EntryDeleter {
  void operator()(struct archive_entry* e) const { archive_entry_free(e); }
};

la_ssize_t AppendToString(struct archive*, void* out, const void* buf, size_t n) {
  static_cast<std::string*>(out)->append(static_cast<const char*>(buf), n);
  return static_cast<la_ssize_t>(n);
}

}  // namespace

Status PackSegment(const SegmentMembers& members, int64_t mtime, std::string* out) {
  std::unique_ptr<struct archive, ArchiveDeleter> a(archive_write_new());
  auto fail = [&](const char* what) {
    return Status::IOError(std::string("segment: ") + what + ": " +
                           (archive_error_string(a.get()) ? archive_error_string(a.get()) : "?"));
  };
  if (archive_write_set_format_ustar(a.get()) != ARCHIVE_OK ||
      archive_write_add_filter_none(a.get()) != ARCHIVE_OK ||
      archive_write_set_bytes_in_last_block(a.get(), 1) != ARCHIVE_OK) {
    return fail("archive setup");
  }
  out->clear();
  if (archive_write_open(a.get(), out, nullptr, AppendToString, nullptr) != ARCHIVE_OK) {
    return fail("archive open");
  }
  for (const auto& [name, bytes] : members) {
    std::unique_ptr<struct archive_entry, EntryDeleter> e(archive_entry_new());
    archive_entry_set_pathname(e.get(), name.c_str());
    archive_entry_set_filetype(e.get(), AE_IFREG);
    archive_entry_set_perm(e.get(), 0444);
    archive_entry_set_size(e.get(), static_cast<la_int64_t>(bytes.size()));
    archive_entry_set_mtime(e.get(), mtime, 0);
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) return fail(name.c_str());
    if (!bytes.empty() && archive_write_data(a.get(), bytes.data(), bytes.size()) !=
                              static_cast<la_ssize_t>(bytes.size())) {
      return fail(name.c_str());
    }
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) return fail("archive close");
  return Status::OK();
}

Status UnpackSegment(std::string_view bytes, SegmentMembers* members) {
  std::unique_ptr<struct archive, ArchiveDeleter> a(archive_read_new());
  archive_read_support_format_tar(a.get());
  if (archive_read_open_memory(a.get(), bytes.data(), bytes.size()) != ARCHIVE_OK) {
    return Status::Corruption("segment: not a tar archive");
  }
  std::set<std::string> seen;
  for (;;) {
    struct archive_entry* e = nullptr;
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK) {
      const char* why = archive_error_string(a.get());
      return Status::Corruption(std::string("segment: not a readable tar archive: ") +
                                (why ? why : "?"));
    }
    std::string name = archive_entry_pathname(e) ? archive_entry_pathname(e) : "";
    if (archive_entry_filetype(e) != AE_IFREG) {
      return Status::Corruption("segment: member " + name + " is not a regular file");
    }
    if (!seen.insert(name).second) {
      return Status::Corruption("segment: member " + name + " appears twice");
    }
    std::string data;
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a.get(), buf, sizeof buf)) > 0) data.append(buf, n);
    if (n < 0) return Status::Corruption("segment: member " + name + " is truncated");
    members->emplace_back(std::move(name), std::move(data));
  }
  return Status::OK();
}

void SealManifest(SegmentMembers* members) {
  json manifest = json::parse((*members)[0].second);
  json part_list = json::array();
  for (size_t i = 1; i < members->size(); ++i) {
    const auto& [name, data] = (*members)[i];
    part_list.push_back({{"name", name}, {"size", data.size()}, {"sha256", Hex(Sha256::Of(data))}});
  }
  manifest["parts"] = part_list;
  (*members)[0].second = manifest.dump(2) + "\n";
}

// --- writing -----------------------------------------------------------------------------

namespace {

// The first checkpoint entry after `last`; Busy when there is none yet.
Status CoveringCheckpoint(Journal* journal, uint64_t last, uint64_t* seq, std::string* note) {
  bool found = false;
  Status s = journal->ScanKind(EntryKind::kCheckpoint, last + 1, false,
                               [&](uint64_t cseq, const Entry& e) {
                                 if (cseq <= last) return true;
                                 *seq = cseq;
                                 *note = e.checkpoint.note;
                                 found = true;
                                 return false;
                               });
  if (s.ok() && !found) {
    return Status::Busy("segment: no checkpoint covers entry " + std::to_string(last) +
                        " yet (a segment is cut once one does)");
  }
  return s;
}

}  // namespace

std::string SegmentObjectName(const std::string& prefix, uint64_t first, uint64_t last) {
  std::string name = "segments/" + Seq20(first) + "-" + Seq20(last) + ".seg";
  return prefix.empty() ? name : prefix + "/" + name;
}

Status ListSegments(Journal* journal, const SegmentCut& cut, std::vector<SegmentRange>* ranges,
                    uint64_t from) {
  if (cut.max_entries == 0 || cut.max_age_us <= 0 || cut.max_content_bytes == 0) {
    return Status::InvalidArgument(
        "segment: the cut needs at least one entry, a positive age and a positive size");
  }
  std::vector<uint64_t> checkpoints;
  if (from == 0) return Status::InvalidArgument("segment: entries are numbered from 1");
  Status s =
      journal->ScanKind(EntryKind::kCheckpoint, from, false, [&](uint64_t seq, const Entry&) {
        checkpoints.push_back(seq);
        return true;
      });
  if (!s.ok()) return s;
  SegmentRange cur;
  uint64_t prev_seq = 0, content_bytes = 0;  // of the messages in cur
  int64_t prev_time = 0;
  s = journal->Scan(from, false, [&](uint64_t seq, const Entry& e) {
    int64_t t = e.time_us();
    uint64_t bytes = e.kind == EntryKind::kMessage ? e.message.content.size : 0;
    if (cur.first != 0 &&
        (seq - cur.first >= cut.max_entries || t - cur.first_time_us >= cut.max_age_us ||
         (bytes > 0 && content_bytes > 0 && content_bytes + bytes > cut.max_content_bytes))) {
      cur.last = prev_seq;
      cur.last_time_us = prev_time;
      auto cp = std::upper_bound(checkpoints.begin(), checkpoints.end(), cur.last);
      if (cp == checkpoints.end()) return false;  // nor will later segments be covered
      cur.checkpoint_seq = *cp;
      ranges->push_back(cur);
      cur = SegmentRange();
      content_bytes = 0;
    }
    if (cur.first == 0) {
      cur.first = seq;
      cur.first_time_us = t;
    }
    content_bytes += bytes;
    prev_seq = seq;
    prev_time = t;
    return true;
  });
  return s;
}

Status WriteSegment(Journal* journal, uint64_t first, uint64_t last, const CoveringHoldsFn& holds,
                    std::string* bytes) {
  if (first == 0 || first > last) {
    return Status::InvalidArgument("segment: expected a range FIRST-LAST with 1 <= FIRST <= LAST");
  }
  if (last > journal->LastSequence()) {
    return Status::NotFound("segment: the journal has only " +
                            std::to_string(journal->LastSequence()) + " entries");
  }
  uint64_t cp_seq = 0;
  std::string note, note_text;
  Status s = CoveringCheckpoint(journal, last, &cp_seq, &note);
  Checkpoint cp;
  if (s.ok()) s = NoteText(note, &note_text);
  if (s.ok()) s = ParseCheckpoint(note_text, &cp);
  if (s.ok() && cp.size != cp_seq - 1) {
    s = Status::Corruption("segment: checkpoint entry " + std::to_string(cp_seq) +
                           " is of a tree of " + std::to_string(cp.size) + " entries");
  }
  if (!s.ok()) return s;

  std::string entries_bin, terms_bin;
  std::vector<std::pair<std::string, std::string>> contents;
  std::vector<Sha256Digest> leaf_hashes;
  std::set<std::string> cases;
  int64_t first_time = 0, last_time = 0, retain_until = INT64_MIN;
  uint64_t messages = 0;
  for (uint64_t seq = first; s.ok() && seq <= last; ++seq) {
    std::string eb;
    Sha256Digest leaf;
    Entry e;
    s = journal->ReadEntryBytes(seq, &eb);
    if (s.ok()) s = journal->ReadLeafHash(seq, &leaf);
    if (s.ok() && leaf != LeafHash(eb)) {
      s = Status::Corruption("segment: entry " + std::to_string(seq) +
                             " differs from its leaf hash");
    }
    if (s.ok()) s = DecodeEntry(eb, &e);
    if (!s.ok()) break;
    leaf_hashes.push_back(leaf);
    PutU32(&entries_bin, static_cast<uint32_t>(eb.size()));
    entries_bin += eb;
    if (seq == first) first_time = e.time_us();
    last_time = e.time_us();
    if (e.kind != EntryKind::kMessage) continue;
    ++messages;
    retain_until = std::max(retain_until, e.message.classification.retain_until_us);
    std::vector<TermSet> terms;
    s = journal->ReadTerms(seq, &terms);
    if (!s.ok()) break;
    EncodeSegmentTerms(seq, terms, &terms_bin);
    if (holds) {
      for (std::string& c : holds(seq, e.message)) cases.insert(std::move(c));
    }
    std::string content;
    Status r = journal->ReadContent(e.message.content, [&](std::string_view b) {
      content.append(b);
      return Status::OK();
    });
    if (r.IsNotFound()) continue;  // disposed of: the entry stays, the content is gone
    if (!r.ok()) s = r;
    if (s.ok()) contents.emplace_back(ContentName(seq), std::move(content));
  }
  if (!s.ok()) return s;

  LeafHashSource leaves = [journal](uint64_t index, Sha256Digest* hash) {
    return journal->ReadLeafHash(index + 1, hash);
  };
  std::vector<Sha256Digest> left, consistency;
  s = LeftFrontier(first - 1, leaves, &left);
  if (s.ok()) s = ConsistencyProof(last, cp.size, leaves, &consistency);
  if (!s.ok()) return s;
  std::string problem = CheckLeaves(first, leaf_hashes, left, consistency, cp.size, cp.root);
  if (!problem.empty()) return Status::Corruption("segment: " + problem);

  json tree = {{"tree_size", cp.size},
               {"checkpoint_seq", cp_seq},
               {"left", HexList(left)},
               {"consistency", HexList(consistency)}};
  SegmentMembers parts;
  parts.emplace_back(kEntries, std::move(entries_bin));
  parts.emplace_back(kTerms, std::move(terms_bin));
  parts.emplace_back(kTree, tree.dump() + "\n");
  parts.emplace_back(kCheckpoint, note);
  for (auto& c : contents) parts.push_back(std::move(c));

  json manifest = {
      {"format", kFormatName},
      {"version", kSegmentFormatVersion},
      {"origin", cp.origin},
      {"first", first},
      {"last", last},
      {"first_time", FormatTimeUtc(first_time)},
      {"last_time", FormatTimeUtc(last_time)},
      {"messages", messages},
      {"retain_until", messages == 0 ? json(nullptr) : json(FormatTimeUtc(retain_until))},
      {"holds", cases},
      {"holds_known", static_cast<bool>(holds)}};
  parts.insert(parts.begin(), {kManifest, manifest.dump()});
  SealManifest(&parts);
  return PackSegment(parts, last_time / 1000000, bytes);
}

// --- reading -------------------------------------------------------------------------------

Status VerifySegment(std::string_view bytes, const NoteVerifier& verifier, VerifiedSegment* out) {
  auto bad = [](const std::string& why) { return Status::Corruption("segment: " + why); };
  SegmentMembers members;
  Status s = UnpackSegment(bytes, &members);
  if (!s.ok()) return s;
  if (members.empty() || members[0].first != kManifest) {
    return bad("the first member is not manifest.json");
  }
  json& m = out->manifest;
  m = json::parse(members[0].second, nullptr, false);
  if (!m.is_object() || m.value("format", json()) != kFormatName) {
    return bad("manifest.json is not a mailjournal segment manifest");
  }
  if (m.value("version", json()) != kSegmentFormatVersion) {
    return bad("manifest.json: unknown format version " + m.value("version", json()).dump());
  }
  const json& parts = m.value("parts", json());
  if (!parts.is_array() || parts.size() != members.size() - 1) {
    return bad("manifest.json lists " + std::to_string(parts.is_array() ? parts.size() : 0) +
               " parts, the segment has " + std::to_string(members.size() - 1));
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    const json& p = parts[i];
    const auto& [name, data] = members[i + 1];
    if (!p.is_object() || p.value("name", json()) != name) {
      return bad("member " + name + " is not the part manifest.json lists in its place");
    }
    if (p.value("size", json()) != data.size() ||
        p.value("sha256", json()) != Hex(Sha256::Of(data))) {
      return bad("manifest digest mismatch: part " + name +
                 " does not have the size and SHA-256 manifest.json gives");
    }
  }
  auto member = [&](const std::string& name) -> const std::string* {
    for (const auto& [n, d] : members)
      if (n == name) return &d;
    return nullptr;
  };
  const std::string* entries_bin = member(kEntries);
  const std::string* terms_bin = member(kTerms);
  const std::string* tree_text = member(kTree);
  const std::string* note = member(kCheckpoint);
  if (!entries_bin || !terms_bin || !tree_text || !note) {
    return bad(
        "a part is missing (entries.bin, terms.bin, tree.json and checkpoint.note are "
        "required)");
  }

  // The checkpoint.
  std::string text;
  s = verifier.Verify(*note, &text);
  if (!s.ok()) return bad("checkpoint.note: " + s.message());
  s = ParseCheckpoint(text, &out->checkpoint);
  if (!s.ok()) return bad("checkpoint.note: " + s.message());

  // The entries.
  if (!m.value("first", json()).is_number_unsigned() ||
      !m.value("last", json()).is_number_unsigned()) {
    return bad("manifest.json: first and last must be sequence numbers");
  }
  out->first = m["first"].get<uint64_t>();
  out->last = m["last"].get<uint64_t>();
  if (out->first == 0 || out->first > out->last) return bad("manifest.json: empty range");
  std::string_view rest(*entries_bin);
  std::vector<Sha256Digest> leaf_hashes;
  while (!rest.empty()) {
    if (rest.size() < 4) return bad("entries.bin: truncated length");
    uint32_t n = 0;
    for (int i = 0; i < 4; ++i) n = (n << 8) | static_cast<unsigned char>(rest[i]);
    rest.remove_prefix(4);
    if (rest.size() < n) return bad("entries.bin: truncated entry");
    std::string eb(rest.substr(0, n));
    rest.remove_prefix(n);
    uint64_t seq = out->first + out->entry_bytes.size();
    Entry e;
    s = DecodeEntry(eb, &e);
    if (!s.ok()) return bad("entry " + std::to_string(seq) + ": " + s.message());
    leaf_hashes.push_back(LeafHash(eb));
    out->entry_bytes.push_back(std::move(eb));
    out->entries.push_back(std::move(e));
  }
  if (out->entries.size() != out->last - out->first + 1) {
    return bad("entries.bin holds " + std::to_string(out->entries.size()) +
               " entries; manifest.json names " + std::to_string(out->first) + ".." +
               std::to_string(out->last));
  }

  // The tree: the entries are exactly leaves first-1..last-1 of the checkpoint's tree.
  json tree = json::parse(*tree_text, nullptr, false);
  std::vector<Sha256Digest> left, consistency;
  if (!tree.is_object() || !tree.value("tree_size", json()).is_number_unsigned() ||
      !DigestList(tree.value("left", json()), &left) ||
      !DigestList(tree.value("consistency", json()), &consistency)) {
    return bad("tree.json is malformed");
  }
  if (tree["tree_size"].get<uint64_t>() != out->checkpoint.size) {
    return bad("tree.json is for a tree of " + tree["tree_size"].dump() +
               " entries, the checkpoint's has " + std::to_string(out->checkpoint.size));
  }
  std::string problem = CheckLeaves(out->first, leaf_hashes, left, consistency,
                                    out->checkpoint.size, out->checkpoint.root);
  if (!problem.empty()) return bad(problem);
  out->left_range = EncodeLeft(out->first - 1, left);
  if (m.value("origin", json()) != out->checkpoint.origin) {
    return bad("manifest.json: origin is not the checkpoint's");
  }

  // The contents, and what the manifest says of the entries.
  std::set<std::string> content_names;
  for (const auto& [name, data] : members) {
    if (name.rfind(kContentDir, 0) == 0) content_names.insert(name);
  }
  int64_t retain_until = INT64_MIN;
  for (size_t i = 0; i < out->entries.size(); ++i) {
    const Entry& e = out->entries[i];
    uint64_t seq = out->first + i;
    if (e.kind != EntryKind::kMessage) continue;
    ++out->messages;
    retain_until = std::max(retain_until, e.message.classification.retain_until_us);
    const std::string* c = member(ContentName(seq));
    if (c == nullptr) {
      ++out->without_content;
      continue;
    }
    content_names.erase(ContentName(seq));
    if (c->size() != e.message.content.size || Sha256::Of(*c) != e.message.content.sha256) {
      return bad("content of message " + std::to_string(seq) +
                 " does not match the size and SHA-256 its entry records");
    }
    out->content[seq] = *c;
  }
  if (!content_names.empty()) {
    return bad("member " + *content_names.begin() + " is not the content of a message entry");
  }

  // The term sets: only of the segment's messages (their digest was checked above).
  s = DecodeSegmentTerms(*terms_bin, &out->terms);
  if (!s.ok()) return bad(s.message());
  for (const auto& [seq, sets] : out->terms) {
    if (seq < out->first || seq > out->last ||
        out->entries[seq - out->first].kind != EntryKind::kMessage) {
      return bad("terms.bin: " + std::to_string(seq) + " is not a message entry of the segment");
    }
  }
  if (m.value("first_time", json()) != FormatTimeUtc(out->entries.front().time_us()) ||
      m.value("last_time", json()) != FormatTimeUtc(out->entries.back().time_us())) {
    return bad("manifest.json: first_time/last_time are not the entries' times");
  }
  json expect_retain = out->messages == 0 ? json(nullptr) : json(FormatTimeUtc(retain_until));
  if (m.value("retain_until", json()) != expect_retain ||
      m.value("messages", json()) != out->messages) {
    return bad("manifest.json: messages/retain_until are not those of the entries");
  }
  return Status::OK();
}

// --- admin operations ---------------------------------------------------------------------

namespace {

Status RequireExportAll(AdminCall* call) {
  if (call->permissions->AllowsAll("export")) return Status::OK();
  return call->Refuse(
      "write segments (they hold every department's entries; \"export\" on "
      "every department is needed)");
}

json RangeToJson(const SegmentRange& r) {
  return {{"first", r.first},
          {"last", r.last},
          {"checkpoint_seq", r.checkpoint_seq},
          {"first_time", FormatTimeUtc(r.first_time_us)},
          {"last_time", FormatTimeUtc(r.last_time_us)},
          {"name", SegmentObjectName("", r.first, r.last)}};
}

}  // namespace

void AddSegmentOperations(Journal* journal, std::function<CoveringHoldsFn()> holds,
                          AdminHandler* handler) {
  handler->AddOperation(
      "segment_list", "", [journal](const json& request, AdminCall* call, ResponseWriter* out) {
        Status s = RequireExportAll(call);
        SegmentCut cut;
        uint64_t seconds = cut.max_age_us / 1000000;
        if (s.ok()) s = RequestUnsigned(request, "entries", &cut.max_entries);
        if (s.ok()) s = RequestUnsigned(request, "seconds", &seconds);
        if (s.ok()) s = RequestUnsigned(request, "bytes", &cut.max_content_bytes);
        if (s.ok() && seconds > static_cast<uint64_t>(INT64_MAX / 1000000)) {
          s = Status::InvalidArgument("seconds: too large");
        }
        cut.max_age_us = static_cast<int64_t>(seconds % (INT64_MAX / 1000000)) * 1000000;
        std::vector<SegmentRange> ranges;
        if (s.ok()) s = ListSegments(journal, cut, &ranges);
        if (!s.ok()) return AnswerError(s, out);
        json resp = OkResponse();
        resp["segments"] = json::array();
        for (const SegmentRange& r : ranges) resp["segments"].push_back(RangeToJson(r));
        return out->Header(resp);
      });
  handler->AddOperation(
      "segment", "", [journal, holds](const json& request, AdminCall* call, ResponseWriter* out) {
        uint64_t first = 0, last = 0;
        Status s = RequireExportAll(call);
        if (s.ok()) s = RequestUnsigned(request, "first", &first);
        if (s.ok()) s = RequestUnsigned(request, "last", &last);
        std::string bytes;
        if (s.ok()) s = WriteSegment(journal, first, last, holds ? holds() : nullptr, &bytes);
        if (!s.ok()) return AnswerError(s, out);
        // The audit trail names the entries shipped; their content leaves sealed.
        for (uint64_t seq = first; seq <= last; ++seq) call->returned.push_back(seq);
        json resp = OkResponse();
        resp["name"] = SegmentObjectName("", first, last);
        resp["size"] = bytes.size();
        s = out->Header(resp);
        for (size_t off = 0; s.ok() && off < bytes.size(); off += kMaxChunkSize) {
          s = out->Payload(std::string_view(bytes).substr(off, kMaxChunkSize));
        }
        if (!s.ok()) return s;
        return out->Trailer(OkResponse());
      });
}

}  // namespace mailjournal
