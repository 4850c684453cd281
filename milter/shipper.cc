#include "shipper.h"

#include <syslog.h>

#include <algorithm>
#include <chrono>

#include "log.h"
#include "mailjournal/admin_protocol.h"
#include "mailjournal/sha256.h"
#include "mailjournal/time_util.h"
#include "ship_plan.h"

namespace mailjournal {

using nlohmann::json;

namespace {

// The segment's manifest: the latest retain-until of its messages (INT64_MIN: none) and
// whether it lists covering holds.
Status ReadManifest(const std::string& bytes, int64_t* retain_until_us, bool* held) {
  SegmentMembers members;
  Status s = UnpackSegment(bytes, &members);
  if (!s.ok()) return s;
  json m = json::parse(members.at(0).second, nullptr, false);
  if (!m.is_object()) return Status::Corruption("segment: manifest.json is not JSON");
  *retain_until_us = INT64_MIN;
  json until = m.value("retain_until", json());
  if (until.is_string()) {
    s = ParseTime(until.get<std::string>(), retain_until_us);
    if (!s.ok()) *retain_until_us = kLatestShipRetainUntilUs;  // beyond what dates can say
  }
  json holds = m.value("holds", json::array());
  *held = holds.is_array() && !holds.empty();
  return Status::OK();
}

}  // namespace

Shipper::Shipper(Journal* journal, ShipperOptions options)
    : journal_(journal), options_(std::move(options)), client_(options_.s3) {
  figures_.configured = true;
}

Shipper::~Shipper() { Stop(); }

int64_t Shipper::Now() const { return options_.clock ? options_.clock() : NowMicros(); }

Status Shipper::Start() {
  Status s = journal_->ScanKind(EntryKind::kShip, 0, false, [&](uint64_t, const Entry& e) {
    shipped_[e.ship.first] = e.ship;
    return true;
  });
  if (!s.ok())
    return Status::FromCode(s.code(), "shipping: reading the ship entries: " + s.message());
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [first, entry] : shipped_) {
    if (entry.last > figures_.shipped_through) {
      figures_.shipped_through = entry.last;
      figures_.last_ship_time_us = entry.time_us;
      last_object_ = entry.object;
    }
  }
  thread_ = std::thread(&Shipper::Run, this);
  return Status::OK();
}

void Shipper::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Shipper::Wake() {
  {
    std::lock_guard<std::mutex> l(mu_);
    woken_ = true;
  }
  cv_.notify_all();
}

void Shipper::Run() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stopping_) {
    woken_ = false;
    l.unlock();
    std::string kind;
    Status s = Pass(&kind);
    l.lock();
    if (s.ok()) {
      l.unlock();
      NoteSuccess();
      int64_t close_in_us = close_at_us_ == 0 ? 0 : std::max<int64_t>(close_at_us_ - Now(), 0);
      l.lock();
      auto woken = [this] { return stopping_ || woken_; };
      if (close_at_us_ == 0) {
        cv_.wait(l, woken);
      } else {
        cv_.wait_for(l, std::chrono::microseconds(close_in_us) + std::chrono::milliseconds(10),
                     woken);
      }
      continue;
    }
    ++failures_;
    int delay_s = ShipRetryDelaySeconds(failures_, kind == "s3_unavailable");
    l.unlock();
    NoteFailure(s, kind, Now() + delay_s * 1000000LL);
    l.lock();
    cv_.wait_for(l, std::chrono::seconds(delay_s), [this] { return stopping_; });
  }
}

std::string Shipper::S3FailureKind(const Status& s) {
  if (IsTransientS3Failure(s)) return "s3_unavailable";
  if (s.code() == Status::Code::kPermissionDenied) return "s3_refused";
  return "s3_other";
}

uint64_t Shipper::ShippedThrough() const {
  return shipped_.empty() ? 0 : shipped_.rbegin()->second.last;
}

Status Shipper::Pass(std::string* kind) {
  // The cut from the entry after the shipped ones: only the entries since are read.
  std::vector<SegmentRange> ranges;
  Status s = ListSegments(journal_, options_.cut, &ranges, ShippedThrough() + 1);
  if (!s.ok()) {
    *kind = "journal";
    return s;
  }
  uint64_t first = 0, last = 0;
  for (;;) {
    {
      std::lock_guard<std::mutex> l(mu_);
      if (stopping_) return Status::OK();
    }
    if (!NextShipRange(ranges, ShippedThrough(), &first, &last)) break;
    s = ShipRange(first, last, kind);
    if (!s.ok()) return s;
  }
  s = SyncLegalHolds(kind);
  if (!s.ok()) return s;
  *kind = "journal";
  return CloseIdleSegment();
}

