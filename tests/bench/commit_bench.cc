// commit_bench: the capture commit path alone, in messages/s (issue 6), in the manner of
// LevelDB's db_bench: no MTA and no milter protocol, but every step mailjournald takes for a
// message.
//
// Not a test: it asserts nothing about time. T threads, each standing for one MTA connection,
// capture messages of S bytes through milter/session.h's Session, the class the daemon's
// libmilter callbacks call: the policy in force classifies the message, a Sealer seals it
// (zstd, then CMS AuthEnvelopedData: AES-256-GCM under a fresh key wrapped with RSA-OAEP to
// each recipient certificate), a MessageWriter stages the sealed chunks, the salted SHA-256 of
// the plaintext is taken, and EndOfMessage commits the entry: group commit, synced, the Merkle
// tree extended. There is no search index yet, so indexing is not part of the path.
// --no-seal runs the same path without sealing (MessageWriter only) to show what sealing
// costs; --components times the per-message pieces one by one, in one thread.
// Every run uses a fresh journal, removed afterwards. See tests/bench/README.md.
#include <arpa/inet.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <leveldb/db.h>
#include <netinet/in.h>
#include <openssl/cms.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <unistd.h>
#define ZSTD_STATIC_LINKING_ONLY  // ZSTD_c_srcSizeHint (--components)
#include <zstd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "bench_util.h"
#include "mailjournal/entry.h"
#include "mailjournal/journal.h"
#include "mailjournal/message_writer.h"
#include "mailjournal/policy_holder.h"
#include "mailjournal/seal.h"
#include "mailjournal/sha256.h"
#include "session.h"

// Counts and times LevelDB's syncs: these definitions take the place of libc's for the whole
// process (the executable comes first in symbol lookup, libleveldb.so included) and call
// libc's.
namespace {
std::atomic<uint64_t> g_fdatasyncs{0};
std::atomic<uint64_t> g_fsyncs{0};
std::atomic<uint64_t> g_sync_ns{0};      // time in both
std::atomic<uint64_t> g_sync_max_ns{0};  // the longest one

uint64_t MonotonicNs() {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1000000000u + ts.tv_nsec;
}

int TimedSync(const char* name, int fd, std::atomic<uint64_t>* count) {
  using Fn = int (*)(int);
  static Fn real_fdatasync = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "fdatasync"));
  static Fn real_fsync = reinterpret_cast<Fn>(dlsym(RTLD_NEXT, "fsync"));
  Fn real = name[1] == 'd' ? real_fdatasync : real_fsync;
  uint64_t t0 = MonotonicNs();
  int r = real(fd);
  uint64_t ns = MonotonicNs() - t0;
  count->fetch_add(1, std::memory_order_relaxed);
  g_sync_ns.fetch_add(ns, std::memory_order_relaxed);
  uint64_t max = g_sync_max_ns.load(std::memory_order_relaxed);
  while (ns > max && !g_sync_max_ns.compare_exchange_weak(max, ns)) {
  }
  return r;
}
}  // namespace

extern "C" int fdatasync(int fd) { return TimedSync("fdatasync", fd, &g_fdatasyncs); }
extern "C" int fsync(int fd) { return TimedSync("fsync", fd, &g_fsyncs); }

