// verify_bench: the throughput of VerifyJournal (mailjournal verify) in MB/s of content.
//
// Not a test: it asserts nothing about time. It builds a journal of N messages of S bytes of
// random (incompressible, as sealed CMS content is) bytes through the real Journal API, in
// group commits from several threads, with a signed checkpoint entry every K messages; then
// reopens it and times VerifyJournal with the checkpoint verifier key, R times, and prints
// each run and the median. With --reuse it only verifies a journal it built before.
// See tests/bench/README.md.
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "bench_util.h"
#include "mailjournal/checkpoint.h"
#include "mailjournal/entry.h"
#include "mailjournal/journal.h"
#include "mailjournal/message_writer.h"
#include "mailjournal/verify.h"

namespace mailjournal {
namespace {

constexpr char kOrigin[] = "bench.example/journal";
constexpr char kVerifierFile[] = "verify_bench.vkey";  // next to db/, for --reuse

struct Options {
  std::string dir;
  bool reuse = false;       // verify an existing journal only
  bool build_only = false;  // build, do not verify
  bool cold = false;        // drop the page cache before each verify run
  uint64_t messages = 100000;
  uint64_t size = 20000;
  uint64_t checkpoint_every = 10000;
  int threads = 8;
  int runs = 3;
};

void Usage() {
  std::fprintf(
      stderr,
      "usage: verify_bench [options] DIR          build a journal in DIR (none there yet), "
      "then verify it\n"
      "       verify_bench --reuse [options] DIR  verify the journal built in DIR before\n"
      "options:\n"
      "  --messages N          messages to write (default 100000)\n"
      "  --size S              bytes of content per message (default 20000)\n"
      "  --checkpoint-every K  a signed checkpoint entry after every K messages "
      "(default 10000)\n"
      "  --threads T           committing threads (default 8)\n"
      "  --runs R              verify runs (default 3)\n"
      "  --cold                drop the page cache (as root) before each verify run\n"
      "  --build-only          build the journal and stop\n");
}

using bench::ParseCount;

bool ParseArgs(int argc, char** argv, Options* o) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto count = [&](uint64_t min, uint64_t* out) {
      if (i + 1 >= argc || !ParseCount(argv[++i], min, out)) {
        std::fprintf(stderr, "verify_bench: %s needs a number >= %" PRIu64 "\n", a.c_str(), min);
        return false;
      }
      return true;
    };
    uint64_t v = 0;
    if (a == "--reuse") {
      o->reuse = true;
    } else if (a == "--build-only") {
      o->build_only = true;
    } else if (a == "--cold") {
      o->cold = true;
    } else if (a == "--messages") {
      if (!count(1, &o->messages)) return false;
    } else if (a == "--size") {
      if (!count(1, &o->size)) return false;
    } else if (a == "--checkpoint-every") {
      if (!count(1, &o->checkpoint_every)) return false;
    } else if (a == "--threads") {
      if (!count(1, &v)) return false;
      o->threads = static_cast<int>(std::min<uint64_t>(v, 256));
    } else if (a == "--runs") {
      if (!count(1, &v)) return false;
      o->runs = static_cast<int>(std::min<uint64_t>(v, 100));
    } else if (!bench::ParseDirArg("verify_bench", a, Usage, &o->dir)) {
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
  bench::Die("verify_bench", what, s);
}

using bench::Now;

struct Cpu {
  double user = 0, sys = 0;
  long inblock = 0;  // 512-byte blocks read from disk
  long majflt = 0;
};

Cpu CpuNow() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  Cpu c;
  c.user = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6;
  c.sys = ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  c.inblock = ru.ru_inblock;
  c.majflt = ru.ru_majflt;
  return c;
}

// bench::Random (xoshiro256**: fast, and its output does not compress, as sealed content
// does not), with the fills the entries here take.
class Random : public bench::Random {
 public:
  using bench::Random::Random;
  void Fill(uint8_t* p, size_t n) {
    while (n >= 8) {
      uint64_t v = Next();
      std::memcpy(p, &v, 8);
      p += 8;
      n -= 8;
    }
    if (n > 0) {
      uint64_t v = Next();
      std::memcpy(p, &v, n);
    }
  }
  template <size_t N>
  void Fill(std::array<uint8_t, N>* a) {
    Fill(a->data(), a->size());
  }
  std::string Hex(size_t digits) {
    static const char kHex[] = "0123456789ABCDEF";
    std::string s;
    for (size_t i = 0; i < digits; ++i) s.push_back(kHex[Next() & 15]);
    return s;
  }
};

// A message entry as mailjournald writes it: a full envelope, a classification and the
// sealing fields of CMS content sealed to a department key and an escrow key (the content
// itself is random bytes standing for the ciphertext; nothing here opens it).
MessageEntry RealisticEntry(Random* rnd, uint64_t n, uint64_t content_size,
                            const Sha256Digest& policy_digest,
                            const std::vector<Sha256Digest>& recipients) {
  MessageEntry m;
  Envelope& e = m.envelope;
  e.queue_id = "4V" + rnd->Hex(10);
  e.mail = {"<sender" + std::to_string(n % 977) + "@bank.example>",
            "SIZE=" + std::to_string(content_size), "BODY=8BITMIME"};
  e.rcpt = {{"<client" + std::to_string(n % 4099) + "@customer.example>"},
            {"<desk" + std::to_string(n % 31) + "@bank.example>", "NOTIFY=NEVER"}};
  e.client_addr = "192.0.2." + std::to_string(1 + n % 250);
  e.client_port = static_cast<uint16_t>(30000 + n % 30000);
  e.client_name = "mx" + std::to_string(n % 8) + ".bank.example";
  e.helo = e.client_name;
  e.auth = "user" + std::to_string(n % 977);
  e.daemon = "smtpd";
  m.classification.departments = {"retail", "compliance"};
  m.classification.retention = "standard-7y";
  m.classification.policy_digest = policy_digest;
  m.sealing.sealed = true;
  m.sealing.scheme = kSealSchemeCms1;
  m.sealing.plain_size = content_size * 3;  // zstd made it smaller before sealing
  rnd->Fill(&m.sealing.salt);
  rnd->Fill(&m.sealing.plain_digest);
  m.sealing.recipients = recipients;
  return m;
}

uint64_t DiskFree(const std::string& dir) {
  struct statvfs st;
  if (statvfs(dir.c_str(), &st) != 0) return UINT64_MAX;
  return static_cast<uint64_t>(st.f_bavail) * st.f_frsize;
}

std::string ParentOf(const std::string& dir) {
  size_t slash = dir.find_last_of('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : dir.substr(0, slash);
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::trunc);
  out << text;
  if (!out.flush()) Die("writing " + path, Status::IOError("write failed"));
}

void Build(const Options& o, std::string* verifier_key) {
  struct stat st;
  if (stat(o.dir.c_str(), &st) == 0 && stat((o.dir + "/db").c_str(), &st) == 0) {
    Die(o.dir, Status::InvalidArgument("already holds a journal; use --reuse, or a new directory"));
  }
  // The content, plus the entries and leaf hashes, plus room for LevelDB compactions.
  uint64_t need = o.messages * (o.size + 1024) / 10 * 13;
  std::string probe = stat(o.dir.c_str(), &st) == 0 ? o.dir : ParentOf(o.dir);
  uint64_t free_bytes = DiskFree(probe);
  if (free_bytes < need) {
    Die(o.dir, Status::Unavailable("about " + std::to_string(need >> 20) + " MiB needed, " +
                                   std::to_string(free_bytes >> 20) +
                                   " MiB free; use --messages or --size"));
  }

  std::string signer_key;
  Status s = GenerateNoteKey(kOrigin, &signer_key, verifier_key);
  if (!s.ok()) Die("generating the checkpoint key", s);
  std::unique_ptr<NoteSigner> signer;
  s = NoteSigner::Create(signer_key, &signer);
  if (!s.ok()) Die("checkpoint signer", s);

  JournalOptions jo;
  jo.dir = o.dir;
  std::unique_ptr<Journal> journal;
  s = OpenJournal(jo, &journal);
  if (!s.ok()) Die("opening the journal", s);
  WriteFile(o.dir + "/" + kVerifierFile, *verifier_key + "\n");

  Random setup(42);
  Sha256Digest policy_digest;
  setup.Fill(&policy_digest);
  std::vector<Sha256Digest> recipients(2);
  for (auto& r : recipients) setup.Fill(&r);

  std::printf("building %s: %" PRIu64 " messages of %" PRIu64
              " bytes (random), a signed checkpoint every %" PRIu64 ", %d threads\n",
              o.dir.c_str(), o.messages, o.size, o.checkpoint_every, o.threads);
  std::fflush(stdout);
  const double t0 = Now();
  const Cpu c0 = CpuNow();
  std::atomic<uint64_t> next{0};
  std::atomic<bool> failed{false};
  uint64_t checkpoints = 0;
  for (uint64_t round_begin = 0; round_begin < o.messages; round_begin += o.checkpoint_every) {
    const uint64_t round_end = std::min(o.messages, round_begin + o.checkpoint_every);
    next = round_begin;
    std::vector<std::thread> threads;
    for (int t = 0; t < o.threads; ++t) {
      threads.emplace_back([&, t] {
        Random rnd(round_begin * 1000 + t + 1);
        std::string content(o.size, '\0');
        for (uint64_t n; !failed && (n = next++) < round_end;) {
          rnd.Fill(reinterpret_cast<uint8_t*>(&content[0]), content.size());
          MessageWriter writer(journal.get());
          Status st = writer.Append(content);
          uint64_t seq = 0;
          if (st.ok()) {
            st = writer.Commit(
                RealisticEntry(&rnd, n, o.size, policy_digest, recipients),
                [](MessageEntry* m) {  // as the daemon's finalizer: 7 years from commit
                  m->classification.retain_until_us = m->time_us + 7 * 365LL * 86400 * 1000000;
                },
                &seq, nullptr);
          }
          if (!st.ok()) {
            failed = true;
            std::fprintf(stderr, "verify_bench: commit: %s\n", st.ToString().c_str());
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    if (failed) std::exit(1);
    uint64_t seq = 0;
    s = journal->AppendCheckpoint(
        [&](uint64_t size, const Sha256Digest& root, int64_t time_us, Entry* e) {
          Checkpoint c{kOrigin, size, root, time_us};
          return signer->Sign(FormatCheckpoint(c), &e->checkpoint.note);
        },
        &seq);
    if (!s.ok()) Die("appending a checkpoint", s);
    ++checkpoints;
    double t = Now() - t0;
    std::printf("  %" PRIu64 " messages, checkpoint entry %" PRIu64 ", %.1f s (%.0f messages/s)\n",
                round_end, seq, t, round_end / t);
    std::fflush(stdout);
  }
  const double t_commit = Now() - t0;
  journal.reset();  // waits for LevelDB's background compaction
  const double t_total = Now() - t0;
  const Cpu c1 = CpuNow();
  double mb = o.messages * o.size / 1e6;
  std::printf("built: %" PRIu64 " messages + %" PRIu64
              " checkpoints, %.0f MB of content, "
              "%.1f s committing + %.1f s closing = %.1f s (%.0f messages/s, %.1f MB/s), "
              "CPU %.1f s\n",
              o.messages, checkpoints, mb, t_commit, t_total - t_commit, t_total,
              o.messages / t_total, mb / t_total, (c1.user - c0.user) + (c1.sys - c0.sys));
  std::fflush(stdout);
}

// Asks the kernel to drop the page cache (root only). Returns false, with a note, when it
// cannot: the run is then not cold.
bool DropCaches() {
  sync();
  FILE* f = std::fopen("/proc/sys/vm/drop_caches", "w");
  bool ok = f != nullptr && std::fputs("3\n", f) >= 0;
  if (f != nullptr && std::fclose(f) != 0) ok = false;
  if (!ok) {
    std::fprintf(stderr,
                 "verify_bench: cannot write /proc/sys/vm/drop_caches (%s); this run is NOT "
                 "cold\n",
                 std::strerror(errno));
  }
  return ok;
}

struct Run {
  double seconds = 0, cpu = 0, open_seconds = 0;
  long inblock = 0;
  VerifyReport report;
};

Run VerifyOnce(const Options& o, const NoteVerifier* verifier) {
  Run r;
  JournalOptions jo;
  jo.dir = o.dir;
  jo.create_if_missing = false;
  double t0 = Now();
  std::unique_ptr<Journal> journal;
  Status s = OpenJournal(jo, &journal);
  if (!s.ok()) Die("opening the journal", s);
  r.open_seconds = Now() - t0;
  VerifyOptions vo;
  vo.verifier = verifier;
  const Cpu c0 = CpuNow();
  t0 = Now();
  s = VerifyJournal(journal.get(), vo, &r.report);
  r.seconds = Now() - t0;
  const Cpu c1 = CpuNow();
  if (!s.ok()) Die("verify", s);
  r.cpu = (c1.user - c0.user) + (c1.sys - c0.sys);
  r.inblock = c1.inblock - c0.inblock;
  return r;
}

void PrintRun(const std::string& label, const Run& r) {
  const VerifyReport& v = r.report;
  std::printf("%-8s messages %" PRIu64 "  entries %" PRIu64 "  content %" PRIu64
              " B  %.3f s  %.1f MB/s  %.0f entries/s  CPU %.3f s (%.0f%%)  read %.0f MB  "
              "intact %s\n",
              label.c_str(), v.messages, v.entries, v.content_bytes, r.seconds,
              v.content_bytes / 1e6 / r.seconds, v.entries / r.seconds, r.cpu,
              100 * r.cpu / r.seconds, r.inblock * 512 / 1e6, v.intact ? "yes" : "NO");
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  Options o;
  if (!ParseArgs(argc, argv, &o)) return 2;
  while (o.dir.size() > 1 && o.dir.back() == '/') o.dir.pop_back();

  std::string verifier_key;
  if (o.reuse) {
    std::ifstream in(o.dir + "/" + kVerifierFile);
    std::getline(in, verifier_key);
    if (verifier_key.empty()) {
      std::fprintf(stderr, "verify_bench: %s/%s missing: checkpoint signatures not checked\n",
                   o.dir.c_str(), kVerifierFile);
    }
  } else {
    Build(o, &verifier_key);
    if (o.build_only) return 0;
  }
  std::unique_ptr<NoteVerifier> verifier;
  if (!verifier_key.empty()) {
    Status s = NoteVerifier::Create(verifier_key, &verifier);
    if (!s.ok()) Die("verifier key", s);
  }

  std::printf("verifying %s, %d runs, %s page cache%s\n", o.dir.c_str(), o.runs,
              o.cold ? "cold" : "warm", verifier ? "" : ", signatures NOT checked");
  std::vector<Run> runs;
  bool all_intact = true;
  for (int i = 0; i < o.runs; ++i) {
    bool cold = o.cold && DropCaches();
    Run r = VerifyOnce(o, verifier.get());
    PrintRun("run " + std::to_string(i + 1) + (o.cold ? (cold ? " cold" : " NOTcold") : ""), r);
    std::printf("         (open %.3f s; checkpoints %" PRIu64 ", signatures %" PRIu64
                ", tree size %" PRIu64 "%s%s)\n",
                r.open_seconds, r.report.checkpoints, r.report.signatures, r.report.tree_size,
                r.report.intact ? "" : "; problem: ", r.report.problem.c_str());
    all_intact = all_intact && r.report.intact;
    runs.push_back(r);
  }
  std::vector<Run> sorted = runs;
  std::sort(sorted.begin(), sorted.end(),
            [](const Run& a, const Run& b) { return a.seconds < b.seconds; });
  Run median = sorted[sorted.size() / 2];
  if (sorted.size() % 2 == 0) {  // the mean of the two middle runs
    const Run& lo = sorted[sorted.size() / 2 - 1];
    median.seconds = (lo.seconds + median.seconds) / 2;
    median.cpu = (lo.cpu + median.cpu) / 2;
    median.inblock = (lo.inblock + median.inblock) / 2;
  }
  PrintRun("median", median);
  return all_intact ? 0 : 1;
}

}  // namespace
}  // namespace mailjournal

int main(int argc, char** argv) { return mailjournal::Main(argc, argv); }
