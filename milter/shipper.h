// Shipper: ships the journal's sealed segments to the S3 Object Lock bucket
// (mailjournald(8), SHIPPING TO S3) on its own thread, so that mail never waits for S3.
//
// Each pass: finds the next unshipped segment (ListSegments with the configured cut, from
// the entry after the last one shipped, so a pass reads only the entries since; what was
// shipped is read from the journal's ship entries once, at Start, then kept in memory),
// writes it (WriteSegment), uploads it under SegmentObjectName(prefix, first, last) in
// COMPLIANCE mode with the retain-until date of ShipRetainUntil (ship_plan.h) and a legal
// hold when its manifest lists holds covering its messages, confirms the upload
// (HeadObject: size, mode, date, legal hold) and appends a ship entry (synced), and so on
// until no complete, checkpointed segment is left. Then, when a hold was placed or
// released (or the policy reloaded) since the last look, it sets or removes the legal hold
// of every shipped object whose coverage changed (PutObjectLegalHold) and records each
// change with a ship entry (action legal_hold).
//
// No journal lock is held across a network request; the journal is only read, and written
// with AppendEntries as any admin operation does. A pass runs at Start, on Wake() (after
// each checkpoint) and after a failure's retry delay (ShipRetryDelaySeconds: 1 s doubling
// to 5 min for transient failures, 5 min for others); a Wake() does not cut a retry delay
// short. Each distinct failure is logged once (LOG_ERR), and "shipping resumed" when a pass
// succeeds again.
//
// An idle journal: a segment is complete only once an entry follows it and a checkpoint
// covers it, and a quiet MTA may append nothing for hours. So when the entries after the
// shipped ones hold more than checkpoint entries and the first of them is
// cut.max_age_us old, the shipper asks for a checkpoint (request_checkpoint): committed
// that late, it starts the next segment by the cut's age rule and covers the one before,
// which is then shipped. A segment is thus shipped at most about max_age_us plus a
// checkpoint interval after its first entry, traffic or not.
//
// A crash between an upload and its ship entry loses nothing: the segment is shipped again
// after the restart as a new version of the same object (the same bytes, unless a legal
// hold changed in between); the earlier version stays locked beside it.
//
// Thread-safety: Start, Stop are called by one thread; Wake, Figures and StatusJson by any.
#ifndef MAILJOURNAL_MILTER_SHIPPER_H_
#define MAILJOURNAL_MILTER_SHIPPER_H_

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "mailjournal/journal.h"
#include "mailjournal/s3_client.h"
#include "mailjournal/segment.h"
#include "metrics.h"

namespace mailjournal {

struct ShipperOptions {
  S3Config s3;         // REQUIRES: ValidateS3Config(s3).ok()
  std::string prefix;  // this MTA's prefix in the bucket (ShippingPrefix)
  SegmentCut cut;
  // Makes the covering-holds function for a segment (SegmentHoldsFactory); null, or a
  // factory returning null: holds unknown (no legal holds are set).
  std::function<CoveringHoldsFn()> holds;
  std::function<int64_t()> clock;  // null: NowMicros()
  // Asks for a checkpoint that covers the journal's last entry even when that is the last
  // checkpoint's own entry (Checkpointer::RequestCheckpoint); null: idle segments are not
  // closed. Must not block.
  std::function<void()> request_checkpoint;
};

class Shipper {
 public:
  // REQUIRES: journal outlives the shipper.
  Shipper(Journal* journal, ShipperOptions options);
  ~Shipper();
  Shipper(const Shipper&) = delete;
  Shipper& operator=(const Shipper&) = delete;

  // Reads the journal's ship entries (what is shipped), then starts the thread. An error
  // reading them is returned and nothing is started.
  Status Start();
  // Stops the thread after the request in flight (S3Config's timeouts bound it).
  // Idempotent.
  void Stop();
  // Asks for a pass (after a checkpoint, or a hold placed or released).
  void Wake();

  // For metrics and status (metrics.h ShippingFigures).
  ShippingFigures Figures() const;
  // The "shipping" member of the status response (mailjournal(8), status).
  nlohmann::json StatusJson() const;

 private:
  // One pass; the first failure ends it and sets *kind to what failed: "s3_unavailable"
  // (transient), "s3_refused" (HTTP 403), "s3_other" or "journal" (reading the journal,
  // writing the segment or appending the ship entry).
  Status Pass(std::string* kind);
  Status ShipRange(uint64_t first, uint64_t last, std::string* kind);
  Status SyncLegalHolds(std::string* kind);
  // The idle rule above: asks for the closing checkpoint when it is due, else sets
  // close_at_us_ to when it will be (0: nothing to close).
  Status CloseIdleSegment();
  // Entries 1..ShippedThrough() are shipped (by the thread's own record).
  uint64_t ShippedThrough() const;
  // The failure kind of an S3 request's status.
  static std::string S3FailureKind(const Status& s);
  Status AppendShipEntry(ShipEntry entry);
  // Whether a hold in force covers a message of entries first..last.
  Status SegmentCovered(const CoveringHoldsFn& holds, uint64_t first, uint64_t last, bool* on);
  // The newest hold, release or policy entry (0: none).
  uint64_t NewestHoldChange();
  void NoteFailure(const Status& s, const std::string& kind, int64_t retry_at_us);
  void NoteSuccess();
  void Run();
  int64_t Now() const;

  Journal* const journal_;
  const ShipperOptions options_;
  S3Client client_;  // used by the thread only (after Start)

  // Used by the thread only (and by Start before it exists).
  std::map<uint64_t, ShipEntry> shipped_;  // by first seq: each object's newest state
  uint64_t holds_synced_at_ = 0;           // NewestHoldChange() at the last SyncLegalHolds
  std::string last_logged_error_;          // "" : none since the last success
  int failures_ = 0;                       // in a row
  int64_t close_at_us_ = 0;                // when CloseIdleSegment is next due; 0: not
  uint64_t close_requested_for_ = 0;       // the first unshipped entry it was asked for

  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false, woken_ = false;  // GUARDED_BY(mu_)
  ShippingFigures figures_;                // GUARDED_BY(mu_)
  std::string last_object_;                // GUARDED_BY(mu_)
  int64_t next_retry_us_ = 0;              // GUARDED_BY(mu_); 0: none pending
  std::thread thread_;
};

}  // namespace mailjournal

#endif  // MAILJOURNAL_MILTER_SHIPPER_H_