namespace mailjournal {
namespace {

// Why 32 threads by default: each thread is one MTA connection, and a commit blocks until
// its group's sync returns, so by Little's law messages/s <= threads / commit latency. With
// a sync of about 1.6 ms (this machine's disk) 2 x cores = 4 threads could never exceed about
// 2,500 messages/s whatever the CPU; the daemon runs one thread per connection, as many as
// Postfix opens (default_process_limit 100), so concurrency is a property of the load, not of
// the cores. 32 is a moderately busy gateway; --threads 8 and 64 bracket it.
constexpr int kDefaultThreads = 32;

struct Options {
  std::string dir;
  int threads = kDefaultThreads;
  uint64_t messages = 30000;  // per run
  uint64_t size = 20000;      // bytes per message, headers included
  bool random_content = false;
  int recipients = 2;
  bool seal = true;
  int runs = 3;
  bool keep = false;
  bool components = false;
  uint64_t iterations = 2000;  // --components
};

void Usage() {
  std::fprintf(
      stderr,
      "usage: commit_bench [options] DIR   keys, policy and (per run, removed after it) journals "
      "in DIR\n"
      "options:\n"
      "  --threads T       committing threads, one per simulated MTA connection (default %d)\n"
      "  --messages N      messages per run (default 30000)\n"
      "  --size S          bytes per message, headers included (default 20000)\n"
      "  --content KIND    text (mail-like, compresses as mail does; default) or random\n"
      "  --recipients K    1 (escrow key) or 2 (department key + escrow key; default)\n"
      "  --no-seal         the same path without sealing: MessageWriter only\n"
      "  --runs R          runs (default 3), each on a fresh journal\n"
      "  --keep            keep each run's journal (DIR/journal-N)\n"
      "  --components      time the per-message pieces one at a time, in one thread\n"
      "  --iterations I    iterations per piece for --components (default 2000)\n",
      kDefaultThreads);
}

using bench::ParseCount;

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto count = [&](uint64_t min, uint64_t* out) {
      if (i + 1 >= argc || !ParseCount(argv[++i], min, out)) {
        std::fprintf(stderr, "commit_bench: %s needs a number >= %" PRIu64 "\n", a.c_str(), min);
        return false;
      }
      return true;
    };
    uint64_t v = 0;
    if (a == "--threads") {
      if (!count(1, &v)) return false;
      o->threads = static_cast<int>(std::min<uint64_t>(v, 1024));
    } else if (a == "--messages") {
      if (!count(1, &o->messages)) return false;
    } else if (a == "--size") {
      if (!count(1, &o->size)) return false;
    } else if (a == "--content") {
      if (!bench::ParseContent("commit_bench", argc, argv, &i, &o->random_content)) return false;
    } else if (a == "--recipients") {
      if (!count(1, &v) || v > 2) {
        std::fprintf(stderr, "commit_bench: --recipients is 1 or 2\n");
        return false;
      }
      o->recipients = static_cast<int>(v);
    } else if (a == "--no-seal") {
      o->seal = false;
    } else if (a == "--runs") {
      if (!count(1, &v)) return false;
      o->runs = static_cast<int>(std::min<uint64_t>(v, 100));
    } else if (a == "--keep") {
      o->keep = true;
    } else if (a == "--components") {
      o->components = true;
    } else if (a == "--iterations") {
      if (!count(1, &o->iterations)) return false;
    } else if (!bench::ParseDirArg("commit_bench", a, Usage, &o->dir)) {
      return false;
    }
  }
  if (o->dir.empty()) {
    Usage();
    return false;
  }
  return true;
}

[[noreturn]] void Die(const std::string& what, const Status& s) {
  bench::Die("commit_bench", what, s);
}

using bench::CpuSeconds;
using bench::MachineSample;
using bench::Now;
using bench::ReadFile;

// ---------------------------------------------------------------------------------------
// Machine, versions.

// The journal's block device (for /proc/diskstats), "" if unknown; set by PrintMachine.
std::string g_disk_name;

// The latency of a 4 KB write + fdatasync in `dir` (the floor under every group commit).
double SyncProbeMedianMs(const std::string& dir, int probes) {
  std::string path = dir + "/sync-probe";
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) return -1;
  std::string block(4096, 'x');
  std::vector<double> ms;
  for (int i = 0; i < probes; ++i) {
    double t0 = Now();
    if (write(fd, block.data(), block.size()) != static_cast<ssize_t>(block.size())) break;
    if (syscall(SYS_fdatasync, fd) != 0) break;  // not counted
    ms.push_back((Now() - t0) * 1000);
  }
  close(fd);
  unlink(path.c_str());
  if (ms.empty()) return -1;
  std::sort(ms.begin(), ms.end());
  return ms[ms.size() / 2];
}

void PrintMachine(const Options& o) {
  double probe = SyncProbeMedianMs(o.dir, 200);
  bench::PrintMachineLines();
  std::printf("disk:     %s\n", bench::DiskOf(o.dir, &g_disk_name).c_str());
  std::printf("sync:     4 KB write + fdatasync in %s: median %.2f ms (200 probes)\n",
              o.dir.c_str(), probe);
  std::printf("versions: mailjournal %s, %s, LevelDB %d.%d, zstd %s\n", MAILJOURNAL_VERSION,
              OpenSSL_version(OPENSSL_VERSION), leveldb::kMajorVersion, leveldb::kMinorVersion,
              ZSTD_versionString());
  std::fflush(stdout);
}

// ---------------------------------------------------------------------------------------
// Keys, policy, content.

