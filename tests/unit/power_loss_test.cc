// Crash consistency of the LevelDB journal (issue 6), under a fault-injecting leveldb::Env
// (fault_env.h): power lost at chosen points while threads commit, failing writes and
// syncs, a slow disk. After the journal is reopened on a plain Env, every entry that was
// reported committed is there with its content, sequence numbers are dense, no staged
// chunk is left and the journal verifies.
#include <boost/test/unit_test.hpp>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <vector>

#include "fault_env.h"
#include "leveldb_journal.h"
#include "mailjournal/message_writer.h"
#include "mailjournal/verify.h"
#include "test_util.h"

namespace mailjournal {
namespace {

using Clock = std::chrono::steady_clock;

int64_t NowUs() {
  return std::chrono::duration_cast<std::chrono::microseconds>(Clock::now().time_since_epoch())
      .count();
}

Status OpenOn(const std::string& dir, FaultEnv* env, std::unique_ptr<Journal>* journal) {
  JournalOptions options;
  options.dir = dir;
  return OpenLevelDbJournal(options, env, journal);
}

// Message bytes: mostly small, some of several chunks, some exactly a number of chunks.
std::string RandomContent(std::mt19937_64* rng, bool big) {
  size_t size;
  switch ((*rng)() % 8) {
    case 0:
    case 1:
    case 2:
    case 3:
      size = 1 + (*rng)() % 3000;
      break;
    case 4:
      size = (1 + (*rng)() % 3) * kMaxChunkSize;
      break;
    default:
      size = kMaxChunkSize + (*rng)() % (2 * kMaxChunkSize);
  }
  if (big) size += 2 * kMaxChunkSize;
  std::string s(size, '\0');
  for (size_t i = 0; i < size; i += 8) {
    uint64_t v = (*rng)();
    for (size_t k = 0; k < 8 && i + k < size; ++k) s[i + k] = static_cast<char>(v >> (8 * k));
  }
  return s;
}

// Commits a message (as CommitBytes does) and returns the error instead of failing the
// test; for worker threads (Boost.Test's assertions are not thread-safe).
Status TryCommit(Journal* journal, const std::string& bytes, const std::string& from,
                 uint64_t* seq) {
  MessageWriter w(journal);
  Status s = w.Append(bytes);
  if (!s.ok()) return s;
  return w.Commit(TestMessage(SimpleEnvelope(from)), nullptr, seq, nullptr);
}

// What the journal said: the messages it reported committed, by sequence number, and the
// senders of those it reported failed.
struct Reported {
  struct Message {
    std::string from;
    std::string bytes;
  };
  std::mutex mu;
  std::map<uint64_t, Message> committed;
  std::set<std::string> failed;
  // Returns false when seq was already reported for another message.
  bool Add(const Status& s, uint64_t seq, const std::string& from, const std::string& bytes) {
    std::lock_guard<std::mutex> l(mu);
    if (!s.ok()) {
      failed.insert("<" + from + ">");
      return true;
    }
    return committed.emplace(seq, Message{from, bytes}).second;
  }
};

// Checks an open journal against what it reported: every committed message is there with
// its envelope and bytes, entries are dense from 1 and decode, the journal verifies.
// `exact`: and no message it reported failed is there. Returns the number of content
// chunks its entries refer to.
uint64_t CheckJournal(Journal* j, const Reported& r, bool exact) {
  uint64_t last = j->LastSequence();
  if (!r.committed.empty()) BOOST_TEST(last >= r.committed.rbegin()->first);
  for (const auto& [seq, m] : r.committed) {
    MessageEntry e;
    Status s = j->ReadMessage(seq, &e);
    BOOST_TEST_REQUIRE(s.ok(), "entry " << seq << ", reported committed: " << s.ToString());
    BOOST_TEST(e.envelope.mail.at(0) == "<" + m.from + ">", "entry " << seq << " sender");
    std::string content;
    s = j->ReadContent(e.content, [&](std::string_view b) {
      content.append(b);
      return Status::OK();
    });
    BOOST_TEST(s.ok(), "content of entry " << seq << ": " << s.ToString());
    BOOST_TEST((content == m.bytes), "content of entry " << seq << " differs");
  }
  uint64_t scanned = 0, chunks = 0, reappeared = 0;
  Status s = j->Scan(1, false, [&](uint64_t, const Entry& e) {
    ++scanned;
    chunks += e.message.content.chunks;
    if (!e.message.envelope.mail.empty() && r.failed.count(e.message.envelope.mail[0])) {
      ++reappeared;
    }
    return true;
  });
  BOOST_TEST(s.ok(), "scan: " << s.ToString());
  BOOST_TEST(scanned == last, "entries 1.." << last << " are dense");
  if (exact) {
    BOOST_TEST(last == r.committed.size(), "only the reported commits are in the journal");
    BOOST_TEST(reappeared == 0u, "messages whose commit failed are in the journal");
  }
  VerifyReport report;
  s = VerifyJournal(j, VerifyOptions(), &report);
  BOOST_TEST(s.ok(), "verify: " << s.ToString());
  BOOST_TEST(report.intact, "verify: entry " << report.first_bad_seq << ": " << report.problem);
  BOOST_TEST(report.entries == last);
  return chunks;
}

// Reopens the closed journal on LevelDB's own Env and checks it; then, closed again, that
// no staged chunk is left.
void CheckAfterReopen(const std::string& dir, const Reported& r, bool exact) {
  uint64_t chunks;
  {
    auto j = OpenTestJournal(dir);
    chunks = CheckJournal(j.get(), r, exact);
  }
  BOOST_TEST(CountKeys(dir, 'p') == 0, "no transaction is left pending");
  BOOST_TEST(CountKeys(dir, 'c') == static_cast<int>(chunks), "no staged chunk is left");
}

// How many messages whose commit failed are in the (closed) journal after all.
uint64_t CountReappeared(const std::string& dir, const Reported& r) {
  auto j = OpenTestJournal(dir);
  uint64_t n = 0;
  Status s = j->Scan(1, false, [&](uint64_t, const Entry& e) {
    if (!e.message.envelope.mail.empty() && r.failed.count(e.message.envelope.mail[0])) ++n;
    return true;
  });
  BOOST_TEST(s.ok(), s.ToString());
  return n;
}

// Starts `threads` threads that each commit up to `per_thread` messages (continuing after
// errors) until `stop`; each message has a unique sender.
class Committers {
 public:
  Committers(Journal* journal, Reported* reported, int threads, int per_thread, uint64_t seed,
             bool big)
      : left_(threads) {
    for (int t = 0; t < threads; ++t) {
      threads_.emplace_back([this, journal, reported, per_thread, seed, big, t] {
        std::mt19937_64 rng(seed * 1000 + t);
        for (int i = 0; i < per_thread && !stop_.load(); ++i) {
          std::string from = "s" + std::to_string(seed) + "t" + std::to_string(t) + "m" +
                             std::to_string(i) + "@example.org";
          std::string bytes = RandomContent(&rng, big);
          uint64_t seq = 0;
          Status s = TryCommit(journal, bytes, from, &seq);
          if (!reported->Add(s, seq, from, bytes)) duplicate_.store(true);
          if (!s.ok()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
        std::lock_guard<std::mutex> l(mu_);
        --left_;
        cv_.notify_all();
      });
    }
  }
  ~Committers() { Join(); }

  // Waits until every thread is done or `until` returns true (checked every millisecond).
  template <typename Pred>
  void WaitUntil(Pred until) {
    std::unique_lock<std::mutex> l(mu_);
    while (left_ > 0 && !until()) cv_.wait_for(l, std::chrono::milliseconds(1));
  }
  void Join() {
    stop_.store(true);
    for (auto& t : threads_) t.join();
    threads_.clear();
  }
  // A sequence number was reported for two messages.
  bool duplicate() const { return duplicate_.load(); }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<bool> duplicate_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  int left_;
  std::vector<std::thread> threads_;
};

// What the seeded runs covered, for the test log.
struct Coverage {
  int sessions = 0, cuts_in_open = 0, cuts_while_committing = 0, injected = 0, switches = 0;
  uint64_t committed = 0, failed = 0, reappeared = 0;
};

// One seed: a few sessions on one journal, each opened on a FaultEnv that cuts the power
// at a chosen write or sync (in the open's recovery, or while three threads commit), and
// may first make one chosen sync, or write of a table or MANIFEST, fail; then the unsynced
// data is lost (odd seeds: only a random part of it, a torn tail). Finally the journal is
// reopened on a plain Env and checked against everything that was reported. (A failed
// write of the log is a_failed_log_write_...'s case.)
void RunPowerLossSeed(uint64_t seed, Coverage* coverage) {
  std::mt19937_64 rng(seed);
  TempDir dir;
  Reported reported;
  const bool torn = seed % 2 == 1;
  bool exact = !torn;   // and no injected failure: the journal holds the reported, no more
  std::string history;  // each session's faults and losses, for failure messages
  constexpr int kSessions = 3;
  for (int session = 0; session < kSessions; ++session) {
    FaultEnv env;
    // Points are counted in writes and syncs; the open of a journal takes about 10 to 25,
    // a small message 3, a large one a few more per chunk.
    // Big sessions commit about 8 MB (messages 2 chunks larger): the 4 MB memtable is
    // switched to a new log and written to a table while the threads commit.
    bool big = rng() % 3 == 0;
    bool in_open = session > 0 && rng() % 4 == 0;
    uint64_t cut = in_open ? 1 + rng() % 20 : 1 + rng() % (big ? 1500 : 400);
    int64_t latency_us = rng() % 3 == 0 ? 1000 + rng() % 4000 : 0;
    std::string fault = "none";
    if (rng() % 2 == 0) {
      FaultEnv::Op op;
      FaultEnv::FileKind kind;
      uint64_t at;
      switch (rng() % 4) {
        case 0:
          op = FaultEnv::Op::kSync, kind = FaultEnv::FileKind::kLog, at = 1 + rng() % 40;
          fault = "sync " + std::to_string(at) + " of a log";
          break;
        case 1:
          op = FaultEnv::Op::kSync, kind = FaultEnv::FileKind::kAny, at = 1 + rng() % 40;
          fault = "sync " + std::to_string(at);
          break;
        case 2:
          op = FaultEnv::Op::kWrite, kind = FaultEnv::FileKind::kTable, at = 1 + rng() % 60;
          fault = "write " + std::to_string(at) + " of a table";
          break;
        default:
          op = FaultEnv::Op::kWrite, kind = FaultEnv::FileKind::kManifest, at = 1 + rng() % 3;
          fault = "write " + std::to_string(at) + " of a MANIFEST";
      }
      env.FailAt(op, at, kind);
    }
    env.SetSyncLatencyMicros(latency_us);
    env.CutPowerAt(cut);
    ++coverage->sessions;
    std::ostringstream what;
    what << "session " << session << ": power cut at op " << cut << ", failure at " << fault
         << ", torn " << torn << ", big " << big << ", sync latency " << latency_us << " us";
    BOOST_TEST_CONTEXT("seed " << seed << "; " << history << what.str()) {
      std::unique_ptr<Journal> j;
      Status s = OpenOn(dir.path(), &env, &j);
      if (s.ok()) {
        // What the previous sessions reported survived their power loss.
        CheckJournal(j.get(), reported, false);
        uint64_t logs = env.created(FaultEnv::FileKind::kLog);
        Committers committers(j.get(), &reported, 3, big ? 14 : 16, seed * 10 + session, big);
        committers.WaitUntil([&] { return env.power_cut(); });
        if (env.power_cut()) ++coverage->cuts_while_committing;
        if (env.created(FaultEnv::FileKind::kLog) > logs) ++coverage->switches;
        committers.Join();
        BOOST_TEST(!committers.duplicate(), "a sequence number was reported twice");
        j.reset();
      } else {
        // Only the faults made it fail (the next session opens it again).
        BOOST_TEST_REQUIRE((env.power_cut() || env.injected_failures() > 0),
                           "open failed without a fault: " << s.ToString());
        if (env.power_cut()) ++coverage->cuts_in_open;
      }
      env.CutPower();
      if (env.injected_failures() > 0) {
        exact = false;
        coverage->injected += env.injected_failures();
      }
      leveldb::Status ls = env.DropUnsyncedData(torn ? rng() | 1 : 0);
      BOOST_TEST_REQUIRE(ls.ok(), ls.ToString());
      history += what.str() + " (" + std::to_string(env.ops()) + " ops, " +
                 std::to_string(env.injected_failures()) +
                 " failures injected; lost:" + env.drop_report() + "); ";
    }
  }
  BOOST_TEST_CONTEXT("seed " << seed << "; " << history << "reopened") {
    CheckAfterReopen(dir.path(), reported, exact);
  }
  coverage->committed += reported.committed.size();
  coverage->failed += reported.failed.size();
  coverage->reappeared += CountReappeared(dir.path(), reported);
}

BOOST_AUTO_TEST_SUITE(power_loss)

BOOST_AUTO_TEST_CASE(every_reported_commit_survives_power_loss_at_chosen_points) {
  Coverage c;
  for (uint64_t seed = 1; seed <= 24; ++seed) RunPowerLossSeed(seed, &c);
  BOOST_TEST_MESSAGE(
      c.sessions << " sessions: power cut " << c.cuts_in_open << " times in the open, "
                 << c.cuts_while_committing << " times while committing (" << c.switches
                 << " sessions switched memtables); " << c.injected << " injected failures; "
                 << c.committed << " commits reported, " << c.failed << " failed, of which "
                 << c.reappeared << " are in the journal after all");
}

// The threads of a group: each begins its transaction and stages its chunks, then all
// commit at once.
struct Round {
  std::vector<Status> status;
  std::vector<uint64_t> seq;
  std::vector<int64_t> start_us, end_us;
};

Round CommitTogether(Journal* j, Reported* reported, int n, const std::string& tag, uint64_t seed) {
  Round round;
  round.status.resize(n);
  round.seq.assign(n, 0);
  round.start_us.resize(n);
  round.end_us.resize(n);
  std::mutex mu;
  std::condition_variable cv;
  int ready = 0;
  std::vector<std::thread> threads;
  for (int t = 0; t < n; ++t) {
    threads.emplace_back([&, t] {
      std::mt19937_64 rng(seed + t);
      std::string from = tag + std::to_string(t) + "@example.org";
      std::string bytes = RandomContent(&rng, false);
      MessageWriter w(j);
      Status s = w.Append(bytes);
      {
        std::unique_lock<std::mutex> l(mu);
        ++ready;
        cv.notify_all();
        cv.wait(l, [&] { return ready == n; });
      }
      round.start_us[t] = NowUs();
      if (s.ok()) s = w.Commit(TestMessage(SimpleEnvelope(from)), nullptr, &round.seq[t], nullptr);
      round.end_us[t] = NowUs();
      round.status[t] = s;
      reported->Add(s, round.seq[t], from, bytes);
    });
  }
  for (auto& t : threads) t.join();
  return round;
}

BOOST_AUTO_TEST_CASE(a_failed_sync_fails_its_group_and_the_journal_recovers_by_itself) {
  TempDir dir;
  Reported reported;
  {
    FaultEnv env;
    std::unique_ptr<Journal> j;
    BOOST_REQUIRE(OpenOn(dir.path(), &env, &j).ok());
    std::mt19937_64 rng(7);
    for (int i = 0; i < 3; ++i) {
      std::string from = "before" + std::to_string(i) + "@example.org",
                  bytes = RandomContent(&rng, false);
      uint64_t seq = 0;
      Status s = TryCommit(j.get(), bytes, from, &seq);
      BOOST_REQUIRE_MESSAGE(s.ok(), s.ToString());
      reported.Add(s, seq, from, bytes);
    }

    // The next sync of the log fails: the commits waiting for it, and those behind them,
    // fail and take no sequence number.
    env.FailAt(FaultEnv::Op::kSync, 1, FaultEnv::FileKind::kLog);
    Round round = CommitTogether(j.get(), &reported, 6, "failed", 100);
    BOOST_TEST(env.injected_failures() == 1u);
    for (int t = 0; t < 6; ++t) {
      BOOST_TEST(!round.status[t].ok(), "commit " << t << " of the failed group");
      BOOST_TEST(round.seq[t] == 0u);
    }
    BOOST_TEST(j->LastSequence() == 3u);

    // The next transaction reopens the database; commits succeed again.
    for (int i = 0; i < 4; ++i) {
      std::string from = "after" + std::to_string(i) + "@example.org",
                  bytes = RandomContent(&rng, false);
      uint64_t seq = 0;
      Status s = TryCommit(j.get(), bytes, from, &seq);
      BOOST_TEST_REQUIRE(s.ok(), "commit " << i << " after the failure: " << s.ToString());
      BOOST_TEST(reported.Add(s, seq, from, bytes));
    }
    Round later = CommitTogether(j.get(), &reported, 4, "later", 200);
    for (int t = 0; t < 4; ++t) BOOST_TEST(later.status[t].ok(), later.status[t].ToString());
    BOOST_TEST_CONTEXT("after recovering from the failed sync") {
      CheckJournal(j.get(), reported, false);
    }
    j.reset();
    env.CutPower();
    BOOST_REQUIRE(env.DropUnsyncedData().ok());
  }
  BOOST_TEST_CONTEXT("after the failed sync and a power loss") {
    CheckAfterReopen(dir.path(), reported, false);
  }
  // journal.h promises that nothing of a failed commit is in the journal; after a failed
  // sync LevelDB's log may still hold the group's record, which the reopening replays. Not
  // an error here (the data is intact and verifies, it is a duplicate at worst), but shown.
  uint64_t reappeared = CountReappeared(dir.path(), reported);
  BOOST_WARN_MESSAGE(reappeared == 0u, reappeared << " of the " << reported.failed.size()
                                                  << " commits that failed with the sync are in "
                                                     "the journal after all");
}

BOOST_AUTO_TEST_CASE(a_failed_log_write_fails_its_commit_and_the_journal_recovers_by_itself) {
  TempDir dir;
  Reported reported;
  {
    FaultEnv env;
    std::unique_ptr<Journal> j;
    BOOST_REQUIRE(OpenOn(dir.path(), &env, &j).ok());
    std::mt19937_64 rng(11);
    uint64_t seq = 0;
    std::string bytes = RandomContent(&rng, false);
    Status first = TryCommit(j.get(), bytes, "first@example.org", &seq);  // sets seq first
    BOOST_REQUIRE(reported.Add(first, seq, "first@example.org", bytes));
    BOOST_REQUIRE(reported.committed.size() == 1u);

    // A transaction begun before the failure stages a chunk after it, as a message that is
    // still arriving does.
    MessageWriter other(j.get());
    env.FailAt(FaultEnv::Op::kWrite, 1, FaultEnv::FileKind::kLog);
    bytes = RandomContent(&rng, false);
    Status s = TryCommit(j.get(), bytes, "failed@example.org", &seq);
    BOOST_TEST(!s.ok());
    reported.Add(s, 0, "failed@example.org", bytes);
    BOOST_TEST(env.injected_failures() == 1u);
    std::string other_bytes(3 * kMaxChunkSize, 'x');
    Status os = other.Append(other_bytes);
    if (os.ok()) {
      uint64_t other_seq = 0;
      os = other.Commit(TestMessage(SimpleEnvelope("other@example.org")), nullptr, &other_seq,
                        nullptr);
      reported.Add(os, other_seq, "other@example.org", other_bytes);
    }
    BOOST_TEST_MESSAGE("the transaction begun before the failed write: " << os.ToString());

    // The next transaction reopens the database; commits succeed again.
    for (int i = 0; i < 3; ++i) {
      std::string from = "after" + std::to_string(i) + "@example.org";
      bytes = RandomContent(&rng, false);
      s = TryCommit(j.get(), bytes, from, &seq);
      BOOST_TEST_REQUIRE(s.ok(), "commit " << i << " after the failure: " << s.ToString());
      reported.Add(s, seq, from, bytes);
    }
    BOOST_TEST_CONTEXT("after recovering from the failed write") {
      CheckJournal(j.get(), reported, true);
    }
    j.reset();
    env.CutPower();
    BOOST_REQUIRE(env.DropUnsyncedData().ok());
  }
  BOOST_TEST_CONTEXT("after the failed write and a power loss") {
    CheckAfterReopen(dir.path(), reported, true);
  }
}

// A message's chunks staged (unsynced) in one log, its commit synced in the next: LevelDB
// switches logs when its memtable is full and only closes the old one, whose memtable is
// written to a table in the background. The power is lost after the commit returned and
// before that table is synced (its sync is made slow here).
BOOST_AUTO_TEST_CASE(chunks_staged_before_a_log_switch_survive_power_loss_after_the_commit) {
  TempDir dir;
  std::string bytes(2 * kMaxChunkSize + 100, 'm');
  uint64_t seq = 0;
  {
    FaultEnv env;
    std::unique_ptr<Journal> j;
    BOOST_REQUIRE(OpenOn(dir.path(), &env, &j).ok());
    MessageWriter message(j.get());
    BOOST_REQUIRE(message.Append(bytes).ok());  // chunks 0 and 1 staged in the first log
    env.SetSyncLatencyMicros(500000, FaultEnv::FileKind::kTable);
    {
      // Another message fills the memtable until LevelDB switches to a new log.
      MessageWriter filler(j.get());
      std::mt19937_64 rng(3);
      for (int i = 0; i < 1000 && env.created(FaultEnv::FileKind::kLog) < 2; ++i) {
        BOOST_REQUIRE(filler.Append(RandomContent(&rng, true).substr(0, kMaxChunkSize)).ok());
      }
      BOOST_REQUIRE(env.created(FaultEnv::FileKind::kLog) == 2u);
      filler.Abandon();
    }
    BOOST_REQUIRE(
        message.Commit(TestMessage(SimpleEnvelope("m@example.org")), nullptr, &seq, nullptr).ok());
    env.CutPower();  // the old memtable's table is still being synced
    BOOST_TEST(env.syncs(FaultEnv::FileKind::kTable) == 0u);
    j.reset();
    BOOST_REQUIRE(env.DropUnsyncedData().ok());
    BOOST_TEST_MESSAGE("lost:" << env.drop_report());
  }
  auto j = OpenTestJournal(dir.path());
  BOOST_REQUIRE(j->LastSequence() == seq);
  std::string content;
  MessageEntry e;
  BOOST_REQUIRE(j->ReadMessage(seq, &e).ok());
  Status s = j->ReadContent(e.content, [&](std::string_view b) {
    content.append(b);
    return Status::OK();
  });
  BOOST_TEST(s.ok(), "the committed message's content: " << s.ToString());
  BOOST_TEST((content == bytes));
  VerifyReport report;
  BOOST_REQUIRE(VerifyJournal(j.get(), VerifyOptions(), &report).ok());
  BOOST_TEST(report.intact, "verify: entry " << report.first_bad_seq << ": " << report.problem);
}

// A write that fails while another thread waits to reopen the database: both return.
// (RecoverIfFailed used to hold failure_mu_ while it waited for db_mu_, and the failing
// writer, holding db_mu_ shared, waited for failure_mu_ in Written: a deadlock.)
BOOST_AUTO_TEST_CASE(a_write_failing_during_recovery_does_not_deadlock) {
  TempDir dir;
  FaultEnv env;
  std::unique_ptr<Journal> j;
  BOOST_REQUIRE(OpenOn(dir.path(), &env, &j).ok());
  BOOST_REQUIRE(CommitBytes(j.get(), "first", "first@example.org") == 1u);
  MessageWriter slow(j.get());  // begun before the failure: it does not recover
  BOOST_REQUIRE(slow.Append("slow").ok());
  // A failed write: the journal will reopen its database at the next transaction.
  env.FailAt(FaultEnv::Op::kWrite, 1, FaultEnv::FileKind::kLog);
  uint64_t seq = 0;
  BOOST_REQUIRE(!TryCommit(j.get(), "failed", "failed@example.org", &seq).ok());
  // `slow` commits: it holds the database while its sync takes 300 ms, then fails. Meanwhile
  // a new transaction begins, and waits for the database to reopen it.
  env.SetSyncLatencyMicros(300000);
  env.FailAt(FaultEnv::Op::kSync, 1, FaultEnv::FileKind::kLog);
  std::promise<Status> committed, begun;
  std::thread committer([&] {
    committed.set_value(
        slow.Commit(TestMessage(SimpleEnvelope("slow@example.org")), nullptr, &seq, nullptr));
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  std::thread beginner([&] {
    uint64_t txn;
    begun.set_value(j->BeginTransaction(&txn));
  });
  auto commit_done = committed.get_future(), begin_done = begun.get_future();
  bool returned = commit_done.wait_for(std::chrono::seconds(10)) == std::future_status::ready &&
                  begin_done.wait_for(std::chrono::seconds(10)) == std::future_status::ready;
  if (!returned) {
    // The threads cannot be stopped: end the test run rather than hang it.
    BOOST_TEST_MESSAGE("deadlock: a failing commit and a recovery wait for each other");
    std::fprintf(stderr, "a_write_failing_during_recovery_does_not_deadlock: deadlock\n");
    std::abort();
  }
  committer.join();
  beginner.join();
  BOOST_TEST(!commit_done.get().ok());
  BOOST_TEST_MESSAGE("the transaction begun during the failure: " << begin_done.get().ToString());
}

BOOST_AUTO_TEST_CASE(on_a_slow_disk_no_commit_returns_before_its_sync_and_commits_are_grouped) {
  constexpr int64_t kLatencyUs = 200000;
  TempDir dir;
  Reported reported;
  {
    FaultEnv env;
    std::unique_ptr<Journal> j;
    BOOST_REQUIRE(OpenOn(dir.path(), &env, &j).ok());
    env.SetSyncLatencyMicros(kLatencyUs);

    // Alone.
    Round alone = CommitTogether(j.get(), &reported, 1, "alone", 1);
    BOOST_REQUIRE(alone.status[0].ok());
    BOOST_TEST(alone.end_us[0] - alone.start_us[0] >= kLatencyUs);

    // Eight at once: grouped into fewer syncs than commits, none back before its sync.
    uint64_t syncs_before = env.syncs(FaultEnv::FileKind::kLog);
    Round round = CommitTogether(j.get(), &reported, 8, "together", 2);
    uint64_t syncs = env.syncs(FaultEnv::FileKind::kLog) - syncs_before;
    BOOST_TEST_MESSAGE("8 concurrent commits, " << syncs << " log syncs");
    BOOST_TEST(syncs < 8u);
    BOOST_TEST(syncs >= 1u);
    std::vector<FaultEnv::SyncSpan> spans = env.LogSyncSpans();
    for (int t = 0; t < 8; ++t) {
      BOOST_TEST_CONTEXT("commit " << t) {
        BOOST_TEST_REQUIRE(round.status[t].ok(), round.status[t].ToString());
        BOOST_TEST(round.end_us[t] - round.start_us[t] >= kLatencyUs);
        // A sync of the log began after the commit did and returned before it.
        bool covered = false;
        for (const auto& span : spans) {
          covered |= span.start_us >= round.start_us[t] && span.end_us <= round.end_us[t];
        }
        BOOST_TEST(covered, "no log sync between the commit's start and its return");
      }
    }
    env.SetSyncLatencyMicros(0);
    CheckJournal(j.get(), reported, true);
  }
}

BOOST_AUTO_TEST_SUITE_END()

}  // namespace
}  // namespace mailjournal
