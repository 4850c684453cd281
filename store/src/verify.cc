#include "mailjournal/verify.h"

#include <map>
#include <utility>

#include "mailjournal/merkle.h"
#include "mailjournal/time_util.h"

namespace mailjournal {

namespace {

// How far an entry's date may be ahead of the verifying machine's clock (clock skew between
// the journal's host and the auditor's).
constexpr int64_t kClockTolerance = 3600LL * 1000000;

std::string Hex(const Sha256Digest& d) {
  return HexEncode(std::string_view(reinterpret_cast<const char*>(d.data()), d.size()));
}

// Reads a checkpoint from a signed note, checking its signature when there is a verifier.
Status ReadCheckpoint(const std::string& note, const NoteVerifier* verifier, Checkpoint* c,
                      uint64_t* signatures) {
  std::string text;
  Status s = verifier != nullptr ? verifier->Verify(note, &text) : NoteText(note, &text);
  if (!s.ok()) return s;
  if (verifier != nullptr) ++*signatures;
  s = ParseCheckpoint(text, c);
  return s.ok() ? s : Status::Corruption(s.message());
}

class Verifier {
 public:
  Verifier(Journal* journal, const VerifyOptions& options, VerifyReport* report)
      : journal_(journal), options_(options), report_(report) {}

  Status Run() {
    *report_ = VerifyReport();
    last_ = journal_->LastSequence();
    if (!ReadOffHostCheckpoints()) return Status::OK();
    uint64_t start = 1;
    if (!options_.since.empty()) {
      Status s = StartFromTrustedCheckpoint(&start);
      if (!s.ok() || !report_->intact) return s;
    }
    if (!MatchOffHost()) return Status::OK();
    if (options_.disposals != nullptr) {
      Status s = options_.disposals->Start(journal_, start);
      if (!s.ok()) return s;
    }
    for (uint64_t seq = start; seq <= last_; ++seq) {
      Status s = CheckEntry(seq);
      if (!s.ok() || !report_->intact) return s;
      if (!MatchOffHost()) return Status::OK();
    }
    report_->tree_size = range_.size();
    report_->root = range_.Root();
    uint64_t head_size = 0;
    Sha256Digest head_root;
    journal_->TreeHead(&head_size, &head_root);
    if (head_size < range_.size()) {
      // Entries were added behind the writer's back (the daemon refuses such a journal).
      Fail(head_size + 1, "the journal's stored tree (mtree) covers " + std::to_string(head_size) +
                              " entries, not the " + std::to_string(range_.size()) +
                              " it has: entries were added after it");
    } else if (head_size == range_.size() && head_root != range_.Root()) {
      Fail(0, "the journal's stored tree head (mtree) has root " + Hex(head_root) +
                  ", the entries give " + Hex(range_.Root()));
    }
    return Status::OK();
  }

 private:
  void Fail(uint64_t seq, const std::string& why) {
    report_->intact = false;
    report_->first_bad_seq = seq;
    report_->problem = why;
  }

  bool ReadOffHostCheckpoints() {
    for (const OffHostCheckpoint& cp : options_.checkpoints) {
      Checkpoint c;
      Status s = ReadCheckpoint(cp.note, options_.verifier, &c, &report_->signatures);
      if (!s.ok()) {
        Fail(0, cp.name + ": " + s.message());
        return false;
      }
      if (c.size > last_) {
        Fail(last_ + 1, cp.name + " covers " + std::to_string(c.size) +
                            " entries, and the journal has " + std::to_string(last_) +
                            ": it was rolled back, truncated or replaced");
        return false;
      }
      off_host_.emplace(c.size, std::make_pair(c.root, cp.name));
    }
    return true;
  }

  // Compares the tree as rebuilt so far with the off-host checkpoints of its size.
  bool MatchOffHost() {
    auto range = off_host_.equal_range(range_.size());
    for (auto it = range.first; it != range.second; ++it) {
      if (it->second.first != range_.Root()) {
        Fail(0, it->second.second + ": the first " + std::to_string(range_.size()) +
                    " entries have root " + Hex(range_.Root()) + ", it says " +
                    Hex(it->second.first) + ": the journal was rewritten behind it");
        return false;
      }
      ++report_->off_host;
    }
    return true;
  }