// Two RSA-3072 recipients, made once with openssl as tests/unit/test_util.cc does, and kept.
void MakeKeys(const std::string& dir) {
  for (const char* name : {"retail", "escrow"}) {
    std::string base = dir + "/" + name;
    struct stat st;
    if (stat((base + ".crt").c_str(), &st) == 0 && stat((base + ".key").c_str(), &st) == 0) {
      continue;
    }
    std::string cmd = "openssl req -x509 -newkey rsa:3072 -nodes -keyout '" + base +
                      ".key' -out '" + base + ".crt' -subj /CN=" + name +
                      "-bench -days 3650 2>/dev/null";
    if (std::system(cmd.c_str()) != 0) Die(cmd, Status::Internal("openssl failed"));
  }
}

// recipients 2: the sender (@bank.example) is in retail, sealed to retail.crt and escrow.crt;
// recipients 1: no department keys, sealed to escrow.crt alone.
std::string WritePolicy(const std::string& dir, int recipients) {
  std::string path = dir + "/policy-" + std::to_string(recipients) + ".yaml";
  std::ofstream out(path, std::ios::trunc);
  out << "version: 1\n"
         "retention:\n"
         "  standard-7y: 7y\n"
         "escrow: [escrow.crt]\n"
         "departments:\n"
         "  - name: retail\n"
         "    members: ['@bank.example']\n"
         "    retention: standard-7y\n"
      << (recipients == 2 ? "    keys: [retail.crt]\n" : "")
      << "  - name: default\n"
         "    retention: standard-7y\n";
  if (!out.flush()) Die("writing " + path, Status::IOError("write failed"));
  return path;
}

using bench::MailAddress;
using bench::MailMessage;
using bench::MakeMailMessage;
using bench::Random;

// ---------------------------------------------------------------------------------------
// The capture path.

struct Captured {
  uint64_t seq = 0;
  int64_t time_us = 0;  // the same for every entry of one group commit
  uint64_t stored = 0;  // bytes stored (sealed size)
  double latency = 0;   // EndOfMessage, seconds
};

void MakeEnvelope(Random* r, uint64_t n, size_t size, std::vector<std::string>* mail,
                  std::vector<std::vector<std::string>>* rcpts) {
  *mail = {"<" + MailAddress(r, "bank.example") + ">", "SIZE=" + std::to_string(size),
           "BODY=8BITMIME"};
  *rcpts = {{"<" + MailAddress(r, "customer.example") + ">"},
            {"<desk" + std::to_string(n % 31) + "@bank.example>", "NOTIFY=NEVER"}};
}

// One message through Session, as the libmilter callbacks drive it.
Status CaptureSealed(Session* s, const MailMessage& m, Random* r, uint64_t n, Captured* c) {
  struct sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(30000 + n % 30000));
  addr.sin_addr.s_addr = htonl(0xC0000200u + 1 + n % 250);  // 192.0.2.x
  s->Connect("mx" + std::to_string(n % 8) + ".bank.example",
             reinterpret_cast<struct sockaddr*>(&addr), "smtpd");
  s->Helo("mx.bank.example");
  std::vector<std::string> mail;
  std::vector<std::vector<std::string>> rcpts;
  MakeEnvelope(r, n, m.size, &mail, &rcpts);
  Status st = s->MailFrom(mail, "");
  if (!st.ok()) return st;
  for (auto& rc : rcpts) s->Rcpt(rc);
  for (const auto& kv : m.headers) {
    st = s->Header(kv.first, kv.second);
    if (!st.ok()) return st;
  }
  st = s->EndOfHeaders();
  for (size_t off = 0; st.ok() && off < m.body.size(); off += 65535) {  // libmilter's chunks
    st = s->Body(std::string_view(m.body).substr(off, 65535));
  }
  if (!st.ok()) return st;
  s->QueueId("4V" + std::to_string(n));
  MessageEntry e;
  double t0 = Now();
  st = s->EndOfMessage(&c->seq, &e);
  c->latency = Now() - t0;
  c->time_us = e.time_us;
  c->stored = e.content.size;
  return st;
}