Status Shipper::CloseIdleSegment() {
  close_at_us_ = 0;
  uint64_t first = ShippedThrough() + 1, last = journal_->LastSequence();
  if (!options_.request_checkpoint || first > last) return Status::OK();
  Entry entry;
  Status s = journal_->ReadEntry(first, &entry);
  if (!s.ok()) return s;
  int64_t due_us = entry.time_us() + options_.cut.max_age_us;
  bool more_than_checkpoints = entry.kind != EntryKind::kCheckpoint;
  for (uint64_t seq = first + 1; seq <= last && !more_than_checkpoints; ++seq) {
    s = journal_->ReadEntry(seq, &entry);
    if (!s.ok()) return s;
    more_than_checkpoints = entry.kind != EntryKind::kCheckpoint;
  }
  if (!more_than_checkpoints) return Status::OK();
  if (Now() < due_us) {
    close_at_us_ = due_us;
  } else if (close_requested_for_ != first) {
    close_requested_for_ = first;
    options_.request_checkpoint();
  }
  return Status::OK();
}

Status Shipper::ShipRange(uint64_t first, uint64_t last, std::string* kind) {
  *kind = "journal";
  CoveringHoldsFn holds = options_.holds ? options_.holds() : nullptr;
  std::string bytes;
  Status s = WriteSegment(journal_, first, last, holds, &bytes);
  int64_t messages_until = INT64_MIN;
  bool held = false;
  if (s.ok()) s = ReadManifest(bytes, &messages_until, &held);
  if (!s.ok()) {
    return Status::FromCode(s.code(), "shipping entries " + std::to_string(first) + "-" +
                                          std::to_string(last) + ": " + s.message());
  }
  int64_t previous_until = shipped_.empty() ? 0 : shipped_.rbegin()->second.retain_until_us;
  S3PutOptions put;
  put.lock_mode = S3LockMode::kCompliance;
  put.retain_until_us = ShipRetainUntil(messages_until, previous_until, Now());
  put.legal_hold = held;
  std::string object = SegmentObjectName(options_.prefix, first, last);
  S3PutResult result;
  S3ObjectInfo info;
  s = client_.PutObject(object, bytes, put, &result);
  if (s.ok()) s = client_.HeadObject(object, result.version_id, &info);
  if (!s.ok()) {
    *kind = S3FailureKind(s);
    return s;
  }
  if (info.size != bytes.size() || info.lock_mode != S3LockMode::kCompliance ||
      info.retain_until_us < put.retain_until_us || info.legal_hold != held) {
    *kind = "s3_other";
    return Status::IOError("shipping " + object + ": the stored version " + result.version_id +
                           " is not as uploaded (size " + std::to_string(info.size) + ", mode " +
                           S3LockModeName(info.lock_mode) + ", retain-until " +
                           FormatTimeUtc(info.retain_until_us) + ", legal hold " +
                           (info.legal_hold ? "on" : "off") + ")");
  }
  ShipEntry e;
  e.action = ShipAction::kUpload;
  e.object = object;
  e.version_id = result.version_id;
  e.size = bytes.size();
  e.sha256 = Sha256::Of(bytes);
  e.first = first;
  e.last = last;
  e.retain_until_us = put.retain_until_us;
  e.legal_hold = held;
  *kind = "journal";
  return AppendShipEntry(std::move(e));
}

Status Shipper::AppendShipEntry(ShipEntry ship) {
  std::vector<Entry> entries(1);
  entries[0].kind = EntryKind::kShip;
  entries[0].ship = std::move(ship);
  uint64_t seq = 0;
  Status s = journal_->AppendEntries(&entries, &seq);
  if (!s.ok()) return Status::FromCode(s.code(), "shipping: the ship entry: " + s.message());
  const ShipEntry& e = entries[0].ship;
  Log(LOG_INFO,
      "shipped: seq=%llu action=%s object=%s version=%s entries=%llu-%llu "
      "retain_until=%s legal_hold=%s",
      static_cast<unsigned long long>(seq), ShipActionName(e.action), e.object.c_str(),
      e.version_id.c_str(), static_cast<unsigned long long>(e.first),
      static_cast<unsigned long long>(e.last), FormatTimeUtc(e.retain_until_us).c_str(),
      e.legal_hold ? "on" : "off");
  bool upload = e.action == ShipAction::kUpload;
  shipped_[e.first] = e;
  if (upload) {
    std::lock_guard<std::mutex> l(mu_);
    figures_.shipped_through = std::max(figures_.shipped_through, e.last);
    figures_.last_ship_time_us = e.time_us;
    last_object_ = e.object;
  }
  return Status::OK();
}