  Status StartFromTrustedCheckpoint(uint64_t* start) {
    Checkpoint c;
    Status s = ReadCheckpoint(options_.since, options_.verifier, &c, &report_->signatures);
    if (!s.ok()) return Status::InvalidArgument("--since: " + s.message());
    if (c.size > last_) {
      Fail(last_ + 1, "the --since checkpoint covers " + std::to_string(c.size) +
                          " entries, and the journal has " + std::to_string(last_));
      return Status::OK();
    }
    for (uint64_t seq = 1; seq <= c.size; ++seq) {
      Sha256Digest leaf;
      s = journal_->ReadLeafHash(seq, &leaf);
      if (s.IsCorruption()) {
        Fail(seq, s.message());
        return Status::OK();
      }
      if (!s.ok()) return s;
      range_.Append(leaf);
    }
    if (range_.Root() != c.root) {
      Fail(0, "the stored leaf hashes of entries 1 to " + std::to_string(c.size) +
                  " do not give the --since checkpoint's root");
    }
    *start = c.size + 1;
    return Status::OK();
  }

  Status CheckEntry(uint64_t seq) {
    std::string bytes;
    Status s = journal_->ReadEntryBytes(seq, &bytes);
    if (s.IsCorruption()) return Failed(seq, s.message());
    if (!s.ok()) return s;
    Entry entry;
    s = DecodeEntry(bytes, &entry);
    if (!s.ok()) return Failed(seq, "entry " + std::to_string(seq) + ": " + s.message());
    // Entries are dated by the commit, never backward: a later entry dated earlier, or an
    // entry dated after this machine's clock, was not written by the journal in order (e.g. a
    // disposal forged with a date after the retain-until date).
    int64_t t = entry.time_us();
    if (t < last_time_us_) {
      return Failed(seq, "entry " + std::to_string(seq) + " is dated " + FormatTimeUtc(t) +
                             ", before the entry before it (" + FormatTimeUtc(last_time_us_) + ")");
    }
    if (t > latest_time_us_) {
      return Failed(seq, "entry " + std::to_string(seq) + " is dated " + FormatTimeUtc(t) +
                             ", in the future of this machine's clock");
    }
    last_time_us_ = t;
    Sha256Digest leaf = LeafHash(bytes), stored;
    s = journal_->ReadLeafHash(seq, &stored);
    if (s.IsCorruption()) return Failed(seq, s.message());
    if (!s.ok()) return s;
    if (leaf != stored) {
      return Failed(seq, "entry " + std::to_string(seq) +
                             ": its bytes differ from those committed (leaf hash)");
    }
    if (entry.kind == EntryKind::kCheckpoint) {
      Checkpoint c;
      s = ReadCheckpoint(entry.checkpoint.note, options_.verifier, &c, &report_->signatures);
      if (!s.ok())
        return Failed(seq, "checkpoint entry " + std::to_string(seq) + ": " + s.message());
      if (c.size != seq - 1 || c.root != range_.Root()) {
        return Failed(seq, "checkpoint entry " + std::to_string(seq) + " (tree size " +
                               std::to_string(c.size) + ") does not match the entries before it");
      }
      ++report_->checkpoints;
    }
    range_.Append(leaf);
    ++report_->entries;
    MessageEntry disposed;
    if (entry.kind == EntryKind::kMessage) {
      ++report_->messages;
      s = journal_->ReadContent(entry.message.content, [this](std::string_view b) {
        report_->content_bytes += b.size();
        return Status::OK();
      });
      if (s.IsNotFound()) return CheckMissingContent(seq);
      if (s.IsCorruption())
        return Failed(seq, "message " + std::to_string(seq) + ": " + s.message());
      if (!s.ok()) return s;
    } else if (entry.kind == EntryKind::kDispose) {
      ++report_->disposals;
      std::string problem;
      s = CheckDisposal(seq, entry.dispose, &disposed, &problem);
      if (!s.ok()) return s;
      if (!problem.empty())
        return Failed(seq, "dispose entry " + std::to_string(seq) + ": " + problem);
    } else if (entry.kind == EntryKind::kReview || entry.kind == EntryKind::kTag) {
      bool review = entry.kind == EntryKind::kReview;
      uint64_t named = review ? entry.review.message : entry.tag.message;
      MessageEntry message;
      s = named < seq ? journal_->ReadMessage(named, &message)
                      : Status::NotFound("not an earlier entry");
      if (s.IsNotFound() || s.IsCorruption()) {
        return Failed(seq, std::string(review ? "review" : "tag") + " entry " +
                               std::to_string(seq) + ": names entry " + std::to_string(named) +
                               ", which is not an earlier message");
      }
      if (!s.ok()) return s;
    }
    if (options_.disposals != nullptr) {
      std::string problem = options_.disposals->Check(
          seq, entry, entry.kind == EntryKind::kDispose ? &disposed : nullptr);
      if (!problem.empty()) return Failed(seq, problem);
    }
    return Status::OK();
  }