// The same without sealing: what Session does, minus the Sealer and the salted hash.
Status CapturePlain(Journal* journal, const PolicyHolder* policies, const MailMessage& m, Random* r,
                    uint64_t n, Captured* c) {
  std::shared_ptr<const Policy> policy = policies->Active();
  MessageEntry entry;
  Envelope& env = entry.envelope;
  env.client_name = "mx" + std::to_string(n % 8) + ".bank.example";
  env.client_addr = "192.0.2." + std::to_string(1 + n % 250);
  env.client_port = static_cast<uint16_t>(30000 + n % 30000);
  env.daemon = "smtpd";
  env.helo = "mx.bank.example";
  MakeEnvelope(r, n, m.size, &env.mail, &env.rcpt);
  MessageWriter writer(journal);
  Status st = writer.status();
  std::vector<std::string> rcpts;
  for (const auto& rc : env.rcpt) rcpts.push_back(BareAddress(rc));
  Decision d = policy->Classify(BareAddress(env.mail), rcpts, 0);
  for (const auto& kv : m.headers) {
    if (st.ok()) st = writer.Append(HeaderBytes(kv.first, kv.second));
  }
  if (st.ok()) st = writer.Append("\r\n");
  for (size_t off = 0; st.ok() && off < m.body.size(); off += 65535) {
    st = writer.Append(std::string_view(m.body).substr(off, 65535));
  }
  if (!st.ok()) return st;
  env.queue_id = "4V" + std::to_string(n);
  const RetentionClass* retention = policy->FindRetention(d.retention);
  if (retention == nullptr) return Status::Internal("no retention class");
  entry.classification.departments = d.departments;
  entry.classification.retention = d.retention;
  entry.classification.policy_digest = policy->digest();
  Period period = retention->period;
  MessageEntry stored;
  double t0 = Now();
  st = writer.Commit(
      std::move(entry),
      [period](MessageEntry* e) {
        e->classification.retain_until_us = RetainUntil(e->time_us, period);
      },
      &c->seq, &stored);
  c->latency = Now() - t0;
  c->time_us = stored.time_us;
  c->stored = stored.content.size;
  return st;
}

struct Run {
  double seconds = 0, close_seconds = 0, cpu = 0;
  uint64_t messages = 0, captured_bytes = 0, stored_bytes = 0;
  uint64_t groups = 0, fdatasyncs = 0, fsyncs = 0;
  double sync_mean = 0, sync_max = 0;          // seconds per sync call
  double machine_busy = 0;                     // CPU seconds of all processes during the run
  uint64_t disk_written = 0, own_written = 0;  // bytes, the device / this process
  double lat_mean = 0, lat_p50 = 0, lat_p99 = 0, lat_max = 0;
  double rate() const { return messages / seconds; }
  double mbps() const { return captured_bytes / 1e6 / seconds; }
  double cpu_us() const { return cpu / messages * 1e6; }
};

// An empty journal in `dir` (whatever was there is removed), with the policy at
// `policy_path` loaded and journaled as the daemon loads it. Dies on failure.
struct FreshJournal {
  std::unique_ptr<Journal> journal;
  std::unique_ptr<PolicyHolder> policies;
};
FreshJournal OpenFreshJournal(const std::string& dir, const std::string& policy_path) {
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  JournalOptions jo;
  jo.dir = dir;
  FreshJournal fresh;
  Status s = OpenJournal(jo, &fresh.journal);
  if (!s.ok()) Die("opening the journal", s);
  fresh.policies = std::make_unique<PolicyHolder>(policy_path, fresh.journal.get());
  std::vector<PolicyError> errors;
  uint64_t seq = 0;
  s = fresh.policies->Load("commit_bench", &errors, &seq);
  if (!s.ok()) {
    Die("loading " + policy_path,
        errors.empty() ? s : Status::InvalidArgument(errors[0].ToString()));
  }
  return fresh;
}