uint64_t Shipper::NewestHoldChange() {
  uint64_t newest = 0;
  for (EntryKind k : {EntryKind::kHold, EntryKind::kRelease, EntryKind::kPolicy}) {
    journal_->ScanKind(k, 0, true, [&](uint64_t seq, const Entry&) {
      newest = std::max(newest, seq);
      return false;
    });
  }
  return newest;
}

Status Shipper::SegmentCovered(const CoveringHoldsFn& holds, uint64_t first, uint64_t last,
                               bool* on) {
  *on = false;
  return journal_->Scan(first, false, [&](uint64_t seq, const Entry& e) {
    if (seq > last) return false;
    if (e.kind == EntryKind::kMessage && !holds(seq, e.message).empty()) *on = true;
    return !*on;
  });
}

Status Shipper::SyncLegalHolds(std::string* kind) {
  uint64_t newest = NewestHoldChange();
  if (newest == holds_synced_at_ || shipped_.empty()) {
    holds_synced_at_ = newest;
    return Status::OK();
  }
  CoveringHoldsFn holds = options_.holds ? options_.holds() : nullptr;
  if (!holds) return Status::OK();  // holds unknown: leave the legal holds as they are
  for (const auto& [first, shipped] : shipped_) {
    bool on = false;
    *kind = "journal";
    Status s = SegmentCovered(holds, shipped.first, shipped.last, &on);
    if (!s.ok()) return s;
    if (on == shipped.legal_hold) continue;
    s = client_.PutObjectLegalHold(shipped.object, shipped.version_id, on);
    if (!s.ok()) {
      *kind = S3FailureKind(s);
      return s;
    }
    ShipEntry change = shipped;
    change.action = ShipAction::kLegalHold;
    change.legal_hold = on;
    *kind = "journal";
    s = AppendShipEntry(std::move(change));
    if (!s.ok()) return s;
  }
  holds_synced_at_ = newest;
  return Status::OK();
}

void Shipper::NoteFailure(const Status& s, const std::string& kind, int64_t retry_at_us) {
  // The request id and timings differ from one attempt to the next: compare what failed.
  const S3Error& e = client_.last_error();
  std::string key =
      kind + " " + (kind == "journal" ? s.message() : std::to_string(e.http_status) + " " + e.code);
  if (key != last_logged_error_) {
    Log(LOG_ERR, "shipping failed (%s), retrying with backoff: %s", kind.c_str(),
        s.message().c_str());
    last_logged_error_ = key;
  }
  std::lock_guard<std::mutex> l(mu_);
  ++figures_.errors[kind];
  figures_.last_error = s.message();
  figures_.last_error_time_us = Now();
  next_retry_us_ = retry_at_us;
}

void Shipper::NoteSuccess() {
  if (!last_logged_error_.empty()) {
    Log(LOG_INFO, "shipping resumed: entries up to %llu shipped",
        static_cast<unsigned long long>(ShippedThrough()));
    last_logged_error_.clear();
  }
  failures_ = 0;
  std::lock_guard<std::mutex> l(mu_);
  next_retry_us_ = 0;
  figures_.last_error.clear();
}

ShippingFigures Shipper::Figures() const {
  std::lock_guard<std::mutex> l(mu_);
  ShippingFigures f = figures_;
  uint64_t last = journal_->LastSequence();
  f.backlog_entries = last > f.shipped_through ? last - f.shipped_through : 0;
  return f;
}

json Shipper::StatusJson() const {
  ShippingFigures f = Figures();
  std::string object;
  int64_t retry = 0;
  {
    std::lock_guard<std::mutex> l(mu_);
    object = last_object_;
    retry = next_retry_us_;
  }
  json out = {{"bucket", options_.s3.bucket},
              {"prefix", options_.prefix},
              {"shipped_through", f.shipped_through},
              {"last_object", object.empty() ? json() : json(object)},
              {"last_ship_time",
               f.last_ship_time_us == 0 ? json() : json(FormatTimeUtc(f.last_ship_time_us))},
              {"backlog_entries", f.backlog_entries},
              {"errors", f.errors},
              {"last_error", f.last_error.empty() ? json() : json(f.last_error)},
              {"last_error_time",
               f.last_error.empty() ? json() : json(FormatTimeUtc(f.last_error_time_us))},
              {"next_retry", retry == 0 ? json() : json(FormatTimeUtc(retry))}};
  return out;
}

}  // namespace mailjournal