  // A message whose content is gone must have been disposed of, by a later entry (which is
  // checked in full when the scan reaches it, if it is within the journal verified).
  Status CheckMissingContent(uint64_t seq) {
    std::string lost = "message " + std::to_string(seq) +
                       ": its content is missing and no dispose entry accounts for it";
    uint64_t d = 0;
    Status s = journal_->FindDisposal(seq, &d);
    if (s.IsNotFound()) return Failed(seq, lost);
    if (!s.ok()) return s;
    Entry e;
    s = journal_->ReadEntry(d, &e);
    if (s.IsCorruption() || s.IsNotFound() || d <= seq || e.kind != EntryKind::kDispose ||
        e.dispose.message != seq) {
      return Failed(seq, lost + " (the disposal index names entry " + std::to_string(d) + ")");
    }
    return s;
  }

  // What can be checked of a dispose entry without the policy: it names an earlier message,
  // the only dispose entry for it, whose content is gone, with the message's retention, and
  // it came at or after the retain-until date. Sets *problem when not; fills *message.
  Status CheckDisposal(uint64_t seq, const DisposeEntry& d, MessageEntry* message,
                       std::string* problem) {
    std::string names = "message " + std::to_string(d.message);
    Status s = d.message < seq ? journal_->ReadMessage(d.message, message)
                               : Status::NotFound("not an earlier entry");
    if (s.IsNotFound() || s.IsCorruption()) {
      *problem = "names entry " + std::to_string(d.message) + ", which is not an earlier message";
      return Status::OK();
    }
    if (!s.ok()) return s;
    uint64_t recorded = 0;
    s = journal_->FindDisposal(d.message, &recorded);
    if (!s.ok() && !s.IsNotFound()) return s;
    if (!s.ok() || recorded != seq) {
      *problem = names + " is disposed of by another entry (" + std::to_string(recorded) + ")";
      return Status::OK();
    }
    s = journal_->ReadContent(message->content, [](std::string_view) { return Status::OK(); });
    if (s.ok() && message->content.chunks > 0) {
      *problem = names + "'s content is still stored";
      return Status::OK();
    }
    if (!s.ok() && !s.IsNotFound() && !s.IsCorruption()) return s;
    const Classification& c = message->classification;
    if (d.retention != c.retention || d.retain_until_us != c.retain_until_us) {
      *problem = "its retention (" + d.retention + ", " + FormatTimeUtc(d.retain_until_us) +
                 ") is not " + names + "'s (" + c.retention + ", " +
                 FormatTimeUtc(c.retain_until_us) + ")";
    } else if (d.time_us < c.retain_until_us) {
      *problem = "disposed of " + names + " at " + FormatTimeUtc(d.time_us) +
                 ", before its retain-until date " + FormatTimeUtc(c.retain_until_us);
    }
    return Status::OK();
  }

  Status Failed(uint64_t seq, const std::string& why) {
    Fail(seq, why);
    return Status::OK();
  }

  Journal* const journal_;
  const VerifyOptions& options_;
  VerifyReport* const report_;
  uint64_t last_ = 0;
  int64_t last_time_us_ = INT64_MIN;  // of the entry checked before
  const int64_t latest_time_us_ = NowMicros() + kClockTolerance;
  CompactRange range_;
  std::multimap<uint64_t, std::pair<Sha256Digest, std::string>> off_host_;  // size -> root, name
};

}  // namespace

Status VerifyJournal(Journal* journal, const VerifyOptions& options, VerifyReport* report) {
  return Verifier(journal, options, report).Run();
}

}  // namespace mailjournal