Run RunOnce(const Options& o, const std::string& policy_path, const std::vector<MailMessage>& pool,
            int index) {
  std::string jdir = o.dir + "/journal-" + std::to_string(index);
  FreshJournal fresh = OpenFreshJournal(jdir, policy_path);
  std::unique_ptr<Journal>& journal = fresh.journal;
  PolicyHolder& policies = *fresh.policies;

  std::vector<std::vector<Captured>> per_thread(o.threads);
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  bench::StartGate gate(o.threads);
  std::vector<std::thread> threads;
  for (int t = 0; t < o.threads; ++t) {
    threads.emplace_back([&, t] {
      Random r(1000003ULL * index + t + 1);
      Session session(journal.get(), &policies);
      auto& out = per_thread[t];
      out.reserve(o.messages / o.threads + 16);
      gate.Arrive();
      for (uint64_t n; !failed && (n = next++) < o.messages;) {
        const MailMessage& m = pool[(n + index * 7919) % pool.size()];
        Captured c;
        Status st = o.seal ? CaptureSealed(&session, m, &r, n, &c)
                           : CapturePlain(journal.get(), &policies, m, &r, n, &c);
        if (!st.ok()) {
          failed = true;
          std::fprintf(stderr, "commit_bench: message %" PRIu64 ": %s\n", n, st.ToString().c_str());
          return;
        }
        out.push_back(c);
      }
    });
  }
  gate.WaitReady();
  const uint64_t fd0 = g_fdatasyncs, fs0 = g_fsyncs, ns0 = g_sync_ns;
  g_sync_max_ns = 0;
  const double c0 = CpuSeconds();
  const MachineSample m0 = bench::SampleMachine(g_disk_name);
  const double t0 = Now();
  gate.Open();
  for (auto& th : threads) th.join();
  Run run;
  run.seconds = Now() - t0;
  run.cpu = CpuSeconds() - c0;
  const MachineSample m1 = bench::SampleMachine(g_disk_name);
  run.machine_busy = m1.busy - m0.busy;
  run.disk_written = m1.disk_written - m0.disk_written;
  run.own_written = m1.own_written - m0.own_written;
  run.fdatasyncs = g_fdatasyncs - fd0;
  run.fsyncs = g_fsyncs - fs0;
  run.sync_mean = run.fdatasyncs + run.fsyncs == 0
                      ? 0
                      : (g_sync_ns - ns0) / 1e9 / (run.fdatasyncs + run.fsyncs);
  run.sync_max = g_sync_max_ns / 1e9;
  if (failed) std::exit(1);
  const double t1 = Now();
  journal.reset();  // waits for LevelDB's background compaction
  run.close_seconds = Now() - t1;
  std::error_code ec;
  if (!o.keep) std::filesystem::remove_all(jdir, ec);

  std::vector<double> lat;
  std::vector<int64_t> times;
  for (const auto& v : per_thread) {
    for (const Captured& c : v) {
      lat.push_back(c.latency);
      times.push_back(c.time_us);
      run.stored_bytes += c.stored;
      ++run.messages;
    }
  }
  for (uint64_t n = 0; n < run.messages; ++n) {
    run.captured_bytes += pool[(n + index * 7919) % pool.size()].size;
  }
  std::sort(lat.begin(), lat.end());
  double sum = 0;
  for (double x : lat) sum += x;
  run.lat_mean = sum / lat.size();
  run.lat_p50 = lat[lat.size() / 2];
  run.lat_p99 =
      lat[std::min(lat.size() - 1, static_cast<size_t>(std::ceil(lat.size() * 0.99)) - 1)];
  run.lat_max = lat.back();
  // A group commit gives all its entries one commit time, and times strictly increase
  // from one synced write to the next, so distinct times count the groups.
  std::sort(times.begin(), times.end());
  run.groups = std::unique(times.begin(), times.end()) - times.begin();
  return run;
}

void PrintRun(const std::string& label, const Run& r) {
  std::printf("%-7s %6" PRIu64
              " msgs %6.2f s %7.0f msg/s %6.1f MB/s | EOM ms mean %6.2f p50 "
              "%6.2f p99 %6.2f max %7.2f | CPU %5.0f us/msg | groups %6" PRIu64
              " (%5.1f msg/group) fdatasync %6" PRIu64 " fsync %3" PRIu64
              " sync ms mean %5.2f max %6.1f | stored %5.0f B/msg | close %.2f s\n",
              label.c_str(), r.messages, r.seconds, r.rate(), r.mbps(), r.lat_mean * 1e3,
              r.lat_p50 * 1e3, r.lat_p99 * 1e3, r.lat_max * 1e3, r.cpu_us(), r.groups,
              static_cast<double>(r.messages) / r.groups, r.fdatasyncs, r.fsyncs, r.sync_mean * 1e3,
              r.sync_max * 1e3, static_cast<double>(r.stored_bytes) / r.messages, r.close_seconds);
  std::fflush(stdout);
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Each figure's median over the runs, taken separately.
Run MedianRun(const std::vector<Run>& runs) {
  auto med = [&](const std::function<double(const Run&)>& f) {
    std::vector<double> v;
    for (const Run& r : runs) v.push_back(f(r));
    return Median(v);
  };
  Run m;
  m.messages = runs[0].messages;
  m.seconds = med([](const Run& r) { return r.seconds; });
  m.captured_bytes =
      static_cast<uint64_t>(med([](const Run& r) { return double(r.captured_bytes); }));
  m.stored_bytes = static_cast<uint64_t>(med([](const Run& r) { return double(r.stored_bytes); }));
  m.cpu = med([](const Run& r) { return r.cpu; });
  m.close_seconds = med([](const Run& r) { return r.close_seconds; });
  m.groups = static_cast<uint64_t>(med([](const Run& r) { return double(r.groups); }));
  m.fdatasyncs = static_cast<uint64_t>(med([](const Run& r) { return double(r.fdatasyncs); }));
  m.fsyncs = static_cast<uint64_t>(med([](const Run& r) { return double(r.fsyncs); }));
  m.sync_mean = med([](const Run& r) { return r.sync_mean; });
  m.sync_max = med([](const Run& r) { return r.sync_max; });
  m.lat_mean = med([](const Run& r) { return r.lat_mean; });
  m.lat_p50 = med([](const Run& r) { return r.lat_p50; });
  m.lat_p99 = med([](const Run& r) { return r.lat_p99; });
  m.lat_max = med([](const Run& r) { return r.lat_max; });
  return m;
}

// ---------------------------------------------------------------------------------------
// --components: the per-message pieces, one at a time, in this thread.

void Time(const char* what, uint64_t iterations, const std::function<void()>& f) {
  f();  // warm
  double c0 = CpuSeconds(), t0 = Now();
  for (uint64_t i = 0; i < iterations; ++i) f();
  double t = Now() - t0, c = CpuSeconds() - c0;
  std::printf("  %-58s %9.1f us/op  (CPU %8.1f us/op, %" PRIu64 " ops)\n", what,
              t / iterations * 1e6, c / iterations * 1e6, iterations);
  std::fflush(stdout);
}

void Components(const Options& o, const std::vector<MailMessage>& pool) {
  std::string retail = ReadFile(o.dir + "/retail.crt"), escrow = ReadFile(o.dir + "/escrow.crt");
  RecipientKeys one(1), two(2);
  if (!RecipientKey::Parse(escrow, &one[0]).ok() || !RecipientKey::Parse(retail, &two[0]).ok()) {
    Die("parsing the certificates", Status::InvalidArgument("bad test certificate"));
  }
  two[1] = one[0];
  // The message as captured, in one piece.
  const MailMessage& m = pool[0];
  std::string bytes;
  for (const auto& kv : m.headers) bytes += HeaderBytes(kv.first, kv.second);
  bytes += "\r\n" + m.body;
  std::printf("components, one thread, a %zu-byte %s message, %" PRIu64 " iterations each:\n",
              bytes.size(), o.random_content ? "random" : "text", o.iterations);
  volatile size_t sink = 0;

  Time("PEM certificate parse (PEM_read_bio_X509)", o.iterations, [&] {
    BIO* b = BIO_new_mem_buf(escrow.data(), static_cast<int>(escrow.size()));
    X509* x = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
    sink = sink + (x != nullptr);
    X509_free(x);
    BIO_free(b);
  });
  BIO* b = BIO_new_mem_buf(escrow.data(), static_cast<int>(escrow.size()));
  X509* cert = PEM_read_bio_X509(b, nullptr, nullptr, nullptr);
  BIO_free(b);
  EVP_PKEY* pub = X509_get0_pubkey(cert);
  Time("key fingerprint (i2d_PUBKEY + SHA-256, as SpkiFingerprint)", o.iterations, [&] {
    unsigned char* der = nullptr;
    int len = i2d_PUBKEY(pub, &der);
    sink = sink + Sha256::Of(std::string_view(reinterpret_cast<const char*>(der), len))[0];
    OPENSSL_free(der);
  });
  unsigned char cek[32] = {1};
  Time("RSA-3072 OAEP-SHA256 wrap of a 32-byte key (EVP_PKEY_encrypt)", o.iterations, [&] {
    EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new(pub, nullptr);
    unsigned char out[512];
    size_t outlen = sizeof out;
    if (EVP_PKEY_encrypt_init(ctx) <= 0 ||
        EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) <= 0 ||
        EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) <= 0 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) <= 0 ||
        EVP_PKEY_encrypt(ctx, out, &outlen, cek, sizeof cek) <= 0) {
      Die("RSA-OAEP", Status::Internal("EVP_PKEY_encrypt failed"));
    }
    sink = sink + outlen;
    EVP_PKEY_CTX_free(ctx);
  });
  X509_free(cert);
  for (const auto* certs : {&one, &two}) {
    std::string what = "Sealer::Create, " + std::to_string(certs->size()) +
                       " recipient(s) (CMS, key wraps; certificates parsed once)";
    Time(what.c_str(), o.iterations, [&] {
      std::unique_ptr<Sealer> s;
      Status st = Sealer::Create(*certs, &s);
      if (!st.ok()) Die("Sealer::Create", st);
    });
  }
  std::unique_ptr<ZSTD_CCtx, decltype(&ZSTD_freeCCtx)> z(ZSTD_createCCtx(), ZSTD_freeCCtx);
  ZSTD_CCtx_setParameter(z.get(), ZSTD_c_compressionLevel, 3);
  ZSTD_CCtx_setParameter(z.get(), ZSTD_c_checksumFlag, 1);
  std::string zout(ZSTD_compressBound(bytes.size()), '\0');
  size_t zsize = 0;
  Time("zstd level 3 of the message (reused context)", o.iterations,
       [&] { zsize = ZSTD_compress2(z.get(), &zout[0], zout.size(), bytes.data(), bytes.size()); });
  Time("new zstd context (ZSTD_createCCtx + free; one per Sealer)", o.iterations, [&] {
    ZSTD_CCtx* c = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
    ZSTD_freeCCtx(c);
  });
  // As Sealer does it: a new context per message, streamed, the size not told to zstd (so
  // its tables are sized, and cleared, for an unbounded input); and with the size hinted.
  for (bool hint : {false, true}) {
    std::string what = std::string("zstd level 3 streamed, new context, ") +
                       (hint ? "ZSTD_c_srcSizeHint set" : "size unknown (as Sealer)");
    Time(what.c_str(), o.iterations, [&] {
      ZSTD_CCtx* c = ZSTD_createCCtx();
      ZSTD_CCtx_setParameter(c, ZSTD_c_compressionLevel, 3);
      ZSTD_CCtx_setParameter(c, ZSTD_c_checksumFlag, 1);
      if (hint) ZSTD_CCtx_setParameter(c, ZSTD_c_srcSizeHint, static_cast<int>(bytes.size()));
      ZSTD_inBuffer in{bytes.data(), bytes.size(), 0};
      ZSTD_outBuffer out{&zout[0], zout.size(), 0};
      ZSTD_compressStream2(c, &out, &in, ZSTD_e_continue);
      while (ZSTD_compressStream2(c, &out, &in, ZSTD_e_end) != 0) {
      }
      sink = sink + out.pos;
      ZSTD_freeCCtx(c);
    });
  }
  std::printf("  (zstd: %zu -> %zu bytes, %.2fx)\n", bytes.size(), zsize,
              static_cast<double>(bytes.size()) / zsize);
  Time("SHA-256 of the message (the salted plaintext digest)", o.iterations,
       [&] { sink = sink + Sha256::Of(bytes)[0]; });
  Time("AES-256-GCM of the compressed message (EVP)", o.iterations, [&] {
    EVP_CIPHER_CTX* c = EVP_CIPHER_CTX_new();
    unsigned char key[32] = {0}, iv[12] = {0}, tag[16];
    std::string out(zsize + 16, '\0');
    int len = 0;
    EVP_EncryptInit_ex(c, EVP_aes_256_gcm(), nullptr, key, iv);
    EVP_EncryptUpdate(c, reinterpret_cast<unsigned char*>(&out[0]), &len,
                      reinterpret_cast<const unsigned char*>(zout.data()), static_cast<int>(zsize));
    EVP_EncryptFinal_ex(c, reinterpret_cast<unsigned char*>(&out[0]) + len, &len);
    EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_GCM_GET_TAG, 16, tag);
    EVP_CIPHER_CTX_free(c);
    sink = sink + tag[0];
  });
  size_t sealed_size = 0;
  for (const auto* certs : {&one, &two}) {
    std::string what = "seal the message whole, " + std::to_string(certs->size()) +
                       " recipient(s) (Create+Append+Finish)";
    Time(what.c_str(), o.iterations, [&] {
      std::unique_ptr<Sealer> s;
      Status st = Sealer::Create(*certs, &s);
      if (st.ok()) st = s->Append(bytes);
      if (st.ok()) st = s->Finish();
      if (!st.ok()) Die("sealing", st);
      sealed_size = s->Take().size();
    });
  }
  std::printf("  (sealed to 2 recipients: %zu bytes)\n", sealed_size);
  // Session without the commit: everything EndOfMessage does before it waits.
  std::string policy_path = WritePolicy(o.dir, o.recipients);
  std::string jdir = o.dir + "/journal-components";
  {
    FreshJournal fresh = OpenFreshJournal(jdir, policy_path);
    Journal* journal = fresh.journal.get();
    PolicyHolder& policies = *fresh.policies;
    auto policy = policies.Active();
    Time("policy Classify (sender + 2 recipients)", o.iterations, [&] {
      Decision d = policy->Classify("anna.ben1@bank.example",
                                    {"carl@customer.example", "desk1@bank.example"}, 0);
      sink = sink + d.keys.size();
    });
    Random r(7);
    uint64_t n = 0;
    std::string what = "whole capture, one thread, " + std::to_string(o.recipients) +
                       " recipient(s), synced commit (group of 1)";
    Time(what.c_str(), std::min<uint64_t>(o.iterations, 500), [&] {
      Session session(journal, &policies);
      Captured c;
      Status st = CaptureSealed(&session, m, &r, n++, &c);
      if (!st.ok()) Die("capture", st);
    });
  }
  std::error_code ec;
  std::filesystem::remove_all(jdir, ec);
}

int Main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) return 2;
  while (o.dir.size() > 1 && o.dir.back() == '/') o.dir.pop_back();
  std::error_code ec;
  std::filesystem::create_directories(o.dir, ec);
  if (ec) Die(o.dir, Status::IOError(ec.message()));

  std::printf("commit_bench: %s\n",
              o.components ? "per-message components" : "the capture commit path");
  PrintMachine(o);
  MakeKeys(o.dir);
  std::string policy_path = WritePolicy(o.dir, o.recipients);

  // A pool of distinct messages, made before timing starts; each is sealed under a fresh
  // key and compressed on its own, so reuse across the run changes no cost.
  Random gen(42);
  std::vector<MailMessage> pool;
  for (uint64_t i = 0; i < 512; ++i)
    pool.push_back(MakeMailMessage(&gen, i, o.size, o.random_content));

  if (o.components) {
    Components(o, pool);
    return 0;
  }

  std::string cmdline;
  for (int i = 0; i < argc; ++i) cmdline += std::string(i ? " " : "") + argv[i];
  std::printf("command:  %s\n", cmdline.c_str());
  std::printf("path:     %s; index: none (there is no search index yet), so not measured\n",
              o.seal ? "Session: classify, seal (zstd + CMS AES-256-GCM, RSA-OAEP per "
                       "recipient), MessageWriter, salted SHA-256, EndOfMessage = group "
                       "commit (synced) + Merkle tree"
                     : "--no-seal: classify, MessageWriter (plaintext stored), group commit "
                       "(synced) + Merkle tree");
  std::printf("params:   %d threads, %" PRIu64 " messages/run of %" PRIu64
              " bytes (%s), %s, "
              "%d runs, fresh journal per run in %s/journal-N%s\n",
              o.threads, o.messages, o.size, o.random_content ? "random" : "mail-like text",
              o.seal ? (o.recipients == 2 ? "sealed to 2 RSA-3072 recipients"
                                          : "sealed to 1 RSA-3072 recipient")
                     : "NOT sealed",
              o.runs, o.dir.c_str(), o.keep ? " (kept)" : " (removed after the run)");
  std::printf(
      "columns:  msg/s and MB/s (captured bytes) over the commit phase; EOM = "
      "EndOfMessage latency (seal finish + commit); CPU = process user+sys / messages; "
      "groups = synced writes (distinct commit times); fdatasync/fsync = calls by the "
      "process (LevelDB: log per group, tables, manifest) and their mean/max time; close = journal "
      "close (compaction) after the run\n");
  std::fflush(stdout);

  std::vector<Run> runs;
  for (int i = 0; i < o.runs; ++i) {
    Run r = RunOnce(o, policy_path, pool, i + 1);
    PrintRun("run " + std::to_string(i + 1), r);
    std::printf(
        "        machine during the run: CPU busy %.2f cores, this process %.2f, others "
        "%.2f; %s wrote %.0f MB, this process %.0f MB\n",
        r.machine_busy / r.seconds, r.cpu / r.seconds,
        std::max(0.0, r.machine_busy - r.cpu) / r.seconds,
        g_disk_name.empty() ? "the disk" : g_disk_name.c_str(), r.disk_written / 1e6,
        r.own_written / 1e6);
    std::fflush(stdout);
    runs.push_back(r);
  }
  PrintRun("median", MedianRun(runs));
  return 0;
}

}  // namespace
}  // namespace mailjournal

int main(int argc, char** argv) { return mailjournal::Main(argc, argv); }
